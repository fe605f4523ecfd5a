import SessionCore

/// A run of text in one style; a line is a list of runs.
public typealias Span = (text: String, style: Style)

/// Draws the whole state into `screen` (resized to the state's size). No terminal I/O.
public func render(_ state: AppState, into screen: inout Screen) {
    if screen.width != state.width || screen.height != state.height {
        screen = Screen(width: state.width, height: state.height)
    } else {
        screen.clear()
    }
    var r = Renderer(state: state)
    r.draw(into: &screen)
}

struct Renderer {
    let state: AppState
    var snap: Snapshot { state.snapshot }

    /// The style of a role, with the attributes that carry its meaning without colour.
    func st(_ role: Role) -> Style {
        let c = state.color
        switch role {
        case .dies: return Style(.dies, bold: true)
        case .atRisk: return Style(.atRisk, underline: !c)
        case .survives, .unaffected, .normal, .fkey: return Style(role)
        case .header, .headerValue, .title, .session, .note, .warning: return Style(role, bold: true)
        case .group: return Style(.group)
        case .columns, .fkeyLabel, .selected: return Style(role, reverse: !c)
        case .new: return Style(.new, bold: !c)
        case .gone, .dim: return Style(role, dim: !c)
        case .match: return Style(.match, bold: true, underline: !c)
        case .tagged: return Style(.tagged, bold: true, underline: !c)
        }
    }

    func fateRole(_ f: Fate) -> Role {
        switch f {
        case .dies: return .dies
        case .atRisk: return .atRisk
        case .survives: return .survives
        case .unaffected: return .unaffected
        case .exited: return .gone
        }
    }

    var glyphOpen: String { state.unicode ? "▾" : "-" }
    var glyphClosed: String { state.unicode ? "▸" : "+" }
    var dot: String { state.unicode ? " · " : " | " }

    mutating func draw(into s: inout Screen) {
        if state.tooSmall { drawTooSmall(&s); return }
        if state.lab != nil || state.shownHangup != nil { drawLab(&s); return }
        let l = state.layout
        drawHeader(&s)
        if state.helpOpen {
            drawHelp(&s, top: l.headerHeight, height: l.barY - l.headerHeight)
        } else if state.setupOpen {
            drawSetup(&s, top: l.headerHeight, height: l.statusY - l.headerHeight)
            drawStatus(&s, y: l.statusY)
        } else if state.detailFull {
            drawDetail(&s, top: l.headerHeight, height: l.statusY - l.headerHeight)
            if let d = state.dialog { drawDialog(&s, d, top: l.headerHeight, bottom: l.statusY) }
            drawStatus(&s, y: l.statusY)
        } else {
            drawColumns(&s, y: l.headerHeight)
            drawList(&s, top: l.listTop, height: l.listHeight)
            if l.paneHeight > 0 { drawDetail(&s, top: l.paneTop, height: l.paneHeight) }
            if let d = state.dialog { drawDialog(&s, d, top: l.headerHeight, bottom: l.statusY) }
            drawStatus(&s, y: l.statusY)
        }
        drawBar(&s, y: l.barY)
    }

    func drawTooSmall(_ s: inout Screen) {
        let msg = "Terminal too small (\(state.width)x\(state.height)): sessiontop needs at least \(AppState.minWidth)x\(AppState.minHeight). Enlarge it, or press q to quit."
        let lines = wrap(msg, width: max(1, state.width))
        let top = max(0, (state.height - lines.count) / 2)
        for (i, line) in lines.enumerated() {
            s.put(line, x: max(0, (state.width - DisplayWidth.of(line)) / 2), y: top + i, style: st(.warning))
        }
    }

    // MARK: Header

    func drawHeader(_ s: inout Screen) {
        let groups = snap.sessions.reduce(0) { $0 + $1.groups.count }
        let procs = snap.sessions.reduce(0) { $0 + $1.processCount }
        var line0: [Span] = [("sessiontop", st(.title)), ("  ", .plain),
                             (snap.hostname.isEmpty ? "?" : snap.hostname, st(.headerValue)), (dot, .plain),
                             ("\(snap.sessions.count)", st(.headerValue)), (" sessions  ", .plain),
                             ("\(groups)", st(.headerValue)), (" groups  ", .plain),
                             ("\(procs)", st(.headerValue)), (" processes", .plain)]
        if !snap.kernelThreads.isEmpty { line0.append((" (+\(snap.kernelThreads.count) kernel threads)", st(.dim))) }
        line0 += [(dot, .plain), ("every ", .plain), (AppState.seconds(state.interval), st(.headerValue))]
        if state.paused { line0 += [(dot, .plain), ("PAUSED (Z resumes)", st(.warning))] }
        putClipped(&s, line0, x: 0, y: 0)

        var line1: [Span] = []
        if state.analysisPending {
            line1 = [("reading argv, fds and signal masks…", st(.dim))]
        } else if let c = state.selfCounts, let tty = snap.selfTTY {
            let what: String
            switch state.event {
            case .hangup: what = "If this terminal (\(tty)) hangs up: "
            case .leaderExit: what = "If this session's leader (\(tty)) is killed: "
            case .logout: what = "If you type exit in this session (\(tty)): "
            }
            line1 = [(what, .plain), ("\(c.dies) die", st(c.dies > 0 ? .dies : .normal)), (", ", .plain),
                     ("\(c.atRisk) at risk", st(c.atRisk > 0 ? .atRisk : .normal)), (", ", .plain),
                     ("\(c.survives) survive", st(.survives))]
        } else {
            line1 = [("sessiontop has no controlling terminal: fates are shown for each session's own terminal", st(.dim))]
        }
        line1 += [(dot, .plain), ("event ", .plain), (state.event.rawValue, st(.headerValue))]
        putClipped(&s, line1, x: 0, y: 1)

        var line2: [Span] = []
        // Z (already exited) is rare and explained in the help; the header keeps to the four.
        for f in Fate.allCases where f != .exited {
            let label: String
            switch f {
            case .dies: label = "dies"
            case .atRisk: label = "at risk"
            case .survives: label = "survives"
            case .unaffected: label = "unaffected"
            case .exited: label = "exited"
            }
            line2 += [(String(f.mark), st(fateRole(f))), (" \(label) ", .plain)]
        }
        var tail: [Span] = [("filter ", .plain), (state.filterTitle, st(.headerValue)), (dot, .plain),
                            ("view ", .plain), (state.mode.rawValue, st(.headerValue))]
        if state.mode == .table {
            tail.append((" by \(state.sortKey.rawValue)\(state.sortDescending ? " desc" : "")", st(.headerValue)))
        }
        let legend: [Span] = [("+new", st(.new)), (" ", .plain), ("-gone", st(.gone)), (dot, .plain)]
        let full = line2 + legend + tail
        // Narrow: the +new/-gone legend goes first (the help explains the marks).
        let width = full.reduce(0) { $0 + DisplayWidth.of($1.text) }
        putClipped(&s, width <= s.width ? full : line2 + [(state.unicode ? "· " : "| ", .plain)] + tail, x: 0, y: 2)
    }

    // MARK: List

    /// The columns shown at this width (Column.fitting drops by priority).
    var shownColumns: [Column] {
        state.shownColumns
    }

    func drawColumns(_ s: inout Screen, y: Int) {
        s.fill(y: y, style: st(.columns))
        var title = "F "
        for c in shownColumns {
            var name = c.title
            if state.mode == .table && state.sortKey == c.sortKey && c != .state {
                name += state.unicode ? (state.sortDescending ? "▼" : "▲") : "*"
            }
            title += pad(name, c.width, right: c.rightAligned) + " "
        }
        if state.hscroll > 0 {
            title += "COMMAND  (\(state.unicode ? "←" : "<") scrolled \(state.hscroll))"
        } else if state.mode == .tree {
            title += "COMMAND  (session \(state.unicode ? "▸" : ">") group \(state.unicode ? "▸" : ">") process tree)"
        } else {
            let sorted = state.sortKey == .command ? (state.unicode ? (state.sortDescending ? "▼" : "▲") : "*") : ""
            title += "COMMAND" + sorted + (state.sortKey == .fate ? "   (sorted by fate)" : "")
        }
        putClipped(&s, [(title, st(.columns))], x: 0, y: y)
    }

    /// A process's value in a column, unpadded.
    func value(_ c: Column, _ p: ProcessInfo) -> String {
        switch c {
        case .pid: return String(p.pid)
        case .ppid: return String(p.ppid)
        case .pgid: return String(p.pgid)
        case .sid: return String(p.sid)
        case .user: return p.user
        case .tty: return p.tty ?? "-"
        case .state: return String(p.state.letter)
        case .cpu: return Figures.percent(state.cpuPercent[p.identity])
        case .rss: return p.state.isGone ? "-" : Figures.bytes(p.rssBytes)
        case .age:
            guard snap.clockTicks > 0, snap.uptime.isFinite else { return "?" }
            return Figures.age(snap.uptime - Double(p.startTime) / Double(snap.clockTicks))
        case .threads: return String(p.threads)
        }
    }

    func drawList(_ s: inout Screen, top: Int, height: Int) {
        if state.rows.isEmpty {
            let msg = state.filter == .all && state.textFilter.isEmpty ? "No processes."
                : "Nothing matches the filter \"\(state.filterTitle)\" (f changes it, \\ edits the text, Esc clears it)."
            s.put(msg, x: 1, y: top, style: st(.dim))
            return
        }
        let end = min(state.rows.count, state.scrollTop + height)
        var y = top
        for i in state.scrollTop..<max(state.scrollTop, end) {
            drawRow(&s, state.rows[i], y: y, selected: i == state.selectedIndex)
            y += 1
        }
    }

    func drawRow(_ s: inout Screen, _ row: Row, y: Int, selected: Bool) {
        var spans: [Span] = []
        var fillStyle = Style.plain
        switch row.key {
        case .session(let sid):
            spans = sessionSpans(sid)
        case .group(let pgid):
            spans = groupSpans(pgid)
        case .process(let id):
            guard let p = snap.process(id.pid) else { return }
            let fate = state.fate(p.pid)
            let isNew = state.isNew(id)
            let base = isNew ? st(.new) : Style.plain
            fillStyle = base
            let fateSt = isNew ? st(.new) : st(fateRole(fate))
            let cmdStyle: Style
            if !state.query.isEmpty && state.matches(p) { cmdStyle = st(.match) }
            else if fate == .dies || fate == .atRisk || fate == .survives { cmdStyle = fateSt }
            else { cmdStyle = base }
            var mark = state.analysisPending ? " " : String(fate.mark)
            if state.verdicts[p.pid].map({ !$0.certain }) == true && fate != .unaffected { mark += "?" } else { mark += " " }
            spans = [(mark, fateSt)]
            var fixed = ""
            for c in shownColumns { fixed += pad(value(c, p), c.width, right: c.rightAligned) + " " }
            spans.append((fixed, base))
            let x0 = DisplayWidth.of(mark) + DisplayWidth.of(fixed)
            var command: [Span] = []
            let isTagged = state.tagged.contains(id)
            let tagMark = state.unicode ? "● " : "* "
            if state.mode == .tree {
                command.append(((isTagged ? "  " + tagMark : "    ") + row.prefix, base))
            } else if isTagged {
                command.append((tagMark, st(.tagged)))
            }
            if isTagged { spans[1].style = st(.tagged) }
            command.append((AppState.command(p), cmdStyle))
            if isNew { command.append(("  (new)", st(.new))) }
            if fillStyle != .plain { s.fill(y: y, style: fillStyle) }
            putSpans(&s, spans, x: 0, y: y)
            putClipped(&s, dropColumns(command, state.hscroll), x: x0, y: y, scrolled: state.hscroll > 0)
            if selected { highlight(&s, y: y) }
            return
        case .gone(let id):
            guard let g = state.gone.first(where: { $0.identity == id }) else { return }
            fillStyle = st(.gone)
            spans = [("- ", st(.gone)),
                     (pad(String(id.pid), 7, right: true) + " " + pad(g.user, 8) + " - " + "    " + g.command + "  (exited)", st(.gone))]
        }
        if fillStyle != .plain { s.fill(y: y, style: fillStyle) }
        putClipped(&s, spans, x: 0, y: y)
        if selected { highlight(&s, y: y) }
    }

    func highlight(_ s: inout Screen, y: Int) {
        for x in 0..<s.width {
            var c = s[x, y]
            c.style = Style(.selected, bold: c.style.bold, reverse: !state.color, underline: c.style.underline)
            s[x, y] = c
        }
    }

    func sessionSpans(_ sid: Int32) -> [Span] {
        guard let sess = snap.session(sid) else { return hungUpSpans(sid, alone: true) }
        let open = state.openSessions.contains(sid)
        var spans: [Span] = [((open ? glyphOpen : glyphClosed) + " ", st(.session)),
                             ("session \(sid)", st(.session))]
        spans.append((dot + (sess.tty ?? "no tty"), sess.tty == nil ? st(.dim) : st(.session)))
        if sid == snap.selfSid { spans.append((state.unicode ? " ◀ this terminal" : " <- this terminal", st(.note))) }
        if sess.tty != nil {
            let (d, r, _) = state.terminalCounts(sid)
            if d > 0 || r > 0 { spans.append((dot, .plain)) }
            if d > 0 { spans.append(("\(d) die", st(.dies))) }
            if d > 0 && r > 0 { spans.append((", ", .plain)) }
            if r > 0 { spans.append(("\(r) at risk", st(.atRisk))) }
        }
        if let l = sess.leader, let p = snap.process(l) {
            spans.append((dot + "leader " + DisplayWidth.clip(AppState.command(p), to: 40), .plain))
        } else {
            spans.append((dot + "leader gone", st(.dim)))
        }
        if let fg = sess.foregroundPgid { spans.append((dot + "fg group \(fg)", .plain)) }
        spans.append((dot + plural(sess.groups.count, "group") + ", " + plural(sess.processCount, "process"), st(.dim)))
        // A watched session whose terminal hung up: the notice replaces "session N".
        return state.hungUp[sid] == nil ? spans : [spans[0]] + hungUpSpans(sid, alone: false) + spans.dropFirst(2)
    }

    func groupSpans(_ pgid: Int32) -> [Span] {
        guard let g = snap.group(pgid) else { return [] }
        let open = !state.foldedGroups.contains(pgid)
        var spans: [Span] = [("  " + (open ? glyphOpen : glyphClosed) + " ", st(.group)), ("group \(pgid)", st(.group))]
        for label in g.labels(in: snap.session(g.sid)) {
            let style: Style
            switch label {
            case "foreground": style = st(.headerValue)
            case "no terminal", "leader gone": style = st(.dim)
            case "stopped": style = st(.warning)
            case "orphaned": style = st(.atRisk)
            default: style = .plain
            }
            spans.append((dot + label, style))
        }
        spans.append((dot + plural(g.members.count, "process"), st(.dim)))
        return spans
    }

    // MARK: Detail pane

    func field(_ f: Field<[UInt8]>) -> Span {
        switch f {
        case .known(let b): return (SafeText.display(b), .plain)
        case .unknown(let r): return ("(\(r))", st(.warning))
        }
    }

    func eventPhrase(_ p: ProcessInfo) -> String {
        let tty = snap.session(p.sid)?.tty ?? "its terminal"
        switch state.event {
        case .hangup: return "\(tty) hangs up"
        case .leaderExit: return "the leader of session \(p.sid) is killed"
        case .logout: return "the user types exit in session \(p.sid)"
        }
    }

    func sessionDetail(_ sid: Int32) -> [[Span]] {
        guard let sess = snap.session(sid) else { return [] }
        let key = Style(.header, bold: true)
        var out: [[Span]] = []
        let leader = sess.leader.flatMap { snap.process($0) }
        out.append([("leader ", key), (leader.map { "\($0.pid) \(AppState.command($0))" } ?? "gone (the groups live on without it)", .plain)])
        out.append([("terminal ", key), (sess.tty ?? "none: a daemon-like session no hangup can reach", .plain),
                    ("   foreground group ", key), (sess.foregroundPgid.map(String.init) ?? "-", .plain)])
        let c = state.terminalCounts(sid)
        out.append([("under \"\(state.event.title)\": ", key),
                    ("\(c.dies) die, \(c.atRisk) at risk, \(c.survives) survive", .plain)])
        out += shellViewLines(session: sess)
        for g in sess.groups {
            let lead = snap.process(g.pgid).map { AppState.command($0) } ?? "leader gone"
            out.append([("  group \(g.pgid) ", key),
                        (g.labels(in: sess).joined(separator: ", ") + ", \(plural(g.members.count, "process"))  \(lead)", .plain)])
        }
        return out
    }

    func groupDetail(_ pgid: Int32) -> [[Span]] {
        guard let g = snap.group(pgid) else { return [] }
        let key = Style(.header, bold: true)
        var out: [[Span]] = [[("session ", key), ("\(g.sid)", .plain), ("   members ", key),
                              (g.members.map(String.init).joined(separator: " "), .plain)]]
        out.append([("role ", key), (g.isForeground
            ? "foreground: it may read the terminal and gets Ctrl-C / Ctrl-Z"
            : "background: reading the terminal stops it (SIGTTIN)", .plain)])
        if g.isOrphaned {
            out.append([("orphaned ", key), (Teaching.orphaned, .plain)])
        }
        if g.hasStopped { out.append([("stopped ", key), ("a member is stopped (Ctrl-Z or SIGSTOP)", st(.warning))]) }
        return out
    }

    // MARK: Help

    func drawHelp(_ s: inout Screen, top: Int, height: Int) {
        let key = Style(.header, bold: true)
        let text: [[Span]] = [
            [("Keys", st(.title))],
            [("↑ ↓ j PgUp PgDn Home End", key), ("  move", .plain)],
            [("Enter", key), ("  fold or unfold a session or group; on a process, the detail view (it scrolls: PgUp PgDn Home End; 1-7 or Tab jump to identity, session & group, signals, fds, environment, cgroup, hangup; o every fd; E environment; Esc back)", .plain)],
            [("+ - *", key), ("  expand, collapse, expand all / collapse all", .plain), ("   i", key), ("  detail pane beside the list (PgUp PgDn Home End scroll it)", .plain)],
            [("← →", key), ("  scroll long command lines (process rows, table); on a session or group, close / open; ← at the left edge goes to the parent row", .plain)],
            [("Space", key), ("  tag a process", .plain), ("   c", key), ("  tag it and its descendants", .plain), ("   U", key), ("  untag all; k acts on the tagged ones", .plain)],
            [("/ F3", key), ("  search command, pid, user, tty (folds never change: only the match is shown; Esc hides it again)", .plain), ("   n N", key), ("  next / previous", .plain)],
            [("\\", key), ("  free-text filter", .plain), ("   f F4", key), ("  filter: all, my session, at risk, my user, with a terminal", .plain)],
            [("e F7", key), ("  event: terminal hangs up, leader killed, user types exit", .plain)],
            [("t F5", key), ("  tree or table", .plain), ("   s > < F6", key), ("  sort by pid, ppid, pgid, sid, user, tty, command, fate, cpu, rss, start, threads", .plain),
             ("   P M T", key), ("  sort by CPU, memory, start", .plain), ("   I", key), ("  invert", .plain)],
            [("k F9", key), ("  signal menu for the tagged processes, else the selected process, group or session (destructive signals ask first)", .plain)],
            [("D F8", key), ("  detach the job in place (same pids, no restart); in its dialog r relaunches (restarts from scratch)", .plain)],
            [("r Ctrl-L", key), ("  refresh now", .plain), ("   Z", key), ("  pause", .plain), ("   F p", key), ("  follow the selected process", .plain),
             ("   F2 S", key), ("  setup: columns, refresh interval, colours (s saves)", .plain), ("   q F10", key), ("  quit", .plain)],
            [],
            [("Where keys differ from htop", st(.title))],
            [("Enter ", key), ("folds sessions and groups (htop has no sessions); on a process it opens the detail view, not a command menu.", .plain)],
            [("← → ", key), ("also fold in the tree; htop's ← → only scroll.", .plain)],
            [("i ", key), ("is the detail pane (htop: I/O priority); ", .plain), ("e ", key), ("picks the event (htop: environment — here E in the detail view); ", .plain),
             ("f ", key), ("cycles filters (follow is F, as in htop, or p); ", .plain), ("t ", key), ("switches tree / table (htop: tree view; F5 does it in both); ", .plain),
             ("F2 ", key), ("is a small setup screen (columns, interval, colours), not htop's full one.", .plain)],
            [("+ - ", key), ("no longer change the refresh interval: use the setup screen (F2) or -d.", .plain)],
            [("k ", key), ("opens a signal menu with this tool's guard rails (no pid 1, no kernel thread, no recycled pid).", .plain)],
            [],
            [("What you see", st(.title))],
            [("Session: ", key), ("what one login or terminal window starts. Its leader (usually the shell) created it with setsid(); it has at most one controlling terminal.", .plain)],
            [("Process group: ", key), ("a job — the processes of one pipeline. Ctrl-C and Ctrl-Z go to the terminal's foreground group; the others are background jobs.", .plain)],
            [("Controlling terminal: ", key), ("the tty a session is bound to; only the foreground group may read it.", .plain)],
            [("Hangup: ", key), ("when the terminal goes away (window closed, ssh drops) the kernel sends SIGHUP to the session leader; the shell passes it on to the jobs still in its job table (disown removes one; bash's disown -h marks one to skip). nohup makes a job ignore SIGHUP and moves its output off the terminal; a process that still holds the terminal (setsid cmd, exec >/dev/tty) gets EOF/EIO there.", .plain)],
            [("Logout: ", key), ("you type exit (again if the shell refuses), the shell exits, then the terminal goes away: the shell's exit rules (bash huponexit, zsh HUP) apply first, then whoever still holds the terminal meets the dead terminal. With logind's KillUserProcesses=yes the whole session scope is stopped too.", .plain)],
            [("Orphaned group: ", key), (Teaching.orphaned, .plain)],
            [("disown: ", key), (Teaching.disown, .plain)],
            [("disown -h: ", key), (Teaching.disownH, .plain)],
            [("Lab: ", key), ("sessiontop lab opens a practice terminal with lessons, and hangs it up for real to compare the prediction with what happens.", .plain)],
            [("Marks: ", key), ("D", st(.dies)), (" dies  ", .plain), ("R", st(.atRisk)), (" at risk (no signal kills it, but it holds the dead terminal or handles SIGHUP: up to the program)  ", .plain),
             ("S", st(.survives)), (" survives  . unaffected  ", .plain), ("Z", st(.gone)), (" already exited  ? uncertain (a race, or what neither /proc nor the shell's memory shows)", .plain)],
            [],
            [("Any other key closes this help.", st(.dim))],
        ]
        var lines: [[Span]] = []
        for l in text { lines += l.isEmpty ? [[]] : wrapSpans(l, width: s.width - 2) }
        let first = min(state.helpScroll, max(0, lines.count - height))
        for (i, l) in lines.dropFirst(first).prefix(height).enumerated() { putSpans(&s, l, x: 1, y: top + i) }
    }

    // MARK: Status and F-bar

    func drawStatus(_ s: inout Screen, y: Int) {
        if state.searching {
            let spans: [Span] = [("Search: ", st(.note)), (state.query, .plain), ("_", Style(.normal, reverse: true)),
                                 ("   Enter keeps, Esc cancels, n next", st(.dim))]
            putSpans(&s, spans, x: 0, y: y)
        } else if state.filtering {
            let spans: [Span] = [("Filter: ", st(.note)), (state.textFilter, .plain), ("_", Style(.normal, reverse: true)),
                                 ("   the list narrows as you type; Enter keeps, Esc puts back", st(.dim))]
            putClipped(&s, spans, x: 0, y: y)
        } else if let note = state.note {
            putClipped(&s, [(note, st(.note))], x: 0, y: y)
        } else if !state.query.isEmpty {
            s.put("search \"\(state.query)\": n next, N previous, Esc clears", x: 0, y: y, style: st(.dim))
        }
    }

    func drawBar(_ s: inout Screen, y: Int) {
        s.fill(y: y, style: st(.fkeyLabel))  // as htop: the label colour runs to the edge
        for item in FunctionBar.layout(width: s.width) {
            let x = s.put(item.key, x: item.x, y: y, style: st(.fkey))
            s.put(item.label, x: x, y: y, style: st(.fkeyLabel))
        }
    }

    // MARK: Text helpers

    var ellipsis: String { state.unicode ? "…" : ">" }

    /// Spans from `x` to the right edge; when they do not fit, the last column shows `…`
    /// (and the first one too when `scrolled`: text was cut on the left).
    func putClipped(_ s: inout Screen, _ spans: [Span], x: Int, y: Int, scrolled: Bool = false) {
        guard x < s.width else { return }
        let total = spans.reduce(0) { $0 + DisplayWidth.of($1.text) }
        let room = s.width - x
        if total <= room {
            putSpans(&s, spans, x: x, y: y)
        } else {
            var col = x
            var left = room - 1
            for sp in spans where left > 0 {
                let piece = DisplayWidth.clip(sp.text, to: left)
                col = s.put(piece, x: col, y: y, style: sp.style)
                left -= DisplayWidth.of(piece)
                if DisplayWidth.of(piece) < DisplayWidth.of(sp.text) { break }
            }
            s.put(ellipsis, x: s.width - 1, y: y, style: spans.last?.style ?? .plain)
        }
        if scrolled && total > 0 { s.put(state.unicode ? "…" : "<", x: x, y: y, style: spans.first?.style ?? .plain) }
    }

    /// Spans with their first `n` display columns dropped (horizontal scroll).
    func dropColumns(_ spans: [Span], _ n: Int) -> [Span] {
        var skip = n
        var out: [Span] = []
        for sp in spans {
            if skip <= 0 { out.append(sp); continue }
            var text = Substring(sp.text)
            while skip > 0, let c = text.first { skip -= DisplayWidth.of(c); text = text.dropFirst() }
            if !text.isEmpty { out.append((String(text), sp.style)) }
        }
        return out
    }

    @discardableResult
    func putSpans(_ s: inout Screen, _ spans: [Span], x: Int, y: Int) -> Int {
        var col = x
        for sp in spans {
            guard col < s.width else { break }
            col = s.put(sp.text, x: col, y: y, style: sp.style)
        }
        return col
    }
}

func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
    let c = DisplayWidth.clip(s, to: n)
    let fill = String(repeating: " ", count: max(0, n - DisplayWidth.of(c)))
    return right ? fill + c : c + fill
}

func plural(_ n: Int, _ word: String) -> String {
    if n == 1 { return "1 \(word)" }
    if word.hasSuffix("ry") { return "\(n) \(word.dropLast())ies" }
    return "\(n) \(word)\(word.hasSuffix("s") ? "es" : "s")"
}

func octal(_ m: UInt32) -> String {
    let digits = String(m, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// `rwxr-xr-x` for a permission mask.
func perms(_ m: UInt32) -> String {
    var s = ""
    for shift in [6, 3, 0] {
        let b = (m >> UInt32(shift)) & 7
        s += (b & 4 != 0 ? "r" : "-") + (b & 2 != 0 ? "w" : "-") + (b & 1 != 0 ? "x" : "-")
    }
    return s
}

/// Word-wraps plain text to `width` columns.
func wrap(_ text: String, width: Int) -> [String] {
    wrapSpans([(text, .plain)], width: width).map { $0.map(\.text).joined() }
}

/// Word-wraps styled runs to `width` columns (words longer than a line are cut).
func wrapSpans(_ spans: [Span], width: Int) -> [[Span]] {
    guard width > 0 else { return [] }
    var lines: [[Span]] = [[]]
    var col = 0
    for sp in spans {
        // Split into words keeping the spaces attached before them.
        var words: [String] = []
        var cur = ""
        for c in sp.text {
            if c == " " && !cur.isEmpty && cur.last != " " { words.append(cur); cur = "" }
            cur.append(c)
        }
        if !cur.isEmpty { words.append(cur) }
        for var w in words {
            var ww = DisplayWidth.of(w)
            if col + ww > width && col > 0 {
                lines.append([])
                col = 0
                while w.first == " " { w.removeFirst() }
                ww = DisplayWidth.of(w)
            }
            while ww > width {
                let head = DisplayWidth.clip(w, to: width - col)
                lines[lines.count - 1].append((head, sp.style))
                w = String(w.dropFirst(head.count))
                ww = DisplayWidth.of(w)
                lines.append([])
                col = 0
            }
            lines[lines.count - 1].append((w, sp.style))
            col += ww
        }
    }
    return lines
}
