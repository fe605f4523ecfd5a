import Testing
import Glibc
import CSessionShims
@testable import SessionCore

/// Real processes for the Actions tests: started through Spawner, killed and reaped by pid.
enum Live {
    /// Daemons are reparented to us (not to pid 1, which does not reap here) so we can reap them.
    static func becomeSubreaper() { _ = st_set_child_subreaper(1) }

    static func spawn(_ argv: [String], _ configure: (inout SpawnRequest) -> Void = { _ in }) throws -> Int32 {
        var r = SpawnRequest(argv)
        configure(&r)
        return try Spawner.spawn(r)
    }

    /// SIGKILL, then reap it if it is our child, else wait until it is gone or a zombie.
    static func killAndReap(_ pid: Int32) {
        guard pid > 0 else { return }
        _ = st_kill(pid, SIGKILL)
        var status: Int32 = 0
        let deadline = monotonicMillis() + 3000
        while monotonicMillis() < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return }
            if r < 0 && errno == ECHILD { if isGone(pid) { return } }
            usleep(5000)
        }
    }

    /// Blocks until our child exits; returns the raw wait status.
    static func reap(_ pid: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    static func termSignal(_ status: Int32) -> Int32? { (status & 0x7f) != 0 && (status & 0x7f) != 0x7f ? status & 0x7f : nil }

    static func isGone(_ pid: Int32) -> Bool {
        guard let r = try? SnapshotReader(), let p = r.readProcess(pid) else { return true }
        return p.state.isGone
    }

    static func waitUntil(_ seconds: Double = 3, _ cond: () -> Bool) -> Bool {
        let deadline = monotonicMillis() + Int64(seconds * 1000)
        while monotonicMillis() < deadline {
            if cond() { return true }
            usleep(10_000)
        }
        return cond()
    }

    static func identity(_ pid: Int32) throws -> ProcessIdentity {
        let reader = try SnapshotReader()
        return try #require(reader.readProcess(pid)).identity
    }

    static func tempDir() -> String {
        var t = Array("/tmp/st-actions-XXXXXX".utf8CString)
        let p = t.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: p!)
    }

    static func removeTree(_ path: String) {
        guard path.hasPrefix("/tmp/st-actions-"), let pid = try? spawn(["/bin/rm", "-rf", path]) else { return }
        _ = reap(pid)
    }
}
