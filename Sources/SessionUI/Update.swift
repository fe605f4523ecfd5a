import SessionCore

/// The F-bar: key label, action name (F8 and F9 as htop has them: F9 kills, here it signals).
public let functionBar: [(key: String, label: String)] = [
    ("F1", "Help"), ("F2", "Detail"), ("F3", "Search"), ("F4", "Filter"), ("F5", "Tree"),
    ("F6", "SortBy"), ("F7", "Event"), ("F8", "Detach"), ("F9", "Signal"), ("F10", "Quit"),
]

/// Applies one event to the state and returns what the host must do. No I/O.
public func update(_ state: inout AppState, _ event: AppEvent) -> [Effect] {
    switch event {
    case .resize(let w, let h):
        state.width = w
        state.height = h
        state.clampScroll()
        return []
    case .snapshot(let snap, let now):
        state.apply(snap, now: now)
        state.followPinnedSession()
        state.labAfterSnapshot()
        return state.trackHangups()
    case .mouse(let m):
        return state.handleMouse(m)
    case .key(let k):
        return state.handleKey(k)
    case .signalSent, .relaunchPlanned, .relaunchStarted, .originalEnded, .actionFailed:
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
        rebuildRows()
        reselect(oldKey, oldIndex: oldIndex, vanishedNote: true)
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
        switch k {
        case .char("q"), .function(10): return [.quit]
        case .up: move(by: -1)
        case .down, .char("j"): move(by: 1)
        case .pageUp: move(by: -max(1, layout.listHeight - 1))
        case .pageDown: move(by: max(1, layout.listHeight - 1))
        case .home, .char("g"): move(to: 0)
        case .end, .char("G"): move(to: rows.count - 1)
        case .enter, .char(" "): toggleFold(open: nil)
        case .left: leftKey()
        case .right: toggleFold(open: true)
        case .char("i"), .function(2): detailOpen.toggle(); clampScroll()
        case .char("?"), .char("h"), .function(1): helpOpen = true; helpScroll = 0
        case .char("/"), .function(3): searching = true; query = ""
        case .char("n"): jumpToMatch(forward: true, includeCurrent: false)
        case .char("N"): jumpToMatch(forward: false, includeCurrent: false)
        case .char("f"), .function(4): cycleFilter()
        case .char("t"), .function(5):
            mode = mode == .tree ? .table : .tree
            refreshRows()
            setNote(mode == .tree ? "tree: sessions → groups → processes" : "table sorted by \(sortKey.rawValue)")
        case .char("s"), .char(">"), .function(6): cycleSort(by: 1)
        case .char("<"): cycleSort(by: -1)
        case .char("I"):
            sortDescending.toggle()
            if mode == .table { refreshRows() }
        case .char("e"), .function(7): cycleEvent()
        case .char("+"), .char("="): setInterval(interval + 0.5)
        case .char("-"): setInterval(interval - 0.5)
        case .escape:
            if detailOpen { detailOpen = false; clampScroll() } else if !query.isEmpty { query = ""; note = nil }
        case .char("k"), .function(9): openSignalMenu()
        case .char("D"), .function(8): return detach()
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
            query = ""
        case .backspace:
            if !query.isEmpty { query.removeLast() }
        case .char(let c):
            query.append(c)
            _ = jumpToMatch(forward: true, includeCurrent: true, quiet: true)
        default: break
        }
        return []
    }

    mutating func move(by delta: Int) { move(to: selectedIndex + delta) }

    mutating func move(to index: Int) {
        guard !rows.isEmpty else { return }
        selectedIndex = min(max(0, index), rows.count - 1)
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
            if open == nil { detailOpen.toggle() }
        case .gone: return
        }
        refreshRows()
    }

    /// Left closes an open session/group, or goes to the row's parent.
    mutating func leftKey() {
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
            openSessions.insert(p.sid)
            foldedGroups.remove(p.pgid)
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
                var col = 0
                for (n, item) in functionBar.enumerated() {
                    let w = item.key.count + max(7, item.label.count + 1)
                    if x >= col && x < col + w { return handleKey(.function(n + 1)) }
                    col += w
                }
            }
        }
        return []
    }
}
