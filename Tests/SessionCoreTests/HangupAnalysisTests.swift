import Testing
@testable import SessionCore

/// Hand-built sessions on pts/5: one test per rule of HangupAnalysis, checking the fate and
/// that the reasons name the rule's evidence.
struct SessionBuilder {
    static let pts5: UInt64 = (136 << 8) | 5
    static let devTTY: UInt64 = 5 << 8
    var procs: [Int32: ProcessInfo] = [:]
    var sid: Int32 = 100
    var tpgid: Int32 = 100
    /// The leader's memory as ShellMemoryReader would hand it over (already checked).
    var memory: [Int32: ShellMemory] = [:]
    var logind: LogindPolicy?

    mutating func leader(_ comm: String, argv: [String], caughtHUP: Bool = true, exe: String? = nil) {
        add(100, ppid: 1, pgid: 100, comm: comm, argv: argv, exe: exe ?? "/usr/bin/\(comm)",
            caught: caughtHUP ? [Signals.hup] : [])
    }

    mutating func add(_ pid: Int32, ppid: Int32 = 100, pgid: Int32, sid: Int32? = nil, comm: String = "sleep",
                      argv: [String]? = nil, exe: String? = nil, state: Character = "S",
                      ignored: [Int32] = [], caught: [Int32] = [], blocked: [Int32] = [],
                      fds: [OpenFile]? = nil, ctty: Bool = true, syscall: SyscallState? = nil) {
        let s = sid ?? self.sid
        let files = fds ?? [0, 1, 2].map { OpenFile(fd: $0, target: Array("/dev/pts/5".utf8), kind: .tty, device: Self.pts5) }
        var p = ProcessInfo(
            pid: pid, ppid: ppid, pgid: pgid, sid: s, tpgid: ctty ? tpgid : -1,
            state: ProcessState(letter: UInt8(ascii: state.unicodeScalars.first!)),
            comm: Array(comm.utf8), argv: .known((argv ?? [comm, "1000"]).map { Array($0.utf8) }),
            exe: .known(Array((exe ?? "/usr/bin/\(comm)").utf8)), uid: 0, euid: 0, gid: 0, egid: 0,
            user: "root", startTime: 1, threads: 1, ttyDevice: ctty ? Self.pts5 : 0,
            tty: ctty ? "pts/5" : nil, cwd: .known(Array("/".utf8)), umask: .known(0o022),
            fds: .known(files), signals: SignalDispositions(ignored: SignalSet(ignored), caught: SignalSet(caught),
                                                             blocked: SignalSet(blocked)),
            isKernelThread: false, cpuTicks: 0, rssBytes: 0)
        if let syscall { p.syscall = .known(syscall) }
        procs[pid] = p
    }

    static func noFDs() -> [OpenFile] { [OpenFile(fd: 0, target: Array("/dev/null".utf8), kind: .device)] }

    var snapshot: Snapshot {
        var snap = Snapshot(processes: procs, selfPid: 1)
        snap.shellMemory = memory
        snap.logind = logind
        return snap
    }

    func analyze(_ event: HangupEvent) -> [Int32: Verdict] {
        HangupAnalysis.analyze(snapshot, session: sid, event: event)
    }

    /// A trusted bash view of the leader 100 with these jobs.
    mutating func bashMemory(_ jobs: [ShellJob], login: Bool = false, hupOnExit: Bool = false) {
        memory[100] = ShellMemory(view: ShellView(shell: .bash, version: "5.2.15", shellPid: 100, interactive: true,
                                                  login: login, jobControl: true, hupOnExit: hupOnExit, jobs: jobs),
                                  trusted: true, reason: nil)
    }

    mutating func zshMemory(_ jobs: [ShellJob], hup: Bool = true) {
        memory[100] = ShellMemory(view: ShellView(shell: .zsh, version: "5.9", shellPid: 100, interactive: true,
                                                  login: false, jobControl: true, hupOption: hup, currentJob: -1, jobs: jobs),
                                  trusted: true, reason: nil)
    }
}

func has(_ v: Verdict?, _ text: String) -> Bool {
    v?.reasons.contains { $0.contains(text) } ?? false
}

@Suite struct HangupAnalysisTests {
    // MARK: kernel rules

    @Test func hangupSignalsTheLeader() {
        var b = SessionBuilder()
        b.leader("dash", argv: ["dash", "-i"], caughtHUP: false)
        let v = b.analyze(.hangup)[100]
        #expect(v?.fate == .dies && v?.by == .kernel && v?.certain == true)
        #expect(has(v, "tty_signal_session_leader"))
    }

    @Test func foregroundGroupAtHangupGetsHUPWhenLeaderExits() {
        var b = SessionBuilder()
        b.tpgid = 200
        b.leader("dash", argv: ["dash", "-i"], caughtHUP: false)
        b.add(200, pgid: 200)
        let v = b.analyze(.hangup)[200]
        #expect(v?.fate == .dies && v?.by == .kernel && v?.certain == true)
        #expect(has(v, "tty_old_pgrp"))
    }

    @Test func leaderExitSendsHUPWithoutCONTToForeground() {
        // bash -c: its children share its (foreground) group; a stopped one keeps SIGHUP pending.
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-c", "sleep 1 & read x"], caughtHUP: false)
        b.add(201, pgid: 100)
        b.add(202, pgid: 100, comm: "sh", state: "T")
        let out = b.analyze(.leaderExit)
        #expect(out[100]?.fate == .dies && out[100]?.by == nil)
        #expect(out[201]?.fate == .dies && out[201]?.by == .kernel && out[201]?.certain == true)
        #expect(has(out[201], "no SIGCONT"))
        #expect(out[202]?.fate == .survives && out[202]?.certain == true)
        #expect(has(out[202], "stays pending"))
    }

    @Test func runningBackgroundJobSurvivesLeaderKill() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300)
        let v = b.analyze(.leaderExit)[300]
        #expect(v?.fate == .survives && v?.certain == true)
    }

    // MARK: orphaned-group rule

    @Test func stoppedJobIsOrphanedWhenLeaderDies() {
        var b = SessionBuilder()
        b.leader("dash", argv: ["dash", "-i"], caughtHUP: false)
        b.add(300, pgid: 300, state: "T")
        let v = b.analyze(.leaderExit)[300]
        #expect(v?.fate == .dies && v?.by == .orphanedGroup && v?.certain == true)
        #expect(has(v, "kill_orphaned_pgrp") && has(v, "state T"))
    }

    @Test func stoppedGroupWithAnotherParentInSessionIsNotOrphaned() {
        var b = SessionBuilder()
        b.leader("dash", argv: ["dash", "-i"], caughtHUP: false)
        b.add(300, pgid: 300, state: "T")
        b.add(400, pgid: 400, comm: "make")
        b.add(301, ppid: 400, pgid: 300, state: "T")
        let v = b.analyze(.leaderExit)[300]
        #expect(v?.fate == .survives)
        #expect(has(v, "will_become_orphaned_pgrp"))
    }

    @Test func stoppedNohupJobIsContinuedAndSurvives() {
        var b = SessionBuilder()
        b.leader("dash", argv: ["dash", "-i"], caughtHUP: false)
        b.add(300, pgid: 300, state: "T", ignored: [Signals.hup], fds: SessionBuilder.noFDs())
        let v = b.analyze(.leaderExit)[300]
        #expect(v?.fate == .survives && v?.certain == true)
        #expect(has(v, "SigIgn holds HUP"))
    }

    // MARK: shell rules

    @Test func bashForwardsHUPToJobsButDisownIsInvisible() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300)
        let v = b.analyze(.hangup)[300]
        #expect(v?.fate == .dies && v?.by == .shell && v?.certain == false)
        #expect(has(v, "hangup_all_jobs") && has(v, "disown"))
    }

    @Test func bashLogoutSparesRunningJobsAndTerminatesStoppedOnes() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300)
        b.add(400, pgid: 400, state: "T", ignored: [Signals.hup], fds: SessionBuilder.noFDs())
        let out = b.analyze(.logout)
        // Nothing signals the running job; it holds the terminal, which goes away afterwards.
        #expect(out[300]?.fate == .atRisk && out[300]?.certain == true)
        #expect(has(out[300], "huponexit") && has(out[300], "once the shell is gone the terminal goes away"))
        #expect(out[400]?.fate == .dies && out[400]?.by == .shell)
        #expect(has(out[400], "terminate_stopped_jobs"))
    }

    @Test func loginBashLogoutDependsOnHuponexit() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["-bash"])
        b.add(300, pgid: 300)
        let v = b.analyze(.logout)[300]
        #expect(v?.fate == .atRisk && v?.certain == false)
        #expect(has(v, "huponexit is invisible"))
        #expect(v?.reasons.last == "uncertain: huponexit is invisible to /proc")
    }

    @Test func zshHangsUpRunningJobsAndSkipsStoppedOnes() {
        var b = SessionBuilder()
        b.leader("zsh", argv: ["zsh", "-f", "-i"])
        b.add(300, pgid: 300)
        b.add(400, pgid: 400, state: "T")
        let out = b.analyze(.logout)
        #expect(out[300]?.fate == .dies && out[300]?.by == .shell && out[300]?.certain == false)
        #expect(has(out[300], "killrunjobs") && has(out[300], "NO_HUP"))
        #expect(out[400]?.fate == .dies && out[400]?.by == .orphanedGroup)
        #expect(has(out[400], "skips stopped"))
    }

    @Test func zshSubshellExitsByZshsOwnHandler() {
        var b = SessionBuilder()
        b.leader("zsh", argv: ["zsh", "-i"])
        b.add(300, pgid: 300, comm: "zsh", argv: ["zsh", "-i"], caught: [Signals.hup])
        let v = b.analyze(.hangup)[300]
        #expect(v?.fate == .dies)
        #expect(has(v, "subshell of the leader zsh"))
    }

    @Test func fishHangsUpAndContinuesStoppedJobs() {
        var b = SessionBuilder()
        b.leader("fish", argv: ["fish", "-i"])
        b.add(400, pgid: 400, state: "T")
        let v = b.analyze(.logout)[400]
        #expect(v?.fate == .dies && v?.by == .shell)
        #expect(has(v, "hup_jobs"))
    }

    @Test func dashForwardsNothing() {
        var b = SessionBuilder()
        b.leader("dash", argv: ["dash", "-i"], caughtHUP: false)
        b.add(300, pgid: 300, fds: SessionBuilder.noFDs())
        let v = b.analyze(.hangup)[300]
        #expect(v?.fate == .survives && v?.certain == true)
        #expect(has(v, "dash sends its jobs nothing"))
    }

    @Test func unknownLeaderMakesItsChildrenUncertain() {
        var b = SessionBuilder()
        b.leader("tmux", argv: ["tmux"], caughtHUP: true)
        b.add(300, pgid: 300, fds: SessionBuilder.noFDs())
        let v = b.analyze(.logout)[300]
        #expect(v?.fate == .survives && v?.certain == false)
        #expect(has(v, "not a shell whose rules"))
    }

    // MARK: dispositions

    @Test func ignoredBlockedAndCaughtHUP() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300, ignored: [Signals.hup], fds: SessionBuilder.noFDs())
        b.add(400, pgid: 400, blocked: [Signals.hup], fds: SessionBuilder.noFDs())
        b.add(500, pgid: 500, caught: [Signals.hup], fds: SessionBuilder.noFDs())
        let out = b.analyze(.hangup)
        #expect(out[300]?.fate == .survives && out[300]?.certain == true && has(out[300], "SigIgn holds HUP"))
        #expect(out[400]?.fate == .survives && has(out[400], "SigBlk holds HUP"))
        // A handler: at risk (what it does is up to the program) — uncertain here only because
        // bash's memory was not read, so a disown could have spared it the signal.
        #expect(out[500]?.fate == .atRisk && out[500]?.certain == false && has(out[500], "SigCgt holds HUP"))
        #expect(has(out[500], "handler runs") && has(out[500], "uncertain: unless it was disowned"))
    }

    // MARK: io rule

    @Test func ignoringReaderOfTheTerminalIsAtRisk() {
        var b = SessionBuilder()
        b.tpgid = 200
        b.leader("bash", argv: ["bash", "-i"])
        b.add(200, pgid: 200, comm: "perl", ignored: [Signals.hup], syscall: .blocked(number: SyscallState.readCalls.first!, args: [0, 0, 0]))
        b.add(300, pgid: 300, ignored: [Signals.hup])
        let out = b.analyze(.hangup)
        #expect(out[200]?.fate == .atRisk && out[200]?.certain == true)
        #expect(has(out[200], "blocked reading pts/5") && has(out[200], "up to the program"))
        #expect(out[300]?.fate == .atRisk && has(out[300], "fds 0,1,2 on pts/5"))
        // The terminal stays when the leader is killed: the same reader just survives.
        let kept = b.analyze(.leaderExit)[200]
        #expect(kept?.fate == .survives && has(kept, "terminal stays open"))
    }

    @Test func otherSessionsHoldingTheTerminal() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(600, ppid: 1, pgid: 600, sid: 600, ctty: false)
        b.add(700, ppid: 1, pgid: 700, sid: 700, fds: SessionBuilder.noFDs(), ctty: false)
        let hup = b.analyze(.hangup)
        #expect(hup[600]?.fate == .atRisk && has(hup[600], "session 600"))
        #expect(hup[700] == nil)
        #expect(b.analyze(.leaderExit)[600]?.fate == .unaffected)
    }

    @Test func sessionWithoutLeaderOrTerminal() {
        var b = SessionBuilder()
        b.add(300, ppid: 1, pgid: 300, fds: SessionBuilder.noFDs())
        #expect(has(b.analyze(.hangup)[300], "leader 100 is gone"))
        var c = SessionBuilder()
        c.add(100, ppid: 1, pgid: 100, comm: "daemon", ctty: false)
        #expect(c.analyze(.hangup)[100]?.fate == .unaffected)
    }

    @Test func everyEventAppearsInSnapshotJSON() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300)
        let snap = Snapshot(processes: b.procs, selfPid: 1)
        let v = HangupAnalysis.ownSessionVerdicts(snap, sessions: snap.sessions)
        let json = String(decoding: SnapshotJSON.render(snap, sessions: snap.sessions, verdicts: v), as: UTF8.self)
        #expect(json.contains("\"hangup\":{\"hangup\":{\"fate\":\"dies\",\"by\":\"kernel\",\"certain\":true"))
        #expect(json.contains("\"leader-exit\":{\"fate\":\"survives\""))
        #expect(json.contains("\"logout\":{"))
    }

    // MARK: shell detection and /proc/<pid>/syscall

    @Test(arguments: [
        (["-bash"], ShellProfile.Kind.bash, true, true),
        (["bash", "-c", "x"], .bash, false, false),
        (["bash", "script.sh"], .bash, false, false),
        (["bash", "--norc", "-i"], .bash, true, false),
        (["zsh", "-f", "-i"], .zsh, true, false),
        (["fish", "-N", "-P", "-i", "--login"], .fish, true, true),
        (["dash", "-il"], .dash, true, true),
    ])
    func shellDetection(_ argv: [String], _ kind: ShellProfile.Kind, _ interactive: Bool, _ login: Bool) {
        var b = SessionBuilder()
        let name = argv[0].hasPrefix("-") ? String(argv[0].dropFirst()) : argv[0]
        b.leader(name, argv: argv)
        let s = ShellProfile.detect(b.procs[100]!)
        #expect(s.kind == kind && s.interactive == interactive && s.login == login)
    }

    @Test func syscallParser() {
        func parse(_ s: String) -> SyscallState? {
            Array(s.utf8).withUnsafeBufferPointer { SyscallParser.parse($0) }
        }
        #expect(parse("running\n") == .running)
        #expect(parse("-1 0x7ffc 0x7f00\n") == .notInSyscall)
        let r = parse("0 0x3 0x55d0 0x2000 0x0 0x0 0x0 0x7ffd 0x7f12\n")
        #expect(r == .blocked(number: 0, args: [3, 0x55d0, 0x2000, 0, 0, 0]))
        #if arch(x86_64)
        #expect(r?.readingFD == 3)
        #expect(parse("230 0x0 0x0 0x7ffd 0x0 0x0 0x0 0x1 0x2\n")?.readingFD == nil)
        #endif
        #expect(parse("garbage") == nil)
    }
}
