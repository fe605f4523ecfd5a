import Testing
import Glibc
import CSessionShims
import SessionCore

/// `sessiontop hangup` as a user runs it, against a real bash session on a pty.
@Suite(.timeLimit(.minutes(1)))
struct HangupCommandTests {
    /// The built binary next to the test bundle (.build/<triple>/debug/sessiontop).
    static var binary: String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        var path = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        while let last = path.last, last != "/" { path.removeLast() }
        return path + "sessiontop"
    }

    /// Runs the binary; returns (exit code, stdout, stderr).
    static func run(_ args: [String]) throws -> (Int32, String, String) {
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard st_pipe2(&out, O_CLOEXEC) == 0, st_pipe2(&err, O_CLOEXEC) == 0 else { throw Errno.current }
        var r = SpawnRequest([binary] + args)
        r.executable = binary
        r.fileDescriptors = [(0, nil), (1, out[1]), (2, err[1])]
        r.environment = ["SWIFT_BACKTRACE=interactive=no", "PATH=/usr/bin:/bin"]
        let pid = try Spawner.spawn(r)
        close(out[1]); close(err[1])
        let o = drain(out[0]), e = drain(err[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, o, e)
    }

    static func drain(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        close(fd)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func groupsASessionByFateWithReasons() throws {
        _ = st_set_child_subreaper(1)
        let token = "7" + String(UInt32.random(in: 1_000_000...9_999_999))
        let lab = try HangupLab(shell: .bash, token: token)
        defer { lab.cleanup() }
        try lab.start()
        try #require(lab.sync("READY"))
        lab.type("sleep \(lab.marker(1)) &")
        lab.type("nohup sleep \(lab.marker(2)) &")
        try #require(lab.sync("DONE"))
        let deadline = now() + 10
        while lab.scan().filter({ $0.argv.contains(token) }).count < 2 && now() < deadline { lab.pump(0.1) }

        let (code, text, err) = try Self.run(["hangup", "--tty", lab.pty.name])
        #expect(code == 0, "\(err)")
        #expect(text.contains("session \(lab.leader)"))
        #expect(text.contains("  dies ("))
        #expect(text.contains("  survives ("))
        #expect(text.contains("hangup_all_jobs"))
        #expect(text.contains("SigIgn holds HUP"))

        let (jcode, json, _) = try Self.run(["hangup", "--event", "leader-exit", "--sid", String(lab.leader), "--json"])
        #expect(jcode == 0)
        #expect(json.contains("\"event\":\"leader-exit\""))
        #expect(json.contains("\"fate\":\"survives\""))
        #expect(json.contains("\"sid\":\(lab.leader)"))
    }

    /// No scope: the session of sessiontop's own terminal (run from the shell on the pty).
    @Test func defaultScopeIsOwnTerminalsSession() throws {
        _ = st_set_child_subreaper(1)
        let lab = try HangupLab(shell: .bash, token: "6" + String(UInt32.random(in: 1_000_000...9_999_999)))
        defer { lab.cleanup() }
        try lab.start()
        try #require(lab.sync("READY"))
        lab.type("SWIFT_BACKTRACE=interactive=no \(Self.binary) hangup --event logout --json > out.json")
        try #require(lab.sync("WROTE"))
        let fd = open(lab.home + "/out.json", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        let json = Self.drain(fd)
        #expect(json.contains("\"sessions\":[{\"sid\":\(lab.leader),\"tty\":\"\(lab.pty.name)\""))
        // Exactly one session: its own.
        #expect(json.split(separator: "\"leader\":").count == 2)
    }

    @Test func badInputIsOneLineAndNonZero() throws {
        for args in [["hangup", "--pid", "2147483646"], ["hangup", "--sid", "2147483646"],
                     ["hangup", "--tty", "pts/99999"], ["hangup", "--event", "reboot"]] {
            let (code, out, err) = try Self.run(args)
            #expect(code != 0, "\(args)")
            #expect(out.isEmpty)
            #expect(err.hasPrefix("sessiontop: ") && err.filter { $0 == "\n" }.count == 1, "\(args): \(err)")
        }
    }
}
