import Testing
import Glibc
import CSessionShims
@testable import SessionCore

/// `sessiontop signal` as a program: one line per result, non-zero exit on any failure.
@Suite struct ActionsSignalCLITests {
    @Test func sendsByNameAndReportsIt() throws {
        let pid = try E2E.spawn(["sleep", "30"])
        defer { E2E.killAndReap(pid) }
        let r = E2E.run(["signal", "-s", "SIGUSR1", "--pid", "\(pid)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "sent SIGUSR1 to pid \(pid) (sleep 30)\n")
        #expect(E2E.termSignal(E2E.reapWithin(pid, seconds: 3)) == SIGUSR1)
    }

    @Test func aStaleStartTimeIsRefusedAndTheProcessUntouched() throws {
        let pid = try E2E.spawn(["sleep", "30"])
        defer { E2E.killAndReap(pid) }
        let p = try #require(try SnapshotReader().readProcess(pid))
        let r = E2E.run(["signal", "-s", "KILL", "--pid", "\(pid)", "--start-time", "\(p.startTime + 7)"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "sessiontop: pid \(pid): refused: the pid was recycled (start time \(p.startTime), expected \(p.startTime + 7)); nothing sent\n")
        #expect(E2E.reapWithin(pid, seconds: 0.05) == nil)
        // The right start time goes through.
        let ok = E2E.run(["signal", "-s", "KILL", "--pid", "\(pid)", "--start-time", "\(p.startTime)"])
        #expect(ok.status == 0)
        #expect(E2E.termSignal(E2E.reapWithin(pid, seconds: 3)) == SIGKILL)
    }

    @Test func errorsAreOneLineAndNonZero() throws {
        let pid = try E2E.spawn(["sleep", "30"])
        let startTime = try #require(try SnapshotReader().readProcess(pid)).startTime
        E2E.killAndReap(pid)
        let gone = E2E.run(["signal", "--pid", "\(pid)", "--start-time", "\(startTime)"])
        #expect(gone.status == 1)
        #expect(gone.stderr.hasPrefix("sessiontop: pid \(pid)") && gone.stderr.hasSuffix("no such process (it has exited)\n"))
        let initRefused = E2E.run(["signal", "-s", "0", "--pid", "1"])
        #expect(initRefused.status == 1 && initRefused.stderr == "sessiontop: refusing to signal pid 1 (init) without --force\n")
        let kthread = E2E.run(["signal", "-s", "0", "--pid", "2"])
        #expect(kthread.status == 1 && kthread.stderr == "sessiontop: refusing to signal kernel thread 2 without --force\n")
        let badName = E2E.run(["signal", "-s", "SIGNOPE", "--pid", "1"])
        #expect(badName.status == 1 && badName.stderr == "sessiontop: unknown signal: SIGNOPE\n")
        let twoTargets = E2E.run(["signal", "--pid", "1", "--sid", "1"])
        #expect(twoTargets.status == 1 && twoTargets.stderr == "sessiontop: give exactly one of --pid, --pgid, --sid\n")
        let noGroup = E2E.run(["signal", "--pgid", "999999"])
        #expect(noGroup.status == 1 && noGroup.stderr == "sessiontop: no such process group or session\n")
    }

    @Test func permissionDeniedForAnotherUsersProcess() throws {
        try #require(geteuid() == 0, "needs root to run the binary as nobody")
        let nobody = try #require(Daemonizer.lookUpUser("nobody"))
        let pid = try E2E.spawn(["sleep", "30"])
        defer { E2E.killAndReap(pid) }
        // Run sessiontop itself as nobody against root's sleep.
        let r = E2E.runAs(nobody, ["signal", "-s", "TERM", "--pid", "\(pid)"])
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: pid \(pid) (sleep 30): permission denied\n")
        #expect(E2E.reapWithin(pid, seconds: 0.05) == nil)
    }

    @Test func aWholeGroupWithJSON() throws {
        let leader = try E2E.spawn(["sleep", "30"]) { $0.processGroup = 0 }
        defer { E2E.killAndReap(leader) }
        let other = try E2E.spawn(["sleep", "31"]) { $0.processGroup = leader }
        defer { E2E.killAndReap(other) }
        let r = E2E.run(["signal", "-s", "HUP", "--pgid", "\(leader)", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("{\"signal\":1,\"name\":\"SIGHUP\",\"target\":{\"kind\":\"group\",\"pgid\":\(leader)},\"refused\":null,\"ok\":true,"))
        #expect(r.stdout.contains("\"pid\":\(leader),") && r.stdout.contains("\"pid\":\(other),"))
        #expect(E2E.termSignal(E2E.reapWithin(leader, seconds: 3)) == SIGHUP)
        #expect(E2E.termSignal(E2E.reapWithin(other, seconds: 3)) == SIGHUP)
    }
}
