import Testing
@testable import SessionCore
@testable import SessionUI

/// The lab's screens (`sessiontop lab`): the pinned session with the lesson strip, the H
/// confirmation and the prediction-vs-reality table, at 80×24 and 120×40.
@Suite struct LabScreens {
    /// The fixture's session 1000 (alice's bash on pts/0) as the lab terminal, one scan done.
    static func labState(width: Int, height: Int) -> AppState {
        var s = Fixture.state(width: width, height: height)
        s.lab = LabState(shell: .bash)
        _ = update(&s, .lab(.terminal(pane: "%0", leader: 1000)))
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 101))
        return s
    }

    /// A table as after a real hangup: the leader and a job dead by SIGHUP, the stopped job
    /// by SIGTERM, the nohup'ed server alive, and sessiontop killed by SIGKILL: a surprise.
    static func table(_ s: AppState) -> RealityTable {
        let snap = s.snapshot
        let freeze = PredictionFreeze(snap, session: 1000, event: .hangup,
                                      verdicts: Fixture.analyze(snap, 1000, .hangup), wallTime: 0)!
        var outcomes: [ProcessIdentity: Reality] = [:]
        for e in freeze.entries {
            switch e.identity.pid {
            case 1000, 1100: outcomes[e.identity] = .killed(signal: Signals.hup)
            case 1150, 1160: outcomes[e.identity] = .killed(signal: Signals.term)
            case 1200: outcomes[e.identity] = .killed(signal: Signals.kill)
            default: outcomes[e.identity] = .alive(stopped: false)
            }
        }
        return RealityTable(freeze: freeze, outcomes: outcomes, watched: 2.5)
    }

    @Test func lesson80x24() {
        let s = Self.labState(width: 80, height: 24)
        #expect(s.rows.allSatisfy { row in
            if case .session(let sid) = row.key { return sid == 1000 }
            return true
        }, "only the lab session is listed")
        expectGolden("lab-lesson-80x24", s)
    }

    @Test func lesson120x40() {
        expectGolden("lab-lesson-120x40", Self.labState(width: 120, height: 40))
    }

    @Test func confirm80x24() {
        var s = Self.labState(width: 80, height: 24)
        press(&s, .char("H"), .down)
        expectGolden("lab-confirm-80x24", s)
    }

    @Test func table80x24And120x40() {
        for (w, h) in [(80, 24), (120, 40)] {
            var s = Self.labState(width: w, height: h)
            let t = Self.table(s)
            _ = update(&s, .lab(.started(t.freeze)))
            _ = update(&s, .lab(.reality(t, log: "/home/alice/.local/state/sessiontop/lab.jsonl")))
            expectGolden("lab-table-\(w)x\(h)", s)
        }
    }
}

@Suite struct LabUpdates {
    @Test func stepsPassOnlyWhenTheirCheckHolds() {
        var s = LabScreens.labState(width: 100, height: 30)
        // The fixture has no `sleep 1001`: lesson 1 waits and says what it sees.
        #expect(s.lab?.lesson == 0 && s.lab?.step == 0)
        #expect(s.lab?.lastCheck?.holds == false)
        // Now the learner's job appears: a background group of its own.
        var procs = Fixture.processes()
        procs[1400] = Fixture.proc(1400, ppid: 1000, pgid: 1400, sid: 1000, tpgid: 1200, comm: Array("sleep".utf8),
                                   argv: .known([Array("sleep".utf8), Array("1001".utf8)]), tty: "pts/0")
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 102))
        #expect(s.lab?.lesson == 1, "passed: \(s.lab?.passed ?? [])")
        #expect(s.note?.hasPrefix("✓ sleep 1001 &") == true)
        // One step per scan: the pipeline lesson waits for its own check.
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 103))
        #expect(s.lab?.lesson == 1)
        press(&s, .char(">"))
        #expect(s.lab?.lesson == 2 && s.lab?.passed.last == "2.1 skipped")
        press(&s, .char("<"))
        #expect(s.lab?.lesson == 1)
    }

    @Test func hConfirmsThenAsksTheHostAndNRestarts() {
        var s = LabScreens.labState(width: 100, height: 30)
        #expect(update(&s, .key(.char("H"))).isEmpty)
        guard case .confirm(0)? = s.lab?.phase else { Issue.record("no confirmation"); return }
        press(&s, .char("2"))
        #expect(update(&s, .key(.char("y"))) == [.lab(.perform(.leaderExit))])
        s.lab?.phase = .lessons
        press(&s, .char("H"))
        #expect(update(&s, .key(.escape)).isEmpty)
        guard case .lessons? = s.lab?.phase else { Issue.record("Esc did not cancel"); return }
        s.lab?.lesson = 3
        #expect(update(&s, .key(.char("N"))) == [.lab(.newTerminal)])
        #expect(s.lab?.lesson == 0)
        _ = update(&s, .lab(.terminal(pane: "%5", leader: 2000)))
        #expect(s.pinnedSid == 2000 && s.lab?.pane == "%5")
    }

    @Test func topSidPinsAndFollowsTheTerminal() {
        var s = Fixture.state()
        s.pinSession(2000)
        let listed: [Int32] = s.rows.compactMap { if case .session(let sid) = $0.key { return sid } else { return nil } }
        #expect(listed == [2000])
        // Session 2000 ends; a new shell (2500) has its terminal pts/1: followed.
        var procs = Fixture.processes().filter { $0.value.sid != 2000 }
        procs[2500] = Fixture.proc(2500, ppid: 500, pgid: 2500, sid: 2500, tpgid: 2500, comm: Array("zsh".utf8), tty: "pts/1")
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 101))
        #expect(s.pinnedSid == 2500)
        #expect(s.note?.contains("following pts/1 to session 2500") == true)
    }
}

@Suite struct InspectorHangupUpdates {
    /// Session 2000 (bob's zsh on pts/1) is watched (open); its terminal goes away: the leader
    /// dies, the make tree lives on without a terminal. The row keeps the last prediction.
    @Test func aWatchedTerminalThatHangsUpKeepsItsPredictionOnTheRow() {
        var s = Fixture.state()
        s.wallClock = { 0 }
        s.openSessions.insert(2000)
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 101))
        #expect(s.watchedFreezes[2000]?.entries.count == 5)
        var procs = Fixture.processes()
        procs[2000] = nil
        for pid in [2100, 2101, 2102, 2103] as [Int32] {
            var p = procs[pid]!
            p.ttyDevice = 0
            p.tty = nil
            p.tpgid = -1
            procs[pid] = p
        }
        #expect(update(&s, .snapshot(Fixture.snapshot(procs), now: 102)).isEmpty)
        let line = s.hungUpLine(2000) ?? ""
        #expect(line.hasPrefix("session 2000 hung up at "), "\(line)")
        #expect(line.hasSuffix(": 1 died as predicted, 4 survived as predicted, 0 surprises"), "\(line)")
        // Shown on the session row; Enter opens the table, Esc closes it, x dismisses.
        var screen = Screen(width: s.width, height: s.height)
        render(s, into: &screen)
        #expect(screen.text.contains("session 2000 hung up at"))
        let i = s.rows.firstIndex(of: Row(key: .session(2000)))!
        s.move(to: i)
        press(&s, .enter)
        #expect(s.shownHangup == 2000)
        render(s, into: &screen)
        #expect(screen.text.contains("WHAT HAPPENED") && screen.text.contains("make -j2"))
        press(&s, .escape)
        #expect(s.shownHangup == nil && s.hungUp[2000] != nil)
        // A surprise (cc1 killed meanwhile) is logged once the table settles.
        procs[2101] = nil
        #expect(update(&s, .snapshot(Fixture.snapshot(procs), now: 103)).isEmpty)
        let effects = update(&s, .snapshot(Fixture.snapshot(procs), now: 108))
        #expect(effects.count == 1)
        if case .lab(.log(let t))? = effects.first { #expect(t.surprises == 1) } else { Issue.record("no log effect: \(effects)") }
        #expect(s.hungUpLine(2000)?.hasSuffix("1 surprise") == true)
        press(&s, .char("x"))
        #expect(s.hungUp[2000] == nil)
    }

    /// A session that vanishes whole keeps a row of its own with the notice.
    @Test func aVanishedSessionKeepsARow() {
        var s = Fixture.state()
        s.openSessions.insert(2000)
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 101))
        let procs = Fixture.processes().filter { $0.value.sid != 2000 }
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 102))
        #expect(s.rows.contains(Row(key: .session(2000))))
        #expect(s.hungUpLine(2000)?.contains("1 died as predicted, 0 survived as predicted, 4 surprises") == true, "\(s.hungUpLine(2000) ?? "")")
    }

    @Test func teachingSummariesComeBeforeTheRules() {
        let orphan = Verdict(fate: .dies, by: .orphanedGroup, reasons: ["x"])
        #expect(Teaching.summary(orphan, event: .hangup).contains("SIGHUP and SIGCONT"))
        #expect(Teaching.orphaned.contains("if it is stopped, the kernel will send it SIGHUP and SIGCONT"))
        var s = Fixture.state()
        s.move(to: s.rows.firstIndex { $0.pid == 1300 }!)
        press(&s, .enter)  // the detail view: the hangup section is below the fold of the pane
        let lines = s.detailDocument().lines.map { $0.map(\.0).joined() }
        let summary = lines.firstIndex { $0.contains("It may die:") }
        let rule = lines.firstIndex { $0.contains("ignores SIGHUP (nohup)") }
        #expect(summary != nil && rule != nil && summary! < rule!)
    }
}
