import Testing
import Glibc
import CSessionShims
import SessionCore

/// The built `sessiontop` binary, run as a user would.
enum Binary {
    static let packageRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()
    static var path: String { packageRoot + "/.build/debug/sessiontop" }
    static var fixtures: String { packageRoot + "/Tests/Fixtures" }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary with `args`, optionally as another user, and collects its output.
    static func run(_ args: [String], user: (uid: UInt32, gid: UInt32)? = nil) throws -> Result {
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        _ = st_pipe2(&out, O_CLOEXEC)
        _ = st_pipe2(&err, O_CLOEXEC)
        var r = SpawnRequest([path] + args)
        r.fileDescriptors = [(0, nil), (1, out[1]), (2, err[1])]
        r.environment = ["PATH=/usr/bin:/bin", "SWIFT_BACKTRACE=interactive=no", "LANG=C.UTF-8"]
        if let u = user { r.user = (u.uid, u.gid, []) }
        let pid = try Spawner.spawn(r)
        close(out[1]); close(err[1])
        // Read both pipes without deadlock: poll them together.
        var o: [UInt8] = [], e: [UInt8] = []
        var fds = [pollfd(fd: out[0], events: Int16(POLLIN), revents: 0),
                   pollfd(fd: err[0], events: Int16(POLLIN), revents: 0)]
        var open = 2
        var buf = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            if poll(&fds, 2, 30_000) <= 0 { break }
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = buf.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress!, $0.count) }
                if n <= 0 { close(fds[i].fd); fds[i].fd = -1; open -= 1; continue }
                if i == 0 { o += buf[0..<n] } else { e += buf[0..<n] }
            }
        }
        for f in fds where f.fd >= 0 { close(f.fd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: code, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }
}

@Suite struct SnapshotCLITests {
    @Test func textTreeOfAFixture() throws {
        let r = try Binary.run(["snapshot", "--proc-root", Binary.fixtures + "/basic", "--sid", "100"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "session 100  tty pts/3  leader 100 bash  foreground group 300")
        #expect(lines.contains { $0.contains("group 300  foreground") })
        #expect(lines.contains { $0.contains("group 200  background, stopped") })
        #expect(lines.contains { $0.hasPrefix("    100     Ss ") && $0.hasSuffix("-bash") })
        #expect(lines.contains { $0.hasPrefix("    300     S+ ") })
        // odd bytes never reach the terminal raw
        #expect(lines.contains { $0.hasSuffix("odd\\xff\\xfename arg with space line\\nbreak") })
        #expect(!r.stdout.contains("\u{1b}"))
    }

    @Test func jsonHasTheDocumentedShape() throws {
        let r = try Binary.run(["snapshot", "--json", "--proc-root", Binary.fixtures + "/basic", "--pid", "301"])
        #expect(r.status == 0)
        let j = r.stdout
        #expect(j.hasPrefix("{\"host\":"))
        #expect(j.contains("\"sessions\":[{\"sid\":100,\"leader\":100,\"tty\":\"pts/3\",\"foreground_pgid\":300,\"groups\":[{\"pgid\":100,"))
        #expect(j.contains("{\"pid\":301,\"ppid\":100,\"pgid\":300,\"sid\":100,\"tpgid\":300,\"tty\":\"pts/3\",\"state\":\"S\",\"comm\":\"grep\",\"argv\":[\"grep\",\"x\"]"))
        #expect(j.contains("\"cwd\":\"/home/ann\",\"umask\":\"0022\",\"fds\":[{\"fd\":0,\"target\":\"pipe:[43210]\",\"kind\":\"pipe\",\"flags\":\"0000000\",\"pos\":0}"))
        #expect(j.contains("\"comm\":\") (x y\\nz\""))
        #expect(j.contains("\"signals\":{\"ignored\":[\"QUIT\",\"TSTP\",\"TTIN\",\"TTOU\"],\"caught\":[\"HUP\",\"INT\",\"CHLD\",\"WINCH\"],\"blocked\":[],\"pending\":[]}"))
        #expect(j.contains("\"hangup\":{\"hangup\":{\"fate\":"))
        #expect(j.contains("\"cwd\":null,\"cwd_unknown\":\"not applicable\""))  // the zombie
    }

    @Test func badInputIsOneLineAndNonZero() throws {
        let cases: [([String], String)] = [
            (["snapshot", "--pid", "999999999"], "no process with pid 999999999"),
            (["snapshot", "--sid", "999999999"], "no session with sid 999999999"),
            (["snapshot", "--tty", "pts/99999"], "no session has pts/99999 as its controlling terminal"),
            (["snapshot", "--user", "no-such-user-xyz"], "no user named no-such-user-xyz"),
            (["snapshot", "--proc-root", "/nonexistent"], "cannot read /nonexistent: No such file or directory"),
            (["snapshot", "--proc-root", "/etc"], "/etc is not a /proc tree"),
            (["snapshot", "--pid", "2", "--proc-root", Binary.fixtures + "/basic"], "pid 2 is a kernel thread"),
        ]
        for (args, message) in cases {
            let r = try Binary.run(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stdout.isEmpty, "\(args)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.hasPrefix("sessiontop: ") && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }

    @Test func unreadableFieldsArePermissionDeniedNotEmpty() throws {
        // As nobody, pid 1's cwd, exe and fds are unreadable (ptrace access mode check).
        let r = try Binary.run(["snapshot", "--json", "--pid", "1"], user: (65534, 65534))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"pid\":1,"))
        #expect(r.stdout.contains("\"cwd\":null,\"cwd_unknown\":\"permission denied\""))
        #expect(r.stdout.contains("\"fds\":null,\"fds_unknown\":\"permission denied\""))
        #expect(r.stdout.contains("\"exe\":null,\"exe_unknown\":\"permission denied\""))
        // umask comes from status, which everybody may read
        #expect(!r.stdout.contains("\"umask\":null"))
    }

    @Test func unreadableFixtureFilesArePermissionDenied() throws {
        // A fixture copy where the shell's fd directory and cmdline are closed to others.
        let dir = "/tmp/sessiontop-unreadable-\(getpid())"
        defer { Self.sh("rm -rf '\(dir)'") }
        #expect(Self.sh("cp -a '\(Binary.fixtures)/basic' '\(dir)' && chmod -R a+rX '\(dir)' && chmod 000 '\(dir)/100/fd' '\(dir)/100/cmdline'") == 0)
        let r = try Binary.run(["snapshot", "--json", "--proc-root", dir, "--pid", "100"], user: (65534, 65534))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"pid\":100,\"ppid\":1,"))
        #expect(r.stdout.contains("\"argv\":null,\"argv_unknown\":\"permission denied\""))
        #expect(r.stdout.contains("\"fds\":null,\"fds_unknown\":\"permission denied\""))
        // the rest of that process is still there
        #expect(r.stdout.contains("\"cwd\":\"/home/ann\",\"umask\":\"0022\""))
        // and the text tree says so instead of printing nothing
        let t = try Binary.run(["snapshot", "--proc-root", dir, "--pid", "100"], user: (65534, 65534))
        #expect(t.stdout.contains("bash (argv: permission denied)"))
    }

    @discardableResult
    static func sh(_ script: String) -> Int32 {
        var r = SpawnRequest(["sh", "-c", script])
        r.fileDescriptors = [(0, nil), (1, 2), (2, 2)]
        guard let pid = try? Spawner.spawn(r) else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    @Test func liveJSONIsValidForTheWholeMachine() throws {
        let r = try Binary.run(["snapshot", "--json"])
        #expect(r.status == 0)
        // Check with python's json module: a strict parser.
        let dir = "/tmp/sessiontop-json-\(getpid())"
        mkdir(dir, 0o700)
        defer { unlink(dir + "/s.json"); rmdir(dir) }
        let fd = open(dir + "/s.json", O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        _ = r.stdout.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress!, $0.count - 1) }
        close(fd)
        var p = SpawnRequest(["python3", "-c", "import json,sys; d=json.load(open(sys.argv[1])); assert d['sessions']; sys.exit(0)", dir + "/s.json"])
        p.fileDescriptors = [(0, nil), (1, nil), (2, 2)]
        let pid = try Spawner.spawn(p)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(status == 0)
    }
}
