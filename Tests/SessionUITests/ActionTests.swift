import Testing
@testable import SessionCore
@testable import SessionUI

extension Fixture {
    /// A detach plan as `Relauncher.plan` builds it for fixture process 1300 (python3 with a
    /// socket and the terminal on fd 4), with fixed paths so goldens do not depend on the machine.
    static func plan(via: RelaunchVia = .daemonize) -> RelaunchPlan {
        var p = RelaunchPlan(
            original: ProcessIdentity(pid: 1300, startTime: 13000), via: via, executable: "/usr/bin/python3.11",
            arguments: ["python3", "server.py", "--port", "8000"], directory: "/home/alice",
            environment: ["HOME=/home/alice", "LANG=C.UTF-8", "PATH=/usr/bin:/bin", "TERM=xterm-256color", "USER=alice"],
            umask: 0o022, user: nil, logPath: "/home/alice/.local/state/sessiontop/python3-1300-20261126-070000.log",
            launcher: [], endOriginal: true, termTimeout: 5,
            warnings: ["fd 4 is the terminal /dev/pts/0: not carried over",
                       "open fds 3 (socket) are not carried over: the new process starts with 0, 1, 2 only"],
            name: "relaunch-python3-1300")
        if via == .tmux {
            p.logPath = nil
            p.launcher = ["/usr/bin/tmux", "new-session", "-d", "-P", "-F", "#{pane_pid}", "-s", p.name, "-c", p.directory]
                + p.environment.flatMap { ["-e", $0] }
                + ["--", "/bin/sh", "-c", "umask 0022 && exec \"$@\"", "sh"] + p.arguments
            p.warnings = ["tmux adds TERM, TMUX and TMUX_PANE to the environment"]
        }
        return p
    }

    /// An in-place plan as `Detacher.plan` builds it for fixture process 1300's job (python3,
    /// the terminal on fds 0, 1, 2 and 4), with a fixed log path.
    static func detachPlan() -> DetachPlan {
        let m = DetachMemberPlan(identity: id(1300), tid: 1300, command: "python3", uid: 1000, pgid: 1300, sid: 1000,
                                 state: .sleeping, hup: .default, terminalFds: [0, 1, 2, 4], syscall: "poll")
        return DetachPlan(target: .process(1300), pgid: 1300, sid: 1000, members: [m],
                          logPath: "/home/alice/.local/state/sessiontop/python3-1300.log", logOwner: nil, stdin: .null,
                          newGroup: true, forceIgnore: false, continueFirst: false, ttyNr: 34816, ttyName: "pts/0",
                          warnings: [], options: DetachOptions())
    }

    static func id(_ pid: Int32) -> ProcessIdentity { ProcessIdentity(pid: pid, startTime: UInt64(pid) * 10) }
}

extension AppState {
    mutating func select(_ key: RowKey) {
        if case .process(let id) = key, let p = snapshot.process(id.pid) {
            openSessions.insert(p.sid)
            foldedGroups.remove(p.pgid)
        }
        if case .group(let g) = key, let sid = snapshot.group(g)?.sid { openSessions.insert(sid) }
        rebuildRows()
        move(to: rows.firstIndex { $0.key == key }!)
    }
}

/// The signal menu, its confirmation and the detach dialog, as pure updates: which effects
/// leave `update`, with which target and signal.
@Suite struct ActionUpdateTests {
    @Test func kAndF9OpenTheMenuOnTheRowsTarget() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        let index = s.selectedIndex
        #expect(update(&s, .key(.char("k"))).isEmpty)
        #expect(s.dialog == .signalMenu(target: .process(Fixture.id(1100)), index: 0, typed: ""))
        #expect(s.selectedIndex == index)  // k no longer moves up
        press(&s, .escape)
        #expect(s.dialog == nil)

        s.select(.group(1150))
        press(&s, .function(9))
        #expect(s.dialog == .signalMenu(target: .group(1150), index: 0, typed: ""))
        press(&s, .function(9))  // F9 again closes it, as in htop
        #expect(s.dialog == nil)

        s.select(.session(2000))
        press(&s, .char("k"))
        #expect(s.dialog == .signalMenu(target: .session(2000), index: 0, typed: ""))
        #expect(s.members(of: .session(2000)).count == 5)
        #expect(s.refusalHint(.session(2000)) == nil)
        #expect(s.refusalHint(.session(1000))?.contains("sessiontop itself (pid 1200)") == true)
        #expect(s.refusalHint(.process(Fixture.id(1))) != nil)

        // In the table every row is a process.
        press(&s, .escape, .char("t"))
        press(&s, .char("k"))
        guard case .signalMenu(.process, _, _)? = s.dialog else { Issue.record("table row is not a process target"); return }
    }

    @Test func escCancelsWithoutEffect() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        press(&s, .char("k"), .down, .down)
        #expect(update(&s, .key(.escape)).isEmpty)
        #expect(s.dialog == nil)
        #expect(s.note == "no signal sent")
        // q closes the menu (as every dialog), without quitting the app or picking SIGQUIT.
        press(&s, .char("k"))
        #expect(update(&s, .key(.char("q"))).isEmpty)
        #expect(s.dialog == nil)
        #expect(s.note == "no signal sent")
        // SIGQUIT is still one key away: its number.
        press(&s, .char("k"), .char("3"))
        guard case .signalMenu(_, let i, _)? = s.dialog else { Issue.record("menu closed"); return }
        #expect(SignalMenu.all[i] == 3)
    }

    @Test func destructiveSignalAsksAndYSends() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        press(&s, .char("k"))
        // TERM is first and destructive: Enter asks, y sends exactly that target and signal.
        #expect(update(&s, .key(.enter)).isEmpty)
        #expect(s.dialog == .confirmSignal(target: .process(Fixture.id(1100)), signal: 15))
        #expect(update(&s, .key(.char("x"))).isEmpty)  // other keys do nothing
        #expect(update(&s, .key(.char("y"))) == [.sendSignal(.process(Fixture.id(1100)), signal: 15)])
        #expect(s.dialog == nil)

        // n cancels the confirmation.
        s.select(.group(1150))
        press(&s, .char("k"), .char("9"), .enter)
        #expect(s.dialog == .confirmSignal(target: .group(1150), signal: 9))
        #expect(update(&s, .key(.char("n"))).isEmpty)
        #expect(s.dialog == nil)
        #expect(s.note?.contains("not sent: SIGKILL to process group 1150") == true)

        // CONT continues a stopped job: no question.
        press(&s, .char("k"), .char("1"), .char("8"))
        #expect(update(&s, .key(.enter)) == [.sendSignal(.group(1150), signal: 18)])
    }

    @Test func numbersAndFirstLettersPick() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        func picked() -> Int32? {
            if case .signalMenu(_, let i, _)? = s.dialog { return SignalMenu.all[i] }
            return nil
        }
        press(&s, .char("k"))
        #expect(picked() == 15)
        press(&s, .char("9")); #expect(picked() == 9)
        press(&s, .char("1")); #expect(picked() == 1)
        press(&s, .char("5")); #expect(picked() == 15)
        press(&s, .char("3"), .char("4")); #expect(picked() == 34)  // RTMIN
        press(&s, .char("6"), .char("4")); #expect(picked() == 64)  // RTMAX
        press(&s, .char("u")); #expect(picked() == 10)
        press(&s, .char("u")); #expect(picked() == 12)
        press(&s, .char("k")); #expect(picked() == 9)
        press(&s, .char("h")); #expect(picked() == 1)
        press(&s, .char("t")); #expect(picked() == 15)  // the first T in menu order
        press(&s, .char("t")); #expect(picked() == 20)  // then TSTP, TRAP, …
        press(&s, .char("t")); #expect(picked() == 5)
        press(&s, .char("9"), .char("t")); #expect(picked() == 15)
        press(&s, .home, .down, .char("j")); #expect(picked() == SignalMenu.all[2])
        press(&s, .up); #expect(picked() == SignalMenu.all[1])
        press(&s, .end); #expect(picked() == SignalMenu.all.last)
        press(&s, .down); #expect(picked() == SignalMenu.all.last)
        press(&s, .char("0")); #expect(picked() == SignalMenu.all.last)  // 0 is no menu entry
    }

    @Test func resultGoesToTheStatusLineAndHoldsAgainstAVanishedNote() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        let report = SignalReport(target: .process(Fixture.id(1100)), signal: 15, refusal: nil,
                                  members: [SignalMemberResult(identity: Fixture.id(1100), command: "sleep 1000", outcome: .sent)])
        #expect(update(&s, .signalSent(report)) == [.refreshNow])
        #expect(s.note == "sent SIGTERM to pid 1100 (sleep 1000)")
        var procs = Fixture.processes()
        procs[1100] = nil
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 101))
        #expect(s.note == "sent SIGTERM to pid 1100 (sleep 1000)")
        #expect(s.selectedRow?.pid != 1100)

        // A refusal by the core, and a group where one member was not signalled.
        let refused = SignalReport(target: .session(1000), signal: 15, refusal: .sessiontopItself(pid: 1200), members: [])
        _ = update(&s, .signalSent(refused))
        #expect(s.note == "SIGTERM → session 1000: refusing to signal sessiontop itself (pid 1200) without --force")
        let partial = SignalReport(target: .group(2100), signal: 1, refusal: nil, members: [
            SignalMemberResult(identity: Fixture.id(2100), command: "make -j2", outcome: .sent),
            SignalMemberResult(identity: Fixture.id(2101), command: "cc1 main.c", outcome: .denied)])
        _ = update(&s, .signalSent(partial))
        #expect(s.note == "SIGHUP → process group 2100: 1 sent, 1 not sent — pid 2101 (cc1 main.c): permission denied")
    }

    /// D / F8 plans in place (issue 8): y runs that plan, r asks for the relaunch plan instead,
    /// Esc cancels; the outcome's line goes to the status line and the detail pane remembers it.
    @Test func detachDefaultsToInPlace() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1300)))
        #expect(update(&s, .key(.char("D"))) == [.planDetach(Fixture.id(1300))])
        #expect(update(&s, .key(.function(8))) == [.planDetach(Fixture.id(1300))])
        #expect(s.dialog == nil)
        let plan = Fixture.detachPlan()
        #expect(update(&s, .detachPlanned(plan)).isEmpty)
        #expect(s.dialog == .detachInPlace(plan))
        let text = InspectorKeysTests.screen(s).text
        #expect(text.contains("Detach pid 1300 (python3) in place") && text.contains("same pid, same state, no restart"))
        #expect(text.contains("1300 python3: SIGHUP → ignored; fd 0 → /dev/null, fd 1 → log, fd 2 → log, fd 4 → /dev/null"))
        #expect(text.contains("r relaunch instead (restarts from scratch)"))
        #expect(!text.contains("no need to detach"), "python3 is at risk in the fixture")
        // Keys that are not answers do nothing; Esc cancels.
        #expect(update(&s, .key(.char("x"))).isEmpty && s.dialog == .detachInPlace(plan))
        #expect(update(&s, .key(.escape)).isEmpty && s.dialog == nil)
        #expect(s.note == "detach cancelled: pid 1300 (python3) left as it is")
        // r: the relaunch plan is asked for; the dialog stays until it comes.
        _ = update(&s, .detachPlanned(plan))
        #expect(update(&s, .key(.char("r"))) == [.planRelaunch(Fixture.id(1300), via: .daemonize)])
        #expect(s.dialog == .detachInPlace(plan))
        _ = update(&s, .relaunchPlanned(Fixture.plan()))
        #expect(s.dialog == .relaunch(Fixture.plan()))
        _ = update(&s, .key(.escape))
        // y: only now the effect.
        _ = update(&s, .detachPlanned(plan))
        #expect(update(&s, .key(.char("y"))) == [.detachInPlace(plan)])
        #expect(s.dialog == nil && s.note == "detaching pid 1300 (python3) in place…")
        // The outcome: its line, a refresh, and the record for the detail pane.
        var r = DetachMemberResult(identity: Fixture.id(1300), command: "python3", status: .detached, failure: nil,
                                   hupBefore: .default, hupAfter: .ignored, redirected: [(0, false), (1, true), (2, true), (4, false)],
                                   pgidBefore: 1300, pgidAfter: 4400, interruptedSyscall: 7, site: "syscall", signalsRedelivered: [],
                                   syscalls: 9, stoppedMicroseconds: 900)
        r.hangup = Verdict(fate: .survives, by: nil, reasons: ["SIGHUP is ignored"])
        r.logout = r.hangup
        let outcome = DetachOutcome(plan: plan, members: [r], failure: nil, newPgid: 4400, done: true,
                                    engineMicroseconds: 2000, totalMicroseconds: 30000)
        s.wallClock = { 1_700_000_000 }
        #expect(update(&s, .detached(outcome)) == [.refreshNow])
        #expect(s.note == "pid 1300 (python3) detached in place: output → /home/alice/.local/state/sessiontop/python3-1300.log; it survives a hangup (new process group 4400)", "\(s.note ?? "")")
        #expect(s.detachRecords[Fixture.id(1300)]?.log == plan.logPath)
        s.select(.process(Fixture.id(1300)))
        s.detailOpen = true
        s.detailFull = true
        s.detailScroll = 1000
        let detail = InspectorKeysTests.screen(s).text
        #expect(detail.contains("detached in place by sessiontop at \(Renderer.clock(1_700_000_000)), log "), "\(detail)")
    }

    /// A job whose every member already survives: the dialog says there is no need.
    @Test func detachSaysNoNeedWhenItSurvivesAlready() {
        var s = Fixture.state()
        var plan = Fixture.detachPlan()
        plan.members[0].identity = Fixture.id(1100)
        plan.members[0].command = "sleep"
        s.verdicts[1100] = Verdict(fate: .survives, by: nil, reasons: ["SIGHUP is ignored (nohup)"])
        _ = update(&s, .detachPlanned(plan))
        let text = InspectorKeysTests.screen(s).text
        #expect(text.contains("no need to detach: it already survives a hangup (SIGHUP is ignored (nohup))"), "\(text)")
    }

    @Test func detachAsksBeforeTheRelaunchEffect() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1300)))
        // D asks for the in-place plan; r in its dialog asks for the relaunch plan; nothing runs yet.
        #expect(update(&s, .key(.char("D"))) == [.planDetach(Fixture.id(1300))])
        _ = update(&s, .detachPlanned(Fixture.detachPlan()))
        #expect(update(&s, .key(.char("r"))) == [.planRelaunch(Fixture.id(1300), via: .daemonize)])
        let plan = Fixture.plan()
        #expect(update(&s, .relaunchPlanned(plan)).isEmpty)
        #expect(s.dialog == .relaunch(plan))
        // Keys that are not answers do nothing; v asks for the tmux plan.
        #expect(update(&s, .key(.char("x"))).isEmpty)
        #expect(update(&s, .key(.enter)).isEmpty)
        #expect(update(&s, .key(.char("v"))) == [.planRelaunch(Fixture.id(1300), via: .tmux)])
        #expect(s.dialog == .relaunch(plan))  // until the host answers
        // Esc cancels; y confirms: only now the relaunch effect.
        #expect(update(&s, .key(.escape)).isEmpty)
        #expect(s.dialog == nil)
        _ = update(&s, .relaunchPlanned(plan))
        #expect(update(&s, .key(.char("y"))) == [.relaunch(plan)])
        #expect(s.dialog == nil)

        // A refusal is one line in the status line.
        _ = update(&s, .actionFailed("detach pid 1300: refusing to relaunch: its program /usr/bin/python3 was deleted"))
        #expect(s.note == "detach pid 1300: refusing to relaunch: its program /usr/bin/python3 was deleted")

        // Not on a group or session row.
        s.select(.group(1150))
        #expect(update(&s, .key(.char("D"))).isEmpty)
        #expect(s.note?.contains("select a process row") == true)
    }

    @Test func relaunchSelectsTheNewProcessAndReportsTheOriginal() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1300)))
        let plan = Fixture.plan()
        let effects = update(&s, .relaunchStarted(plan, newPid: 4242))
        #expect(effects == [.refreshNow, .endOriginal(plan, newPid: 4242)])
        #expect(s.note?.contains("new pid 4242") == true)
        // The next scan finds the copy in its own session (no tty; sessions start closed).
        var procs = Fixture.processes()
        procs[4242] = Fixture.proc(4242, ppid: 1, pgid: 4241, sid: 4241, comm: Array("python3".utf8),
                                   argv: .known(["python3", "server.py", "--port", "8000"].map { Array($0.utf8) }))
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 101))
        #expect(s.selectedRow?.key == .process(Fixture.id(4242)))
        #expect(s.openSessions.contains(4241))
        #expect(s.pendingSelect == nil)

        let term = SignalReport(target: .process(plan.original), signal: 15, refusal: nil,
                                members: [SignalMemberResult(identity: plan.original, command: "python3", outcome: .sent)])
        #expect(update(&s, .originalEnded(plan, newPid: 4242, reports: [term], gone: true)) == [.refreshNow])
        #expect(s.note == "detached: new pid 4242; original pid 1300 ended (SIGTERM)")
        let kill = SignalReport(target: .process(plan.original), signal: 9, refusal: nil,
                                members: [SignalMemberResult(identity: plan.original, command: "python3", outcome: .sent)])
        _ = update(&s, .originalEnded(plan, newPid: 4242, reports: [term, kill], gone: true))
        #expect(s.note == "detached: new pid 4242; original pid 1300 ended (SIGKILL after 5 s)")
        let denied = SignalReport(target: .process(plan.original), signal: 15, refusal: nil,
                                  members: [SignalMemberResult(identity: plan.original, command: "python3", outcome: .denied)])
        _ = update(&s, .originalEnded(plan, newPid: 4242, reports: [denied], gone: false))
        #expect(s.note == "detached: new pid 4242; original pid 1300 did NOT end: pid 1300 (python3): permission denied")

        // --keep: no end effect.
        var keep = plan
        keep.endOriginal = false
        #expect(update(&s, .relaunchStarted(keep, newPid: 4243)) == [.refreshNow])
    }

    @Test func goneRowsAndFixtureTreesOfferNoAction() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1160)))
        var procs = Fixture.processes()
        procs[1160] = nil
        procs[1150] = nil
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 101))
        s.move(to: s.rows.firstIndex { if case .gone = $0.key { return true }; return false }!)
        press(&s, .char("k"))
        #expect(s.dialog == nil)
        #expect(s.note?.contains("has exited") == true)
        #expect(update(&s, .key(.char("D"))).isEmpty)

        var f = Fixture.state()
        f.actionsDisabled = "signals and detach act on the live /proc only, not on --proc-root /x"
        press(&f, .char("k"))
        #expect(f.dialog == nil && f.note == f.actionsDisabled)
        #expect(update(&f, .key(.char("D"))).isEmpty)
    }

    /// Every dialog at many sizes, with refreshes underneath: render never traps and stays
    /// inside the screen.
    @Test func dialogsRenderAtEverySize() {
        let sizes = [(1, 1), (20, 5), (40, 10), (41, 11), (60, 14), (80, 24), (100, 30), (240, 70)]
        for (w, h) in sizes {
            var s = Fixture.state(width: w, height: h)
            var screen = Screen(width: w, height: h)
            let steps: [AppEvent] = [.key(.char("k")), .key(.end), .key(.up), .key(.char("9")), .key(.enter),
                                     .snapshot(Fixture.snapshot(), now: 101), .key(.char("n")),
                                     .key(.function(9)), .key(.pageDown), .key(.escape),
                                     .relaunchPlanned(Fixture.plan()), .resize(width: w, height: max(1, h - 3)),
                                     .relaunchPlanned(Fixture.plan(via: .tmux)), .resize(width: w, height: h)]
            for e in steps {
                _ = update(&s, e)
                render(s, into: &screen)
                #expect(screen.width == s.width && screen.height == s.height)
            }
        }
    }
}
