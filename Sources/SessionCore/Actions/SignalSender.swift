import CSessionShims
#if canImport(Glibc)
import Glibc
#endif

/// What a signal is aimed at. A process is named by its identity (pid + start time, `/proc/<pid>/stat`
/// field 22) so a recycled pid is never hit; a group or a session is re-resolved at send time.
public enum SignalTarget: Hashable, Sendable, CustomStringConvertible {
    case process(ProcessIdentity)
    case group(Int32)
    case session(Int32)

    public var description: String {
        switch self {
        case .process(let id): return "process \(id.pid)"
        case .group(let g): return "process group \(g)"
        case .session(let s): return "session \(s)"
        }
    }
}

/// Why a target is refused before anything is sent (overridden by `force`).
public enum SignalRefusal: Hashable, Sendable, CustomStringConvertible {
    /// Pid 1: the whole machine (or container) goes with it.
    case initProcess
    /// Kernel threads (`/proc/<pid>/stat` field 9, PF_KTHREAD) ignore or mishandle signals.
    case kernelThread(pid: Int32)
    /// sessiontop would signal itself.
    case sessiontopItself(pid: Int32)
    /// Nothing to signal: the group or session has no member.
    case noMembers
    /// The pid is a thread (`/proc/<tid>/status` Tgid differs): pidfds name processes.
    case thread(tid: Int32, process: Int32)

    public var description: String {
        switch self {
        case .initProcess: return "refusing to signal pid 1 (init) without --force"
        case .kernelThread(let p): return "refusing to signal kernel thread \(p) without --force"
        case .sessiontopItself(let p): return "refusing to signal sessiontop itself (pid \(p)) without --force"
        case .noMembers: return "no such process group or session"
        case .thread(let t, let p): return "pid \(t) is a thread of process \(p): signal the process (--pid \(p))"
        }
    }
}

/// What happened to one member.
public enum SignalOutcome: Hashable, Sendable {
    case sent
    /// ESRCH, or a zombie: it exited before the signal.
    case vanished
    /// EPERM: not ours to signal.
    case denied
    /// The pid now belongs to another process (its start time differs): nothing was sent.
    case recycled(foundStartTime: UInt64)
    /// It left the group or session after it was resolved (setpgid/setsid): skipped, nothing
    /// sent. `now` is its pgid (for a group target) or sid (for a session) at the re-check.
    case left(SignalTarget, now: Int32)
    case refused(SignalRefusal)
    case failed(Errno)

    public var isSent: Bool { self == .sent }
    /// Not sent because it is no longer part of the target: not a failure.
    public var isSkipped: Bool { if case .left = self { return true } else { return false } }
}

/// One member's result.
public struct SignalMemberResult: Hashable, Sendable {
    public var identity: ProcessIdentity
    /// argv (or `[comm]`) as it was when resolved, safe to print.
    public var command: String
    public var outcome: SignalOutcome

    /// One line for the user: `sent TERM to 1234 (sleep 100)` or the error.
    public func line(signal: Int32) -> String {
        let who = "pid \(identity.pid)" + (command.isEmpty ? "" : " (\(command))")
        let name = Signals.name(of: signal)
        switch outcome {
        // Signal 0 is a probe (kill(2): "error checking is still performed"): nothing is sent.
        case .sent: return signal == 0 ? "\(who) exists" : "sent SIG\(name) to \(who)"
        case .vanished: return "\(who): no such process (it has exited)"
        case .denied: return "\(who): permission denied"
        case .recycled(let t):
            return "pid \(identity.pid): refused: the pid was recycled (start time \(t), expected \(identity.startTime)); nothing sent"
        case .refused(let r): return "\(who): \(r)"
        case .failed(let e): return "\(who): \(e.message)"
        case .left(let target, let now):
            let kind: String
            switch target {
            case .group: kind = "process group"
            case .session: kind = "session"
            case .process: kind = "process"
            }
            return "\(who): skipped: it left \(target) (now in \(kind) \(now)); nothing sent"
        }
    }
}

/// The result of one send.
public struct SignalReport: Hashable, Sendable {
    public var target: SignalTarget
    public var signal: Int32
    /// Set when the whole target was refused: then nothing was sent.
    public var refusal: SignalRefusal?
    public var members: [SignalMemberResult]

    /// Nothing refused, something sent, and every member got it, but those that had left the
    /// group or session by the time of their send (they are no longer the target).
    public var allSent: Bool {
        refusal == nil && sentCount > 0 && members.allSatisfy { $0.outcome.isSent || $0.outcome.isSkipped }
    }
    public var sentCount: Int { members.filter { $0.outcome.isSent }.count }
    public var skippedCount: Int { members.filter { $0.outcome.isSkipped }.count }

    /// A short line for a status bar: `SIGTERM → process group 812: 3 sent` / the first error.
    public var summary: String {
        let name = "SIG" + Signals.name(of: signal)
        if let r = refusal { return "\(name) → \(target): \(r)" }
        if case .process = target, let m = members.first { return m.line(signal: signal) }
        let failed = members.count - sentCount - skippedCount
        return "\(name) → \(target): \(sentCount) sent" + (skippedCount > 0 ? ", \(skippedCount) skipped (left)" : "")
            + (failed > 0 ? ", \(failed) not sent" : "")
    }

    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        w.object { w in
            w.key("signal"); w.int(signal)
            w.key("name"); w.string("SIG" + Signals.name(of: signal))
            w.key("target")
            w.object { w in
                switch target {
                case .process(let id):
                    w.key("kind"); w.string("process"); w.key("pid"); w.int(id.pid)
                    w.key("start_time"); w.int(id.startTime)
                case .group(let g): w.key("kind"); w.string("group"); w.key("pgid"); w.int(g)
                case .session(let s): w.key("kind"); w.string("session"); w.key("sid"); w.int(s)
                }
            }
            w.key("refused")
            if let r = refusal { w.string(r.description) } else { w.null() }
            w.key("ok"); w.bool(allSent)
            w.key("members")
            w.array { w in
                for m in members {
                    w.object { w in
                        w.key("pid"); w.int(m.identity.pid)
                        w.key("start_time"); w.int(m.identity.startTime)
                        w.key("command"); w.string(m.command)
                        w.key("outcome")
                        switch m.outcome {
                        case .sent: w.string("sent")
                        case .vanished: w.string("vanished")
                        case .denied: w.string("denied")
                        case .recycled: w.string("recycled")
                        case .refused: w.string("refused")
                        case .failed: w.string("failed")
                        case .left: w.string("skipped")
                        }
                        w.key("message"); w.string(m.line(signal: signal))
                    }
                }
            }
        }
        var out = w.bytes
        out.append(0x0a)
        return out
    }
}

/// Sends signals through pidfds (pidfd_open(2), pidfd_send_signal(2)): open the pidfd, then check
/// that `/proc/<pid>/stat` field 22 still shows the expected start time — the pidfd pins the
/// process, so a match means the pidfd is that very process — and only then signal it.
public struct SignalSender {
    public let proc: ProcReader
    /// sessiontop's own pid (guard rail).
    public let selfPid: Int32
    /// Tests only: runs before each member's send, after the group or session was resolved
    /// (so a test can make a member leave at exactly that moment).
    var beforeEachSend: ((ProcessIdentity) -> Void)?

    /// Works on the live /proc: pidfds only make sense there.
    public init() throws(ProcReader.OpenError) {
        proc = try ProcReader(root: "/proc")
        selfPid = getpid()
    }

    /// The current identity of `pid` (for a target typed by a user), nil if none.
    public func identity(of pid: Int32) -> ProcessIdentity? {
        guard let st = stat(pid) else { return nil }
        return ProcessIdentity(pid: pid, startTime: st.startTime)
    }

    /// Sends `signal` (0 checks only) to the target. Groups and sessions are re-resolved from a
    /// fresh scan of `/proc/*/stat` (fields 5 and 6); each member is sent to as a process. When
    /// new members appear while sending (a fork), they are sent to as well (up to 3 rounds).
    public func send(_ signal: Int32, to target: SignalTarget, force: Bool = false) -> SignalReport {
        var report = SignalReport(target: target, signal: signal, refusal: nil, members: [])
        switch target {
        case .process(let id):
            let st = stat(id.pid)
            let command = commandLine(id.pid)
            // /proc/<tid> of a thread opens like a process's; its status says whose it is.
            if let tgid = threadGroup(id.pid), tgid != id.pid {
                let r = SignalRefusal.thread(tid: id.pid, process: tgid)
                report.refusal = r
                report.members = [SignalMemberResult(identity: id, command: command, outcome: .refused(r))]
                return report
            }
            if let st, st.startTime == id.startTime, !force, let r = refusal(st) {
                report.refusal = r
                report.members = [SignalMemberResult(identity: id, command: command, outcome: .refused(r))]
                return report
            }
            report.members = [SignalMemberResult(identity: id, command: command,
                                                 outcome: sendChecked(signal, id))]
            return report
        case .group, .session:
            var done = Set<ProcessIdentity>()
            for round in 0..<3 {
                let members = resolve(target)
                if round == 0 {
                    if members.isEmpty { report.refusal = .noMembers; return report }
                    if !force, let r = members.lazy.compactMap({ self.refusal($0) }).first {
                        report.refusal = r
                        return report
                    }
                }
                var fresh = false
                for st in members {
                    let id = ProcessIdentity(pid: st.pid, startTime: st.startTime)
                    if done.contains(id) { continue }
                    if round > 0 && !force && refusal(st) != nil { continue }
                    done.insert(id)
                    fresh = true
                    report.members.append(SignalMemberResult(identity: id, command: commandLine(st.pid),
                                                             outcome: sendChecked(signal, id, stillIn: target)))
                }
                if !fresh || signal == 0 { break }
            }
            return report
        }
    }

    /// The per-process step: pidfd, start-time check, pidfd_send_signal. With `stillIn` (a
    /// group or session), the member's pgid or sid is re-checked in the same read of
    /// `/proc/<pid>/stat` that checks the start time, right before the send: once the pidfd is
    /// open and the start time matches, that stat is the pinned process's, so a member that
    /// left (setpgid/setsid) after the group was resolved is skipped, not hit.
    public func sendChecked(_ signal: Int32, _ id: ProcessIdentity, stillIn target: SignalTarget? = nil) -> SignalOutcome {
        beforeEachSend?(id)
        let pidfd = st_pidfd_open(id.pid, 0)
        if pidfd < 0 { return outcome(Errno.current) }
        defer { close(pidfd) }
        guard let st = stat(id.pid) else { return .vanished }
        if st.startTime != id.startTime { return .recycled(foundStartTime: st.startTime) }
        if st.state == UInt8(ascii: "Z") || st.state == UInt8(ascii: "X") { return .vanished }
        switch target {
        case .group(let g)? where st.pgid != g: return .left(.group(g), now: st.pgid)
        case .session(let s)? where st.sid != s: return .left(.session(s), now: st.sid)
        default: break
        }
        if st_pidfd_send_signal(pidfd, signal, 0) < 0 { return outcome(Errno.current) }
        return .sent
    }

    /// Waits until the process has exited (its pidfd polls readable, pidfd_open(2)) or `timeout`
    /// seconds pass. True when it is gone (or already was, or the pid was recycled).
    public func waitForExit(_ id: ProcessIdentity, timeout: Double) -> Bool {
        let pidfd = st_pidfd_open(id.pid, 0)
        if pidfd < 0 { return true }
        defer { close(pidfd) }
        guard let st = stat(id.pid), st.startTime == id.startTime else { return true }
        var pfd = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        var remaining = Int32(timeout * 1000)
        while true {
            let start = monotonicMillis()
            let r = poll(&pfd, 1, remaining)
            if r > 0 { return true }
            if r == 0 { return false }
            if errno != EINTR { return false }
            remaining -= Int32(monotonicMillis() - start)
            if remaining <= 0 { return false }
        }
    }

    /// SIGTERM (+ SIGCONT if stopped), then SIGKILL if it has not exited after `timeout` seconds.
    /// Returns the reports, in order.
    public func terminate(_ id: ProcessIdentity, timeout: Double, force: Bool = false) -> [SignalReport] {
        let term = send(Signals.term, to: .process(id), force: force)
        guard term.allSent else { return [term] }
        // A stopped process takes SIGTERM only when continued (kernel/signal.c): wake it.
        var reports = [term]
        if let st = stat(id.pid), st.startTime == id.startTime,
           st.state == UInt8(ascii: "T") || st.state == UInt8(ascii: "t") {
            reports.append(send(Signals.cont, to: .process(id), force: force))
        }
        if waitForExit(id, timeout: timeout) { return reports }
        let kill = send(Signals.kill, to: .process(id), force: force)
        if kill.allSent { _ = waitForExit(id, timeout: 2) }
        return reports + [kill]
    }

    // MARK: -

    func refusal(_ st: ProcStat) -> SignalRefusal? {
        if st.pid == 1 { return .initProcess }
        if st.isKernelThread || st.pid == 2 || st.ppid == 2 { return .kernelThread(pid: st.pid) }
        if st.pid == selfPid { return .sessiontopItself(pid: st.pid) }
        return nil
    }

    /// Members of a group (stat field 5) or session (field 6), by a scan of `/proc/*/stat`.
    func resolve(_ target: SignalTarget) -> [ProcStat] {
        var out: [ProcStat] = []
        for pid in proc.pids() {
            guard let st = stat(pid) else { continue }
            switch target {
            case .group(let g): if st.pgid == g && !st.isKernelThread { out.append(st) }
            case .session(let s): if st.sid == s && !st.isKernelThread { out.append(st) }
            case .process(let id): if pid == id.pid { out.append(st) }
            }
        }
        return out
    }

    func stat(_ pid: Int32) -> ProcStat? {
        guard case .success(let dir) = proc.openProcess(pid) else { return nil }
        defer { close(dir) }
        guard case .success(let parsed) = proc.read(dirfd: dir, "stat", limit: ProcReader.Limit.stat, { try? StatParser.parse($0) })
        else { return nil }
        return parsed
    }

    /// `Tgid:` of `/proc/<pid>/status`: the process a thread id belongs to (itself for a process).
    func threadGroup(_ pid: Int32) -> Int32? {
        guard case .success(let dir) = proc.openProcess(pid) else { return nil }
        defer { close(dir) }
        guard case .success(let st) = proc.read(dirfd: dir, "status", limit: ProcReader.Limit.status, { StatusParser.parse($0) })
        else { return nil }
        return st.tgid
    }

    func commandLine(_ pid: Int32) -> String {
        guard case .success(let dir) = proc.openProcess(pid) else { return "" }
        defer { close(dir) }
        if case .success(let argv) = proc.read(dirfd: dir, "cmdline", limit: ProcReader.Limit.arguments, { CmdlineParser.parse($0) }), !argv.isEmpty {
            return argv.map { SafeText.display($0) }.joined(separator: " ")
        }
        if case .success(let st) = proc.read(dirfd: dir, "stat", limit: ProcReader.Limit.stat, { try? StatParser.parse($0) }), let st {
            return "[\(SafeText.display(st.comm))]"
        }
        return ""
    }

    private func outcome(_ e: Errno) -> SignalOutcome {
        switch e.rawValue {
        case ESRCH: return .vanished
        case EPERM, EACCES: return .denied
        default: return .failed(e)
        }
    }
}

func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
