import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// The snapshot against the live kernel: real sessions, groups and a pty.
@Suite struct LiveSnapshotTests {
    @Test func everyFieldOfARealSessionMatchesTheKernel() throws {
        let dir = try TempDirectory.make("live")
        defer { TempDirectory.remove(dir) }
        let known = dir + "/known file.txt"
        let kfd = open(known, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        #expect(kfd >= 0)
        defer { close(kfd) }

        let pty = try PseudoTerminal()
        let slave = try pty.openSlave()
        defer { close(slave) }

        // A session leader (sh) on the pty with job control: two background jobs get
        // groups of their own; the leader's group stays in the foreground.
        var r = SpawnRequest(["sh", "-c", "set -m; sleep 7100$0 & sleep 7200$0 & wait", "\(getpid())"])
        r.newSession = true
        r.controllingTerminalFD = 0
        r.umask = 0o027
        r.workingDirectory = dir
        r.fileDescriptors = [(0, slave), (1, slave), (2, slave), (7, kfd)]
        let leader = try Spawner.spawn(r)
        var all = [leader]
        defer { for p in all { Processes.killAndReap(p) } }

        let reader = try SnapshotReader()
        var snap = reader.snapshot()
        #expect(waitUntil {
            snap = reader.snapshot()
            return snap.children[leader]?.count == 2
        })
        let kids = snap.children[leader] ?? []
        all += kids
        let session = try #require(snap.session(leader))
        #expect(session.tty == pty.name)
        #expect(session.leader == leader)
        #expect(session.foregroundPgid == leader)
        #expect(session.groups.map(\.pgid).sorted() == ([leader] + kids).sorted())
        for g in session.groups where g.pgid != leader {
            #expect(!g.isForeground)
            #expect(!g.isOrphaned)  // the parent sh is in the same session, another group
        }

        for pid in [leader] + kids {
            let p = try #require(snap.processes[pid])
            #expect(p.sid == getsid(pid))
            #expect(p.pgid == getpgid(pid))
            #expect(p.tpgid == leader)
            #expect(p.tty == pty.name)
            #expect(p.umask == .known(0o027))
            #expect(p.cwdText == dir)
            let fds = try #require(p.fds.value)
            let seven = try #require(fds.first { $0.fd == 7 })
            #expect(seven.targetText == known)
            #expect(seven.kind == .regular)
            #expect(fds.first { $0.fd == 0 }?.kind == .tty)
            #expect(fds.first { $0.fd == 0 }?.targetText == pty.slavePath)
            #expect(p.uid == getuid())
        }
        let sleeper = try #require(snap.processes[kids[0]])
        #expect(sleeper.argv.value?.first == Array("sleep".utf8))
        #expect(sleeper.exe.value.map { String(decoding: $0, as: UTF8.self).hasSuffix("sleep") } == true)
        #expect(sleeper.ppid == leader)
        #expect(snap.processes[leader]?.isSessionLeader == true)
    }

    @Test func signalDispositionsAreDecoded() throws {
        // trap '' HUP → SIG_IGN, which survives exec; a caught USR1 in the shell itself.
        var r = SpawnRequest(["bash", "-c", "trap '' HUP; trap 'echo' USR1; sleep 7300$0 & wait", "\(getpid())"])
        r.fileDescriptors = [(0, nil), (1, nil), (2, nil)]
        let pid = try Spawner.spawn(r)
        var all = [pid]
        defer { for p in all { Processes.killAndReap(p) } }
        let reader = try SnapshotReader()
        var snap = reader.snapshot()
        #expect(waitUntil { snap = reader.snapshot(); return snap.children[pid]?.count == 1 })
        all += snap.children[pid] ?? []
        let shell = try #require(snap.processes[pid])
        #expect(shell.signals.ignored.contains(Signals.hup))
        #expect(shell.signals.caught.contains(10))
        let child = try #require(snap.children[pid]?.first.flatMap { snap.processes[$0] })
        #expect(child.signals.ignored.contains(Signals.hup))
        #expect(!child.signals.caught.contains(10))  // handlers reset at exec
    }

    @Test func identitiesMatchPs() throws {
        // Three reads: snapshot, ps, snapshot. Processes unchanged across both snapshots
        // must agree with ps on pid, ppid, pgid, sid, tpgid and tty.
        let reader = try SnapshotReader()
        let before = reader.snapshot()
        let psOut = try Processes.run(["ps", "-eo", "pid=,ppid=,pgid=,sid=,tpgid=,tty="]).stdout
        let after = reader.snapshot()
        var compared = 0
        for line in psOut.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count == 6, let pid = Int32(f[0]) else { continue }
            guard let a = before.processes[pid], let b = after.processes[pid], a.identity == b.identity,
                  a.pgid == b.pgid, a.tpgid == b.tpgid, a.ppid == b.ppid else { continue }
            #expect(a.ppid == Int32(f[1]), "ppid of \(pid)")
            #expect(a.pgid == Int32(f[2]), "pgid of \(pid)")
            #expect(a.sid == Int32(f[3]), "sid of \(pid)")
            #expect(a.tpgid == Int32(f[4]), "tpgid of \(pid)")
            #expect((a.tty ?? "?") == String(f[5]), "tty of \(pid)")
            compared += 1
        }
        #expect(compared > 10)
        // Of the processes that lived through all three reads unchanged (under a parallel
        // test run many are short-lived), ps must have listed and agreed on most.
        let stable = before.processes.values.filter { a in
            guard let b = after.processes[a.pid] else { return false }
            return a.identity == b.identity && a.pgid == b.pgid && a.tpgid == b.tpgid && a.ppid == b.ppid
        }.count
        #expect(compared >= stable / 2, "\(compared) of \(stable) stable processes")
    }

    @Test func aProcessThatExitsIsDroppedNotHalfRead() throws {
        // Many short-lived processes while scanning: every process in the snapshot is whole.
        var r = SpawnRequest(["sh", "-c", "for i in $(seq 300); do /bin/true & done; wait"])
        r.fileDescriptors = [(0, nil), (1, nil), (2, nil)]
        let churn = try Spawner.spawn(r)
        defer { Processes.killAndReap(churn) }
        let reader = try SnapshotReader()
        for _ in 0..<5 {
            let snap = reader.snapshot()
            for p in snap.processes.values where !p.isKernelThread && !p.state.isGone {
                // Whole or absent: a process that died mid-read is not kept with its
                // links all missing.
                #expect(!(p.exe.unknownReason == .vanished && p.cwd.unknownReason == .vanished),
                        "pid \(p.pid) half-read")
            }
        }
    }
}
