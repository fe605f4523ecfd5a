/// The `hangup` command's output: one session's processes grouped by fate, each with its
/// reasons (text), or the same as JSON.
public enum HangupReport {
    /// Fates in the order they are shown.
    static let order: [Fate] = [.dies, .atRisk, .survives, .unaffected, .exited]

    /// The text report, wrapped to `width` columns at word boundaries. Processes whose reason
    /// chains are the same (up to their job number and group, as for every job bash hangs up)
    /// are listed together and their reasons said once; citations go to the end, in brackets.
    public static func text(_ snapshot: Snapshot, session s: Session, event: HangupEvent,
                            verdicts: [Int32: Verdict], width: Int = 80) -> String {
        var out = ""
        var head = "session \(s.sid)  tty \(s.tty ?? "none")  "
        if let l = s.leader, let p = snapshot.processes[l] { head += "leader \(l) \(p.commText)" } else { head += "leader gone" }
        head += "  event: \(event.rawValue) (\(event.title))"
        for l in TextWrap.wrap(head, width: width, hang: 4) { out += l + "\n" }
        if let line = shellLine(s, snapshot) {
            for l in TextWrap.wrap(line, width: width, indent: 2, hang: 4) { out += l + "\n" }
        }
        for fate in order {
            let pids = verdicts.keys.filter { verdicts[$0]!.fate == fate }.sorted()
            if pids.isEmpty { continue }
            out += "  \(fate.rawValue) (\(pids.count))\n"
            for group in groups(pids, verdicts: verdicts, snapshot: snapshot, session: s) {
                if group.pids.count == 1 {
                    let pid = group.pids[0]
                    let cmd = snapshot.processes[pid]?.commandLine ?? "?"
                    let line = "\(pid)  \(cmd)" + (group.tags.isEmpty ? "" : "  [\(group.tags.joined(separator: ", "))]")
                    for l in TextWrap.wrap(line, width: width, indent: 4, hang: 6 + String(pid).count) { out += l + "\n" }
                } else {
                    var line = "\(group.pids.count) \(group.noun)"
                    if !group.jobs.isEmpty { line += " (" + group.jobs.joined(separator: ", ") + ")" }
                    line += ":" + (group.tags.isEmpty ? "" : "  [\(group.tags.joined(separator: ", "))]")
                    for l in TextWrap.wrap(line, width: width, indent: 4, hang: 6) { out += l + "\n" }
                    for pid in group.pids {
                        let cmd = snapshot.processes[pid]?.commandLine ?? "?"
                        for l in TextWrap.wrap("\(pid)  \(cmd)", width: width, indent: 6, hang: 8 + String(pid).count) { out += l + "\n" }
                    }
                }
                for l in TextWrap.wrap(Teaching.summary(verdicts[group.pids[0]]!, event: event), width: width, indent: 8, hang: 8) { out += l + "\n" }
                var cites: [String] = []
                for r in group.reasons {
                    let (text, c) = TextWrap.splitCitations(r)
                    for x in c where !cites.contains(x) { cites.append(x) }
                    for l in TextWrap.wrap("- " + text, width: width, indent: 8, hang: 10) { out += l + "\n" }
                }
                if !cites.isEmpty {
                    for l in TextWrap.wrap("[" + cites.joined(separator: "; ") + "]", width: width, indent: 10, hang: 11) { out += l + "\n" }
                }
            }
        }
        return out
    }

    struct Group {
        var pids: [Int32]
        var tags: [String]
        var reasons: [String]
        /// `%1`, `%2`: the jobs the shared reasons speak of (shown as %N in them).
        var jobs: [String]
        var noun: String
    }

    /// Processes with the same fate, tags and reasons (job numbers and groups aside), in pid order
    /// of their first member.
    static func groups(_ pids: [Int32], verdicts: [Int32: Verdict], snapshot: Snapshot, session s: Session) -> [Group] {
        var order: [String] = []
        var byKey: [String: (pids: [Int32], raw: [[String]], tags: [String])] = [:]
        for pid in pids {
            let v = verdicts[pid]!
            var tags: [String] = []
            if let by = v.by { tags.append("by \(by.rawValue)") }
            if !v.certain { tags.append("uncertain") }
            if let p = snapshot.processes[pid], p.sid != s.sid { tags.append("session \(p.sid)") }
            let key = tags.joined(separator: ",") + "|" + v.reasons.map(template).joined(separator: "\n")
            if byKey[key] == nil { order.append(key); byKey[key] = ([], [], tags) }
            byKey[key]!.pids.append(pid)
            byKey[key]!.raw.append(v.reasons)
        }
        return order.map { key in
            let g = byKey[key]!
            let same = Set(g.raw.map { $0.joined(separator: "\n") }).count == 1
            let reasons = same ? g.raw[0] : g.raw[0].map(template)
            var jobs: [String] = []
            if !same {
                for chain in g.raw {
                    for j in jobNumbers(chain.joined(separator: " ")) where !jobs.contains(j) { jobs.append(j) }
                }
            }
            let noun = jobs.count > 1 ? "processes in \(jobs.count) jobs" : "processes"
            return Group(pids: g.pids, tags: g.tags, reasons: reasons, jobs: jobs, noun: noun)
        }
    }

    /// A reason with its job number and group id made generic: `job %N (group N)`.
    static func template(_ r: String) -> String {
        var out = ""
        var i = r.startIndex
        func digits(from j: String.Index) -> String.Index {
            var k = j
            while k < r.endIndex, r[k].isASCII, r[k].isNumber { k = r.index(after: k) }
            return k
        }
        while i < r.endIndex {
            if r[i] == "%" {
                let j = r.index(after: i)
                let k = digits(from: j)
                if k > j { out += "%N"; i = k; continue }
            }
            if r[i...].hasPrefix("group ") {
                let j = r.index(i, offsetBy: 6)
                let k = digits(from: j)
                if k > j { out += "group N"; i = k; continue }
            }
            out.append(r[i])
            i = r.index(after: i)
        }
        return out
    }

    static func jobNumbers(_ r: String) -> [String] {
        var out: [String] = []
        var i = r.startIndex
        while let p = r[i...].firstIndex(of: "%") {
            var k = r.index(after: p)
            while k < r.endIndex, r[k].isASCII, r[k].isNumber { k = r.index(after: k) }
            if k > r.index(after: p) { out.append(String(r[p..<k])) }
            i = k
            if i >= r.endIndex { break }
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
