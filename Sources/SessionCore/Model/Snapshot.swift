/// A process group (credentials(7), "process group"): the unit of job control.
public struct ProcessGroup: Hashable, Sendable {
    public var pgid: Int32
    public var sid: Int32
    /// Member pids, ascending.
    public var members: [Int32]
    /// The process whose pid is the pgid still exists.
    public var leaderPresent: Bool
    /// It is its terminal's foreground group (pgid == the session's tpgid).
    public var isForeground: Bool
    /// POSIX orphaned: no member has a parent in another group of the same session
    /// (kernel/exit.c will_become_orphaned_pgrp: zombies and children of init don't count).
    public var isOrphaned: Bool
    /// Some member is stopped (state T).
    public var hasStopped: Bool
}

/// A session (credentials(7), "session"): groups sharing at most one controlling terminal.
public struct Session: Hashable, Sendable {
    public var sid: Int32
    /// The leader's pid when it is still alive (pid == sid), nil when the leader is gone.
    public var leader: Int32?
    /// Controlling terminal name and device, when the session has one.
    public var tty: String?
    public var ttyDevice: UInt64
    /// The terminal's foreground group (stat field 8 of its members), nil when none.
    public var foregroundPgid: Int32?
    /// Groups, ascending by pgid.
    public var groups: [ProcessGroup]

    public var processCount: Int { groups.reduce(0) { $0 + $1.members.count } }
}

/// One consistent picture of the machine's sessions, groups and processes.
public struct Snapshot: Sendable {
    /// Every process read, user and kernel, by pid.
    public var processes: [Int32: ProcessInfo]
    /// User sessions (no kernel threads), ascending by sid.
    public var sessions: [Session]
    /// Kernel threads (PF_KTHREAD), ascending by pid: kept apart from user sessions.
    public var kernelThreads: [Int32]
    /// Children of each pid, ascending.
    public var children: [Int32: [Int32]]
    /// sessiontop's own pid and the sid and tty of its session (for "my terminal").
    public var selfPid: Int32
    public var selfSid: Int32?
    public var selfTTY: String?
    /// Clock ticks per second (sysconf(_SC_CLK_TCK)) and uptime when taken, in seconds (NaN
    /// when `/proc/uptime` could not be read as a number).
    public var clockTicks: UInt64
    public var uptime: Double
    /// The machine's name (uname nodename).
    public var hostname: String
    /// What each bash/zsh session leader's own memory says about its jobs, checked against
    /// this snapshot (ShellMemoryReader), by leader pid. Empty when not read.
    public var shellMemory: [Int32: ShellMemory] = [:]
    /// Forks of a bash/zsh session leader that catch SIGHUP (a `$( … )`, a subshell): whether
    /// they set a `trap … HUP` of their own, read from their memory, by pid.
    public var shellForkTraps: [Int32: Bool] = [:]
    /// systemd-logind's logout policy on this machine (LogindPolicyReader); nil when not read.
    public var logind: LogindPolicy?

    public init(processes: [Int32: ProcessInfo], selfPid: Int32, clockTicks: UInt64 = 100,
                uptime: Double = 0, hostname: String = "") {
        self.processes = processes
        self.selfPid = selfPid
        self.clockTicks = clockTicks
        self.uptime = uptime
        self.hostname = hostname
        self.sessions = []
        self.kernelThreads = []
        self.children = [:]
        self.selfSid = processes[selfPid]?.sid
        self.selfTTY = processes[selfPid]?.tty
        build()
    }

    public func process(_ pid: Int32) -> ProcessInfo? { processes[pid] }
    /// Where each session and group sits in `sessions`, so lookups by sid and pgid do not
    /// walk every session (10 000 processes in 200 sessions: every row asks).
    var sessionIndex: [Int32: Int] = [:]
    var groupIndex: [Int32: (session: Int, group: Int)] = [:]

    public func session(_ sid: Int32) -> Session? {
        if let i = sessionIndex[sid], i < sessions.count, sessions[i].sid == sid { return sessions[i] }
        if sessionIndex[sid] == nil && sessionIndex.count == sessions.count { return nil }
        return sessions.first { $0.sid == sid }  // changed since indexed
    }
    public func group(_ pgid: Int32) -> ProcessGroup? {
        if let (i, j) = groupIndex[pgid], i < sessions.count, j < sessions[i].groups.count,
           sessions[i].groups[j].pgid == pgid { return sessions[i].groups[j] }
        if groupIndex[pgid] == nil && sessionIndex.count == sessions.count && !sessions.isEmpty { return nil }
        for s in sessions { if let g = s.groups.first(where: { $0.pgid == pgid }) { return g } }
        return nil
    }

    /// Rebuilds the sid / pgid indexes after `sessions` changed.
    public mutating func reindex() {
        sessionIndex = [:]
        groupIndex = [:]
        sessionIndex.reserveCapacity(sessions.count)
        for (i, s) in sessions.enumerated() {
            sessionIndex[s.sid] = i
            for (j, g) in s.groups.enumerated() { groupIndex[g.pgid] = (i, j) }
        }
    }

    /// Builds sessions, groups and the child lists from `processes`.
    mutating func build() {
        var bySession: [Int32: [Int32: [Int32]]] = [:]
        var kthreads: [Int32] = []
        var kids: [Int32: [Int32]] = [:]
        for (pid, p) in processes {
            kids[p.ppid, default: []].append(pid)
            if p.isKernelThread { kthreads.append(pid); continue }
            bySession[p.sid, default: [:]][p.pgid, default: []].append(pid)
        }
        for k in kids.keys { kids[k]!.sort() }
        children = kids
        kernelThreads = kthreads.sorted()
        var out: [Session] = []
        out.reserveCapacity(bySession.count)
        for (sid, groupsByPgid) in bySession {
            // The session's terminal and foreground group: any member that still has it.
            var ttyDev: UInt64 = 0
            var ttyName: String?
            var fg: Int32?
            for (_, members) in groupsByPgid {
                for pid in members {
                    let p = processes[pid]!
                    if p.ttyDevice != 0 && ttyDev == 0 { ttyDev = p.ttyDevice; ttyName = p.tty }
                    if p.ttyDevice != 0 && p.tpgid > 0 && fg == nil { fg = p.tpgid }
                }
            }
            var groups: [ProcessGroup] = []
            for (pgid, unsorted) in groupsByPgid {
                let members = unsorted.sorted()
                var orphaned = true
                var stopped = false
                for pid in members {
                    let p = processes[pid]!
                    if p.state.isStopped { stopped = true }
                    if p.state.isGone || p.ppid == 1 || p.ppid == 0 { continue }
                    if let parent = processes[p.ppid], parent.pgid != pgid, parent.sid == sid {
                        orphaned = false
                    }
                }
                groups.append(ProcessGroup(pgid: pgid, sid: sid, members: members,
                                           leaderPresent: processes[pgid]?.pgid == pgid,
                                           isForeground: fg == pgid, isOrphaned: orphaned,
                                           hasStopped: stopped))
            }
            groups.sort { $0.pgid < $1.pgid }
            out.append(Session(sid: sid, leader: processes[sid]?.sid == sid ? sid : nil,
                               tty: ttyName, ttyDevice: ttyDev, foregroundPgid: fg, groups: groups))
        }
        out.sort { $0.sid < $1.sid }
        sessions = out
        reindex()
    }

    /// The session sessiontop runs in.
    public var selfSession: Session? { selfSid.flatMap { session($0) } }

    /// Processes of a session in tree order within each group: (pid, depth) pairs where depth
    /// counts ancestors inside the same group. Every member comes exactly once, whatever the
    /// parent links say: the walk is iterative with a visited set, a process that is its own
    /// parent is a root, and members reachable only through a cycle (a racy view through
    /// recycled pids) start from the smallest pid of the cycle.
    public func treeOrder(of group: ProcessGroup) -> [(pid: Int32, depth: Int)] {
        let members = Set(group.members)
        var out: [(pid: Int32, depth: Int)] = []
        out.reserveCapacity(group.members.count)
        var visited = Set<Int32>()
        var stack: [(Int32, Int)] = []
        func walk(from root: Int32) {
            stack.append((root, 0))
            while let (pid, depth) = stack.popLast() {
                guard visited.insert(pid).inserted else { continue }
                out.append((pid, depth))
                // Children ascending: pushed in reverse, the smallest comes out first.
                for c in (children[pid] ?? []).reversed() where members.contains(c) && !visited.contains(c) {
                    stack.append((c, depth + 1))
                }
            }
        }
        for pid in group.members {
            let parent = processes[pid]?.ppid ?? 0
            if !members.contains(parent) || parent == pid { walk(from: pid) }
        }
        for pid in group.members where !visited.contains(pid) { walk(from: pid) }
        return out
    }
}

extension ProcessGroup {
    /// How a group is labelled everywhere (the tree, the detail view, `snapshot`):
    /// `foreground` / `background` / `no terminal`, then `stopped`, `orphaned`, `leader gone`.
    /// A session leader's own group always counts as orphaned (the leader's parent is in
    /// another session, kernel/exit.c will_become_orphaned_pgrp), so it is not said there.
    public func labels(in session: Session?) -> [String] {
        var out: [String] = []
        if session?.tty == nil { out.append("no terminal") } else { out.append(isForeground ? "foreground" : "background") }
        if hasStopped { out.append("stopped") }
        if isOrphaned && pgid != sid { out.append("orphaned") }
        if !leaderPresent { out.append("leader gone") }
        return out
    }
}
