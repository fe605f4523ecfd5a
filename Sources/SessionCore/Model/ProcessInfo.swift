/// A process's identity: the pid alone can be recycled, the pid with its start time cannot
/// (`/proc/<pid>/stat` field 22).
public struct ProcessIdentity: Hashable, Sendable, CustomStringConvertible {
    public var pid: Int32
    public var startTime: UInt64
    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }
    public var description: String { "\(pid)@\(startTime)" }
}

/// One open file descriptor (`/proc/<pid>/fd/<n>` and, when read, `fdinfo/<n>`).
public struct OpenFile: Hashable, Sendable {
    public var fd: Int32
    /// The link text, as bytes (a path may be any bytes).
    public var target: [UInt8]
    public var kind: FileKind
    /// For character devices: the device number (compare with stat field 7).
    public var device: UInt64?
    /// From `fdinfo/<n>`, read on demand.
    public var info: Field<FdInfo>

    public init(fd: Int32, target: [UInt8], kind: FileKind, device: UInt64? = nil,
                info: Field<FdInfo> = .unknown(.notRead)) {
        self.fd = fd
        self.target = target
        self.kind = kind
        self.device = device
        self.info = info
    }

    public var targetText: String { SafeText.display(target) }
}

/// Signal dispositions (`/proc/<pid>/status` SigIgn/SigCgt/SigPnd/ShdPnd/SigBlk).
public struct SignalDispositions: Hashable, Sendable {
    public var ignored: SignalSet
    public var caught: SignalSet
    /// Pending for the process (ShdPnd) or any of its threads (SigPnd).
    public var pending: SignalSet
    /// Blocked in *any* thread (union over `task/*/status`): a SIGHUP blocked in one thread
    /// matters (it may be delivered to another, or wait).
    public var blocked: SignalSet
    /// Blocked in *every* thread: then the signal can never be delivered while the mask holds.
    public var blockedInAllThreads: SignalSet

    public init(ignored: SignalSet = [], caught: SignalSet = [], pending: SignalSet = [],
                blocked: SignalSet = [], blockedInAllThreads: SignalSet? = nil) {
        self.ignored = ignored
        self.caught = caught
        self.pending = pending
        self.blocked = blocked
        self.blockedInAllThreads = blockedInAllThreads ?? blocked
    }
}

/// The process state letter, `/proc/<pid>/stat` field 3.
public enum ProcessState: Hashable, Sendable {
    case running, sleeping, diskSleep, zombie, stopped, tracingStop, dead, idle, other(UInt8)

    public init(letter: UInt8) {
        switch letter {
        case UInt8(ascii: "R"): self = .running
        case UInt8(ascii: "S"): self = .sleeping
        case UInt8(ascii: "D"): self = .diskSleep
        case UInt8(ascii: "Z"): self = .zombie
        case UInt8(ascii: "T"): self = .stopped
        case UInt8(ascii: "t"): self = .tracingStop
        case UInt8(ascii: "X"), UInt8(ascii: "x"): self = .dead
        case UInt8(ascii: "I"): self = .idle
        default: self = .other(letter)
        }
    }

    public var letter: Character {
        switch self {
        case .running: return "R"
        case .sleeping: return "S"
        case .diskSleep: return "D"
        case .zombie: return "Z"
        case .stopped: return "T"
        case .tracingStop: return "t"
        case .dead: return "X"
        case .idle: return "I"
        case .other(let b): return Character(Unicode.Scalar(b))
        }
    }

    public var isStopped: Bool { self == .stopped || self == .tracingStop }
    public var isGone: Bool { self == .zombie || self == .dead }

    public var meaning: String {
        switch self {
        case .running: return "running"
        case .sleeping: return "sleeping"
        case .diskSleep: return "uninterruptible sleep"
        case .zombie: return "zombie (exited, not reaped)"
        case .stopped: return "stopped"
        case .tracingStop: return "stopped by a tracer"
        case .dead: return "dead"
        case .idle: return "idle kernel thread"
        case .other: return "unknown state"
        }
    }
}

/// Everything the snapshot knows about one process.
///
/// What changes tick to tick (`stat`'s ids, state, CPU, RSS) is stored inline; the rest (argv,
/// exe, cwd, fds, ids, signals …, read every ~20 ticks) lives in one copy-on-write box, so
/// copying a record — the scan does it for every process on every tick, the snapshot's
/// indexes and the analysis many times more — is one retain instead of a dozen (issue 11 §8).
public struct ProcessInfo: Hashable, Sendable {
    public var pid: Int32
    public var ppid: Int32
    public var pgid: Int32
    public var sid: Int32
    /// Foreground group of the controlling terminal (stat field 8), -1 if none.
    public var tpgid: Int32
    public var state: ProcessState
    /// Clock ticks after boot (stat field 22).
    public var startTime: UInt64
    public var threads: Int32
    /// Controlling terminal device number (stat field 7), 0 if none.
    public var ttyDevice: UInt64
    public var isKernelThread: Bool
    /// CPU time (stat fields 14+15) in clock ticks.
    public var cpuTicks: UInt64
    /// Resident set size in bytes (stat field 24 × page size).
    public var rssBytes: Int64
    /// When `stat` was read: the uptime (seconds, /proc/uptime) as that scan began; NaN when
    /// not known. A scan that skips a settled process (`ScanOptions.idleEvery`) keeps its
    /// old value, so CPU % is the ticks used over the time between its own two reads.
    /// Not part of equality (it says when, not what).
    public var sampledAt: Double = .nan
    /// Consecutive reads that found it asleep (S, I) with no CPU used; not part of equality.
    public var idleReads: UInt8 = 0
    private var box: DetailBox

    /// The slow-changing fields, stored once and shared between copies until one is changed.
    struct Details: Hashable, Sendable {
        var comm: [UInt8]
        var argv: Field<[[UInt8]]>
        var exe: Field<[UInt8]>
        var uid: UInt32
        var euid: UInt32
        var gid: UInt32
        var egid: UInt32
        var user: String
        var tty: String?
        var cwd: Field<[UInt8]>
        var umask: Field<UInt32>
        var fds: Field<[OpenFile]>
        var signals: SignalDispositions
        var syscall: Field<SyscallState>
        var cgroup: Field<[UInt8]>
        var userUnknown: UnknownReason?
    }

    /// Mutated only while uniquely referenced (`details` below), so sharing it is safe.
    final class DetailBox: @unchecked Sendable {
        var value: Details
        init(_ value: Details) { self.value = value }
    }

    /// The box's contents, copied first when another record shares them.
    private var details: Details {
        get { box.value }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = DetailBox(box.value) }
            yield &box.value
        }
    }

    public init(pid: Int32, ppid: Int32, pgid: Int32, sid: Int32, tpgid: Int32, state: ProcessState,
                comm: [UInt8], argv: Field<[[UInt8]]>, exe: Field<[UInt8]>,
                uid: UInt32, euid: UInt32, gid: UInt32, egid: UInt32, user: String,
                startTime: UInt64, threads: Int32, ttyDevice: UInt64, tty: String?,
                cwd: Field<[UInt8]>, umask: Field<UInt32>, fds: Field<[OpenFile]>,
                signals: SignalDispositions, isKernelThread: Bool,
                syscall: Field<SyscallState> = .unknown(.notRead), cgroup: Field<[UInt8]> = .unknown(.notRead),
                cpuTicks: UInt64, rssBytes: Int64, userUnknown: UnknownReason? = nil) {
        self.pid = pid
        self.ppid = ppid
        self.pgid = pgid
        self.sid = sid
        self.tpgid = tpgid
        self.state = state
        self.startTime = startTime
        self.threads = threads
        self.ttyDevice = ttyDevice
        self.isKernelThread = isKernelThread
        self.cpuTicks = cpuTicks
        self.rssBytes = rssBytes
        box = DetailBox(Details(comm: comm, argv: argv, exe: exe, uid: uid, euid: euid, gid: gid, egid: egid,
                                user: user, tty: tty, cwd: cwd, umask: umask, fds: fds, signals: signals,
                                syscall: syscall, cgroup: cgroup, userUnknown: userUnknown))
    }

    public static func == (a: ProcessInfo, b: ProcessInfo) -> Bool {
        a.pid == b.pid && a.ppid == b.ppid && a.pgid == b.pgid && a.sid == b.sid && a.tpgid == b.tpgid
            && a.state == b.state && a.startTime == b.startTime && a.threads == b.threads
            && a.ttyDevice == b.ttyDevice && a.isKernelThread == b.isKernelThread
            && a.cpuTicks == b.cpuTicks && a.rssBytes == b.rssBytes
            && (a.box === b.box || a.box.value == b.box.value)
    }

    public func hash(into h: inout Hasher) {
        h.combine(pid)
        h.combine(startTime)
        h.combine(ppid)
        h.combine(pgid)
        h.combine(sid)
        h.combine(state)
        h.combine(cpuTicks)
        h.combine(rssBytes)
        h.combine(box.value)
    }

    /// `comm` (stat field 2), raw bytes: up to 15 bytes of anything but NUL.
    public var comm: [UInt8] { get { details.comm } set { details.comm = newValue } }
    /// `cmdline` split at NUL; `.known([])` for kernel threads and zombies.
    public var argv: Field<[[UInt8]]> { get { details.argv } set { details.argv = newValue } }
    /// Readlink of `exe`.
    public var exe: Field<[UInt8]> { get { details.exe } set { details.exe = newValue } }
    /// Real uid, effective uid (status `Uid:`); `ProcessInfo.unknownID` when unknown.
    public var uid: UInt32 { get { details.uid } set { details.uid = newValue } }
    public var euid: UInt32 { get { details.euid } set { details.euid = newValue } }
    /// Real and effective gid (status `Gid:`); `ProcessInfo.unknownID` when unknown.
    public var gid: UInt32 { get { details.gid } set { details.gid = newValue } }
    public var egid: UInt32 { get { details.egid } set { details.egid = newValue } }
    /// The name of `uid`, or `?` when the uid is unknown.
    public var user: String { get { details.user } set { details.user = newValue } }
    /// The controlling terminal's name as users know it (`pts/3`), nil if none.
    public var tty: String? { get { details.tty } set { details.tty = newValue } }
    public var cwd: Field<[UInt8]> { get { details.cwd } set { details.cwd = newValue } }
    public var umask: Field<UInt32> { get { details.umask } set { details.umask = newValue } }
    public var fds: Field<[OpenFile]> { get { details.fds } set { details.fds = newValue } }
    public var signals: SignalDispositions {
        get { details.signals }
        _modify { yield &details.signals }
    }
    /// `/proc/<pid>/syscall`, read only for processes holding a terminal fd (to see a process
    /// blocked reading its terminal: after a hangup that read fails with EIO, n_tty.c).
    public var syscall: Field<SyscallState> { get { details.syscall } set { details.syscall = newValue } }
    /// Its cgroup (`/proc/<pid>/cgroup`: the v2 `0::` path, else the v1 `name=systemd` one):
    /// `/user.slice/user-1000.slice/session-3.scope` is logind's session 3.
    public var cgroup: Field<[UInt8]> { get { details.cgroup } set { details.cgroup = newValue } }
    /// Why `uid`/`euid` (and `user`) are unknown; nil when they are known.
    public var userUnknown: UnknownReason? { get { details.userUnknown } set { details.userUnknown = newValue } }
    /// The slow-changing fields are the same storage as `other`'s (a cheap tick's copy).
    public func sharesDetails(with other: ProcessInfo) -> Bool { box === other.box }

    /// An id that is not known: (uid_t)-1, which the kernel never gives a process
    /// (include/linux/uidgid.h INVALID_UID).
    public static let unknownID = UInt32.max

    public var identity: ProcessIdentity { ProcessIdentity(pid: pid, startTime: startTime) }
    public var isSessionLeader: Bool { pid == sid }
    public var isGroupLeader: Bool { pid == pgid }
    public var commText: String { SafeText.display(comm) }

    /// argv joined with spaces, each argument made safe to print; `[comm]` when argv is empty
    /// (kernel threads, zombies), as ps shows it; `comm (argv: why)` when it is unreadable.
    public var commandLine: String {
        switch argv {
        case .known(let a) where !a.isEmpty: return a.map { SafeText.display($0) }.joined(separator: " ")
        case .known: return "[\(commText)]"
        case .unknown(let why): return "\(commText) (argv: \(why))"
        }
    }

    public var cwdText: String? { cwd.value.map { SafeText.display($0) } }
}
