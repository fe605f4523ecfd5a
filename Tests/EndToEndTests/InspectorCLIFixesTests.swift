import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// Issue 11's one-line fixes, each run as a user would type it.
@Suite struct InspectorCLIFixesTests {
    @Test func versionComesFromTheOnePlace() throws {
        let r = try Processes.runSessiontop(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout == SessiontopVersion.number + "\n")
    }

    @Test func daemonizeNamesTheDirectoryAndPrintsTheUmaskInOctal() throws {
        Processes.becomeSubreaper()
        let bad = try Processes.runSessiontop(["daemonize", "-c", "/nonexistent-st11", "--", "/bin/true"])
        #expect(bad.status != 0)
        #expect(bad.stderr == "sessiontop: cannot change directory to /nonexistent-st11 for /bin/true: No such file or directory\n")
        let dir = try TempDirectory.make("fixes")
        defer { TempDirectory.remove(dir) }
        let v = try Processes.runSessiontop(["daemonize", "-v", "-m", "027", "-c", dir, "--", "sleep", "30"])
        #expect(v.status == 0, "\(v.stderr)")
        if let pid = Int32(v.stdout.filter(\.isNumber)) { Processes.killAndReap(pid) }
        #expect(v.stderr.contains("umask 0027"), "\(v.stderr)")
    }

    @Test func snapshotForAUserWithNothingIsAnError() throws {
        // A uid nobody has: no such user.
        var uid: UInt32 = 54321
        while getpwuid(uid) != nil { uid += 1 }
        let r = try Processes.runSessiontop(["snapshot", "--user", "\(uid)"])
        #expect(r.status == 1 && r.stdout.isEmpty)
        #expect(r.stderr == "sessiontop: no such user: uid \(uid)\n")
        // A real user with no process in the fixture: nothing matched.
        let none = try Processes.runSessiontop(["snapshot", "--user", "root", "--proc-root", PackagePaths.fixtures + "/basic", "--sid", "100"])
        #expect(none.status == 1 && none.stdout.isEmpty)
        #expect(none.stderr == "sessiontop: nothing matched: no process of user root here\n")
    }

    @Test func snapshotScopesConflict() throws {
        let r = try Processes.runSessiontop(["snapshot", "--pid", "1", "--sid", "2"])
        #expect(r.status == 64 && r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("sessiontop: --pid and --sid conflict: give at most one of --pid, --sid, --tty"))
    }

    @Test func signalTakesADashedNumberAndProbesWithZero() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        let probe = try Processes.runSessiontop(["signal", "-s", "0", "--pid", "\(pid)"])
        #expect(probe.status == 0, "\(probe.stderr)")
        #expect(probe.stdout == "pid \(pid) (sleep 30) exists\n")
        #expect(Processes.reap(pid, within: 0.05) == nil)
        let kill = try Processes.runSessiontop(["signal", "-s", "-9", "--pid", "\(pid)"])
        #expect(kill.status == 0, "\(kill.stderr)")
        #expect(kill.stdout == "sent SIGKILL to pid \(pid) (sleep 30)\n")
        #expect(Processes.termSignal(Processes.reap(pid, within: 3)) == SIGKILL)
        let other = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(other) }
        let named = try Processes.runSessiontop(["signal", "--signal", "-USR1", "--pid", "\(other)"])
        #expect(named.stdout == "sent SIGUSR1 to pid \(other) (sleep 30)\n")
        #expect(Processes.termSignal(Processes.reap(other, within: 3)) == SIGUSR1)
    }

    @Test func hangupBadEventIsAUsageError() throws {
        let r = try Processes.runSessiontop(["hangup", "--event", "bogus"])
        #expect(r.status == 64)
        #expect(r.stderr == "sessiontop: unknown event 'bogus': use hangup, leader-exit or logout\n")
    }

    @Test func inspectorScopesCheckTheirInput() throws {
        let cases: [([String], String)] = [
            (["-p", "12,abc"], "sessiontop: bad pid in -p: 'abc' (comma-separated pids, e.g. -p 1200,1300)\n"),
            (["-p", ""], "sessiontop: bad pid in -p: '' (comma-separated pids, e.g. -p 1200,1300)\n"),
            (["-u", "no-such-user-st11"], "sessiontop: no user named no-such-user-st11\n"),
            (["--sid", "0"], "sessiontop: bad session id: 0\n"),
        ]
        for (args, expected) in cases {
            let r = try Processes.runSessiontop(args)
            #expect(r.status == 64 && r.stderr == expected, "\(args): \(r.stderr)")
        }
        // Good input, but no terminal: the usual one line.
        let ok = try Processes.runSessiontop(["-p", "1", "--readonly", "-u", "root"])
        #expect(ok.status == 1 && ok.stderr.contains("sessiontop snapshot"))
    }

    @Test func relaunchReportsTheLogAbsolute() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        let dir = try TempDirectory.make("fixes")
        defer { TempDirectory.remove(dir) }
        let r = try Processes.runSessiontop(["relaunch", "\(pid)", "--dry-run", "--log", "rel.log"], workingDirectory: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("stdout+stderr >> \(dir)/rel.log"), "\(r.stdout)")
    }
}
