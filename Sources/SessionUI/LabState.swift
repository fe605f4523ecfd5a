import SessionCore

/// What the lab asks the host to do (`sessiontop lab`, issue 12).
public enum LabEffect: Hashable, Sendable {
    /// Freeze the prediction for the lab terminal's session, then perform `event` on it for
    /// real (hang up: close the pane's pty; leader: SIGKILL the shell; logout: type exit, then
    /// close), and watch. The host answers `.started` then `.reality`.
    case perform(HangupEvent)
    /// Close the old lab terminal (if any) and open a fresh one; answered with `.terminal`.
    case newTerminal
    /// Append a table to lab.jsonl (the inspector's surprises).
    case log(RealityTable)
}

/// What the lab host reports.
public enum LabEvent: Sendable {
    /// The lab terminal is tmux pane `pane`; its shell (the session leader) is `leader`.
    case terminal(pane: String, leader: Int32)
    /// The prediction was frozen and the event is under way.
    case started(PredictionFreeze)
    /// The watch settled: the table, and where it was logged (or why not).
    case reality(RealityTable, log: String)
    case failed(String)
}

/// The lab's state inside `AppState`: lessons, the pinned lab terminal, the hang-up phases.
public struct LabState: Sendable {
    public enum Phase: Sendable {
        /// Going through the lessons.
        case lessons
        /// `H` pressed: which event (index into `HangupEvent.allCases`), waiting for y.
        case confirm(Int)
        /// The event is under way; the prediction frozen.
        case watching(PredictionFreeze, since: Double)
        /// The prediction-vs-reality table.
        case table(RealityTable, log: String)
    }

    public var shell: LabShell
    public var lessons: [LabLesson]
    public var lesson = 0
    public var step = 0
    /// Every step passed, in order ("3.2"); skipped ones are marked.
    public var passed: [String] = []
    /// The last check of the current step.
    public var lastCheck: LabCheckResult?
    /// The tmux pane and the shell leading the lab terminal's session.
    public var pane: String?
    public var leader: Int32?
    public var phase: Phase = .lessons
    public var tableScroll = 0
    /// How many events were performed (each needs a fresh terminal: N).
    public var runs = 0

    public init(shell: LabShell, pane: String? = nil, leader: Int32? = nil) {
        self.shell = shell
        lessons = LabLessons.lessons(for: shell)
        self.pane = pane
        self.leader = leader
    }

    public var finished: Bool { lesson >= lessons.count }
    public var currentLesson: LabLesson? { finished ? nil : lessons[lesson] }
    public var currentStep: LabStep? { currentLesson.flatMap { step < $0.steps.count ? $0.steps[step] : nil } }
    public var stepCount: Int { lessons.reduce(0) { $0 + $1.steps.count } }

    /// Lines the lesson strip takes at a screen height.
    public static func stripHeight(_ height: Int) -> Int { height >= 36 ? 10 : height >= 20 ? 7 : 4 }

    mutating func advance(skipped: Bool) {
        guard let l = currentLesson else { return }
        passed.append("\(lesson + 1).\(step + 1)\(skipped ? " skipped" : "")")
        step += 1
        if step >= l.steps.count { lesson += 1; step = 0 }
        lastCheck = nil
    }

    mutating func back() {
        if step > 0 { step -= 1 } else if lesson > 0 {
            lesson -= 1
            step = max(0, lessons[lesson].steps.count - 1)
        }
        lastCheck = nil
    }

    mutating func restart() {
        lesson = 0
        step = 0
        passed = []
        lastCheck = nil
        phase = .lessons
        tableScroll = 0
    }
}

extension AppState {
    /// After each scan: the pinned session follows the lab shell, and the current step's check
    /// runs on the new snapshot; a step that holds is passed (one step per scan).
    mutating func labAfterSnapshot() {
        guard var lab else { return }
        defer { self.lab = lab }
        if let leader = lab.leader { pinnedSid = leader }
        guard case .lessons = lab.phase, let sid = lab.leader, let step = lab.currentStep,
              snapshot.session(sid) != nil else { return }
        let r = step.check.evaluate(snapshot, session: sid)
        lab.lastCheck = r
        if r.holds {
            setNote("✓ \(step.type): \(r.seen)")
            noteHeldUntil = now + 3
            lab.advance(skipped: false)
        }
    }

    /// Keys of the lab; nil when the key is not the lab's (the inspector handles it).
    mutating func labKey(_ k: Key) -> [Effect]? {
        guard var lab else { return hungUpKey(k) }
        defer { self.lab = lab }
        switch lab.phase {
        case .confirm(let i):
            let all = HangupEvent.allCases
            switch k {
            case .char("1"), .char("2"), .char("3"):
                if case .char(let c) = k, let n = c.wholeNumberValue { lab.phase = .confirm(n - 1) }
            case .up, .left: lab.phase = .confirm((i + all.count - 1) % all.count)
            case .down, .right, .tab: lab.phase = .confirm((i + 1) % all.count)
            case .char("y"), .char("Y"), .enter:
                guard lab.leader != nil, snapshot.session(lab.leader!) != nil else {
                    lab.phase = .lessons
                    setNote("the lab terminal is gone: press N for a new one")
                    return []
                }
                lab.phase = .lessons
                setNote("freezing the prediction, then: \(all[i].title)…")
                return [.lab(.perform(all[i]))]
            case .char("n"), .char("N"), .escape, .char("q"):
                lab.phase = .lessons
                setNote("nothing done")
            default: break
            }
            return []
        case .watching:
            if k == .char("q") || k == .function(10) { return nil }
            return []
        case .table(let t, _):
            switch k {
            case .up: lab.tableScroll = max(0, lab.tableScroll - 1)
            case .down, .char("j"): lab.tableScroll = min(max(0, t.rows.count - 1), lab.tableScroll + 1)
            case .escape: lab.phase = .lessons
            case .char("N"): lab.restart(); setNote("opening a new lab terminal…"); return [.lab(.newTerminal)]
            case .char("q"), .function(10): return nil
            default: break
            }
            return []
        case .lessons:
            switch k {
            case .char("H"):
                guard let sid = lab.leader, snapshot.session(sid) != nil else {
                    setNote("the lab terminal is gone: press N for a new one")
                    return []
                }
                lab.phase = .confirm(HangupEvent.allCases.firstIndex(of: event) ?? 0)
                return []
            case .char("N"):
                lab.restart()
                setNote("opening a new lab terminal…")
                return [.lab(.newTerminal)]
            case .char(">"):
                guard let s = lab.currentStep else { return [] }
                setNote(s.check.isUnverifiable ? "passed by hand: \(s.type)" : "skipped (not checked): \(s.type)")
                lab.advance(skipped: true)
                return []
            case .char("<"):
                lab.back()
                return []
            default: return nil
            }
        }
    }

    /// Results from the lab host.
    mutating func labEvent(_ e: LabEvent) -> [Effect] {
        guard var lab else { return [] }
        defer { self.lab = lab }
        switch e {
        case .terminal(let pane, let leader):
            lab.pane = pane
            lab.leader = leader
            pinnedSid = leader
            openSessions.insert(leader)
            setNote("lab terminal ready: session \(leader)")
            refreshRows()
            return [.refreshNow]
        case .started(let f):
            lab.phase = .watching(f, since: now)
            lab.runs += 1
            setNote("\(f.event.title): watching what really happens…")
            return [.refreshNow]
        case .reality(let t, let log):
            lab.phase = .table(t, log: log)
            lab.tableScroll = 0
            setNote(t.summary)
            noteHeldUntil = now + 5
            return []
        case .failed(let why):
            if case .watching = lab.phase { lab.phase = .lessons }
            setNote(why)
            return []
        }
    }
}

extension AppState {
    /// `--sid`: while the pinned session lives, remember its terminal; when it is gone and
    /// another session has that terminal (the window's shell was replaced), follow it. The lab
    /// follows its pane instead (LabHost reports the new shell).
    mutating func followPinnedSession() {
        guard let sid = pinnedSid else { return }
        if let s = snapshot.session(sid) { pinnedTTY = s.tty; return }
        guard lab == nil, let tty = pinnedTTY,
              let next = snapshot.sessions.first(where: { $0.tty == tty && $0.sid != sid }) else { return }
        pinnedSid = next.sid
        openSessions.insert(next.sid)
        setNote("session \(sid) ended; following \(tty) to session \(next.sid)")
        refreshRows()
    }
}

extension AppState {
    /// Lists only session `sid` (open), from now on.
    public mutating func pinSession(_ sid: Int32) {
        pinnedSid = sid
        pinnedTTY = snapshot.session(sid)?.tty
        openSessions.insert(sid)
        refreshRows()
        if let i = rows.firstIndex(of: Row(key: .session(sid))) { move(to: i) }
    }
}
