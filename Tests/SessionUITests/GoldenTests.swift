import Foundation
import Testing
@testable import SessionCore
@testable import SessionUI

/// Compares a screen (text + attribute layer) with `Goldens/<name>.txt`. With
/// `SESSIONTOP_RECORD=1` it writes the golden instead and fails, so a recording never passes.
func expectGolden(_ name: String, _ state: AppState, sourceLocation: SourceLocation = #_sourceLocation) {
    var screen = Screen(width: state.width, height: state.height)
    render(state, into: &screen)
    let actual = "\(state.width)x\(state.height)\n" + screen.text + "\n=== attributes ===\n" + screen.attributeLayer + "\n"
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")
    let file = dir.appendingPathComponent("\(name).txt")
    if Foundation.ProcessInfo.processInfo.environment["SESSIONTOP_RECORD"] == "1" {
        try? actual.write(to: file, atomically: true, encoding: .utf8)
        Issue.record("recorded golden \(name); run again without SESSIONTOP_RECORD", sourceLocation: sourceLocation)
        return
    }
    guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
        Issue.record("no golden \(name).txt: run with SESSIONTOP_RECORD=1 to write it", sourceLocation: sourceLocation)
        return
    }
    if actual != expected {
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let i = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
        let got = i < a.count ? String(a[i]) : "<end>"
        let want = i < e.count ? String(e[i]) : "<end>"
        Issue.record("golden \(name) differs at line \(i + 1):\n  got:  \(got)\n  want: \(want)", sourceLocation: sourceLocation)
    }
}

func press(_ s: inout AppState, _ keys: Key...) {
    for k in keys { _ = update(&s, .key(k)) }
}

func type(_ s: inout AppState, _ text: String) {
    for c in text { _ = update(&s, .key(.char(c))) }
}

@Suite struct GoldenScreens {
    @Test func mainTree100x30() {
        var s = Fixture.state()
        s.openSessions.insert(2000)
        s.openSessions.insert(3000)
        s.rebuildRows()
        expectGolden("main-tree-100x30", s)
    }

    @Test func mainTree80x24NoColor() {
        var s = Fixture.state(width: 80, height: 24, color: false)
        s.openSessions.insert(2000)
        s.rebuildRows()
        expectGolden("main-tree-80x24-nocolor", s)
    }

    @Test func detailPaneAtRisk() {
        var s = Fixture.state()
        let i = s.rows.firstIndex { $0.pid == 1300 }!
        s.move(to: i)
        press(&s, .char("i"))
        expectGolden("detail-nohup-100x30", s)
    }

    @Test func detailPaneOddBytesAndDenied() {
        var s = Fixture.state(width: 80, height: 24)
        s.move(to: s.rows.firstIndex { $0.pid == 1160 }!)
        press(&s, .char("i"))
        #expect(s.detailOpen)
        expectGolden("detail-oddbytes-80x24", s)
        s.openSessions.insert(2000)
        s.rebuildRows()
        s.move(to: s.rows.firstIndex { $0.pid == 2103 }!)
        expectGolden("detail-denied-80x24", s)
    }

    @Test func help() {
        var s = Fixture.state(width: 80, height: 24)
        press(&s, .char("?"))
        expectGolden("help-80x24", s)
    }

    @Test func searchPrompt() {
        var s = Fixture.state()
        press(&s, .char("/"))
        type(&s, "cc1")
        expectGolden("search-typing-100x30", s)
    }

    @Test func filterAtRisk() {
        var s = Fixture.state()
        press(&s, .char("f"), .char("f"))
        #expect(s.filter == .atRisk)
        expectGolden("filter-at-risk-100x30", s)
    }

    @Test func tableSortedByFate() {
        var s = Fixture.state()
        press(&s, .char("t"))
        while s.sortKey != .fate { press(&s, .char("s")) }
        expectGolden("table-fate-100x30", s)
    }

    @Test func tableNoColor80x24() {
        var s = Fixture.state(width: 80, height: 24, color: false)
        press(&s, .char("t"))
        expectGolden("table-pid-80x24-nocolor", s)
    }

    @Test func tooSmall() {
        let s = Fixture.state(width: 30, height: 8)
        #expect(s.tooSmall)
        expectGolden("too-small-30x8", s)
    }

    @Test func newAndGoneMarks() {
        var s = Fixture.state()
        var procs = Fixture.processes()
        procs[1100] = nil
        procs[1400] = Fixture.proc(1400, ppid: 1000, pgid: 1400, sid: 1000, tpgid: 1200, comm: Array("tail".utf8),
                                   argv: .known([Array("tail".utf8), Array("-f".utf8), Array("log".utf8)]), tty: "pts/0")
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 101))
        expectGolden("new-gone-100x30", s)
    }

    @Test func leaderExitEvent() {
        var s = Fixture.state()
        press(&s, .char("e"))
        #expect(s.event == .leaderExit)
        expectGolden("event-leader-exit-100x30", s)
    }
}

@Suite struct ActionGoldenScreens {
    @Test func signalMenuOnAProcess() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        press(&s, .char("k"))
        expectGolden("signal-menu-process-100x30", s)
    }

    @Test func signalMenuOnAGroupScrolled() {
        var s = Fixture.state()
        s.select(.group(1150))
        press(&s, .char("k"), .char("3"), .char("4"))  // RTMIN: the list scrolls past the rule
        expectGolden("signal-menu-group-100x30", s)
    }

    @Test func signalMenuOnOwnSessionNoColor() {
        var s = Fixture.state(width: 80, height: 24, color: false)
        s.select(.session(1000))
        press(&s, .char("k"))
        expectGolden("signal-menu-session-80x24-nocolor", s)
    }

    @Test func confirmation() {
        var s = Fixture.state()
        s.select(.group(1150))
        press(&s, .char("k"), .char("9"), .enter)
        expectGolden("signal-confirm-100x30", s)
    }

    @Test func detachDialogWithWarnings() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1300)))
        _ = update(&s, .relaunchPlanned(Fixture.plan()))
        expectGolden("detach-dialog-100x30", s)
        _ = update(&s, .relaunchPlanned(Fixture.plan(via: .tmux)))
        s.width = 80; s.height = 24
        expectGolden("detach-dialog-tmux-80x24", s)
    }

    @Test func statusAfterASignal() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        _ = update(&s, .signalSent(SignalReport(target: .process(Fixture.id(1100)), signal: 15, refusal: nil,
            members: [SignalMemberResult(identity: Fixture.id(1100), command: "sleep 1000", outcome: .sent)])))
        expectGolden("signal-sent-status-100x30", s)
    }
}
