import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// Files a root sessiontop writes (pidfiles, lockfiles, -o/-e, relaunch logs) cannot be
/// redirected by another user (issue 10, items 4 and 6): each test plants what an attacker
/// (uid 65534) can plant in a sticky world-writable directory, then runs the binary as root.
@Suite struct HardeningFilesTests {
    static let nobody: UInt32 = 65534

    /// A sticky world-writable directory, like /tmp, inside a fresh temp directory.
    static func stickyDirectory(_ base: String) -> String {
        let d = base + "/shared"
        mkdir(d, 0o777)
        chmod(d, 0o1777)
        return d
    }

    static func put(_ path: String, _ text: String, mode: mode_t = 0o600, owner: UInt32? = nil) {
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode)
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress!, $0.count - 1) }
        if let owner { fchown(fd, owner, owner) }
        close(fd)
    }

    /// A symlink at `path` to `target`, owned by uid 65534 (as if that user made it).
    static func plantLink(_ path: String, to target: String) {
        symlink(target, path)
        lchown(path, nobody, nobody)
    }

    /// Kills a daemon a failing run started (its pid is the only output of `daemonize`).
    static func reapStarted(_ r: Processes.Output) {
        if let pid = Int32(r.stdout.filter { $0.isNumber }) { Processes.killAndReap(pid) }
    }

    /// Processes running exactly `argv` now.
    static func running(_ argv: [String]) -> [Int32] {
        guard let snap = try? SnapshotReader().snapshot() else { return [] }
        return snap.processes.values.filter {
            !$0.state.isGone && $0.argv.value?.map { SafeText.display($0) } == argv
        }.map(\.pid)
    }

    // MARK: daemonize (item 6)

    /// A FIFO planted as the pidfile: refused at once instead of blocking forever in open(2).
    @Test func pidfileOnAFIFOIsRefusedWithoutBlocking() throws {
        let dir = try TempDirectory.make("harden")
        defer { TempDirectory.remove(dir) }
        let shared = Self.stickyDirectory(dir)
        mkfifo(shared + "/d.pid", 0o666)
        let started = monotonicSeconds()
        let r = try Processes.run([PackagePaths.binary, "daemonize", "-p", shared + "/d.pid", "--", "sleep", "60"], timeout: 10)
        defer { Self.reapStarted(r) }
        #expect(monotonicSeconds() - started < 5)
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: refusing to use \(shared)/d.pid: not a regular file\n")
        #expect(r.stdout.isEmpty)
    }

    /// A symlinked parent directory planted by another user is not followed into a directory
    /// that user does not own.
    @Test func pidfileThroughAnotherUsersDirectorySymlinkIsRefused() throws {
        let dir = try TempDirectory.make("harden")
        defer { TempDirectory.remove(dir) }
        let shared = Self.stickyDirectory(dir)
        let victim = dir + "/etc"
        mkdir(victim, 0o755)
        Self.plantLink(shared + "/run", to: victim)
        let r = try Processes.runSessiontop(["daemonize", "-p", shared + "/run/d.pid", "--", "sleep", "60"])
        defer { Self.reapStarted(r) }
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: refusing to follow \(shared)/run: a symbolic link owned by uid 65534 into \(victim), which uid 65534 does not own\n")
        #expect(access(victim + "/d.pid", F_OK) != 0)
        #expect(r.stdout.isEmpty)
    }

    /// A pidfile with a second name (a hard link to someone's file) is refused; the file is intact.
    @Test func hardLinkedPidfileIsRefused() throws {
        let dir = try TempDirectory.make("harden")
        defer { TempDirectory.remove(dir) }
        Self.put(dir + "/shadow", "secret\n")
        link(dir + "/shadow", dir + "/d.pid")
        let r = try Processes.runSessiontop(["daemonize", "-p", dir + "/d.pid", "--", "sleep", "60"])
        defer { Self.reapStarted(r) }
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: refusing to use \(dir)/d.pid: it has 2 hard links\n")
        #expect(Files.read(dir + "/shadow") == "secret\n")
    }

    /// A pidfile another user created in a sticky directory is refused; one the -u user owns is used.
    @Test func pidfileOwnedByAnotherUserInAStickyDirectory() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("harden")
        defer { TempDirectory.remove(dir) }
        let shared = Self.stickyDirectory(dir)
        Self.put(shared + "/d.pid", "planted\n", mode: 0o666, owner: Self.nobody)
        let r = try Processes.runSessiontop(["daemonize", "-p", shared + "/d.pid", "--", "sleep", "60"])
        defer { Self.reapStarted(r) }
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: refusing to use \(shared)/d.pid: it belongs to uid 65534 and its directory is writable by others\n")
        #expect(Files.read(shared + "/d.pid") == "planted\n")
        // The same file for a daemon that runs as its owner: theirs to use.
        let ok = try Processes.runSessiontop(["daemonize", "-u", "nobody", "-p", shared + "/d.pid", "--", "sleep", "60"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let pid = try #require(Int32(ok.stdout.filter { $0.isNumber }))
        defer { Processes.killAndReap(pid) }
        #expect(Files.read(shared + "/d.pid") == "\(pid)\n")
    }

    /// -o and -e never follow a planted symlink (and never truncate what it points at).
    @Test func outputFilesDoNotFollowSymlinks() throws {
        let dir = try TempDirectory.make("harden")
        defer { TempDirectory.remove(dir) }
        let shared = Self.stickyDirectory(dir)
        Self.put(dir + "/important", "keep me\n")
        Self.plantLink(shared + "/out", to: dir + "/important")
        for flag in ["-o", "-e"] {
            let r = try Processes.runSessiontop(["daemonize", flag, shared + "/out", "--", "sleep", "60"])
            defer { Self.reapStarted(r) }
            #expect(r.status == 1, "\(flag)")
            #expect(r.stderr == "sessiontop: refusing to open \(shared)/out: it is a symbolic link\n", "\(flag)")
            #expect(r.stdout.isEmpty)
        }
        #expect(Files.read(dir + "/important") == "keep me\n")
    }

    // MARK: relaunch (item 4)

    /// Root with HOME and XDG_STATE_HOME unset (and a target without them): the log goes under
    /// root's home from the password entry, never /tmp; it is new, 0600, in a 0700 directory.
    @Test func relaunchLogWithoutHomeIsNotUnderTmp() throws {
        Processes.becomeSubreaper()
        let argv = ["sleep", "1004.\(TextScan.uniqueNumber())"]
        let pid = try Processes.spawn(argv) { $0.environment = ["PATH=/usr/bin:/bin"] }
        defer { Processes.killAndReap(pid) }
        let r = try Processes.run([PackagePaths.binary, "relaunch", "\(pid)", "--yes", "--json", "--keep"],
                                  environment: ["PATH=/usr/bin:/bin", "SWIFT_BACKTRACE=interactive=no"])
        #expect(r.status == 0, "\(r.stderr)")
        let newPid = TextScan.jsonInt(r.stdout, "new_pid")
        defer { if let n = newPid { Processes.killAndReap(n) } }
        let home = try #require(Daemonizer.lookUpUser("0")?.home)
        let log = r.stdout.firstRange(of: "\"log\":\"").map { String(r.stdout[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
        defer { unlink(log) }
        #expect(log.hasPrefix(home + "/.local/state/sessiontop/sleep-\(pid)-"), "\(log)")
        #expect(!log.hasPrefix("/tmp/"))
        var st = stat()
        #expect(lstat(log, &st) == 0 && st.st_mode & S_IFMT == S_IFREG && st.st_mode & 0o777 == 0o600 && st.st_uid == 0)
        #expect(stat(home + "/.local/state/sessiontop", &st) == 0 && st.st_mode & 0o077 == 0)
    }

    /// A target whose HOME is a world-writable directory: nothing is created there.
    @Test func relaunchLogRefusesAWorldWritableHome() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.makePrivate("harden")
        defer { TempDirectory.remove(dir) }
        let shared = Self.stickyDirectory(dir)
        let argv = ["sleep", "1005.\(TextScan.uniqueNumber())"]
        let pid = try Processes.spawn(argv) { $0.environment = ["PATH=/usr/bin:/bin", "HOME=\(shared)"] }
        defer { Processes.killAndReap(pid) }
        let r = try Processes.runSessiontop(["relaunch", "\(pid)", "--yes", "--keep"])
        let started = Self.running(argv).filter { $0 != pid }
        defer { for p in started { Processes.killAndReap(p) } }
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: refusing to write in \(shared): it is writable by everyone\n")
        #expect(started.isEmpty)
        #expect(access(shared + "/.local", F_OK) != 0)
    }

    /// --log naming a symlink another user planted to a root-owned 0600 file: refused, the file
    /// is untouched and nothing is started.
    @Test func relaunchLogDoesNotFollowAPlantedSymlink() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("harden")
        defer { TempDirectory.remove(dir) }
        let shared = Self.stickyDirectory(dir)
        Self.put(dir + "/secret", "root only\n")
        Self.plantLink(shared + "/job.log", to: dir + "/secret")
        let argv = ["sleep", "1006.\(TextScan.uniqueNumber())"]
        let pid = try Processes.spawn(argv)
        defer { Processes.killAndReap(pid) }
        let r = try Processes.runSessiontop(["relaunch", "\(pid)", "--yes", "--keep", "--log", shared + "/job.log"])
        let started = Self.running(argv).filter { $0 != pid }
        defer { for p in started { Processes.killAndReap(p) } }
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: refusing to open \(shared)/job.log: it is a symbolic link\n")
        #expect(started.isEmpty)
        #expect(Files.read(dir + "/secret") == "root only\n")
    }
}
