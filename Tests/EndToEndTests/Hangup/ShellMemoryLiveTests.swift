import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// The shell-memory reader on live shells on real ptys: what bash and zsh really hold after
/// `disown`, `disown -h`, `shopt -s huponexit`, `setopt NO_HUP`; and live shells whose memory
/// is made foreign or corrupt (written through /proc/PID/mem by the test, as root, into the
/// test's own throwaway shell), which must fall back cleanly, never to a certain verdict.
@Suite(.timeLimit(.minutes(3)))
struct ShellMemoryLiveTests {
    /// Starts the shell, types `lines`, waits until `expect` processes carry the token and
    /// every stopper is stopped.
    func session(_ shell: ShellUnderTest, _ lines: (HangupLab) -> [String], processes: Int, stopped: Int = 0,
                 user: (uid: UInt32, gid: UInt32, groups: [UInt32])? = nil) throws -> HangupLab {
        Processes.becomeSubreaper()
        let lab = try HangupLab(shell: shell, token: "5" + String(UInt32.random(in: 1_000_000...9_999_999)))
        lab.user = user
        try lab.start()
        try #require(lab.sync("READY"), "no prompt: \(tail(lab.output))")
        for l in lines(lab) { lab.type(l) }
        try #require(lab.sync("TYPED"))
        let ok = waitUntil(timeout: 15) {
            let mine = lab.scan().filter { $0.argv.contains(lab.token) && $0.pid != lab.leader }
            return mine.count >= processes && mine.filter { $0.state == UInt8(ascii: "T") }.count >= stopped
        }
        try #require(ok, "jobs did not start: \(lab.scan().map(\.argv)) \(tail(lab.output))")
        return lab
    }

    func pgid(_ lab: HangupLab, _ snap: Snapshot, _ marker: String) -> Int32? {
        snap.processes.values.first { $0.commandLine.contains(marker) && $0.pid != lab.leader }?.pgid
    }

    @Test func bashJobTableAsBashSeesIt() throws {
        let lab = try session(.bash, { l in [
            "sleep \(l.marker(1)) &",
            "sleep \(l.marker(2)) & disown $!",
            "sleep \(l.marker(3)) & disown -h $!",
            "sh -c 'kill -STOP $$; exec sleep \(l.marker(4))' &",
            "shopt -s huponexit",
        ] }, processes: 4, stopped: 1)
        defer { lab.cleanup() }
        let snap = try SnapshotReader().snapshot()
        let mem = try #require(snap.shellMemory[lab.leader])
        #expect(mem.trusted, "\(mem.reason ?? "")")
        let v = try #require(mem.trustedView)
        #expect(v.shell == .bash && v.version.hasPrefix("5.2.") && v.shellPid == lab.leader)
        #expect(v.interactive && !v.login && v.jobControl && v.hupOnExit == true && !v.hupTrapped)
        let g1 = try #require(pgid(lab, snap, lab.marker(1))), g2 = try #require(pgid(lab, snap, lab.marker(2)))
        let g3 = try #require(pgid(lab, snap, lab.marker(3))), g4 = try #require(pgid(lab, snap, lab.marker(4)))
        #expect(v.job(group: g1)?.state == .running && v.job(group: g1)?.noHup == false && v.job(group: g1)?.pids == [g1])
        #expect(v.job(group: g2) == nil)                      // disown: gone from the table
        #expect(v.job(group: g3)?.noHup == true)              // disown -h: kept, marked
        #expect(v.job(group: g4)?.state == .stopped)
        // bash gives the disowned job's slot to the next job: %1, %2 (disown -h), %3 (stopped).
        #expect(v.jobs.map(\.number) == [1, 2, 3])
        // The analysis says so, certainly.
        let hup = HangupAnalysis.analyze(snap, session: lab.leader, event: .hangup)
        #expect(hup[g1]?.fate == .dies && hup[g1]?.by == .shell && hup[g1]?.certain == true)
        #expect(hup[g2]?.fate == .atRisk && hup[g2]?.certain == true && has(hup[g2], "it was disowned"))
        #expect(hup[g3]?.fate == .atRisk && hup[g3]?.certain == true && has(hup[g3], "no-HUP"))
        // As JSON, for a teacher: the session's table and each job's entry.
        let json = try Processes.runSessiontop(["snapshot", "--json", "--pid", String(lab.leader)])
        #expect(json.status == 0)
        #expect(json.stdout.contains("\"shell\":{\"source\":\"memory\",\"trusted\":true,\"reason\":null,\"shell\":\"bash\""))
        #expect(json.stdout.contains("\"huponexit\":true"))
        #expect(json.stdout.contains("\"shell_job\":{\"number\":2,\"pgid\":\(g3),\"pids\":[\(g3)],\"state\":\"running\",\"nohup\":true"))
        #expect(json.stdout.contains("\"shell_job\":null"))   // the disowned one
    }

    @Test func zshJobTableAndNoHup() throws {
        let lab = try session(.zsh, { l in [
            "setopt NO_HUP",
            "sleep \(l.marker(1)) &",
            "sleep \(l.marker(2)) &!",
        ] }, processes: 2)
        defer { lab.cleanup() }
        let snap = try SnapshotReader().snapshot()
        let v = try #require(snap.shellMemory[lab.leader]?.trustedView, "\(snap.shellMemory[lab.leader]?.reason ?? "not read")")
        #expect(v.shell == .zsh && v.version == "5.9" && v.hupOption == false && v.jobControl && v.interactive)
        let g1 = try #require(pgid(lab, snap, lab.marker(1))), g2 = try #require(pgid(lab, snap, lab.marker(2)))
        #expect(v.job(group: g1)?.state == .running && v.job(group: g2) == nil)
        let out = HangupAnalysis.analyze(snap, session: lab.leader, event: .logout)
        #expect(out[g1]?.fate == .atRisk && out[g1]?.certain == true && has(out[g1], "NO_HUP"))
    }

    // MARK: memory that must not be trusted

    /// The run-time address of a bash global in a live process, found as the reader finds it.
    func address(_ name: String, pid: Int32) throws -> UInt64 {
        let image = try ELFImage.parse(try #require(Files.readBytes("/proc/\(pid)/exe")), wanted: BashLayout.symbols)
        let maps = MapsParser.parse(try #require(Files.readBytes("/proc/\(pid)/maps")))
        let exe = Array(try ProcReaderLink.read("/proc/\(pid)/exe").utf8)
        let bias = try #require(maps.filter { $0.path == exe }.lazy.compactMap { image.loadBias(mapStart: $0.start, mapOffset: $0.offset) }.first)
        return bias + (try #require(image.symbols[name])).value
    }

    /// Writes into the test's own throwaway shell (root may write any process's memory).
    func poke(_ pid: Int32, _ address: UInt64, _ bytes: [UInt8]) throws {
        let fd = open("/proc/\(pid)/mem", O_RDWR | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var b = bytes
        let n = b.withUnsafeMutableBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(address)) }
        try #require(n == bytes.count)
    }

    func peek64(_ pid: Int32, _ address: UInt64) throws -> UInt64 {
        let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var v: UInt64 = 0
        let n = pread(fd, &v, 8, off_t(address))
        try #require(n == 8)
        return v
    }

    @Test func foreignVersionFallsBackToTheRules() throws {
        let lab = try session(.bash, { l in ["sleep \(l.marker(1)) &"] }, processes: 1)
        defer { lab.cleanup() }
        // dist_version → "5.2": make it "5.3", a bash whose layout sessiontop does not know.
        let versionString = try peek64(lab.leader, try address("dist_version", pid: lab.leader))
        try poke(lab.leader, versionString, Array("5.3".utf8))
        let snap = try SnapshotReader().snapshot()
        let mem = try #require(snap.shellMemory[lab.leader])
        #expect(!mem.trusted && mem.reason?.hasPrefix("bash 5.3.") == true && mem.reason?.contains("layout unknown") == true, "\(mem)")
        let g = try #require(pgid(lab, snap, lab.marker(1)))
        let v = HangupAnalysis.analyze(snap, session: lab.leader, event: .hangup)[g]
        #expect(v?.certain == false && has(v, "bash's memory is not used: bash 5.3."))
        // One line in the text output, not an error.
        let text = try Processes.runSessiontop(["hangup", "--sid", String(lab.leader)])
        #expect(text.status == 0 && flatText(text.stdout).contains("shell's memory not used: bash 5.3."))
    }

    @Test func corruptTableFallsBackToTheRules() throws {
        let lab = try session(.bash, { l in ["sleep \(l.marker(1)) &", "sleep \(l.marker(2)) &"] }, processes: 2)
        defer { lab.cleanup() }
        // js.j_njobs (offset 40) no longer matches the table.
        let js = try address("js", pid: lab.leader)
        try poke(lab.leader, js + 40, [7, 0, 0, 0])
        var snap = try SnapshotReader().snapshot()
        var mem = try #require(snap.shellMemory[lab.leader])
        #expect(!mem.trusted && mem.reason?.contains("js.j_njobs says 7 jobs, the table holds 2") == true, "\(mem)")
        // Counts right again, but job %1's group rewritten to another live process's: the
        // check against /proc refuses it.
        try poke(lab.leader, js + 40, [2, 0, 0, 0])
        let jobs = try peek64(lab.leader, try address("jobs", pid: lab.leader))
        let job1 = try peek64(lab.leader, jobs)
        try poke(lab.leader, job1 + 16, withUnsafeBytes(of: Int32(1).littleEndian, Array.init))
        snap = try SnapshotReader().snapshot()
        mem = try #require(snap.shellMemory[lab.leader])
        #expect(!mem.trusted && mem.reason?.contains("is in group") == true, "\(mem)")
        let g = try #require(pgid(lab, snap, lab.marker(1)))
        #expect(HangupAnalysis.analyze(snap, session: lab.leader, event: .hangup)[g]?.certain == false)
    }

    /// Another user's shell: one reason line, never an error. The same user's: read.
    @Test func permissionIsOneReasonLine() throws {
        let lab = try session(.bash, { l in ["sleep \(l.marker(1)) &"] }, processes: 1)
        defer { lab.cleanup() }
        let r = try Processes.runSessiontop(["snapshot", "--json", "--pid", String(lab.leader)], user: (65534, 65534, []))
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        #expect(r.stdout.contains("\"shell\":{\"source\":\"memory\",\"trusted\":false,\"reason\":\"permission denied reading its executable and memory (no Yama: only its own user (if it is dumpable) or root may read it)\"}"))
        let h = try Processes.runSessiontop(["hangup", "--sid", String(lab.leader)], user: (65534, 65534, []))
        #expect(h.status == 0 && flatText(h.stdout).contains("shell's memory not used: permission denied reading its executable and memory"))

        let own = try session(.bash, { l in ["sleep \(l.marker(1)) &"] }, processes: 1, user: (65534, 65534, []))
        defer { own.cleanup() }
        let o = try Processes.runSessiontop(["snapshot", "--json", "--pid", String(own.leader)], user: (65534, 65534, []))
        #expect(o.status == 0 && o.stdout.contains("\"shell\":{\"source\":\"memory\",\"trusted\":true"), "\(o.stdout.prefix(600))")
    }
}

/// readlink(2) of a /proc link, as text.
enum ProcReaderLink {
    static func read(_ path: String) throws -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buf, buf.count - 1)
        guard n >= 0 else { throw Errno.current }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

func has(_ v: Verdict?, _ text: String) -> Bool {
    v?.reasons.contains { $0.contains(text) } ?? false
}

@Suite(.timeLimit(.minutes(3)))
struct ShellForkTrapTests {
    /// Forks of the leader bash that catch SIGHUP: a subshell with its own `trap … HUP`, and a
    /// command substitution (which keeps bash's own SIGHUP handler).
    @Test func forksOfTheShellAreReadToo() throws {
        Processes.becomeSubreaper()
        let lab = try HangupLab(shell: .bash, token: "4" + String(UInt32.random(in: 1_000_000...9_999_999)))
        defer { lab.cleanup() }
        try lab.start()
        try #require(lab.sync("READY"))
        lab.type("( trap 'true' HUP; while :; do sleep \(lab.marker(1)); done ) &")
        lab.type("echo $(sleep \(lab.marker(2))) &")
        try #require(lab.sync("TYPED"))
        var snap = try SnapshotReader().snapshot()
        let found = waitUntil(timeout: 10) {
            snap = (try? SnapshotReader().snapshot()) ?? snap
            return snap.processes.values.filter { $0.commandLine.contains(lab.token) }.count >= 2 && snap.shellForkTraps.keys.filter { snap.processes[$0]?.sid == lab.leader }.count >= 2
        }
        let leader = try #require(snap.processes[lab.leader])
        let forks = snap.processes.values.filter {
            $0.sid == lab.leader && $0.pid != lab.leader && $0.exe.value == leader.exe.value && $0.argv.value == leader.argv.value
                && $0.signals.caught.contains(Signals.hup)
        }
        try #require(found, "forks: \(forks.map(\.pid)) traps: \(snap.shellForkTraps)")
        #expect(Set(snap.shellForkTraps.keys.filter { snap.processes[$0]?.sid == lab.leader }) == Set(forks.map(\.pid)))
        let trapper = try #require(forks.first { f in snap.children[f.pid]?.contains { snap.processes[$0]?.commandLine.contains(lab.marker(1)) == true } == true })
        #expect(snap.shellForkTraps[trapper.pid] == true)
        let comsub = try #require(forks.first { f in snap.children[f.pid]?.contains { snap.processes[$0]?.commandLine.contains(lab.marker(2)) == true } == true })
        #expect(snap.shellForkTraps[comsub.pid] == false)
        let v = HangupAnalysis.analyze(snap, session: lab.leader, event: .hangup)
        #expect(v[trapper.pid]?.fate == .atRisk && has(v[trapper.pid], "its own `trap … HUP`"))
        #expect(v[comsub.pid]?.fate == .dies && v[comsub.pid]?.certain == true && has(v[comsub.pid], "termsig_sighandler"))
    }
}

/// Text output with its wrapping undone (lines are wrapped at word boundaries, issue 11).
func flatText(_ s: String) -> String { s.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ") }
