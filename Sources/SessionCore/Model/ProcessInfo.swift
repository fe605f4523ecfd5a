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
public struct ProcessInfo: Hashable, Sendable {
    public var pid: Int32
    public var ppid: Int32
    public var pgid: Int32
    public var sid: Int32
    /// Foreground group of the controlling terminal (stat field 8), -1 if none.
    public var tpgid: Int32
    public var state: ProcessState
    /// `comm` (stat field 2), raw bytes: up to 15 bytes of anything but NUL.
    public var comm: [UInt8]
    /// `cmdline` split at NUL; `.known([])` for kernel threads and zombies.
    public var argv: Field<[[UInt8]]>
    /// Readlink of `exe`.
    public var exe: Field<[UInt8]>
    /// Real uid, effective uid (status `Uid:`); `ProcessInfo.unknownID` when unknown.
    public var uid: UInt32
    public var euid: UInt32
    /// Real and effective gid (status `Gid:`); `ProcessInfo.unknownID` when unknown.
    public var gid: UInt32
    public var egid: UInt32
    /// The name of `uid`, or `?` when the uid is unknown.
    public var user: String
    /// Clock ticks after boot (stat field 22).
    public var startTime: UInt64
    public var threads: Int32
    /// Controlling terminal device number (stat field 7), 0 if none.
    public var ttyDevice: UInt64
    /// Its name as users know it (`pts/3`), nil if none.
    public var tty: String?
    public var cwd: Field<[UInt8]>
    public var umask: Field<UInt32>
    public var fds: Field<[OpenFile]>
    public var signals: SignalDispositions
    public var isKernelThread: Bool
    /// `/proc/<pid>/syscall`, read only for processes holding a terminal fd (to see a process
    /// blocked reading its terminal: after a hangup that read fails with EIO, n_tty.c).
    public var syscall: Field<SyscallState> = .unknown(.notRead)
    /// Its cgroup (`/proc/<pid>/cgroup`: the v2 `0::` path, else the v1 `name=systemd` one):
    /// `/user.slice/user-1000.slice/session-3.scope` is logind's session 3.
    public var cgroup: Field<[UInt8]> = .unknown(.notRead)
    /// CPU time (stat fields 14+15) in clock ticks.
    public var cpuTicks: UInt64
    /// Resident set size in bytes (stat field 24 × page size).
    public var rssBytes: Int64
    /// Why `uid`/`euid` (and `user`) are unknown; nil when they are known.
    public var userUnknown: UnknownReason? = nil

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
