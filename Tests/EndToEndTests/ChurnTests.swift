import Testing
import Glibc
import CSessionShims
import TestSupport
import FuzzHarness
@testable import SessionCore

/// Scanning while processes are born, regroup and die (issue 10): 10 s of ~300 spawns/s —
/// new sessions, new groups, members joining groups and then leaving for a session of their own
/// (setsid(1)) — while the scanner keeps reading the live /proc. Every snapshot must be
/// consistent (no pid in two sessions, no group with mixed pgids, tree order complete) and its
/// JSON must parse.
@Suite struct ChurnTests {
    /// Spawns at `rate` per second for `seconds`; reaps its own children by pid.
    final class Churn: @unchecked Sendable {
        let seconds: Double
        let rate: Double
        private(set) var spawned = 0
        private(set) var failed = 0
        private var lock = pthread_mutex_t()
        private var running = true

        init(seconds: Double, rate: Double) {
            self.seconds = seconds
            self.rate = rate
            pthread_mutex_init(&lock, nil)
        }

        var isRunning: Bool {
            pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
            return running
        }

        func run() {
            var live: [Int32] = []
            var leaders: [Int32] = []
            let start = monotonicSeconds()
            var n = 0
            while monotonicSeconds() - start < seconds {
                // Paced: the n-th spawn happens at start + n / rate.
                let due = start + Double(n) / rate
                let now = monotonicSeconds()
                if due > now { usleep(UInt32((due - now) * 1e6)) }
                n += 1
                var r: SpawnRequest
                switch n % 4 {
                case 0:  // a session of its own
                    r = SpawnRequest(["/bin/sleep", "0.0\(n % 9 + 1)"])
                    r.newSession = true
                case 1:  // a new group in our session, that others join
                    r = SpawnRequest(["/bin/sleep", "0.3"])
                    r.processGroup = 0
                case 2:  // joins a group, then leaves it for a new session (setsid(2) in setsid(1))
                    r = SpawnRequest(["/usr/bin/setsid", "/bin/sleep", "0.05"])
                    r.processGroup = leaders.last ?? 0
                default:  // joins a group and stays
                    r = SpawnRequest(["/bin/sleep", "0.1"])
                    r.processGroup = leaders.last ?? 0
                }
                r.fileDescriptors = []
                if let pid = try? Spawner.spawn(r) {
                    spawned += 1
                    live.append(pid)
                    if n % 4 == 1 { leaders.append(pid); if leaders.count > 8 { leaders.removeFirst() } }
                } else {
                    failed += 1
                }
                live.removeAll { pid in
                    var status: Int32 = 0
                    return waitpid(pid, &status, WNOHANG) == pid
                }
            }
            for pid in live { Processes.killAndReap(pid) }
            pthread_mutex_lock(&lock)
            running = false
            pthread_mutex_unlock(&lock)
        }
    }

    @Test func scansStayConsistentUnderChurn() throws {
        let churn = Churn(seconds: 10, rate: 300)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(churn)
        try #require(pthread_create(&thread, nil, { raw in
            Unmanaged<Churn>.fromOpaque(raw!).takeUnretainedValue().run()
            return nil
        }, box.toOpaque()) == 0)
        defer { pthread_join(thread, nil); box.release() }

        let reader = try SnapshotReader()
        reader.parallelThreshold = 40  // the two-thread scan too
        var scans = 0, inconsistent = 0, badJSON = 0, cliRuns = 0
        var examples: [String] = []
        var previous: Snapshot?
        while churn.isRunning {
            var options = ScanOptions()
            if scans % 3 == 2, let p = previous {
                options = ScanOptions(details: .refresh([], previous: p))
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
        }
        let rate = Double(churn.spawned) / churn.seconds
        print("churn: \(churn.spawned) spawned (\(Int(rate))/s, \(churn.failed) failed joins), \(scans) scans, \(cliRuns) CLI runs, \(inconsistent) inconsistent, \(badJSON) bad JSON")
        #expect(inconsistent == 0, "\(examples.prefix(6))")
        #expect(badJSON == 0, "\(examples.prefix(6))")
        #expect(scans >= 100, "scanned while churning")
        #expect(rate >= 250, "the churn ran near its pace (300/s): \(rate)/s")
    }
}
