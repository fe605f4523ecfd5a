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
        // A refresh naming nobody still reads what the first scan skipped.
        let second = reader.snapshot(options: ScanOptions(details: .refresh([], previous: first)))
        let parent2 = try #require(second.process(mine.ppid))
        #expect(parent2.argv.value?.isEmpty == false)
        #expect(parent2.cwd.unknownReason != .notRead)
    }
}
