import Glibc
import CSessionShims
import SessionCore

/// Real processes for tests: started through `Spawner` (never fork from Swift), and killed and
/// reaped by pid afterwards.
public enum Processes {
    /// What `run` collected.
    public struct Output: Sendable {
        /// The exit code, or 128 + the signal that ended it (as a shell reports it).
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The environment `run` gives a program unless told otherwise: no backtracer waiting on
    /// a tty, a fixed PATH and locale; HOME=/root only when it runs as ourselves.
    public static func defaultEnvironment(switchingUser: Bool = false) -> [String] {
        ["PATH=/usr/bin:/bin", "SWIFT_BACKTRACE=interactive=no", "LANG=C.UTF-8"]
            + (switchingUser ? [] : ["HOME=/root"])
    }

    /// Children that orphan processes (daemons, shells) get them reparented to us, not to pid 1
    /// (which does not reap on these machines), so `killAndReap` can reap them.
    /// prctl(2) PR_SET_CHILD_SUBREAPER.
    public static func becomeSubreaper() { _ = st_set_child_subreaper(1) }

    /// Starts `argv` (PATH search) with the request adjusted by `configure`. By default fds 0-2
    /// are closed in the child (`SpawnRequest` closes every fd not mapped).
    public static func spawn(_ argv: [String], _ configure: (inout SpawnRequest) -> Void = { _ in }) throws -> Int32 {
        var r = SpawnRequest(argv)
        configure(&r)
        let pid = try Spawner.spawn(r)
        Reaped.shared.forget(pid)
        return pid
    }

    /// Pids this process has reaped through `reap`: their numbers may already belong to
    /// someone else (tests run in parallel, and one of them recycles pids on purpose), so
    /// `killAndReap` must not signal them. A pid leaves the set when `spawn` hands it out again.
    final class Reaped: @unchecked Sendable {
        static let shared = Reaped()
        private var pids = Set<Int32>()
        private var lock = pthread_mutex_t()
        init() { pthread_mutex_init(&lock, nil) }
        func insert(_ pid: Int32) { pthread_mutex_lock(&lock); pids.insert(pid); pthread_mutex_unlock(&lock) }
        func forget(_ pid: Int32) { pthread_mutex_lock(&lock); pids.remove(pid); pthread_mutex_unlock(&lock) }
        func contains(_ pid: Int32) -> Bool {
            pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
            return pids.contains(pid)
        }
    }

    /// Makes the kernel hand `pid` (reaped) to a new `argv` process: ns_last_pid set to pid-1
    /// before each try (pid_namespaces(7)), 300 tries at most. The new pid, or nil.
    public static func respawnWithPid(_ pid: Int32, _ argv: [String]) throws -> Int32? {
        for _ in 0..<300 {
            let fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Errno.current }
            var text = Array("\(pid - 1)".utf8)
            _ = text.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            let p = try spawn(argv)
            if p == pid { return p }
            killAndReap(p)
        }
        return nil
    }

    /// Runs `argv` to the end with stdin on /dev/null, collecting stdout and stderr together
    /// through poll(2) (no deadlock on a full pipe). `user` switches uid, gid and groups (we
    /// are root). After `timeout` seconds the program is killed (status 137) and reaped; -1 when
    /// it could not be reaped.
    public static func run(_ argv: [String], environment: [String]? = nil,
                           user: (uid: UInt32, gid: UInt32, groups: [UInt32])? = nil,
                           workingDirectory: String? = nil, timeout: Double = 30) throws -> Output {
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard st_pipe2(&out, O_CLOEXEC) == 0 else { throw Errno.current }
        guard st_pipe2(&err, O_CLOEXEC) == 0 else {
            let e = Errno.current
            close(out[0]); close(out[1])
            throw e
        }
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if devnull >= 0 { close(devnull) } }
        let pid: Int32
        do {
            pid = try spawn(argv) {
                $0.environment = environment ?? defaultEnvironment(switchingUser: user != nil)
                $0.workingDirectory = workingDirectory
                if let user { $0.user = user }
                $0.fileDescriptors = [(0, devnull >= 0 ? devnull : nil), (1, out[1]), (2, err[1])]
            }
        } catch {
            for fd in out + err { close(fd) }
            throw error
        }
        close(out[1]); close(err[1])

        let deadline = monotonicSeconds() + timeout
        let collected = Pipes.drain([out[0], err[0]], timeout: timeout)

        var status = reap(pid, within: max(deadline - monotonicSeconds(), 0.5))
        if status == nil {
            _ = st_kill(pid, SIGKILL)
            status = reap(pid, within: 3)
        }
        return Output(status: status.map(exitCode) ?? -1,
                      stdout: String(decoding: collected[0], as: UTF8.self),
                      stderr: String(decoding: collected[1], as: UTF8.self))
    }

    /// `run` for the built `sessiontop` (`PackagePaths.binary`) with `args`, as a user runs it.
    public static func runSessiontop(_ args: [String], user: (uid: UInt32, gid: UInt32, groups: [UInt32])? = nil,
                                     workingDirectory: String? = nil) throws -> Output {
        try run([PackagePaths.binary] + args, user: user, workingDirectory: workingDirectory)
    }

    /// Blocks until our child `pid` exits; its raw wait status (waitpid(2)).
    @discardableResult
    public static func reap(_ pid: Int32) -> Int32 {
        var status: Int32 = 0
        var r: Int32
        repeat { r = waitpid(pid, &status, 0) } while r < 0 && errno == EINTR
        if r == pid { Reaped.shared.insert(pid) }
        return status
    }

    /// Reaps `pid` (our child, or reparented to us as subreaper) if it exits within the time;
    /// sends no signal. The raw wait status, nil when it did not exit or is not ours to reap
    /// (then it is gone or a zombie someone else must reap).
    @discardableResult
    public static func reap(_ pid: Int32, within seconds: Double) -> Int32? {
        var status: Int32 = 0
        let deadline = monotonicSeconds() + seconds
        repeat {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { Reaped.shared.insert(pid); return status }
            if r < 0 && errno == ECHILD && isGone(pid) { return nil }
            usleep(5000)
        } while monotonicSeconds() < deadline
        return nil
    }

    /// SIGKILL by pid, then reap it (our child or reparented to us) or wait until it is gone,
    /// for up to 3 s. Meant for `defer`: safe on pids already reaped or ≤ 0.
    public static func killAndReap(_ pid: Int32) {
        guard pid > 0, !Reaped.shared.contains(pid) else { return }
        _ = st_kill(pid, SIGKILL)
        reap(pid, within: 3)
    }

    /// Gone, a zombie or dead in /proc (`/proc/<pid>/stat` field 3).
    public static func isGone(_ pid: Int32) -> Bool {
        guard let r = try? SnapshotReader(), let p = r.readProcess(pid) else { return true }
        return p.state.isGone
    }

    /// The signal that ended a process, from its raw wait status (WIFSIGNALED/WTERMSIG).
    public static func termSignal(_ status: Int32?) -> Int32? {
        guard let s = status else { return nil }
        return (s & 0x7f) != 0 && (s & 0x7f) != 0x7f ? s & 0x7f : nil
    }

    /// A raw wait status as a shell shows it: the exit code, or 128 + the signal.
    public static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
