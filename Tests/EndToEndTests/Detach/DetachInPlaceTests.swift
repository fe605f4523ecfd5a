import Testing
import Glibc
import TestSupport
import SessionCore

/// Issue 8 §5: detach in place via the CLI on real ptys (the hangup lab's shells), then a real
/// hangup; the same pid and start time must live on and keep working. Root and ptrace allowed
/// (this machine); every process is killed by pid in the lab's cleanup.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DetachInPlaceTests {
    static let shells: [ShellUnderTest] = [.bash, .zsh, .fish, .dash]

    /// A foreground `sleep` in each shell, detached, then each of the three ways a terminal ends.
    @Test(arguments: shells, DetachLab.Event.allCases)
    func sleepSurvives(_ shell: ShellUnderTest, _ event: DetachLab.Event) throws {
        let d = try DetachLab(shell)
        try d.start()
        d.lab.type("sleep \(d.marker)")
        let job = try d.waitForJob()
        let p = job[0]
        let r = try d.detach([String(p.pid)])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("detached in place") && r.stdout.contains("it survives a hangup"), "\(r.stdout)")
        #expect(DetachLab.sigIgnHup(p.pid))
        #expect(DetachLab.fdTarget(p.pid, 0) == "/dev/null")
        #expect(DetachLab.fdTarget(p.pid, 1) == d.logPath && DetachLab.fdTarget(p.pid, 2) == d.logPath)
        // O_APPEND (fdinfo flags, octal 02000).
        let flags = Files.read("/proc/\(p.pid)/fdinfo/1")?.split(separator: "\n").first { $0.hasPrefix("flags:") }
        #expect(flags.flatMap { Int($0.split(separator: "\t").last ?? "", radix: 8) }.map { $0 & 0o2000 != 0 } ?? false)
        #expect(DetachLab.aliveRunning(p))
        try d.hangUp(event)
        #expect(DetachLab.aliveRunning(p), "pid \(p.pid) died after \(event.rawValue)")
    }

    /// A pipeline of three in the foreground: the group (3 processes) moves together.
    @Test(arguments: [ShellUnderTest.bash, .zsh])
    func pipelineOfThree(_ shell: ShellUnderTest) throws {
        let d = try DetachLab(shell)
        try d.start()
        d.lab.type("sleep \(d.marker) | sleep \(d.marker) | sleep \(d.marker)")
        let job = try d.waitForJob(count: 3)
        let r = try d.detach([String(job[0].pid), "--json"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("(3 processes) detached in place"), "\(r.stdout)")
        let groups = Set(job.map { Int32(Files.read("/proc/\($0.pid)/stat")?.split(separator: ")").last?.split(separator: " ")[2] ?? "") ?? -1 })
        #expect(groups.count == 1 && !groups.contains(job[0].pgid), "moved to one new group: \(groups)")
        try d.hangUp(.closeMaster)
        for p in job { #expect(DetachLab.aliveRunning(p), "\(p.pid) died") }
    }

    /// A counter printing every 50 ms to the terminal: after the detach its lines continue in
    /// the log with no gap and no duplicate, and it still counts after the hangup.
    @Test func counterHasNoGapNoDuplicate() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let py = try d.script("counter.py", "import sys, time\ni = 0\nwhile True:\n    print(i, flush=True)\n    i += 1\n    time.sleep(0.05)\n")
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        d.lab.pump(0.6)
        let r = try d.detach([String(p.pid)])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        d.lab.pump(0.5)  // what was written before the detach, still in the pty
        let before = DetachLab.integers(String(decoding: d.lab.output, as: UTF8.self))
        usleep(500_000)
        try d.hangUp(.closeMaster)
        let logged1 = DetachLab.integers(d.log)
        usleep(400_000)
        let logged2 = DetachLab.integers(d.log)
        #expect(DetachLab.aliveRunning(p))
        let all = before + logged2
        try #require(!before.isEmpty && !logged1.isEmpty, "before \(before.count), log \(logged1.count): \(tail(d.lab.output))")
        #expect(all == Array(all[0]...(all[0] + all.count - 1)), "gap or duplicate at the switch: …\(before.suffix(3)) | \(logged2.prefix(3))…")
        #expect(logged2.count > logged1.count, "still counting after the hangup")
    }

    /// Blocked reading the terminal: the read is re-issued on /dev/null (EOF, not EIO and not
    /// a SIGHUP death), and the program goes on.
    @Test func blockedReaderGetsEndOfFile() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let py = try d.script("reader.py", "import sys, time\ndata = sys.stdin.buffer.read1(100)\nprint('read returned', len(data), flush=True)\ntime.sleep(1000)\n")
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        usleep(200_000)
        #expect(Files.read("/proc/\(p.pid)/syscall")?.hasPrefix("0 ") ?? false, "blocked in read(0)")
        let r = try d.detach([String(p.pid)])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(waitUntil(timeout: 3) { d.log.contains("read returned 0") }, "log: \(d.log)")
        try d.hangUp(.closeMaster)
        #expect(DetachLab.aliveRunning(p))
    }

    /// nanosleep: the total sleep is neither cut nor extended (the restart_syscall path).
    @Test func nanosleepKeepsItsDuration() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let py = try d.script("nap.py", "import time\nt = time.monotonic()\ntime.sleep(2.0)\nprint('slept %.3f' % (time.monotonic() - t), flush=True)\ntime.sleep(1000)\n")
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        usleep(300_000)
        let r = try d.detach([String(p.pid), "--json"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("\"interrupted_syscall\":230"), "stopped in clock_nanosleep (230): \(r.stdout)")
        #expect(waitUntil(timeout: 4) { d.log.contains("slept") })
        let slept = d.log.split(whereSeparator: { $0 == " " || $0 == "\n" }).last.flatMap { Double(String($0)) } ?? 0
        #expect(slept >= 2.0 && slept < 2.15, "slept \(slept) s for 2.0")
        try d.hangUp(.closeMaster)
        #expect(DetachLab.aliveRunning(p))
    }

    /// A pure CPU loop never enters a syscall: the syscalls run at a vDSO `syscall`, and the
    /// loop's state (a running sum it checks) is intact.
    @Test func cpuLoopSurvives() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let py = try d.script("spin.py", "import time\nn = 0\ns = 0\nlast = time.monotonic()\nwhile True:\n    n += 1\n    s += n\n    if n % 2000000 == 0:\n        assert s == n * (n + 1) // 2\n        print('ok', n, flush=True)\n")
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        usleep(300_000)
        let r = try d.detach([String(p.pid), "--json"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        try d.hangUp(.closeMaster)
        #expect(DetachLab.aliveRunning(p))
        #expect(waitUntil(timeout: 5) { d.log.contains("ok") }, "still computing, correctly: \(d.log.suffix(200))")
    }

    /// A program with a SIGHUP handler keeps it (the group move protects it) and the handler
    /// still runs on a later kill -HUP.
    @Test func hupHandlerKept() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let py = try d.script("hup.py", "import signal, time, sys\ndef h(s, f):\n    print('got HUP', flush=True)\nsignal.signal(signal.SIGHUP, h)\nwhile True:\n    time.sleep(0.1)\n")
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        usleep(300_000)
        let r = try d.detach([String(p.pid)])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(!DetachLab.sigIgnHup(p.pid), "the handler is kept, not ignored")
        try d.hangUp(.closeMaster)
        #expect(DetachLab.aliveRunning(p))
        kill(p.pid, SIGHUP)
        #expect(waitUntil(timeout: 3) { d.log.contains("got HUP") }, "log: \(d.log)")
        #expect(DetachLab.aliveRunning(p))
    }

    /// A stopped job (Ctrl-Z) is continued first, then survives bash's `exit`.
    @Test func stoppedJobSurvivesExit() throws {
        let d = try DetachLab(.bash)
        try d.start()
        d.lab.type("sleep \(d.marker)")
        _ = try d.waitForJob()
        d.lab.pty.write("\u{1a}")
        let p = try d.waitForJob(stopped: true)[0]
        let r = try d.detach([String(p.pid)])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(DetachLab.aliveRunning(p), "continued")
        try d.hangUp(.exit)
        #expect(DetachLab.aliveRunning(p), "died on bash's exit: \(tail(d.lab.output))")
    }

    /// Blocked in poll (timeout), a futex wait (timeout) and wait4 (a child that ends after
    /// 2 s): each call goes on as if nothing happened, its total time unchanged.
    @Test(arguments: [
        ("poll", "import select, os\nr, w = os.pipe()\np = select.poll()\np.register(r, select.POLLIN)\nt = time.monotonic()\np.poll(2000)\n"),
        ("futex", "import threading\ne = threading.Event()\nt = time.monotonic()\ne.wait(2.0)\n"),
        ("wait4", "import os, subprocess\nc = subprocess.Popen(['sleep', '2'])\nt = time.monotonic()\nos.waitpid(c.pid, 0)\n"),
    ])
    func blockedCallsKeepTheirTime(_ kind: String, _ body: String) throws {
        let d = try DetachLab(.bash)
        try d.start()
        let py = try d.script("\(kind).py", "import time\n" + body + "print('took %.3f' % (time.monotonic() - t), flush=True)\ntime.sleep(1000)\n")
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        usleep(400_000)
        let r = try d.detach([String(p.pid), "--only-this", "--json"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let nr = ["poll": 7, "futex": 202, "wait4": 61][kind]!
        #expect(r.stdout.contains("\"interrupted_syscall\":\(nr)"), "stopped in \(kind) (\(nr)): \(r.stdout.prefix(600))")
        #expect(waitUntil(timeout: 4) { d.log.contains("took") }, "log: \(d.log)")
        let took = d.log.split(whereSeparator: { $0 == " " || $0 == "\n" }).last.flatMap { Double(String($0)) } ?? 0
        #expect(took >= 1.95 && took < 2.15, "\(kind) took \(took) s for 2.0")
        #expect(DetachLab.aliveRunning(p))
    }

    /// Signals that arrive while the engine holds the target stopped are re-delivered after it
    /// lets go: the handler counts each kind once.
    @Test func signalsDuringTheInjectionAreRedelivered() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let py = try d.script("sigs.py", "import signal, time\nseen = []\nsignal.signal(signal.SIGUSR1, lambda s, f: seen.append('USR1'))\nsignal.signal(signal.SIGUSR2, lambda s, f: seen.append('USR2'))\nwhile True:\n    time.sleep(0.1)\n    if seen:\n        print('got', ' '.join(sorted(seen)), flush=True)\n        seen.clear()\n")
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        usleep(300_000)
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devnull) }
        var env = Processes.defaultEnvironment()
        env.append("SESSIONTOP_DETACH_TEST_PAUSE_MS=800")
        let out = d.lab.home + "/cli.json"
        let outFD = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let cli = try Processes.spawn([PackagePaths.binary, "detach", String(p.pid), "--yes", "--json", "--log", d.logPath]) {
            $0.environment = env
            $0.fileDescriptors = [(0, devnull), (1, outFD), (2, outFD)]
        }
        close(outFD)
        let stopped = waitUntil(timeout: 5) { d.lab.pump(0.01); return DetachLab.status(p.pid, "State") == "t" }
        kill(p.pid, SIGUSR1)
        kill(p.pid, SIGUSR2)
        let status = Processes.reap(cli)
        #expect(stopped)
        #expect(Processes.exitCode(status) == 0, "\(Files.read(out) ?? "")")
        #expect(Files.read(out)?.contains("\"signals_redelivered\":[") ?? false)
        #expect(waitUntil(timeout: 3) { d.log.contains("got USR1 USR2") }, "log: \(d.log) cli: \(Files.read(out) ?? "")")
        #expect(DetachLab.aliveRunning(p))
    }

    /// The research note's [derived] claim about the group move (§3.3), checked: after the move
    /// (default for a running job) the old job id names an empty group, so the shell's
    /// killpg(job) and the terminal's foreground-group SIGHUP reach no member.
    @Test func oldGroupIsEmptyAfterTheMove() throws {
        let d = try DetachLab(.bash)
        try d.start()
        d.lab.type("sleep \(d.marker) | sleep \(d.marker)")
        let job = try d.waitForJob(count: 2)
        let old = job[0].pgid
        let r = try d.detach([String(job[0].pid)])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        // kill(-old, 0): ESRCH when no process is left in the group.
        #expect(kill(-old, 0) == -1 && errno == ESRCH, "group \(old) still has members")
        kill(-old, SIGTERM)
        usleep(200_000)
        for p in job { #expect(DetachLab.aliveRunning(p)) }
    }

    /// A job that keeps forking (a shell loop starting a `sleep` every 0.2 s): the loop's shell
    /// and the sleep it has at the moment are detached together; after the window closes the
    /// same shell lives on and goes on starting sleeps, each born into the new group with SIGHUP
    /// ignored and stderr in the log (inherited from the detached shell).
    @Test func jobThatKeepsForking() throws {
        let d = try DetachLab(.bash)
        try d.start()
        d.lab.type("sh -c 'while :; do sleep 0.2; done' \(d.marker)")
        let sh = try d.waitForJob()[0]
        let r = try d.detach([String(sh.pid), "--json"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("\"done\":true"), "\(r.stdout.prefix(800))")
        try d.hangUp(.closeMaster)
        #expect(DetachLab.aliveRunning(sh), "the loop's shell died with the window")
        let newGroup = Int32(Files.read("/proc/\(sh.pid)/stat")?.split(separator: ")").last?.split(separator: " ")[2] ?? "") ?? -1
        #expect(newGroup != sh.pgid && newGroup > 0)
        // New children keep coming, each one a new pid, all in the new group, ignoring SIGHUP.
        var seen = Set<Int32>()
        let deadline = monotonicSeconds() + 2
        while monotonicSeconds() < deadline {
            let kids = (Files.read("/proc/\(sh.pid)/task/\(sh.pid)/children") ?? "").split(separator: " ").compactMap { Int32($0) }
            for k in kids where !seen.contains(k) {
                guard let stat = Files.read("/proc/\(k)/stat"), let pg = Int32(stat.split(separator: ")").last?.split(separator: " ")[2] ?? "") else { continue }
                #expect(pg == newGroup, "child \(k) in group \(pg), not \(newGroup)")
                #expect(DetachLab.sigIgnHup(k) || Processes.isGone(k), "child \(k) does not ignore SIGHUP")
                let err = DetachLab.fdTarget(k, 2)
                #expect(err == d.logPath || err.isEmpty, "child \(k) stderr: \(err)")
                seen.insert(k)
            }
            usleep(50_000)
        }
        #expect(seen.count >= 5, "only \(seen.count) sleeps started in 2 s after the hangup")
        #expect(DetachLab.aliveRunning(sh))
    }
}
