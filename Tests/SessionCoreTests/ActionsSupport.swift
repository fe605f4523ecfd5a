import Testing
@testable import SessionCore

/// The identity (pid + start time) of a live process, read now; fails the test when it is
/// gone. Here, not in TestSupport: it needs `#require`.
func liveIdentity(_ pid: Int32) throws -> ProcessIdentity {
    let reader = try SnapshotReader()
    return try #require(reader.readProcess(pid)).identity
}
