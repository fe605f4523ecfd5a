import Testing
import Glibc
import CSessionShims
@testable import SessionCore

/// The built binary and real processes for the Actions end-to-end tests.
enum E2E {
    /// `.build/debug/sessiontop`, found from this file's path (the test command builds it).
    static let binary: String = {
        let file = "\(#filePath)"
        let root = file.split(separator: "/").dropLast(3).joined(separator: "/")
        return "/" + root + "/.build/debug/sessiontop"
    }()

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary (or any argv with `program`), capturing both outputs.
    static func run(_ args: [String], env: [String]? = nil, program: String? = nil) -> Run {
        let base = ["PATH=/usr/bin:/bin", "HOME=/root", "SWIFT_BACKTRACE=interactive=no"]
        let (s, o, e) = Relauncher.runCapturing([program ?? binary] + args, environment: env ?? base)
        return Run(status: s, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Runs the binary as another user (we are root), capturing both outputs.
    static func runAs(_ user: Daemonizer.UserEntry, _ args: [String]) -> Run {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        _ = outPipe.withUnsafeMutableBufferPointer { st_pipe2($0.baseAddress!, O_CLOEXEC) }
        _ = errPipe.withUnsafeMutableBufferPointer { st_pipe2($0.baseAddress!, O_CLOEXEC) }
        let pid = try? spawn([binary] + args) {
            $0.user = (user.uid, user.gid, user.groups)
            $0.environment = ["PATH=/usr/bin:/bin", "SWIFT_BACKTRACE=interactive=no"]
            $0.workingDirectory = "/"
            $0.fileDescriptors = [(1, outPipe[1]), (2, errPipe[1])]
        }
        close(outPipe[1]); close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard let pid else { return Run(status: -1, stdout: "", stderr: "spawn failed") }
        func drain(_ fd: Int32) -> String {
            var out: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                out += buf[0..<n]
            }
            return String(decoding: out, as: UTF8.self)
        }
        let err = drain(errPipe[0]), out = drain(outPipe[0])
        let status = reapWithin(pid, seconds: 10)
        return Run(status: status.map { ($0 >> 8) & 0xff } ?? -1, stdout: out, stderr: err)
    }

    static func becomeSubreaper() { _ = st_set_child_subreaper(1) }

    static func spawn(_ argv: [String], _ configure: (inout SpawnRequest) -> Void = { _ in }) throws -> Int32 {
        var r = SpawnRequest(argv)
        configure(&r)
        return try Spawner.spawn(r)
    }

    /// SIGKILL by pid, then reap (our child, or reparented to us as subreaper) or wait until gone.
    static func killAndReap(_ pid: Int32) {
        guard pid > 0 else { return }
        _ = st_kill(pid, SIGKILL)
        reapWithin(pid, seconds: 3)
    }

    /// Reaps `pid` if it exits within the time (no signal sent).
    @discardableResult
    static func reapWithin(_ pid: Int32, seconds: Double) -> Int32? {
        var status: Int32 = 0
        let deadline = monotonicMillis() + Int64(seconds * 1000)
        repeat {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status }
            if r < 0 && errno == ECHILD && isGone(pid) { return nil }
            usleep(5000)
        } while monotonicMillis() < deadline
        return nil
    }

    static func termSignal(_ status: Int32?) -> Int32? {
        guard let s = status else { return nil }
        return (s & 0x7f) != 0 && (s & 0x7f) != 0x7f ? s & 0x7f : nil
    }

    static func isGone(_ pid: Int32) -> Bool {
        guard let r = try? SnapshotReader(), let p = r.readProcess(pid) else { return true }
        return p.state.isGone
    }

    static func waitUntil(_ seconds: Double = 5, _ cond: () -> Bool) -> Bool {
        let deadline = monotonicMillis() + Int64(seconds * 1000)
        while monotonicMillis() < deadline {
            if cond() { return true }
            usleep(10_000)
        }
        return cond()
    }

    static func tempDir() -> String {
        var t = Array("/tmp/st-actions-XXXXXX".utf8CString)
        let p = t.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: p!)
    }

    static func removeTree(_ path: String) {
        guard path.hasPrefix("/tmp/st-actions-"), let pid = try? spawn(["/bin/rm", "-rf", path]) else { return }
        _ = reapWithin(pid, seconds: 5)
    }

    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The whitespace-separated values of a `/proc/<pid>/status` line (`Uid:`, `Groups:`).
    static func statusLine(_ pid: Int32, _ key: String) -> [String]? {
        guard let text = readFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        return nil
    }

    /// `"key":123` from a JSON line.
    static func jsonInt(_ json: String, _ key: String) -> Int32? {
        guard let r = json.firstRange(of: "\"\(key)\":") else { return nil }
        return Int32(String(json[r.upperBound...].prefix { $0.isNumber }))
    }

    static func random() -> UInt32 { UInt32.random(in: 100_000...999_999) }
}
