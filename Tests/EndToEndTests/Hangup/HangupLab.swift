import Testing
import Glibc
import TestSupport
import SessionCore

/// One real session for the reality tests: a shell as session leader on its own pty, typed
/// at like a user. Everything it starts is found by `token` (in argv) or by its sid, and
/// killed and reaped by pid in `cleanup()`.
final class HangupLab {
    let shell: ShellUnderTest
    let pty: PseudoTerminal
    let home: String
    let token: String
    private(set) var leader: Int32 = -1
    private(set) var output: [UInt8] = []
    private var slave: Int32 = -1
    /// Every process ever seen belonging to this lab, pid → start time (for cleanup: a pid is
    /// killed only while it still names the same process).
    private(set) var seen: [Int32: UInt64] = [:]
    /// Once the leader is reaped its pid may name another session: stop matching by sid.
    private(set) var leaderReaped = false

    init(shell: ShellUnderTest, token: String) throws {
        self.shell = shell
        self.token = token
        pty = try PseudoTerminal()
        home = try TempDirectory.make("hangup")
    }

    /// Marker of scenario `i`: unique digits that appear in its processes' argv.
    func marker(_ i: Int) -> String { token + (i < 10 ? "0\(i)" : "\(i)") }

    var environment: [String] {
        ["HOME=\(home)", "TERM=dumb", "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
         "LANG=C", "PS1=$ ", "XDG_CONFIG_HOME=\(home)/.config", "XDG_DATA_HOME=\(home)/.local",
         "SWIFT_BACKTRACE=interactive=no"]
    }

    /// Starts the shell as session leader with the pty slave as its controlling terminal.
    func start(script: String? = nil) throws {
        slave = try pty.openSlave()
        var r = SpawnRequest(shell.argv + (script.map { [$0] } ?? []))
        r.executable = "/usr/bin/" + shell.argv[0]
        r.environment = environment
        r.workingDirectory = home
        r.newSession = true
        r.controllingTerminalFD = 0
        r.fileDescriptors = [(0, slave), (1, slave), (2, slave)]
        leader = try Spawner.spawn(r)
        close(slave)
        slave = -1
    }

    /// Drains the master for `seconds` (the shell blocks when the pty buffer fills).
    @discardableResult
    func pump(_ seconds: Double) -> [UInt8] {
        guard pty.master >= 0 else { usleep(UInt32(seconds * 1_000_000)); return [] }
        let b = pty.read(timeout: seconds)
        output += b
        return b
    }

    func type(_ line: String) {
        pty.write(line + "\n")
        pump(0.05)
    }

    /// Types `echo` of a word the terminal's echo cannot show (`RE''ADY` prints `READY`) and
    /// waits for it: the shell has read and run everything typed before.
    func sync(_ word: String, timeout: Double = 15) -> Bool {
        let half = word.count / 2
        let typed = String(word.prefix(half)) + "''" + String(word.dropFirst(half))
        let start = output.count
        pty.write("echo \(typed)\n")
        let deadline = monotonicSeconds() + timeout
        let needle = Array(word.utf8)
        while monotonicSeconds() < deadline {
            pump(0.1)
            if contains(Array(output[start...]), needle) { return true }
        }
        return false
    }

    // MARK: /proc

    struct Proc: Hashable { var pid: Int32; var start: UInt64; var state: UInt8; var sid: Int32; var pgid: Int32; var argv: String }

    /// Processes whose argv holds the token, or whose sid is the leader's (while the leader is
    /// not reaped, its pid cannot name another session).
    func scan() -> [Proc] {
        guard let reader = try? ProcReader(root: "/proc") else { return [] }
        var out: [Proc] = []
        for pid in reader.pids() {
            guard case .success(let dir) = reader.openProcess(pid) else { continue }
            defer { close(dir) }
            guard case .success(let st?) = reader.read(dirfd: dir, "stat", { try? StatParser.parse($0) }) else { continue }
            let argv = (try? reader.readBytes(dirfd: dir, "cmdline").get()).map {
                String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) } ?? ""
            if (st.sid == leader && !leaderReaped) || argv.contains(token) {
                out.append(Proc(pid: pid, start: st.startTime, state: st.state, sid: st.sid, pgid: st.pgid, argv: argv))
                if seen[pid] == nil { seen[pid] = st.startTime }
            }
        }
        return out
    }

    /// Dead: gone, a zombie, or its pid now names another process.
    static func isDead(_ pid: Int32, start: UInt64) -> Bool {
        guard let reader = try? ProcReader(root: "/proc"),
              case .success(let dir) = reader.openProcess(pid) else { return true }
        defer { close(dir) }
        guard case .success(let st?) = reader.read(dirfd: dir, "stat", { try? StatParser.parse($0) }) else { return true }
        return st.startTime != start || st.state == UInt8(ascii: "Z") || st.state == UInt8(ascii: "X")
    }

    /// Start time of `pid` (zombies included), nil when it is gone.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let reader = try? ProcReader(root: "/proc"),
              case .success(let dir) = reader.openProcess(pid) else { return nil }
        defer { close(dir) }
        guard case .success(let st?) = reader.read(dirfd: dir, "stat", { try? StatParser.parse($0) }) else { return nil }
        return st.startTime
    }

    /// Reaps the leader if it exited (it is our child).
    func leaderDead() -> Bool {
        var status: Int32 = 0
        if leaderReaped { return true }
        let r = waitpid(leader, &status, WNOHANG)
        if r == leader || (r < 0 && errno == ECHILD) { leaderReaped = true }
        return leaderReaped
    }

    /// SIGKILL to everything this lab started, then reap what is ours (by pid).
    func cleanup() {
        for _ in 0..<3 {
            _ = scan()
            for (pid, start) in seen where pid > 1 && !Self.isDead(pid, start: start) { kill(pid, SIGKILL) }
            usleep(20_000)
        }
        if leader > 0 && !leaderReaped { kill(leader, SIGKILL) }
        let deadline = monotonicSeconds() + 2
        var left = Set(seen.keys)
        if leader > 0 && !leaderReaped { left.insert(leader) }
        while !left.isEmpty && monotonicSeconds() < deadline {
            for pid in left {
                // Reap only while the pid still names the process we saw (or our leader).
                if pid != leader || leaderReaped {
                    guard let start = seen[pid], Self.startTime(of: pid) == start else { left.remove(pid); continue }
                }
                var status: Int32 = 0
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) { left.remove(pid) }
            }
            if !left.isEmpty { usleep(20_000) }
        }
        pty.closeMaster()
        TempDirectory.remove(home)
    }
}

func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= hay.count, !needle.isEmpty else { return needle.isEmpty }
    for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
        if Array(hay[i..<(i + needle.count)]) == needle { return true }
    }
    return false
}
