/// The `snapshot` text: a header line, then each session and group as a line of its own and
/// its processes in aligned columns, the tree drawn in the command column (as
/// `ps -ejf --forest` draws it: `\_ ` under the parent), marked as `ps j` marks them (`s`
/// session leader, `+` in the foreground group). Long commands wrap at word boundaries under
/// the command column.
public enum SnapshotText {
    public static let header = ["PID", "PPID", "PGID", "SID", "TTY", "STAT", "USER", "COMMAND"]

    public static func render(_ snapshot: Snapshot, sessions: [Session], width: Int = 80) -> String {
        // Column widths from the data (at least the title's).
        var rows: [(session: Int, group: Int, cells: [String], command: String)] = []
        // Ids at least as wide as ps prints them.
        var w = header.dropLast().enumerated().map { $0.offset < 4 ? max(5, $0.element.count) : $0.element.count }
        for (si, s) in sessions.enumerated() {
            for (gi, g) in s.groups.enumerated() {
                for (pid, depth) in snapshot.treeOrder(of: g) {
                    guard let p = snapshot.processes[pid] else { continue }
                    let cells = [String(pid), String(p.ppid), String(p.pgid), String(p.sid), p.tty ?? "-",
                                 stat(p, s), p.user]
                    for (i, c) in cells.enumerated() { w[i] = max(w[i], c.count) }
                    let tree = depth == 0 ? "" : String(repeating: "    ", count: depth - 1) + " \\_ "
                    rows.append((si, gi, cells, tree + p.commandLine))
                }
            }
        }
        let right: Set<Int> = [0, 1, 2, 3]
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in right.contains(i) ? padLeft(c, w[i]) : pad(c, w[i]) }.joined(separator: " ")
        }
        let commandColumn = w.reduce(0, +) + w.count
        var out = line(Array(header.dropLast())) + " " + header.last! + "\n"
        var r = 0
        for (si, s) in sessions.enumerated() {
            var title = "session \(s.sid) · tty \(s.tty ?? "none") · "
            if let l = s.leader, let p = snapshot.processes[l] { title += "leader \(l) \(p.commText)" } else { title += "leader gone" }
            if let fg = s.foregroundPgid { title += " · foreground group \(fg)" }
            for l in TextWrap.wrap(title, width: width, hang: 4) { out += l + "\n" }
            for (gi, g) in s.groups.enumerated() {
                out += "  group \(g.pgid) · " + g.labels(in: s).joined(separator: ", ") + "\n"
                while r < rows.count, rows[r].session == si, rows[r].group == gi {
                    let cells = line(rows[r].cells) + " "
                    // The command wraps under its column (or, on a narrow screen, hangs by 8).
                    let hang = commandColumn < width - 20 ? commandColumn : 8
                    let wrapped = TextWrap.wrap(rows[r].command, width: width - commandColumn, indent: 0, hang: max(0, hang - commandColumn))
                    if commandColumn >= width - 20 {
                        out += cells + rows[r].command + "\n"
                    } else {
                        out += cells + (wrapped.first ?? "") + "\n"
                        for cont in wrapped.dropFirst() { out += String(repeating: " ", count: commandColumn) + cont.drop { $0 == " " } + "\n" }
                    }
                    r += 1
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

    static func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
