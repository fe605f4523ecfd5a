import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// `sessiontop daemonize` run as a program; the daemon checked through sessiontop's own snapshot.
@Suite struct ActionsDaemonizeTests {
    @Test func daemonizedSleepIsARealDaemon() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let r = try Processes.runSessiontop(["daemonize", "-c", dir, "-m", "027", "-p", dir + "/d.pid", "-l", dir + "/d.lock",
                         "-o", dir + "/d.out", "-E", "GREETING=hello there", "--", "sleep", "60"])
        #expect(r.status == 0, "\(r.stderr)")
        let pid = try #require(Int32(r.stdout.filter { $0.isNumber }))
        defer { Processes.killAndReap(pid) }
        #expect(r.stdout == "\(pid)\n")
        #expect(Files.read(dir + "/d.pid") == "\(pid)\n")

        let snap = try SnapshotReader().snapshot()
        let p = try #require(snap.process(pid))
        #expect(p.argv.value?.map { SafeText.display($0) } == ["sleep", "60"])
        // Own session, not its leader (the double fork), no controlling terminal.
        #expect(p.sid != getsid(0))
        #expect(!p.isSessionLeader)
        #expect(p.ttyDevice == 0 && p.tty == nil)
        #expect(snap.session(p.sid)?.tty == nil)
        #expect(p.cwdText == dir)
        #expect(p.umask == .known(0o027))
        let fds = try #require(p.fds.value)
        #expect(fds.map(\.fd) == [0, 1, 2, 3])
        #expect(fds.map(\.targetText) == ["/dev/null", dir + "/d.out", "/dev/null", dir + "/d.lock"])
        let env = try SnapshotReader().environment(of: pid).value?.map { SafeText.display($0) } ?? []
        #expect(env.contains("GREETING=hello there"))
    }

    @Test func theLockIsHeldByTheDaemon() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let lock = dir + "/lock"
        let first = try Processes.runSessiontop(["daemonize", "-l", lock, "-p", lock, "--", "sleep", "60"])
        #expect(first.status == 0, "\(first.stderr)")
        let pid = try #require(Int32(first.stdout.filter { $0.isNumber }))
        defer { Processes.killAndReap(pid) }
        // While it runs: refused, and the pidfile (same file) is left alone.
        let second = try Processes.runSessiontop(["daemonize", "-l", lock, "-p", lock, "--", "sleep", "60"])
        #expect(second.status != 0)
        #expect(second.stdout.isEmpty)
        #expect(second.stderr == "sessiontop: \(lock) is locked: another instance is running\n")
        #expect(Files.read(lock) == "\(pid)\n")
        // After it dies, the lock is free again.
        Processes.killAndReap(pid)
        let third = try Processes.runSessiontop(["daemonize", "-l", lock, "--", "sleep", "60"])
        #expect(third.status == 0, "\(third.stderr)")
        if let p3 = Int32(third.stdout.filter { $0.isNumber }) { Processes.killAndReap(p3) }
    }

    @Test func execFailureIsReported() throws {
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let r = try Processes.runSessiontop(["daemonize", "-p", dir + "/p", "--", dir + "/no-such-program", "x"])
        #expect(r.status == 127)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "sessiontop: cannot run \(dir)/no-such-program: No such file or directory\n")
        #expect(Files.read(dir + "/p") == nil)
        // A program that exists but cannot be exec'd: the errno comes back over the pipe.
        let script = dir + "/noexec.sh"
        close(open(script, O_CREAT | O_WRONLY, 0o644))
        let r2 = try Processes.runSessiontop(["daemonize", "--", script])
        #expect(r2.status != 0)
        #expect(r2.stderr.hasPrefix("sessiontop: cannot run \(script): Permission denied"))
        let r3 = try Processes.runSessiontop(["daemonize", "-c", dir + "/missing", "--", "sleep", "1"])
        #expect(r3.status != 0)
        #expect(r3.stderr == "sessiontop: cannot change directory to \(dir)/missing for sleep: No such file or directory\n")
    }

    @Test func userNobodyDropsEveryId() throws {
        Processes.becomeSubreaper()
        try #require(geteuid() == 0, "needs root")
        let nobody = try #require(Daemonizer.lookUpUser("nobody"))
        let r = try Processes.runSessiontop(["daemonize", "-u", "nobody", "--", "sleep", "60"])
        #expect(r.status == 0, "\(r.stderr)")
        let pid = try #require(Int32(r.stdout.filter { $0.isNumber }))
        defer { Processes.killAndReap(pid) }
        let uid = String(nobody.uid), gid = String(nobody.gid)
        #expect(Files.statusLine(pid, "Uid") == [uid, uid, uid, uid])
        #expect(Files.statusLine(pid, "Gid") == [gid, gid, gid, gid])
        let groups = Files.statusLine(pid, "Groups") ?? ["?"]
        #expect(Set(groups) == Set(nobody.groups.map(String.init)))
        #expect(!groups.contains("0"))
        let env = try SnapshotReader().environment(of: pid).value?.map { SafeText.display($0) } ?? []
        #expect(env.contains("USER=nobody") && env.contains("LOGNAME=nobody") && env.contains("HOME=\(nobody.home)"))
        let bad = try Processes.runSessiontop(["daemonize", "-u", "no-such-user-xyz", "--", "sleep", "1"])
        #expect(bad.status != 0 && bad.stderr == "sessiontop: no such user: no-such-user-xyz\n")
    }

    @Test func symlinkedPidAndLockFilesAreRefused() throws {
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        symlink(dir + "/victim", dir + "/pid-link")
        let r = try Processes.runSessiontop(["daemonize", "-p", dir + "/pid-link", "--", "sleep", "60"])
        #expect(r.status != 0)
        #expect(r.stderr == "sessiontop: refusing to open \(dir)/pid-link: it is a symbolic link\n")
        let r2 = try Processes.runSessiontop(["daemonize", "-l", dir + "/pid-link", "--", "sleep", "60"])
        #expect(r2.status != 0 && r2.stderr.contains("symbolic link"))
        // Nothing was created through the link, and no daemon started.
        #expect(Files.read(dir + "/victim") == nil)
        #expect(r.stdout.isEmpty && r2.stdout.isEmpty)
        let bad = try Processes.runSessiontop(["daemonize", "-E", "NOEQUALS", "--", "sleep", "1"])
        #expect(bad.status != 0 && bad.stderr == "sessiontop: bad environment setting 'NOEQUALS': expected NAME=VALUE\n")
        let badMask = try Processes.runSessiontop(["daemonize", "-m", "9x", "--", "sleep", "1"])
        #expect(badMask.status != 0 && badMask.stderr.hasPrefix("sessiontop: bad umask"))
    }
}

extension ActionsDaemonizeTests {
    /// -o and -e to one file with -a: both streams land there, and a second run appends.
    @Test func appendSharesOneFileForBothStreams() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let log = dir + "/both.log"
        for i in 1...2 {
            let r = try Processes.runSessiontop(["daemonize", "-a", "-o", log, "-e", log, "--", "/bin/sh", "-c", "echo out\(i); echo err\(i) >&2"])
            #expect(r.status == 0, "\(r.stderr)")
            if let pid = Int32(r.stdout.filter { $0.isNumber }) { Processes.reap(pid, within: 3) }
        }
        #expect(waitUntil { Files.read(log) == "out1\nerr1\nout2\nerr2\n" })
        // Without -a the file starts over.
        let r = try Processes.runSessiontop(["daemonize", "-o", log, "--", "/bin/sh", "-c", "echo fresh"])
        if let pid = Int32(r.stdout.filter { $0.isNumber }) { Processes.reap(pid, within: 3) }
        #expect(waitUntil { Files.read(log) == "fresh\n" })
    }

    /// -u is refused to a caller that is not root.
    @Test func switchingUserNeedsRoot() throws {
        try #require(geteuid() == 0, "needs root to run the binary as nobody")
        let nobody = try #require(Daemonizer.lookUpUser("nobody"))
        let r = try Processes.runSessiontop(["daemonize", "-u", "root", "--", "sleep", "1"],
                                            user: (nobody.uid, nobody.gid, nobody.groups), workingDirectory: "/")
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: -u needs root: only root can switch to another user\n")
    }
}

extension ActionsDaemonizeTests {
    /// -v says each step; the umask is printed as it is typed (0027), not as 27.
    @Test func verboseShowsTheUmaskInOctal() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let r = try Processes.runSessiontop(["daemonize", "-v", "-m", "027", "-c", dir, "-p", dir + "/v.pid", "--", "sleep", "30"])
        #expect(r.status == 0, "\(r.stderr)")
        let pid = try #require(Int32(r.stdout.filter { $0.isNumber }))
        defer { Processes.killAndReap(pid) }
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains("sessiontop: starting sleep 30 in \(dir), umask 0027"), "\(lines)")
        #expect(lines.contains("sessiontop: wrote \(dir)/v.pid"))
        #expect(lines.contains("sessiontop: daemon pid \(pid)"))
    }
}
