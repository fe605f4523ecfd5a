import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// The snapshot reader on fixture /proc trees (Fixtures/make-fixtures.py writes them).
@Suite struct FixtureTreeTests {
    let snap: Snapshot

    init() throws {
        snap = try SnapshotReader(root: PackagePaths.fixtures + "/basic").snapshot(options: ScanOptions(fdInfoFor: [301]))
    }

    @Test func sessionsGroupsAndLeaders() throws {
        #expect(snap.sessions.map(\.sid) == [1, 100, 700, 800])
        let s = try #require(snap.session(100))
        #expect(s.leader == 100)
        #expect(s.tty == "pts/3")
        #expect(s.foregroundPgid == 300)
        #expect(s.groups.map(\.pgid) == [100, 200, 300, 400, 900])
        let fg = try #require(s.groups.first { $0.pgid == 300 })
        #expect(fg.isForeground && fg.members == [300, 301])
        #expect(snap.session(800)?.tty == "ttyS0")
        #expect(snap.session(700)?.tty == nil)
        #expect(snap.selfPid == 300)
        #expect(snap.uptime == 4321.5)
    }

    @Test func orphanedStoppedAndLeaderGone() throws {
        let s = try #require(snap.session(100))
        let g = Dictionary(uniqueKeysWithValues: s.groups.map { ($0.pgid, $0) })
        // The shell's own group: its leader's parent is init, in another session.
        #expect(g[100]!.isOrphaned)
        // vim's group: vim's parent bash is in another group of the same session.
        #expect(!g[200]!.isOrphaned && g[200]!.hasStopped)
        #expect(!g[300]!.isOrphaned && !g[300]!.hasStopped)
        // The leader of 900 is gone and its only member's parent is init.
        #expect(!g[900]!.leaderPresent && g[900]!.isOrphaned)
    }

    @Test func kernelThreadsStayApart() {
        #expect(snap.kernelThreads == [2, 40])
        #expect(!snap.sessions.contains { $0.sid == 0 })
        #expect(snap.processes[2]?.argv == .known([]))
        #expect(snap.processes[2]?.fds.unknownReason == .notApplicable)
    }

    @Test func processFields() throws {
        let bash = try #require(snap.processes[100])
        #expect(bash.argv == .known([Array("-bash".utf8)]))
        #expect(bash.cwdText == "/home/ann")
        #expect(bash.exe == .known(Array("/usr/bin/bash".utf8)))
        #expect(bash.uid == 1000 && bash.euid == 1000)
        #expect(bash.startTime == 1000)
        #expect(bash.tty == "pts/3" && bash.tpgid == 300)
        #expect(bash.umask == .known(0o022))
        #expect(bash.signals.ignored.names == ["QUIT", "TSTP", "TTIN", "TTOU"])
        #expect(bash.signals.caught.names == ["HUP", "INT", "CHLD", "WINCH"])
        #expect(bash.fds.value?.map(\.fd) == [0, 1, 2, 255])
        #expect(bash.fds.value?.allSatisfy { $0.kind == .tty } == true)

        let cat = try #require(snap.processes[300])
        #expect(cat.umask == .known(0o027))
        let vim = try #require(snap.processes[200])
        #expect(vim.state == .stopped)
        #expect(vim.signals.pending.names == ["HUP"])
    }

    @Test func fdKindsAndFdInfo() throws {
        let grep = try #require(snap.processes[301])
        let fds = try #require(grep.fds.value)
        let kinds = Dictionary(uniqueKeysWithValues: fds.map { ($0.fd, $0.kind) })
        #expect(kinds == [0: .pipe, 1: .tty, 2: .tty, 4: .socket, 5: .anonInode, 6: .memfd, 7: .deleted, 8: .other])
        // fdinfo was asked for this pid only.
        #expect(fds.first { $0.fd == 5 }?.info == .known(FdInfo(position: 50, flags: 0o2004002)))
        #expect(snap.processes[300]?.fds.value?.first?.info == .unknown(.notRead))
    }

    @Test func oddBytes() throws {
        let odd = try #require(snap.processes[400])
        #expect(odd.comm == Array(") (x y\nz".utf8))
        #expect(odd.commText == ") (x y\\nz")
        #expect(odd.argv.value?.count == 3)
        #expect(odd.commandLine == "odd\\xff\\xfename arg with space line\\nbreak")
        #expect(odd.ppid == 100 && odd.pgid == 400)
    }

    @Test func blockedIsTheUnionOverThreads() throws {
        let odd = try #require(snap.processes[400])
        #expect(odd.threads == 3)
        #expect(odd.signals.blocked.names == ["HUP", "USR1"])
        #expect(odd.signals.blockedInAllThreads.isEmpty)
        #expect(odd.signals.pending.names == ["USR2"])
    }

    @Test func zombiesAndVanished() throws {
        let z = try #require(snap.processes[500])
        #expect(z.state == .zombie)
        #expect(z.argv == .known([]))
        #expect(z.commandLine == "[sh]")
        #expect(z.cwd.unknownReason == .notApplicable)
        // 600 lost its status between two reads: dropped, not half-filled.
        #expect(snap.processes[600] == nil)
    }

    @Test func treeOrderFollowsParents() throws {
        let g = try #require(snap.group(200))
        #expect(snap.treeOrder(of: g).map { "\($0.pid):\($0.depth)" } == ["200:0", "500:1"])
    }

    @Test func filters() throws {
        #expect(try SnapshotFilter(pid: 301).apply(to: snap).map(\.sid) == [100])
        #expect(try SnapshotFilter(tty: "/dev/pts/3").apply(to: snap).map(\.sid) == [100])
        #expect(try SnapshotFilter(tty: "3").apply(to: snap).map(\.sid) == [100])
        #expect(throws: SnapshotFilter.Failure.noSuchProcess(4242)) { try SnapshotFilter(pid: 4242).apply(to: snap) }
        #expect(throws: SnapshotFilter.Failure.kernelThread(2)) { try SnapshotFilter(pid: 2).apply(to: snap) }
        #expect(throws: SnapshotFilter.Failure.noSuchSession(5)) { try SnapshotFilter(sid: 5).apply(to: snap) }
        #expect(throws: SnapshotFilter.Failure.noSuchTTY("pts/9")) { try SnapshotFilter(tty: "pts/9").apply(to: snap) }
        #expect(throws: SnapshotFilter.Failure.noSuchUser("no-such-user-xyz")) {
            try SnapshotFilter(user: "no-such-user-xyz").apply(to: snap)
        }
        let rootOnly = try SnapshotFilter(user: "0").apply(to: snap)
        #expect(rootOnly.map(\.sid) == [1, 700, 800])
    }

    @Test func twoThreadScanEqualsOneThreadScan() throws {
        let serial = try SnapshotReader(root: PackagePaths.fixtures + "/basic")
        serial.parallelThreshold = .max
        let parallel = try SnapshotReader(root: PackagePaths.fixtures + "/basic")
        parallel.parallelThreshold = 1
        let a = serial.snapshot(), b = parallel.snapshot()
        #expect(a.processes.count == 12)
        #expect(a.processes == b.processes)
        #expect(a.sessions == b.sessions)
    }

    @Test func notAProcTree() {
        #expect(throws: ProcReader.OpenError.self) { try SnapshotReader(root: PackagePaths.fixtures) }
        #expect(throws: ProcReader.OpenError.cannotOpen(path: "/nonexistent", errno: Errno(ENOENT))) {
            try SnapshotReader(root: "/nonexistent")
        }
    }

    @Test func thousandsOfFds() throws {
        // A copy of the fixture where one process holds 5000 fds.
        let dir = try TempDirectory.make("manyfds")
        defer { TempDirectory.remove(dir) }
        #expect(try Processes.run(["cp", "-a", PackagePaths.fixtures + "/basic/.", dir]).status == 0)
        for n in 10..<5010 { symlink("/tmp/file\(n)", "\(dir)/300/fd/\(n)") }
        let s = try SnapshotReader(root: dir).snapshot()
        let fds = try #require(s.processes[300]?.fds.value)
        #expect(fds.count == 5003)
        #expect(fds.last?.fd == 5009)
        #expect(fds.last?.targetText == "/tmp/file5009")
    }
}
