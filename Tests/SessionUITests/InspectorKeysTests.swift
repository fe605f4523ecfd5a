import Testing
@testable import SessionCore
@testable import SessionUI

/// Issue 11's keys, through `update` only (no terminal): every new key has a test here.
@Suite struct InspectorKeysTests {
    static func screen(_ s: AppState) -> Screen {
        var screen = Screen(width: s.width, height: s.height)
        render(s, into: &screen)
        return screen
    }

    // MARK: Tagging

    @Test func spaceTagsAndMovesDownCTagsDescendantsUUntags() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        press(&s, .char(" "))
        #expect(s.tagged == [Fixture.id(1100)])
        #expect(s.selectedRow?.key == .group(1150))  // moved on, as htop does
        press(&s, .char(" "))  // not a process: nothing tagged, a hint
        #expect(s.tagged.count == 1 && s.note?.contains("select a process row") == true)
        // c: 1150 and its child 1160.
        s.select(.process(Fixture.id(1150)))
        press(&s, .char("c"))
        #expect(s.tagged == [Fixture.id(1100), Fixture.id(1150), Fixture.id(1160)])
        // Space on a tagged one untags it.
        s.select(.process(Fixture.id(1100)))
        press(&s, .char(" "))
        #expect(s.tagged == [Fixture.id(1150), Fixture.id(1160)])
        // Tagged rows are marked on screen.
        let text = Self.screen(s).text
        #expect(text.contains("● vim notes.txt"))
        press(&s, .char("U"))
        #expect(s.tagged.isEmpty && s.note == "untagged 2 processes")
        // c from bob's make tags the whole tree under it, across depths.
        s.openSessions.insert(2000); s.rebuildRows()
        s.select(.process(Fixture.id(2100)))
        press(&s, .char("c"))
        #expect(Set(s.tagged.map(\.pid)) == [2100, 2101, 2102, 2103])
    }

    @Test func tagsSurviveRefreshByIdentityAndDropWhenThePidIsRecycled() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        press(&s, .char(" "))
        s.select(.process(Fixture.id(1300)))
        press(&s, .char(" "))
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 101))
        #expect(s.tagged == [Fixture.id(1100), Fixture.id(1300)])
        var procs = Fixture.processes()
        procs[1100]!.startTime = 99999  // the pid now names another process
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 102))
        #expect(s.tagged == [Fixture.id(1300)])
    }

    @Test func kActsOnTheTaggedSetAndTheDialogListsThem() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        press(&s, .char(" "))
        s.select(.process(Fixture.id(1300)))
        press(&s, .char(" "))
        s.select(.session(2000))  // the selection does not matter once something is tagged
        press(&s, .char("k"))
        #expect(s.dialog == .signalMenuTagged(targets: [Fixture.id(1100), Fixture.id(1300)], index: 0, typed: ""))
        let menu = Self.screen(s).text
        #expect(menu.contains("Signal 2 tagged processes"))
        #expect(menu.contains("1100 sleep 1000 · 1300 python3 server.py --port"))
        // Even a harmless signal asks first when it goes to several processes.
        press(&s, .char("1"), .char("8"), .enter)
        #expect(s.dialog == .confirmSignalTagged(targets: [Fixture.id(1100), Fixture.id(1300)], signal: 18))
        #expect(Self.screen(s).text.contains("Send SIGCONT to 2 tagged processes?"))
        #expect(update(&s, .key(.char("y"))) == [.sendSignalEach([Fixture.id(1100), Fixture.id(1300)], signal: 18)])
        // The reports: sent ones lose their tags, the failed one keeps it.
        let ok = SignalReport(target: .process(Fixture.id(1100)), signal: 18, refusal: nil,
                              members: [SignalMemberResult(identity: Fixture.id(1100), command: "sleep 1000", outcome: .sent)])
        let bad = SignalReport(target: .process(Fixture.id(1300)), signal: 18, refusal: nil,
                               members: [SignalMemberResult(identity: Fixture.id(1300), command: "python3", outcome: .denied)])
        #expect(update(&s, .signalsSent([ok, bad])) == [.refreshNow])
        #expect(s.tagged == [Fixture.id(1300)])
        #expect(s.note?.hasPrefix("SIGCONT → 2 tagged processes: 1 sent — ") == true)
        // n cancels.
        press(&s, .char("k"), .enter)
        press(&s, .char("n"))
        #expect(s.dialog == nil && s.note?.contains("not sent") == true)
    }

    @Test func dActsOnTheTaggedSet() {
        var s = Fixture.state()
        s.select(.process(Fixture.id(1100)))
        press(&s, .char(" "))
        s.select(.process(Fixture.id(1300)))
        press(&s, .char(" "))
        #expect(update(&s, .key(.char("D"))).isEmpty)
        #expect(s.dialog == .detachTagged(targets: [Fixture.id(1100), Fixture.id(1300)], via: .daemonize))
        var text = Self.screen(s).text
        #expect(text.contains("Detach 2 tagged processes") && text.contains("1100 sleep 1000") && text.contains("1300 python3 server.py --port 8000"))
        press(&s, .char("v"))
        #expect(s.dialog == .detachTagged(targets: [Fixture.id(1100), Fixture.id(1300)], via: .tmux))
        text = Self.screen(s).text
        #expect(text.contains("via tmux"))
        #expect(text.contains("y detaches in place the job of each (2 process groups)") && text.contains("restarts"))
        #expect(update(&s, .key(.char("r"))) == [.relaunchEach([Fixture.id(1100), Fixture.id(1300)], via: .tmux)])
        #expect(update(&s, .relaunchedEach(started: 2, lines: ["pid 1100 → pid 4000", "pid 1300 → pid 4001"])) == [.refreshNow])
        #expect(s.note == "relaunched 2 of 2 tagged: pid 1100 → pid 4000" && s.tagged.isEmpty)
        // y (the default): each tagged process's job in place; a detached member's tag goes.
        s.select(.process(Fixture.id(1100)))
        press(&s, .char(" "))
        s.select(.process(Fixture.id(1300)))
        press(&s, .char(" "), .char("D"))
        #expect(update(&s, .key(.char("y"))) == [.detachInPlaceEach([Fixture.id(1100), Fixture.id(1300)])])
        var one = Fixture.detachPlan()
        let member = DetachMemberResult(identity: Fixture.id(1300), command: "python3", status: .detached, failure: nil,
                                        hupBefore: .default, hupAfter: .ignored, redirected: [], pgidBefore: 1300, pgidAfter: 1300,
                                        interruptedSyscall: -1, site: "vdso", signalsRedelivered: [], syscalls: 5, stoppedMicroseconds: 100)
        one.newGroup = false
        let outcome = DetachOutcome(plan: one, members: [member], failure: nil, newPgid: nil, done: true,
                                    engineMicroseconds: 1, totalMicroseconds: 2)
        #expect(update(&s, .detachedEach([outcome], refused: ["group 1100: refusing to detach 1100: it is already traced by pid 9 (strace) and a process has one tracer; nothing was changed"])) == [.refreshNow])
        #expect(s.note?.hasPrefix("detached in place 1 of 2 jobs — group 1100: refusing to detach 1100") == true, "\(s.note ?? "")")
        #expect(s.tagged == [Fixture.id(1100)], "the refused one stays tagged")
        // n cancels, nothing asked of the host.
        s.select(.process(Fixture.id(1100)))
        press(&s, .char(" "), .char("D"))
        #expect(update(&s, .key(.char("n"))).isEmpty && s.dialog == nil)
    }

    @Test func readonlyRefusesSignalAndDetachKeys() {
        var s = Fixture.state()
        s.readonlyReason = "read-only (--readonly): no signals, no detach"
        s.select(.process(Fixture.id(1100)))
        #expect(update(&s, .key(.char("k"))).isEmpty && s.dialog == nil)
        #expect(update(&s, .key(.char("D"))).isEmpty && s.dialog == nil)
        #expect(update(&s, .key(.function(9))).isEmpty && s.dialog == nil)
        #expect(s.note?.contains("read-only") == true)
    }

    // MARK: Horizontal scroll

    @Test func leftRightScrollLongCommandLines() {
        var long = Fixture.processes()
        let path = "/root/.pyenv/versions/3.11.9/bin/python3.11 -m some.module --with a --very long --command line that goes on"
        long[1300]!.argv = .known(path.split(separator: " ").map { Array($0.utf8) })
        var s = Fixture.state(width: 80, height: 24, procs: long)
        s.select(.process(Fixture.id(1300)))
        var text = Self.screen(s).text
        let row = { (t: String) in t.split(separator: "\n").first { $0.contains("1300 alice") }.map(String.init) ?? "" }
        #expect(row(text).hasSuffix("…"))  // cut, and says so
        #expect(row(text).contains("/root/.pyenv/versions/3.11.9"))
        press(&s, .right, .right)
        #expect(s.hscroll == 16)
        text = Self.screen(s).text
        #expect(!row(text).contains("/root/.pyenv"))
        #expect(row(text).contains("versions/3.11.9/bin/python3.11") || row(text).contains("3.11.9/bin/python3.11"))
        // Scrolled: the command column starts with an ellipsis, the header says so.
        #expect(text.contains("scrolled 16"))
        // ← scrolls back; at the left edge it goes to the parent row.
        press(&s, .left, .left)
        #expect(s.hscroll == 0 && s.selectedRow?.key == .process(Fixture.id(1300)))
        press(&s, .left)
        #expect(s.selectedRow?.key == .group(1300))
        // It stops at the end of the longest line.
        s.select(.process(Fixture.id(1300)))
        for _ in 0..<40 { press(&s, .right) }
        #expect(s.hscroll > 0 && s.hscroll < 160)
        #expect(s.note == "end of the longest command line")
        // In the table too.
        press(&s, .char("t"))
        #expect(s.hscroll == 0)
        press(&s, .right)
        #expect(s.hscroll == 8)
    }

    // MARK: Detail view

    @Test func detailViewScrollsAndJumpsToSections() {
        var procs = Fixture.processes()
        // 300 fds: 280 pipes, 12 files, 3 sockets, the terminal.
        var fds: [OpenFile] = (0...2).map { OpenFile(fd: $0, target: Array("/dev/pts/0".utf8), kind: .tty, device: Fixture.pts0) }
        for i in 3..<283 { fds.append(OpenFile(fd: Int32(i), target: Array("pipe:[\(9000 + i)]".utf8), kind: .pipe, info: .known(FdInfo(position: 0, flags: 0o2004001)))) }
        for i in 283..<295 { fds.append(OpenFile(fd: Int32(i), target: Array("/var/log/f\(i).log".utf8), kind: .regular, info: .known(FdInfo(position: 4096, flags: 0o102002)))) }
        for i in 295..<298 { fds.append(OpenFile(fd: Int32(i), target: Array("socket:[\(7000 + i)]".utf8), kind: .socket)) }
        procs[1100]!.fds = .known(fds)
        var s = Fixture.state(width: 80, height: 24, procs: procs)
        s.select(.process(Fixture.id(1100)))
        #expect(update(&s, .key(.enter)) == [.refreshNow])  // fdinfo is read for it next scan
        #expect(s.detailFull && s.detailScroll == 0)
        var text = Self.screen(s).text
        #expect(text.contains("━ identity"))
        press(&s, .char("4"))
        text = Self.screen(s).text
        #expect(text.contains("298 fds: 12 files, 3 terminals, 280 pipes, 3 sockets"))
        // Sections by number and Tab.
        press(&s, .char("7"))
        text = Self.screen(s).text
        #expect(text.contains("━ hangup"))
        #expect(text.contains("background job of an interactive bash: hangup_all_jobs sends SIGHUP"))
        press(&s, .home)
        #expect(s.detailScroll == 0)
        press(&s, .tab)
        let doc = s.detailDocument()
        #expect(s.detailScroll == doc.starts.first { $0.0 == .session }?.1)
        // o: every fd, grouped by kind, flags decoded, offset: the document grows past a page.
        press(&s, .char("o"))
        #expect(s.fdsExpanded)
        text = Self.screen(s).text
        #expect(text.contains("━ fds"))
        let big = s.detailDocument().lines.count
        #expect(big > 300)
        press(&s, .pageDown)
        let afterPage = s.detailScroll
        press(&s, .pageDown, .pageDown, .pageDown)
        #expect(s.detailScroll > afterPage)
        press(&s, .end)
        #expect(s.detailScroll == big - s.detailBodyHeight)
        text = Self.screen(s).text
        #expect(text.contains("━ hangup"))
        press(&s, .char("4"), .pageDown)
        text = Self.screen(s).text
        #expect(text.contains("pipe:[") && text.contains("O_WRONLY|O_NONBLOCK|O_CLOEXEC pos 0"))
        press(&s, .pageUp, .pageUp, .pageUp)
        // E asks for the environment; the answer shows up in its section.
        let effects = update(&s, .key(.char("E")))
        #expect(effects == [.readEnvironment(Fixture.id(1100))])
        _ = update(&s, .environment(Fixture.id(1100), .known([Array("HOME=/home/alice".utf8), Array("SECRET=\u{1b}x".utf8)])))
        text = Self.screen(s).text
        #expect(text.contains("2 variables") && text.contains("HOME=/home/alice") && text.contains("SECRET=\\x1bx"))
        // Esc goes back to the list, where it was.
        press(&s, .escape)
        #expect(!s.detailFull && s.selectedRow?.key == .process(Fixture.id(1100)))
    }

    /// With the side pane open (i), PgUp PgDn Home End scroll the pane, not the list; ↑ ↓ move
    /// in the list, and another row's detail starts at its top.
    @Test func pagingKeysScrollTheSidePane() {
        var s = Fixture.state(width: 80, height: 24)
        s.select(.process(Fixture.id(1100)))
        press(&s, .char("i"))
        #expect(s.detailOpen && !s.detailFull)
        let row = s.selectedIndex
        let lines = s.detailDocument().lines.count
        let body = s.layout.paneHeight - 1
        #expect(lines > body, "the pane's document is longer than the pane (\(lines) lines, \(body) shown)")
        press(&s, .pageDown)
        #expect(s.selectedIndex == row && s.detailScroll > 0)
        let before = Self.screen(s).text
        press(&s, .end)
        #expect(s.detailScroll == lines - body && s.selectedIndex == row)
        #expect(Self.screen(s).text != before)
        press(&s, .pageUp)
        #expect(s.detailScroll == max(0, lines - body - (body - 1)))
        press(&s, .home)
        #expect(s.detailScroll == 0 && s.selectedIndex == row)
        press(&s, .end, .down)
        #expect(s.selectedIndex != row && s.detailScroll == 0)
        // Closed pane: PgDn moves the list again.
        press(&s, .char("i"))
        let at = s.selectedIndex
        press(&s, .pageDown)
        #expect(s.selectedIndex != at)
    }

    @Test func reasonsWrapAtWordBoundaries() {
        var s = Fixture.state(width: 80, height: 24)
        s.select(.process(Fixture.id(1100)))
        press(&s, .enter, .char("7"))
        let lines = Self.screen(s).text.split(separator: "\n").map(String.init)
        // The long reason goes on a second line, cut between words, hanging under its text.
        let i = lines.firstIndex { $0.contains("• background job of an interactive bash:") }
        #expect(i != nil)
        if let i {
            #expect(lines[i].hasSuffix("SIGHUP") || lines[i + 1].hasPrefix("     "))
            for w in ["hangup_all_jobs", "SIGHUP"] { #expect(lines[i].contains(w) || lines[i + 1].contains(w)) }
        }
    }

    // MARK: Refresh, pause, follow

    @Test func refreshPauseAndFollow() {
        var s = Fixture.state()
        #expect(update(&s, .key(.char("r"))) == [.refreshNow])
        #expect(update(&s, .key(.char("\u{0C}"))) == [.refreshNow])  // Ctrl-L
        press(&s, .char("Z"))
        #expect(s.paused)
        #expect(Self.screen(s).text.contains("PAUSED"))
        var procs = Fixture.processes()
        procs[1100] = nil
        s.refreshRequested = false
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 101))
        #expect(s.snapshot.process(1100) != nil)  // held still
        _ = update(&s, .key(.char("r")))
        _ = update(&s, .snapshot(Fixture.snapshot(procs), now: 102))
        #expect(s.snapshot.process(1100) == nil)  // r takes one scan
        #expect(update(&s, .key(.char("Z"))) == [.refreshNow])
        #expect(!s.paused)

        // F: 1300 leaves for a session of its own (setsid): the selection goes with it, and the
        // new session is opened.
        s.select(.process(Fixture.id(1300)))
        press(&s, .char("F"))
        #expect(s.following == Fixture.id(1300))
        var moved = Fixture.processes()
        moved[1300]!.sid = 1300; moved[1300]!.tty = nil; moved[1300]!.ttyDevice = 0
        _ = update(&s, .snapshot(Fixture.snapshot(moved), now: 103))
        #expect(s.selectedRow?.key == .process(Fixture.id(1300)))
        #expect(s.openSessions.contains(1300))
        moved[1300] = nil
        _ = update(&s, .snapshot(Fixture.snapshot(moved), now: 104))
        #expect(s.following == nil)
        #expect(s.note?.contains("not following") == true)
    }

    @Test func cpuPercentFromTickDeltas() {
        var s = Fixture.state()
        var procs = Fixture.processes()
        procs[1300]!.cpuTicks += 150  // 1.5 s of CPU in 2 s: 75 %
        var snap = Fixture.snapshot(procs)
        snap.uptime = 180_002
        _ = update(&s, .snapshot(snap, now: 102))
        #expect(s.cpuPercent[Fixture.id(1300)] == 75)
        #expect(s.cpuPercent[Fixture.id(1100)] == 0)
        press(&s, .char("P"))
        #expect(s.mode == .table && s.sortKey == .cpu)
        #expect(s.rows.first?.pid == 1300)
        #expect(Self.screen(s).text.contains(" 75.0 "))
    }

    /// A settled process the scan skipped (ScanOptions.idleEvery) keeps its sample time: its
    /// CPU % stays; read again, its ticks are divided by the time between its own two reads.
    @Test func cpuPercentOverEachProcesssOwnSampleInterval() {
        var s = Fixture.state()
        var procs = Fixture.processes()
        for pid in procs.keys { procs[pid]!.sampledAt = 180_000 }
        var snap = Fixture.snapshot(procs)
        snap.uptime = 180_000
        _ = update(&s, .snapshot(snap, now: 100))
        // Scan 2, two seconds on: 1300 read (1 s of CPU: 50 %), 1100 skipped (same sample).
        procs[1300]!.cpuTicks += 100
        procs[1300]!.sampledAt = 180_002
        snap = Fixture.snapshot(procs)
        snap.uptime = 180_002
        _ = update(&s, .snapshot(snap, now: 102))
        #expect(s.cpuPercent[Fixture.id(1300)] == 50)
        #expect(s.cpuPercent[Fixture.id(1100)] == 0)
        // Scan 3: 1300 skipped (keeps 50 %), 1100 read after 4 s with 2 s of CPU: 50 %, not
        // the 100 % that dividing by this scan's 2 s would give.
        procs[1100]!.cpuTicks += 200
        procs[1100]!.sampledAt = 180_004
        snap = Fixture.snapshot(procs)
        snap.uptime = 180_004
        _ = update(&s, .snapshot(snap, now: 104))
        #expect(s.cpuPercent[Fixture.id(1300)] == 50)
        #expect(s.cpuPercent[Fixture.id(1100)] == 50)
    }

    @Test func sortByTheColumnsThisToolIsAbout() {
        var s = Fixture.state()
        for key in [SortKey.ppid, .pgid, .sid, .rss, .start, .threads] {
            s.sortKey = key
            s.mode = .table
            s.rebuildRows()
            let ps = s.rows.compactMap { $0.pid.flatMap { s.snapshot.process($0) } }
            let ok: Bool
            switch key {
            case .ppid: ok = ps.map(\.ppid) == ps.map(\.ppid).sorted()
            case .pgid: ok = ps.map(\.pgid) == ps.map(\.pgid).sorted()
            case .sid: ok = ps.map(\.sid) == ps.map(\.sid).sorted()
            case .rss: ok = ps.map(\.rssBytes) == ps.map(\.rssBytes).sorted(by: >)
            case .start: ok = ps.map(\.startTime) == ps.map(\.startTime).sorted()
            case .threads: ok = ps.first?.pid == 1300  // 3 threads
            default: ok = false
            }
            #expect(ok, "\(key)")
        }
        press(&s, .char("M"))
        #expect(s.sortKey == .rss)
        press(&s, .char("T"))
        #expect(s.sortKey == .start)
    }

    // MARK: Search and filters

    @Test func searchNeverChangesFoldsAndEscRestores() {
        var s = Fixture.state()
        s.select(.group(1150))
        press(&s, .enter)  // fold vim's group
        #expect(s.foldedGroups == [1150])
        let before = (s.openSessions, s.foldedGroups)
        press(&s, .char("/"))
        type(&s, "ev")  // 1160, inside the folded group
        #expect(s.selectedRow?.key == .process(Fixture.id(1160)))
        #expect(s.openSessions == before.0 && s.foldedGroups == before.1)
        // Only the match is revealed, not its group mate.
        #expect(!s.rows.contains(.init(key: .process(Fixture.id(1150)))))
        press(&s, .escape)
        #expect(s.revealed == nil && !s.rows.contains { $0.pid == 1160 })
        #expect(s.selectedRow?.key == .group(1150))
        #expect(s.openSessions == before.0 && s.foldedGroups == before.1)
    }

    @Test func backslashFiltersByText() {
        var s = Fixture.state()
        press(&s, .char("\\"))
        #expect(s.filtering)
        type(&s, "cc1")
        #expect(Set(s.rows.compactMap(\.pid)) == [2101, 2102])
        #expect(Self.screen(s).text.contains("Filter: cc1_"))
        press(&s, .enter)
        #expect(!s.filtering && s.textFilter == "cc1")
        #expect(Self.screen(s).text.contains("filter all + \"cc1\""))
        // Esc at the prompt puts the previous text back.
        press(&s, .char("\\"))
        type(&s, "zzz")
        #expect(s.rows.isEmpty)
        press(&s, .escape)
        #expect(s.textFilter == "cc1" && s.rows.compactMap(\.pid).count == 2)
        // Esc in the list clears it.
        press(&s, .escape)
        #expect(s.textFilter.isEmpty && s.rows.count > 10)
    }

    @Test func commandLineScopes() {
        var s = Fixture.state()
        s.onlyPids = [1100, 2101]
        s.openSessions = [1000, 2000]
        s.rebuildRows()
        #expect(Set(s.rows.compactMap(\.pid)) == [1100, 2101])
        s.onlyPids = nil
        s.onlyUID = 1001
        s.rebuildRows()
        #expect(Set(s.rows.compactMap(\.pid)) == [2000, 2100, 2101, 2102, 2103])
        s.onlyUID = nil
        s.onlySid = 1000
        s.rebuildRows()
        #expect(s.rows.compactMap(\.pid).allSatisfy { (1000..<2000).contains($0) })
        #expect(Self.screen(s).text.contains("+ sid 1000"))
    }

    // MARK: Setup

    @Test func setupTogglesColumnsAndSavesOnlyWhenAsked() {
        var s = Fixture.state()
        #expect(update(&s, .key(.function(2))).isEmpty)
        #expect(s.setupOpen)
        // Rows: tree columns first; pid cannot go; user (row 4) can.
        press(&s, .char(" "))
        #expect(s.treeColumns.contains(.pid))
        press(&s, .down, .down, .down, .down, .char(" "))
        #expect(!s.treeColumns.contains(.user))
        press(&s, .char(" "))
        #expect(s.treeColumns == Column.treeDefault)
        // Add ppid to the tree (row 1), take it out again later.
        press(&s, .home, .down, .char(" "))
        #expect(s.treeColumns == [.pid, .ppid, .user, .state, .cpu, .rss, .age])
        press(&s, .end)  // colours
        press(&s, .char(" "))
        #expect(!s.color)
        press(&s, .up, .right, .right)  // interval
        #expect(s.interval == 2.5)
        let effects = update(&s, .key(.char("s")))
        guard case .saveConfig(let text)? = effects.first else { Issue.record("no save effect"); return }
        #expect(text.contains("tree_columns = pid,ppid,user,state,cpu,rss,age\n"))
        #expect(text.contains("interval = 2.5\n") && text.contains("color = no\n"))
        // What was saved reads back as the same setup.
        let back = SetupConfig.parse(text)
        #expect(back.problems.isEmpty && back.config == s.setupConfig)
        _ = update(&s, .configSaved("setup saved to /home/alice/.config/sessiontop/config"))
        #expect(s.note == "setup saved to /home/alice/.config/sessiontop/config")
        press(&s, .escape)
        #expect(!s.setupOpen)
    }

    @Test func configParserReportsAndNeverTraps() {
        let (c, problems) = SetupConfig.parse("interval = 99\ncolor = maybe\ntree_columns = user\nbogus = 1\nnot a line\n\n# comment\ntable_columns = pid, sid\n")
        #expect(problems.count == 5)
        #expect(c.tableColumns == [.pid, .sid] && c.treeColumns == Column.treeDefault && c.interval == 1.5)
        for junk in ["=", "==", "\u{0}=\u{ff}", String(repeating: "x=", count: 1000), "interval = nan", "interval = -inf"] {
            _ = SetupConfig.parse(junk)
        }
    }

    // MARK: Layout

    @Test func columnsDropByPriorityAndTheFBarKeepsF10() {
        #expect(Column.fitting(Column.tableDefault, width: 200, minCommand: 24) == Column.tableDefault)
        let at80 = Column.fitting(Column.tableDefault, width: 80, minCommand: 24)
        #expect(at80.contains(.pid) && at80.contains(.pgid) && at80.contains(.sid) && !at80.contains(.threads))
        #expect(Column.usedWidth(at80) <= 56)
        for w in [40, 60, 79, 80, 100, 200] {
            let bar = FunctionBar.layout(width: w)
            #expect(bar.count == 10 && bar.last?.key == "F10")
            if let last = bar.last { #expect(last.x + last.key.count + last.label.count <= w, "F10 fits in \(w)") }
        }
        #expect(FunctionBar.layout(width: 80).map(\.label) == ["Help", "Setup", "Search", "Filter", "Tree", "Sort", "Event", "Detach", "Signal", "Quit"])
        #expect(FunctionBar.layout(width: 100).first?.width == 9)  // htop's padding when there is room
    }

    @Test func mouseOnTheShortenedBar() {
        var s = Fixture.state(width: 80, height: 24)
        let f2 = FunctionBar.layout(width: 80)[1]
        _ = update(&s, .mouse(.click(x: f2.x + 1, y: 23)))
        #expect(s.setupOpen)
    }
}

/// Issue 11 §8: the scanning thread's hangup analysis is swapped in by the UI thread: the same
/// verdicts as computing them there, used for one snapshot only, ignored for another event.
@Suite struct PrecomputedVerdictTests {
    @Test func theWorkersVerdictsAreUsedOnceForTheirEvent() {
        var s = AppState(snapshot: Fixture.snapshot(), width: 100, height: 30, color: true, unicode: true,
                         interval: 1.5, myUID: 1000)
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 101))
        let computedHere = s.verdicts
        #expect(!computedHere.isEmpty)
        // The worker's result for the same snapshot: identical verdicts.
        s.precomputed = HangupVerdicts(Fixture.snapshot(), events: [s.event])
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 102))
        #expect(s.verdicts == computedHere && s.precomputed == nil)
        // A marker result (analysis of an empty snapshot) shows it was really used, once.
        let empty = Fixture.snapshot([:])
        s.precomputed = HangupVerdicts(empty, events: [s.event])
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 103))
        #expect(s.verdicts.isEmpty)
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 104))
        #expect(s.verdicts == computedHere)
        // For another event than the one shown it is not used.
        s.precomputed = HangupVerdicts(empty, events: [.logout])
        _ = update(&s, .snapshot(Fixture.snapshot(), now: 105))
        #expect(s.verdicts == computedHere)
    }
}
