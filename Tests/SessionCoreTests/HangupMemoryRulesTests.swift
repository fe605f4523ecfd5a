import Testing
@testable import SessionCore

/// The rules that use what the shell's own memory says (ShellView), the at-risk and exited
/// verdicts, one verdict per process however it is asked for, and logind.
@Suite struct HangupMemoryRulesTests {
    // MARK: bash, from its job table

    @Test func bashTableDecidesWhoGetsSIGHUP() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300)                                  // %1 in the table
        b.add(400, pgid: 400)                                  // disowned: not in the table
        b.add(500, pgid: 500)                                  // %2, disown -h
        b.bashMemory([ShellJob(number: 1, pgid: 300, pids: [300], state: .running),
                      ShellJob(number: 2, pgid: 500, pids: [500], state: .running, noHup: true)])
        let out = b.analyze(.hangup)
        #expect(out[300]?.fate == .dies && out[300]?.by == .shell && out[300]?.certain == true)
        #expect(has(out[300], "job %1") && has(out[300], "read from its memory"))
        #expect(out[400]?.fate == .atRisk && out[400]?.certain == true)
        #expect(has(out[400], "has no job for group 400: it was disowned, or moved out of its job's group, so bash sends it nothing"))
        #expect(out[500]?.fate == .atRisk && out[500]?.certain == true && has(out[500], "no-HUP"))
    }

    @Test func bashStoppedJobs() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        // %1 stopped, ignores HUP (nohup): SIGHUP+SIGCONT, then SIGTERM only if bash still sees
        // it stopped — a real race.
        b.add(300, pgid: 300, state: "T", ignored: [Signals.hup], fds: SessionBuilder.noFDs())
        // %2 stopped, disown -h: no SIGHUP, no SIGCONT, so terminate_stopped_jobs certainly hits it.
        b.add(400, pgid: 400, state: "T", ignored: [Signals.hup], fds: SessionBuilder.noFDs())
        // %3 stopped, default HUP: dies of the SIGHUP once continued.
        b.add(500, pgid: 500, state: "T")
        b.bashMemory([ShellJob(number: 1, pgid: 300, pids: [300], state: .stopped),
                      ShellJob(number: 2, pgid: 400, pids: [400], state: .stopped, noHup: true),
                      ShellJob(number: 3, pgid: 500, pids: [500], state: .stopped)])
        let out = b.analyze(.hangup)
        #expect(out[300]?.fate == .dies && out[300]?.certain == false)
        #expect(out[300]?.reasons.last?.hasPrefix("uncertain: race") == true)
        #expect(out[400]?.fate == .dies && out[400]?.by == .shell && out[400]?.certain == true)
        #expect(has(out[400], "terminate_stopped_jobs") && has(out[400], "still stopped"))
        #expect(out[500]?.fate == .dies && out[500]?.by == .shell && out[500]?.certain == true)
        // On exit without huponexit nothing continues them first: terminate_stopped_jobs is certain.
        let exit = b.analyze(.logout)
        #expect(exit[300]?.fate == .dies && exit[300]?.certain == true && has(exit[300], "SIGTERM"))
    }

    @Test func bashTableLaggingBehindProcIsARace() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300, state: "T", ignored: [Signals.hup], fds: SessionBuilder.noFDs())
        b.bashMemory([ShellJob(number: 1, pgid: 300, pids: [300], state: .running)])
        let v = b.analyze(.hangup)[300]
        #expect(v?.certain == false && v?.reasons.last?.contains("race: bash's table shows job %1 (group 300) running but /proc shows it stopped") == true)
    }

    @Test func bashHuponexitNeedsALoginShell() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["-bash"])
        b.add(300, pgid: 300)
        b.bashMemory([ShellJob(number: 1, pgid: 300, pids: [300], state: .running)], login: true, hupOnExit: true)
        let on = b.analyze(.logout)[300]
        #expect(on?.fate == .dies && on?.by == .shell && on?.certain == true && has(on, "huponexit on"))
        b.bashMemory([ShellJob(number: 1, pgid: 300, pids: [300], state: .running)], login: true, hupOnExit: false)
        let off = b.analyze(.logout)[300]
        #expect(off?.fate == .atRisk && off?.certain == true && has(off, "huponexit is off"))
        var c = SessionBuilder()
        c.leader("bash", argv: ["bash", "-i"])
        c.add(300, pgid: 300)
        c.bashMemory([ShellJob(number: 1, pgid: 300, pids: [300], state: .running)], login: false, hupOnExit: true)
        let plain = c.analyze(.logout)[300]
        #expect(plain?.fate == .atRisk && plain?.certain == true && has(plain, "huponexit is on, but it is not a login shell"))
    }

    @Test func untrustedMemoryFallsBackAndSaysWhy() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300)
        b.memory[100] = ShellMemory(view: nil, trusted: false, reason: "bash 5.3.0: layout unknown")
        let v = b.analyze(.hangup)[300]
        #expect(v?.fate == .dies && v?.certain == false)
        #expect(has(v, "bash's memory is not used: bash 5.3.0: layout unknown") && has(v, "hangup_all_jobs"))
    }

    @Test func leaderWithAHUPTrapIsAtRiskAndItsJobsUncertain() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300, fds: SessionBuilder.noFDs())
        b.bashMemory([ShellJob(number: 1, pgid: 300, pids: [300], state: .running)])
        b.memory[100]!.view!.hupTrapped = true
        let out = b.analyze(.hangup)
        #expect(out[100]?.fate == .atRisk && has(out[100], "trap"))
        #expect(out[300]?.certain == false)
    }

    // MARK: zsh, from its job table

    @Test func zshTableAndHUPOption() {
        var b = SessionBuilder()
        b.leader("zsh", argv: ["zsh", "-i"])
        b.add(300, pgid: 300)
        b.add(400, pgid: 400)  // &!: not in the table
        b.add(500, pgid: 500, state: "T")
        b.zshMemory([ShellJob(number: 1, pgid: 300, pids: [300], state: .running),
                     ShellJob(number: 2, pgid: 500, pids: [500], state: .stopped)])
        let out = b.analyze(.logout)
        #expect(out[300]?.fate == .dies && out[300]?.by == .shell && out[300]?.certain == true && has(out[300], "killrunjobs"))
        #expect(out[400]?.fate == .atRisk && out[400]?.certain == true && has(out[400], "disowned"))
        #expect(out[500]?.fate == .dies && out[500]?.by == .orphanedGroup && has(out[500], "skips stopped jobs"))
        b.zshMemory([ShellJob(number: 1, pgid: 300, pids: [300], state: .running)], hup: false)
        let nohup = b.analyze(.hangup)[300]
        #expect(nohup?.fate == .atRisk && nohup?.certain == true && has(nohup, "NO_HUP"))
    }

    // MARK: fates

    @Test func zombieIsExitedNotDies() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300, state: "Z", fds: SessionBuilder.noFDs())
        for e in HangupEvent.allCases {
            let v = b.analyze(e)[300]
            #expect(v?.fate == .exited && v?.certain == true && v?.fate.mark == "Z")
        }
    }

    @Test func logoutMeansTheTerminalGoesAwayAfterwards() {
        // The wrong verdict: a nohup job writing to /dev/tty "survived" logout.
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300, comm: "perl", ignored: [Signals.hup],
              fds: [OpenFile(fd: 3, target: Array("/dev/tty".utf8), kind: .tty, device: SessionBuilder.devTTY)])
        let v = b.analyze(.logout)[300]
        #expect(v?.fate == .atRisk && v?.certain == true)
        #expect(has(v, "fd 3 on pts/5") && has(v, "terminal goes away"))
        #expect(!(v?.reasons.contains { $0.contains("the hangup event applies") } ?? true))
    }

    // MARK: one answer, however you ask

    @Test func outsiderHasOneVerdictInEveryView() {
        // `setsid sleep 100 &` keeping fds 0-2 on pts/5: its own session has no terminal.
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(600, ppid: 1, pgid: 600, sid: 600, ctty: false)
        let snap = b.snapshot
        let all = HangupVerdicts(snap)
        for e in HangupEvent.allCases {
            let perTerminal = all.terminal(100, e)[600]
            #expect(perTerminal == all.verdict(600, e), "\(e)")
            #expect(perTerminal == HangupAnalysis.analyze(snap, session: 100, event: e)[600])
        }
        #expect(all.verdict(600, .hangup)?.fate == .atRisk && all.verdict(600, .hangup)?.certain == true)
        #expect(all.verdict(600, .logout)?.fate == .atRisk)
        #expect(all.verdict(600, .leaderExit)?.fate == .unaffected)
        #expect(all.terminalOf[600] == 100)
        // snapshot --json carries the same verdict for it.
        let json = String(decoding: SnapshotJSON.render(snap, sessions: snap.sessions,
                                                        verdicts: HangupAnalysis.ownSessionVerdicts(snap, sessions: snap.sessions)), as: UTF8.self)
        #expect(json.contains("\"pid\":600") && json.contains("\"hangup\":{\"hangup\":{\"fate\":\"at-risk\",\"by\":null,\"certain\":true"))
    }

    /// What issue 8's detach-in-place leaves behind: SIGHUP ignored, no fd on the terminal, a
    /// group of its own (still a child of the shell, in the session) — certain, whatever the
    /// shell's table says or whether it was read.
    @Test(arguments: [false, true])
    func detachedJobIsCertain(_ memoryRead: Bool) {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300, ignored: [Signals.hup], fds: SessionBuilder.noFDs())
        b.add(310, pgid: 310, ignored: [Signals.hup], fds: SessionBuilder.noFDs(), ctty: false)  // and after setsid
        b.procs[310]!.sid = 310
        if memoryRead { b.bashMemory([]) }
        let all = HangupVerdicts(b.snapshot)
        for e in HangupEvent.allCases {
            let v = all.verdict(300, e)
            #expect(v?.fate == .survives && v?.certain == true, "\(e): \(v?.reasons ?? [])")
            #expect(all.verdict(310, e) == nil)  // another session, no fd on the terminal: unaffected
        }
    }

    // MARK: logind

    static func scoped(_ b: inout SessionBuilder, _ pid: Int32, _ path: String) {
        b.procs[pid]!.cgroup = .known(Array(path.utf8))
    }

    @Test func logindKillsTheScopeAtLogout() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["-bash"])
        b.procs[100]!.uid = 1000
        b.procs[100]!.user = "ann"
        b.add(300, pgid: 300, ignored: [Signals.hup], fds: SessionBuilder.noFDs())   // nohup job
        b.add(700, ppid: 1, pgid: 700, sid: 700, fds: SessionBuilder.noFDs(), ctty: false)  // setsid daemon
        b.add(800, ppid: 1, pgid: 800, sid: 800, fds: SessionBuilder.noFDs(), ctty: false)  // systemd-run --user
        let scope = "/user.slice/user-1000.slice/session-7.scope"
        for pid: Int32 in [100, 300, 700] { Self.scoped(&b, pid, scope) }
        Self.scoped(&b, 800, "/user.slice/user-1000.slice/user@1000.service/app.slice/run-1.service")
        b.logind = LogindPolicy(killUserProcesses: true, killUserProcessesFrom: "/etc/systemd/logind.conf.d/kill.conf")
        let out = b.analyze(.logout)
        #expect(out[300]?.fate == .dies && out[300]?.by == .logind && out[300]?.certain == true)
        #expect(has(out[300], "session-7.scope") && has(out[300], "KillUserProcesses=yes (/etc/systemd/logind.conf.d/kill.conf)"))
        #expect(out[700]?.fate == .dies && out[700]?.by == .logind)
        // The user manager stops with the last session of a user who does not linger …
        #expect(out[800]?.fate == .dies && out[800]?.by == .logind && has(out[800], "last logind session"))
        // … and stays when the user lingers.
        b.logind?.lingering = ["ann"]
        #expect(b.analyze(.logout)[800]?.fate != .dies)
        // KillUserProcesses=no: the scope is abandoned, its processes live on.
        b.logind = LogindPolicy(killUserProcesses: false, killUserProcessesFrom: "/etc/systemd/logind.conf")
        #expect(b.analyze(.logout)[300]?.fate == .survives && has(b.analyze(.logout)[300], "KillUserProcesses=no"))
        // Set nowhere: only the compiled-in default decides — said, and hedged.
        b.logind = LogindPolicy(shippedDefault: false)
        let hedged = b.analyze(.logout)[300]
        #expect(hedged?.certain == false && hedged?.reasons.last?.contains("compiled-in default") == true)
        // A plain hangup of a terminal window does not end the logind session.
        b.logind = LogindPolicy(killUserProcesses: true)
        #expect(b.analyze(.hangup)[700] == nil || b.analyze(.hangup)[700]?.by != .logind)
        // … but dropping an SSH login does: logind's session leader is the shell's parent.
        b.procs[100]!.ppid = 90
        b.logind = LogindPolicy(killUserProcesses: true, sessionLeaders: ["7": 90])
        #expect(b.analyze(.hangup)[300]?.by == .logind)
    }

    @Test func logindSparesRootByDefault() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["-bash"])
        b.add(300, pgid: 300, ignored: [Signals.hup], fds: SessionBuilder.noFDs())
        for pid: Int32 in [100, 300] { Self.scoped(&b, pid, "/user.slice/user-0.slice/session-2.scope") }
        b.logind = LogindPolicy(killUserProcesses: true)
        let v = b.analyze(.logout)[300]
        #expect(v?.fate == .survives && has(v, "root is excluded by default"))
        b.logind = LogindPolicy(killUserProcesses: true, killExcludeUsers: [])
        #expect(b.analyze(.logout)[300]?.by == .logind)
    }

    @Test func cgroupPlaces() {
        #expect(CgroupPlace.of(Array("/user.slice/user-1000.slice/session-3.scope".utf8))
                == CgroupPlace(kind: .session(id: "3", scope: Array("/user.slice/user-1000.slice/session-3.scope".utf8)), uid: 1000))
        #expect(CgroupPlace.of(Array("/user.slice/user-1000.slice/user@1000.service/init.scope".utf8))?.kind == .userManager)
        #expect(CgroupPlace.of(Array("/system.slice/ssh.service".utf8)) == nil)
        #expect(CgroupPlace.of(Array("/user.slice/user-x.slice/session-3.scope".utf8)) == nil)
        #expect(CgroupPlace.of([]) == nil)
    }
}
