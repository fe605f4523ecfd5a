import SessionCore

/// The F-bar: key label, action name (F2 Setup, F8 and F9 as htop has them: F9 kills, here it
/// signals). FunctionBar.layout shortens it to the screen's width.
public let functionBar: [(key: String, label: String)] = FunctionBar.labels.enumerated().map { ("F\($0.offset + 1)", $0.element.full) }

/// Applies one event to the state and returns what the host must do. No I/O.
public func update(_ state: inout AppState, _ event: AppEvent) -> [Effect] {
    switch event {
    case .resize(let w, let h):
        state.width = w
        state.height = h
        state.clampScroll()
        return []
    case .snapshot(let snap, let now):
        // Paused (Z): the screen holds still; r / Ctrl-L still take one scan.
        if state.paused && !state.refreshRequested { state.precomputed = nil; return [] }
        state.refreshRequested = false
        state.apply(snap, now: now)
        state.followPinnedSession()
        state.labAfterSnapshot()
        return state.trackHangups()
    case .environment(let id, let env):
        state.environment = (id, env)
        return []
    case .configSaved(let line):
        state.holdNote(line)
        return []
    case .mouse(let m):
        return state.handleMouse(m)
    case .key(let k):
        return state.handleKey(k)
    case .signalSent, .relaunchPlanned, .relaunchStarted, .originalEnded, .actionFailed, .signalsSent, .relaunchedEach, .detachPlanned, .detached, .detachedEach:
        return state.actionResult(event)
    case .lab(let e):
        return state.labEvent(e)
    }
}

extension AppState {
    mutating func setNote(_ text: String) {
        note = text
        noteAt = now
    }

    // MARK: Refresh

    mutating func apply(_ new: Snapshot, now t: Double) {
        let old = snapshot
        let oldKey = selection
        let oldIndex = selectedIndex
        let before = now
        now = t
        for (pid, p) in new.processes where !p.isKernelThread {
            if old.processes[pid]?.startTime != p.startTime { firstSeen[p.identity] = t }
        }
        for (pid, p) in old.processes where !p.isKernelThread {
            if new.processes[pid]?.startTime != p.startTime {
                gone.append(GoneProcess(identity: p.identity, sid: p.sid, pgid: p.pgid, user: p.user,
                                        command: Self.command(p), at: t))
            }
        }
        firstSeen = firstSeen.filter { t - $0.value < markSeconds }
        // CPU % over the interval: (utime+stime) delta / clock ticks / elapsed (proc(5) stat 14, 15).
        var dt = new.uptime - old.uptime
        if !dt.isFinite || dt <= 0 { dt = t - before }
        // Each process over the time between its own two reads (`sampledAt`): a settled one
        // the scan skipped (ScanOptions.idleEvery) keeps the percentage it had.
        var cpu: [ProcessIdentity: Double] = [:]
        if dt > 0 {
            cpu.reserveCapacity(new.processes.count)
            let hz = Double(max(1, new.clockTicks))
            for (pid, p) in new.processes where !p.isKernelThread {
                guard let o = old.processes[pid], o.startTime == p.startTime, p.cpuTicks >= o.cpuTicks,
                      p.cpuTicks != .max else { continue }
                let own = p.sampledAt - o.sampledAt
                if own == 0 {
                    // Skipped because it was idle over its last reads: 0 unless it had more.
                    cpu[p.identity] = cpuPercent[p.identity] ?? 0
                    continue
                }
                cpu[p.identity] = Double(p.cpuTicks - o.cpuTicks) / hz / (own.isFinite && own > 0 ? own : dt) * 100
            }
        }
        cpuPercent = cpu
        gone = gone.filter { t - $0.at < markSeconds }
        for s in new.sessions where !knownSessions.contains(s.sid) {
            knownSessions.insert(s.sid)
            if s.sid == new.selfSid { openSessions.insert(s.sid) }
        }
        knownSessions.formIntersection(new.sessions.map(\.sid))
        if let n = note, t - noteAt > 5, !n.isEmpty { note = nil }
        snapshot = new
        scans += 1
        analysisPending = false
        recomputeVerdicts()
        pruneTags()
        var lostFollow: Int32?
        if let f = following, snapshot.process(f.pid)?.startTime != f.startTime {
            following = nil
            lostFollow = f.pid
        }
        if let r = revealed, snapshot.process(r.pid)?.startTime != r.startTime { revealed = nil }
        rebuildRows()
        // Following: wherever the process went (another group, a new session), it stays shown.
        if let f = following, let p = snapshot.process(f.pid), !rows.contains(where: { $0.key == .process(f) }), mode == .tree {
            openSessions.insert(p.sid)
            foldedGroups.remove(p.pgid)
            rebuildRows()
        }
        reselect(following.map { .process($0) } ?? oldKey, oldIndex: oldIndex, vanishedNote: true)
        if let pid = lostFollow { setNote("pid \(pid) exited: not following any more; selection moved to its neighbour") }
        selectPending()
    }

    /// Puts the selection back on `key` after the rows changed; a vanished process hands it to
    /// the row now at its place, with a note.
    mutating func reselect(_ key: RowKey?, oldIndex: Int, vanishedNote: Bool = false) {
        defer {
            clampScroll()
            selection = selectedRow?.key
        }
        guard !rows.isEmpty else { selectedIndex = 0; return }
        if let key, let i = rows.firstIndex(where: { $0.key == key }) {
            selectedIndex = i
            return
        }
        var i = min(max(0, oldIndex), rows.count - 1)
        // Prefer a live row: the one above (its sibling or parent), else below.
        if case .gone = rows[i].key {
            if let j = rows[..<i].lastIndex(where: { if case .gone = $0.key { return false }; return true }) {
                i = j
            } else if let j = rows[i...].firstIndex(where: { if case .gone = $0.key { return false }; return true }) {
                i = j
            }
        }
        selectedIndex = i
        if vanishedNote, now >= noteHeldUntil, case .process(let id)? = key, snapshot.process(id.pid)?.startTime != id.startTime {
            let what = gone.first { $0.identity == id }.map { " (\(DisplayWidth.clip($0.command, to: 30)))" } ?? ""
            setNote("pid \(id.pid)\(what) exited; selection moved to its neighbour")
        }
    }

    /// Rebuilds rows and keeps the selection where it was.
    mutating func refreshRows() {
        let key = selection, idx = selectedIndex
        rebuildRows()
        reselect(key, oldIndex: idx)
    }

    // MARK: Keys

    mutating func handleKey(_ k: Key) -> [Effect] {
        if tooSmall {
            if k == .char("q") || k == .function(10) { return [.quit] }
            return []
        }
        if dialog != nil { return dialogKey(k) }
        if !searching, let e = labKey(k) { return e }
        if searching { return searchKey(k) }
        if filtering { return filterKey(k) }
        if helpOpen {
            switch k {
            case .up: helpScroll = max(0, helpScroll - 1)
            case .down, .char("j"): helpScroll += 1
            case .pageUp: helpScroll = max(0, helpScroll - max(1, height - 4))
            case .pageDown, .char(" "): helpScroll += max(1, height - 4)
            case .home: helpScroll = 0
            default: helpOpen = false
            }
            return []
        }
        if detailFull { return detailKey(k) }
        if setupOpen { return setupKey(k) }
        // The side pane (i) is open: the paging keys scroll it; ↑ ↓ still move in the list.
        if detailOpen, layout.paneHeight > 1 {
            let body = layout.paneHeight - 1
            let most = max(0, detailDocument().lines.count - body)
            switch k {
            case .pageUp: detailScroll = max(0, min(detailScroll, most) - max(1, body - 1)); return []
            case .pageDown: detailScroll = min(most, detailScroll + max(1, body - 1)); return []
            case .home: detailScroll = 0; return []
            case .end: detailScroll = most; return []
            default: break
            }
        }
        switch k {
        case .char("q"), .function(10): return [.quit]
        case .up: move(by: -1)
        case .down, .char("j"): move(by: 1)
        case .pageUp: move(by: -max(1, layout.listHeight - 1))
        case .pageDown: move(by: max(1, layout.listHeight - 1))
        case .home, .char("g"): move(to: 0)
        case .end, .char("G"): move(to: rows.count - 1)
        case .enter: return enterKey()
        case .char(" "): toggleTag()
        case .char("c"): tagWithDescendants()
        case .char("U"): untagAll()
        case .left: leftKey()
        case .right: rightKey()
        case .char("+"), .char("="): expandSelected()
        case .char("-"): collapseSelected()
        case .char("*"): toggleAll()
        case .char("i"): detailOpen.toggle(); clampScroll()
        case .function(2), .char("S"): openSetup()
        case .char("?"), .char("h"), .function(1): helpOpen = true; helpScroll = 0
        case .char("/"), .function(3): searching = true; query = ""
        case .char("\\"): filtering = true; textFilterDraft = textFilter
        case .char("n"): jumpToMatch(forward: true, includeCurrent: false)
        case .char("N"): jumpToMatch(forward: false, includeCurrent: false)
        case .char("f"), .function(4): cycleFilter()
        case .char("t"), .function(5):
            mode = mode == .tree ? .table : .tree
            hscroll = 0
            refreshRows()
            setNote(mode == .tree ? "tree: sessions → groups → processes" : "table sorted by \(sortKey.rawValue)")
        case .char("s"), .char(">"), .function(6): cycleSort(by: 1)
        case .char("<"): cycleSort(by: -1)
        case .char("I"):
            sortDescending.toggle()
            if mode == .table { refreshRows() }
        case .char("P"): sortBy(.cpu)
        case .char("M"): sortBy(.rss)
        case .char("T"): sortBy(.start)
        case .char("e"), .function(7): cycleEvent()
        case .char("r"), .char("\u{0C}"):
            refreshRequested = true
            setNote(paused ? "refreshed once (still paused: Z resumes)" : "refreshed")
            return [.refreshNow]
        case .char("Z"):
            paused.toggle()
            setNote(paused ? "paused: the screen holds still (Z resumes, r refreshes once)" : "resumed")
            if !paused { return [.refreshNow] }
        case .char("F"), .char("p"): toggleFollow()
        case .escape:
            if detailOpen { detailOpen = false; clampScroll() }
            else if revealed != nil || !query.isEmpty { endSearch() }
            else if !textFilter.isEmpty { textFilter = ""; refreshRows(); setNote("text filter cleared") }
        case .char("k"), .function(9):
            if let why = readonlyReason { setNote(why); return [] }
            openSignalMenu()
        case .char("D"), .function(8):
            if let why = readonlyReason { setNote(why); return [] }
            return detach()
        default: break
        }
        return []
    }

    mutating func searchKey(_ k: Key) -> [Effect] {
        switch k {
        case .enter:
            searching = false
            if !query.isEmpty { jumpToMatch(forward: true, includeCurrent: true) }
        case .escape:
            searching = false
            endSearch()
        case .backspace:
            if !query.isEmpty { query.removeLast() }
        case .char(let c):
            query.append(c)
            _ = jumpToMatch(forward: true, includeCurrent: true, quiet: true)
        default: break
        }
        return []
    }

    /// The `\\` prompt: the list narrows as you type; Enter keeps it, Esc puts back the old one.
    mutating func filterKey(_ k: Key) -> [Effect] {
        switch k {
        case .enter:
            filtering = false
            setNote(textFilter.isEmpty ? "text filter off" : "text filter \"\(textFilter)\" (\\ then Enter on nothing clears it)")
            return []
        case .escape:
            filtering = false
            textFilter = textFilterDraft
        case .backspace:
            if !textFilter.isEmpty { textFilter.removeLast() }
        case .char(let c):
            textFilter.append(c)
        default: return []
        }
        refreshRows()
        return []
    }

    mutating func move(by delta: Int) { move(to: selectedIndex + delta) }

    mutating func move(to index: Int) {
        guard !rows.isEmpty else { return }
        selectedIndex = min(max(0, index), rows.count - 1)
        // Another row: its detail starts at the top.
        if selection != rows[selectedIndex].key, !detailFull { detailScroll = 0 }
        selection = rows[selectedIndex].key
        clampScroll()
    }

    /// Enter/Space on a session or group opens or closes it; on a process, the detail pane.
    mutating func toggleFold(open: Bool?) {
        guard let row = selectedRow else { return }
        switch row.key {
        case .session(let sid):
            let isOpen = openSessions.contains(sid)
            if open ?? !isOpen { openSessions.insert(sid) } else { openSessions.remove(sid) }
        case .group(let pgid):
            let isOpen = !foldedGroups.contains(pgid)
            if open ?? !isOpen { foldedGroups.remove(pgid) } else { foldedGroups.insert(pgid) }
        case .process:
            return
        case .gone: return
        }
        refreshRows()
    }

    /// Left closes an open session/group, or goes to the row's parent; on a process row (and
    /// in the table) it scrolls the command back first.
    mutating func leftKey() {
        if hscroll > 0, mode == .table || selectedRow?.pid != nil {
            hscroll = max(0, hscroll - Self.hscrollStep)
            return
        }
        guard mode == .tree, let row = selectedRow else { return }
        switch row.key {
        case .session(let sid) where openSessions.contains(sid): toggleFold(open: false)
        case .group(let pgid) where !foldedGroups.contains(pgid): toggleFold(open: false)
        case .group(let pgid):
            if let s = snapshot.group(pgid)?.sid, let i = rows.firstIndex(of: Row(key: .session(s))) { move(to: i) }
        case .process(let id):
            if let g = snapshot.process(id.pid)?.pgid, let i = rows.firstIndex(of: Row(key: .group(g))) { move(to: i) }
        default: break
        }
    }

    static let hscrollStep = 8

    /// Right opens a closed session/group; on a process row (and in the table) it scrolls the
    /// command line left, up to the longest command on screen.
    mutating func rightKey() {
        if mode == .tree, let row = selectedRow, row.pid == nil {
            toggleFold(open: true)
            return
        }
        var longest = 0
        let end = min(rows.count, scrollTop + max(1, layout.listHeight))
        for r in rows[min(scrollTop, end)..<end] {
            guard case .process(let id) = r.key, let p = snapshot.process(id.pid) else { continue }
            longest = max(longest, DisplayWidth.of(r.prefix) + DisplayWidth.of(Self.command(p)) + (mode == .tree ? 4 : 0))
        }
        let room = max(1, width - Column.usedWidth(shownColumns))
        if hscroll + room < longest + 1 { hscroll += Self.hscrollStep } else { setNote("end of the longest command line") }
    }

    /// Enter: on a session or group, fold / unfold; on a process, the detail view.
    mutating func enterKey() -> [Effect] {
        guard let row = selectedRow else { return [] }
        if case .process = row.key {
            guard selectedProcess != nil else { return [] }
            openDetailView()
            return [.refreshNow]
        }
        toggleFold(open: nil)
        return []
    }

    /// `+`: open the selected session or group (a process: nothing is folded above it).
    mutating func expandSelected() {
        guard mode == .tree, let row = selectedRow else { return }
        switch row.key {
        case .session, .group: toggleFold(open: true)
        default: break
        }
    }

    /// `-`: close the selected session or group; on a process, fold its group.
    mutating func collapseSelected() {
        guard mode == .tree, let row = selectedRow else { return }
        switch row.key {
        case .session, .group: toggleFold(open: false)
        case .process(let id), .gone(let id):
            let pgid = snapshot.process(id.pid)?.pgid ?? gone.first { $0.identity == id }?.pgid
            guard let pgid, let i = rows.firstIndex(of: Row(key: .group(pgid))) else { return }
            move(to: i)
            toggleFold(open: false)
        }
    }

    /// `*`: everything open when anything is closed, else every session closed.
    mutating func toggleAll() {
        guard mode == .tree else { return }
        let all = Set(snapshot.sessions.map(\.sid))
        if openSessions.isSuperset(of: all) && foldedGroups.isEmpty {
            openSessions = []
            setNote("all sessions closed (* opens them all)")
        } else {
            openSessions = all
            foldedGroups = []
            setNote("all sessions and groups open")
        }
        refreshRows()
    }

    mutating func sortBy(_ key: SortKey) {
        if mode == .tree { mode = .table; hscroll = 0 }
        sortKey = key
        refreshRows()
        setNote("table sorted by \(sortKey.rawValue)\(sortDescending ? ", descending" : "")")
    }

    /// `F` / `p`: keep the selection on this process wherever it goes (its session and group
    /// are opened when it moves); again to stop.
    mutating func toggleFollow() {
        if following != nil { following = nil; setNote("not following"); return }
        guard let p = selectedProcess else { setNote("follow: select a process first"); return }
        following = p.identity
        setNote("following pid \(p.pid) (F again stops)")
    }

    /// Esc after a search: the folds as they were, the revealed row hidden again.
    mutating func endSearch() {
        query = ""
        note = nil
        let was = revealed
        revealed = nil
        let key = selection
        rebuildRows()
        if let key, rows.contains(where: { $0.key == key }) { reselect(key, oldIndex: selectedIndex); return }
        // The revealed row is hidden again: select what now holds it.
        if let was, let p = snapshot.process(was.pid) {
            if let i = rows.firstIndex(of: Row(key: .group(p.pgid))) { move(to: i); return }
            if let i = rows.firstIndex(of: Row(key: .session(p.sid))) { move(to: i); return }
        }
        reselect(key, oldIndex: selectedIndex)
    }

    mutating func cycleFilter() {
        let all = Filter.allCases
        filter = all[(all.firstIndex(of: filter)! + 1) % all.count]
        refreshRows()
        var text = "filter: \(filter.rawValue)"
        if filter == .mySession && snapshot.selfSid == nil { text += " (sessiontop has no session here)" }
        if filter == .mySession, let sid = snapshot.selfSid { openSessions.insert(sid); refreshRows() }
        if rows.isEmpty { text += " (nothing matches)" }
        setNote(text)
    }

    mutating func cycleSort(by step: Int) {
        if mode == .tree {
            mode = .table
            hscroll = 0
        } else {
            let all = SortKey.allCases
            sortKey = all[(all.firstIndex(of: sortKey)! + step + all.count) % all.count]
        }
        refreshRows()
        setNote("table sorted by \(sortKey.rawValue)\(sortDescending ? ", descending" : "")")
    }

    mutating func cycleEvent() {
        let all = HangupEvent.allCases
        event = all[(all.firstIndex(of: event)! + 1) % all.count]
        recomputeVerdicts()
        refreshRows()
        setNote("event: \(event.title)")
    }

    mutating func setInterval(_ v: Double) {
        interval = min(10, max(0.5, (v * 10).rounded() / 10))
        setNote("refresh every \(Self.seconds(interval))")
    }

    static func seconds(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)s"
    }

    /// Selects the next (or previous) process matching the query; opens its session and group.
    @discardableResult
    mutating func jumpToMatch(forward: Bool, includeCurrent: Bool, quiet: Bool = false) -> Bool {
        guard !query.isEmpty else {
            if !quiet { setNote("no search: press / to search") }
            return false
        }
        let order: [Int32] = mode == .tree ? treeProcesses() : rows.compactMap(\.pid)
        guard !order.isEmpty else { return false }
        var start: Int
        if let pid = selectedRow?.pid, let i = order.firstIndex(of: pid) {
            start = i
        } else {
            // From a session or group row: the first process after it.
            let after = rows[min(selectedIndex, max(0, rows.count - 1))...].lazy.compactMap(\.pid).first
            start = after.flatMap { order.firstIndex(of: $0) } ?? 0
            if !includeCurrent && forward { start -= 1 }
        }
        let n = order.count
        for step in 0..<n {
            let off = includeCurrent ? step : step + 1
            let raw = forward ? start + off : start - off
            let i = (raw % n + n) % n
            guard let p = snapshot.process(order[i]), matches(p) else { continue }
            // Folds stay as they are: only the row it lands on is shown (Esc hides it again).
            revealed = p.identity
            rebuildRows()
            if let r = rows.firstIndex(where: { $0.key == .process(p.identity) }) { move(to: r) }
            if !quiet { setNote(raw >= n || raw < 0 ? "search wrapped: \(query)" : "match: \(query)") }
            return true
        }
        setNote("no match for \"\(query)\"")
        return false
    }

    // MARK: Mouse

    mutating func handleMouse(_ m: Mouse) -> [Effect] {
        guard !tooSmall, !searching else { return [] }
        if dialog != nil {
            // The wheel moves through the signal menu; clicks are for the keys.
            if m == .wheelUp { return dialogKey(.up) } else if m == .wheelDown { return dialogKey(.down) }
            return []
        }
        if helpOpen {
            if m == .wheelUp { helpScroll = max(0, helpScroll - 3) } else if m == .wheelDown { helpScroll += 3 } else { helpOpen = false }
            return []
        }
        switch m {
        case .wheelUp: move(by: -3)
        case .wheelDown: move(by: 3)
        case .click(let x, let y):
            let l = layout
            if y >= l.listTop && y < l.listTop + l.listHeight {
                let i = scrollTop + (y - l.listTop)
                guard rows.indices.contains(i) else { return [] }
                let wasSelected = i == selectedIndex
                move(to: i)
                // A click on the fold marker (or on the selected session/group) folds.
                if case .process = rows[i].key { return [] }
                if wasSelected || x < 6 { toggleFold(open: nil) }
            } else if y == l.barY {
                for item in FunctionBar.layout(width: width) where x >= item.x && x < item.x + item.width {
                    return handleKey(.function(item.n))
                }
            }
        }
        return []
    }
}
