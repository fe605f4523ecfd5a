import SessionCore

/// The pure half of the actions (issue 5): the signal menu, its confirmation and the detach
/// dialog. Keys change `dialog` and return effects; the host runs them through the core
/// (`SignalSender`, `Relauncher`) and feeds the results back as events.
extension AppState {
    /// Seconds an action's result holds the status line against the vanished-selection note.
    static let actionNoteSeconds: Double = 4
    /// How long a relaunched pid is looked for in new scans.
    static let pendingSelectSeconds: Double = 10

    mutating func holdNote(_ text: String) {
        setNote(text)
        noteHeldUntil = now + Self.actionNoteSeconds
    }

    // MARK: Targets

    /// What `k` aims at on a row: a process by identity, a group, a session; nil for a gone row.
    public func signalTarget(for row: Row) -> SignalTarget? {
        switch row.key {
        case .process(let id): return .process(id)
        case .group(let pgid): return .group(pgid)
        case .session(let sid): return .session(sid)
        case .gone: return nil
        }
    }

    /// The processes the target holds in the current snapshot (what the core will re-resolve).
    public func members(of target: SignalTarget) -> [ProcessInfo] {
        switch target {
        case .process(let id):
            guard let p = snapshot.process(id.pid), p.startTime == id.startTime else { return [] }
            return [p]
        case .group(let pgid):
            return snapshot.group(pgid)?.members.compactMap { snapshot.process($0) } ?? []
        case .session(let sid):
            return snapshot.session(sid)?.groups.flatMap { $0.members }.compactMap { snapshot.process($0) } ?? []
        }
    }

    /// Why the core will refuse this target (its guard rails, `SignalSender.refusal`), seen in
    /// the snapshot: shown in the menu before anything is sent. The TUI never forces.
    public func refusalHint(_ target: SignalTarget) -> String? {
        let ms = members(of: target)
        let whole: String
        switch target {
        case .process: whole = "this process is"
        case .group: whole = "this group holds"
        case .session: whole = "this session holds"
        }
        if ms.contains(where: { $0.pid == 1 }) { return "\(whole) pid 1 (init): sessiontop refuses to signal it" }
        if let k = ms.first(where: { $0.isKernelThread }) { return "\(whole) kernel thread \(k.pid): sessiontop refuses to signal it" }
        if ms.contains(where: { $0.pid == snapshot.selfPid }) {
            return "\(whole) sessiontop itself (pid \(snapshot.selfPid)): it refuses to signal it"
        }
        return nil
    }

    /// `process 1100 (sleep 1000)`, `process group 1150 (2 processes)`, `session 1000 (pts/0, 6 processes)`.
    public func describe(_ target: SignalTarget) -> String {
        let n = members(of: target).count
        switch target {
        case .process(let id):
            guard let p = members(of: target).first else { return "process \(id.pid) (exited)" }
            return "process \(id.pid) (\(DisplayWidth.clip(Self.command(p), to: 40)))"
        case .group(let g): return "process group \(g) (\(plural(n, "process")))"
        case .session(let s):
            let tty = snapshot.session(s)?.tty.map { "\($0), " } ?? ""
            return "session \(s) (\(tty)\(plural(n, "process")))"
        }
    }

    // MARK: Opening

    mutating func openSignalMenu() {
        if let why = actionsDisabled { setNote(why); return }
        if !tagged.isEmpty && !taggedProcesses.isEmpty {
            dialog = .signalMenuTagged(targets: taggedProcesses.map(\.identity), index: 0, typed: "")
            return
        }
        guard let row = selectedRow else { setNote("nothing selected"); return }
        guard let target = signalTarget(for: row) else {
            if case .gone(let id) = row.key { setNote("pid \(id.pid) has exited: nothing to signal") }
            return
        }
        dialog = .signalMenu(target: target, index: 0, typed: "")
    }

    mutating func detach() -> [Effect] {
        if let why = actionsDisabled { setNote(why); return [] }
        if !tagged.isEmpty, !taggedProcesses.isEmpty {
            dialog = .detachTagged(targets: taggedProcesses.map(\.identity), via: .daemonize)
            return []
        }
        switch selectedRow?.key {
        case .process(let id)?:
            guard selectedProcess != nil else { setNote("pid \(id.pid) has exited: nothing to detach"); return [] }
            return [.planDetach(id)]
        case .gone(let id)?:
            setNote("pid \(id.pid) has exited: nothing to detach")
        default:
            setNote("detach works on a process and its job: select a process row, then D")
        }
        return []
    }

    // MARK: Dialog keys

    mutating func dialogKey(_ k: Key) -> [Effect] {
        switch dialog {
        case .signalMenu(let target, let index, let typed)?:
            return signalMenuKey(k, aim: .one(target), index: index, typed: typed)
        case .signalMenuTagged(let ids, let index, let typed)?:
            return signalMenuKey(k, aim: .tagged(ids), index: index, typed: typed)
        case .detachTagged(let ids, let via)?:
            switch k {
            case .char("y"), .char("Y"):
                dialog = nil
                setNote("detaching the jobs of \(plural(ids.count, "tagged process")) in place…")
                return [.detachInPlaceEach(ids)]
            case .char("r"), .char("R"):
                dialog = nil
                setNote("relaunching \(plural(ids.count, "tagged process")) via \(via.rawValue)…")
                return [.relaunchEach(ids, via: via)]
            case .char("v"):
                dialog = .detachTagged(targets: ids, via: via == .daemonize ? .tmux : .daemonize)
            case .char("n"), .char("N"), .escape, .char("q"):
                dialog = nil
                setNote("detach cancelled: the tagged processes left as they are")
            default: break
            }
        case .confirmSignalTagged(let ids, let sig)?:
            switch k {
            case .char("y"), .char("Y"):
                dialog = nil
                return [.sendSignalEach(ids, signal: sig)]
            case .char("n"), .char("N"), .escape, .char("q"):
                dialog = nil
                setNote("not sent: SIG\(Signals.name(of: sig)) to \(plural(ids.count, "tagged process"))")
            default: break
            }
        case .confirmSignal(let target, let sig)?:
            switch k {
            case .char("y"), .char("Y"):
                dialog = nil
                return [.sendSignal(target, signal: sig)]
            case .char("n"), .char("N"), .escape, .char("q"):
                dialog = nil
                setNote("not sent: SIG\(Signals.name(of: sig)) to \(target)")
            default: break
            }
        case .relaunch(let plan)?:
            switch k {
            case .char("y"), .char("Y"):
                dialog = nil
                setNote("relaunching pid \(plan.original.pid) via \(plan.via.rawValue): the copy must run \(RelaunchPlan.seconds(plan.grace)) s before the original is ended…")
                return [.relaunch(plan)]
            case .char("v"):
                return [.planRelaunch(plan.original, via: plan.via == .daemonize ? .tmux : .daemonize)]
            case .char("n"), .char("N"), .escape, .char("q"):
                dialog = nil
                setNote("detach cancelled: pid \(plan.original.pid) left as it is")
            default: break
            }
        case .detachInPlace(let plan)?:
            return detachInPlaceKey(k, plan: plan)
        case nil: break
        }
        return []
    }

    /// What a signal menu aims at: one target, or each tagged process.
    enum SignalAim {
        case one(SignalTarget)
        case tagged([ProcessIdentity])
    }

    mutating func signalMenuKey(_ k: Key, aim: SignalAim, index: Int, typed: String) -> [Effect] {
        let all = SignalMenu.all
        var i = index
        var buffer = ""
        switch k {
        case .up: i -= 1
        case .down, .char("j"): i += 1
        case .pageUp: i -= 10
        case .pageDown: i += 10
        case .home: i = 0
        case .end: i = all.count - 1
        // q closes as in every other dialog (SIGQUIT is 3, or Q… by its name after s).
        case .escape, .function(9), .function(10), .char("q"):
            dialog = nil
            setNote("no signal sent")
            return []
        case .enter:
            let sig = all[min(max(0, index), all.count - 1)]
            switch aim {
            case .one(let target):
                if SignalMenu.needsConfirmation(sig) {
                    dialog = .confirmSignal(target: target, signal: sig)
                    return []
                }
                dialog = nil
                return [.sendSignal(target, signal: sig)]
            case .tagged(let ids):
                // Several processes at once: always asked, whatever the signal.
                dialog = .confirmSignalTagged(targets: ids, signal: sig)
                return []
            }
        case .backspace:
            buffer = String(typed.dropLast())
        case .char(let c) where c.isASCII && c.isNumber:
            // Digits build a number: 1 → HUP, then 5 → 15 TERM; a number not in the menu restarts.
            for candidate in [typed + String(c), String(c)] {
                if let n = Int32(candidate), let j = all.firstIndex(of: n) { i = j; buffer = candidate; break }
            }
        case .char(let c) where c.isLetter:
            // A first letter picks the first signal (in menu order) whose name starts with it
            // (t → TERM, k → KILL); the same letter again goes on to the next (TSTP, TRAP, …).
            let letter = String(c).uppercased()
            let n = all.count
            let repeating = typed == letter
            for step in 0..<n {
                let j = repeating ? (index + 1 + step) % n : step
                if Signals.name(of: all[j]).hasPrefix(letter) { i = j; break }
            }
            buffer = letter
        default: break
        }
        let j = min(max(0, i), all.count - 1)
        switch aim {
        case .one(let target): dialog = .signalMenu(target: target, index: j, typed: buffer)
        case .tagged(let ids): dialog = .signalMenuTagged(targets: ids, index: j, typed: buffer)
        }
        return []
    }

    // MARK: Results from the host

    mutating func actionResult(_ event: AppEvent) -> [Effect] {
        switch event {
        case .signalSent(let report):
            var text = report.summary
            // A group or session where some were not sent: say which first.
            if report.refusal == nil, report.members.count > 1,
               let bad = report.members.first(where: { !$0.outcome.isSent }) {
                text += " — " + bad.line(signal: report.signal)
            }
            holdNote(text)
            return [.refreshNow]
        case .relaunchPlanned(let plan):
            dialog = .relaunch(plan)
            return []
        case .relaunchStarted(let plan, let newPid):
            let new = newPid.map { "new pid \($0)" } ?? "started"
            let via = plan.via == .daemonize ? "log \(plan.logPath ?? "/dev/null")"
                : "tmux session \(plan.name); attach: " + RelaunchPlan.quote(["tmux"] + plan.tmuxServer + ["attach", "-t", plan.name])
            if let pid = newPid { pendingSelect = (pid, now + Self.pendingSelectSeconds) }
            if plan.endOriginal {
                holdNote("detached: \(new) (\(via)); ending pid \(plan.original.pid)…")
                return [.refreshNow, .endOriginal(plan, newPid: newPid)]
            }
            holdNote("detached: \(new) (\(via)); pid \(plan.original.pid) kept")
            return [.refreshNow]
        case .originalEnded(let plan, let newPid, let reports, let gone):
            let new = newPid.map { "new pid \($0)" } ?? "copy started"
            let old = "pid \(plan.original.pid)"
            if gone {
                let killed = reports.contains { $0.signal == Signals.kill && $0.allSent }
                holdNote("detached: \(new); original \(old) ended"
                         + (killed ? " (SIGKILL after \(Int(plan.termTimeout)) s)" : " (SIGTERM)"))
            } else {
                let why = reports.last(where: { !$0.allSent })?.summary ?? "still running after SIGKILL"
                holdNote("detached: \(new); original \(old) did NOT end: \(why)")
            }
            return [.refreshNow]
        case .actionFailed(let message):
            holdNote(message)
            return []
        case .relaunchedEach(let started, let lines):
            holdNote("relaunched \(started) of \(lines.count) tagged" + (lines.first.map { ": " + $0 } ?? ""))
            if started > 0 { tagged = [] }
            return [.refreshNow]
        case .signalsSent(let reports):
            let sent = reports.filter(\.allSent).count
            let sig = reports.first.map { "SIG" + Signals.name(of: $0.signal) } ?? "signal"
            var text = "\(sig) → \(plural(reports.count, "tagged process")): \(sent) sent"
            if let bad = reports.first(where: { !$0.allSent }) { text += " — " + bad.summary }
            holdNote(text)
            // Sent ones are done with: their tags go; refused or failed ones stay tagged.
            for r in reports where r.allSent { if case .process(let id) = r.target { tagged.remove(id) } }
            return [.refreshNow]
        case .detachPlanned, .detached, .detachedEach:
            return detachResult(event)
        default:
            return []
        }
    }

    /// After a scan: select the relaunched process once it shows up (its session and group
    /// opened), for a few seconds at most.
    mutating func selectPending() {
        guard let p = pendingSelect else { return }
        if now > p.until { pendingSelect = nil; return }
        guard let proc = snapshot.process(p.pid) else { return }
        pendingSelect = nil
        openSessions.insert(proc.sid)
        foldedGroups.remove(proc.pgid)
        rebuildRows()
        if let i = rows.firstIndex(where: { $0.key == .process(proc.identity) }) {
            move(to: i)
        } else {
            reselect(selection, oldIndex: selectedIndex)
            if let n = note { note = n + " (hidden by the filter \"\(filter.rawValue)\")" }
        }
    }
}
