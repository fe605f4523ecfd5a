import Testing
import Glibc
import TestSupport
@testable import SessionCore

@Suite struct SpawnTests {
    @Test func execFailureComesBackAsError() {
        var r = SpawnRequest(["/nonexistent/program", "x"])
        r.fileDescriptors = [(0, nil), (1, 1), (2, 2)]
        #expect(throws: SpawnError.self) { try Spawner.spawn(r) }
        do { _ = try Spawner.spawn(r) } catch {
            #expect(error.stage == .exec)
            #expect(error.errno == Errno(ENOENT))
        }
    }

    @Test func childRunsInNewSessionWithUmaskAndCwd() throws {
        var r = SpawnRequest(["sleep", "30"])
        r.newSession = true
        r.umask = 0o027
        r.workingDirectory = "/tmp"
        let pid = try Spawner.spawn(r)
        defer { Processes.killAndReap(pid) }
        #expect(getsid(pid) == pid)
        let reader = try SnapshotReader()
        let p = try #require(reader.readProcess(pid))
        #expect(p.umask == .known(0o027))
        #expect(p.cwdText == "/tmp")
        #expect(p.sid == pid)
    }

    @Test func daemonIsNotALeaderAndHasNoTTY() throws {
        var r = SpawnRequest(["sleep", "30"])
        r.daemon = true
        Processes.becomeSubreaper()  // pid 1 does not reap here: reparent the daemon to us, reap it
        let pid = try Spawner.spawn(r)
        defer { Processes.killAndReap(pid) }
        let sid = getsid(pid)
        #expect(sid != pid)
        #expect(sid != getsid(0))
        let reader = try SnapshotReader()
        let p = try #require(reader.readProcess(pid))
        #expect(p.ttyDevice == 0)
        #expect(!p.isSessionLeader)
    }
}

extension SpawnTests {
    /// A daemon whose exec fails is reaped by the intermediate child (st_spawn relays its
    /// result): no zombie is left to a pid 1 that does not reap.
    @Test func failedDaemonLeavesNoZombie() throws {
        var r = SpawnRequest(["sleep", "1"])
        r.daemon = true
        r.workingDirectory = "/nonexistent-\(UInt32.random(in: 1...999_999))"
        var failed: SpawnError?
        do { _ = try Spawner.spawn(r) } catch { failed = error }
        let error = try #require(failed)
        #expect(error.stage == .chdir)
        let pid = try #require(error.pid)
        // Reaped before spawn returned: the pid names no process (not even a zombie).
        #expect(try SnapshotReader().readProcess(pid) == nil)
    }
}

extension SpawnTests {
    /// A child that fills both its stdout and stderr pipes (more than a pipe buffer each) is
    /// read to the end on both: `Pipes.drain` polls them together, so nobody blocks.
    @Test func bothPipesAreDrainedTogether() throws {
        let r = try Processes.run(["sh", "-c", "head -c 200000 /dev/zero; head -c 150000 /dev/zero >&2; exit 3"])
        #expect(r.status == 3)
        #expect(r.stdout.utf8.count == 200_000)
        #expect(r.stderr.utf8.count == 150_000)
    }
}

extension SpawnTests {
    /// beforeExec runs while the target waits just before its exec (its exe is still ours); a
    /// no cancels it: the program never runs and nothing is left to reap.
    @Test func gatedSpawnRunsOnlyAfterTheGo() throws {
        Processes.becomeSubreaper()
        let ownExe = try #require(SnapshotReader().readProcess(getpid())?.exe.value)
        for daemon in [false, true] {
            var r = SpawnRequest(["sleep", "30"])
            r.daemon = daemon
            var seen: Int32 = 0
            var exeAtGate: [UInt8]?
            let pid = try Spawner.spawn(r) { pid in
                seen = pid
                exeAtGate = try? SnapshotReader().readProcess(pid)?.exe.value
                return true
            }
            defer { Processes.killAndReap(pid) }
            #expect(pid == seen)
            #expect(exeAtGate == ownExe, "not exec'd yet at the gate")
            #expect(waitUntil { (try? SnapshotReader().readProcess(pid)?.commText) == "sleep" })

            var cancelled: Int32 = 0
            #expect(throws: SpawnError.self) { try Spawner.spawn(r) { cancelled = $0; return false } }
            do { _ = try Spawner.spawn(r) { _ in false } } catch {
                #expect(error.stage == .cancelled && error.errno == Errno(ECANCELED))
            }
            #expect(cancelled > 0)
            #expect(waitUntil { Processes.isGone(cancelled) || Processes.reap(cancelled, within: 0.01) != nil })
        }
    }
}
