import Testing
import Glibc
import TestSupport
import SessionCore

/// Issue 8 §2 and §5: refusals (one line, target untouched), crash safety (SIGKILL of
/// sessiontop mid-injection), undo of a run that fails part way, and a multithreaded target
/// detached 50 times in a row.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DetachSafetyTests {
    /// What a refusal must leave as it was.
    struct Untouched: Equatable {
        var sigIgn: String?, fd0: String, fd1: String, pgid: String?, tracer: String?
        init(_ pid: Int32) {
            sigIgn = DetachLab.status(pid, "SigIgn")
            fd0 = DetachLab.fdTarget(pid, 0)
            fd1 = DetachLab.fdTarget(pid, 1)
            pgid = Files.read("/proc/\(pid)/stat")?.split(separator: ")").last?.split(separator: " ")[2].description
            tracer = DetachLab.status(pid, "TracerPid")
        }
    }

    func expectRefused(_ r: Processes.Output, _ needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status != 0, sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.contains(needle), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func refusesATracedProcess() throws {
        let d = try DetachLab(.bash)
        try d.start()
        d.lab.type("strace -o /dev/null sleep \(d.marker)")
        let procs = try d.waitForJob(count: 2)
        let sleep = try #require(procs.first { $0.argv.hasPrefix("sleep") })
        try #require(waitUntil(timeout: 3) { DetachLab.status(sleep.pid, "TracerPid") != "0" })
        let before = Untouched(sleep.pid)
        let r = try d.detach([String(sleep.pid), "--only-this"])
        expectRefused(r, "already traced by pid")
        #expect(Untouched(sleep.pid) == before)
        #expect(!HangupLab.isDead(sleep.pid, start: sleep.start))
    }

    @Test func refusesASeccompFilteredProcess() throws {
        let d = try DetachLab(.bash)
        try d.start()
        // A filter that allows everything (one BPF_RET|BPF_K SECCOMP_RET_ALLOW): Seccomp: 2.
        let py = try d.script("filtered.py", """
            import ctypes, struct, time
            libc = ctypes.CDLL(None, use_errno=True)
            insn = struct.pack('HBBI', 0x06, 0, 0, 0x7fff0000)
            buf = ctypes.create_string_buffer(insn)
            class Prog(ctypes.Structure):
                _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
            prog = Prog(1, ctypes.addressof(buf))
            assert libc.prctl(38, 1, 0, 0, 0) == 0
            assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0
            while True:
                time.sleep(0.2)

            """)
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        try #require(waitUntil(timeout: 3) { DetachLab.status(p.pid, "Seccomp") == "2" })
        let before = Untouched(p.pid)
        let r = try d.detach([String(p.pid)])
        expectRefused(r, "seccomp filter")
        #expect(Untouched(p.pid) == before)
        #expect(DetachLab.aliveRunning(p))
    }

    @Test func refusesPid1() throws {
        let before = Untouched(1)
        let r = try Processes.runSessiontop(["detach", "1", "--yes"])
        expectRefused(r, "pid 1 (init)")
        #expect(Untouched(1) == before)
    }

    /// Another user's process, without privilege: sessiontop runs as nobody against our (root's)
    /// job.
    @Test func refusesAnotherUsersProcess() throws {
        let nobody = try #require(Daemonizer.lookUpUser("nobody"))
        let d = try DetachLab(.bash)
        try d.start()
        d.lab.type("sleep \(d.marker)")
        let p = try d.waitForJob()[0]
        let before = Untouched(p.pid)
        let r = try Processes.runSessiontop(["detach", String(p.pid), "--yes", "--log", "/tmp/never-\(p.pid).log"],
                                            user: (nobody.uid, nobody.gid, []))
        expectRefused(r, "runs as uid 0")
        #expect(Untouched(p.pid) == before)
        #expect(DetachLab.aliveRunning(p))
    }

    /// SIGKILL of sessiontop while the engine has every member stopped and changed: the helper
    /// (own session, signals blocked) finishes, so the target is neither left stopped nor
    /// traced, and it is detached and keeps counting.
    @Test func sigkillOfSessiontopMidInjection() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let py = try d.script("counter.py", "import time\ni = 0\nwhile True:\n    print(i, flush=True)\n    i += 1\n    time.sleep(0.05)\n")
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        var env = Processes.defaultEnvironment()
        env.append("SESSIONTOP_DETACH_TEST_PAUSE_MS=1500")
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devnull) }
        let cli = try Processes.spawn([PackagePaths.binary, "detach", String(p.pid), "--yes", "--log", d.logPath]) {
            $0.environment = env
            $0.fileDescriptors = [(0, devnull), (1, devnull), (2, devnull)]
        }
        // Mid-injection: traced and stopped by the helper.
        let traced = waitUntil(timeout: 5) { d.lab.pump(0.01); return DetachLab.status(p.pid, "TracerPid") != "0" }
        usleep(200_000)
        let stateDuring = DetachLab.status(p.pid, "State")
        kill(cli, SIGKILL)
        _ = Processes.reap(cli)
        #expect(traced && stateDuring == "t", "stopped under the helper when killed (state \(stateDuring ?? "?"))")
        #expect(waitUntil(timeout: 5) { DetachLab.status(p.pid, "TracerPid") == "0" }, "the helper let go")
        #expect(DetachLab.aliveRunning(p))
        #expect(DetachLab.fdTarget(p.pid, 1) == d.logPath)
        let n = DetachLab.integers(d.log).count
        #expect(waitUntil(timeout: 3) { DetachLab.integers(d.log).count > n + 3 }, "still counting")
        try d.hangUp(.closeMaster)
        #expect(DetachLab.aliveRunning(p))
    }

    /// A failure after the second of three members was changed: every changed member is put
    /// back (fds on the terminal, SIGHUP default, old group), the result says so, exit 1.
    @Test func midwayFailureIsUndone() throws {
        let d = try DetachLab(.bash)
        try d.start()
        d.lab.type("sleep \(d.marker) | sleep \(d.marker) | sleep \(d.marker)")
        let job = try d.waitForJob(count: 3)
        let before = job.map { Untouched($0.pid) }
        let r = try d.detach([String(job[0].pid)], environment: ["SESSIONTOP_DETACH_TEST_FAIL_AFTER=1"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("not detached") && r.stdout.contains("already changed were restored"), "\(r.stdout)")
        #expect(job.map { Untouched($0.pid) } == before)
        for p in job { #expect(DetachLab.aliveRunning(p)) }
        // Not protected: the hangup still reaches it (nothing was left half done).
        try d.hangUp(.closeMaster)
        for p in job { #expect(HangupLab.isDead(p.pid, start: p.start), "\(p.pid) was restored, so the hangup kills it") }
    }

    /// A Python with a printing thread, detached 50 times in a row: no hang, never left
    /// stopped, and its lines go on without gap or duplicate.
    @Test func multithreadedFiftyTimes() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let py = try d.script("threads.py", """
            import threading, time
            def printer():
                i = 0
                while True:
                    print(i, flush=True)
                    i += 1
                    time.sleep(0.05)
            t = threading.Thread(target=printer)
            t.start()
            t.join()

            """)
        d.lab.type("python3 \(py) \(d.marker)")
        let p = try d.waitForJob()[0]
        d.lab.pump(0.3)
        var worst = 0.0
        for i in 0..<50 {
            let t = monotonicSeconds()
            let r = try d.detach([String(p.pid)])
            worst = max(worst, monotonicSeconds() - t)
            try #require(r.status == 0, "run \(i): \(r.stdout) \(r.stderr)")
            #expect(DetachLab.aliveRunning(p), "run \(i)")
            d.lab.pump(0.01)
        }
        #expect(worst < 5, "slowest run \(worst) s")
        d.lab.pump(0.3)
        let all = DetachLab.integers(String(decoding: d.lab.output, as: UTF8.self)) + DetachLab.integers(d.log)
        #expect(!all.isEmpty && all == Array(all[0]...(all[0] + all.count - 1)), "gap or duplicate")
        try d.hangUp(.closeMaster)
        #expect(DetachLab.aliveRunning(p))
    }
}
