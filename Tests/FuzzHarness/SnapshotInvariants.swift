import SessionCore

/// What every snapshot must satisfy however racy or odd the /proc tree it was read from:
/// the fuzz target over generated trees and the churn test check these.
public enum SnapshotInvariants {
    /// Each violation as a line; empty when the snapshot is consistent.
    public static func violations(_ snap: Snapshot) -> [String] {
        var out: [String] = []
        var seen: [Int32: Int32] = [:]  // pid → sid it was listed in
        var sids = Set<Int32>()
        var previousSid: Int32?
        for s in snap.sessions {
            if let p = previousSid, p >= s.sid { out.append("sessions not ascending at \(s.sid)") }
            previousSid = s.sid
            if !sids.insert(s.sid).inserted { out.append("session \(s.sid) listed twice") }
            if let l = s.leader, l != s.sid { out.append("session \(s.sid) has leader \(l)") }
            var previousPgid: Int32?
            for g in s.groups {
                if let p = previousPgid, p >= g.pgid { out.append("groups of \(s.sid) not ascending at \(g.pgid)") }
                previousPgid = g.pgid
                if g.sid != s.sid { out.append("group \(g.pgid) says session \(g.sid), listed in \(s.sid)") }
                if g.members.isEmpty { out.append("group \(g.pgid) is empty") }
                if g.members != g.members.sorted() || Set(g.members).count != g.members.count {
                    out.append("group \(g.pgid) members not ascending and unique")
                }
                for pid in g.members {
                    guard let p = snap.processes[pid] else { out.append("member \(pid) of \(g.pgid) not in processes"); continue }
                    if p.pgid != g.pgid { out.append("group \(g.pgid) holds \(pid) whose pgid is \(p.pgid) (mixed pgids)") }
                    if p.sid != s.sid { out.append("session \(s.sid) holds \(pid) whose sid is \(p.sid)") }
                    if p.isKernelThread { out.append("kernel thread \(pid) in session \(s.sid)") }
                    if let other = seen[pid] { out.append("pid \(pid) in sessions \(other) and \(s.sid)") }
                    seen[pid] = s.sid
                }
                let order = snap.treeOrder(of: g).map(\.pid)
                if order.sorted() != g.members { out.append("tree order of \(g.pgid) is not its members once each") }
            }
        }
        for pid in snap.kernelThreads {
            if seen[pid] != nil { out.append("kernel thread \(pid) also in a session") }
            seen[pid] = -1
        }
        for (pid, p) in snap.processes where seen[pid] == nil {
            out.append("pid \(pid) (sid \(p.sid)) in no session")
        }
        for (parent, kids) in snap.children {
            for k in kids where snap.processes[k]?.ppid != parent { out.append("child \(k) listed under \(parent)") }
        }
        return out
    }
}
