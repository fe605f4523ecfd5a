import Testing
import Glibc
@testable import SessionCore

/// `sessiontop daemonize` run as a program; the daemon checked through sessiontop's own snapshot.
@Suite struct ActionsDaemonizeTests {
    @Test func daemonizedSleepIsARealDaemon() throws {
        E2E.becomeSubreaper()
        let dir = E2E.tempDir()
        defer { E2E.removeTree(dir) }
        let r = E2E.run(["daemonize", "-c", dir, "-m", "027", "-p", dir + "/d.pid", "-l", dir + "/d.lock",
                         "-o", dir + "/d.out", "-E", "GREETING=hello there", "--", "sleep", "60"])
        #expect(r.status == 0, "\(r.stderr)")
        let pid = try #require(Int32(r.stdout.filter { $0.isNumber }))
        defer { E2E.killAndReap(pid) }
        #expect(r.stdout == "\(pid)\n")
        #expect(E2E.readFile(dir + "/d.pid") == "\(pid)\n")

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
        E2E.becomeSubreaper()
        let dir = E2E.tempDir()
        defer { E2E.removeTree(dir) }
        let lock = dir + "/lock"
        let first = E2E.run(["daemonize", "-l", lock, "-p", lock, "--", "sleep", "60"])
        #expect(first.status == 0, "\(first.stderr)")
        let pid = try #require(Int32(first.stdout.filter { $0.isNumber }))
        defer { E2E.killAndReap(pid) }
        // While it runs: refused, and the pidfile (same file) is left alone.
        let second = E2E.run(["daemonize", "-l", lock, "-p", lock, "--", "sleep", "60"])
        #expect(second.status != 0)
        #expect(second.stdout.isEmpty)
        #expect(second.stderr == "sessiontop: \(lock) is locked: another instance is running\n")
        #expect(E2E.readFile(lock) == "\(pid)\n")
        // After it dies, the lock is free again.
        E2E.killAndReap(pid)
        let third = E2E.run(["daemonize", "-l", lock, "--", "sleep", "60"])
        #expect(third.status == 0, "\(third.stderr)")
        if let p3 = Int32(third.stdout.filter { $0.isNumber }) { E2E.killAndReap(p3) }
    }

    @Test func execFailureIsReported() throws {
        let dir = E2E.tempDir()
        defer { E2E.removeTree(dir) }
        let r = E2E.run(["daemonize", "-p", dir + "/p", "--", dir + "/no-such-program", "x"])
        #expect(r.status == 127)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "sessiontop: cannot run \(dir)/no-such-program: No such file or directory\n")
        #expect(E2E.readFile(dir + "/p") == nil)
        // A program that exists but cannot be exec'd: the errno comes back over the pipe.
        let script = dir + "/noexec.sh"
        close(open(script, O_CREAT | O_WRONLY, 0o644))
        let r2 = E2E.run(["daemonize", "--", script])
        #expect(r2.status != 0)
        #expect(r2.stderr.hasPrefix("sessiontop: cannot run \(script): Permission denied"))
        let r3 = E2E.run(["daemonize", "-c", dir + "/missing", "--", "sleep", "1"])
        #expect(r3.status != 0)
        #expect(r3.stderr == "sessiontop: cannot change directory for sleep: No such file or directory\n")
    }

    @Test func userNobodyDropsEveryId() throws {
        E2E.becomeSubreaper()
        try #require(geteuid() == 0, "needs root")
        let nobody = try #require(Daemonizer.lookUpUser("nobody"))
        let r = E2E.run(["daemonize", "-u", "nobody", "--", "sleep", "60"])
        #expect(r.status == 0, "\(r.stderr)")
        let pid = try #require(Int32(r.stdout.filter { $0.isNumber }))
        defer { E2E.killAndReap(pid) }
        let uid = String(nobody.uid), gid = String(nobody.gid)
        #expect(E2E.statusLine(pid, "Uid") == [uid, uid, uid, uid])
        #expect(E2E.statusLine(pid, "Gid") == [gid, gid, gid, gid])
        let groups = E2E.statusLine(pid, "Groups") ?? ["?"]
        #expect(Set(groups) == Set(nobody.groups.map(String.init)))
        #expect(!groups.contains("0"))
        let env = try SnapshotReader().environment(of: pid).value?.map { SafeText.display($0) } ?? []
        #expect(env.contains("USER=nobody") && env.contains("LOGNAME=nobody") && env.contains("HOME=\(nobody.home)"))
        let bad = E2E.run(["daemonize", "-u", "no-such-user-xyz", "--", "sleep", "1"])
        #expect(bad.status != 0 && bad.stderr == "sessiontop: no such user: no-such-user-xyz\n")
    }

    @Test func symlinkedPidAndLockFilesAreRefused() throws {
        let dir = E2E.tempDir()
        defer { E2E.removeTree(dir) }
        symlink(dir + "/victim", dir + "/pid-link")
        let r = E2E.run(["daemonize", "-p", dir + "/pid-link", "--", "sleep", "60"])
        #expect(r.status != 0)
        #expect(r.stderr == "sessiontop: refusing to open \(dir)/pid-link: it is a symbolic link\n")
        let r2 = E2E.run(["daemonize", "-l", dir + "/pid-link", "--", "sleep", "60"])
        #expect(r2.status != 0 && r2.stderr.contains("symbolic link"))
        // Nothing was created through the link, and no daemon started.
        #expect(E2E.readFile(dir + "/victim") == nil)
        #expect(r.stdout.isEmpty && r2.stdout.isEmpty)
        let bad = E2E.run(["daemonize", "-E", "NOEQUALS", "--", "sleep", "1"])
        #expect(bad.status != 0 && bad.stderr == "sessiontop: bad environment setting 'NOEQUALS': expected NAME=VALUE\n")
        let badMask = E2E.run(["daemonize", "-m", "9x", "--", "sleep", "1"])
        #expect(badMask.status != 0 && badMask.stderr.hasPrefix("sessiontop: bad umask"))
    }
}

extension ActionsDaemonizeTests {
    /// -o and -e to one file with -a: both streams land there, and a second run appends.
    @Test func appendSharesOneFileForBothStreams() throws {
        E2E.becomeSubreaper()
        let dir = E2E.tempDir()
        defer { E2E.removeTree(dir) }
        let log = dir + "/both.log"
        for i in 1...2 {
            let r = E2E.run(["daemonize", "-a", "-o", log, "-e", log, "--", "/bin/sh", "-c", "echo out\(i); echo err\(i) >&2"])
            #expect(r.status == 0, "\(r.stderr)")
            if let pid = Int32(r.stdout.filter { $0.isNumber }) { E2E.reapWithin(pid, seconds: 3) }
        }
        #expect(E2E.waitUntil { E2E.readFile(log) == "out1\nerr1\nout2\nerr2\n" })
        // Without -a the file starts over.
        let r = E2E.run(["daemonize", "-o", log, "--", "/bin/sh", "-c", "echo fresh"])
        if let pid = Int32(r.stdout.filter { $0.isNumber }) { E2E.reapWithin(pid, seconds: 3) }
        #expect(E2E.waitUntil { E2E.readFile(log) == "fresh\n" })
    }

    /// -u is refused to a caller that is not root.
    @Test func switchingUserNeedsRoot() throws {
        try #require(geteuid() == 0, "needs root to run the binary as nobody")
        let nobody = try #require(Daemonizer.lookUpUser("nobody"))
        let r = E2E.runAs(nobody, ["daemonize", "-u", "root", "--", "sleep", "1"])
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: -u needs root: only root can switch to another user\n")
    }
}
