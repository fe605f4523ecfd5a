import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// `sessiontop signal` as a program: one line per result, non-zero exit on any failure.
@Suite struct ActionsSignalCLITests {
    @Test func sendsByNameAndReportsIt() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        let r = try Processes.runSessiontop(["signal", "-s", "SIGUSR1", "--pid", "\(pid)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "sent SIGUSR1 to pid \(pid) (sleep 30)\n")
        #expect(Processes.termSignal(Processes.reap(pid, within: 3)) == SIGUSR1)
    }

    @Test func aStaleStartTimeIsRefusedAndTheProcessUntouched() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        let p = try #require(try SnapshotReader().readProcess(pid))
        let r = try Processes.runSessiontop(["signal", "-s", "KILL", "--pid", "\(pid)", "--start-time", "\(p.startTime + 7)"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "sessiontop: pid \(pid): refused: the pid was recycled (start time \(p.startTime), expected \(p.startTime + 7)); nothing sent\n")
        #expect(Processes.reap(pid, within: 0.05) == nil)
        // The right start time goes through.
        let ok = try Processes.runSessiontop(["signal", "-s", "KILL", "--pid", "\(pid)", "--start-time", "\(p.startTime)"])
        #expect(ok.status == 0)
        #expect(Processes.termSignal(Processes.reap(pid, within: 3)) == SIGKILL)
    }

    @Test func errorsAreOneLineAndNonZero() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        let startTime = try #require(try SnapshotReader().readProcess(pid)).startTime
        Processes.killAndReap(pid)
        let gone = try Processes.runSessiontop(["signal", "--pid", "\(pid)", "--start-time", "\(startTime)"])
        #expect(gone.status == 1)
        #expect(gone.stderr.hasPrefix("sessiontop: pid \(pid)") && gone.stderr.hasSuffix("no such process (it has exited)\n"))
        let initRefused = try Processes.runSessiontop(["signal", "-s", "0", "--pid", "1"])
        #expect(initRefused.status == 1 && initRefused.stderr == "sessiontop: refusing to signal pid 1 (init) without --force\n")
        let kthread = try Processes.runSessiontop(["signal", "-s", "0", "--pid", "2"])
        #expect(kthread.status == 1 && kthread.stderr == "sessiontop: refusing to signal kernel thread 2 without --force\n")
        let badName = try Processes.runSessiontop(["signal", "-s", "SIGNOPE", "--pid", "1"])
        #expect(badName.status == 64 && badName.stderr == "sessiontop: unknown signal: SIGNOPE\n")
        let twoTargets = try Processes.runSessiontop(["signal", "--pid", "1", "--sid", "1"])
        #expect(twoTargets.status == 64 && twoTargets.stderr == "sessiontop: give exactly one of --pid, --pgid, --sid\n")
        let noGroup = try Processes.runSessiontop(["signal", "--pgid", "999999"])
        #expect(noGroup.status == 1 && noGroup.stderr == "sessiontop: no such process group or session\n")
    }

    @Test func permissionDeniedForAnotherUsersProcess() throws {
        try #require(geteuid() == 0, "needs root to run the binary as nobody")
        let nobody = try #require(Daemonizer.lookUpUser("nobody"))
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        // Run sessiontop itself as nobody against root's sleep.
        let r = try Processes.runSessiontop(["signal", "-s", "TERM", "--pid", "\(pid)"],
                                            user: (nobody.uid, nobody.gid, nobody.groups), workingDirectory: "/")
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: pid \(pid) (sleep 30): permission denied\n")
        #expect(Processes.reap(pid, within: 0.05) == nil)
    }

    @Test func aWholeGroupWithJSON() throws {
        let leader = try Processes.spawn(["sleep", "30"]) { $0.processGroup = 0 }
        defer { Processes.killAndReap(leader) }
        let other = try Processes.spawn(["sleep", "31"]) { $0.processGroup = leader }
        defer { Processes.killAndReap(other) }
        let r = try Processes.runSessiontop(["signal", "-s", "HUP", "--pgid", "\(leader)", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("{\"signal\":1,\"name\":\"SIGHUP\",\"target\":{\"kind\":\"group\",\"pgid\":\(leader)},\"refused\":null,\"ok\":true,"))
        #expect(r.stdout.contains("\"pid\":\(leader),") && r.stdout.contains("\"pid\":\(other),"))
        #expect(Processes.termSignal(Processes.reap(leader, within: 3)) == SIGHUP)
        #expect(Processes.termSignal(Processes.reap(other, within: 3)) == SIGHUP)
    }
}
