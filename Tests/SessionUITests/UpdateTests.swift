import Testing
@testable import SessionCore
@testable import SessionUI

@Suite struct UpdateTests {
    @Test func startsOnItselfWithOwnSessionOpen() {
        let s = Fixture.state()
        #expect(s.selectedRow?.pid == 1200)
        #expect(s.openSessions == [1000])
        // Sessions 1, 500, 1000 (open: 5 groups + 6 processes), 2000, 3000.
        #expect(s.rows.count == 5 + 5 + 6)
    }

    @Test func navigationStaysInBounds() {
        var s = Fixture.state(width: 100, height: 12)
        press(&s, .home)
        #expect(s.selectedIndex == 0)
        press(&s, .up, .up)
        #expect(s.selectedIndex == 0)
        press(&s, .down, .char("j"))
        #expect(s.selectedIndex == 2)
        press(&s, .end)
        #expect(s.selectedIndex == s.rows.count - 1)
        press(&s, .pageDown)
        #expect(s.selectedIndex == s.rows.count - 1)
        // The selection is always on screen.
        #expect(s.selectedIndex >= s.scrollTop && s.selectedIndex < s.scrollTop + s.layout.listHeight)
        press(&s, .pageUp, .pageUp, .pageUp)
        #expect(s.selectedIndex == 0 && s.scrollTop == 0)
    }

    @Test func foldingSessionsAndGroups() {
        var s = Fixture.state()
        let before = s.rows.count
        s.move(to: s.rows.firstIndex { $0.key == .session(2000) }!)
        press(&s, .enter)
        #expect(s.rows.count == before + 2 + 5)  // 2 groups, 5 processes
        s.move(to: s.rows.firstIndex { $0.key == .group(2100) }!)
        press(&s, .enter)
        #expect(s.rows.count == before + 2 + 1)
        #expect(s.selectedRow?.key == .group(2100))
        press(&s, .right)
        #expect(s.rows.count == before + 7)
        press(&s, .left, .left)  // close the group, then go to its session
        #expect(s.selectedRow?.key == .session(2000))
        press(&s, .left)
        #expect(s.rows.count == before)
    }

    @Test func selectionFollowsIdentityAcrossRefresh() {
        var s = Fixture.state()
        s.openSessions.insert(2000)
        s.rebuildRows()
        s.move(to: s.rows.firstIndex { $0.pid == 2102 }!)
        let oldIndex = s.selectedIndex
        var procs = Fixture.processes()
        procs[1400] = Fixture.proc(1400, ppid: 1000, pgid: 1400, sid: 1000, tpgid: 1200, comm: Array("tail".utf8), tty: "pts/0")
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 101))
        #expect(s.selectedRow?.pid == 2102)
        #expect(s.selectedIndex == oldIndex + 2)  // a new group row and its process above
        #expect(s.isNew(ProcessIdentity(pid: 1400, startTime: 14000)))
        #expect(!s.isNew(ProcessIdentity(pid: 1300, startTime: 13000)))
        // Marks fade after a moment.
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 105))
        #expect(!s.isNew(ProcessIdentity(pid: 1400, startTime: 14000)))
    }

    @Test func vanishedSelectionMovesToNeighbourWithNote() {
        var s = Fixture.state()
        s.move(to: s.rows.firstIndex { $0.pid == 1160 }!)
        let idx = s.selectedIndex
        var procs = Fixture.processes()
        procs[1160] = nil
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 101))
        #expect(s.selectedIndex == idx - 1)
        #expect(s.selectedRow?.pid == 1150)  // its neighbour in the same job
        if case .gone = s.selectedRow?.key { Issue.record("selection landed on a gone row") }
        #expect(s.note?.contains("pid 1160") == true)
        #expect(s.note?.contains("exited") == true)
        // The vanished process is still shown, marked, for a moment.
        #expect(s.rows.contains { $0.key == .gone(ProcessIdentity(pid: 1160, startTime: 11600)) })
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 110))
        #expect(!s.rows.contains { if case .gone = $0.key { return true }; return false })
    }

    @Test func recycledPidIsANewProcess() {
        var s = Fixture.state()
        s.move(to: s.rows.firstIndex { $0.pid == 1100 }!)
        var procs = Fixture.processes()
        procs[1100]!.startTime = 99999
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 101))
        #expect(s.note?.contains("pid 1100") == true)
        #expect(s.isNew(ProcessIdentity(pid: 1100, startTime: 99999)))
    }

    @Test func searchAndNext() {
        var s = Fixture.state()
        press(&s, .char("/"))
        #expect(s.searching)
        type(&s, "cc1")
        #expect(s.selectedRow?.pid == 2101)  // incremental: shows the match alone, folds untouched
        #expect(!s.openSessions.contains(2000))
        #expect(s.rows.compactMap(\.pid).filter { s.snapshot.process($0)?.sid == 2000 } == [2101])
        press(&s, .enter)
        #expect(!s.searching && s.query == "cc1")
        press(&s, .char("n"))
        #expect(s.selectedRow?.pid == 2102)
        press(&s, .char("n"))
        #expect(s.selectedRow?.pid == 2101)
        #expect(s.note?.contains("wrapped") == true)
        press(&s, .char("N"))
        #expect(s.selectedRow?.pid == 2102)
        // By pid, user and tty too.
        press(&s, .char("/")); type(&s, "3001"); press(&s, .enter)
        #expect(s.selectedRow?.pid == 3001)
        press(&s, .char("/")); type(&s, "pts/1"); press(&s, .enter)
        #expect(s.selectedRow.flatMap(\.pid).map { $0 >= 2000 && $0 < 3000 } == true)
        press(&s, .char("/")); type(&s, "nomatch"); press(&s, .enter)
        #expect(s.note?.contains("no match") == true)
        press(&s, .char("/")); type(&s, "x"); press(&s, .escape)
        #expect(!s.searching && s.query.isEmpty)
        // Esc leaves the folds as they were before the search: bob's session closed again.
        #expect(s.openSessions == [1000])
        #expect(!s.rows.contains { $0.pid.map { (2000..<3000).contains($0) } == true })
    }

    @Test func filtersCycle() {
        var s = Fixture.state()
        press(&s, .char("f"))
        #expect(s.filter == .mySession)
        #expect(s.rows.allSatisfy { r in
            switch r.key {
            case .session(let sid): return sid == 1000
            case .process(let id): return s.snapshot.process(id.pid)?.sid == 1000
            default: return true
            }
        })
        press(&s, .char("f"))
        #expect(s.filter == .atRisk)
        s.openSessions.insert(2000); s.rebuildRows()
        let pids = Set(s.rows.compactMap(\.pid))
        #expect(pids == [1000, 1100, 1150, 1160, 1200, 1300, 2000])
        press(&s, .char("f"))
        #expect(s.filter == .myUser)
        #expect(s.rows.compactMap(\.pid).allSatisfy { s.snapshot.process($0)?.uid == 1000 })
        press(&s, .char("f"))
        #expect(s.filter == .withTerminal)
        #expect(s.rows.allSatisfy { r in
            switch r.key {
            case .session(let sid): return s.snapshot.session(sid)?.tty != nil
            case .process(let id): return s.snapshot.process(id.pid)?.tty != nil
            default: return true
            }
        })
        #expect(!s.rows.contains(.init(key: .session(1))) && s.rows.contains(.init(key: .session(2000))))
        press(&s, .char("f"))
        #expect(s.filter == .all)
    }

    @Test func eventCycleReanalyses() {
        var s = Fixture.state()
        #expect(s.fate(1100) == .dies)
        press(&s, .char("e"))
        #expect(s.event == .leaderExit)
        #expect(s.fate(1100) == .survives)
        press(&s, .char("e"))
        #expect(s.event == .logout)
        press(&s, .char("e"))
        #expect(s.event == .hangup)
        #expect(s.selfCounts?.dies == 5 && s.selfCounts?.atRisk == 1)
    }

    @Test func tableSorts() {
        var s = Fixture.state()
        press(&s, .char("t"))
        #expect(s.mode == .table)
        #expect(s.rows.compactMap(\.pid) == s.rows.compactMap(\.pid).sorted())
        #expect(s.selectedRow?.pid == 1200)  // selection kept when switching views
        press(&s, .char("s"), .char("s"), .char("s"))
        #expect(s.sortKey == .sid)
        let sids = s.rows.compactMap { $0.pid.flatMap { s.snapshot.process($0)?.sid } }
        #expect(sids == sids.sorted())
        press(&s, .char("s"))
        #expect(s.sortKey == .user)
        let users = s.rows.compactMap { $0.pid.flatMap { s.snapshot.process($0)?.user } }
        #expect(users == users.sorted())
        press(&s, .char("I"))
        let desc = s.rows.compactMap { $0.pid.flatMap { s.snapshot.process($0)?.user } }
        #expect(desc == users.sorted().reversed())
        press(&s, .char("I"), .char("s"), .char("s"), .char("s"))
        #expect(s.sortKey == .fate)
        let fates = s.rows.compactMap { $0.pid.map { s.fate($0) } }
        #expect(fates.first == .dies && fates.last == .unaffected)
        press(&s, .char("<"))
        #expect(s.sortKey == .command)
        press(&s, .char("t"))
        #expect(s.mode == .tree)
    }

    /// `+` / `-` / `*` fold as in htop (the interval moved to the setup screen and -d).
    @Test func plusMinusStarFold() {
        var s = Fixture.state()
        s.select(.session(2000))
        press(&s, .char("+"))
        #expect(s.openSessions.contains(2000))
        s.select(.process(Fixture.id(2101)))
        press(&s, .char("-"))  // on a process: its group folds, the group row is selected
        #expect(s.foldedGroups.contains(2100))
        #expect(s.selectedRow?.key == .group(2100))
        press(&s, .char("+"))
        #expect(!s.foldedGroups.contains(2100))
        #expect(s.interval == 1.5)
        press(&s, .char("*"))  // something closed: everything opens
        #expect(s.openSessions == Set(s.snapshot.sessions.map(\.sid)) && s.foldedGroups.isEmpty)
        #expect(s.rows.compactMap(\.pid).count == 14)
        press(&s, .char("*"))  // all open: all close
        #expect(s.openSessions.isEmpty)
        #expect(s.rows.allSatisfy { if case .session = $0.key { return true }; return false })
        s.select(.session(1000))
        press(&s, .char("-"))
        #expect(!s.openSessions.contains(1000))
    }

    @Test func resizeAndTooSmall() {
        var s = Fixture.state()
        _ = update(&s, .resize(width: 20, height: 5))
        #expect(s.tooSmall)
        #expect(update(&s, .key(.char("j"))).isEmpty)
        _ = update(&s, .resize(width: 100, height: 12))
        #expect(!s.tooSmall)
        #expect(s.selectedIndex < s.scrollTop + s.layout.listHeight)
        #expect(update(&s, .key(.char("q"))) == [.quit])
        #expect(update(&s, .key(.function(10))) == [.quit])
    }

    @Test func mouseClickAndWheel() {
        var s = Fixture.state()
        let l = s.layout
        _ = update(&s, .mouse(.click(x: 30, y: l.listTop + 1)))
        #expect(s.selectedIndex == 1)
        _ = update(&s, .mouse(.wheelDown))
        #expect(s.selectedIndex == 4)
        _ = update(&s, .mouse(.wheelUp))
        #expect(s.selectedIndex == 1)
        // A click on the fold marker of a closed session opens it.
        let before = s.rows.count
        _ = update(&s, .mouse(.click(x: 0, y: l.listTop + 1)))
        #expect(s.rows.count > before)
        // The F-bar is clickable: F1 opens help.
        _ = update(&s, .mouse(.click(x: 1, y: l.barY)))
        #expect(s.helpOpen)
    }

    @Test func helpClosesOnAnyKey() {
        var s = Fixture.state()
        press(&s, .char("?"))
        #expect(s.helpOpen)
        press(&s, .down)
        #expect(s.helpOpen && s.helpScroll == 1)
        press(&s, .char("x"))
        #expect(!s.helpOpen)
    }

    @Test func treeGlyphs() {
        let p = AppState.treePrefixes([0, 1, 2, 2, 1, 2], unicode: true)
        #expect(p == ["", "├─ ", "│  ├─ ", "│  └─ ", "└─ ", "   └─ "])
    }

    @Test func screenClipsWideAndOddText() {
        var sc = Screen(width: 6, height: 1)
        let end = sc.put("ab日本", x: 0, y: 0)
        #expect(end == 6)
        #expect(sc.line(0) == "ab日本")
        sc.clear()
        sc.put("abc日", x: 0, y: 0, maxWidth: 4)
        #expect(sc.text == "abc")  // the wide character does not fit: a blank, not half a glyph
        sc.clear()
        sc.put("a\u{1b}b", x: 0, y: 0)
        #expect(sc.text == "a?b")
        sc.put("zzzzzzzzzz", x: 4, y: 0)
        sc.put("q", x: -3, y: 5)
        #expect(sc.text == "a?b zz")
    }

    @Test func noVerdictsUntilTheFullScan() {
        var s = AppState(snapshot: Fixture.snapshot(), width: 100, height: 30, myUID: 1000,
                         analysisPending: true, analyze: Fixture.analyze)
        #expect(s.verdicts.isEmpty)
        var screen = Screen(width: 100, height: 30)
        render(s, into: &screen)
        #expect(screen.line(1).hasPrefix("reading argv, fds and signal masks"))
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 1))
        #expect(!s.analysisPending)
        #expect(s.fate(1300) == .atRisk)
    }

    /// Every key at many sizes, with refreshes in between: render never traps and the
    /// selection stays on a row and on screen.
    @Test func everyKeyAtEverySizeRendersSafely() {
        let keys: [Key] = [.down, .down, .enter, .char("i"), .pageDown, .end, .char("?"), .down, .char("x"),
                           .char("/"), .char("c"), .backspace, .char("z"), .enter, .char("n"), .char("N"),
                           .char("f"), .char("t"), .char("s"), .char("I"), .char("<"), .char("e"), .left,
                           .right, .home, .pageUp, .char(" "), .escape, .char("+"), .char("-"), .function(9),
                           .char("D"), .char("f"), .char("f"), .char("f"), .char("t"), .tab, .function(12)]
        let sizes = [(0, 0), (1, 1), (39, 9), (40, 10), (41, 11), (60, 14), (80, 24), (100, 30), (240, 70)]
        var procs = Fixture.processes()
        for (w, h) in sizes {
            var s = Fixture.state(width: w, height: h)
            var screen = Screen(width: w, height: h)
            for (n, k) in keys.enumerated() {
                _ = update(&s, .key(k))
                if n % 7 == 0 {
                    // Processes come and go under the user's feet.
                    if procs[2102] == nil { procs = Fixture.processes() } else { procs[2102] = nil; procs[1160] = nil }
                    _ = update(&s, .snapshot(Fixture.snapshot(procs), now: Double(100 + n)))
                }
                _ = update(&s, .mouse(.click(x: n % max(1, w), y: n % max(1, h))))
                render(s, into: &screen)
                #expect(screen.width == w && screen.height == h)
                if !s.rows.isEmpty && !s.tooSmall {
                    #expect(s.rows.indices.contains(s.selectedIndex))
                    #expect(s.selectedIndex >= s.scrollTop && s.selectedIndex < s.scrollTop + max(1, s.layout.listHeight))
                }
            }
        }
    }
}

@Suite struct RefreshSetTests {
    /// The header counts what dies if *this* terminal hangs up: every member of sessiontop's own
    /// session has its status (signal masks) re-read each tick, on screen or not.
    @Test func ownSessionIsReadEveryTick() {
        var procs = Fixture.processes()
        for i in Int32(0)..<40 {
            procs[4000 + i] = Fixture.proc(4000 + i, ppid: 1, pgid: 4000 + i, sid: 4000 + i,
                                           comm: Fixture.bytes("worker"), argv: .known([Fixture.bytes("worker")]))
        }
        var s = Fixture.state(width: 100, height: 12, procs: procs)
        // Scroll to the far end: sessiontop's session is off screen.
        press(&s, .end)
        let mine = s.snapshot.session(1000)!.groups.flatMap(\.members)
        let visible = Set(s.rows[s.scrollTop..<min(s.rows.count, s.scrollTop + s.layout.listHeight)].compactMap { row -> Int32? in
            if case .process(let id) = row.key { return id.pid }
            return nil
        })
        #expect(visible.isDisjoint(with: mine))
        // Start the round-robin past every pid of session 1000, so only the new rule can pick them.
        let all = s.snapshot.processes.keys.sorted()
        var cursor = all.firstIndex(of: 2000)!
        let picked = App.detailPids(s, cursor: &cursor)
        #expect(Set(mine).isSubset(of: picked))
        #expect(mine.count == 6)
    }

    /// Tagged and followed processes are read every scan wherever they are (the refresh reads
    /// settled off-screen processes every other scan only).
    @Test func taggedAndFollowedProcessesAreReadEveryScan() {
        var procs = Fixture.processes()
        for i: Int32 in 0..<60 {
            procs[4000 + i] = Fixture.proc(4000 + i, ppid: 1, pgid: 4000 + i, sid: 4000 + i,
                                           comm: Fixture.bytes("worker"), argv: .known([Fixture.bytes("worker")]))
        }
        var s = Fixture.state(width: 100, height: 12, procs: procs)
        s.tagged = [ProcessIdentity(pid: 4059, startTime: procs[4059]!.startTime)]
        s.following = ProcessIdentity(pid: 4058, startTime: procs[4058]!.startTime)
        let all = s.snapshot.processes.keys.sorted()
        var cursor = all.firstIndex(of: 1)!
        let picked = App.detailPids(s, cursor: &cursor)
        #expect(picked.contains(4059))
        #expect(picked.contains(4058))
        #expect(!picked.contains(4057))
    }
}
