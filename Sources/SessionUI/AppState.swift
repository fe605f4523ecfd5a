import SessionCore

/// A key as the views understand it (the backend translates ncurses codes).
public enum Key: Hashable, Sendable {
    case char(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace, tab
    case function(Int)
}

/// A mouse action, in screen coordinates.
public enum Mouse: Hashable, Sendable {
    case click(x: Int, y: Int)
    case wheelUp, wheelDown
}

/// Everything that can happen to the app.
public enum AppEvent: Sendable {
    case key(Key)
    case mouse(Mouse)
    case resize(width: Int, height: Int)
    /// A new scan arrived, taken at `now` (seconds on a monotonic clock).
    case snapshot(Snapshot, now: Double)
    /// Results of the effects the host ran (actions issue).
    case signalSent(SignalReport)
    case relaunchPlanned(RelaunchPlan)
    case relaunchStarted(RelaunchPlan, newPid: Int32?)
    case originalEnded(RelaunchPlan, newPid: Int32?, reports: [SignalReport], gone: Bool)
    /// Detach in place (issue 8): the plan to confirm, then what happened.
    case detachPlanned(DetachPlan)
    case detached(DetachOutcome)
    /// Detach in place of the tagged processes' jobs: each job's outcome, and the jobs that
    /// could not be planned (one line each).
    case detachedEach([DetachOutcome], refused: [String])
    /// An action could not run (a `RelaunchRefusal`, a `RelaunchError`, no live /proc): one line.
    case actionFailed(String)
    /// The environment of a process, read on request (`E` in the detail view).
    case environment(ProcessIdentity, Field<[[UInt8]]>)
    /// Results of a signal sent to each tagged process.
    case signalsSent([SignalReport])
    /// What saving the setup did (the path, or why not), for the status line.
    case configSaved(String)
    /// One line per tagged process relaunched (or why not), and how many started.
    case relaunchedEach(started: Int, lines: [String])
    /// What the lab host did (LabState.swift).
    case lab(LabEvent)
}

/// What the host must do after an update: the only side effects the app asks for.
public enum Effect: Hashable, Sendable {
    case quit
    /// Scan again now instead of at the next tick.
    case refreshNow
    /// Send `signal` to `target` through `SignalSender` (pidfd + start time check, no force);
    /// the host answers with `.signalSent`.
    case sendSignal(SignalTarget, signal: Int32)
    /// Build a `Relauncher.plan` for this process; the host answers with `.relaunchPlanned` or
    /// `.actionFailed` (a `RelaunchRefusal`).
    case planRelaunch(ProcessIdentity, via: RelaunchVia)
    /// Start the confirmed plan (`Relauncher.start`); the host answers `.relaunchStarted`.
    case relaunch(RelaunchPlan)
    /// End the original (`Relauncher.endOriginal`: SIGTERM, SIGKILL after the timeout) off the
    /// UI loop; the host answers `.originalEnded` when it is done.
    case endOriginal(RelaunchPlan, newPid: Int32?)
    /// Read `/proc/<pid>/environ` (checked against the start time); the host answers `.environment`.
    case readEnvironment(ProcessIdentity)
    /// Send `signal` to each of these processes (each pinned by pid + start time); the host
    /// answers `.signalsSent`.
    case sendSignalEach([ProcessIdentity], signal: Int32)
    /// Write the setup (columns, interval, colours) to `$XDG_CONFIG_HOME/sessiontop/config`.
    case saveConfig(String)
    /// Relaunch each of these detached (plan, start, end the original, as `D` does for one);
    /// the host answers `.relaunchedEach`.
    case relaunchEach([ProcessIdentity], via: RelaunchVia)
    /// The lab's own actions, run by LabHost.
    case lab(LabEffect)
    /// Build a `Detacher.plan` for this process's job; the host answers `.detachPlanned`, or
    /// (in place refused) the relaunch plan with the reason as a warning.
    case planDetach(ProcessIdentity)
    /// Run the confirmed in-place plan (`Detacher.execute`); the host answers `.detached`.
    case detachInPlace(DetachPlan)
    /// Detach in place the job (process group) of each of these processes, one plan per job;
    /// the host answers `.detachedEach`.
    case detachInPlaceEach([ProcessIdentity])
}

/// A dialog over the list; keys go to it first.
public enum Dialog: Hashable, Sendable {
    /// `k` / F9: pick a signal for `target` (`index` into `SignalMenu.all`).
    case signalMenu(target: SignalTarget, index: Int, typed: String)
    /// A destructive signal: y sends, n / Esc cancels.
    case confirmSignal(target: SignalTarget, signal: Int32)
    /// `D` / F8: what will run; y starts it, v switches daemonize / tmux, n / Esc cancels.
    case relaunch(RelaunchPlan)
    /// `k` with tagged processes: one signal for each of them.
    case signalMenuTagged(targets: [ProcessIdentity], index: Int, typed: String)
    case confirmSignalTagged(targets: [ProcessIdentity], signal: Int32)
    /// `D` with tagged processes: y detaches each one's job in place; r relaunches each
    /// (daemonize, or v: tmux); n / Esc cancels.
    case detachTagged(targets: [ProcessIdentity], via: RelaunchVia)
    /// `D` / F8 by default: detach in place; y runs it, r relaunches instead, n / Esc cancels.
    case detachInPlace(DetachPlan)
}

public enum ViewMode: String, Sendable { case tree, table }

/// Which processes the list shows (`f` cycles).
public enum Filter: String, CaseIterable, Sendable {
    case all
    case mySession = "my session"
    case atRisk = "at risk"
    case myUser = "my user"
    /// Sessions that have a controlling terminal (the ones a hangup can reach).
    case withTerminal = "with a terminal"
}

/// Sort keys of the table view.
public enum SortKey: String, CaseIterable, Sendable {
    case pid, ppid, pgid, sid, user, tty, command, fate, cpu, rss, start, threads
}

/// A row's identity, stable across refreshes (a process by pid + start time).
public enum RowKey: Hashable, Sendable {
    case session(Int32)
    case group(Int32)
    case process(ProcessIdentity)
    /// A process that just vanished, shown for a moment.
    case gone(ProcessIdentity)
}

/// One line of the list.
public struct Row: Hashable, Sendable {
    public var key: RowKey
    /// Tree glyphs before a process's command ("│ ├─ ").
    public var prefix: String = ""

    public init(key: RowKey, prefix: String = "") {
        self.key = key
        self.prefix = prefix
    }

    public var pid: Int32? {
        if case .process(let id) = key { return id.pid }
        return nil
    }
}

/// A process that vanished, remembered for a moment to show where it was.
public struct GoneProcess: Hashable, Sendable {
    public var identity: ProcessIdentity
    public var sid: Int32
    public var pgid: Int32
    public var user: String
    public var command: String
    public var at: Double
}

/// The whole state of the inspector. `update` changes it, `render` draws it.
public struct AppState {
    public var snapshot: Snapshot
    /// Fate of every process under `event` striking its own terminal (HangupVerdicts.forProcess).
    public var verdicts: [Int32: Verdict] = [:]
    /// This snapshot's verdicts, computed once: per terminal (members and the outsiders the
    /// event reaches) and per process. Every view reads them.
    public var hangup: HangupVerdicts?
    /// The analysis; tests swap it for hand-made verdicts.
    /// nil: the real analysis, every terminal against one index of who holds which terminal
    /// (HangupVerdicts builds it once per scan, not once per terminal).
    public var analyze: ((Snapshot, Int32, HangupEvent) -> [Int32: Verdict])?
    /// Set by the host just before `.snapshot`: the verdicts the scanning thread computed for
    /// that snapshot and this event; used once, by the next `recomputeVerdicts`.
    public var precomputed: HangupVerdicts?
    public var event: HangupEvent = .hangup
    public var mode: ViewMode = .tree
    public var filter: Filter = .all
    public var sortKey: SortKey = .pid
    public var sortDescending = false
    /// Sessions shown open; sessiontop's own session starts open.
    public var openSessions: Set<Int32> = []
    public var foldedGroups: Set<Int32> = []
    public var knownSessions: Set<Int32> = []
    public var rows: [Row] = []
    /// Columns of process rows (the setup screen changes them); fewer are shown when narrow.
    public var treeColumns: [Column] = Column.treeDefault
    public var tableColumns: [Column] = Column.tableDefault
    /// Columns the command text is scrolled left by (← → on process rows and in the table).
    public var hscroll = 0
    /// CPU % of each process over the last interval (utime+stime deltas), by identity.
    public var cpuPercent: [ProcessIdentity: Double] = [:]
    public var selection: RowKey?
    public var selectedIndex = 0
    public var scrollTop = 0
    public var detailOpen = false
    public var helpOpen = false
    public var helpScroll = 0
    /// `/` prompt being typed.
    public var searching = false
    public var query = ""
    public var note: String?
    public var noteAt: Double = 0
    public var width: Int
    public var height: Int
    public var color: Bool
    /// Box-drawing glyphs (UTF-8 locale) or ASCII.
    public var unicode: Bool
    /// Seconds between scans.
    public var interval: Double
    public var now: Double = 0
    /// When each process was first seen (not for the first scan): marked as new for a moment.
    public var firstSeen: [ProcessIdentity: Double] = [:]
    public var gone: [GoneProcess] = []
    /// How long new and vanished processes stay marked, seconds.
    public var markSeconds: Double = 3
    public var scans = 0
    /// `Z`: scans still arrive but are not applied.
    public var paused = false
    /// `r` / Ctrl-L asked for a scan: the next one is applied even when paused.
    public var refreshRequested = false
    /// Tagged processes (Space, `c`), by pid + start time: `k` acts on them all.
    public var tagged: Set<ProcessIdentity> = []
    /// What sessiontop detached in place (`DetachRecord`, `$XDG_STATE_HOME/sessiontop/detached.tsv`),
    /// for the detail pane's "detached in place by sessiontop at 14:02, log …".
    public var detachRecords: [ProcessIdentity: DetachRecord.Entry] = [:]
    /// `F`: the process the selection stays on wherever it moves.
    public var following: ProcessIdentity?
    /// A search match shown although its session or group is folded (folds never change).
    public var revealed: ProcessIdentity?
    /// The `\\` free-text filter (command, user, tty, pid) and its prompt.
    public var textFilter = ""
    public var filtering = false
    public var textFilterDraft = ""
    /// Command-line scopes (`-p`, `-u`, `--sid`): only these are listed.
    public var onlyPids: Set<Int32>?
    public var onlyUID: UInt32?
    /// `--sid S` outside the lab: only this session is listed (it is `pinnedSid`, which follows the
    /// session's terminal when the session is replaced).
    public var onlySid: Int32? {
        get { lab == nil ? pinnedSid : nil }
        set { pinnedSid = newValue }
    }
    /// `--readonly`: why signal and detach keys do nothing (nil: they act).
    public var readonlyReason: String?
    /// The detail view (Enter on a process): it takes the list's place and scrolls.
    public var detailFull = false
    public var detailScroll = 0
    /// The fd section lists every fd (else counts by kind).
    public var fdsExpanded = false
    /// `E`: the environment section is shown (read on request).
    public var showEnvironment = false
    public var environment: (id: ProcessIdentity, value: Field<[[UInt8]]>)?
    /// F2: the setup screen and the row selected in it.
    public var setupOpen = false
    public var setupIndex = 0
    /// The first frame comes from a scan without signal masks: no verdicts until the next one.
    public var analysisPending = false
    /// The user sessiontop runs as (for the "my user" filter).
    public var myUID: UInt32
    /// The signal menu, a confirmation or the detach dialog.
    public var dialog: Dialog?
    /// Why signals and detach are off (a fixture `--proc-root`): nil when they act on /proc.
    public var actionsDisabled: String?
    /// A relaunched process to select once a scan finds it (pid, until when).
    public var pendingSelect: (pid: Int32, until: Double)?
    /// An action's result stays in the status line until then (a vanished selection does not
    /// overwrite it).
    public var noteHeldUntil: Double = 0
    /// Only this session is listed (`--sid`, the lab); it follows its terminal when replaced.
    public var pinnedSid: Int32?
    /// The pinned session's terminal, to follow it to the session that replaces it.
    public var pinnedTTY: String?
    /// `sessiontop lab`: lessons, the lab terminal, the hang-up phases (LabState.swift).
    public var lab: LabState?
    /// Watched sessions' last prediction, and those whose terminal went away (InspectorHangups.swift).
    public var watchedFreezes: [Int32: PredictionFreeze] = [:]
    public var hungUp: [Int32: HungUpSession] = [:]
    /// The session whose prediction-vs-reality table is shown (Enter on its row).
    public var shownHangup: Int32?
    public var hangupScroll = 0
    /// Wall-clock seconds since the epoch (tests fix it).
    public var wallClock: @Sendable () -> Double = { PredictionFreeze.now() }

    public init(snapshot: Snapshot, width: Int, height: Int, color: Bool = true, unicode: Bool = true,
                interval: Double = 1.5, myUID: UInt32 = 0, analysisPending: Bool = false,
                analyze: ((Snapshot, Int32, HangupEvent) -> [Int32: Verdict])? = nil) {
        self.analysisPending = analysisPending
        self.snapshot = snapshot
        self.width = width
        self.height = height
        self.color = color
        self.unicode = unicode
        self.interval = interval
        self.myUID = myUID
        if let analyze { self.analyze = analyze }
        if let sid = snapshot.selfSid { openSessions.insert(sid) }
        knownSessions = Set(snapshot.sessions.map(\.sid))
        scans = 1
        recomputeVerdicts()
        rebuildRows()
        if let sid = snapshot.selfSid, let i = rows.firstIndex(of: Row(key: .session(sid))) {
            selectedIndex = i
        }
        // Start on sessiontop itself when it is listed, else on its session.
        if let me = snapshot.process(snapshot.selfPid),
           let i = rows.firstIndex(where: { $0.key == .process(me.identity) }) {
            selectedIndex = i
        }
        selection = rows.indices.contains(selectedIndex) ? rows[selectedIndex].key : nil
        clampScroll()
    }

    // MARK: Derived values

    public var selectedRow: Row? { rows.indices.contains(selectedIndex) ? rows[selectedIndex] : nil }

    public var selectedProcess: ProcessInfo? {
        guard case .process(let id)? = selectedRow?.key, let p = snapshot.process(id.pid),
              p.startTime == id.startTime else { return nil }
        return p
    }

    public func verdict(_ pid: Int32) -> Verdict? { verdicts[pid] }

    public func fate(_ pid: Int32) -> Fate { verdicts[pid]?.fate ?? .unaffected }

    /// Counts for the header: what happens to everything the event on sessiontop's own
    /// terminal reaches (its session, and outsiders holding the terminal).
    public var selfCounts: (dies: Int, atRisk: Int, survives: Int)? {
        guard let sid = snapshot.selfSid, let s = snapshot.session(sid), s.tty != nil else { return nil }
        let c = terminalCounts(sid)
        return (c.dies, c.atRisk, c.survives)
    }

    /// Fates of everything the event on session `sid`'s terminal reaches.
    public func terminalCounts(_ sid: Int32) -> (dies: Int, atRisk: Int, survives: Int) {
        var d = 0, r = 0, v = 0
        for (_, verdict) in hangup?.terminal(sid, event) ?? [:] {
            switch verdict.fate {
            case .dies: d += 1
            case .atRisk: r += 1
            case .survives: v += 1
            case .unaffected, .exited: break
            }
        }
        return (d, r, v)
    }

    public func isNew(_ id: ProcessIdentity) -> Bool {
        guard let t = firstSeen[id] else { return false }
        return now - t < markSeconds
    }

    /// The text shown as a process's command: argv, or comm while argv is unread/unreadable.
    public static func command(_ p: ProcessInfo) -> String {
        switch p.argv {
        case .known(let a) where !a.isEmpty: return a.map { SafeText.display($0) }.joined(separator: " ")
        case .known: return "[\(p.commText)]"
        case .unknown(.notRead): return p.commText
        case .unknown(let r): return "\(p.commText) ‹argv: \(r)›"
        }
    }

    /// Columns of process rows at this width: the wanted ones, dropped by priority so the
    /// command keeps room (30 columns in the tree, 24 in the table).
    public var shownColumns: [Column] {
        Column.fitting(mode == .tree ? treeColumns : tableColumns, width: width, minCommand: mode == .tree ? 30 : 24)
    }

    /// With `-p`, `-u` or `--sid` the sessions holding what is asked for start open.
    public mutating func openScopedSessions() {
        guard onlyPids != nil || onlyUID != nil || onlySid != nil else { return }
        for (_, p) in snapshot.processes where !p.isKernelThread && passesFilter(p) { openSessions.insert(p.sid) }
    }

    /// The filter as the header shows it.
    public var filterTitle: String {
        var t = filter.rawValue
        if !textFilter.isEmpty { t += " + \"\(textFilter)\"" }
        if let only = onlyPids { t += " + pids " + only.sorted().map(String.init).joined(separator: ",") }
        if let u = onlyUID { t += " + uid \(u)" }
        if let sid = onlySid { t += " + sid \(sid)" }
        return t
    }

    // MARK: Filtering and search

    public func passesFilter(_ p: ProcessInfo) -> Bool {
        if let only = onlyPids, !only.contains(p.pid) { return false }
        if let u = onlyUID, p.uid != u { return false }
        if let sid = onlySid, p.sid != sid { return false }
        if !textFilter.isEmpty && !Self.textMatches(p, textFilter.lowercased()) { return false }
        switch filter {
        case .all: return true
        case .mySession: return snapshot.selfSid != nil && p.sid == snapshot.selfSid
        case .atRisk:
            let f = fate(p.pid)
            return f == .dies || f == .atRisk
        case .myUser: return p.uid == myUID
        case .withTerminal: return snapshot.session(p.sid)?.tty != nil
        }
    }

    /// Search matches command, pid, user or tty (case-insensitive substring; pid exact or prefix).
    public func matches(_ p: ProcessInfo) -> Bool {
        let q = query.lowercased()
        guard !q.isEmpty else { return false }
        return Self.textMatches(p, q)
    }

    /// `q` (lowercased) in the pid (prefix), user, tty or command line.
    static func textMatches(_ p: ProcessInfo, _ q: String) -> Bool {
        if String(p.pid).hasPrefix(q) { return true }
        if p.user.lowercased().contains(q) { return true }
        if let t = p.tty, t.lowercased().contains(q) { return true }
        return Self.command(p).lowercased().contains(q)
    }

    // MARK: Building rows

    mutating func recomputeVerdicts() {
        guard !analysisPending else { verdicts = [:]; hangup = nil; precomputed = nil; return }
        // The scanning thread's analysis of this very snapshot, for the event shown (the UI
        // thread then only swaps it in: issue 11 §8).
        if analyze == nil, let pre = precomputed, let these = pre.forProcess[event] {
            precomputed = nil
            hangup = pre
            verdicts = these
            return
        }
        precomputed = nil
        let snap = snapshot
        let all: HangupVerdicts
        if let run = analyze {
            all = HangupVerdicts(snap, events: [event]) { sid, event in run(snap, sid, event) }
        } else {
            all = HangupVerdicts(snap, events: [event])
        }
        hangup = all
        verdicts = all.forProcess[event] ?? [:]
    }

    /// Processes in tree order, ignoring folds (for search), honouring the filter.
    func treeProcesses() -> [Int32] {
        var out: [Int32] = []
        for s in snapshot.sessions {
            for g in s.groups {
                for (pid, _) in snapshot.treeOrder(of: g) where passesFilter(snapshot.processes[pid]!) {
                    out.append(pid)
                }
            }
        }
        return out
    }

    /// Rebuilds `rows` from the snapshot, folds, filter and sort; keeps the selection by identity.
    public mutating func rebuildRows() {
        rows = mode == .tree ? treeRows() : tableRows()
    }

    func treeRows() -> [Row] {
        var out: [Row] = []
        let goneByGroup = Dictionary(grouping: gone, by: \.pgid)
        // A search match inside a folded session or group is shown alone, folds unchanged.
        let shown = revealed.flatMap { r in snapshot.process(r.pid).flatMap { $0.startTime == r.startTime ? $0 : nil } }
        let noFilter = filter == .all && textFilter.isEmpty && onlyPids == nil && onlyUID == nil && onlySid == nil
        for s in snapshot.sessions where pinnedSid == nil || s.sid == pinnedSid {
            // A closed session with no filter is one row: no need to walk its trees.
            if noFilter && !openSessions.contains(s.sid) {
                out.append(Row(key: .session(s.sid)))
                if let p = shown, p.sid == s.sid {
                    out.append(Row(key: .group(p.pgid)))
                    out.append(Row(key: .process(p.identity)))
                }
                continue
            }
            var groupRows: [[Row]] = []
            var any = noFilter
            for g in s.groups {
                let order = snapshot.treeOrder(of: g).filter { passesFilter(snapshot.processes[$0.pid]!) }
                let goneHere = noFilter ? (goneByGroup[g.pgid] ?? []) : []
                if order.isEmpty && !noFilter && goneHere.isEmpty { continue }
                any = true
                var rowsOfGroup = [Row(key: .group(g.pgid))]
                if foldedGroups.contains(g.pgid) {
                    if let p = shown, p.pgid == g.pgid, passesFilter(p) { rowsOfGroup.append(Row(key: .process(p.identity))) }
                } else {
                    let prefixes = Self.treePrefixes(order.map(\.depth), unicode: unicode)
                    for (i, item) in order.enumerated() {
                        let p = snapshot.processes[item.pid]!
                        rowsOfGroup.append(Row(key: .process(p.identity), prefix: prefixes[i]))
                    }
                    for x in goneHere { rowsOfGroup.append(Row(key: .gone(x.identity))) }
                }
                groupRows.append(rowsOfGroup)
            }
            // Vanished processes whose whole group went with them: at the end of the session.
            if noFilter {
                let live = Set(s.groups.map(\.pgid))
                let orphans = gone.filter { $0.sid == s.sid && !live.contains($0.pgid) }
                if !orphans.isEmpty { groupRows.append(orphans.map { Row(key: .gone($0.identity)) }) }
            }
            guard any && !groupRows.isEmpty else { continue }
            out.append(Row(key: .session(s.sid)))
            // A text filter shows its matches wherever they are.
            if openSessions.contains(s.sid) || !textFilter.isEmpty {
                for r in groupRows { out.append(contentsOf: r) }
            } else if let p = shown, p.sid == s.sid, passesFilter(p) {
                out.append(Row(key: .group(p.pgid)))
                out.append(Row(key: .process(p.identity)))
            }
        }
        // Watched sessions whose terminal hung up and that are gone: their row keeps the table.
        for sid in hungUp.keys.sorted() where snapshot.session(sid) == nil && pinnedSid == nil { out.append(Row(key: .session(sid))) }
        return out
    }

    func tableRows() -> [Row] {
        var procs: [ProcessInfo] = []
        procs.reserveCapacity(snapshot.processes.count)
        for (_, p) in snapshot.processes where !p.isKernelThread && passesFilter(p) && (pinnedSid == nil || p.sid == pinnedSid) { procs.append(p) }
        let rank: [Fate: Int] = [.dies: 0, .atRisk: 1, .survives: 2, .unaffected: 3, .exited: 4]
        // Command strings are built once, not in every comparison.
        var commands: [Int32: String] = [:]
        if sortKey == .command { for p in procs { commands[p.pid] = Self.command(p) } }
        func byPid<T: Comparable>(_ x: T, _ y: T, _ a: ProcessInfo, _ b: ProcessInfo) -> Bool { x != y ? x < y : a.pid < b.pid }
        func less(_ a: ProcessInfo, _ b: ProcessInfo) -> Bool {
            switch sortKey {
            case .pid: return a.pid < b.pid
            case .ppid: return byPid(a.ppid, b.ppid, a, b)
            case .pgid: return byPid(a.pgid, b.pgid, a, b)
            case .sid: return byPid(a.sid, b.sid, a, b)
            case .user: return byPid(a.user, b.user, a, b)
            case .tty: return byPid(a.tty ?? "~", b.tty ?? "~", a, b)
            case .command: return byPid(commands[a.pid]!, commands[b.pid]!, a, b)
            case .fate: return byPid(rank[fate(a.pid)]!, rank[fate(b.pid)]!, a, b)
            // Busiest, biggest, oldest and most threaded first, as htop sorts them.
            case .cpu: return byPid(-(cpuPercent[a.identity] ?? 0), -(cpuPercent[b.identity] ?? 0), a, b)
            case .rss: return byPid(-a.rssBytes, -b.rssBytes, a, b)
            case .start: return byPid(a.startTime, b.startTime, a, b)
            case .threads: return byPid(-a.threads, -b.threads, a, b)
            }
        }
        procs.sort { sortDescending ? less($1, $0) : less($0, $1) }
        return procs.map { Row(key: .process($0.identity)) }
    }

    /// Tree glyphs for a pre-order list of depths: "├─ ", "└─ ", "│  " as in pstree.
    static func treePrefixes(_ depths: [Int], unicode: Bool) -> [String] {
        let (tee, elbow, bar) = unicode ? ("├─ ", "└─ ", "│  ") : ("|- ", "`- ", "|  ")
        var out: [String] = []
        out.reserveCapacity(depths.count)
        // isLast[i]: no later sibling at the same depth before a shallower node.
        var isLast = Array(repeating: true, count: depths.count)
        var lastAtDepth: [Int: Int] = [:]
        for (i, d) in depths.enumerated() {
            if let j = lastAtDepth[d] { isLast[j] = false }
            lastAtDepth[d] = i
            for k in lastAtDepth.keys where k > d { lastAtDepth[k] = nil }
        }
        var open: [Bool] = []  // open[k]: the ancestor at depth k+1 has later siblings
        for (i, d) in depths.enumerated() {
            if d == 0 { out.append(""); open = []; continue }
            while open.count > d - 1 { open.removeLast() }
            while open.count < d - 1 { open.append(false) }
            var s = ""
            for k in 0..<(d - 1) { s += open[k] ? bar : "   " }
            s += isLast[i] ? elbow : tee
            out.append(s)
            open.append(!isLast[i])
        }
        return out
    }

    // MARK: Layout

    /// Screen regions, shared by render and by mouse hit-testing.
    public struct Layout: Equatable, Sendable {
        public var headerHeight: Int
        public var listTop: Int
        public var listHeight: Int
        public var paneTop: Int
        public var paneHeight: Int
        public var statusY: Int
        public var barY: Int
    }

    public static let minWidth = 40
    public static let minHeight = 10

    public var tooSmall: Bool { width < Self.minWidth || height < Self.minHeight }

    public var layout: Layout {
        let header = 3
        let listTop = header + 1  // column titles
        let barY = height - 1
        let statusY = height - 2
        let avail = max(0, statusY - listTop - (lab != nil ? LabState.stripHeight(height) : 0))
        var pane = 0
        if detailOpen && !helpOpen && !detailFull { pane = min(max(8, avail / 2), max(0, avail - 3)) }
        return Layout(headerHeight: header, listTop: listTop, listHeight: avail - pane,
                      paneTop: listTop + avail - pane, paneHeight: pane, statusY: statusY, barY: barY)
    }

    mutating func clampScroll() {
        let h = max(1, layout.listHeight)
        if rows.isEmpty { selectedIndex = 0; scrollTop = 0; return }
        selectedIndex = min(max(0, selectedIndex), rows.count - 1)
        if selectedIndex < scrollTop { scrollTop = selectedIndex }
        if selectedIndex >= scrollTop + h { scrollTop = selectedIndex - h + 1 }
        scrollTop = max(0, min(scrollTop, max(0, rows.count - h)))
    }
}
