/// The `snapshot` text tree: sessions → groups → processes, marked as `ps j` marks them
/// (`s` session leader, `+` in the foreground group).
public enum SnapshotText {
    public static func render(_ snapshot: Snapshot, sessions: [Session]) -> String {
        var out = ""
        for s in sessions {
            let leader: String
            if let l = s.leader, let p = snapshot.processes[l] { leader = "leader \(l) \(p.commText)" }
            else { leader = "leader gone" }
            out += "session \(s.sid)  tty \(s.tty ?? "none")  \(leader)"
            if let fg = s.foregroundPgid { out += "  foreground group \(fg)" }
            out += "\n"
            for g in s.groups {
                let tags = g.labels(in: s)
                out += "  group \(g.pgid)  \(tags.joined(separator: ", "))\n"
                for (pid, depth) in snapshot.treeOrder(of: g) {
                    guard let p = snapshot.processes[pid] else { continue }
                    out += "    " + String(repeating: "  ", count: depth)
                    out += pad(String(pid), 7) + " " + pad(stat(p, s), 4) + " " + pad(p.user, 9) + " "
                    out += p.commandLine + "\n"
                }
            }
        }
        return out
    }

    /// `Ss+`: state, `s` for a session leader, `+` for the foreground group (ps(1) STAT).
    public static func stat(_ p: ProcessInfo, _ s: Session) -> String {
        var t = String(p.state.letter)
        if p.isSessionLeader { t += "s" }
        if let fg = s.foregroundPgid, fg == p.pgid { t += "+" }
        return t
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
