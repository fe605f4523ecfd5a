import SessionCore

/// The lab's keys, as the F-bar shows them.
let labBar: [(key: String, label: String)] = [
    ("H", "Hang up"), ("N", "New terminal"), (">", "Skip"), ("<", "Back"), ("i", "Detail"),
    ("e", "Event"), ("q", "Quit"),
]

/// `sessiontop lab`: the pinned session's tree (or, after an event, the prediction-vs-reality
/// table), the lesson strip under it, and the lab's key bar.
extension Renderer {
    mutating func drawLab(_ s: inout Screen) {
        guard let lab = state.lab else {
            if let sid = state.shownHangup { drawHungUpTable(&s, sid: sid) }
            return
        }
        let l = state.layout
        let strip = LabState.stripHeight(state.height)
        let stripTop = l.listTop + l.listHeight + l.paneHeight
        drawLabHeader(&s, lab)
        if case .table(let t, _) = lab.phase {
            drawRealityTable(&s, t, top: l.headerHeight, height: stripTop - l.headerHeight, scroll: lab.tableScroll)
        } else {
            drawColumns(&s, y: l.headerHeight)
            drawList(&s, top: l.listTop, height: l.listHeight)
            if l.paneHeight > 0 { drawDetail(&s, top: l.paneTop, height: l.paneHeight) }
        }
        drawStrip(&s, lab, top: stripTop, height: strip)
        drawStatus(&s, y: l.statusY)
        s.fill(y: l.barY, style: st(.fkeyLabel))
        var x = 0
        for item in labBar {
            x = s.put(item.key, x: x, y: l.barY, style: st(.fkey))
            x = s.put(item.label + " ", x: x, y: l.barY, style: st(.fkeyLabel))
        }
    }

    func drawLabHeader(_ s: inout Screen, _ lab: LabState) {
        var line0: [Span] = [("sessiontop lab", st(.title)), (dot, .plain), (lab.shell.rawValue, st(.headerValue))]
        if let sid = lab.leader, let sess = snap.session(sid), sess.tty == nil {
            line0 += [(dot + "lab terminal hung up", st(.dim)), (" (session \(sid) lives on without a terminal)", .plain)]
        } else if let sid = lab.leader, let sess = snap.session(sid) {
            line0 += [(dot + "lab terminal ", .plain), (sess.tty ?? "no tty", st(.headerValue)),
                      (" (session \(sid))", .plain)]
        } else if lab.leader != nil {
            line0 += [(dot + "the lab terminal is gone: N opens a new one", st(.dim))]
        } else {
            line0 += [(dot + "starting the lab terminal…", st(.dim))]
        }
        putSpans(&s, line0, x: 0, y: 0)
        var line1: [Span]
        if let sid = lab.leader, snap.session(sid) != nil, !state.analysisPending {
            let (d, r, v) = state.terminalCounts(sid)
            line1 = [("If \(state.event == .hangup ? "it hangs up" : state.event == .leaderExit ? "its leader is killed" : "you type exit"): ", .plain),
                     ("\(d) die", st(d > 0 ? .dies : .normal)), (", ", .plain),
                     ("\(r) at risk", st(r > 0 ? .atRisk : .normal)), (", ", .plain),
                     ("\(v) survive", st(.survives)), (dot + "event ", .plain), (state.event.rawValue, st(.headerValue))]
        } else {
            line1 = [("event ", .plain), (state.event.rawValue, st(.headerValue))]
        }
        putSpans(&s, line1, x: 0, y: 1)
        let done = lab.passed.count
        let line2: [Span] = [("lessons: ", .plain), ("\(min(done, lab.stepCount))/\(lab.stepCount) steps", st(.headerValue)),
                             (dot + "type in the lab terminal (panes: click or Ctrl-b o)", st(.dim))]
        putSpans(&s, line2, x: 0, y: 2)
    }

    func drawStrip(_ s: inout Screen, _ lab: LabState, top: Int, height: Int) {
        guard height > 0 else { return }
        let w = s.width
        s.fill(y: top, style: st(.columns))
        var lines: [[Span]] = []
        switch lab.phase {
        case .confirm(let i):
            s.put(" Hang up for real?", x: 0, y: top, style: st(.columns))
            for (n, e) in HangupEvent.allCases.enumerated() {
                let what: String
                switch e {
                case .hangup: what = "the terminal hangs up: its pty is closed, as a closed window or a dropped SSH"
                case .leaderExit: what = "the leader is killed: SIGKILL to the shell, the terminal stays"
                case .logout: what = "exit is typed (again if refused), then the terminal closes"
                }
                let mark = n == i ? (state.unicode ? "▶ " : "> ") : "  "
                lines.append([(mark + "\(n + 1) ", n == i ? st(.selected) : .plain), (what, n == i ? st(.selected) : .plain)])
            }
            lines.append([("1/2/3 or ↑↓ picks, y does it for real, n or Esc cancels. The prediction is frozen just before.", st(.dim))])
        case .watching(let f, let since):
            s.put(" \(f.event.title): watching what really happens", x: 0, y: top, style: st(.columns))
            lines.append([("Prediction frozen at \(f.clockText) for \(plural(f.entries.count, "process")); ", .plain),
                          ("watching for a few seconds (\(AppState.seconds(max(0, state.now - since))))…", st(.note))])
        case .table(let t, let log):
            s.put(" Prediction vs reality: \(t.freeze.event.title)", x: 0, y: top, style: st(.columns))
            lines.append([(t.summary, t.surprises > 0 ? st(.warning) : st(.survives))])
            lines.append([("N opens a new lab terminal · ↑↓ scroll · Esc back to the tree", st(.dim))])
            if t.rows.contains(where: { $0.reality == .died }) {
                lines.append([("how: unknown — its parent collected its exit status before sessiontop saw it (sessiontop sees a zombie's status, or its own child's)", st(.dim))])
            }
            lines.append([("logged: " + log, st(.dim))])
        case .lessons:
            if let lesson = lab.currentLesson, let step = lab.currentStep {
                let title = " Lesson \(lab.lesson + 1)/\(lab.lessons.count): \(lesson.title)"
                    + (lesson.steps.count > 1 ? "  (step \(lab.step + 1)/\(lesson.steps.count))" : "")
                s.put(title, x: 0, y: top, style: st(.columns))
                lines.append([("Type: ", st(.note)), (step.type, st(.headerValue))])
                lines.append([("Look: ", st(.note)), (step.look, .plain)])
                for part in wrap(step.explain, width: w) { lines.append([(part, .plain)]) }
                let check: [Span]
                if step.check.isUnverifiable {
                    check = [("? ", st(.atRisk)), (lab.lastCheck?.seen ?? "sessiontop cannot check this step", st(.dim))]
                } else if let c = lab.lastCheck {
                    check = [("… waiting: ", st(.dim)), (c.seen, st(.dim))]
                } else {
                    check = [("… waiting for the next scan", st(.dim))]
                }
                // The check and the footnote keep the strip's last two lines.
                let room = height - 1
                if lines.count > room - 2 { lines = Array(lines.prefix(max(0, room - 2))) }
                lines.append(check)
                lines.append([("Source: " + step.source, st(.dim))])
            } else {
                s.put(" All lessons done", x: 0, y: top, style: st(.columns))
                lines.append([("Press ", .plain), ("H", st(.headerValue)),
                              (" to hang this terminal up for real and compare with the prediction, ", .plain),
                              ("N", st(.headerValue)), (" for a fresh terminal.", .plain)])
            }
        }
        var y = top + 1
        for line in lines where y < top + height {
            for part in wrapSpans(line, width: w) where y < top + height {
                putSpans(&s, part, x: 0, y: y)
                y += 1
            }
        }
    }

    /// One row per process: pid, command, predicted fate, what happened, and a mark for every
    /// difference with the rule that should have said otherwise under it.
    func drawRealityTable(_ s: inout Screen, _ t: RealityTable, top: Int, height: Int, scroll: Int) {
        guard height > 0 else { return }
        let w = s.width
        let predW = 16, realW = w >= 100 ? 22 : 15, markW = 3
        let cmdW = min(48, max(8, w - 8 - predW - realW - markW - 3))
        s.fill(y: top, style: st(.columns))
        s.put(" " + pad("PID", 6, right: true) + " " + pad("COMMAND", cmdW) + " " + pad("PREDICTED", predW) + " "
              + pad("WHAT HAPPENED", realW) + " " + "!", x: 0, y: top, style: st(.columns))
        var lines: [[Span]] = []
        for r in t.rows {
            let v = r.prediction.verdict
            var pred = v.fate.rawValue + (v.by.map { " (\($0.rawValue))" } ?? "")
            if !v.certain { pred += "?" }
            let real = w >= 100 ? r.reality.text : r.reality.short
            let mark = r.surprise ? (state.unicode ? "✗" : "X") : (state.unicode ? "✓" : "=")
            lines.append([(" " + pad(String(r.prediction.identity.pid), 6, right: true) + " ", .plain),
                          (pad(r.prediction.command, cmdW) + " ", .plain),
                          (pad(pred, predW) + " ", st(fateRole(v.fate))),
                          (pad(real, realW) + " ", r.reality.isDead ? st(.dies) : st(.survives)),
                          (mark, r.surprise ? st(.warning) : st(.survives))])
            if let rule = r.rule {
                for part in wrap("rule: " + rule, width: max(10, w - 9)) { lines.append([("        " + part, st(.warning))]) }
            }
        }
        var y = top + 1
        for line in lines.dropFirst(min(scroll, max(0, lines.count - 1))) where y < top + height {
            putSpans(&s, line, x: 0, y: y)
            y += 1
        }
    }
}
