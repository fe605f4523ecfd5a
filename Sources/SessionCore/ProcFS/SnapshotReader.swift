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
    /// With `.refresh` and `statusWithDetails`: a process not among the fresh pids that has
    /// been asleep without using CPU for its last two reads is read on every `idleEvery`-th
    /// scan only (staggered by pid), keeping its record (and `sampledAt`) in between. 1: every scan.
    public var idleEvery: Int = 1
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
    /// Keep each process's `<pid>/stat` open between refresh scans (`.refresh` with
    /// `statusWithDetails`), up to what RLIMIT_NOFILE leaves free (less 512 for everything
    /// else). For a long-running reader (the TUI); off by default (the CLI scans once).
    /// Costs the kernel ~4.5 KiB per process (a file and its seq_file page): 45 MB at 10 000.
    public var keepStatFiles = false {
        didSet {
            var lim = rlimit()
            let soft = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim) == 0 ? Int(clamping: lim.rlim_cur) : 1024
            let budget = keepStatFiles ? max(0, soft - 512) / 2 : 0
            primary.statFileBudget = budget
            secondary?.statFileBudget = budget
            if !keepStatFiles { primary.dropStatFiles(); secondary?.dropStatFiles() }
        }
    }
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
        // The uptime as the scan begins: the snapshot's clock and each record's `sampledAt`.
        var uptime = Double.nan
        if case .success(let b) = proc.readRootFile("uptime", limit: ProcReader.Limit.small) {
            uptime = Self.parseUptime(b) ?? .nan
        }
        primary.scanUptime = uptime
        secondary?.scanUptime = uptime
        let listed = proc.pidsWithInodes()
        var processes: [Int32: ProcessInfo] = [:]
        processes.reserveCapacity(listed.count)
        primary.beginScan()
        // This process's own kept stat files, by fd: its fd list names them without a
        // readlink each (10 000 of them, every tick: sessiontop's session is read every tick).
        let own = keepStatFiles ? ownStatFiles() : [:]
        primary.ownFiles = (selfPid, own)
        secondary?.ownFiles = (selfPid, own)
        if listed.count >= parallelThreshold, let second = secondWorker() {
            second.beginScan()
            // Each pid always goes to the same thread (a hash of the number, not its position:
            // one new pid would shift every position after it), so each thread's kept stat
            // files stay its own; the hash spreads runs of pids (a process and its threads,
            // a fork loop) over both.
            let job = ScanJob(worker: second, pids: listed, options: options)
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                let job = Unmanaged<ScanJob>.fromOpaque(raw!).takeUnretainedValue()
                job.run()
                return nil
            }, Unmanaged.passUnretained(job).toOpaque()) == 0
            for (pid, inode) in listed where !started || !ScanJob.isSecondary(pid) {
                if let p = primary.readProcess(pid, inode: inode, options: options) { processes[pid] = p }
            }
            if started {
                pthread_join(thread, nil)
                for p in job.results { processes[p.pid] = p }
                second.endScan()
            } else {
                second.dropStatFiles()
            }
        } else {
            for (pid, inode) in listed {
                if let p = primary.readProcess(pid, inode: inode, options: options) { processes[pid] = p }
            }
            secondary?.dropStatFiles()
        }
        primary.endScan()
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

    /// fd → pid of the stat files both workers keep open.
    private func ownStatFiles() -> [Int32: Int32] {
        var out: [Int32: Int32] = [:]
        for w in [primary] + (secondary.map { [$0] } ?? []) {
            for (pid, fd) in w.keptStatFiles { out[fd] = pid }
        }
        return out
    }

    private func secondWorker() -> ScanWorker? {
        if let s = secondary { return s }
        guard let reader = try? ProcReader(root: proc.rootPath) else { return nil }
        let worker = ScanWorker(proc: reader, drivers: drivers)
        worker.statFileBudget = primary.statFileBudget
        worker.ownFiles = primary.ownFiles
        worker.scanUptime = primary.scanUptime
        secondary = worker
        return worker
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
    let pids: [(value: Int32, inode: UInt64)]
    let options: ScanOptions
    var results: [ProcessInfo] = []

    init(worker: ScanWorker, pids: [(value: Int32, inode: UInt64)], options: ScanOptions) {
        self.worker = worker
        self.pids = pids
        self.options = options
    }

    /// The second thread's half: a multiplicative hash of the pid (Knuth's 2654435769), top bit.
    static func isSecondary(_ pid: Int32) -> Bool {
        (UInt32(bitPattern: pid) &* 0x9E37_79B9) >> 31 == 1
    }

    func run() {
        results.reserveCapacity(pids.count / 2 + 1)
        for (pid, inode) in pids where Self.isSecondary(pid) {
            if let p = worker.readProcess(pid, inode: inode, options: options) { results.append(p) }
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

    /// pid → its `<pid>/stat` kept open between scans (`keepStatFiles`), with the number of
    /// the last scan that read it: re-reading is one pread instead of openat+read+close, 40 %
    /// of a 10 000-process tick (BENCHMARKS.md, issue 11). Each costs the kernel a file and
    /// its seq_file page (~4.5 KiB).
    private var statFiles: [Int32: (fd: Int32, scan: UInt32, inode: UInt64)] = [:]
    private var scanNumber: UInt32 = 0
    /// How many `statFiles` this worker may keep (0: none, every read opens and closes).
    var statFileBudget = 0
    /// This process's pid and its kept stat files (fd → pid) as the scan began (both
    /// workers'): read-only during a scan.
    var ownFiles: (pid: Int32, files: [Int32: Int32]) = (0, [:])
    var keptStatFiles: [(pid: Int32, fd: Int32)] { statFiles.map { ($0.key, $0.value.fd) } }

    deinit { dropStatFiles() }

    func beginScan() {
        targetCache.removeAll(keepingCapacity: true)
        scanNumber &+= 1
    }

    /// Closes the kept files of pids this scan did not read (gone, or now another worker's).
    func endScan() {
        guard !statFiles.isEmpty else { return }
        for (pid, entry) in statFiles where entry.scan != scanNumber {
            close(entry.fd)
            statFiles[pid] = nil
        }
    }

    /// Closes every kept file.
    func dropStatFiles() {
        for (_, entry) in statFiles { close(entry.fd) }
        statFiles.removeAll()
    }

    private func dropStatFile(_ pid: Int32) {
        if let entry = statFiles.removeValue(forKey: pid) { close(entry.fd) }
    }

    /// `<pid>/stat` parsed, nil if unreadable; through the kept file when there is one.
    private func cheapStat(_ pid: Int32, inode: UInt64, previousComm: [UInt8]) -> ProcStat? {
        if let entry = statFiles[pid] {
            if case .success(let parsed?) = proc.read(openFile: entry.fd, limit: ProcReader.Limit.stat, { try? StatParser.parse($0, previousComm: previousComm) }) {
                statFiles[pid] = (entry.fd, scanNumber, inode)
                return parsed
            }
            // ESRCH: that process is gone (its pid may already be someone else's).
            dropStatFile(pid)
        }
        guard case .success(let fd) = proc.openFile(dirfd: proc.rootFD, "\(pid)/stat") else { return nil }
        let r = proc.read(openFile: fd, limit: ProcReader.Limit.stat) { try? StatParser.parse($0, previousComm: previousComm) }
        if statFiles.count < statFileBudget, case .success(.some) = r {
            statFiles[pid] = (fd, scanNumber, inode)
        } else {
            close(fd)
        }
        if case .success(let parsed?) = r { return parsed }
        return nil
    }

    /// `inode`: of `<root>/<pid>` in this scan's listing (0: unknown).
    func readProcess(_ pid: Int32, inode: UInt64 = 0, options: ScanOptions) -> ProcessInfo? {
        // The cheap tick on the real procfs: `<pid>/stat` alone, through the file kept open
        // from the last tick (one pread) or opened from the root in one openat (no directory
        // fd). A recycled pid (another start time, or ESRCH on the kept file, which stays
        // bound to the process it was opened for) falls through to the full read below.
        if proc.isProcfs, options.statusWithDetails, case .refresh(let fresh, let previous) = options.details,
           !fresh.contains(pid), let old = previous.processes[pid], old.argv.unknownReason != .notRead {
            // Settled (asleep, no CPU used over its last reads) and not asked for: read on
            // every `idleEvery`-th scan only, staggered by pid; it keeps its `sampledAt`.
            // Only while its stat file is kept and its /proc directory is the same inode as
            // when it was last read: a pid reused by a new process has another one.
            if options.idleEvery > 1, old.idleReads >= 2, inode != 0,
               let entry = statFiles[pid], entry.inode == inode,
               (scanNumber &+ ((UInt32(bitPattern: pid) &* 0x9E37_79B9) >> 28)) % UInt32(options.idleEvery) != 0 {
                statFiles[pid] = (entry.fd, scanNumber, inode)
                return old
            }
            if let stat = cheapStat(pid, inode: inode, previousComm: old.comm) {
                if old.startTime == stat.startTime {
                    var info = old
                    apply(stat, to: &info, previous: old)
                    return info
                }
                dropStatFile(pid)
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
            apply(stat, to: &info, previous: old)
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
        if case .refresh(_, let previous) = options.details, let old = previous.processes[pid], old.startTime == stat.startTime {
            info.idleReads = Self.idleReads(after: old, cpuTicks: info.cpuTicks, state: stat.state)
        }
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
        let own = pid == ownFiles.pid && proc.isProcfs && !ownFiles.files.isEmpty
        if own, !withInfo, scanNumber % 20 != 0, case .refresh(_, let previous) = options.details,
           let old = previous.processes[pid], old.startTime == info.startTime, old.fds.value != nil {
            // This process's own fds (thousands of kept stat files: listing them is a
            // getdents of the whole table) are re-read every 20th scan, or each scan while
            // its detail pane shows them.
            info.fds = old.fds
        } else {
            info.fds = readFds(dir: dir, withInfo: withInfo, statTargets: options.statFdTargets,
                               known: own ? ownFiles.files : [:])
        }
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

    /// The uptime (seconds) as this scan began: each record's `sampledAt`.
    var scanUptime = Double.nan

    /// Consecutive reads asleep with no CPU used, counting this one.
    static func idleReads(after old: ProcessInfo, cpuTicks: UInt64, state: UInt8) -> UInt8 {
        let asleep = state == UInt8(ascii: "S") || state == UInt8(ascii: "I")
        return asleep && old.cpuTicks == cpuTicks ? (old.idleReads == .max ? .max : old.idleReads + 1) : 0
    }

    /// Copies what `stat` says (and changes tick to tick) onto a record; `previous` is the
    /// same process's record from the last scan.
    private func apply(_ stat: ProcStat, to info: inout ProcessInfo, previous: ProcessInfo? = nil) {
        let (cpu0, cpuOverflow0) = stat.utime.addingReportingOverflow(stat.stime)
        if let previous { info.idleReads = Self.idleReads(after: previous, cpuTicks: cpuOverflow0 ? .max : cpu0, state: stat.state) }
        info.sampledAt = scanUptime
        info.ppid = stat.ppid
        info.pgid = stat.pgid
        info.sid = stat.sid
        info.tpgid = stat.tpgid
        info.state = ProcessState(letter: stat.state)
        // Assigned only when changed: the slow fields are shared with the previous scan's record.
        if info.comm != stat.comm { info.comm = stat.comm }
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

    /// `known`: fds whose target is already known (this process's kept `<pid>/stat` files).
    private func readFds(dir: Int32, withInfo: Bool, statTargets: Bool, known: [Int32: Int32] = [:]) -> Field<[OpenFile]> {
        let numbers: [Int32]
        switch proc.listNumeric(dirfd: dir, "fd") {
        case .success(let n): numbers = n
        case .failure(let e): return .unknown(UnknownReason(e))
        }
        var files: [OpenFile] = []
        files.reserveCapacity(numbers.count)
        let root = Array(proc.rootPath.utf8)
        for fd in numbers {
            if let pid = known[fd] {
                files.append(OpenFile(fd: fd, target: root + Array("/\(pid)/stat".utf8), kind: .regular))
                continue
            }
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
