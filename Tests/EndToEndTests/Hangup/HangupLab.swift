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
    /// False for a leader someone else started (sshd's login shell): it is not ours to reap,
    /// so its death is read from /proc.
    private(set) var leaderIsChild = true
    private(set) var leaderStart: UInt64 = 0
    /// Run the shell as this user (its home is handed over to it); nil: as ourselves.
    var user: (uid: UInt32, gid: UInt32, groups: [UInt32])?

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
        if let u = user {
            r.user = u
            _ = chown(home, u.uid, u.gid)
        }
        leader = try Spawner.spawn(r)
        close(slave)
        slave = -1
        leaderStart = Self.startTime(of: leader) ?? 0
    }

    /// Runs `argv` (a terminal's client such as `ssh -tt`) as leader of its own session on
    /// the lab's pty; its pid. The session under test is then on the far side: `adopt` it.
    func startClient(_ argv: [String]) throws -> Int32 {
        slave = try pty.openSlave()
        var r = SpawnRequest(argv)
        r.environment = environment
        r.workingDirectory = home
        r.newSession = true
        r.controllingTerminalFD = 0
        r.fileDescriptors = [(0, slave), (1, slave), (2, slave)]
        let pid = try Spawner.spawn(r)
        close(slave)
        slave = -1
        return pid
    }

    /// Makes `pid` (a session leader started elsewhere, e.g. sshd's login shell) the leader.
    func adopt(leader pid: Int32) {
        leader = pid
        leaderIsChild = false
        leaderStart = Self.startTime(of: pid) ?? 0
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

    /// Logout as a user lives it: `exit` typed (again when the shell refuses, as bash, zsh,
    /// fish and dash do with stopped or running jobs) — or, for a script, the line its `read`
    /// waits for — then, once the shell is gone, the terminal goes away (the master closes, as
    /// sshd and terminal windows do when the session's shell exits).
    func logOut(script: Bool) throws {
        if script {
            pty.write("x\n")
        } else {
            pty.write("exit\n")
            let t = monotonicSeconds()
            while monotonicSeconds() - t < 1.5 && !leaderDead() { pump(0.05) }
            if !leaderDead() { pty.write("exit\n") }
        }
        let t = monotonicSeconds()
        while !leaderDead() && monotonicSeconds() - t < 10 { pump(0.05) }
        pty.closeMaster()
    }

    /// Reaps the leader if it exited (it is our child).
    func leaderDead() -> Bool {
        var status: Int32 = 0
        if leaderReaped { return true }
        if !leaderIsChild {
            if Self.isDead(leader, start: leaderStart) { leaderReaped = true }
            return leaderReaped
        }
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
        if leader > 0 && !leaderReaped && !Self.isDead(leader, start: leaderStart) { kill(leader, SIGKILL) }
        let deadline = monotonicSeconds() + 2
        var left = Set(seen.keys)
        if leader > 0 && !leaderReaped && leaderIsChild { left.insert(leader) }
        while !left.isEmpty && monotonicSeconds() < deadline {
            for pid in left {
                // Reap only while the pid still names the process we saw (or our leader).
                if pid != leader || leaderReaped || !leaderIsChild {
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

/// The steps every reality case shares: wait for the scenarios, predict, watch the outcome.
extension HangupLab {
    /// A scenario as typed: its index (for the marker), what it is, and the command line.
    typealias Typed = (index: Int, scenario: Scenario, command: String)

    /// Waits until every scenario's processes exist (stoppers stopped) and nothing changed for
    /// 0.4 s.
    func waitForScenarios(_ scen: [Typed]) throws {
        var last: Set<Proc> = []
        var stableSince = monotonicSeconds()
        let deadline = monotonicSeconds() + 20
        while true {
            pump(0.1)
            let procs = scan()
            let ready = scen.allSatisfy { i, s, _ in
                let m = marker(i)
                return procs.contains { $0.argv.contains(m) && (!s.stops || $0.state == UInt8(ascii: "T")) }
            }
            let set = Set(procs)
            if set != last { last = set; stableSince = monotonicSeconds() }
            if ready && monotonicSeconds() - stableSince >= 0.4 { break }
            try #require(monotonicSeconds() < deadline, "scenarios did not settle: \(procs.map { "\($0.pid) \($0.argv)" }) \(tail(output))")
        }
    }

    /// The lab's processes that are in `snap` (same start time) and not zombies.
    func tracked(in snap: Snapshot) -> [Proc] {
        scan().filter { p in snap.processes[p.pid]?.startTime == p.start && p.state != UInt8(ascii: "Z") }
    }

    /// After the event: waits until the leader is gone and nothing else has died for 1.2 s
    /// (at most 10 s); the pids still alive.
    func watchUntilSettled(_ tracked: [Proc]) -> Set<Int32> {
        var alive = Set(tracked.map(\.pid))
        var lastChange = monotonicSeconds()
        let start = monotonicSeconds()
        while monotonicSeconds() - start < 10 {
            pump(0.1)
            let nowAlive = Set(tracked.filter { !Self.isDead($0.pid, start: $0.start) }.map(\.pid))
            if nowAlive != alive { alive = nowAlive; lastChange = monotonicSeconds() }
            if leaderDead() && monotonicSeconds() - lastChange >= 1.2 { break }
        }
        return alive
    }

    /// Prediction next to reality, one row per tracked process.
    func rows(_ tracked: [Proc], snap: Snapshot, predicted: [Int32: Verdict], alive: Set<Int32>,
              scen: [Typed]) -> [RealityRow] {
        tracked.map { p in
            let info = snap.processes[p.pid]
            let v = predicted[p.pid] ?? Verdict(fate: .unaffected, reasons: ["it is in session \(p.sid): not analysed"])
            let name = label(p.pid, snap: snap, scen: scen)
            return RealityRow(scenario: name,
                              pid: p.pid, command: info?.commandLine ?? p.argv, comm: info?.commText ?? "", predicted: v,
                              dead: !alive.contains(p.pid), inSession: p.sid == leader,
                              endsOnDeadTerminal: Scenarios.all.first { $0.name == name }?.endsOnDeadTerminal ?? false)
        }
    }

    /// The scenario a process belongs to: its marker, a marked child, or a marked member of
    /// its group (a subshell carries no marker of its own).
    func label(_ pid: Int32, snap: Snapshot, scen: [Typed]) -> String {
        if pid == leader { return "leader" }
        let leaderArgv = snap.processes[leader]?.commandLine
        func marked(_ q: Int32) -> String? {
            // A fork of `bash -c '…'` carries every marker of the script: it is not marked.
            guard let p = snap.processes[q], p.commandLine != leaderArgv else { return nil }
            let argv = p.commandLine
            return scen.first { argv.contains(marker($0.index)) }?.scenario.name
        }
        if let s = marked(pid) { return s }
        for child in snap.children[pid] ?? [] { if let s = marked(child) { return s } }
        if let p = snap.processes[pid], p.pgid != snap.processes[leader]?.pgid,
           let g = snap.group(p.pgid) {
            for m in g.members { if let s = marked(m) { return s } }
        }
        return "other: " + (snap.processes[pid]?.commandLine ?? "?")
    }

    /// Fails the test for every `certain: false` whose reason is not a race (the floor for a
    /// shell whose memory was read).
    func recordHedgesBeyondRaces(_ rows: [RealityRow], _ what: String) {
        for r in rows where !r.predicted.certain && !(r.predicted.reasons.last?.hasPrefix("uncertain: race") ?? false) {
            Issue.record("\(what): \(r.scenario): pid \(r.pid) `\(r.command)` hedged without a race: \(r.predicted.reasons.joined(separator: " | "))")
        }
    }

    /// Fails the test for every wrong verdict: certain and not what happened, or uncertain
    /// without saying why.
    func recordMismatches(_ rows: [RealityRow], _ what: String) {
        for r in rows where !r.matches && !r.tolerated {
            Issue.record("""
                \(what): \(r.scenario): pid \(r.pid) `\(r.command)` predicted \(RealityRow.short(r.predicted)) \
                but it is \(r.dead ? "dead" : "alive")
                reasons: \(r.predicted.reasons.joined(separator: " | "))
                terminal output: \(tail(output))
                """)
        }
    }
}

func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= hay.count, !needle.isEmpty else { return needle.isEmpty }
    for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
        if Array(hay[i..<(i + needle.count)]) == needle { return true }
    }
    return false
}
