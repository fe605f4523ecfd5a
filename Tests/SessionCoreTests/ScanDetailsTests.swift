import Testing
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

/// `ScanOptions.Details.only`: the TUI's fast first scan, and the refresh that fills it in.
@Suite struct ScanDetailsTests {
    @Test func onlyReadsDetailsForTheGivenPidsAndRefreshFillsTheRest() throws {
        let reader = try SnapshotReader(root: "/proc")
        let me = getpid()
        let first = reader.snapshot(options: ScanOptions(details: .only([me])))
        let mine = try #require(first.process(me))
        #expect(mine.argv.value?.isEmpty == false)
        #expect(mine.cwd.value != nil)
        // Our parent (swift test / the shell) is a user process whose details were not read.
        let parent = try #require(first.process(mine.ppid))
        #expect(parent.argv == .unknown(.notRead))
        #expect(parent.cwd == .unknown(.notRead))
        #expect(parent.fds == .unknown(.notRead))
        // Status was not read either, but the owner comes from /proc/<pid> itself.
        #expect(parent.umask == .unknown(.notRead))
        #expect(parent.uid == getuid())
        // A refresh naming nobody still reads what the first scan skipped.
        let second = reader.snapshot(options: ScanOptions(details: .refresh([], previous: first)))
        let parent2 = try #require(second.process(mine.ppid))
        #expect(parent2.argv.value?.isEmpty == false)
        #expect(parent2.cwd.unknownReason != .notRead)
        #expect(parent2.umask.unknownReason != .notRead)
    }

    @Test func statusWithDetailsKeepsStatusFieldsAndRefreshesStat() throws {
        let reader = try SnapshotReader(root: "/proc")
        let me = getpid()
        let first = reader.snapshot()
        let parent = try #require(first.process(first.process(me)!.ppid))
        // Pretend the previous scan saw other masks: a stat-only refresh keeps them...
        var doctored = first
        doctored.processes[parent.pid]!.signals.ignored = SignalSet([Signals.hup, 10])
        doctored.processes[parent.pid]!.uid = 4242
        doctored.processes[parent.pid]!.cpuTicks = 999_999_999
        var opts = ScanOptions(details: .refresh([me], previous: doctored))
        opts.statusWithDetails = true
        let second = reader.snapshot(options: opts)
        let p2 = try #require(second.process(parent.pid))
        #expect(p2.signals.ignored.contains(10))
        #expect(p2.uid == 4242)
        #expect(p2.cpuTicks != 999_999_999)  // stat is read every tick
        // ...while the pids named are read afresh.
        var opts3 = ScanOptions(details: .refresh([parent.pid], previous: doctored))
        opts3.statusWithDetails = true
        let third = reader.snapshot(options: opts3)
        #expect(third.process(parent.pid)?.uid == parent.uid)
        #expect(third.process(parent.pid)?.signals.ignored.contains(10) == parent.signals.ignored.contains(10))
    }
}
