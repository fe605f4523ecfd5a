import Testing
import SessionCore
import CSessionShims
import TestSupport
import FuzzHarness
#if canImport(Glibc)
import Glibc
#endif

/// `sessiontop lab --detached` driven through its own tmux socket: keys typed into the lab
/// terminal's pane, sessiontop's pane captured. Everything the lab started (tmux server,
/// shells, jobs) comes back to this process as subreaper and is killed and reaped by pid.
final class LabRun {
    let socket: String
    let stateDir: String
    let shell: String
    /// pid → start time of every process seen in a lab session (for cleanup).
    private(set) var seen: [Int32: UInt64] = [:]
    var serverPid: Int32 = 0
    var labPane = "%0"
    let uiPane = "%1"

    init(shell: String, width: Int = 100, height: Int = 60) throws {
        Processes.becomeSubreaper()
        self.shell = shell
        socket = "st-lab-\(getpid())-\(shell)-\(UInt32.random(in: 0...UInt32.max))"
        stateDir = try TempDirectory.make("labstate")
        let r = runTool(["env", "-u", "TMUX", "XDG_STATE_HOME=\(stateDir)", sessiontopBinary, "lab", "--detached",
                         "--socket", socket, "--shell", shell, "--width", "\(width)", "--height", "\(height)"])
        try #require(r.status == 0, "lab did not start: \(r.output)")
        serverPid = Int32(tmux(["display-message", "-p", "#{pid}"]).output.filter(\.isNumber)) ?? 0
    }

    @discardableResult
    func tmux(_ args: [String]) -> (status: Int32, output: String) {
        runTool(["env", "-u", "TMUX", "tmux", "-L", socket] + args)
    }

    func ui() -> String { tmux(["capture-pane", "-p", "-t", uiPane]).output }

    func type(_ line: String) {
        tmux(["send-keys", "-t", labPane, "-l", line])
        tmux(["send-keys", "-t", labPane, "Enter"])
    }

    func labKeys(_ k: String...) { tmux(["send-keys", "-t", labPane] + k) }
    func uiKeys(_ k: String...) { tmux(["send-keys", "-t", uiPane] + k) }

    /// The lab terminal's shell (its pane's pid), nil when the pane is gone or dead.
    func leader() -> Int32? {
        let out = tmux(["display-message", "-p", "-t", labPane, "#{pane_pid} #{pane_dead}"]).output
        let parts = out.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, parts[1] == "0" else { return nil }
        return Int32(parts[0])
    }

    /// The window's panes; nil when tmux did not answer (a loaded machine).
    func panes() -> [String]? {
        let r = tmux(["list-panes", "-F", "#{pane_id}"])
        return r.status == 0 ? r.output.split(separator: "\n").map(String.init) : nil
    }

    @discardableResult
    func waitUI(_ what: String, timeout: Double = 25, _ p: (String) -> Bool) -> String {
        let deadline = monotonicNow() + timeout
        var s = ui()
        while !p(s) && monotonicNow() < deadline { usleep(100_000); s = ui() }
        if !p(s) { Issue.record("[\(shell)] timed out waiting for \(what); sessiontop pane:\n\(s)\nlab pane:\n\(tmux(["capture-pane", "-p", "-t", labPane]).output)") }
        return s
    }

    func waitUI(_ text: String, timeout: Double = 25) -> String { waitUI(text, timeout: timeout) { $0.contains(text) } }

    /// The processes of session `sid` now (pid → start time, command), remembered for cleanup.
    func members(of sid: Int32) -> [Int32: (start: UInt64, command: String)] {
        guard let reader = try? SnapshotReader() else { return [:] }
        let snap = reader.snapshot(options: ScanOptions(details: .all))
        var out: [Int32: (UInt64, String)] = [:]
        for p in snap.processes.values where p.sid == sid && !p.state.isGone {
            out[p.pid] = (p.startTime, p.commandLine)
            seen[p.pid] = p.startTime
        }
        return out
    }

    deinit {
        _ = tmux(["kill-server"])
        unlink(tmuxSocketPath(socket))  // a killed server leaves its socket file behind
        guard let reader = try? SnapshotReader() else { return }
        var pids = Array(seen.keys)
        if serverPid > 0 { pids.append(serverPid) }
        for pid in pids where reader.readProcess(pid).map({ seen[pid] == nil || $0.startTime == seen[pid] }) ?? false {
            kill(pid, SIGKILL)
        }
        let deadline = monotonicNow() + 3
        var left = Set(pids)
        while !left.isEmpty && monotonicNow() < deadline {
            for pid in left {
                var st: Int32 = 0
                let r = waitpid(pid, &st, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) { left.remove(pid) }
            }
            if !left.isEmpty { usleep(20_000) }
        }
        TempDirectory.remove(stateDir)
    }
}

/// One row of the table as sessiontop's pane shows it.
struct ShownRow { var pid: Int32; var reality: String; var surprise: Bool }

func parseTable(_ screen: String) -> [ShownRow] {
    var out: [ShownRow] = []
    for line in screen.split(separator: "\n") {
        let t = line.trimmingCharacters(" ")
        guard t.hasSuffix("✓") || t.hasSuffix("✗"), let pid = Int32(t.prefix { $0.isNumber }) else { continue }
        let real: String
        if t.contains("alive") { real = "alive" } else if t.contains("exited") { real = "exited" }
        else if let r = t.split(separator: "dead, ", maxSplits: 1).dropFirst().first { real = "dead " + r.prefix { $0.isLetter || $0 == "?" } }
        // The wide form: "dead (HUP)", "dead (signal unknown: …)".
        else if let r = t.split(separator: "dead (", maxSplits: 1).dropFirst().first {
            let name = r.prefix { $0.isLetter && $0.isUppercase }
            real = name.isEmpty || r.dropFirst(name.count).first != ")" ? "dead ?" : "dead " + name
        }
        else { real = "?" }
        out.append(ShownRow(pid: pid, reality: real, surprise: t.hasSuffix("✗")))
    }
    return out
}

extension Substring {
    func trimmingCharacters(_ c: Character) -> String {
        var s = self
        while s.first == c { s.removeFirst() }
        while s.last == c { s.removeLast() }
        return String(s)
    }
}

/// What the test itself saw of a pid after the event: alive, or dead and (when it was ours to
/// wait for, as subreaper) by which signal.
func observe(_ pid: Int32, start: UInt64, reader: SnapshotReader) -> String {
    var status: Int32 = 0
    if let p = reader.readProcess(pid), p.startTime == start, !p.state.isGone { return "alive" }
    if waitpid(pid, &status, WNOHANG) == pid {
        let sig = status & 0x7f
        return sig == 0 ? "exited" : "dead " + Signals.name(of: sig)
    }
    return "dead"
}

@Suite(.serialized, .timeLimit(.minutes(6))) struct LabTmuxTests {
    init() {
        #expect(access(sessiontopBinary, X_OK) == 0, "build first: swift build")
    }

    static let shells = ["bash", "zsh", "fish", "dash"].filter { access("/usr/bin/\($0)", X_OK) == 0 || access("/bin/\($0)", X_OK) == 0 }

    /// The lessons advance only when the check holds: a wrong command leaves the lesson where
    /// it is; then each event for real, the table compared with what this test saw of the pids.
    @Test(arguments: shells) func lessonsThenEachEventForReal(shell: String) throws {
        let lab = try LabRun(shell: shell)
        lab.waitUI("Lesson 1/")
        #expect(lab.leader() != nil)
        lab.type("sleep 1001 &")
        lab.waitUI("Lesson 2/")
        lab.type("sleep 1002 | cat &")
        lab.waitUI("Lesson 3/")
        // A foreground job, but not the lesson's (`sleep 1003`): the lesson stays.
        lab.type("sleep 2")
        usleep(2_500_000)
        #expect(lab.ui().contains("Lesson 3/"), "another job does not pass the step")
        #expect(lab.ui().contains("(step 1/2)"))
        lab.type("sleep 1003")
        lab.waitUI("(step 2/2)")
        lab.labKeys("C-z")
        lab.waitUI("Lesson 4/")
        lab.type("bg")
        lab.waitUI("(step 2/3)")
        lab.type(shell == "fish" ? "fg" : "fg %?1003")
        lab.waitUI("(step 3/3)")
        lab.labKeys("C-c")
        lab.waitUI("Lesson 5/")
        lab.type("nohup sleep 1004 >/dev/null 2>&1 &")
        lab.waitUI("Lesson 6/")

        for (n, event) in ["hangup", "leader-exit", "logout"].enumerated() {
            if n > 0 {
                lab.uiKeys("N")
                lab.waitUI("new lab terminal") { $0.contains("Lesson 1/") && !$0.contains("Prediction vs reality") }
                let panes = lab.panes() ?? []
                lab.labPane = try #require(panes.first { $0 != lab.uiPane }, "no new pane: \(panes)")
                lab.waitUI("the new shell") { _ in lab.leader() != nil }
                lab.type("sleep 1001 &")
                lab.waitUI("Lesson 2/")
                lab.type("nohup sleep 1004 >/dev/null 2>&1 &")
                lab.waitUI("sleep 1004 listed") { $0.contains("sleep 1004") }
            }
            let sid = try #require(lab.leader())
            usleep(1_200_000)  // a scan with details after the last job started
            let before = lab.members(of: sid)
            #expect(before.count >= 3, "[\(shell)] \(before)")
            lab.uiKeys("H")
            lab.waitUI("Hang up for real?")
            lab.uiKeys("\(n + 1)")
            lab.uiKeys("y")
            let screen = lab.waitUI("the table", timeout: 40) { $0.contains("Prediction vs reality") && $0.contains("died as predicted") }
            let shown = parseTable(screen)
            let reader = try SnapshotReader()
            var compared = 0
            for (pid, info) in before {
                guard let row = shown.first(where: { $0.pid == pid }) else {
                    Issue.record("[\(shell) \(event)] pid \(pid) (\(info.command)) missing from the table:\n\(screen)")
                    continue
                }
                let seen = observe(pid, start: info.start, reader: reader)
                // Alive ↔ alive; dead ↔ dead; a signal the table names is the one wait saw.
                #expect((row.reality == "alive") == (seen == "alive"), "[\(shell) \(event)] pid \(pid) \(info.command): table \(row.reality), test saw \(seen)")
                if row.reality.hasPrefix("dead "), row.reality != "dead ?", seen.hasPrefix("dead ") && seen != "dead" {
                    #expect(row.reality == seen, "[\(shell) \(event)] pid \(pid): table \(row.reality), wait says \(seen)")
                }
                compared += 1
            }
            #expect(compared == before.count)
            #expect(screen.contains("0 surprises"), "[\(shell) \(event)] a prediction was wrong:\n\(screen)")
        }
        // Every run is in the log, one JSON line each.
        let log = Files.readBytes(lab.stateDir + "/sessiontop/lab.jsonl") ?? []
        let lines = log.split(separator: 0x0a)
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { StrictJSON.problem(Array($0)) == nil })
    }

    /// The test kills the nohup'ed job (predicted to survive) behind sessiontop's back while it
    /// watches the hangup: the table shows it as a surprise, with the rule, not hidden.
    @Test func aKillBehindItsBackIsShownAsASurprise() throws {
        let lab = try LabRun(shell: "bash")
        lab.waitUI("Lesson 1/")
        lab.type("sleep 1001 &")
        lab.waitUI("Lesson 2/")
        lab.type("nohup sleep 1004 >/dev/null 2>&1 &")
        lab.waitUI("sleep 1004 listed") { $0.contains("sleep 1004") }
        let sid = try #require(lab.leader())
        usleep(1_200_000)
        let victim = try #require(lab.members(of: sid).first { $0.value.command == "sleep 1004" })
        lab.uiKeys("H")
        lab.waitUI("Hang up for real?")
        lab.uiKeys("1")
        lab.uiKeys("y")
        // The pane is closed right after the freeze: then the kill.
        let deadline = monotonicNow() + 20
        while monotonicNow() < deadline {
            if let p = lab.panes(), !p.contains(lab.labPane) { break }
            usleep(20_000)
        }
        kill(victim.key, SIGKILL)
        let screen = lab.waitUI("the table", timeout: 40) { $0.contains("Prediction vs reality") && $0.contains("died as predicted") }
        let row = try #require(parseTable(screen).first { $0.pid == victim.key }, "pid \(victim.key) not in the table:\n\(screen)")
        #expect(row.surprise)
        #expect(row.reality == "dead KILL", "\(row.reality)")
        #expect(screen.contains("1 surprise"))
        #expect(screen.contains("rule: SIGKILL, which no hangup rule sends"))
        let log = String(decoding: Files.readBytes(lab.stateDir + "/sessiontop/lab.jsonl") ?? [], as: UTF8.self)
        #expect(log.contains("\"surprise\":true"))
    }

    /// The inspector watches another terminal's session (opened by a search); the test closes
    /// that tmux window (its pty goes away) and kills the nohup'ed job behind its back: the
    /// session's row keeps the prediction, with one surprise, which goes to lab.jsonl.
    @Test func inspectorKeepsThePredictionOfATerminalThatHangsUp() throws {
        Processes.becomeSubreaper()
        let state = try TempDirectory.make("labinsp")
        defer { TempDirectory.remove(state) }
        let pane = TmuxPane(width: 140, height: 40, env: "LANG=C.UTF-8 XDG_STATE_HOME=\(state)", command: sessiontopBinary + " -d 0.5")
        pane.waitForApp()
        pane.tmux(["new-window", "-d", "-n", "w2", "env -i PATH=/usr/bin:/bin TERM=tmux-256color HOME=\(state) PS1='$ ' bash --norc --noprofile -i"])
        let shell = try #require(Int32(pane.tmux(["display-message", "-p", "-t", "w2", "#{pane_pid}"]).output.filter(\.isNumber)))
        pane.tmux(["send-keys", "-t", "w2", "sleep 1001 & nohup sleep 1004 >/dev/null 2>&1 &", "Enter"])
        let reader = try SnapshotReader()
        var members: [Int32: UInt64] = [:]
        defer { for pid in members.keys { Processes.killAndReap(pid) } }
        #expect(waitUntil(timeout: 20) {
            let snap = reader.snapshot(options: ScanOptions(details: .all))
            members = Dictionary(uniqueKeysWithValues: snap.processes.values.filter { $0.sid == shell }.map { ($0.pid, $0.startTime) })
            return snap.processes.values.filter { $0.sid == shell }.count == 3
        })
        usleep(1_500_000)
        // Open it: the search opens the session of its match.
        pane.keys("/")
        pane.literal("sleep 1004")
        pane.keys("Enter")
        pane.waitFor("match: sleep 1004", timeout: 20)
        usleep(1_500_000)  // a scan with the session open: its prediction is kept
        let nohup = try #require(reader.snapshot().processes.values.first { $0.sid == shell && $0.commandLine == "sleep 1004" })
        pane.tmux(["kill-window", "-t", "w2"])
        kill(nohup.pid, SIGKILL)
        let screen = pane.waitFor("the hung-up row", timeout: 30) { $0.contains("session \(shell) hung up at") }
        #expect(screen.contains("died as predicted"))
        let final = pane.waitFor("the settled table", timeout: 30) { $0.contains("session \(shell) hung up at") && $0.contains("1 surprise") }
        #expect(final.contains("2 died as predicted, 0 survived as predicted, 1 surprise"), "\(final)")
        // The session lives on as zombies (ours to reap, as subreaper); reaped, the session is
        // gone and its notice is a row of its own, the last one. Enter shows the table.
        for pid in members.keys where pid != shell { Processes.reap(pid, within: 2) }
        pane.waitFor("the notice alone", timeout: 20) { $0.contains("\n  session \(shell) hung up at") }
        pane.keys("G")
        pane.keys("Enter")
        pane.waitFor("WHAT HAPPENED", timeout: 20)
        // The settled surprise is in the log.
        #expect(waitUntil(timeout: 20) {
            String(decoding: Files.readBytes(state + "/sessiontop/lab.jsonl") ?? [], as: UTF8.self).contains("\"source\":\"inspector\"")
        })
        pane.keys("Escape")
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    @Test func badShellAndNoTerminalAreOneLineErrors() {
        var r = runTool([sessiontopBinary, "lab", "--shell", "tcsh", "--detached"])
        #expect(r.status != 0 && r.output.contains("tcsh") && !r.output.contains("Fatal"))
        r = runTool([sessiontopBinary, "lab"])
        #expect(r.status == 1 && r.output.contains("needs a terminal"), "\(r.output)")
        r = runTool([sessiontopBinary, "lab", "--socket", "a/b", "--detached"])
        #expect(r.status == 1 && r.output.contains("--socket is a name"))
    }
}
