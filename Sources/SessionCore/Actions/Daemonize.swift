import CSessionShims
#if canImport(Glibc)
import Glibc
#endif

/// What `sessiontop daemonize` (and relaunch) starts: daemonize(1)'s options plus the umask.
/// The recipe is daemon(7)'s "SysV daemon": fork, setsid, fork again, chdir, umask, stdin from
/// /dev/null, stdout/stderr to files or /dev/null, every other fd closed, exec.
public struct DaemonizeOptions: Sendable {
    /// argv; `command[0]` is searched in PATH unless `executable` is set.
    public var command: [String]
    /// Exec this path with `command` as argv (relaunch: the exact exe, argv[0] untouched).
    public var executable: String?
    public var directory: String = "/"
    public var pidFile: String?
    /// Exclusive flock(2), taken here and held by the daemon (its fd 3).
    public var lockFile: String?
    /// Run as this user (root only): initgroups semantics, setgid, setuid; HOME, USER, LOGNAME.
    public var user: String?
    /// With `user`: set HOME, USER and LOGNAME from the password entry (relaunch keeps the
    /// original's environment as it was).
    public var userEnvironment = true
    public var stdoutPath: String?
    public var stderrPath: String?
    /// O_APPEND instead of O_TRUNC for the output files.
    public var append = false
    /// An open file for both stdout and stderr, instead of `stdoutPath`/`stderrPath` (relaunch's
    /// log, made by `SafeFile.createLog`); the caller keeps and closes it.
    public var outputFD: Int32?
    /// The environment to start from; nil: the caller's.
    public var environment: [String]?
    /// NAME=VALUE, added or replacing.
    public var extraEnvironment: [String] = []
    public var umask: UInt32 = 0
    /// A grace period (relaunch): the daemon's parent watches it this long after its exec;
    /// `DaemonizeResult.ended` says how it ended if it did. 0: none.
    public var graceMilliseconds: Int32 = 0
    /// The command and environment as bytes (not necessarily UTF-8), exec'd as they are;
    /// `environmentBytes` replaces the environment (with `extraEnvironment` and the user's
    /// variables left out).
    public var commandBytes: [[UInt8]]?
    public var environmentBytes: [[UInt8]]?

    public init(command: [String]) { self.command = command }
}

public enum DaemonizeError: Error, Hashable, Sendable, CustomStringConvertible {
    case noCommand
    case badEnvironment(String)
    case notRoot
    case unknownUser(String)
    /// A pidfile, lockfile or output file refused or not opened (SafeFile's rules).
    case file(SafeFileError)
    case open(String, Errno)
    /// The lock is held: another instance runs.
    case locked(String)
    case spawn(SpawnError)
    case pidFile(String, Errno)

    public var description: String {
        switch self {
        case .noCommand: return "no command given (usage: sessiontop daemonize [options] -- COMMAND [ARGS])"
        case .badEnvironment(let s): return "bad environment setting '\(s)': expected NAME=VALUE"
        case .notRoot: return "-u needs root: only root can switch to another user"
        case .unknownUser(let u): return "no such user: \(u)"
        case .file(let e): return e.description
        case .open(let p, let e): return "cannot open \(p): \(e.message)"
        case .locked(let p): return "\(p) is locked: another instance is running"
        case .spawn(let e): return e.description
        case .pidFile(let p, let e): return "cannot write pidfile \(p): \(e.message)"
        }
    }
}

/// A started daemon.
public struct DaemonizeResult: Hashable, Sendable {
    public var pid: Int32
    /// With a grace period: the daemon's wait status when it ended within it (nil: running).
    public var ended: Int32? = nil
}

public enum Daemonizer {
    /// Starts the daemon and returns its pid once it has exec'd (an exec failure throws).
    /// `log` gets one line per step (`-v`).
    public static func start(_ o: DaemonizeOptions, log: (String) -> Void = { _ in }) throws(DaemonizeError) -> DaemonizeResult {
        guard !o.command.isEmpty else { throw .noCommand }
        var env = o.environment ?? callerEnvironment()
        for e in o.extraEnvironment {
            guard let eq = e.firstIndex(of: "="), eq != e.startIndex else { throw .badEnvironment(e) }
            setVariable(&env, String(e[..<eq]), String(e[e.index(after: eq)...]))
        }

        var request = SpawnRequest(o.command)
        request.executable = o.executable
        request.daemon = true
        request.workingDirectory = o.directory
        request.umask = o.umask

        if let name = o.user {
            guard geteuid() == 0 else { throw .notRoot }
            guard let u = lookUpUser(name) else { throw .unknownUser(name) }
            request.user = (u.uid, u.gid, u.groups)
            if o.userEnvironment {
                setVariable(&env, "HOME", u.home)
                setVariable(&env, "USER", u.name)
                setVariable(&env, "LOGNAME", u.name)
            }
            log("user \(u.name): uid \(u.uid), gid \(u.gid), groups \(u.groups.map(String.init).joined(separator: ","))")
        }
        request.environment = env
        request.argumentBytes = o.commandBytes
        request.environmentBytes = o.environmentBytes

        // Whose existing files may be used in a directory others can write to.
        var owners: Set<UInt32> = [geteuid()]
        if let u = request.user { owners.insert(u.uid) }
        func openFile(_ path: String, _ use: SafeFile.Use) throws(DaemonizeError) -> SafeFile.Handle {
            do { return try SafeFile.open(path, for: use, owners: owners) } catch { throw .file(error) }
        }

        // The lock first: a second start must fail before it touches anything.
        var lock: SafeFile.Handle?
        if let path = o.lockFile {
            let h = try openFile(path, .lockFile)
            if flock(h.fd, LOCK_EX | LOCK_NB) != 0 {
                if errno == EWOULDBLOCK { throw .locked(path) }
                throw .open(path, .current)
            }
            lock = h
            log("locked \(path)")
        }
        // The pidfile is opened (not truncated) now so a failure comes before the daemon starts;
        // the same file as the lock is opened once.
        var pidFile: SafeFile.Handle?
        if let path = o.pidFile { pidFile = path == o.lockFile ? lock : try openFile(path, .pidFile) }

        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devnull >= 0 else { throw .open("/dev/null", .current) }
        defer { close(devnull) }
        var outputs: [SafeFile.Handle] = []
        var outFD = devnull, errFD = devnull
        if let fd = o.outputFD {
            outFD = fd
            errFD = fd
        } else {
            if let p = o.stdoutPath {
                let h = try openFile(p, .output(append: o.append))
                outputs.append(h)
                outFD = h.fd
            }
            if let p = o.stderrPath {
                if p == o.stdoutPath { errFD = outFD } else {
                    let h = try openFile(p, .output(append: o.append))
                    outputs.append(h)
                    errFD = h.fd
                }
            }
        }
        let lockFD = lock?.fd
        // The handles own the fds: they must outlive the spawn.
        defer { withExtendedLifetime((lock, pidFile, outputs)) {} }

        request.fileDescriptors = [(0, devnull), (1, outFD), (2, errFD)]
        if let l = lockFD { request.fileDescriptors.append((3, l)) }
        request.closeOtherFDs = true

        log("starting \(o.command.joined(separator: " ")) in \(o.directory), umask \(octal(o.umask))")
        // The pidfile is written while the daemon waits just before its exec (its pid is known
        // then): when the write fails the program never runs, so no daemon runs untracked.
        var pidFileError: Errno?
        let pid: Int32
        var ended: Int32?
        request.watchMilliseconds = o.graceMilliseconds
        do {
            (pid, ended) = try Spawner.spawnWatched(request) { pid in
                guard let fd = pidFile?.fd, let path = o.pidFile else { return true }
                var text = Array("\(pid)\n".utf8)
                let ok = ftruncate(fd, 0) == 0 && text.withUnsafeMutableBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } == text.count
                if !ok { pidFileError = .current; return false }
                log("wrote \(path)")
                return true
            }
        } catch {
            // Nothing runs: take back the pidfile (an existing one is left empty, not stale).
            if let h = pidFile {
                if h.created { h.removeIfCreated() } else if pidFile !== lock { _ = ftruncate(h.fd, 0) }
            }
            if let e = pidFileError, let path = o.pidFile { throw .pidFile(path, e) }
            throw .spawn(error)
        }
        log("daemon pid \(pid)")
        return DaemonizeResult(pid: pid, ended: ended)
    }

    /// The caller's environment (environ(7)).
    public static func callerEnvironment() -> [String] {
        var out: [String] = []
        var p = environ
        while let s = p.pointee {
            out.append(String(cString: s))
            p += 1
        }
        return out
    }

    static func setVariable(_ env: inout [String], _ name: String, _ value: String) {
        let prefix = name + "="
        env.removeAll { $0.hasPrefix(prefix) }
        env.append(prefix + value)
    }

    public struct UserEntry: Hashable, Sendable {
        public var name: String
        public var uid: UInt32
        public var gid: UInt32
        public var home: String
        /// Supplementary groups as initgroups(3) would set them (getgrouplist(3)).
        public var groups: [UInt32]
    }

    /// getpwnam_r(3) (or a numeric uid via getpwuid_r) + getgrouplist(3).
    public static func lookUpUser(_ name: String) -> UserEntry? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 16384)
        var rc: Int32
        if let uid = UInt32(name) {
            rc = getpwuid_r(uid, &pwd, &buf, buf.count, &result)
        } else {
            rc = getpwnam_r(name, &pwd, &buf, buf.count, &result)
        }
        guard rc == 0, result != nil, let pname = pwd.pw_name else { return nil }
        let userName = String(cString: pname)
        let home = pwd.pw_dir.map { String(cString: $0) } ?? "/"
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        while getgrouplist(pname, pwd.pw_gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count) + 64)
            count = Int32(groups.count)
        }
        return UserEntry(name: userName, uid: pwd.pw_uid, gid: pwd.pw_gid, home: home,
                         groups: Array(groups.prefix(Int(count))))
    }
}
