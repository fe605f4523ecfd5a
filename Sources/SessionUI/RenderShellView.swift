import SessionCore

/// The detail pane's lines on what the shell itself knows (its job table, read from its
/// memory) and where a process sits in systemd's cgroup tree: kept apart from the rest of the
/// detail pane so a restyle of the pane leaves them alone.
extension Renderer {
    /// For a process: its cgroup, and the leader's view of its group (job number, state as the
    /// shell sees it, no-HUP) — or that the table has no job for it.
    func shellViewLines(process p: ProcessInfo, cgroup: Bool = true) -> [[Span]] {
        let key = Style(.header, bold: true)
        var out: [[Span]] = []
        if let sess = snap.session(p.sid), let l = sess.leader, let m = snap.shellMemory[l] {
            if l == p.pid {
                out += shellTableLines(m)
            } else if m.trusted, let v = m.view {
                if let j = v.job(group: p.pgid) {
                    out.append([("\(v.shell.rawValue)'s view ", key),
                                ("job %\(j.number), \(j.state.rawValue)\(j.noHup ? ", no-HUP (disown -h)" : "")\(j.foreground ? ", foreground" : "")", .plain),
                                ("  (read from its memory)", st(.dim))])
                } else if p.pgid != snap.process(l)?.pgid, p.ppid == l || snap.group(p.pgid)?.members.contains(where: { snap.process($0)?.ppid == l }) == true {
                    out.append([("\(v.shell.rawValue)'s view ", key), ("not in its job table: disowned, it sends this group nothing", st(.note))])
                }
            }
        }
        if cgroup, let c = p.cgroup.value {
            var line: [Span] = [("cgroup ", key), (SafeText.display(c), .plain)]
            if let place = CgroupPlace.of(c) {
                switch place.kind {
                case .session(let id, _): line.append(("  logind session \(id)", st(.dim)))
                case .userManager: line.append(("  user@\(place.uid).service", st(.dim)))
                }
            }
            out.append(line)
        }
        return out
    }

    /// For a session: the leader's job table as its memory shows it.
    func shellViewLines(session s: Session) -> [[Span]] {
        guard let l = s.leader, let m = snap.shellMemory[l] else { return [] }
        return shellTableLines(m)
    }

    func shellTableLines(_ m: ShellMemory) -> [[Span]] {
        let key = Style(.header, bold: true)
        guard m.trusted, let v = m.view else {
            return [[("shell's memory ", key), ("not used: \(m.reason ?? "unknown")", st(.dim))]]
        }
        var head: [Span] = [("\(v.title) ", key), ("(its memory): ", st(.dim))]
        var facts: [String] = []
        if let h = v.hupOnExit { facts.append("huponexit \(h ? "on" : "off")") }
        if let h = v.hupOption { facts.append("HUP option \(h ? "on" : "off")") }
        facts.append(v.login ? "login shell" : "not a login shell")
        if v.hupTrapped { facts.append("HUP trapped") }
        head.append((facts.joined(separator: ", "), .plain))
        var out = [head]
        let jobs = v.jobs.filter { $0.state != .done }
        if jobs.isEmpty { out.append([("  jobs ", key), ("none", .plain)]) }
        for j in jobs {
            out.append([("  %\(j.number) ", key),
                        ("group \(j.pgid) \(j.state.rawValue)\(j.noHup ? " no-HUP" : "") pids \(j.pids.map(String.init).joined(separator: " "))", .plain)])
        }
        return out
    }
}
