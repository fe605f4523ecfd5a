import Testing
import Glibc
import TestSupport
import SessionCore

/// A HangupLab session (a shell on its own real pty) with a job to detach in place through the
/// CLI, and the checks every detach case shares: same pid + start time, not stopped, fds, SigIgn.
final class DetachLab {
    let lab: HangupLab
    let marker: String
    var logPath: String { lab.home + "/detach.log" }

    init(_ shell: ShellUnderTest) throws {
        let token = "7" + String(UInt32.random(in: 1_000_000...9_999_999))
        lab = try HangupLab(shell: shell, token: token)
        marker = lab.marker(1)
    }

    deinit { lab.cleanup() }

    func start() throws {
        try lab.start()
        try #require(lab.sync("REA" + "DY1"), "the shell did not start: \(tail(lab.output))")
    }

    /// Writes a helper script into the lab's home; its path.
    func script(_ name: String, _ body: String) throws -> String {
        let path = lab.home + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        try #require(fd >= 0)
        var b = Array(body.utf8)
        _ = b.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return path
    }

    /// The lab's processes whose argv holds the marker, once `count` of them exist and the set
    /// was stable for 0.3 s.
    func waitForJob(count: Int = 1, timeout: Double = 15, stopped: Bool = false) throws -> [HangupLab.Proc] {
        var last: Set<Int32> = []
        var since = monotonicSeconds()
        let deadline = monotonicSeconds() + timeout
        while true {
            lab.pump(0.05)
            let procs = lab.scan().filter { $0.argv.contains(marker) && $0.state != UInt8(ascii: "Z") && !$0.argv.contains(" detach ") }
            let pids = Set(procs.map(\.pid))
            if pids != last { last = pids; since = monotonicSeconds() }
            let ready = procs.count >= count && (!stopped || procs.allSatisfy { $0.state == UInt8(ascii: "T") })
            if ready && monotonicSeconds() - since >= 0.3 { return procs.sorted { $0.pid < $1.pid } }
            try #require(monotonicSeconds() < deadline, "the job did not start: \(procs.map { "\($0.pid) \($0.argv)" }) \(tail(lab.output))")
        }
    }

    /// `sessiontop detach …` (with --yes and the lab's log), while pumping the terminal.
    func detach(_ args: [String], environment extra: [String] = []) throws -> Processes.Output {
        var env = Processes.defaultEnvironment()
        env += extra
        return try Processes.run([PackagePaths.binary, "detach"] + args + ["--yes", "--log", logPath], environment: env)
    }

    enum Event: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case closeMaster = "close the pty master"
        case exit = "exit typed"
        case killLeader = "leader killed"
        var testDescription: String { rawValue }
    }

    /// The hangup: the event, then (for exit and kill) the terminal goes away too. Waits until
    /// the leader is gone, plus 1 s for the signals to land.
    func hangUp(_ event: Event) throws {
        switch event {
        case .closeMaster:
            lab.pty.closeMaster()
        case .exit:
            try lab.logOut(script: false)
        case .killLeader:
            kill(lab.leader, SIGKILL)
            let t = monotonicSeconds()
            while !lab.leaderDead() && monotonicSeconds() - t < 5 { lab.pump(0.05) }
            lab.pty.closeMaster()
        }
        let t = monotonicSeconds()
        while !lab.leaderDead() && monotonicSeconds() - t < 10 { usleep(50_000) }
        usleep(1_000_000)
    }

    static func status(_ pid: Int32, _ key: String) -> String? { Files.statusLine(pid, key)?.first }
    static func fdTarget(_ pid: Int32, _ fd: Int32) -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/\(pid)/fd/\(fd)", &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }
    static func sigIgnHup(_ pid: Int32) -> Bool {
        guard let hex = status(pid, "SigIgn"), let v = UInt64(hex, radix: 16) else { return false }
        return v & 1 != 0
    }
    /// Alive as the same process (start time), not a zombie, not stopped or traced.
    static func aliveRunning(_ p: HangupLab.Proc) -> Bool {
        guard !HangupLab.isDead(p.pid, start: p.start), let st = status(p.pid, "State") else { return false }
        return st != "T" && st != "t" && status(p.pid, "TracerPid") == "0"
    }

    var log: String { Files.read(logPath) ?? "" }

    /// Integer lines of a text (a counter's output; the pty's \r\n tolerated).
    static func integers(_ text: String) -> [Int] {
        text.split(whereSeparator: \.isNewline).compactMap { Int($0) }
    }
}
