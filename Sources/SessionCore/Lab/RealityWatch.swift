import CSessionShims
#if canImport(Glibc)
import Glibc
#endif

/// One process's prediction, frozen just before the event happens for real.
public struct FrozenPrediction: Hashable, Sendable {
    public var identity: ProcessIdentity
    public var ppid: Int32
    public var pgid: Int32
    public var sid: Int32
    public var command: String
    public var verdict: Verdict
}

/// The prediction for every process an event on a session's terminal reaches (its members and
/// the outsiders holding the terminal), with each process's identity (pid + start time), taken
/// just before the event. The snapshot must have been read with details (signal masks, fds).
public struct PredictionFreeze: Hashable, Sendable {
    public var sid: Int32
    public var tty: String?
    public var event: HangupEvent
    /// Seconds since the epoch, when frozen.
    public var wallTime: Double
    /// The shell that leads the session (`bash`), when known.
    public var shell: String
    /// Leader first, then by pid.
    public var entries: [FrozenPrediction]

    public init?(_ snap: Snapshot, session sid: Int32, event: HangupEvent,
                 verdicts given: [Int32: Verdict]? = nil, wallTime: Double = PredictionFreeze.now()) {
        guard let s = snap.session(sid) else { return nil }
        let verdicts = given ?? HangupAnalysis.analyze(snap, session: sid, event: event)
        self.sid = sid
        tty = s.tty
        self.event = event
        self.wallTime = wallTime
        shell = snap.process(sid)?.commText ?? "?"
        var out: [FrozenPrediction] = []
        for (pid, v) in verdicts {
            guard let p = snap.process(pid), !p.state.isGone else { continue }
            out.append(FrozenPrediction(identity: p.identity, ppid: p.ppid, pgid: p.pgid, sid: p.sid,
                                        command: p.commandLine, verdict: v))
        }
        // Members who got no verdict (none today) would still be watched: every member.
        for g in s.groups {
            for pid in g.members where verdicts[pid] == nil {
                guard let p = snap.process(pid), !p.state.isGone else { continue }
                out.append(FrozenPrediction(identity: p.identity, ppid: p.ppid, pgid: p.pgid, sid: p.sid, command: p.commandLine,
                                            verdict: Verdict(fate: .unaffected, certain: false, reasons: ["uncertain: no verdict was computed"])))
            }
        }
        entries = out.sorted { ($0.identity.pid == sid ? 0 : 1, $0.identity.pid) < ($1.identity.pid == sid ? 0 : 1, $1.identity.pid) }
    }

    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// "14:02" in local time.
    public var clockText: String {
        var t = time_t(wallTime)
        var tmv = tm()
        localtime_r(&t, &tmv)
        return String(format2(tmv.tm_hour)) + ":" + format2(tmv.tm_min)
    }
}

func format2(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }

/// What really happened to a process after the event.
public enum Reality: Hashable, Sendable {
    case alive(stopped: Bool)
    /// Exited by itself with this code (seen as a zombie, or waited for).
    case exited(code: Int32)
    /// Ended by this signal (seen as a zombie, or waited for).
    case killed(signal: Int32)
    /// Gone before its status could be seen (its parent reaped it first).
    case died

    public var isDead: Bool { if case .alive = self { return false } else { return true } }

    public var text: String {
        switch self {
        case .alive(let stopped): return stopped ? "alive (stopped)" : "alive"
        case .exited(let code): return "exited (status \(code))"
        case .killed(let sig): return "dead (\(Signals.name(of: sig)))"
        case .died: return "dead (how: unknown)"
        }
    }

    /// Short form for narrow tables.
    public var short: String {
        switch self {
        case .alive(let stopped): return stopped ? "alive, stopped" : "alive"
        case .exited(let code): return "exited \(code)"
        case .killed(let sig): return "dead, \(Signals.name(of: sig))"
        case .died: return "dead, ?"
        }
    }

    /// From a raw wait status (waitpid(2) / `/proc/<pid>/stat` field 52).
    public init(waitStatus s: Int32) {
        let sig = s & 0x7f
        if sig == 0 { self = .exited(code: (s >> 8) & 0xff) } else { self = .killed(signal: sig) }
    }
}

/// One row of the prediction-vs-reality table.
public struct RealityRow: Hashable, Sendable {
    public var prediction: FrozenPrediction
    public var reality: Reality
    /// The prediction said otherwise.
    public var surprise: Bool
    /// For a surprise: the rule that should have said otherwise (or that spoke wrongly).
    public var rule: String?
}

/// The prediction next to what happened, and the figures for the summary line.
public struct RealityTable: Hashable, Sendable {
    public var freeze: PredictionFreeze
    public var rows: [RealityRow]
    /// Seconds watched after the event.
    public var watched: Double

    public var surprises: Int { rows.filter(\.surprise).count }
    public var diedAsPredicted: Int { rows.filter { !$0.surprise && $0.prediction.verdict.fate == .dies }.count }
    public var survivedAsPredicted: Int {
        rows.filter { !$0.surprise && ($0.prediction.verdict.fate == .survives || $0.prediction.verdict.fate == .unaffected) }.count
    }
    public var atRisk: Int { rows.filter { !$0.surprise && $0.prediction.verdict.fate == .atRisk }.count }

    /// "4 died as predicted, 1 survived as predicted, 0 surprises".
    public var summary: String {
        var parts = ["\(diedAsPredicted) died as predicted", "\(survivedAsPredicted) survived as predicted"]
        if atRisk > 0 { parts.append("\(atRisk) at risk") }
        parts.append("\(surprises) surprise\(surprises == 1 ? "" : "s")")
        return parts.joined(separator: ", ")
    }

    /// Compares each frozen prediction with what was seen.
    public init(freeze: PredictionFreeze, outcomes: [ProcessIdentity: Reality], watched: Double) {
        self.freeze = freeze
        self.watched = watched
        rows = freeze.entries.map { e in
            let r = outcomes[e.identity] ?? .alive(stopped: false)
            let (surprise, rule) = Self.judge(e, r, event: freeze.event)
            return RealityRow(prediction: e, reality: r, surprise: surprise, rule: rule)
        }
    }

    /// dies ↔ dead (by a signal a hangup rule sends); survives / unaffected ↔ alive; at-risk
    /// ↔ either (what the program does on EOF/EIO is its own choice); exited ↔ anything.
    static func judge(_ e: FrozenPrediction, _ r: Reality, event: HangupEvent) -> (Bool, String?) {
        let v = e.verdict
        let decided = v.reasons.last ?? "no reason given"
        switch v.fate {
        case .dies:
            if !r.isDead {
                let who: String
                switch v.by {
                case .kernel?: who = "the kernel's hangup rule (drivers/tty/tty_jobctrl.c tty_signal_session_leader, kernel/exit.c disassociate_ctty)"
                case .shell?: who = "the shell's SIGHUP to its jobs (bash jobs.c hangup_all_jobs, zsh signals.c killrunjobs, fish hup_jobs)"
                case .orphanedGroup?: who = "the orphaned-group rule (kernel/exit.c kill_orphaned_pgrp)"
                case .logind?: who = "logind's KillUserProcesses rule (logind.conf(5))"
                case .io?, nil: who = "the I/O rule"
                }
                return (true, "predicted dead by \(who), but it lived; that rule said: \(decided)")
            }
            if case .killed(let sig) = r, sig == Signals.kill, v.by != .logind,
               !(event == .leaderExit && e.identity.pid == e.sid) {
                return (true, "died, but by SIGKILL, which no hangup rule sends: something outside the event killed it")
            }
            return (false, nil)
        case .atRisk, .exited:
            if case .killed(let sig) = r, sig == Signals.kill, v.fate == .atRisk {
                return (true, "died by SIGKILL, which no hangup rule sends: something outside the event killed it")
            }
            return (false, nil)
        case .survives, .unaffected:
            guard r.isDead else { return (false, nil) }
            switch r {
            case .killed(let sig) where sig == Signals.hup:
                return (true, "a SIGHUP reached it: the kernel's hangup rule (tty_jobctrl.c) or the shell's job table (hangup_all_jobs) should have said so; predicted from: \(decided)")
            case .killed(let sig) where sig == Signals.term:
                return (true, "a SIGTERM reached it: the shell's or logind's rule (KillUserProcesses) should have said so")
            case .killed(let sig) where sig == Signals.kill:
                return (true, "SIGKILL, which no hangup rule sends: something outside the event killed it")
            case .killed(let sig):
                return (true, "\(Signals.name(of: sig)) killed it: no rule of the model sends that")
            case .exited:
                return (true, "it exited by itself: the I/O rule (EOF/EIO on the dead terminal, n_tty.c) should have marked it at risk")
            default:
                return (true, "it died and sessiontop could not see how: compare the kernel rule (tty_jobctrl.c) and the shell's job table")
            }
        }
    }
}

/// Watches the processes of a freeze after the event: alive, or dead and how (exit status or
/// signal from the zombie's `/proc/<pid>/stat` field 52, or from waitid(2) with WNOWAIT when
/// sessiontop is the parent — the status stays for the real parent to collect). Polls until
/// nothing changed for `quiet` seconds (at least `minimum`, at most `maximum`).
public final class RealityWatch {
    public let freeze: PredictionFreeze
    public private(set) var outcomes: [ProcessIdentity: Reality] = [:]
    private let root: String
    private let startedAt: Double
    private var lastChange: Double
    private var dirFDs: [Int32: Int32] = [:]

    /// Opens each process's /proc directory now (before the event): a pid that is recycled
    /// later is still told apart by its start time.
    public init(_ freeze: PredictionFreeze, procRoot: String = "/proc", now: Double = RealityWatch.monotonic()) {
        self.freeze = freeze
        root = procRoot
        startedAt = now
        lastChange = now
        for e in freeze.entries {
            let fd = open("\(procRoot)/\(e.identity.pid)", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 { dirFDs[e.identity.pid] = fd }
        }
    }

    deinit { for (_, fd) in dirFDs { close(fd) } }

    public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Looks once at every process not yet known dead; true when something changed.
    @discardableResult
    public func observe(now: Double = RealityWatch.monotonic()) -> Bool {
        var changed = false
        for e in freeze.entries {
            if let known = outcomes[e.identity], known.isDead { continue }
            let r = look(e)
            if outcomes[e.identity] != r {
                outcomes[e.identity] = r
                changed = true
            }
        }
        if changed { lastChange = now }
        return changed
    }

    /// Nothing changed for `quiet` seconds and at least `minimum` passed, or `maximum` passed.
    public func settled(now: Double = RealityWatch.monotonic(), quiet: Double = 1.2, minimum: Double = 1.0,
                        maximum: Double = 6) -> Bool {
        let age = now - startedAt
        if age >= maximum { return true }
        return age >= minimum && now - lastChange >= quiet
    }

    public func table(now: Double = RealityWatch.monotonic()) -> RealityTable {
        RealityTable(freeze: freeze, outcomes: outcomes, watched: now - startedAt)
    }

    /// Watches until settled (blocking, 100 ms between looks).
    public func run(quiet: Double = 1.2, minimum: Double = 1.0, maximum: Double = 6) -> RealityTable {
        observe()
        while !settled(quiet: quiet, minimum: minimum, maximum: maximum) {
            usleep(100_000)
            observe()
        }
        return table()
    }

    private func look(_ e: FrozenPrediction) -> Reality {
        let pid = e.identity.pid
        // Ours to wait for: peek (WNOWAIT) so the caller can still reap it.
        if e.ppid == getpid() {
            var exited: Int32 = 0, value: Int32 = 0
            if st_peek_child_exit(pid, &exited, &value) == 1 {
                return exited != 0 ? .exited(code: value) : .killed(signal: value)
            }
        }
        guard let dir = dirFDs[pid] else { return .died }
        let fd = openat(dir, "stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .died }  // ESRCH: the directory is of a reaped process
        var buf = [UInt8](repeating: 0, count: 2048)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard n > 0, let st = try? StatParser.parse(Array(buf[0..<n])), st.startTime == e.identity.startTime else { return .died }
        switch st.state {
        case UInt8(ascii: "Z"), UInt8(ascii: "X"):
            if let code = StatParser.exitCode(Array(buf[0..<n])) { return Reality(waitStatus: code) }
            return .died
        case UInt8(ascii: "T"), UInt8(ascii: "t"): return .alive(stopped: true)
        default: return .alive(stopped: false)
        }
    }
}

extension StatParser {
    /// Field 52 of `/proc/<pid>/stat` (exit_code, Linux 3.5): the wait status of a zombie, as
    /// waitpid(2) would return it; nil when the field is missing or malformed.
    public static func exitCode(_ bytes: [UInt8]) -> Int32? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let tail = bytes[(close + 1)...].split(whereSeparator: { $0 == 0x20 || $0 == 0x0a })
        // Fields 3…52 follow the comm: the 50th token is field 52.
        guard tail.count >= 50 else { return nil }
        let tok = tail[tail.startIndex + 49]
        var v: Int64 = 0
        for b in tok {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            v = v * 10 + Int64(b - 0x30)
            if v > Int64(Int32.max) { return nil }
        }
        return tok.isEmpty ? nil : Int32(v)
    }
}
