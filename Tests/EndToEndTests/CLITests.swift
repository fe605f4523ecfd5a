import Testing
import Glibc
import TestSupport
import SessionCore

/// The built `sessiontop` binary, run as a user would.
@Suite struct SnapshotCLITests {
    @Test func textTreeOfAFixture() throws {
        let r = try Processes.runSessiontop(["snapshot", "--proc-root", PackagePaths.fixtures + "/basic", "--sid", "100"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        // A header, then aligned columns (ps -ejf --forest style), the tree in the command column.
        #expect(lines.first?.hasPrefix("  PID  PPID  PGID   SID TTY   STAT USER") == true)
        #expect(lines.first?.hasSuffix(" COMMAND") == true)
        #expect(lines[1] == "session 100 · tty pts/3 · leader 100 bash · foreground group 300")
        #expect(lines.contains("  group 300 · foreground"))
        #expect(lines.contains("  group 200 · background, stopped"))
        #expect(lines.contains("  group 900 · background, orphaned, leader gone"))
        let user = try #require(lines.first { $0.hasPrefix("  100     1   100   100 pts/3 Ss   ") }).dropFirst(35).prefix { $0 != " " }
        #expect(lines.contains { $0.hasPrefix("  100     1   100   100 pts/3 Ss   \(user)") && $0.hasSuffix(" -bash") })
        #expect(lines.contains { $0.hasPrefix("  300   100   300   100 pts/3 S+   ") })
        // The zombie child of vim: a tree branch in the command column, columns still aligned.
        let zombie = try #require(lines.first { $0.hasPrefix("  500   200   200   100 pts/3 Z    ") })
        let cmdAt = lines[0].count - "COMMAND".count
        #expect(String(Array(zombie)[cmdAt...]) == "\\_ [sh]")
        // odd bytes never reach the terminal raw
        // (piped: 80 columns; the long one wraps at a word boundary under the command column)
        let odd = try #require(lines.firstIndex { $0.hasSuffix("odd\\xff\\xfename arg with space") })
        #expect(lines[odd + 1] == String(repeating: " ", count: cmdAt) + "line\\nbreak")
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(!r.stdout.contains("\u{1b}"))
    }

    @Test func jsonHasTheDocumentedShape() throws {
        let r = try Processes.runSessiontop(["snapshot", "--json", "--proc-root", PackagePaths.fixtures + "/basic", "--pid", "301"])
        #expect(r.status == 0)
        let j = r.stdout
        #expect(j.hasPrefix("{\"host\":"))
        #expect(j.contains("\"sessions\":[{\"sid\":100,\"leader\":100,\"tty\":\"pts/3\",\"foreground_pgid\":300,\"groups\":[{\"pgid\":100,"))
        #expect(j.contains("{\"pid\":301,\"ppid\":100,\"pgid\":300,\"sid\":100,\"tpgid\":300,\"tty\":\"pts/3\",\"state\":\"S\",\"comm\":\"grep\",\"argv\":[\"grep\",\"x\"]"))
        #expect(j.contains("\"cwd\":\"/home/ann\",\"umask\":\"0022\",\"fds\":[{\"fd\":0,\"target\":\"pipe:[43210]\",\"kind\":\"pipe\",\"flags\":\"0000000\",\"pos\":0,\"open_flags\":\"O_RDONLY\"}"))
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
            (["snapshot", "--pid", "2", "--proc-root", PackagePaths.fixtures + "/basic"], "pid 2 is a kernel thread"),
            (["snapshot", "--pid", "abc"], "The value 'abc' is invalid for '--pid <pid>'"),
            (["snapshot", "--bogus"], "Unknown option '--bogus'"),
            (["no-such-command"], "Unexpected argument 'no-such-command'"),
        ]
        for (args, message) in cases {
            let r = try Processes.runSessiontop(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stdout.isEmpty, "\(args)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.hasPrefix("sessiontop: ") && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }

    @Test func unreadableFieldsArePermissionDeniedNotEmpty() throws {
        // As nobody, pid 1's cwd, exe and fds are unreadable (ptrace access mode check).
        let r = try Processes.runSessiontop(["snapshot", "--json", "--pid", "1"], user: (65534, 65534, []))
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
        let dir = try TempDirectory.make("unreadable")
        defer { TempDirectory.remove(dir) }
        #expect(try Processes.run(["sh", "-c", "cp -a '\(PackagePaths.fixtures)/basic/.' '\(dir)' && chmod -R a+rX '\(dir)' && chmod 000 '\(dir)/100/fd' '\(dir)/100/cmdline'"]).status == 0)
        let r = try Processes.runSessiontop(["snapshot", "--json", "--proc-root", dir, "--pid", "100"], user: (65534, 65534, []))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"pid\":100,\"ppid\":1,"))
        #expect(r.stdout.contains("\"argv\":null,\"argv_unknown\":\"permission denied\""))
        #expect(r.stdout.contains("\"fds\":null,\"fds_unknown\":\"permission denied\""))
        // the rest of that process is still there
        #expect(r.stdout.contains("\"cwd\":\"/home/ann\",\"umask\":\"0022\""))
        // and the text tree says so instead of printing nothing
        let t = try Processes.runSessiontop(["snapshot", "--proc-root", dir, "--pid", "100"], user: (65534, 65534, []))
        #expect(t.stdout.contains("bash (argv: permission denied)"))
    }

    @Test func liveJSONIsValidForTheWholeMachine() throws {
        let r = try Processes.runSessiontop(["snapshot", "--json"])
        #expect(r.status == 0)
        // Check with python's json module: a strict parser.
        let dir = try TempDirectory.make("json")
        defer { TempDirectory.remove(dir) }
        let fd = open(dir + "/s.json", O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        _ = r.stdout.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress!, $0.count - 1) }
        close(fd)
        let status = try Processes.run(["python3", "-c", "import json,sys; d=json.load(open(sys.argv[1])); assert d['sessions']; sys.exit(0)", dir + "/s.json"]).status
        #expect(status == 0)
    }
}
