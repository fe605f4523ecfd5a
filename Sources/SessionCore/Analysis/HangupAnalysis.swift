/// Predicts who dies when a terminal hangs up. A pure function of a snapshot: no I/O.
/// The kernel and shell facts behind it, with sources: ../shared/hangup-semantics.md.
///
/// The signals a process receives are collected as `Hit`s in the order they happen
/// (the leader's signal, what the shell sends its jobs — from the shell's own job table when
/// its memory could be read and checked —, what the kernel sends when the leader exits, the
/// orphaned-group rule, logind), then each process's own dispositions (SigIgn, SigBlk, SigCgt,
/// stopped) decide what each hit does to it. Whoever survives every signal but holds the dead
/// terminal open, or handles its SIGHUP, is at risk: what happens then is up to the program.
public enum HangupAnalysis {
    /// The verdict for every process of session `sid`, and for processes of other sessions
    /// that hold fds on its terminal or share its logind scope. Processes not returned are
    /// unaffected. The same verdicts `verdicts(_:)` gives for this terminal.
    public static func analyze(_ snapshot: Snapshot, session sid: Int32, event: HangupEvent) -> [Int32: Verdict] {
        analyze(snapshot, session: sid, event: event, index: TerminalHolders(snapshot))
    }

    static func analyze(_ snapshot: Snapshot, session sid: Int32, event: HangupEvent,
                        index: TerminalHolders) -> [Int32: Verdict] {
        guard let session = snapshot.session(sid) else { return [:] }
        let ctx = Context(snapshot: snapshot, session: session, event: event, holders: index)
        var out: [Int32: Verdict] = [:]
        for g in session.groups {
            for pid in g.members {
                guard let p = snapshot.processes[pid] else { continue }
                out[pid] = ctx.verdict(for: p)
            }
        }
        for (pid, v) in ctx.outsiderVerdicts() { out[pid] = v }
        return out
    }
}

/// One signal (or signal pair) that reaches a process, with the rule that sends it.
struct Hit {
    var signal: Int32
    /// SIGCONT follows (a stopped process wakes up and takes the signal).
    var cont: Bool
    var by: Killer
    /// False when it is not known whether it is really sent (a race, fish's disown, a shell
    /// whose memory could not be read).
    var certain: Bool
    /// "It may be sent": it cannot make the process die, only make the verdict uncertain
    /// (bash `huponexit` on a login shell whose memory could not be read).
    var maybe = false
    /// The rule, as a sentence with its source.
    var rule: String
    /// Why it may not be sent (named when `certain` is false).
    var doubt: String? = nil
}

/// Everything the rules need about the session, computed once per analysis.
struct Context {
    let snapshot: Snapshot
    let session: Session
    let event: HangupEvent
    let holders: TerminalHolders
    let leader: ProcessInfo?
    let shell: ShellProfile?
    let leaderPgid: Int32?
    /// The terminal's name for reasons (`pts/3`).
    let ttyName: String
    /// Groups other than the leader's with a member whose parent is the leader: the shell's
    /// jobs as /proc shows them (a disowned job looks the same: its parent is still the shell).
    let jobs: Set<Int32>
    /// The leader's own job table, read from its memory and checked against this snapshot.
    let view: ShellView?
    /// Why the leader's memory is not used (when it is bash or zsh), for the reasons.
    let memoryNote: String?
    /// logind's view of this session, when the session runs in a logind scope.
    let logind: LogindFacts?
    /// The leader's own verdict (decides whether the "leader exits" rules fire).
    private(set) var leaderVerdict: Verdict?

    init(snapshot: Snapshot, session: Session, event: HangupEvent, holders: TerminalHolders) {
        self.snapshot = snapshot
        self.session = session
        self.event = event
        self.holders = holders
        let leader = session.leader.flatMap { snapshot.processes[$0] }
        self.leader = leader
        let shell = leader.map { ShellProfile.detect($0) }
        self.shell = shell
        self.leaderPgid = leader?.pgid
        self.ttyName = session.tty ?? "its terminal"
        var jobs: Set<Int32> = []
        if let l = leader {
            for g in session.groups where g.pgid != l.pgid {
                if g.members.contains(where: { snapshot.processes[$0]?.ppid == l.pid }) { jobs.insert(g.pgid) }
            }
        }
        self.jobs = jobs
        if let l = leader, let mem = snapshot.shellMemory[l.pid] {
            view = mem.trustedView
            memoryNote = mem.trusted ? nil : mem.reason
        } else {
            view = nil
            memoryNote = nil
        }
        logind = leader.flatMap { LogindFacts(snapshot: snapshot, leader: $0) }
        self.leaderVerdict = nil
        if let l = leader { leaderVerdict = leaderOwnVerdict(l) }
    }

    var hasTerminal: Bool { session.ttyDevice != 0 }

    /// Whether the leader's exit (and the kernel rules that follow it) happens: certain,
    /// uncertain (with why), or not at all.
    var leaderExits: (exits: Bool, certain: Bool, doubt: String?) {
        guard let v = leaderVerdict else { return (false, true, nil) }
        if v.fate == .dies || v.fate == .exited { return (true, v.certain, v.certain ? nil : "if the leader really exits") }
        if v.fate == .atRisk { return (true, false, "if the leader exits (its own SIGHUP handler decides)") }
        return (!v.certain, false, v.certain ? nil : "only if the leader exits")
    }

    // MARK: verdicts

    func verdict(for p: ProcessInfo) -> Verdict {
        guard hasTerminal else {
            return Verdict(fate: .unaffected, reasons: ["session \(session.sid) has no controlling terminal: no hangup can reach it"])
        }
        if p.state.isGone && p.pid != leader?.pid {
            return Verdict(fate: .exited, reasons: ["it has already exited (state Z): only its parent's wait is left"])
        }
        guard leader != nil else {
            return noLeaderVerdict(p)
        }
        if p.pid == leader?.pid, let v = leaderVerdict { return v }
        let hits = hitsFor(p)
        return resolve(p, hits: hits)
    }

    /// A session whose leader is gone: nobody gets the leader's SIGHUP, nobody can exit.
    func noLeaderVerdict(_ p: ProcessInfo) -> Verdict {
        let gone = "the session leader \(session.sid) is gone: no process receives the terminal's SIGHUP (tty_jobctrl.c tty_signal_session_leader signals the leader only)"
        switch event {
        case .hangup:
            switch ioFacts(p) {
            case .holds(let lines)?: return Verdict(fate: .atRisk, reasons: [gone] + lines)
            case .unreadable(let line)?: return Verdict(fate: .survives, certain: false, reasons: [gone, "uncertain: " + line])
            case nil: return Verdict(fate: .survives, reasons: [gone, "it holds no fd on \(ttyName)"])
            }
        case .leaderExit, .logout:
            return Verdict(fate: .survives, reasons: [gone + "; there is no leader to kill or to exit"])
        }
    }

    /// All the signals that reach `p`, in the order they are sent.
    func hitsFor(_ p: ProcessInfo) -> [Hit] {
        var hits: [Hit] = []
        let exits = leaderExits
        switch event {
        case .hangup:
            hits += shellHits(p)
            if exits.exits { hits += kernelHitsAtLeaderExit(p, exits: exits) }
        case .leaderExit:
            hits += kernelHitsAtLeaderExit(p, exits: exits)
        case .logout:
            hits += shellHits(p)
            hits += kernelHitsAtLeaderExit(p, exits: exits)
        }
        if exits.exits, let orphan = orphanedGroupHit(p, earlier: hits, exits: exits) { hits.append(orphan) }
        hits += logindHits(p)
        return hits
    }

    /// Turns the hits into a fate, with the process's own dispositions as evidence.
    func resolve(_ p: ProcessInfo, hits: [Hit]) -> Verdict {
        var reasons: [String] = []
        var stopped = p.state.isStopped
        var pendingLethal: Hit?
        var killer: Hit?
        var anyCertainLethal = false
        var doubts: [String] = []
        /// A signal its handler takes (certainly sent, or maybe).
        var handled: Hit?
        var handledCertain = false
        /// Why a non-lethal outcome is uncertain ("it may be sent" hits).
        var uncertainWhy: String?
        for h in hits {
            if h.signal == 0 { reasons.append(h.rule); continue }
            var effect = Disposition.effect(of: h.signal, on: p)
            var line = h.rule
            if case .caught = effect, h.signal == Signals.hup, let fork = shellFork(p) {
                if let note = fork.lethal {
                    effect = .lethal
                    line += "; " + note
                } else if let note = fork.trap {
                    line += "; " + note
                }
            }
            if h.maybe {
                if case .lethal = effect {
                    let doubt = h.doubt ?? "it is not known whether it is sent"
                    line += ": " + doubt + "; if it is, " + effect.text(h.signal)
                    uncertainWhy = uncertainWhy ?? doubt
                    reasons.append(line)
                }
                continue
            }
            switch effect {
            case .lethal:
                if stopped && !h.cont && killer == nil {
                    line += "; it is stopped, so SIG\(Signals.name(of: h.signal)) stays pending until a SIGCONT (kernel/signal.c)"
                    pendingLethal = pendingLethal ?? h
                } else {
                    line += "; " + effect.text(h.signal)
                    if killer == nil { killer = h }
                    if h.certain { anyCertainLethal = true } else if let d = h.doubt { doubts.append(d) }
                }
            case .caught:
                line += "; " + effect.text(h.signal)
                if killer == nil {
                    if handled == nil { handled = h }
                    if h.certain { handledCertain = true }
                }
            default:
                line += "; " + effect.text(h.signal)
            }
            if h.cont && stopped {
                stopped = false
                if let pl = pendingLethal, killer == nil {
                    killer = pl
                    if pl.certain { anyCertainLethal = true } else if let d = pl.doubt { doubts.append(d) }
                }
            }
            // After the fatal signal, later ones are kept only as a short epilogue.
            if killer == nil || reasons.count < 6 { reasons.append(line) }
        }
        if let k = killer {
            var v = Verdict(fate: .dies, by: k.by, certain: anyCertainLethal, reasons: reasons)
            if !anyCertainLethal {
                v.reasons.append("uncertain: " + (doubts.first ?? "a signal above may not be sent"))
            }
            return v
        }
        if stopped {
            reasons.append("it stays stopped (state T): nothing continues it")
        }
        if reasons.isEmpty { reasons.append(noSignalReason(p)) }
        // Nothing kills it. The dead terminal (hangup, and logout: the terminal goes away once
        // the shell is gone) or a SIGHUP handler leaves the rest to the program.
        let io = !stopped ? ioFacts(p) : nil
        if let h = handled {
            reasons.append("its SIG\(Signals.name(of: h.signal)) handler runs: whether it exits then is up to the program")
            var v = Verdict(fate: .atRisk, reasons: reasons)
            switch io {
            case .holds(let lines)?:
                // At risk either way: the handler, or the dead terminal.
                v.reasons += lines
            case .unreadable(let line)?:
                v.reasons.append(line)
                if !handledCertain { v.certain = false; uncertainWhy = uncertainWhy ?? h.doubt }
            case nil:
                if !handledCertain { v.certain = false; uncertainWhy = uncertainWhy ?? h.doubt ?? "the signal above may not be sent" }
            }
            if event == .leaderExit, let fds = terminalFDs(p), !fds.isEmpty {
                v.reasons.append("the terminal stays open, so its fds on \(ttyName) keep working")
            }
            return finish(v, uncertainWhy: uncertainWhy)
        }
        switch io {
        case .holds(let lines)?:
            return finish(Verdict(fate: .atRisk, reasons: reasons + lines), uncertainWhy: uncertainWhy)
        case .unreadable(let line)?:
            return finish(Verdict(fate: .survives, certain: false, reasons: reasons + ["uncertain: " + line]), uncertainWhy: uncertainWhy)
        case nil:
            break
        }
        var v = Verdict(fate: .survives, reasons: reasons)
        if event == .leaderExit, let fds = terminalFDs(p), !fds.isEmpty {
            v.reasons.append("the terminal stays open, so its fds on \(ttyName) keep working")
        }
        if stopped && terminalHangsUp, let fds = terminalFDs(p), !fds.isEmpty {
            v.reasons.append("it holds \(ttyName) open, but a stopped process does not use it")
        }
        if event == .logout, let l = leader, session.foregroundPgid != l.pgid, session.foregroundPgid == p.pgid,
           shell?.interactive == true {
            v.certain = false
            v.reasons.append("uncertain: its group \(p.pgid) holds the terminal, so the shell reads `exit` only after it ends")
        }
        return finish(v, uncertainWhy: uncertainWhy)
    }

    /// Marks a verdict uncertain with the named reason (once).
    func finish(_ verdict: Verdict, uncertainWhy: String?) -> Verdict {
        var v = verdict
        if uncertainWhy != nil { v.certain = false }
        if !v.certain, !v.reasons.contains(where: { $0.hasPrefix("uncertain") }) {
            v.reasons.append("uncertain: " + (uncertainWhy ?? "a signal above may be sent"))
        }
        return v
    }

    /// A fork of the leader bash or zsh (`$( … )`, `( … ) &`: same exe and argv) catching
    /// SIGHUP: with no `trap … HUP` of its own (read from its memory) the handler is the shell's,
    /// which exits — bash sig.c termsig_sighandler → termsig_handler → kill_shell, zsh
    /// Src/signals.c zhandler → zexit. zsh forks whose memory was not read are taken to run
    /// zsh's handler, as before; bash ones are left to their handler.
    func shellFork(_ p: ProcessInfo) -> (lethal: String?, trap: String?)? {
        guard let l = leader, let kind = shell?.kind, kind == .bash || kind == .zsh, p.pid != l.pid, p.sid == l.sid,
              let exe = p.exe.value, exe == l.exe.value, let argv = p.argv.value, argv == l.argv.value
        else { return nil }
        let name = kind == .bash ? "bash" : "zsh"
        let how = kind == .bash ? "sig.c termsig_sighandler → kill_shell" : "Src/signals.c zhandler → zexit"
        switch snapshot.shellForkTraps[p.pid] {
        case false?:
            return ("it is a fork of the leader \(name) (same program and argv) with no `trap … HUP` of its own (read from its memory), so \(name)'s own SIGHUP handler runs and exits (\(how))", nil)
        case true?:
            return (nil, "it is a fork of the leader \(name) with its own `trap … HUP` (read from its memory)")
        case nil:
            if kind == .zsh {
                return ("it is a subshell of the leader zsh (same program and argv), and zsh's own SIGHUP handler exits (\(how))", nil)
            }
            return nil
        }
    }

    func noSignalReason(_ p: ProcessInfo) -> String {
        if p.sid != session.sid { return "it is in session \(p.sid), not \(session.sid)" }
        if jobs.contains(p.pgid) { return "no rule sends its group \(p.pgid) a signal" }
        return "its group \(p.pgid) is not a job of the leader (no member is the leader's child), not the foreground group, and no rule signals it"
    }
}

/// What a signal does to a process, from `/proc/<pid>/status` (SigIgn, SigBlk per thread,
/// SigCgt) — `kernel/signal.c` sig_ignored / the default action.
enum Disposition {
    case ignored, blocked, caught, lethal

    static func effect(of sig: Int32, on p: ProcessInfo) -> Disposition {
        if sig == Signals.kill { return .lethal }
        if p.signals.ignored.contains(sig) { return .ignored }
        if p.signals.blockedInAllThreads.contains(sig) { return .blocked }
        if p.signals.caught.contains(sig) { return .caught }
        return .lethal
    }

    func text(_ sig: Int32) -> String {
        let n = Signals.name(of: sig)
        switch self {
        case .ignored: return "SigIgn holds \(n) (as nohup or `trap '' \(n)` set it): no effect"
        case .blocked: return "SigBlk holds \(n) in every thread: it stays pending while the mask holds"
        case .caught: return "SigCgt holds \(n): its handler runs instead of the default action"
        case .lethal:
            if sig == Signals.kill { return "SIGKILL cannot be ignored, blocked or caught: it ends it" }
            return "it neither ignores, blocks nor catches \(n): the default action ends it"
        }
    }
}

extension HangupAnalysis {
    /// For each event, every process's verdict for that event happening to its own terminal
    /// (HangupVerdicts.forProcess). Kept for callers of the per-session API.
    public static func ownSessionVerdicts(_ snapshot: Snapshot, sessions: [Session])
        -> [HangupEvent: [Int32: Verdict]] {
        let all = HangupVerdicts(snapshot)
        let wanted = Set(sessions.flatMap { s in s.groups.flatMap(\.members) })
        var out: [HangupEvent: [Int32: Verdict]] = [:]
        for event in HangupEvent.allCases {
            out[event] = (all.forProcess[event] ?? [:]).filter { wanted.contains($0.key) }
        }
        return out
    }
}
