import Testing
import Glibc
import TestSupport
import SessionCore

/// Issue 8 §3: relaunch never loses what it replaces. An interactive shell is refused; a copy
/// that exits within the grace period makes relaunch fail with its status while the original
/// runs on untouched; the plan says it restarts from scratch and offers in-place detach; the
/// warnings about the terminal are true ones (/proc/PID/syscall), and nohup's output move is said.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct RelaunchSafetyTests {
    func relaunch(_ args: [String]) throws -> Processes.Output {
        try Processes.run([PackagePaths.binary, "relaunch"] + args, environment: Processes.defaultEnvironment())
    }

    /// The user's interactive bash on a real pty: refused in one line, and it lives on.
    @Test func anInteractiveBashIsRefused() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let bash = d.lab.leader
        let start = try #require(Files.read("/proc/\(bash)/stat")?.split(separator: ")").last?.split(separator: " ")[19])
        let r = try relaunch([String(bash), "--yes"])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.hasPrefix("sessiontop: refusing to relaunch pid \(bash): it is an interactive bash"), "\(r.stderr)")
        #expect(r.stderr.contains("sessiontop detach") && r.stderr.contains("--force"))
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stdout.isEmpty)
        usleep(300_000)
        #expect(Files.read("/proc/\(bash)/stat")?.split(separator: ")").last?.split(separator: " ")[19] == start, "bash was touched")
        #expect(d.lab.sync("STILL" + "HERE"), "the shell no longer answers")
    }

    /// A program whose copy exits 3 after 100 ms (the original made a marker; the copy finds
    /// it): relaunch exits 3 and says so, and the original keeps running, never signalled.
    @Test func aCopyThatExitsFailsTheRelaunchAndKeepsTheOriginal() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("relaunch3")
        defer { TempDirectory.remove(dir) }
        let script = "if [ -e \(dir)/marker ]; then echo copy-says-bye; sleep 0.1; exit 3; fi; touch \(dir)/marker; trap 'echo TERM >> \(dir)/got' TERM; while :; do sleep 0.05; done"
        let original = try Processes.spawn(["sh", "-c", script]) { $0.newSession = true; $0.workingDirectory = dir }
        defer { Processes.killAndReap(original) }
        #expect(waitUntil { access("\(dir)/marker", F_OK) == 0 })
        let t = monotonicSeconds()
        let r = try relaunch([String(original), "--yes", "--log", "\(dir)/copy.log"])
        let took = monotonicSeconds() - t
        #expect(r.status == 3, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("relaunch failed: the copy (pid ") && r.stderr.contains("exited with status 3 within 1 s"), "\(r.stderr)")
        #expect(r.stderr.contains("pid \(original) left running, untouched"))
        #expect(r.stderr.contains("its log ends: copy-says-bye"), "the log's last lines: \(r.stderr)")
        #expect(took < 3, "the failure is known at once, not after the grace period: \(took) s")
        usleep(300_000)
        #expect(!Processes.isGone(original))
        #expect(access("\(dir)/got", F_OK) != 0, "the original got SIGTERM")
    }

    /// The grace period on the success path: the copy has run `--grace` seconds before the
    /// original gets its SIGTERM.
    @Test func theOriginalEndsOnlyAfterTheGracePeriod() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("relaunchgrace")
        defer { TempDirectory.remove(dir) }
        let m = TextScan.uniqueNumber()
        let original = try Processes.spawn(["sleep", "6\(m)"]) { $0.newSession = true; $0.workingDirectory = dir }
        defer { Processes.killAndReap(original) }
        usleep(200_000)
        let t = monotonicSeconds()
        let r = try relaunch([String(original), "--yes", "--grace", "1.5", "--log", "\(dir)/copy.log", "--json"])
        let took = monotonicSeconds() - t
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let newPid = Int32(r.stdout.firstMatch(of: /"new_pid":(\d+)/).map { String($0.1) } ?? "") ?? 0
        defer { Processes.killAndReap(newPid) }
        #expect(newPid > 0 && !Processes.isGone(newPid))
        #expect(took >= 1.5, "ended before the grace period: \(took) s")
        #expect(Processes.termSignal(Processes.reap(original, within: 5)) == SIGTERM)
        #expect(try relaunch([String(newPid), "--grace", "-1", "--dry-run"]).status == 64)
    }

    /// In a bash on a real pty: a `sleep` in the foreground has the terminal as stdin but is
    /// not reading it (no "reading" warning), a `cat -` is blocked reading it (the warning), a
    /// nohup'd job's output moves from nohup.out; every plan says "restarts from scratch" and
    /// offers `sessiontop detach`.
    @Test func warningsAreTrueOnes() throws {
        let d = try DetachLab(.bash)
        try d.start()
        d.lab.type("nohup sleep \(d.marker)1 & sleep \(d.marker)")
        var job = try d.waitForJob(count: 2)
        let nohup = try #require(job.first { $0.argv.contains("\(d.marker)1") })
        let sleep = try #require(job.first { !$0.argv.contains("\(d.marker)1") })
        var r = try relaunch([String(sleep.pid), "--dry-run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("relaunch pid \(sleep.pid) via daemonize — restarts from scratch"), "\(r.stdout)")
        #expect(r.stdout.contains("warning: to keep it running instead (same pid, same state): sessiontop detach \(sleep.pid)"))
        #expect(r.stdout.contains("its stdin is the terminal") && r.stdout.contains("(it is not reading it now)"), "\(r.stdout)")
        #expect(!r.stdout.contains("reading the terminal now"))
        r = try relaunch([String(nohup.pid), "--dry-run"])
        #expect(r.stdout.contains("it was started with nohup: its output moves from \(d.lab.home)/nohup.out to the new log"), "\(r.stdout)")
        kill(sleep.pid, SIGKILL)
        d.lab.type("cat - \(d.marker)2")
        job = try d.waitForJob(count: 2)
        let cat = try #require(job.first { $0.argv.hasPrefix("cat") })
        r = try relaunch([String(cat.pid), "--dry-run"])
        #expect(r.stdout.contains("it is reading the terminal now (blocked in read on fd 0"), "\(r.stdout)")
    }

    /// A tmux relaunch says where the copy went: the socket, the session, and the exact attach
    /// command, which names a session that exists on that server.
    @Test func tmuxRelaunchSaysWhereItWent() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("relaunchtmux")
        defer { TempDirectory.remove(dir) }
        let m = TextScan.uniqueNumber()
        let socket = dir + "/tmux.sock"
        let original = try Processes.spawn(["sleep", "5\(m)"]) { $0.newSession = true; $0.workingDirectory = dir }
        defer { Processes.killAndReap(original) }
        defer { _ = try? Processes.run(["tmux", "-S", socket, "kill-server"]) }
        usleep(200_000)
        var env = Processes.defaultEnvironment().filter { !$0.hasPrefix("TMUX=") }
        env.append("TMUX_TMPDIR=" + dir)
        let r = try Processes.run([PackagePaths.binary, "relaunch", String(original), "--via", "tmux", "--tmux-socket", socket, "--yes"], environment: env)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let name = "relaunch-sleep-\(original)"
        #expect(r.stdout.contains("tmux session \(name) on the server at \(socket); attach with: tmux -S \(socket) attach -t \(name)"), "\(r.stdout)")
        let has = try Processes.run(["tmux", "-S", socket, "has-session", "-t", name])
        #expect(has.status == 0, "\(has.stderr)")
        let pane = Int32((try Processes.run(["tmux", "-S", socket, "display-message", "-p", "-t", name, "#{pane_pid}"])).stdout.filter(\.isNumber)) ?? 0
        defer { Processes.killAndReap(pane) }
        #expect(pane > 0 && !Processes.isGone(pane))
        #expect(Processes.termSignal(Processes.reap(original, within: 6)) == SIGTERM)
    }

    /// argv that is not UTF-8 is exec'd byte for byte (the plan shows it escaped).
    @Test func argvBytesThatAreNotUTF8AreReproduced() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("relaunchbytes")
        defer { TempDirectory.remove(dir) }
        let m = TextScan.uniqueNumber()
        // The inner sh's $0 is the bytes "m<N>\xff\xfe)": printf makes them.
        let original = try Processes.spawn(["sh", "-c", "exec sh -c 'while :; do sleep 0.05; done' \"$(printf 'm\(m)\\377\\376)')\""]) {
            $0.newSession = true; $0.workingDirectory = dir
        }
        defer { Processes.killAndReap(original) }
        let want: [UInt8] = Array("sh\0-c\0while :; do sleep 0.05; done\0m\(m)".utf8) + [0xff, 0xfe, 0x29, 0]
        #expect(waitUntil { Files.readBytes("/proc/\(original)/cmdline") == want }, "the original's argv")
        let dry = try relaunch([String(original), "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("m\(m)\\xff\\xfe)") && dry.stdout.contains("not UTF-8: shown with \\xNN escapes, exec'd byte for byte"), "\(dry.stdout)")
        let tmux = try relaunch([String(original), "--dry-run", "--via", "tmux"])
        #expect(tmux.status == 1 && tmux.stderr.contains("not valid UTF-8") && tmux.stderr.contains("--via daemonize"), "\(tmux.stderr)")
        let r = try relaunch([String(original), "--yes", "--json", "--log", "\(dir)/copy.log", "--grace", "0.3"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let newPid = Int32(r.stdout.firstMatch(of: /"new_pid":(\d+)/).map { String($0.1) } ?? "") ?? 0
        defer { Processes.killAndReap(newPid) }
        #expect(newPid > 0 && Files.readBytes("/proc/\(newPid)/cmdline") == want, "the copy's argv: \(Files.readBytes("/proc/\(newPid)/cmdline") ?? [])")
    }
}
