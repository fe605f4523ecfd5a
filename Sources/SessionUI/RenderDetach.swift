import SessionCore

/// The detach-in-place dialog (issue 8): the plan's lines, then the keys. From the state only.
extension Renderer {
    /// Why detaching changes nothing that matters: every member's verdict (for the event shown)
    /// is already a certain survives / unaffected. nil when one of them is at risk.
    func alreadySafe(_ plan: DetachPlan) -> String? {
        var reason: String?
        for m in plan.members {
            guard let v = state.verdicts[m.identity.pid] else {
                // No verdict: the analysis covers sessions with a terminal only.
                guard snap.session(m.sid)?.tty == nil, plan.ttyNr == 0, m.terminalFds.isEmpty else { return nil }
                if reason == nil { reason = "its session has no terminal: no hangup can reach it" }
                continue
            }
            guard v.certain, v.fate == .survives || v.fate == .unaffected else { return nil }
            if reason == nil { reason = v.reasons.first }
        }
        let who = plan.members.count == 1 ? "it" : "all \(plan.members.count)"
        return "\(who) already \(plan.members.count == 1 ? "survives" : "survive") a hangup" + (reason.map { " (\($0))" } ?? "")
    }

    func drawDetachInPlace(_ s: inout Screen, _ plan: DetachPlan, top: Int, bottom: Int) {
        let w = min(s.width - 2, 100)
        guard w >= 20 else { return }
        var lines = planLines(plan.preview, width: w - 4)
        if let why = alreadySafe(plan) {
            lines += hangingWrap("no need to detach: " + why, style: st(.note), width: w - 4, hang: 2)
        }
        lines.append([])
        let keys = wrapSpans([("y", st(.header)), (" detach in place", .plain),
                              ("    r", st(.header)), (" relaunch instead (restarts from scratch)", .plain),
                              ("    n", st(.header)), (" or ", .plain), ("Esc", st(.header)), (" cancel", .plain)], width: w - 4)
        drawPlanBox(&s, lines + keys, keys: keys.count, width: w, title: "Detach \(plan.subject) in place", top: top, bottom: bottom)
    }
}
