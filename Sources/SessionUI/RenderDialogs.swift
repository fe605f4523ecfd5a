import SessionCore

/// The dialogs of the actions issue, drawn over the list: the signal menu, its confirmation and
/// the detach dialog. Everything comes from the state (the snapshot and the plan): no I/O.
extension Renderer {
    func drawDialog(_ s: inout Screen, _ d: Dialog, top: Int, bottom: Int) {
        switch d {
        case .signalMenu(let target, let index, _):
            drawSignalMenu(&s, target: target, index: index, top: top, bottom: bottom)
        case .confirmSignal(let target, let sig):
            drawConfirm(&s, target: target, signal: sig, top: top, bottom: bottom)
        case .relaunch(let plan):
            drawRelaunch(&s, plan, top: top, bottom: bottom)
        case .signalMenuTagged(let ids, let index, _):
            var info: [Span] = [(taggedLine(ids), st(.dim))]
            if let hint = state.taggedRefusal(ids) { info = [(hint, st(.warning)), (" ", .plain)] + info }
            drawSignalMenu(&s, title: "Signal \(plural(ids.count, "tagged process"))", info: info, index: index, top: top, bottom: bottom)
        case .detachTagged(let ids, let via):
            drawDetachTagged(&s, ids, via: via, top: top, bottom: bottom)
        case .confirmSignalTagged(let ids, let sig):
            drawConfirm(&s, what: plural(ids.count, "tagged process"), members: taggedLine(ids), hint: state.taggedRefusal(ids),
                        signal: sig, top: top, bottom: bottom)
        case .detachInPlace(let plan):
            drawDetachInPlace(&s, plan, top: top, bottom: bottom)
        }
    }

    /// `D` on the tagged set: who will be relaunched, how, and the keys.
    func drawDetachTagged(_ s: inout Screen, _ ids: [ProcessIdentity], via: RelaunchVia, top: Int, bottom: Int) {
        let w = min(s.width - 2, 80)
        guard w >= 20 else { return }
        var lines: [[Span]] = []
        let jobs = Set(ids.compactMap { id in snap.process(id.pid).flatMap { $0.startTime == id.startTime ? $0.pgid : nil } }).count
        lines += wrapSpans([("y detaches in place the job of each (\(plural(jobs, "process group"))): same pids, same state, no restart; ", .plain),
                            ("r relaunches each via \(via.rawValue) instead: a new copy restarts from scratch and the original is ended.", st(.dim))], width: w - 4)
        for id in ids {
            let cmd = snap.process(id.pid).flatMap { $0.startTime == id.startTime ? AppState.command($0) : nil } ?? "(exited)"
            lines.append([("  \(id.pid) ", st(.header)), (DisplayWidth.clip(cmd, to: w - 14), .plain)])
        }
        lines.append([])
        lines += wrapSpans([("y", st(.header)), (" detach in place", .plain), ("    r", st(.header)), (" relaunch each", .plain),
                            ("    v", st(.header)), (" relaunch via \(via == .daemonize ? "tmux" : "daemonize")", .plain),
                            ("    n", st(.header)), (" or ", .plain), ("Esc", st(.header)), (" cancel", .plain)], width: w - 4)
        let h = min(bottom - top, lines.count + 2)
        guard h >= 3 else { return }
        let x = max(0, (s.width - w) / 2)
        let y = top + max(0, (bottom - top - h) / 2)
        drawBox(&s, x: x, y: y, width: w, height: h, title: "Detach \(plural(ids.count, "tagged process"))")
        var shown = lines
        if shown.count > h - 2 { shown = Array(shown.prefix(h - 4)) + [[("…", st(.dim))]] + Array(lines.suffix(1)) }
        for (i, l) in shown.prefix(h - 2).enumerated() { putSpans(&s, l, x: x + 2, y: y + 1 + i) }
    }

    /// `1100 sleep 1000 · 1300 python3 server.py`: the tagged processes, each pinned.
    func taggedLine(_ ids: [ProcessIdentity]) -> String {
        ids.map { id in
            "\(id.pid) " + (snap.process(id.pid).flatMap { $0.startTime == id.startTime ? DisplayWidth.clip(AppState.command($0), to: 24) : nil } ?? "(exited)")
        }.joined(separator: dot)
    }

    /// A framed box with a title in its top edge, its inside blanked; returns the inner width.
    @discardableResult
    func drawBox(_ s: inout Screen, x: Int, y: Int, width w: Int, height h: Int, title: String) -> Int {
        guard w >= 4, h >= 2 else { return 0 }
        let (tl, tr, bl, br, hz, vt) = state.unicode ? ("┌", "┐", "└", "┘", "─", "│") : ("+", "+", "+", "+", "-", "|")
        let frame = st(.title)
        s.put(tl + String(repeating: hz, count: w - 2) + tr, x: x, y: y, style: frame)
        for row in (y + 1)..<(y + h - 1) {
            s.put(vt, x: x, y: row, style: frame)
            s.fill(y: row, x: x + 1, width: w - 2, style: .plain)
            s.put(vt, x: x + w - 1, y: row, style: frame)
        }
        s.put(bl + String(repeating: hz, count: w - 2) + br, x: x, y: y + h - 1, style: frame)
        s.put(" " + title + " ", x: x + 2, y: y, style: st(.columns), maxWidth: w - 4)
        return w - 2
    }

    /// `1150 vim notes.txt · 1160 ./ev…`: who the target holds now.
    func memberLine(_ target: SignalTarget) -> String {
        let ms = state.members(of: target)
        if ms.isEmpty {
            if case .process = target { return "it has exited: there is nothing to send to" }
            return "no process holds it now"
        }
        switch target {
        case .process:
            let p = ms[0]
            let sess = snap.session(p.sid)
            return "user \(p.user) · state \(p.state.letter) (\(p.state.meaning)) · group \(p.pgid) · session \(p.sid)"
                + (sess?.tty.map { " (\($0))" } ?? "")
        case .group, .session:
            return ms.prefix(8).map { "\($0.pid) \(DisplayWidth.clip(AppState.command($0), to: 24))" }
                .joined(separator: dot) + (ms.count > 8 ? dot + "…" : "")
        }
    }

    /// `process 1100 · sleep 1000`, `process group 1150 · 2 processes now`.
    func targetTitle(_ target: SignalTarget) -> String {
        let ms = state.members(of: target)
        switch target {
        case .process(let id):
            return "process \(id.pid)" + (ms.first.map { " · " + AppState.command($0) } ?? " · exited")
        case .group(let g):
            return "process group \(g) · \(plural(ms.count, "process")) now"
        case .session(let sid):
            let sess = snap.session(sid)
            let groups = sess.map { " in " + plural($0.groups.count, "group") } ?? ""
            return "session \(sid)" + (sess?.tty.map { " (\($0))" } ?? " (no tty)") + " · \(plural(ms.count, "process"))\(groups) now"
        }
    }

    func drawSignalMenu(_ s: inout Screen, target: SignalTarget, index: Int, top: Int, bottom: Int) {
        var info: [Span] = [(memberLine(target), st(.dim))]
        if let hint = state.refusalHint(target) { info = [(hint, st(.warning))] + [(" ", .plain)] + info }
        drawSignalMenu(&s, title: "Signal " + targetTitle(target), info: info, index: index, top: top, bottom: bottom)
    }

    func drawSignalMenu(_ s: inout Screen, title: String, info: [Span], index: Int, top: Int, bottom: Int) {
        let all = SignalMenu.all
        let common = SignalMenu.common.count
        let w = min(s.width - 2, 80)
        let avail = bottom - top
        guard w >= 20, avail >= 3 else { return }
        var infoLines = wrapSpans(info, width: w - 4).prefix(3).map { $0 }
        let hint = "↑↓ j move · a number or first letter picks · Enter sends · Esc cancels"
        // Rows: frame 2, info, the list (one extra row: the "all signals" rule), the keys 1.
        let listRows = all.count + 1
        let innerAvail = avail - 2
        var showHint = true
        var listHeight = min(listRows, innerAvail - infoLines.count - 1)
        if listHeight < 3 { infoLines = []; listHeight = min(listRows, innerAvail - 1) }
        if listHeight < 1 { showHint = false; listHeight = min(listRows, innerAvail) }
        let h = 2 + infoLines.count + listHeight + (showHint ? 1 : 0)
        let x = max(0, (s.width - w) / 2)
        let y = top
        let inner = drawBox(&s, x: x, y: y, width: w, height: h, title: title)
        var row = y + 1
        for line in infoLines { putSpans(&s, line, x: x + 2, y: row); row += 1 }
        // The list, scrolled so the selection is in view; a rule between common and the rest.
        let sel = index < common ? index : index + 1
        let first = max(0, min(sel - listHeight / 2, listRows - listHeight))
        for v in first..<min(listRows, first + listHeight) {
            if v == common {
                let rule = state.unicode ? "─" : "-"
                s.put(String(repeating: rule, count: 3) + " all signals " + String(repeating: rule, count: max(0, inner - 16)),
                      x: x + 1, y: row, style: st(.dim), maxWidth: inner)
            } else {
                let i = v < common ? v : v - 1
                let sig = all[i]
                let name = Signals.name(of: sig)
                let text = " " + pad(String(sig), 2, right: true) + " " + pad(name, 9) + " " + Signals.meaning(of: sig)
                if i == index {
                    let selected = Style(.selected, bold: true, reverse: !state.color)
                    s.fill(y: row, x: x + 1, width: inner, style: selected)
                    s.put(text, x: x + 1, y: row, style: selected, maxWidth: inner)
                } else {
                    let c = s.put(" " + pad(String(sig), 2, right: true) + " ", x: x + 1, y: row, style: .plain, maxWidth: inner)
                    let n = s.put(pad(name, 9), x: c, y: row, style: st(.header), maxWidth: inner - (c - x - 1))
                    s.put(" " + Signals.meaning(of: sig), x: n, y: row, style: .plain, maxWidth: inner - (n - x - 1))
                }
            }
            row += 1
        }
        if showHint && row < y + h - 1 { s.put(hint, x: x + 2, y: row, style: st(.dim), maxWidth: inner - 2) }
    }

    func drawConfirm(_ s: inout Screen, target: SignalTarget, signal sig: Int32, top: Int, bottom: Int) {
        drawConfirm(&s, what: targetTitle(target), members: memberLine(target), hint: state.refusalHint(target),
                    signal: sig, top: top, bottom: bottom)
    }

    func drawConfirm(_ s: inout Screen, what: String, members: String, hint: String?, signal sig: Int32, top: Int, bottom: Int) {
        let w = min(s.width - 2, 72)
        guard w >= 20 else { return }
        var lines: [[Span]] = []
        lines += wrapSpans([("Send ", .plain), ("SIG\(Signals.name(of: sig))", st(.dies)), (" to ", .plain),
                            (what, st(.session)), ("?", .plain)], width: w - 4)
        lines += wrapSpans([("SIG\(Signals.name(of: sig)): " + Signals.meaning(of: sig), st(.dim))], width: w - 4)
        lines += wrapSpans([(members, .plain)], width: w - 4).prefix(3)
        if let hint { lines += wrapSpans([(hint, st(.warning))], width: w - 4) }
        lines.append([])
        lines += wrapSpans([("y", st(.header)), (" send", .plain), ("    n", st(.header)), (" or ", .plain),
                            ("Esc", st(.header)), (" cancel", .plain)], width: w - 4)
        let h = min(bottom - top, lines.count + 2)
        guard h >= 3 else { return }
        let x = max(0, (s.width - w) / 2)
        let y = top + max(0, (bottom - top - h) / 2)
        drawBox(&s, x: x, y: y, width: w, height: h, title: "Confirm")
        for (i, l) in lines.prefix(h - 2).enumerated() { putSpans(&s, l, x: x + 2, y: y + 1 + i) }
    }

    func drawRelaunch(_ s: inout Screen, _ plan: RelaunchPlan, top: Int, bottom: Int) {
        let w = min(s.width - 2, 100)
        guard w >= 20 else { return }
        var lines = planLines(plan.preview, width: w - 4)
        lines.append([])
        let other = plan.via == .daemonize ? "tmux" : "daemonize"
        let keys = wrapSpans([("y", st(.header)), (plan.endOriginal ? " start it, then end the original" : " start it", .plain),
                              ("    v", st(.header)), (" via \(other) instead", .plain),
                              ("    n", st(.header)), (" or ", .plain), ("Esc", st(.header)), (" cancel", .plain)], width: w - 4)
        let cmd = plan.arguments.first.map { ($0.split(separator: "/").last.map(String.init) ?? $0) } ?? ""
        drawPlanBox(&s, lines + keys, keys: keys.count, width: w, title: "Detach pid \(plan.original.pid) (\(cmd)) via \(plan.via.rawValue)",
                    top: top, bottom: bottom)
    }

    /// A plan's preview lines (relaunch, detach in place): the first as a heading, warnings
    /// marked; continuation lines hang under the value (after "  run:    ", "  warning: ").
    func planLines(_ preview: [String], width: Int) -> [[Span]] {
        var lines: [[Span]] = []
        for (n, text) in preview.enumerated() {
            let isWarning = text.hasPrefix("  warning: ")
            let style: Style = isWarning ? st(.warning) : (n == 0 ? st(.header) : .plain)
            lines += hangingWrap(text, style: style, width: width, hang: isWarning ? 11 : (text.hasPrefix("  ") ? 10 : 0))
        }
        return lines
    }

    /// A centred box of `lines` whose last `keys` lines are the keys: when the screen is too
    /// short, the middle is cut (`…`) and the keys are kept.
    func drawPlanBox(_ s: inout Screen, _ lines: [[Span]], keys: Int, width w: Int, title: String, top: Int, bottom: Int) {
        let h = min(bottom - top, lines.count + 2)
        guard h >= 3 else { return }
        let x = max(0, (s.width - w) / 2)
        let y = top + max(0, (bottom - top - h) / 2)
        drawBox(&s, x: x, y: y, width: w, height: h, title: title)
        var shown = lines
        if shown.count > h - 2 {
            shown = Array(shown.prefix(max(0, h - 3 - keys))) + [[("…", st(.dim))]] + Array(lines.suffix(keys))
        }
        for (i, l) in shown.prefix(h - 2).enumerated() { putSpans(&s, l, x: x + 2, y: y + 1 + i) }
    }

    /// Wraps `text` to `width`; continuation lines are indented by `hang` columns.
    func hangingWrap(_ text: String, style: Style, width: Int, hang: Int) -> [[Span]] {
        guard let first = wrapSpans([(text, style)], width: width).first else { return [] }
        var out = [first]
        let used = first.map(\.text).joined().count
        let rest = String(text.dropFirst(used).drop { $0 == " " })
        if !rest.isEmpty {
            for l in wrapSpans([(rest, style)], width: max(1, width - hang)) {
                out.append([(String(repeating: " ", count: hang), .plain)] + l)
            }
        }
        return out
    }
}
