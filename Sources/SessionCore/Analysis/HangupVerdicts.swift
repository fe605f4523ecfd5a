/// Every hangup verdict of one snapshot, computed once: for each event and each terminal
/// (each session with a controlling tty), the fate of its members and of the outsiders the
/// event reaches (processes of other sessions holding the terminal, or in the same logind
/// scope). Every view — the TUI's tree, header and detail pane, `hangup`, `snapshot --json` —
/// reads these, so a process's verdict never depends on how it is asked for.
public struct HangupVerdicts: Sendable {
    /// event → session id of the terminal → pid → verdict.
    public let byTerminal: [HangupEvent: [Int32: [Int32: Verdict]]]
    /// event → pid → the verdict for the event striking the process's own terminal: its
    /// session's terminal, or — for a process whose session has none — the terminal it holds
    /// open (the worst verdict when it holds several).
    public let forProcess: [HangupEvent: [Int32: Verdict]]
    /// pid → session id of the terminal `forProcess` speaks of.
    public let terminalOf: [Int32: Int32]

    /// Analyses every terminal of `snapshot` under `events`.
    public init(_ snapshot: Snapshot, events: [HangupEvent] = HangupEvent.allCases) {
        let index = TerminalHolders(snapshot)
        self.init(snapshot, events: events) { sid, event in
            HangupAnalysis.analyze(snapshot, session: sid, event: event, index: index)
        }
    }

    /// The same from a per-terminal analysis (tests hand in made-up verdicts).
    public init(_ snapshot: Snapshot, events: [HangupEvent],
                analyze: (_ sid: Int32, _ event: HangupEvent) -> [Int32: Verdict]) {
        var byTerminal: [HangupEvent: [Int32: [Int32: Verdict]]] = [:]
        var forProcess: [HangupEvent: [Int32: Verdict]] = [:]
        var terminalOf: [Int32: Int32] = [:]
        let terminals = snapshot.sessions.filter { $0.ttyDevice != 0 }
        for event in events {
            var perTerminal: [Int32: [Int32: Verdict]] = [:]
            var mine: [Int32: Verdict] = [:]
            var outside: [Int32: (sid: Int32, verdict: Verdict)] = [:]
            for s in terminals {
                let v = analyze(s.sid, event)
                perTerminal[s.sid] = v
                for (pid, verdict) in v {
                    guard let p = snapshot.processes[pid] else { continue }
                    if p.sid == s.sid {
                        mine[pid] = verdict
                        terminalOf[pid] = s.sid
                    } else if snapshot.session(p.sid)?.ttyDevice ?? 0 == 0 {
                        // Its own session has no terminal: this one is its terminal.
                        if let o = outside[pid], Self.rank(o.verdict) <= Self.rank(verdict) { continue }
                        outside[pid] = (s.sid, verdict)
                    }
                }
            }
            for (pid, o) in outside where mine[pid] == nil {
                mine[pid] = o.verdict
                terminalOf[pid] = o.sid
            }
            byTerminal[event] = perTerminal
            forProcess[event] = mine
        }
        self.byTerminal = byTerminal
        self.forProcess = forProcess
        self.terminalOf = terminalOf
    }

    /// Worse first: dies, at-risk, survives, unaffected, exited; uncertain before certain.
    static func rank(_ v: Verdict) -> Int {
        let f: Int
        switch v.fate {
        case .dies: f = 0
        case .atRisk: f = 2
        case .survives: f = 4
        case .unaffected: f = 6
        case .exited: f = 8
        }
        return f + (v.certain ? 1 : 0)
    }

    public func verdict(_ pid: Int32, _ event: HangupEvent) -> Verdict? { forProcess[event]?[pid] }

    /// The verdicts of one terminal (members and outsiders) under `event`.
    public func terminal(_ sid: Int32, _ event: HangupEvent) -> [Int32: Verdict] { byTerminal[event]?[sid] ?? [:] }
}
