/// The `hangup` command's output: one session's processes grouped by fate, each with its
/// reasons (text), or the same as JSON.
public enum HangupReport {
    /// Fates in the order they are shown.
    static let order: [Fate] = [.dies, .atRisk, .survives, .unaffected, .exited]

    public static func text(_ snapshot: Snapshot, session s: Session, event: HangupEvent,
                            verdicts: [Int32: Verdict]) -> String {
        var out = "session \(s.sid)  tty \(s.tty ?? "none")  "
        if let l = s.leader, let p = snapshot.processes[l] { out += "leader \(l) \(p.commText)" } else { out += "leader gone" }
        out += "  event: \(event.rawValue) (\(event.title))\n"
        if let line = shellLine(s, snapshot) { out += "  \(line)\n" }
        for fate in order {
            let pids = verdicts.keys.filter { verdicts[$0]!.fate == fate }.sorted()
            if pids.isEmpty { continue }
            out += "  \(fate.rawValue) (\(pids.count))\n"
            for pid in pids {
                let v = verdicts[pid]!
                let cmd = snapshot.processes[pid]?.commandLine ?? "?"
                var tags: [String] = []
                if let by = v.by { tags.append("by \(by.rawValue)") }
                if !v.certain { tags.append("uncertain") }
                if let p = snapshot.processes[pid], p.sid != s.sid { tags.append("session \(p.sid)") }
                out += "    \(pid)  \(cmd)" + (tags.isEmpty ? "" : "  [\(tags.joined(separator: ", "))]") + "\n"
                out += "        \(Teaching.summary(v, event: event))\n"
                for r in v.reasons { out += "        - \(r)\n" }
            }
        }
        return out
    }

    /// One line on what the leader's memory said: `bash 5.2.15 (read from its memory): jobs
    /// %1 running, %2 stopped no-HUP; huponexit off` or why it was not used.
    public static func shellLine(_ s: Session, _ snapshot: Snapshot) -> String? {
        guard let l = s.leader, let m = snapshot.shellMemory[l] else { return nil }
        guard m.trusted, let v = m.view else { return "shell's memory not used: \(m.reason ?? "unknown")" }
        let jobs = v.jobs.filter { $0.state != .done }
        var line = "\(v.title), read from its memory: " + (jobs.isEmpty ? "no jobs" : "jobs " + jobs.map { j in
            "%\(j.number) group \(j.pgid) \(j.state.rawValue)" + (j.noHup ? " no-HUP" : "")
        }.joined(separator: ", "))
        if let h = v.hupOnExit { line += "; huponexit \(h ? "on" : "off")\(v.login ? ", login shell" : "")" }
        if let h = v.hupOption { line += "; HUP option \(h ? "on" : "off (NO_HUP)")" }
        if v.hupTrapped { line += "; HUP trapped" }
        return line
    }

    public static func json(_ snapshot: Snapshot, sessions: [(Session, [Int32: Verdict])],
                            event: HangupEvent) -> [UInt8] {
        var w = JSONWriter()
        w.object { w in
            w.key("event"); w.string(event.rawValue)
            w.key("sessions")
            w.array { w in
                for (s, verdicts) in sessions {
                    w.object { w in
                        w.key("sid"); w.int(s.sid)
                        w.key("tty"); if let t = s.tty { w.string(t) } else { w.null() }
                        w.key("leader"); if let l = s.leader { w.int(l) } else { w.null() }
                        w.key("processes")
                        w.array { w in
                            for pid in verdicts.keys.sorted() {
                                let v = verdicts[pid]!
                                w.object { w in
                                    w.key("pid"); w.int(pid)
                                    if let p = snapshot.processes[pid] {
                                        w.key("sid"); w.int(p.sid)
                                        w.key("pgid"); w.int(p.pgid)
                                        w.key("command"); w.string(p.commandLine)
                                    }
                                    w.key("verdict"); SnapshotJSON.verdict(v, &w)
                                }
                            }
                        }
                        w.key("shell"); SnapshotJSON.shellView(s.leader.flatMap { snapshot.shellMemory[$0] }, &w)
                    }
                }
            }
        }
        var out = w.bytes
        out.append(0x0A)
        return out
    }
}
