import CSessionShims
#if canImport(Glibc)
import Glibc
#endif

/// Starting a program: a Swift description of what the child does between fork and exec,
/// carried out by the C shim `st_spawn` (no Swift code runs in the child). Exec failures come
/// back over a close-on-exec pipe as a typed error.
public struct SpawnRequest: Sendable {
    public var executable: String?
    public var arguments: [String]
    /// nil: inherit the caller's environment.
    public var environment: [String]?
    public var workingDirectory: String?
    public var umask: UInt32?
    /// setsid() in the child.
    public var newSession = false
    /// nil: stay in the caller's group; 0: a new group led by the child; >0: join that group.
    public var processGroup: Int32?
    /// After setsid: make the terminal on this (child) fd the controlling tty.
    public var controllingTerminalFD: Int32?
    /// Double fork: setsid in the first child, exec in the grandchild.
    public var daemon = false
    /// Child fd → caller's fd to put there (nil closes it).
    public var fileDescriptors: [(child: Int32, parent: Int32?)] = []
    /// Close every fd not in `fileDescriptors`.
    public var closeOtherFDs = true
    /// Switch to this uid/gid/groups in the child.
    public var user: (uid: UInt32, gid: UInt32, groups: [UInt32])?
    /// Reset signal dispositions and the mask to defaults (ignored signals survive exec
    /// otherwise), keeping `ignoredSignals` ignored.
    public var resetSignals = true
    public var ignoredSignals: SignalSet = []
    /// Daemon only: the intermediate child watches the daemon this long after its exec (a
    /// grace period) and reports how it ended if it did (`Spawner.spawnWatched`).
    public var watchMilliseconds: Int32 = 0
    /// argv and environment as bytes (they need not be UTF-8: exec takes bytes); when set they
    /// are exec'd instead of `arguments` / `environment`.
    public var argumentBytes: [[UInt8]]?
    public var environmentBytes: [[UInt8]]?

    public init(_ arguments: [String]) {
        self.arguments = arguments
    }
}

/// Where and why a spawn failed.
public struct SpawnError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Stage: Int32, Sendable {
        case none = 0, fork, setsid, setpgid, controllingTerminal, secondFork, chdir, fileDescriptors,
             user, exec, pipe, signals
        /// `beforeExec` said no: the program never ran.
        case cancelled  // ST_STAGE_GATE
    }
    public var stage: Stage
    public var errno: Errno
    public var program: String
    /// For a daemon: the grandchild that failed (already reaped by the intermediate child).
    public var pid: Int32? = nil
    /// The directory it was to run in (named when chdir fails).
    public var workingDirectory: String? = nil

    public var description: String {
        switch stage {
        case .exec: return "cannot run \(program): \(errno.message)"
        case .chdir: return "cannot change directory to \(workingDirectory ?? "?") for \(program): \(errno.message)"
        case .user: return "cannot switch user for \(program): \(errno.message)"
        case .controllingTerminal: return "cannot set the controlling terminal for \(program): \(errno.message)"
        case .cancelled: return "\(program) was not started (cancelled before exec)"
        default: return "cannot start \(program) (\(stage)): \(errno.message)"
        }
    }
}

public enum Spawner {
    /// Starts the program; returns the pid that runs it (for a daemon, the grandchild's).
    /// `beforeExec` runs once that process has done every step but the exec, with its pid; the
    /// program runs only if it returns true (else the process exits and `.cancelled` is thrown).
    public static func spawn(_ r: SpawnRequest, beforeExec: (Int32) -> Bool) throws(SpawnError) -> Int32 {
        do {
            return try withoutActuallyEscaping(beforeExec) { f in try spawn(r, gate: f) }
        } catch let e as SpawnError {
            throw e
        } catch {
            fatalError("unreachable: spawn throws SpawnError only")
        }
    }

    public static func spawn(_ r: SpawnRequest) throws(SpawnError) -> Int32 {
        var ignored: Int32 = -1
        return try spawn(r, gate: nil, watchStatus: &ignored)
    }

    /// A daemon, watched for `r.watchMilliseconds` after its exec by its parent (the
    /// intermediate child): its pid, and its wait status if it ended within that time (nil:
    /// still running).
    public static func spawnWatched(_ r: SpawnRequest, beforeExec: (Int32) -> Bool) throws(SpawnError) -> (pid: Int32, ended: Int32?) {
        var status: Int32 = -1
        let pid: Int32
        do {
            pid = try withoutActuallyEscaping(beforeExec) { f in try spawn(r, gate: f, watchStatus: &status) }
        } catch let e as SpawnError {
            throw e
        } catch {
            fatalError("unreachable: spawn throws SpawnError only")
        }
        return (pid, status >= 0 ? status : nil)
    }

    private static func spawn(_ r: SpawnRequest, gate beforeExec: ((Int32) -> Bool)?) throws(SpawnError) -> Int32 {
        var ignored: Int32 = -1
        return try spawn(r, gate: beforeExec, watchStatus: &ignored)
    }

    private static func spawn(_ r: SpawnRequest, gate beforeExec: ((Int32) -> Bool)?, watchStatus: inout Int32) throws(SpawnError) -> Int32 {
        let program = r.executable ?? r.arguments.first ?? ""
        var cStrings: [UnsafeMutablePointer<CChar>] = []
        defer { for p in cStrings { free(p) } }
        func dup(_ s: String) -> UnsafeMutablePointer<CChar> {
            let p = strdup(s)!
            cStrings.append(p)
            return p
        }
        func dupBytes(_ b: [UInt8]) -> UnsafeMutablePointer<CChar> {
            let p = malloc(b.count + 1)!.assumingMemoryBound(to: CChar.self)
            for (i, c) in b.enumerated() { p[i] = CChar(bitPattern: c == 0 ? 0x3f : c) }
            p[b.count] = 0
            cStrings.append(p)
            return p
        }
        var argv: [UnsafeMutablePointer<CChar>?] = (r.argumentBytes.map { $0.map { dupBytes($0) } } ?? r.arguments.map { dup($0) }) + [nil]
        var envp: [UnsafeMutablePointer<CChar>?]? = r.environmentBytes.map { $0.map { dupBytes($0) } + [nil] }
            ?? r.environment.map { $0.map { dup($0) } + [nil] }
        let path = r.executable.map { dup($0) }
        let cwd = r.workingDirectory.map { dup($0) }
        var fdMap: [Int32] = []
        for (child, parent) in r.fileDescriptors { fdMap.append(child); fdMap.append(parent ?? -1) }
        var groups: [gid_t] = r.user?.groups ?? []

        let watchPointer = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        watchPointer.pointee = -1
        defer { watchStatus = watchPointer.pointee; watchPointer.deallocate() }
        var pid: pid_t = 0
        var stage: Int32 = 0
        let rc: Int32 = argv.withUnsafeMutableBufferPointer { argvBuf in
            fdMap.withUnsafeBufferPointer { fdBuf in
                groups.withUnsafeMutableBufferPointer { groupBuf in
                    func go(_ envBase: UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
                        var attr = st_spawn_attr()
                        attr.path = UnsafePointer(path)
                        attr.argv = UnsafePointer(argvBuf.baseAddress!)
                        attr.envp = envBase
                        attr.cwd = UnsafePointer(cwd)
                        attr.umask_value = r.umask.map { Int32($0) } ?? -1
                        attr.new_session = r.newSession ? 1 : 0
                        attr.pgid = r.processGroup ?? -1
                        attr.ctty_fd = r.controllingTerminalFD ?? -1
                        attr.daemon = r.daemon ? 1 : 0
                        attr.fd_map = fdBuf.baseAddress
                        attr.fd_map_count = Int32(fdBuf.count / 2)
                        attr.close_other_fds = r.closeOtherFDs ? 1 : 0
                        if let u = r.user {
                            attr.switch_user = 1
                            attr.uid = u.uid
                            attr.gid = u.gid
                            attr.groups = UnsafePointer(groupBuf.baseAddress)
                            attr.group_count = Int32(groupBuf.count)
                        }
                        attr.reset_signals = r.resetSignals ? 1 : 0
                        attr.ignore_mask = r.ignoredSignals.mask
                        attr.watch_ms = r.daemon ? r.watchMilliseconds : 0
                        attr.watch_status = watchPointer
                        guard let beforeExec else { return st_spawn(&attr, &pid, &stage) }
                        var gate = st_spawn_gate()
                        if st_spawn_gated(&attr, &gate, &pid, &stage) != 0 { return -1 }
                        return st_spawn_release(&gate, beforeExec(pid) ? 1 : 0, &stage)
                    }
                    if envp != nil {
                        return envp!.withUnsafeMutableBufferPointer { go(UnsafePointer($0.baseAddress!)) }
                    }
                    return go(nil)
                }
            }
        }
        guard rc == 0 else {
            throw SpawnError(stage: SpawnError.Stage(rawValue: stage) ?? .none, errno: .current, program: program, pid: pid > 0 ? pid : nil,
                             workingDirectory: r.workingDirectory)
        }
        return pid
    }
}

/// A pseudo-terminal pair (pty(7)): the master stays with the caller, the slave becomes a
/// session's controlling terminal. Closing the master hangs the terminal up.
public final class PseudoTerminal {
    public private(set) var master: Int32
    public let slavePath: String

    public init() throws(Errno) {
        var name = [CChar](repeating: 0, count: 128)
        let fd = st_open_pty(&name, name.count)
        guard fd >= 0 else { throw .current }
        master = fd
        slavePath = String(cString: name)
    }

    /// Opens the slave (O_NOCTTY: the caller does not acquire it), close-on-exec.
    public func openSlave() throws(Errno) -> Int32 {
        let fd = open(slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw .current }
        return fd
    }

    /// `pts/N`.
    public var name: String { String(slavePath.dropFirst(5)) }

    /// Writes bytes as if typed.
    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(master, $0.baseAddress! + off, $0.count - off) }
            if n < 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }

    /// Reads what is available within `timeout` seconds (non-blocking drain).
    public func read(timeout: Double) -> [UInt8] {
        var out: [UInt8] = []
        var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        var buf = [UInt8](repeating: 0, count: 4096)
        var remaining = Int32(timeout * 1000)
        while remaining >= 0 {
            let r = poll(&pfd, 1, remaining)
            if r <= 0 { break }
            let n = buf.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
            remaining = 50  // keep draining briefly after data
        }
        return out
    }

    /// Closes the master: the kernel hangs up the slave (pty.c pty_close → tty_vhangup).
    public func closeMaster() {
        if master >= 0 { close(master); master = -1 }
    }

    deinit { closeMaster() }
}
