import SessionCore

/// The pure half of detach in place in the TUI (issue 8 §1): `D` / F8 plans in place by
/// default; the dialog offers relaunch as the other choice.
extension AppState {
    mutating func detachInPlaceKey(_ k: Key, plan: DetachPlan) -> [Effect] {
        switch k {
        case .char("y"), .char("Y"):
            dialog = nil
            setNote("detaching \(plan.subject) in place…")
            return [.detachInPlace(plan)]
        case .char("r"), .char("R"):
            guard let first = plan.members.first(where: { m in
                if case .process(let p) = plan.target { return m.identity.pid == p }
                return true
            }) else { return [] }
            return [.planRelaunch(first.identity, via: .daemonize)]
        case .char("n"), .char("N"), .escape, .char("q"):
            dialog = nil
            setNote("detach cancelled: \(plan.subject) left as it is")
        default: break
        }
        return []
    }

    /// The members detached, for the detail pane (the host appended them to `detached.tsv`).
    mutating func remember(_ outcome: DetachOutcome) {
        let when = Int64(wallClock())
        for m in outcome.members where m.status == .detached {
            detachRecords[m.identity] = DetachRecord.Entry(identity: m.identity, when: when, log: outcome.plan.logPath)
        }
    }

    mutating func detachResult(_ event: AppEvent) -> [Effect] {
        switch event {
        case .detachPlanned(let plan):
            dialog = .detachInPlace(plan)
            return []
        case .detached(let outcome):
            holdNote(outcome.line)
            remember(outcome)
            return [.refreshNow]
        case .detachedEach(let outcomes, let refused):
            let done = outcomes.filter(\.done).count
            let jobs = outcomes.count + refused.count
            var text = "detached in place \(done) of \(plural(jobs, "job"))"
            if let bad = outcomes.first(where: { !$0.done })?.line ?? refused.first { text += " — " + bad }
            else if let first = outcomes.first { text += ": " + first.line }
            holdNote(text)
            for o in outcomes { remember(o) }
            // Detached ones are done with: their tags go; the others stay tagged.
            let detached = Set(outcomes.flatMap { $0.members.filter { $0.status == .detached }.map(\.identity) })
            tagged.subtract(detached)
            return [.refreshNow]
        default:
            return []
        }
    }
}
