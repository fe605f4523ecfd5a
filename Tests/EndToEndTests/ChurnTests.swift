import Testing
import Glibc
import TestSupport
import FuzzHarness
@testable import SessionCore

/// Scanning while processes are born, regroup and die (issue 10): 10 s of 300 spawns/s —
/// new sessions, new groups, members joining groups and then leaving for a session of their own
/// (setsid(1)) — while the scanner keeps reading the live /proc. Every snapshot must be
/// consistent (no pid in two sessions, no group with mixed pgids, tree order complete) and its
/// JSON must parse.
@Suite struct ChurnTests {
    /// The churn, in small processes of their own (python3's os.posix_spawn: vfork-fast, where
    /// a fork of the big test runner is not): WORKERS processes together paced to RATE spawns a
    /// second for SECONDS; each reaps its own children; prints "spawned failed seconds".
    static let churn = """
        import os, sys, time
        rate, seconds, workers = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
        env = {"PATH": "/usr/bin:/bin"}
        r, w = os.pipe()
        for i in range(workers - 1):
            if os.fork() == 0: os.close(r); break
        else:
            os.close(w); w = -1
        rate /= workers
        start = time.monotonic(); n = spawned = failed = 0; leaders = []
        def reap():
            while True:
                try:
                    if os.waitpid(-1, os.WNOHANG)[0] == 0: return
                except ChildProcessError:
                    return
        while time.monotonic() - start < seconds:
            delay = start + n / rate - time.monotonic()
            if delay > 0: time.sleep(delay)
            n += 1
            try:
                if n % 4 == 0 or not leaders:   # a session of its own
                    os.posix_spawn("/bin/sleep", ["sleep", "0.0%d" % (n % 9 + 1)], env, setsid=True)
                elif n % 4 == 1:                # a new group in the helper's session, that others join
                    leaders = (leaders + [os.posix_spawn("/bin/sleep", ["sleep", "0.3"], env, setpgroup=0)])[-8:]
                elif n % 4 == 2:                # joins a group, then leaves it for a new session (setsid(1))
                    os.posix_spawn("/usr/bin/setsid", ["setsid", "/bin/sleep", "0.05"], env, setpgroup=leaders[-1])
                else:                           # joins a group and stays
                    os.posix_spawn("/bin/sleep", ["sleep", "0.1"], env, setpgroup=leaders[-1])
                spawned += 1
            except OSError:
                failed += 1
            reap()
        elapsed = time.monotonic() - start
        while True:                             # every child (and, for the first, the workers)
            try: os.waitpid(-1, 0)
            except ChildProcessError: break
        if w >= 0:                              # a worker: report to the first one, done
            os.write(w, b"%d %d\\n" % (spawned, failed)); os._exit(0)
        for line in os.fdopen(r).read().split("\\n"):
            if line: s, f = line.split(); spawned += int(s); failed += int(f)
        print(spawned, failed, elapsed)
        """

    @Test func scansStayConsistentUnderChurn() throws {
        var out: [Int32] = [-1, -1]
        try #require(pipe(&out) == 0)
        let helper = try Processes.spawn(["python3", "-c", Self.churn, "300", "10", "3"]) {
            $0.fileDescriptors = [(1, out[1])]
            $0.environment = Processes.defaultEnvironment()
        }
        close(out[1])
        defer { close(out[0]); Processes.killAndReap(helper) }

        let reader = try SnapshotReader()
        reader.parallelThreshold = 40  // the two-thread scan too
        var scans = 0, inconsistent = 0, badJSON = 0, cliRuns = 0
        var examples: [String] = []
        var previous: Snapshot?
        var status: Int32?
        while status == nil {
            // Mostly the inspector's cheap tick (stat, and status for a few), every fifth a
            // full scan: many scans in the 10 s even when the machine runs thousands of processes.
            var options = ScanOptions(details: .only([]))
            if scans % 5 == 4 { options = ScanOptions() }
            else if scans % 5 == 2, let p = previous {
                options = ScanOptions(details: .refresh(Set(p.processes.keys.prefix(20)), previous: p))
                options.statusWithDetails = true
            }
            let snap = reader.snapshot(options: options)
            scans += 1
            let problems = SnapshotInvariants.violations(snap)
            if !problems.isEmpty { inconsistent += 1; examples += problems.prefix(2) }
            let json = SnapshotJSON.render(snap, sessions: snap.sessions,
                                           verdicts: HangupAnalysis.ownSessionVerdicts(snap, sessions: snap.sessions))
            if let p = StrictJSON.problem(json) { badJSON += 1; examples.append("JSON: \(p)") }
            previous = snap
            // Now and then the real binary, as a user runs it.
            if scans % 40 == 0 {
                let r = try Processes.runSessiontop(["snapshot", "--json"])
                cliRuns += 1
                if r.status != 0 || StrictJSON.problem(Array(r.stdout.utf8)) != nil { badJSON += 1; examples.append("CLI: \(r.stderr)") }
            }
            var st: Int32 = 0
            if waitpid(helper, &st, WNOHANG) == helper { status = st }
        }
        let report = String(decoding: Files.readAll(out[0]), as: UTF8.self).split(separator: " ").compactMap { Double($0.filter { $0 != "\n" }) }
        #expect(status == 0 && report.count == 3, "the churn helper: \(report)")
        let spawned = report.first ?? 0, seconds = report.last ?? 1
        let rate = spawned / seconds
        print("churn: \(Int(spawned)) spawned in \(Int(seconds)) s (\(Int(rate))/s), \(scans) scans, \(cliRuns) CLI runs, \(inconsistent) inconsistent, \(badJSON) bad JSON")
        #expect(inconsistent == 0, "\(examples.prefix(6))")
        #expect(badJSON == 0, "\(examples.prefix(6))")
        #expect(scans >= 10, "scanned while churning")
        #expect(rate >= 200, "the churn ran near its pace (300/s): \(rate)/s")
    }
}
