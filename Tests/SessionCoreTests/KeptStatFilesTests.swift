import Testing
import SessionCore
import CSessionShims
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 §8: the TUI's refresh keeps each `<pid>/stat` open (one pread a tick) and reads
/// settled off-screen processes every other tick. Real children, real signals.
@Suite(.serialized) struct KeptStatFilesTests {
    /// Where each fd of this process points (readlink of /proc/self/fd/N).
    static func ownFdTargets() -> [String] {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        var buf = [CChar](repeating: 0, count: 4096)
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard Int32(name) != nil else { continue }
            let n = readlink("/proc/self/fd/\(name)", &buf, buf.count)
            if n > 0 { out.append(String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
        }
        return out
    }

    static func refresh(_ reader: SnapshotReader, after previous: Snapshot, fresh: Set<Int32> = [], idleEvery: Int = 1) -> Snapshot {
        var o = ScanOptions(details: .refresh(fresh, previous: previous))
        o.statusWithDetails = true
        o.idleEvery = idleEvery
        return reader.snapshot(options: o)
    }

    @Test func preadOfAKeptStatFileRendersItAfreshAndFailsOnceTheProcessIsReaped() throws {
        let child = try Processes.spawn(["sleep", "100"])
        defer { Processes.killAndReap(child) }
        let proc = try ProcReader(root: "/proc")
        let fd = try proc.openFile(dirfd: AT_FDCWD, "/proc/\(child)/stat").get()
        defer { close(fd) }
        #expect(waitUntil { (try? proc.read(openFile: fd) { try? StatParser.parse($0) }.get())??.state == UInt8(ascii: "S") })
        kill(child, SIGSTOP)
        // The same open file, read again from offset 0: the kernel renders the new state.
        #expect(waitUntil { (try? proc.read(openFile: fd) { try? StatParser.parse($0) }.get())??.state == UInt8(ascii: "T") })
        kill(child, SIGKILL)
        _ = Processes.reap(child)
        guard case .failure(let e) = proc.read(openFile: fd, { _ in () }) else {
            Issue.record("read of a reaped process's stat succeeded"); return
        }
        #expect(e.rawValue == ESRCH)
    }

    @Test func refreshScansKeepEachStatOpenAndCloseItWhenTheProcessIsGone() throws {
        let child = try Processes.spawn(["sleep", "100"])
        defer { Processes.killAndReap(child) }
        #expect(waitUntil { (try? String(contentsOfProc: "/proc/\(child)/comm")) == "sleep\n" })
        let reader = try SnapshotReader(root: "/proc")
        reader.keepStatFiles = true
        defer { reader.keepStatFiles = false }
        let target = "/proc/\(child)/stat"
        var snap = reader.snapshot()
        #expect(!Self.ownFdTargets().contains(target))  // a full scan opens and closes
        snap = Self.refresh(reader, after: snap)
        #expect(Self.ownFdTargets().contains(target))
        // Kept open, the file still reads what changes: a stop shows up on the next scan.
        kill(child, SIGSTOP)
        #expect(waitUntil { (try? String(contentsOfProc: "/proc/\(child)/stat"))?.contains(") T ") == true })
        snap = Self.refresh(reader, after: snap)
        #expect(snap.process(child)?.state == .stopped)
        // This process's own record names the kept files without a readlink each (its fds
        // are listed afresh every 20th scan, or every scan while its detail pane is open).
        let me = getpid()
        var o = ScanOptions(details: .refresh([me], previous: snap))
        o.statusWithDetails = true
        o.fdInfoFor = [me]
        snap = reader.snapshot(options: o)
        let mine = try #require(snap.process(me)?.fds.value)
        #expect(mine.contains { $0.targetText == target && $0.kind == .regular })
        kill(child, SIGKILL)
        _ = Processes.reap(child)
        snap = Self.refresh(reader, after: snap)
        #expect(snap.process(child) == nil)
        #expect(!Self.ownFdTargets().contains(target))
        // Off again: every kept file is closed.
        reader.keepStatFiles = false
        #expect(!Self.ownFdTargets().contains { $0.hasPrefix("/proc/") && $0.hasSuffix("/stat") })
    }

    @Test func settledProcessesAreReadEveryOtherScanAndBusyOnesEveryScan() throws {
        let idle = try Processes.spawn(["sleep", "100"])
        let busy = try Processes.spawn(["sh", "-c", "while :; do :; done"])
        defer { Processes.killAndReap(idle); Processes.killAndReap(busy) }
        let reader = try SnapshotReader(root: "/proc")
        reader.keepStatFiles = true
        defer { reader.keepStatFiles = false }
        var snap = reader.snapshot()
        var idleSamples: [Double] = []
        var busySamples: [Double] = []
        for _ in 0..<8 {
            usleep(30_000)  // uptime has 10 ms steps
            snap = Self.refresh(reader, after: snap, idleEvery: 2)
            idleSamples.append(try #require(snap.process(idle)).sampledAt)
            busySamples.append(try #require(snap.process(busy)).sampledAt)
        }
        // The busy loop uses CPU between any two scans: read (a new sample time) every scan.
        #expect(zip(busySamples, busySamples.dropFirst()).allSatisfy { $0 < $1 })
        // The sleeper, once settled (two idle reads), keeps its sample on every other scan.
        let settled = Array(idleSamples.dropFirst(3))
        let kept = zip(settled, settled.dropFirst()).filter { $0 == $1 }.count
        let advanced = zip(settled, settled.dropFirst()).filter { $0 < $1 }.count
        #expect(kept >= 2 && advanced >= 2, "idle samples \(idleSamples)")
        // Skipped is never stale by more than one scan: a stop is seen within two.
        kill(idle, SIGSTOP)
        #expect(waitUntil { (try? String(contentsOfProc: "/proc/\(idle)/stat"))?.contains(") T ") == true })
        snap = Self.refresh(reader, after: snap, idleEvery: 2)
        if snap.process(idle)?.state != .stopped { snap = Self.refresh(reader, after: snap, idleEvery: 2) }
        #expect(snap.process(idle)?.state == .stopped)
        // With idleEvery 1 (the default) every scan reads it.
        let a = Self.refresh(reader, after: snap)
        usleep(30_000)
        let b = Self.refresh(reader, after: a)
        #expect(try #require(b.process(idle)).sampledAt > (try #require(a.process(idle))).sampledAt)
    }

    /// A settled process's pid handed to a new process between two scans: the scan that would
    /// have skipped it (same pid, idle) sees another /proc directory inode and reads the new one.
    @Test func aRecycledPidIsNeverSkippedAsSettled() throws {
        let old = try Processes.spawn(["sleep", "30"])
        var oldAlive = true
        defer { if oldAlive { Processes.killAndReap(old) } }
        let reader = try SnapshotReader(root: "/proc")
        reader.keepStatFiles = true
        defer { reader.keepStatFiles = false }
        var snap = reader.snapshot()
        // Scan until it is settled and was just read: the next scan would skip it.
        var lastRead = false
        for _ in 0..<12 {
            usleep(20_000)
            let before = snap.process(old)?.sampledAt
            snap = Self.refresh(reader, after: snap, idleEvery: 2)
            let p = try #require(snap.process(old))
            lastRead = p.sampledAt != before && p.idleReads >= 2
            if lastRead { break }
        }
        try #require(lastRead, "never settled")
        let oldStart = try #require(snap.process(old)).startTime
        usleep(30_000)  // start times are clock ticks: the new process gets another
        Processes.killAndReap(old)
        oldAlive = false
        let reused = try Processes.respawnWithPid(old, ["sleep", "30"]) ?? -1
        try #require(reused == old, "the pid was not handed out again")
        defer { Processes.killAndReap(reused) }
        snap = Self.refresh(reader, after: snap, idleEvery: 2)
        let now = try #require(snap.process(reused))
        #expect(now.startTime != oldStart)
        #expect(now.idleReads == 0)
    }

    @Test func spawnedChildrenGetTheOriginalOpenFileLimitBack() throws {
        var lim = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim) == 0)
        let saved = lim
        defer { var back = saved; _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &back) }
        // Room to raise: lower the soft limit a little, then raise it as the TUI does.
        guard lim.rlim_cur > 600 else { Issue.record("soft RLIMIT_NOFILE \(lim.rlim_cur) too small"); return }
        var lower = lim
        lower.rlim_cur -= 100
        #expect(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lower) == 0)
        let now = st_raise_nofile_limit(UInt(lim.rlim_cur))
        #expect(now == Int(lim.rlim_cur))
        let forChildren = st_nofile_limit_for_children()
        #expect(forChildren != now)
        let out = try Processes.run(["sh", "-c", "ulimit -n"])
        #expect(out.status == 0)
        #expect(out.stdout.split(separator: "\n").first.map(String.init) == String(forChildren))
    }
}

extension String {
    /// A small /proc file as text (tests only).
    init(contentsOfProc path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Errno.current }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 8192)
        let n = read(fd, &buf, buf.count)
        guard n >= 0 else { throw Errno.current }
        self = String(decoding: buf[0..<n], as: UTF8.self)
    }
}
