#if canImport(Glibc)
import Glibc
#endif

/// Which part of a snapshot to show: the CLI's `--pid/--sid/--tty/--user`.
public struct SnapshotFilter: Sendable {
    public var pid: Int32?
    public var sid: Int32?
    public var tty: String?
    public var user: String?

    public init(pid: Int32? = nil, sid: Int32? = nil, tty: String? = nil, user: String? = nil) {
        self.pid = pid
        self.sid = sid
        self.tty = tty
        self.user = user
    }

    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        case noSuchProcess(Int32)
        case kernelThread(Int32)
        case noSuchSession(Int32)
        case noSuchTTY(String)
        case noSuchUser(String)
        /// A real user with no process in the sessions chosen.
        case nothingMatched(user: String)
        public var description: String {
            switch self {
            case .noSuchProcess(let p): return "no process with pid \(p)"
            case .kernelThread(let p): return "pid \(p) is a kernel thread: it belongs to no user session"
            case .noSuchSession(let s): return "no session with sid \(s)"
            case .noSuchTTY(let t): return "no session has \(t) as its controlling terminal"
            case .noSuchUser(let u): return UInt32(u) != nil ? "no such user: uid \(u)" : "no user named \(u)"
            case .nothingMatched(let u): return "nothing matched: no process of user \(u) here"
            }
        }
    }

    /// `pts/3`, `/dev/pts/3` and `3` (for pts) all name the same terminal.
    public static func normalizeTTY(_ name: String) -> String {
        var n = name
        if n.hasPrefix("/dev/") { n.removeFirst(5) }
        if !n.isEmpty, n.allSatisfy(\.isNumber) { n = "pts/" + n }
        return n
    }

    /// The sessions to show, each keeping only the processes that pass the filter.
    public func apply(to snapshot: Snapshot) throws(Failure) -> [Session] {
        var sessions = snapshot.sessions
        if let pid {
            guard let p = snapshot.processes[pid] else { throw .noSuchProcess(pid) }
            if p.isKernelThread { throw .kernelThread(pid) }
            sessions = sessions.filter { $0.sid == p.sid }
        }
        if let sid {
            guard snapshot.session(sid) != nil else { throw .noSuchSession(sid) }
            sessions = sessions.filter { $0.sid == sid }
        }
        if let tty {
            let want = Self.normalizeTTY(tty)
            guard snapshot.sessions.contains(where: { $0.tty == want }) else { throw .noSuchTTY(want) }
            sessions = sessions.filter { $0.tty == want }
        }
        if let user {
            // A uid is a user when the password database or a process has it (a bare number
            // names no one otherwise).
            let known = snapshot.processes.values.contains { $0.user == user || String($0.uid) == user }
                || getpwnam(user) != nil || UInt32(user).map { getpwuid($0) != nil } == true
            guard known else { throw .noSuchUser(user) }
            sessions = sessions.compactMap { s in
                var s = s
                s.groups = s.groups.compactMap { g in
                    var g = g
                    g.members = g.members.filter {
                        let p = snapshot.processes[$0]!
                        return p.user == user || String(p.uid) == user
                    }
                    return g.members.isEmpty ? nil : g
                }
                return s.groups.isEmpty ? nil : s
            }
            if sessions.isEmpty { throw .nothingMatched(user: user) }
        }
        return sessions
    }
}
