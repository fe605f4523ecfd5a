import Testing
@testable import SessionCore
@testable import SessionUI

/// The detail pane's shell view (the leader's job table, read from its memory) and cgroup.
@Suite struct ShellViewGoldenTests {
    static func state() -> AppState {
        var procs = Fixture.processes()
        for pid: Int32 in [1000, 1100, 1150, 1160, 1200, 1300] {
            procs[pid]!.cgroup = .known(Array("/user.slice/user-1000.slice/session-4.scope".utf8))
        }
        var snap = Fixture.snapshot(procs)
        snap.shellMemory[1000] = ShellMemory(
            view: ShellView(shell: .bash, version: "5.2.15", shellPid: 1000, interactive: true, login: true,
                            jobControl: true, hupOnExit: false,
                            jobs: [ShellJob(number: 1, pgid: 1100, pids: [1100], state: .running),
                                   ShellJob(number: 2, pgid: 1150, pids: [1150, 1160], state: .stopped, noHup: true)]),
            trusted: true, reason: nil)
        snap.shellMemory[2000] = .unavailable("permission denied reading its executable and memory (no Yama: only its own user (if it is dumpable) or root may read it)")
        var s = AppState(snapshot: snap, width: 100, height: 30, color: true, unicode: true,
                         interval: 1.5, myUID: 1000, analyze: Fixture.analyze)
        s.now = 100
        return s
    }

    @Test func jobMemberShowsTheShellsView() {
        var s = Self.state()
        s.move(to: s.rows.firstIndex { $0.pid == 1160 }!)
        press(&s, .enter, .char("2"))  // the detail view, at "session & group"
        expectGolden("detail-shell-job-100x30", s)
    }

    @Test func leaderShowsItsJobTable() {
        var s = Self.state()
        s.move(to: s.rows.firstIndex { $0.pid == 1000 }!)
        press(&s, .enter, .char("2"))
        expectGolden("detail-shell-leader-100x30", s)
        // A disowned job (1300 is not in the table) says so.
        press(&s, .escape)
        s.move(to: s.rows.firstIndex { $0.pid == 1300 }!)
        press(&s, .enter)
        var screen = Screen(width: 100, height: 30)
        render(s, into: &screen)
        #expect(screen.text.contains("not in its job table: disowned"))
        // A shell whose memory could not be read: one line, the reason.
        press(&s, .escape)
        s.openSessions.insert(2000)
        s.rebuildRows()
        s.move(to: s.rows.firstIndex { $0.pid == 2000 }!)
        press(&s, .enter)
        render(s, into: &screen)
        #expect(screen.text.contains("shell's memory not used: permission denied reading its"))
    }
}
