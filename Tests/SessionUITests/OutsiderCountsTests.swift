import Testing
@testable import SessionCore
@testable import SessionUI

/// The TUI reads the snapshot's verdicts (HangupVerdicts): an outsider holding this terminal
/// is at risk in its row and counted in the header, as in `hangup`.
@Suite struct OutsiderCountsTests {
    @Test func outsiderIsCountedAndMarked() {
        var procs = Fixture.processes()
        // `setsid sleep &` from alice's shell: session 4000, no terminal, fds 0-2 on pts/0.
        procs[4000] = Fixture.proc(4000, ppid: 1, pgid: 4000, sid: 4000, comm: Array("sleep".utf8), tty: nil,
                                   fds: .known((0...2).map { OpenFile(fd: $0, target: Array("/dev/pts/0".utf8), kind: .tty, device: Fixture.pts0) }))
        let snap = Fixture.snapshot(procs)
        let s = AppState(snapshot: snap, width: 100, height: 30, color: true, unicode: true, interval: 1.5, myUID: 1000)
        let core = HangupVerdicts(snap, events: [.hangup])
        #expect(s.verdict(4000) == core.verdict(4000, .hangup))
        #expect(s.verdict(4000)?.fate == .atRisk && s.verdict(4000)?.certain == true)
        #expect(s.verdict(4000) == HangupAnalysis.analyze(snap, session: 1000, event: .hangup)[4000])
        let counts = s.terminalCounts(1000)
        let members = core.terminal(1000, .hangup).filter { snap.processes[$0.key]?.sid == 1000 && $0.value.fate == .atRisk }.count
        #expect(counts.atRisk == members + 1)
        #expect(s.selfCounts?.atRisk == counts.atRisk)
    }
}
