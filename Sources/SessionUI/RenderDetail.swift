import SessionCore
#if canImport(Glibc)
import Glibc
#endif

/// The sections of a process's detail view, in order; digits 1–7 jump to them, Tab goes on.
public enum DetailSection: String, CaseIterable, Sendable {
    case identity, session, signals, fds, environment, cgroup, hangup

    public var title: String {
        switch self {
        case .identity: return "identity"
        case .session: return "session & group"
        case .signals: return "signals"
        case .fds: return "fds"
        case .environment: return "environment"
        case .cgroup: return "cgroup"
        case .hangup: return "hangup"
        }
    }
}

/// The detail pane (`i`, beside the list) and the detail view (Enter on a process: it takes the
/// list's place and scrolls with ↑ ↓ PgUp PgDn Home End). Both draw the same document: a
/// process's sections, wrapped at word boundaries, reasons hanging under their first word.
extension Renderer {
    /// The wrapped lines of the selected row's document, and where each section starts.
    func detailDocument(width: Int) -> (lines: [[Span]], starts: [(DetailSection, Int)]) {
        var lines: [[Span]] = []
        var starts: [(DetailSection, Int)] = []
        func add(_ raw: [[Span]]) {
            for line in raw {
                // Continuation lines of an indented item (a reason, an fd) hang under its text.
                let lead = line.first.map { $0.text.prefix { $0 == " " }.count } ?? 0
                let hang = lead > 0 ? lead + 2 : 0
                if line.isEmpty { lines.append([]); continue }
                for (k, wrapped) in wrapSpans(line, width: max(1, width - hang)).enumerated() {
                    var spans = wrapped
                    if k > 0, let f = spans.first {
                        spans[0].text = String(f.text.drop { $0 == " " })
                        spans.insert((String(repeating: " ", count: hang), .plain), at: 0)
                    }
                    lines.append(spans)
                }
            }
        }
        switch state.selectedRow?.key {
        case .process(let id)?:
            guard let p = snap.process(id.pid) else { add([[("This process has exited.", st(.gone))]]); break }
            for (section, body) in processSections(p) {
                starts.append((section, lines.count))
                add([[(state.unicode ? "━ " : "= ", st(.title)), ("\(section.title)", st(.title))]] + body)
            }
        case .session(let sid)?: add(sessionDetail(sid))
        case .group(let pgid)?: add(groupDetail(pgid))
        case .gone?: add([[("This process has exited.", st(.gone))]])
        case nil: add([[("Nothing selected.", st(.dim))]])
        }
        return (lines, starts)
    }

    func drawDetail(_ s: inout Screen, top: Int, height: Int) {
        guard height > 0 else { return }
        var title = " Detail "
        switch state.selectedRow?.key {
        case .process(let id)?: title = " pid \(id.pid) " + (snap.process(id.pid).map { $0.commText + " " } ?? "")
        case .session(let sid)?: title = " session \(sid) "
        case .group(let pgid)?: title = " group \(pgid) "
        case .gone(let id)?: title = " pid \(id.pid) "
        case nil: break
        }
        let doc = detailDocument(width: s.width - 2)
        let body = height - 1
        let first = min(state.detailScroll, max(0, doc.lines.count - body))
        let hint: String
        if state.detailFull {
            let end = min(doc.lines.count, first + body)
            // Where we are: the section holding the first line shown.
            let here = doc.starts.last { $0.1 <= first }.map { "· \($0.0.title) " } ?? ""
            hint = here + "· \(first + 1)–\(end) of \(doc.lines.count) · 1-7 Tab: sections · o fds · E env · Esc back "
        } else {
            hint = "(i or Esc closes)"
        }
        s.fill(y: top, style: st(.columns))
        putClipped(&s, [(title + hint, st(.columns))], x: 0, y: top)
        for (i, line) in doc.lines.dropFirst(first).prefix(body).enumerated() {
            putClipped(&s, line, x: 1, y: top + 1 + i)
        }
    }

    func processSections(_ p: ProcessInfo) -> [(DetailSection, [[Span]])] {
        let key = Style(.header, bold: true)
        var out: [(DetailSection, [[Span]])] = []

        // Identity
        var id: [[Span]] = []
        id.append([("state ", key), ("\(p.state.letter) \(p.state.meaning)", .plain),
                   ("   user ", key), ("\(p.user) (uid \(p.uid)\(p.euid != p.uid ? ", euid \(p.euid)" : ""))", .plain),
                   ("   ppid ", key), ("\(p.ppid)", .plain), ("   threads ", key), ("\(p.threads)", .plain)])
        id.append([("cpu ", key), (Figures.percent(state.cpuPercent[p.identity]) + "%", .plain),
                   ("   rss ", key), (Figures.bytes(p.rssBytes), .plain),
                   ("   age ", key), (value(.age, p), .plain),
                   ("   started ", key), ("\(p.startTime) ticks after boot", st(.dim))])
        switch p.argv {
        case .known(let a) where !a.isEmpty:
            id.append([("argv ", key), (a.map { "[" + SafeText.display($0) + "]" }.joined(separator: " "), .plain)])
        case .known: id.append([("argv ", key), ("none (kernel thread or zombie)", st(.dim))])
        case .unknown(let r): id.append([("argv ", key), ("(\(r))", st(.warning))])
        }
        id.append([("exe ", key), field(p.exe)])
        id.append([("cwd ", key), field(p.cwd)])
        switch p.umask {
        case .known(let m):
            id.append([("umask ", key), (octal(m), .plain),
                       ("  new files \(perms(0o666 & ~m)), new dirs \(perms(0o777 & ~m))", st(.dim))])
        case .unknown(let r): id.append([("umask ", key), ("(\(r))", st(.warning))])
        }
        out.append((.identity, id))

        // Session & group: the same labels as the tree and `snapshot`.
        var where_: [[Span]] = []
        let sess = snap.session(p.sid)
        if let g = snap.group(p.pgid) {
            where_.append([("group ", key), ("\(p.pgid)", .plain),
                           (" (" + (g.labels(in: sess) + [plural(g.members.count, "process")]).joined(separator: ", ") + ")", .plain)]
                          + (p.isGroupLeader && !p.isSessionLeader ? [("  group leader", st(.note))] : []))
        }
        var sline: [Span] = [("session ", key), ("\(p.sid)", .plain)]
        if let sess {
            let leader = sess.leader.flatMap { snap.process($0) }.map { "leader \($0.commText)" } ?? "leader gone"
            sline.append((" (\(sess.tty ?? "no terminal"), \(leader))", .plain))
        }
        if p.isSessionLeader { sline.append(("  session leader", st(.note))) }
        where_.append(sline)
        where_.append([("tty ", key), (p.tty ?? "none", p.tty == nil ? st(.dim) : .plain)])
        where_ += shellViewLines(process: p, cgroup: false)
        out.append((.session, where_))

        // Signals
        let sig = p.signals
        let hup: String
        if sig.ignored.contains(Signals.hup) { hup = "ignored (nohup or trap '')" }
        else if sig.caught.contains(Signals.hup) { hup = "caught: a handler decides" }
        else if sig.blockedInAllThreads.contains(Signals.hup) { hup = "blocked" }
        else { hup = "default: terminates" }
        func names(_ set: SignalSet) -> String { set.isEmpty ? "-" : set.names.joined(separator: " ") }
        out.append((.signals, [[("SIGHUP ", key), (hup, .plain)],
                               [("ignored ", key), (names(sig.ignored), .plain)],
                               [("caught ", key), (names(sig.caught), .plain)],
                               [("blocked ", key), (names(sig.blocked), .plain)],
                               [("pending ", key), (names(sig.pending), .plain)]]))

        out.append((.fds, fdLines(p)))

        // Environment: read only when asked (it may hold secrets; it is another read).
        var env: [[Span]] = []
        if !state.showEnvironment {
            env.append([("press E to read /proc/\(p.pid)/environ", st(.dim))])
        } else if let e = state.environment, e.id == p.identity {
            switch e.value {
            case .known(let vars):
                env.append([("\(plural(vars.count, "variable"))", st(.dim))])
                for v in vars { env.append([("  " + SafeText.display(v), .plain)]) }
            case .unknown(let r): env.append([("(\(r))", st(.warning))])
            }
        } else {
            env.append([("reading…", st(.dim))])
        }
        out.append((.environment, env))

        // Cgroup
        var cg: [[Span]] = []
        switch p.cgroup {
        case .known(let c):
            var line: [Span] = [(SafeText.display(c), .plain)]
            if let place = CgroupPlace.of(c) {
                switch place.kind {
                case .session(let id, _): line.append(("  logind session \(id)", st(.dim)))
                case .userManager: line.append(("  user@\(place.uid).service", st(.dim)))
                }
            }
            cg.append(line)
        case .unknown(.notRead): cg.append([("not read (cgroups are read where logind keeps sessions)", st(.dim))])
        case .unknown(let r): cg.append([("(\(r))", st(.warning))])
        }
        out.append((.cgroup, cg))

        // Hangup verdict, reasons wrapped at word boundaries under their bullet.
        var hv: [[Span]] = []
        if let r = state.detachRecords[p.identity] {
            hv.append([("detached in place by sessiontop at \(Self.clock(r.when)), log \(r.log.replacingHome(environmentHome()))", st(.note))])
        }
        if let v = state.verdict(p.pid) {
            var head: [Span] = [("If \(eventPhrase(p)): ", key), (v.fate.rawValue, st(fateRole(v.fate)))]
            if let by = v.by { head.append((" (by \(by.rawValue))", .plain)) }
            if !v.certain { head.append(("  uncertain", st(.atRisk))) }
            hv.append(head)
            hv.append([("  " + Teaching.summary(v, event: state.event), st(fateRole(v.fate)))])
            for r in v.reasons { hv.append([("  \(state.unicode ? "•" : "*") " + r, .plain)]) }
        } else {
            hv.append([(snap.session(p.sid)?.tty == nil
                ? "its session has no terminal: no hangup can reach it" : "no verdict", st(.dim))])
        }
        out.append((.hangup, hv))
        return out
    }

    /// `14:02`, local time, for a unix time.
    static func clock(_ t: Int64) -> String {
        var tt = time_t(t)
        var parts = tm()
        guard localtime_r(&tt, &parts) != nil else { return "?" }
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return two(parts.tm_hour) + ":" + two(parts.tm_min)
    }

    /// fds grouped by kind ("12 files, 3 sockets, 280 pipes"); the terminal ones always shown,
    /// every fd (flags decoded, offset) when expanded with `o`.
    func fdLines(_ p: ProcessInfo) -> [[Span]] {
        let key = Style(.header, bold: true)
        guard case .known(let fds) = p.fds else {
            if case .unknown(let r) = p.fds { return [[("(\(r))", st(.warning))]] }
            return []
        }
        var counts: [FileKind: Int] = [:]
        for f in fds { counts[f.kind, default: 0] += 1 }
        let summary = FileKind.allCases.compactMap { k in counts[k].map { plural($0, Self.kindNoun(k)) } }.joined(separator: ", ")
        var out: [[Span]] = [[("\(plural(fds.count, "fd")): ", key), (summary.isEmpty ? "none" : summary, .plain),
                              (state.fdsExpanded ? "  (o: by kind)" : "  (o: every fd)", st(.dim))]]
        func fdLine(_ f: OpenFile) -> [Span] {
            var line: [Span] = [("  " + pad(String(f.fd), 4, right: true) + " ", key),
                                (pad(f.kind.rawValue, 10) + " " + f.targetText, f.kind == .tty ? st(.atRisk) : .plain)]
            switch f.info {
            case .known(let i): line.append(("  " + OpenFlags.names(i.flags) + " pos \(i.position)", st(.dim)))
            case .unknown(.notRead): break
            case .unknown(let r): line.append(("  fdinfo: \(r)", st(.warning)))
            }
            return line
        }
        if state.fdsExpanded {
            for kind in FileKind.allCases {
                let these = fds.filter { $0.kind == kind }
                guard !these.isEmpty else { continue }
                out.append([("\(plural(these.count, Self.kindNoun(kind)))", st(.dim))])
                for f in these { out.append(fdLine(f)) }
            }
        } else {
            // The terminal is what a hangup is about: those fds are always listed.
            for f in fds where f.kind == .tty { out.append(fdLine(f)) }
        }
        return out
    }

    static func kindNoun(_ k: FileKind) -> String {
        switch k {
        case .regular: return "file"
        case .directory: return "directory"
        case .tty: return "terminal"
        case .device: return "device"
        case .pipe: return "pipe"
        case .fifo: return "fifo"
        case .socket: return "socket"
        case .anonInode: return "anon inode"
        case .memfd: return "memfd"
        case .deleted: return "deleted file"
        case .other: return "other"
        }
    }
}
