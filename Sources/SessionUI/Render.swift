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
        putSpans(&s, line0, x: 0, y: 0)

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
        putSpans(&s, line1, x: 0, y: 1)

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
        line2 += [("+new", st(.new)), (" ", .plain), ("-gone", st(.gone)), (dot, .plain),
                  ("filter ", .plain), (state.filter.rawValue, st(.headerValue)), (dot, .plain),
                  ("view ", .plain), (state.mode.rawValue, st(.headerValue))]
        if state.mode == .table {
            line2.append((" by \(state.sortKey.rawValue)\(state.sortDescending ? " desc" : "")", st(.headerValue)))
        }
        putSpans(&s, line2, x: 0, y: 2)
    }

    // MARK: List

    func drawColumns(_ s: inout Screen, y: Int) {
        s.fill(y: y, style: st(.columns))
        let title: String
        if state.mode == .tree {
            title = "F     PID USER     S COMMAND  (session \(state.unicode ? "▸" : ">") group \(state.unicode ? "▸" : ">") process tree)"
        } else {
            func c(_ name: String, _ key: SortKey) -> String {
                state.sortKey == key ? name + (state.sortDescending ? "▼" : "▲").filter { _ in state.unicode } + (state.unicode ? "" : "*") : name
            }
            title = "F " + pad(c("PID", .pid), 7, right: true) + "    PPID    PGID     SID "
                + pad(c("USER", .user), 8) + " " + pad(c("TTY", .tty), 7) + " S " + c("COMMAND", .command)
                + (state.sortKey == .fate ? "   (sorted by fate)" : "")
        }
        s.put(title, x: 0, y: y, style: st(.columns))
    }

    func drawList(_ s: inout Screen, top: Int, height: Int) {
        if state.rows.isEmpty {
            let msg = state.filter == .all ? "No processes." : "Nothing matches the filter \"\(state.filter.rawValue)\" (press f to change it)."
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
            if state.mode == .tree {
                spans += [(pad(String(p.pid), 7, right: true) + " " + pad(p.user, 8) + " " + String(p.state.letter) + " ", base),
                          ("    " + row.prefix, base), (AppState.command(p), cmdStyle)]
            } else {
                spans += [(pad(String(p.pid), 7, right: true) + " " + pad(String(p.ppid), 7, right: true) + " "
                           + pad(String(p.pgid), 7, right: true) + " " + pad(String(p.sid), 7, right: true) + " "
                           + pad(p.user, 8) + " " + pad(p.tty ?? "-", 7) + " " + String(p.state.letter) + " ", base),
                          (AppState.command(p), cmdStyle)]
            }
            if isNew { spans.append(("  (new)", st(.new))) }
        case .gone(let id):
            guard let g = state.gone.first(where: { $0.identity == id }) else { return }
            fillStyle = st(.gone)
            spans = [("- ", st(.gone)),
                     (pad(String(id.pid), 7, right: true) + " " + pad(g.user, 8) + " - " + "    " + g.command + "  (exited)", st(.gone))]
        }
        if fillStyle != .plain { s.fill(y: y, style: fillStyle) }
        putSpans(&s, spans, x: 0, y: y)
        if selected {
            for x in 0..<s.width {
                var c = s[x, y]
                c.style = Style(.selected, bold: c.style.bold, reverse: !state.color, underline: c.style.underline)
                s[x, y] = c
            }
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
        let sess = snap.session(g.sid)
        if sess?.tty == nil {
            spans.append((dot + "no terminal", st(.dim)))
        } else {
            spans.append((dot + (g.isForeground ? "foreground" : "background"), g.isForeground ? st(.headerValue) : .plain))
        }
        if g.hasStopped { spans.append((dot + "stopped", st(.warning))) }
        if g.isOrphaned && g.pgid != g.sid { spans.append((dot + "orphaned", st(.atRisk))) }
        if !g.leaderPresent { spans.append((dot + "leader gone", st(.dim))) }
        spans.append((dot + plural(g.members.count, "process"), st(.dim)))
        return spans
    }

    // MARK: Detail pane

    func drawDetail(_ s: inout Screen, top: Int, height: Int) {
        var lines: [[Span]] = []
        var title = " Detail "
        switch state.selectedRow?.key {
        case .process(let id)?:
            if let p = snap.process(id.pid) {
                title = " pid \(p.pid) \(p.commText) "
                lines = processDetail(p)
            }
        case .session(let sid)?: title = " session \(sid) "; lines = sessionDetail(sid)
        case .group(let pgid)?: title = " group \(pgid) "; lines = groupDetail(pgid)
        case .gone(let id)?: title = " pid \(id.pid) "; lines = [[("This process has exited.", st(.gone))]]
        case nil: lines = [[("Nothing selected.", st(.dim))]]
        }
        s.fill(y: top, style: st(.columns))
        s.put(title + "(i or Esc closes)", x: 0, y: top, style: st(.columns))
        var y = top + 1
        for line in lines {
            guard y < top + height else { break }
            // Continuation lines of an indented item (a reason) hang under its text.
            let lead = line.first.map { $0.text.prefix { $0 == " " }.count } ?? 0
            let hang = lead > 0 ? lead + 2 : 0
            for (k, wrapped) in wrapSpans(line, width: s.width - 1 - hang).enumerated() {
                guard y < top + height else { break }
                var spans = wrapped
                if k > 0, let f = spans.first { spans[0].text = String(f.text.drop { $0 == " " }) }
                putSpans(&s, spans, x: k == 0 ? 1 : 1 + hang, y: y)
                y += 1
            }
        }
    }

    func field(_ f: Field<[UInt8]>) -> Span {
        switch f {
        case .known(let b): return (SafeText.display(b), .plain)
        case .unknown(let r): return ("(\(r))", st(.warning))
        }
    }

    func processDetail(_ p: ProcessInfo) -> [[Span]] {
        var out: [[Span]] = []
        let key = Style(.header, bold: true)
        out.append([("state ", key), ("\(p.state.letter) \(p.state.meaning)", .plain),
                    ("   user ", key), ("\(p.user) (uid \(p.uid)\(p.euid != p.uid ? ", euid \(p.euid)" : ""))", .plain),
                    ("   ppid ", key), ("\(p.ppid)", .plain), ("   threads ", key), ("\(p.threads)", .plain)])
        switch p.argv {
        case .known(let a) where !a.isEmpty:
            out.append([("argv ", key), (a.map { "[" + SafeText.display($0) + "]" }.joined(separator: " "), .plain)])
        case .known: out.append([("argv ", key), ("none (kernel thread or zombie)", st(.dim))])
        case .unknown(let r): out.append([("argv ", key), ("(\(r))", st(.warning))])
        }
        out.append([("exe ", key), field(p.exe), ("   cwd ", key), field(p.cwd)])
        switch p.umask {
        case .known(let m):
            out.append([("umask ", key), (octal(m), .plain),
                        ("  new files \(perms(0o666 & ~m)), new dirs \(perms(0o777 & ~m))", st(.dim))])
        case .unknown(let r): out.append([("umask ", key), ("(\(r))", st(.warning))])
        }
        let g = snap.group(p.pgid)
        let sess = snap.session(p.sid)
        var where_: [Span] = [("group ", key), ("\(p.pgid)", .plain)]
        if let g {
            where_.append((" (\(g.isForeground ? "foreground" : "background")\(g.hasStopped ? ", stopped" : "")\(g.isOrphaned ? ", orphaned" : ""), \(plural(g.members.count, "process")))", .plain))
        }
        where_ += [("   session ", key), ("\(p.sid)", .plain)]
        if let sess {
            let leader = sess.leader.flatMap { snap.process($0) }.map { "leader \($0.commText)" } ?? "leader gone"
            where_.append((" (\(sess.tty ?? "no terminal"), \(leader))", .plain))
        }
        if p.isSessionLeader { where_.append(("  session leader", st(.note))) }
        else if p.isGroupLeader { where_.append(("  group leader", st(.note))) }
        out.append(where_)

        out += shellViewLines(process: p)
        if let v = state.verdict(p.pid) {
            var head: [Span] = [("If \(eventPhrase(p)): ", key), (v.fate.rawValue, st(fateRole(v.fate)))]
            if let by = v.by { head.append((" (by \(by.rawValue))", .plain)) }
            head.append((v.certain ? "" : "  uncertain", st(.atRisk)))
            out.append(head)
            out.append([("  " + Teaching.summary(v, event: state.event), st(fateRole(v.fate)))])
            for r in v.reasons { out.append([("  \(state.unicode ? "•" : "*") " + r, .plain)]) }
        } else {
            out.append([("hangup ", key), (snap.session(p.sid)?.tty == nil
                ? "its session has no terminal: no hangup can reach it" : "no verdict", st(.dim))])
        }
        let sig = p.signals
        let hup: String
        if sig.ignored.contains(Signals.hup) { hup = "ignored (nohup or trap '')" }
        else if sig.caught.contains(Signals.hup) { hup = "caught: a handler decides" }
        else if sig.blockedInAllThreads.contains(Signals.hup) { hup = "blocked" }
        else { hup = "default: terminates" }
        func names(_ set: SignalSet) -> String { set.isEmpty ? "-" : set.names.joined(separator: " ") }
        out.append([("SIGHUP ", key), (hup, .plain), ("   ignored ", key), (names(sig.ignored), .plain),
                    ("   caught ", key), (names(sig.caught), .plain), ("   blocked ", key), (names(sig.blocked), .plain),
                    ("   pending ", key), (names(sig.pending), .plain)])

        var fdLine: [Span] = []
        switch p.fds {
        case .known(let fds):
            fdLine.append(("fds (\(fds.count)) ", key))
            for (i, f) in fds.enumerated() {
                if i > 0 { fdLine.append((dot, st(.dim))) }
                let isTTY = f.kind == .tty
                fdLine.append(("\(f.fd) ", Style(.header, bold: true)))
                fdLine.append(("\(f.kind.rawValue) \(f.targetText)", isTTY ? st(.atRisk) : .plain))
            }
        case .unknown(let r):
            fdLine = [("fds ", key), ("(\(r))", st(.warning))]
        }
        out.append(fdLine)

        return out
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
                        ("\(g.isForeground ? "fg" : "bg")\(g.hasStopped ? " stopped" : "")\(g.isOrphaned ? " orphaned" : "") \(g.members.count)p  \(lead)", .plain)])
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
            [("Enter Space", key), ("  fold or unfold a session or group; on a process, the detail pane", .plain)],
            [("← →", key), ("  close / open, or go to the parent row", .plain), ("   i F2", key), ("  detail pane", .plain)],
            [("/ F3", key), ("  search command, pid, user, tty", .plain), ("   n N", key), ("  next / previous match", .plain)],
            [("f F4", key), ("  filter: all, my session, at risk, my user", .plain)],
            [("e F7", key), ("  event: terminal hangs up, leader killed, user types exit", .plain)],
            [("t F5", key), ("  tree or table", .plain), ("   s > < F6", key), ("  sort by pid, user, tty, command, fate", .plain), ("   I", key), ("  invert", .plain)],
            [("k F9", key), ("  signal menu for the selected process, group or session (common signals first; destructive ones ask first)", .plain)],
            [("D F8", key), ("  detach: relaunch the process in a new session without a terminal (daemonize, or v: tmux), then end the original", .plain)],
            [("+ -", key), ("  refresh slower / faster", .plain), ("   mouse", key), ("  click selects, wheel scrolls", .plain), ("   q F10", key), ("  quit", .plain)],
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
        } else if let note = state.note {
            s.put(note, x: 0, y: y, style: st(.note))
        } else if !state.query.isEmpty {
            s.put("search \"\(state.query)\": n next, N previous, Esc clears", x: 0, y: y, style: st(.dim))
        }
    }

    func drawBar(_ s: inout Screen, y: Int) {
        s.fill(y: y, style: st(.fkeyLabel))  // as htop: the label colour runs to the edge
        var x = 0
        for item in functionBar {
            x = s.put(item.key, x: x, y: y, style: st(.fkey))
            let label = item.label + String(repeating: " ", count: max(1, 7 - item.label.count))
            x = s.put(label, x: x, y: y, style: st(.fkeyLabel))
        }
    }

    // MARK: Text helpers

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
    n == 1 ? "1 \(word)" : "\(n) \(word)\(word.hasSuffix("s") ? "es" : "s")"
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
