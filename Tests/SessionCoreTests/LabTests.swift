import Testing
import Glibc
import SessionCore
import TestSupport
import FuzzHarness

/// A real interactive shell as session leader on its own pty, typed at like a learner in the
/// lab; everything of its session (and the markers' processes) is killed and reaped by pid.
final class LabTerminal {
    let pty: PseudoTerminal
    let home: String
    let shell: LabShell
    private(set) var leader: Int32 = -1
    private(set) var leaderStart: UInt64 = 0
    private(set) var seen: [Int32: UInt64] = [:]
    let reader: SnapshotReader
    /// Commands this terminal started that left its session (setsid): cleaned up too. Tests run
    /// in parallel: another terminal's must never be touched.
    var adopted: Set<String> = []

    init(_ shell: LabShell) throws {
        Processes.becomeSubreaper()
        self.shell = shell
        pty = try PseudoTerminal()
        home = try TempDirectory.make("lab")
        reader = try SnapshotReader()
        let slave = try pty.openSlave()
        defer { close(slave) }
        var r = SpawnRequest(shell.argv(login: false))
        r.executable = "/usr/bin/" + shell.rawValue
        r.environment = ["HOME=\(home)", "TERM=dumb", "PATH=/usr/bin:/bin", "LANG=C", "PS1=$ ",
                         "XDG_CONFIG_HOME=\(home)/.config", "XDG_DATA_HOME=\(home)/.local"]
        r.workingDirectory = home
        r.newSession = true
        r.controllingTerminalFD = 0
        r.fileDescriptors = [(0, slave), (1, slave), (2, slave)]
        leader = try Spawner.spawn(r)
        leaderStart = reader.readProcess(leader)?.startTime ?? 0
        _ = pty.read(timeout: 0.5)
    }

    func type(_ line: String) {
        pty.write(line + "\n")
        _ = pty.read(timeout: 0.1)
    }

    func snapshot() -> Snapshot {
        _ = pty.read(timeout: 0.02)
        let snap = reader.snapshot()
        // The session's processes, and what left it for a session of its own (the setsid
        // lesson's sleep, reparented to us as subreaper). Never another test's shell.
        for p in snap.processes.values where p.sid == leader
            || (p.ppid == getpid() && adopted.contains(p.commandLine)) {
            seen[p.pid] = p.startTime
        }
        return snap
    }

    /// Polls until `check` holds (or `timeout`); the last result.
    func wait(for check: LabCheck, timeout: Double = 8) -> LabCheckResult {
        let deadline = monotonicSeconds() + timeout
        var last = check.evaluate(snapshot(), session: leader)
        while !last.holds && monotonicSeconds() < deadline {
            usleep(50_000)
            last = check.evaluate(snapshot(), session: leader)
        }
        return last
    }

    func cleanup() {
        _ = snapshot()
        for (pid, start) in seen where reader.readProcess(pid)?.startTime == start { kill(pid, SIGKILL) }
        if reader.readProcess(leader)?.startTime == leaderStart { kill(leader, SIGKILL) }
        var left = Set(seen.keys).union([leader])
        let deadline = monotonicSeconds() + 3
        while !left.isEmpty && monotonicSeconds() < deadline {
            for pid in left {
                var st: Int32 = 0
                let r = waitpid(pid, &st, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) { left.remove(pid) }
            }
            usleep(10_000)
        }
        pty.closeMaster()
        TempDirectory.remove(home)
    }
}

@Suite(.timeLimit(.minutes(8))) struct LabLessonTests {
    @Test func everyShellHasTheCoreLessonsAndDashSkipsDisown() {
        for shell in LabShell.allCases {
            let titles = LabLessons.lessons(for: shell).map(\.title)
            #expect(titles.first == "A background job is its own process group")
            #expect(titles.contains("An orphaned group"))
            #expect(titles.contains { $0.hasPrefix("disown") } == (shell != .dash), "\(shell)")
            for l in LabLessons.lessons(for: shell) {
                for s in l.steps { #expect(!s.type.isEmpty && !s.explain.isEmpty && !s.source.isEmpty) }
            }
        }
    }

    /// Each check holds only once the learner did the step, on a real bash: before typing it
    /// does not hold; a background job is not "foreground"; Ctrl-Z, bg, fg, Ctrl-C move it.
    @Test func bashStepsPassOnlyWhenTheKernelAndTheShellDidIt() throws {
        let t = try LabTerminal(.bash)
        defer { t.cleanup() }
        let lessons = LabLessons.lessons(for: .bash)
        let steps = lessons.flatMap(\.steps)
        func step(_ typed: String) -> LabStep { steps.first { $0.type == typed }! }

        let bg = step("sleep 1001 &")
        #expect(!bg.check.evaluate(t.snapshot(), session: t.leader).holds, "before typing")
        t.type(bg.type)
        #expect(t.wait(for: bg.check).holds)
        #expect(!LabCheck.foreground(marker: "1001").evaluate(t.snapshot(), session: t.leader).holds)

        t.type("sleep 1002 | cat &")
        #expect(t.wait(for: step("sleep 1002 | cat &").check).holds)

        t.type("sleep 1003")
        #expect(t.wait(for: .foreground(marker: "1003")).holds)
        #expect(!LabCheck.stoppedShellHasTerminal(marker: "1003").evaluate(t.snapshot(), session: t.leader).holds)
        t.pty.write("\u{1A}")  // Ctrl-Z
        #expect(t.wait(for: .stoppedShellHasTerminal(marker: "1003")).holds)
        t.type("bg")
        #expect(t.wait(for: .runningInBackground(marker: "1003")).holds)
        t.type("fg")
        #expect(t.wait(for: .foreground(marker: "1003")).holds)
        t.pty.write("\u{03}")  // Ctrl-C
        #expect(t.wait(for: .gone(marker: "1003")).holds)

        t.type("nohup sleep 1004 >/dev/null 2>&1 &")
        #expect(t.wait(for: .ignoresHangup(marker: "1004")).holds)
        #expect(!LabCheck.ignoresHangup(marker: "1001").evaluate(t.snapshot(), session: t.leader).holds)

        t.adopted.insert("sleep 1005")
        t.type("setsid sleep 1005 &")
        #expect(t.wait(for: .ownSession(marker: "1005")).holds)

        t.type("sleep 1006 &")
        #expect(t.wait(for: .backgroundOwnGroup(marker: "1006")).holds)
        #expect(!LabCheck.notInJobTable(marker: "1006").evaluate(t.snapshot(), session: t.leader).holds, "still a job")
        t.type("disown")
        let disowned = t.wait(for: .notInJobTable(marker: "1006"))
        #expect(disowned.holds, "\(disowned.seen)")

        t.type("sleep 1007 &")
        #expect(t.wait(for: .backgroundOwnGroup(marker: "1007")).holds)
        #expect(!LabCheck.noHupMark(marker: "1007").evaluate(t.snapshot(), session: t.leader).holds)
        t.type("disown -h")
        let marked = t.wait(for: .noHupMark(marker: "1007"))
        #expect(marked.holds, "\(marked.seen)")

        t.type("sh -c 'sleep 1009 &'")
        #expect(t.wait(for: .orphanedGroup(marker: "1009")).holds)
        #expect(!LabCheck.orphanedGroup(marker: "1001").evaluate(t.snapshot(), session: t.leader).holds, "the shell manages it")

        t.type("nohup sh -c 'exec >/dev/tty; sleep 1008' >/dev/null 2>&1 &")
        #expect(t.wait(for: .ignoresHangupHoldsTerminal(marker: "1008")).holds)
        #expect(!LabCheck.ignoresHangupHoldsTerminal(marker: "1004").evaluate(t.snapshot(), session: t.leader).holds, "1004 has no fd on the tty")
    }

    @Test func zshNoHupOptionIsReadFromItsMemory() throws {
        let t = try LabTerminal(.zsh)
        defer { t.cleanup() }
        #expect(t.wait(for: .foreground(marker: "1"), timeout: 0.5).holds == false)
        let s0 = t.snapshot()
        let r0 = LabCheck.zshNoHupOption.evaluate(s0, session: t.leader)
        #expect(!r0.holds, "\(r0.seen)")
        t.type("setopt NO_HUP")
        let r = t.wait(for: .zshNoHupOption)
        #expect(r.holds, "\(r.seen)")
    }

    @Test func fishDisownIsSaidToBeUnverifiable() {
        let fish = LabLessons.lessons(for: .fish).first { $0.title.hasPrefix("disown") }!
        #expect(fish.steps[1].check.isUnverifiable)
    }
}

@Suite(.timeLimit(.minutes(8))) struct RealityWatchTests {
    /// A real hangup of a real bash: the freeze predicts, the watch sees the leader and the
    /// background job die by SIGHUP (the leader from waitid as its parent, the job from its
    /// zombie's stat) and the nohup job live: no surprise.
    @Test func hangupOfBashMatchesThePrediction() throws {
        let t = try LabTerminal(.bash)
        defer { t.cleanup() }
        t.type("sleep 1001 &")
        t.type("nohup sleep 1004 >/dev/null 2>&1 &")
        #expect(t.wait(for: .backgroundOwnGroup(marker: "1001")).holds)
        #expect(t.wait(for: .ignoresHangup(marker: "1004")).holds)
        let snap = t.snapshot()
        let freeze = try #require(PredictionFreeze(snap, session: t.leader, event: .hangup))
        #expect(freeze.entries.first?.identity.pid == t.leader, "leader first")
        let watch = RealityWatch(freeze)
        t.pty.closeMaster()
        let table = watch.run(quiet: 0.8, minimum: 0.5, maximum: 6)
        let byCmd = Dictionary(table.rows.map { ($0.prediction.command, $0) }, uniquingKeysWith: { a, _ in a })
        let leaderRow = try #require(table.rows.first { $0.prediction.identity.pid == t.leader })
        #expect(leaderRow.reality == .killed(signal: SIGHUP), "\(leaderRow.reality)")
        #expect(byCmd["sleep 1001"]?.reality == .killed(signal: SIGHUP), "\(String(describing: byCmd["sleep 1001"]?.reality))")
        #expect(byCmd["sleep 1004"]?.reality == .alive(stopped: false))
        #expect(table.surprises == 0, "\(table.rows.map { "\($0.prediction.command): \($0.reality) \($0.rule ?? "")" })")
        #expect(table.summary == "2 died as predicted, 1 survived as predicted, 0 surprises", "\(table.summary)")
    }

    /// Something outside the event kills a process predicted to survive: it is a surprise, with
    /// the rule named; a SIGKILL'ed job predicted to die is a surprise too (no hangup rule
    /// sends SIGKILL).
    @Test func aKillBehindTheWatchIsASurprise() throws {
        let t = try LabTerminal(.bash)
        defer { t.cleanup() }
        t.type("sleep 1001 &")
        t.type("nohup sleep 1004 >/dev/null 2>&1 &")
        #expect(t.wait(for: .backgroundOwnGroup(marker: "1001")).holds)
        #expect(t.wait(for: .ignoresHangup(marker: "1004")).holds)
        let snap = t.snapshot()
        let freeze = try #require(PredictionFreeze(snap, session: t.leader, event: .leaderExit))
        let nohup = try #require(freeze.entries.first { $0.command == "sleep 1004" })
        #expect(nohup.verdict.fate == .survives)
        let watch = RealityWatch(freeze)
        kill(t.leader, SIGKILL)
        kill(nohup.identity.pid, SIGKILL)
        let table = watch.run(quiet: 0.8, minimum: 0.5, maximum: 6)
        let row = try #require(table.rows.first { $0.prediction.identity == nohup.identity })
        #expect(row.reality == .killed(signal: SIGKILL))
        #expect(row.surprise)
        #expect(row.rule?.contains("SIGKILL") == true)
        let leaderRow = try #require(table.rows.first { $0.prediction.identity.pid == t.leader })
        #expect(leaderRow.reality == .killed(signal: SIGKILL))
        #expect(!leaderRow.surprise, "the leader's SIGKILL is the event itself")
        #expect(table.surprises >= 1)
        #expect(table.summary.hasSuffix("\(table.surprises) surprise\(table.surprises == 1 ? "" : "s")"))
    }

    @Test func exitCodeFieldParsesAndNeverCrashes() {
        var fields = (3...52).map { _ in "0" }
        fields[0] = "Z"
        fields[49] = "256"
        let line = Array(("12 (a b) c) " + fields.joined(separator: " ") + "\n").utf8)
        #expect(StatParser.exitCode(line) == 256)
        #expect(Reality(waitStatus: 256) == .exited(code: 1))
        #expect(Reality(waitStatus: 9) == .killed(signal: 9))
        #expect(StatParser.exitCode(Array("1 (x) S 1 2".utf8)) == nil)
        #expect(StatParser.exitCode(Array(("1 (x) " + Array(repeating: "9", count: 49).joined(separator: " ") + " 99999999999").utf8)) == nil)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let n = Int.random(in: 0...300, using: &rng)
            let bytes = (0..<n).map { _ in [UInt8(ascii: " "), UInt8(ascii: ")"), UInt8(ascii: "7"), UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)! }
            _ = StatParser.exitCode(bytes)
        }
    }
}

@Suite(.timeLimit(.minutes(8))) struct LabLogTests {
    @Test func appendsOneStrictJSONLinePerRunThroughSafeFile() throws {
        let dir = try TempDirectory.make("lablog")
        defer { TempDirectory.remove(dir) }
        let me = getpid()
        let reader = try SnapshotReader()
        let snap = reader.snapshot()
        let sid = try #require(snap.process(me)?.sid)
        let freeze = try #require(PredictionFreeze(snap, session: sid, event: .hangup))
        let table = RealityTable(freeze: freeze, outcomes: [:], watched: 1.25)
        let path = try #require(LabLog.defaultPath(environment: ["XDG_STATE_HOME=\(dir)/state"]))
        #expect(path == "\(dir)/state/sessiontop/lab.jsonl")
        for _ in 0..<2 {
            guard case .success = LabLog.append(table, source: "lab", scene: ["lesson": "1/9"], path: path) else {
                Issue.record("append failed"); return
            }
        }
        let bytes = try #require(Files.readBytes(path))
        let lines = bytes.split(separator: 0x0a)
        #expect(lines.count == 2)
        for l in lines { #expect(StrictJSON.problem(Array(l)) == nil) }
        let text = String(decoding: lines[0], as: UTF8.self)
        #expect(text.contains("\"source\":\"lab\"") && text.contains("\"event\":\"hangup\"") && text.contains("\"lesson: 1/9\""))
        // A symlink in place of the log is refused (SafeFile, O_NOFOLLOW).
        unlink(path)
        symlink("/etc/passwd", path)
        if case .success = LabLog.append(table, source: "lab", path: path) { Issue.record("followed a symlink") }
        var st = stat()
        #expect(stat("\(dir)/state/sessiontop", &st) == 0 && st.st_mode & 0o777 == 0o700)
    }
}
