#if canImport(Glibc)
import Glibc
#endif

/// What a scan reads beyond `stat` and `status`, which it always reads.
public struct ScanOptions: Sendable {
    /// Which processes get the slow-changing details (argv, exe, cwd, fds).
    public enum Details: Sendable {
        /// Every process.
        case all
        /// Only these pids (plus every process not in `previous` or whose start time changed);
        /// the others keep what `previous` had.
        case refresh(Set<Int32>, previous: Snapshot)
        /// Only these pids; the others' argv, exe, cwd and fds stay `.unknown(.notRead)` (a fast
        /// first scan). A later `.refresh` reads every process whose details were not read.
        case only(Set<Int32>)
    }

    public var details: Details = .all
    /// Read `fdinfo/<n>` (flags, offset) for these pids' fds: one more open per fd.
    public var fdInfoFor: Set<Int32> = []
    /// Read `fdinfo` for every process.
    public var fdInfoForAll: Bool = false
    /// Stat fd targets that are paths, to tell files from directories and devices.
    public var statFdTargets: Bool = true
    /// Read `/proc/<pid>/syscall` for processes holding a terminal fd (the hangup io rule).
    public var readSyscall: Bool = true
    /// With `.refresh`: read `status` (uids, signal masks, umask) only for the pids whose
    /// details are read; the others read `stat` alone and keep the rest from `previous`.
    /// Cuts a tick's kernel time roughly in half (the TUI's refresh).
    public var statusWithDetails: Bool = false
    /// Read each bash/zsh session leader's job table from its memory (ShellMemoryReader).
    public var readShellMemory: Bool = true
    /// Read systemd-logind's policy (under `SnapshotReader.configRoot`) when some process is in
    /// a logind session scope or user manager.
    public var readLogind: Bool = true
    /// Read every process's `/proc/<pid>/cgroup`: true, false, or nil — only where logind keeps
    /// sessions (`<config root>/run/systemd/sessions` is not empty), since only the logind rule
    /// needs it. The `fdInfoFor` pids always get theirs.
    public var readCgroups: Bool? = nil

    public init(details: Details = .all, fdInfoFor: Set<Int32> = [], fdInfoForAll: Bool = false) {
        self.details = details
        self.fdInfoFor = fdInfoFor
        self.fdInfoForAll = fdInfoForAll
    }
}

/// Reads a /proc tree into a `Snapshot`. Processes that vanish mid-scan are dropped; fields
/// the caller may not read are `.unknown(.permissionDenied)`.
///
/// A full scan runs on two threads when there are many processes (the work is almost all
/// kernel time in open/read/readlink, and the machines have two cores): each thread has its
/// own `ProcReader` buffers, user-name cache and fd-target cache.
public final class SnapshotReader {
    public let proc: ProcReader
    public let drivers: TTYDrivers
    public let clockTicks: UInt64
    private let primary: ScanWorker
    private var secondary: ScanWorker?
    /// Below this many pids a second thread costs more than it saves.
    public var parallelThreshold = 400
    /// Where logind's configuration and state are read (`/`; a fixture tree in tests).
    public var configRoot = "/"
    /// Reads the shells' memory; keeps parsed executables between scans.
    public lazy var shellMemoryReader = ShellMemoryReader(proc: proc)

    public init(root: String = "/proc") throws(ProcReader.OpenError) {
        proc = try ProcReader(root: root)
        if case .success(let bytes) = proc.readRootFile("tty/drivers") {
            drivers = TTYDrivers.parse(String(decoding: bytes, as: UTF8.self))
        } else {
            drivers = .fallback
        }
        clockTicks = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        primary = ScanWorker(proc: proc, drivers: drivers)
    }

    public var rootPath: String { proc.rootPath }

    /// The pid sessiontop runs as in this tree: `self` when the tree has it, else getpid().
    public lazy var selfPid: Int32 = proc.selfPid() ?? getpid()

    public func snapshot(options given: ScanOptions = ScanOptions()) -> Snapshot {
        var options = given
        if options.readCgroups == nil { options.readCgroups = LogindPolicyReader.hasSessions(root: configRoot) }
        let pids = proc.pids()
        var processes: [Int32: ProcessInfo] = [:]
        processes.reserveCapacity(pids.count)
        primary.beginScan()
        if pids.count >= parallelThreshold, let second = secondWorker() {
            second.beginScan()
            // The other thread takes the odd positions, this one the even: both halves see
            // the same mix of small and large processes.
            let job = ScanJob(worker: second, pids: pids, options: options)
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                let job = Unmanaged<ScanJob>.fromOpaque(raw!).takeUnretainedValue()
                job.run()
                return nil
            }, Unmanaged.passUnretained(job).toOpaque()) == 0
            var i = 0
            while i < pids.count {
                if let p = primary.readProcess(pids[i], options: options) { processes[pids[i]] = p }
                i += started ? 2 : 1
            }
            if started {
                pthread_join(thread, nil)
                for p in job.results { processes[p.pid] = p }
            }
        } else {
            for pid in pids {
                if let p = primary.readProcess(pid, options: options) { processes[pid] = p }
            }
        }
        var uptime = Double.nan
        if case .success(let b) = proc.readRootFile("uptime", limit: ProcReader.Limit.small) {
            uptime = Self.parseUptime(b) ?? .nan
        }
        var snap = Snapshot(processes: processes, selfPid: selfPid, clockTicks: clockTicks,
                            uptime: uptime, hostname: Self.hostname())
        if options.readShellMemory {
            snap.shellMemory = shellMemoryReader.readLeaders(of: snap)
            snap.shellForkTraps = shellMemoryReader.readForkTraps(of: snap)
        }
        if options.readLogind, processes.values.contains(where: { $0.cgroup.value.flatMap(CgroupPlace.of) != nil }) {
            snap.logind = LogindPolicyReader.read(root: configRoot)
        }
        return snap
    }

    private func secondWorker() -> ScanWorker? {
        if let s = secondary { return s }
        guard let reader = try? ProcReader(root: proc.rootPath) else { return nil }
        secondary = ScanWorker(proc: reader, drivers: drivers)
        return secondary
    }

    /// Reads one process; nil if it does not exist or vanished while being read.
    public func readProcess(_ pid: Int32, options: ScanOptions = ScanOptions()) -> ProcessInfo? {
        primary.beginScan()
        return primary.readProcess(pid, options: options)
    }

    /// `/proc/<pid>/environ`, NUL-split (relaunch needs it).
    public func environment(of pid: Int32) -> Field<[[UInt8]]> {
        guard case .success(let dir) = proc.openProcess(pid) else { return .unknown(.vanished) }
        defer { close(dir) }
        return Field(proc.read(dirfd: dir, "environ", limit: ProcReader.Limit.arguments) { CmdlineParser.parse($0) })
    }

    /// The first number of `/proc/uptime` (fs/proc/uptime.c: `%lu.%02lu`): digits, a point,
    /// digits. Anything else (`nan`, `inf`, `1e999`, hex floats) is unknown (nil).
    public static func parseUptime(_ bytes: [UInt8]) -> Double? {
        let token = bytes.prefix { $0 != 0x20 && $0 != 0x0A }
        guard !token.isEmpty, token.count <= 32, token.first != UInt8(ascii: "."), token.last != UInt8(ascii: ".") else { return nil }
        var points = 0
        for c in token {
            if c == UInt8(ascii: ".") { points += 1; continue }
            guard c >= 0x30 && c <= 0x39 else { return nil }
        }
        guard points <= 1, let v = Double(String(decoding: token, as: UTF8.self)), v.isFinite else { return nil }
        return v
    }

    static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, 255) == 0 else { return "" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The odd half of a parallel scan, run on the second thread.
private final class ScanJob: @unchecked Sendable {
    let worker: ScanWorker
    let pids: [Int32]
    let options: ScanOptions
    var results: [ProcessInfo] = []

    init(worker: ScanWorker, pids: [Int32], options: ScanOptions) {
        self.worker = worker
        self.pids = pids
        self.options = options
    }

    func run() {
        results.reserveCapacity(pids.count / 2 + 1)
        var i = 1
        while i < pids.count {
            if let p = worker.readProcess(pids[i], options: options) { results.append(p) }
            i += 2
        }
    }
}

/// Reads processes through one `ProcReader`; used by one thread at a time.
final class ScanWorker {
    let proc: ProcReader
    let drivers: TTYDrivers
    private var users = UserNames()
    private let pageSize: Int64
    /// fd target text → what a stat of it said, for this scan: thousands of fds point at
    /// the same few paths (/dev/null, a log, a terminal), and a stat through
    /// /proc/<pid>/fd/<n> costs a path walk each time.
    private var targetCache: [[UInt8]: (kind: FileKind, device: UInt64?)] = [:]

    init(proc: ProcReader, drivers: TTYDrivers) {
        self.proc = proc
        self.drivers = drivers
        pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
    }

    func beginScan() { targetCache.removeAll(keepingCapacity: true) }

    func readProcess(_ pid: Int32, options: ScanOptions) -> ProcessInfo? {
        // The cheap tick on the real procfs: `<pid>/stat` opened from the root in one openat,
        // no directory fd (3 syscalls instead of 5: at 10 000 processes the most of a tick).
        // A recycled pid (another start time) falls through to the full read below.
        if proc.isProcfs, options.statusWithDetails, case .refresh(let fresh, let previous) = options.details,
           !fresh.contains(pid), let old = previous.processes[pid], old.argv.unknownReason != .notRead {
            let r = proc.read(dirfd: proc.rootFD, "\(pid)/stat", limit: ProcReader.Limit.stat) { bytes in try? StatParser.parse(bytes) }
            guard case .success(let parsed) = r, let stat = parsed else { return nil }
            if old.startTime == stat.startTime {
                var info = old
                apply(stat, to: &info)
                return info
            }
        }
        guard case .success(let dir) = proc.openProcess(pid) else { return nil }
        defer { close(dir) }

        let statResult = proc.read(dirfd: dir, "stat", limit: ProcReader.Limit.stat) { bytes in try? StatParser.parse(bytes) }
        guard case .success(let parsed) = statResult, let stat = parsed else { return nil }
        // The cheap tick: `stat` only, the status fields (ids, signal masks, umask) and the
        // details copied from the previous scan.
        if options.statusWithDetails, case .refresh(let fresh, let previous) = options.details,
           !fresh.contains(pid), let old = previous.processes[pid], old.startTime == stat.startTime,
           old.argv.unknownReason != .notRead {
            var info = old
            apply(stat, to: &info)
            return info
        }
        // The fast first scan: `stat` alone; the owner of /proc/<pid> is the process's euid/egid
        // (proc(5)); the status fields stay unread (umask unknown, signal sets empty).
        if case .only(let wanted) = options.details, !wanted.contains(pid),
           case .success(let st) = proc.stat(dirfd: dir, ".") {
            return record(pid, stat, ids: (st.st_uid, st.st_uid, st.st_gid, st.st_gid),
                          signals: SignalDispositions(), umask: .unknown(.notRead), details: .notRead)
        }
        // `status` gone means the process is gone; any other failure (a FIFO or an endless
        // file in a fixture tree) leaves its ids unknown, never root.
        let status: ProcStatus
        var idsUnknown: UnknownReason?
        switch proc.read(dirfd: dir, "status", limit: ProcReader.Limit.status, { StatusParser.parse($0) }) {
        case .success(let st):
            status = st
            if st.uids.isEmpty { idsUnknown = .malformed("malformed: no valid Uid: line in status") }
        case .failure(let e):
            if e.meansVanished { return nil }
            status = ProcStatus()
            idsUnknown = UnknownReason(e)
        }

        let unknown = ProcessInfo.unknownID
        let uid = status.uids.first ?? unknown
        let euid = status.uids.count > 1 ? status.uids[1] : uid
        let gid = status.gids.first ?? unknown
        let egid = status.gids.count > 1 ? status.gids[1] : gid

        var signals = SignalDispositions(
            ignored: SignalSet(mask: status.sigIgnored),
            caught: SignalSet(mask: status.sigCaught),
            pending: SignalSet(mask: status.sigPending | status.sharedPending),
            blocked: SignalSet(mask: status.sigBlocked))
        if status.threads > 1 && !stat.isKernelThread {
            readThreadMasks(dir: dir, into: &signals)
        }

        var info = record(pid, stat, ids: (uid, euid, gid, egid), signals: signals,
                          umask: status.umask.map { .known($0) } ?? .unknown(idsUnknown ?? .notApplicable),
                          details: .notApplicable)
        info.userUnknown = idsUnknown

        // Kernel threads have no argv, cwd, exe or fds of their own; zombies have lost them.
        if stat.isKernelThread || info.state.isGone { return info }

        if case .only(let wanted) = options.details, !wanted.contains(pid) {
            info.argv = .unknown(.notRead)
            info.exe = .unknown(.notRead)
            info.cwd = .unknown(.notRead)
            info.fds = .unknown(.notRead)
            info.cgroup = .unknown(.notRead)
            return info
        }
        if case .refresh(let fresh, let previous) = options.details, !fresh.contains(pid),
           let old = previous.processes[pid], old.startTime == stat.startTime,
           old.argv.unknownReason != .notRead {
            info.argv = old.argv
            info.exe = old.exe
            info.cwd = old.cwd
            info.fds = old.fds
            info.cgroup = old.cgroup
            return info
        }

        switch proc.read(dirfd: dir, "cmdline", limit: ProcReader.Limit.arguments, { CmdlineParser.parse($0) }) {
        case .success(let argv): info.argv = .known(argv)
        case .failure(let e):
            if e.meansVanished { return nil }
            info.argv = .unknown(UnknownReason(e))
        }
        info.exe = link(dir, "exe")
        info.cwd = link(dir, "cwd")
        let withInfo = options.fdInfoForAll || options.fdInfoFor.contains(pid)
        info.fds = readFds(dir: dir, withInfo: withInfo, statTargets: options.statFdTargets)
        if options.readSyscall, let fds = info.fds.value, fds.contains(where: { $0.kind == .tty }) {
            info.syscall = Field(proc.read(dirfd: dir, "syscall", limit: ProcReader.Limit.small) { SyscallParser.parse($0) }
                .flatMap { $0.map { .success($0) } ?? .failure(.invalid) })
        }
        // A process that died while we read it shows ENOENT everywhere: drop it.
        if info.cwd.unknownReason == .vanished && info.exe.unknownReason == .vanished {
            return nil
        }
        if options.readCgroups == true || options.fdInfoFor.contains(pid) {
            info.cgroup = readCgroup(dir)
        }
        return info
    }

    /// `/proc/<pid>/cgroup` (cgroups(7)).
    private func readCgroup(_ dir: Int32) -> Field<[UInt8]> {
        switch proc.read(dirfd: dir, "cgroup", { CgroupParser.parse($0) }) {
        case .success(let path?): return .known(path)
        case .success(nil): return .unknown(.notApplicable)
        // A kernel without cgroups (or a fixture tree) has no such file.
        case .failure(let e) where e.rawValue == ENOENT: return .unknown(.notApplicable)
        case .failure(let e): return .unknown(UnknownReason(e))
        }
    }

    /// A record from `stat` (proc_pid_stat(5)) and the ids, signals and umask of `status`;
    /// argv, exe, cwd and fds start unknown for `details` (`.notApplicable` for kernel threads
    /// and zombies until read, `.notRead` in a fast scan).
    private func record(_ pid: Int32, _ stat: ProcStat, ids: (UInt32, UInt32, UInt32, UInt32),
                        signals: SignalDispositions, umask: Field<UInt32>,
                        details: UnknownReason) -> ProcessInfo {
        var info = ProcessInfo(
            pid: pid, ppid: 0, pgid: 0, sid: 0, tpgid: -1, state: .other(0), comm: [],
            argv: details == .notRead ? .unknown(.notRead) : .known([]), exe: .unknown(details),
            uid: ids.0, euid: ids.1, gid: ids.2, egid: ids.3,
            user: ids.0 == ProcessInfo.unknownID ? "?" : users.name(ids.0),
            startTime: stat.startTime, threads: 1, ttyDevice: 0, tty: nil,
            cwd: .unknown(details), umask: umask, fds: .unknown(details), signals: signals,
            isKernelThread: stat.isKernelThread, cpuTicks: 0, rssBytes: 0)
        apply(stat, to: &info)
        return info
    }

    /// Copies what `stat` says (and changes tick to tick) onto a record.
    private func apply(_ stat: ProcStat, to info: inout ProcessInfo) {
        info.ppid = stat.ppid
        info.pgid = stat.pgid
        info.sid = stat.sid
        info.tpgid = stat.tpgid
        info.state = ProcessState(letter: stat.state)
        info.comm = stat.comm
        info.threads = stat.threads
        if info.ttyDevice != UInt64(stat.ttyNr) {
            info.ttyDevice = UInt64(stat.ttyNr)
            info.tty = drivers.name(forDevice: UInt64(stat.ttyNr))
        }
        // Saturating: the kernel's numbers never get there, a planted stat may.
        let (cpu, cpuOverflow) = stat.utime.addingReportingOverflow(stat.stime)
        info.cpuTicks = cpuOverflow ? .max : cpu
        let (rss, rssOverflow) = stat.rssPages.multipliedReportingOverflow(by: pageSize)
        info.rssBytes = rssOverflow ? .max : rss
    }

    private func link(_ dir: Int32, _ name: String) -> Field<[UInt8]> {
        switch proc.readLink(dirfd: dir, name) {
        case .success(let b): return .known(b)
        case .failure(let e): return .unknown(UnknownReason(e))
        }
    }

    /// SigBlk and SigPnd are per thread: union (and intersection) over `task/*/status`.
    private func readThreadMasks(dir: Int32, into signals: inout SignalDispositions) {
        guard case .success(let tids) = proc.listNumeric(dirfd: dir, "task") else { return }
        var any = signals.blocked.mask
        var all = UInt64.max
        var pending = signals.pending.mask
        for tid in tids {
            guard case .success(let st) = proc.read(dirfd: dir, "task/\(tid)/status", limit: ProcReader.Limit.status, { StatusParser.parse($0) })
            else { continue }
            any |= st.sigBlocked
            all &= st.sigBlocked
            pending |= st.sigPending
        }
        signals.blocked = SignalSet(mask: any)
        signals.blockedInAllThreads = SignalSet(mask: all == UInt64.max ? signals.blocked.mask : all)
        signals.pending = SignalSet(mask: pending)
    }

    private func readFds(dir: Int32, withInfo: Bool, statTargets: Bool) -> Field<[OpenFile]> {
        let numbers: [Int32]
        switch proc.listNumeric(dirfd: dir, "fd") {
        case .success(let n): numbers = n
        case .failure(let e): return .unknown(UnknownReason(e))
        }
        var files: [OpenFile] = []
        files.reserveCapacity(numbers.count)
        for fd in numbers {
            let path = "fd/\(fd)"
            guard case .success(let target) = proc.readLink(dirfd: dir, path) else { continue }
            var kind = FdTargetParser.classify(target)
            var device: UInt64?
            if statTargets && (kind == .regular || kind == .tty) {
                if let known = targetCache[target] {
                    (kind, device) = known
                } else if let pts = FdTargetParser.ptsDevice(target) {
                    device = pts
                    targetCache[target] = (kind, device)
                } else if case .success(let st) = proc.stat(dirfd: dir, path) {
                    switch st.st_mode & S_IFMT {
                    case S_IFDIR: kind = .directory
                    case S_IFCHR:
                        device = UInt64(st.st_rdev)
                        kind = Self.isTerminalMajor(TTYDrivers.split(UInt64(st.st_rdev)).major) ? .tty : .device
                    case S_IFBLK: kind = .device
                    case S_IFIFO: kind = .fifo
                    case S_IFSOCK: kind = .socket
                    default: break
                    }
                    targetCache[target] = (kind, device)
                }
            }
            var file = OpenFile(fd: fd, target: target, kind: kind, device: device)
            if withInfo {
                // pos and flags come first (fs/proc/fd.c seq_show): the rest (an epoll's or
                // inotify's list) may be long and is not needed.
                file.info = Field(proc.read(dirfd: dir, "fdinfo/\(fd)", limit: ProcReader.Limit.small, truncate: true) { FdInfoParser.parse($0) }
                    .flatMap { $0.map { .success($0) } ?? .failure(.invalid) })
            }
            files.append(file)
        }
        return .known(files)
    }

    /// Majors of terminal devices (Documentation/admin-guide/devices.txt): 4 tty/ttyS,
    /// 5 tty/console, 136-143 pts, 166 ttyACM, 188 ttyUSB, 204 low-density serial.
    private static func isTerminalMajor(_ major: UInt32) -> Bool {
        major == 4 || major == 5 || (136...143).contains(major) || major == 188 || major == 204 || major == 166
    }
}

/// uid → user name, cached (getpwuid_r; the number itself when there is no entry).
struct UserNames {
    private var cache: [UInt32: String] = [:]

    mutating func name(_ uid: UInt32) -> String {
        if let n = cache[uid] { return n }
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 4096)
        let name: String
        if getpwuid_r(uid, &pwd, &buf, buf.count, &result) == 0, result != nil, let p = pwd.pw_name {
            name = String(cString: p)
        } else {
            name = String(uid)
        }
        cache[uid] = name
        return name
    }
}
