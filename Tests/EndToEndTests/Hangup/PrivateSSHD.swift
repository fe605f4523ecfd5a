import Testing
import Glibc
import TestSupport
import SessionCore

/// A private OpenSSH server for one test: `sshd -D` on 127.0.0.1 and a free port, with a
/// throwaway host key, user key and config in a temp dir (scripts/install-deps installs
/// openssh-server). Logs in as the user the tests run as (root). Everything it starts is killed
/// by pid in `stop()`.
final class PrivateSSHD {
    let dir: String
    private(set) var port: UInt16 = 0
    private(set) var pid: Int32 = -1

    init() throws {
        dir = try TempDirectory.make("sshd")
    }

    static let sshd = "/usr/sbin/sshd"

    /// Keys, config, then the server; returns once it accepts connections.
    func start() throws {
        for key in ["host", "user"] {
            let r = try Processes.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "\(dir)/\(key)"])
            try #require(r.status == 0, "ssh-keygen: \(r.stdout)\(r.stderr)")
        }
        let pub = try #require(Files.read("\(dir)/user.pub"))
        try write("\(dir)/authorized_keys", pub)
        // sshd's privilege separation directory (Debian: /run/sshd), made by its init script,
        // which never runs here.
        if access("/run/sshd", F_OK) != 0 { mkdir("/run/sshd", 0o755) }

        var lastError = ""
        for _ in 0..<5 {
            port = try Self.freePort()
            try write("\(dir)/sshd_config", """
                Port \(port)
                ListenAddress 127.0.0.1
                HostKey \(dir)/host
                PidFile none
                AuthorizedKeysFile \(dir)/authorized_keys
                StrictModes no
                UsePAM no
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                PrintMotd no
                PrintLastLog no
                LogLevel ERROR

                """)
            let log = open("\(dir)/sshd.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            defer { close(log) }
            pid = try Processes.spawn([Self.sshd, "-D", "-e", "-f", "\(dir)/sshd_config"]) {
                $0.executable = Self.sshd
                $0.environment = Processes.defaultEnvironment()
                $0.fileDescriptors = [(1, log), (2, log)]
            }
            if waitUntil(timeout: 10, { self.accepts() || Processes.isGone(self.pid) }), accepts() { return }
            lastError = Files.read("\(dir)/sshd.log") ?? ""
            Processes.killAndReap(pid)
            pid = -1
        }
        Issue.record("sshd did not start: \(lastError)")
        throw Errno(ECONNREFUSED)
    }

    /// `ssh -tt` into the server as a login shell (no command: sshd runs the user's shell as
    /// `-bash`).
    var clientArgv: [String] {
        ["/usr/bin/ssh", "-tt", "-i", "\(dir)/user", "-p", String(port),
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
         "-o", "LogLevel=ERROR", "-F", "/dev/null", "root@127.0.0.1"]
    }

    /// SIGKILL to the listener and every sshd process below it (by pid, found in /proc by
    /// parent), then reap what is ours.
    func stop() {
        guard pid > 0 else { TempDirectory.remove(dir); return }
        var all: [Int32] = [pid]
        if let reader = try? SnapshotReader() {
            let snap = reader.snapshot(options: ScanOptions(details: .only([])))
            var queue = [pid]
            while let p = queue.popLast() {
                for c in snap.children[p] ?? [] where snap.processes[c]?.commText.hasPrefix("sshd") == true {
                    all.append(c); queue.append(c)
                }
            }
        }
        for p in all.reversed() { _ = kill(p, SIGKILL) }
        for p in all { Processes.reap(p, within: 2) }
        pid = -1
        TempDirectory.remove(dir)
    }

    func accepts() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = Self.loopback(port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// A port the kernel just handed out on 127.0.0.1 (bind to port 0, read it back).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Errno.current }
        defer { close(fd) }
        var addr = loopback(0)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Errno.current }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let got = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard got == 0 else { throw Errno.current }
        return UInt16(bigEndian: addr.sin_port)
    }

    static func loopback(_ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return a
    }

    private func write(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw Errno.current }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
