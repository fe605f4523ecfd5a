import CSessionShims
import CDetachEngine
#if canImport(Glibc)
import Glibc
#endif

/// Detach in place (issue 8): the running job keeps its pid and state and survives the hangup
/// of its terminal. Pre-flight from /proc here (nothing is attached before every check passed);
/// the ptrace work is the C engine's (`st_detach_run`, Sources/CDetachEngine, whose header
/// explains each step); afterwards the snapshot is re-read and the hangup analysis re-run.
/// Background: shared/detach-in-place.md §3 (recipe), §4 (engine), §5 (pitfalls).

public enum DetachTarget: Hashable, Sendable, CustomStringConvertible {
    /// The process's group, or the process alone with `onlyThis`.
    case process(Int32)
    case group(Int32)
    public var description: String {
        switch self {
        case .process(let p): return "pid \(p)"
        case .group(let g): return "process group \(g)"
        }
    }
}

public enum DetachStdin: String, Hashable, Sendable, CaseIterable {
    /// fd 0 on the terminal → /dev/null: a read returns end-of-file instead of EIO/SIGTTIN.
    case null
    /// fd 0 is left on the terminal.
    case keep
}

public struct DetachOptions: Hashable, Sendable {
    public var logPath: String?
    public var stdin: DetachStdin = .null
    /// nil: on for a job that can move (no session leader among the members), else off.
    public var newGroup: Bool?
    public var onlyThis = false
    /// SIG_IGN even where a SIGHUP handler is installed.
    public var forceIgnore = false
    /// Go ahead under a seccomp filter (Seccomp: 2).
    public var forceSeccomp = false
    /// How long each member may take to stop (an uninterruptible sleep never does).
    public var stopTimeoutMs: Int32 = 2000
    /// Tests: the engine pauses this long with every member stopped and changed, before the
    /// commit; and fails on purpose after changing member N (undo). From the environment
    /// (SESSIONTOP_DETACH_TEST_PAUSE_MS, SESSIONTOP_DETACH_TEST_FAIL_AFTER) in the CLI.
    public var testPauseMs: Int32 = 0
    public var testFailAfter: Int32 = -1
    public init() {}
}

/// Why nothing was attached. Each is one line for the user.
public enum DetachRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    case noSuchProcess(Int32)
    case noMembers(Int32)
    case initProcess
    case kernelThread(Int32)
    case sessiontopItself(Int32)
    case zombie(Int32)
    case thread(tid: Int32, process: Int32)
    case otherUser(pid: Int32, uid: UInt32)
    /// Yama (security/yama): scope, and what would allow it.
    case yama(pid: Int32, scope: Int, fix: String)
    case traced(pid: Int32, tracer: Int32, tracerName: String)
    case seccomp(pid: Int32)
    case foreignABI(pid: Int32)
    case otherMountNamespace(pid: Int32, path: String)
    case tooMany(Int)
    case noLogDirectory(uid: UInt32)
    case log(SafeFileError)
    case unreadable(pid: Int32, what: String, reason: String)
    case noEngine

    public var description: String {
        switch self {
        case .noSuchProcess(let p): return "no such process: \(p)"
        case .noMembers(let g): return "no such process group: \(g)"
        case .initProcess: return "refusing to detach pid 1 (init): it has no terminal to lose"
        case .kernelThread(let p): return "refusing to detach kernel thread \(p)"
        case .sessiontopItself(let p): return "refusing to detach sessiontop itself (pid \(p) is in the group; use --only-this on another pid)"
        case .zombie(let p): return "refusing to detach \(p): it has already exited (zombie)"
        case .thread(let t, let p): return "pid \(t) is a thread of process \(p): detach the process (\(p))"
        case .otherUser(let p, let uid): return "refusing to detach \(p): it runs as uid \(uid), and only root (or CAP_SYS_PTRACE) may trace another user's process; nothing was changed"
        case .yama(let p, let s, let fix): return "refusing to detach \(p): Yama ptrace_scope is \(s) (/proc/sys/kernel/yama/ptrace_scope); \(fix); nothing was changed"
        case .traced(let p, let t, let n): return "refusing to detach \(p): it is already traced by pid \(t)\(n.isEmpty ? "" : " (\(n))") and a process has one tracer; nothing was changed"
        case .seccomp(let p): return "refusing to detach \(p): it runs under a seccomp filter (Seccomp: 2), which may kill it for an injected syscall; --force to try anyway; nothing was changed"
        case .foreignABI(let p): return "refusing to detach \(p): it is not a native \((st_detach_arch().map { String(cString: $0) } ?? "?")) program (a 32-bit or foreign ABI); nothing was changed"
        case .otherMountNamespace(let p, let path): return "refusing to detach \(p): it runs in another mount namespace or root, where \(path) is not the same file; give a --log valid there; nothing was changed"
        case .tooMany(let n): return "refusing to detach \(n) processes at once (at most \(ST_DETACH_MAX_MEMBERS))"
        case .noLogDirectory(let uid): return SafeFileError.noLogDirectory(uid: uid).description
        case .log(let e): return e.description
        case .unreadable(let p, let what, let why): return "cannot read \(what) of \(p): \(why); nothing was changed"
        case .noEngine: return "detach in place has no engine for this architecture"
        }
    }
}

/// SIGHUP disposition as `/proc/P/status` (SigIgn/SigCgt) or the engine reports it.
public enum HupDisposition: String, Hashable, Sendable {
    case `default`, ignored, caught
}

public struct DetachMemberPlan: Hashable, Sendable {
    public var identity: ProcessIdentity
    /// The thread the engine stops (the pid unless the main thread has exited).
    public var tid: Int32
    public var command: String
    public var uid: UInt32
    public var pgid: Int32
    public var sid: Int32
    public var state: ProcessState
    public var hup: HupDisposition
    /// fds on the terminal now (`/proc/P/fd`): what will be re-pointed.
    public var terminalFds: [Int32]
    /// `/proc/P/syscall`'s first word, when it is blocked in one.
    public var syscall: String?
}

public struct DetachPlan: Hashable, Sendable {
    public var target: DetachTarget
    public var pgid: Int32
    public var sid: Int32
    public var members: [DetachMemberPlan]
    public var logPath: String
    /// Set when sessiontop creates the log (its default path): owned by this user.
    public var logOwner: FileOwner?
    public var stdin: DetachStdin
    public var newGroup: Bool
    public var forceIgnore: Bool
    /// Some member is stopped: the job is continued (SIGCONT) first.
    public var continueFirst: Bool
    /// The session's terminal (tty_nr) and its name.
    public var ttyNr: UInt64
    public var ttyName: String?
    public var warnings: [String]
    public var options: DetachOptions

    public var subject: String {
        if members.count == 1, let m = members.first {
            return "pid \(m.identity.pid) (\(m.command))"
        }
        return "group \(pgid) (\(members.count) processes)"
    }

    /// Lines for the confirmation dialog and `--dry-run`.
    public var preview: [String] {
        var out: [String] = []
        out.append("detach in place \(subject) — same pid, same state, no restart:")
        if continueFirst { out.append("  first:  SIGCONT: it is stopped, and bash sends SIGTERM to jobs it believes stopped when it exits") }
        for m in members {
            var steps: [String] = []
            switch m.hup {
            case .default: steps.append("SIGHUP → ignored")
            case .ignored: steps.append("SIGHUP already ignored")
            case .caught: steps.append(forceIgnore ? "SIGHUP handler → ignored (--force-ignore)" : "SIGHUP handler kept\(newGroup ? " (the group move protects it)" : "")")
            }
            let fds = m.terminalFds.filter { !($0 == 0 && stdin == .keep) }
            if fds.isEmpty {
                steps.append("no fd on the terminal")
            } else {
                steps.append(fds.map { "fd \($0) → \($0 == 1 || $0 == 2 ? "log" : "/dev/null")" }.joined(separator: ", "))
            }
            out.append("  \(m.identity.pid) \(m.command): " + steps.joined(separator: "; "))
        }
        out.append("  log:    \(logPath) (appended, O_APPEND\(logOwner.map { ", owner uid \($0.uid)" } ?? ""))")
        out.append(newGroup ? "  group:  moves to a new process group (the shell's killpg and the terminal's SIGHUP miss it)"
                            : "  group:  stays in process group \(pgid)")
        for w in warnings { out.append("  warning: \(w)") }
        return out
    }

    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 2048)
        writeJSON(&w)
        return w.bytes + [0x0a]
    }

    func writeJSON(_ w: inout JSONWriter) {
        w.object { w in
            w.key("pgid"); w.int(pgid)
            w.key("sid"); w.int(sid)
            w.key("log"); w.string(logPath)
            w.key("stdin"); w.string(stdin.rawValue)
            w.key("new_group"); w.bool(newGroup)
            w.key("force_ignore"); w.bool(forceIgnore)
            w.key("continue_first"); w.bool(continueFirst)
            w.key("members")
            w.array { w in
                for m in members {
                    w.object { w in
                        w.key("pid"); w.int(m.identity.pid)
                        w.key("start_time"); w.int(m.identity.startTime)
                        w.key("command"); w.string(m.command)
                        w.key("sighup"); w.string(m.hup.rawValue)
                        w.key("terminal_fds"); w.array { w in for f in m.terminalFds { w.int(f) } }
                    }
                }
            }
            w.key("warnings"); w.array { w in for x in warnings { w.string(x) } }
        }
    }
}

/// What happened to one member.
public struct DetachMemberResult: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable {
        case detached, unchanged, undone, partial, vanished, pending
    }
    public var identity: ProcessIdentity
    public var command: String
    public var status: Status
    public var failure: String?
    public var hupBefore: HupDisposition
    public var hupAfter: HupDisposition
    public var redirected: [(fd: Int32, toLog: Bool)]
    public var pgidBefore: Int32
    public var pgidAfter: Int32
    /// The syscall number it was stopped in (-1: user space), and where the injection ran.
    public var interruptedSyscall: Int
    public var site: String
    public var signalsRedelivered: [Int32]
    public var syscalls: Int
    public var stoppedMicroseconds: Int
    /// After the run: the hangup analysis' verdicts (hangup, logout).
    public var hangup: Verdict?
    public var logout: Verdict?

    public static func == (a: Self, b: Self) -> Bool { a.identity == b.identity && a.status == b.status }
    public func hash(into h: inout Hasher) { h.combine(identity); h.combine(status.rawValue) }
}

public struct DetachOutcome: Sendable {
    public var plan: DetachPlan
    public var members: [DetachMemberResult]
    /// The engine's first failure (nil: every member was detached).
    public var failure: String?
    public var newPgid: Int32?
    /// Every member detached and its verdict under hangup and logout certain survives/unaffected.
    public var done: Bool
    public var engineMicroseconds: Int
    /// From the call to the re-run verdicts.
    public var totalMicroseconds: Int

    /// The one result line ("group 812 (3 processes) detached in place: output → …; it
    /// survives a hangup").
    public var line: String {
        if let f = failure {
            let undone = members.filter { $0.status == .undone }.count
            let partial = members.filter { $0.status == .partial }
            var s = "\(plan.subject) not detached: \(f)"
            if !partial.isEmpty {
                s += "; still changed: " + partial.map { "\($0.identity.pid)" }.joined(separator: ", ")
            } else if undone > 0 {
                s += "; the \(undone) member\(undone == 1 ? "" : "s") already changed \(undone == 1 ? "was" : "were") restored"
            } else {
                s += "; nothing was changed"
            }
            return s
        }
        let short = plan.logPath.replacingHome(environmentHome())
        var s = "\(plan.subject) detached in place: output → \(short)"
        if done {
            s += "; it survives a hangup"
            if let g = newPgid { s += " (new process group \(g))" }
        } else {
            if let g = newPgid { s += "; new process group \(g)" }
            let bad = members.compactMap { m -> String? in
                for v in [m.hangup, m.logout] {
                    if let v, !(v.certain && (v.fate == .survives || v.fate == .unaffected)) {
                        return "\(m.identity.pid): \(v.fate.rawValue)\(v.certain ? "" : " (uncertain)")\(v.reasons.first.map { " — \($0)" } ?? "")"
                    }
                }
                return nil
            }
            s += "; but the hangup analysis is not sure it survives: " + (bad.isEmpty ? "verdict unknown" : bad.joined(separator: "; "))
        }
        return s
    }

    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        w.object { w in
            w.key("done"); w.bool(done)
            w.key("line"); w.string(line)
            w.key("failure"); if let f = failure { w.string(f) } else { w.null() }
            w.key("log"); w.string(plan.logPath)
            w.key("new_pgid"); if let g = newPgid { w.int(g) } else { w.null() }
            w.key("engine_us"); w.int(Int64(engineMicroseconds))
            w.key("total_us"); w.int(Int64(totalMicroseconds))
            w.key("plan"); plan.writeJSON(&w)
            w.key("members")
            w.array { w in
                for m in members {
                    w.object { w in
                        w.key("pid"); w.int(m.identity.pid)
                        w.key("start_time"); w.int(m.identity.startTime)
                        w.key("command"); w.string(m.command)
                        w.key("status"); w.string(m.status.rawValue)
                        w.key("failure"); if let f = m.failure { w.string(f) } else { w.null() }
                        w.key("sighup_before"); w.string(m.hupBefore.rawValue)
                        w.key("sighup_after"); w.string(m.hupAfter.rawValue)
                        w.key("redirected"); w.array { w in
                            for r in m.redirected { w.object { w in w.key("fd"); w.int(r.fd); w.key("to"); w.string(r.toLog ? "log" : "/dev/null") } }
                        }
                        w.key("pgid_before"); w.int(m.pgidBefore)
                        w.key("pgid_after"); w.int(m.pgidAfter)
                        w.key("interrupted_syscall"); w.int(Int64(m.interruptedSyscall))
                        w.key("site"); w.string(m.site)
                        w.key("signals_redelivered"); w.array { w in for s in m.signalsRedelivered { w.int(s) } }
                        w.key("syscalls"); w.int(Int64(m.syscalls))
                        w.key("stopped_us"); w.int(Int64(m.stoppedMicroseconds))
                        for (k, v) in [(true, m.hangup), (false, m.logout)] {
                            w.key(k ? "hangup" : "logout")
                            if let v {
                                w.object { w in
                                    w.key("fate"); w.string(v.fate.rawValue)
                                    w.key("certain"); w.bool(v.certain)
                                    w.key("reasons"); w.array { w in for r in v.reasons { w.string(r) } }
                                }
                            } else { w.null() }
                        }
                    }
                }
            }
        }
        return w.bytes + [0x0a]
    }
}

/// `$HOME` of this process, for showing paths as `~/…`.
public func environmentHome() -> String? {
    guard let h = getenv("HOME") else { return nil }
    return String(cString: h)
}

extension String {
    /// The path with a leading `home/` written `~/`.
    public func replacingHome(_ home: String?) -> String {
        guard let home, home.count > 1, hasPrefix(home + "/") else { return self }
        return "~" + dropFirst(home.count)
    }
}

public enum Detacher {
    /// Pure: the value of `key:` in `/proc/P/status` text (first word), nil when absent.
    public static func statusValue(_ status: [UInt8], _ key: String) -> String? {
        let k = Array((key + ":").utf8)
        var i = 0
        while i < status.count {
            var j = i
            while j < status.count && status[j] != 0x0a { j += 1 }
            if j - i > k.count && Array(status[i..<(i + k.count)]) == k {
                var s = i + k.count
                while s < j && (status[s] == 0x20 || status[s] == 0x09) { s += 1 }
                var e = s
                while e < j && status[e] != 0x20 && status[e] != 0x09 { e += 1 }
                return String(decoding: status[s..<e], as: UTF8.self)
            }
            i = j + 1
        }
        return nil
    }

    /// CAP_SYS_PTRACE (bit 19) in our effective set.
    static func havePtraceCapability(_ proc: ProcReader) -> Bool {
        if geteuid() == 0 { return true }
        guard case .success(let s) = proc.readRootFile("self/status", limit: 1 << 16),
              let hex = statusValue(s, "CapEff"), let v = UInt64(hex, radix: 16) else { return false }
        return v & (1 << 19) != 0
    }

    /// The Yama scope, nil when Yama is absent (this kernel may have none).
    public static func yamaScope() -> Int? {
        let fd = open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var b = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &b, b.count)
        guard n > 0 else { return nil }
        return Int(String(decoding: b[0..<n], as: UTF8.self).trimmingWhitespace())
    }

    /// Builds the plan from /proc; refuses (one line) before anything is attached.
    public static func plan(_ target: DetachTarget, options: DetachOptions = DetachOptions(),
                            reader: SnapshotReader) throws(DetachRefusal) -> DetachPlan {
        guard st_detach_arch() != nil else { throw .noEngine }
        let selfPid = reader.selfPid
        let snap = reader.snapshot(options: ScanOptions(details: .all))
        var primary: ProcessInfo?
        var pgid: Int32
        switch target {
        case .process(let pid):
            if pid == 1 { throw .initProcess }
            guard let p = snap.processes[pid] ?? reader.readProcess(pid) else {
                if let tgid = threadGroup(of: pid, reader: reader) { throw .thread(tid: pid, process: tgid) }
                throw .noSuchProcess(pid)
            }
            if p.isKernelThread { throw .kernelThread(pid) }
            if pid == selfPid || pid == getpid() { throw .sessiontopItself(pid) }
            if p.state.isGone { throw .zombie(pid) }
            primary = p
            pgid = p.pgid
        case .group(let g):
            pgid = g
        }
        var procs: [ProcessInfo]
        if options.onlyThis, let p = primary {
            procs = [p]
        } else {
            procs = snap.processes.values.filter { $0.pgid == pgid && !$0.isKernelThread && !$0.state.isGone }
                .sorted { $0.pid < $1.pid }
            if let p = primary, !procs.contains(where: { $0.pid == p.pid }) { procs.append(p) }
        }
        if procs.isEmpty { throw .noMembers(pgid) }
        if procs.count > Int(ST_DETACH_MAX_MEMBERS) { throw .tooMany(procs.count) }
        for p in procs {
            if p.pid == 1 { throw .initProcess }
            if p.pid == selfPid || p.pid == getpid() { throw .sessiontopItself(p.pid) }
        }

        let privileged = havePtraceCapability(reader.proc)
        let yama = yamaScope()
        var members: [DetachMemberPlan] = []
        var warnings: [String] = []
        var ttyNr: UInt64 = 0
        var ttyName: String?
        let sid = procs.first?.sid ?? 0
        if let s = snap.sessions.first(where: { $0.sid == sid }) { ttyNr = s.ttyDevice; ttyName = s.tty }
        if ttyNr == 0, let p = procs.first(where: { $0.ttyDevice != 0 }) { ttyNr = p.ttyDevice; ttyName = p.tty }
        let ourMnt = reader.proc.readLink(dirfd: AT_FDCWD, "/proc/self/ns/mnt")

        for p in procs {
            let pid = p.pid
            if p.uid != geteuid() && !privileged { throw .otherUser(pid: pid, uid: p.uid) }
            if let scope = yama, !privileged {
                switch scope {
                case 0: break
                case 1:
                    if !isDescendant(pid, of: selfPid, snap) {
                        throw .yama(pid: pid, scope: 1, fix: "only a descendant of sessiontop may be traced; run it as root or set kernel.yama.ptrace_scope=0")
                    }
                case 2: throw .yama(pid: pid, scope: 2, fix: "only CAP_SYS_PTRACE may trace; run sessiontop as root")
                default: throw .yama(pid: pid, scope: scope, fix: "no process may be traced (scope 3 needs a reboot to lower)")
                }
            }
            guard case .success(let dirfd) = reader.proc.openProcess(pid) else { throw .noSuchProcess(pid) }
            defer { close(dirfd) }
            let status: [UInt8]
            switch reader.proc.readBytes(dirfd: dirfd, "status", limit: 1 << 16) {
            case .success(let s): status = s
            case .failure(let e): throw .unreadable(pid: pid, what: "/proc/\(pid)/status", reason: e.message)
            }
            if let t = statusValue(status, "TracerPid").flatMap(Int32.init), t != 0 {
                let name = snap.processes[t]?.commText ?? ""
                throw .traced(pid: pid, tracer: t, tracerName: name)
            }
            if statusValue(status, "Seccomp") == "2" {
                if !options.forceSeccomp { throw .seccomp(pid: pid) }
                warnings.append("\(pid) runs under a seccomp filter: forced")
            }
            if st_detach_elf_is_native("/proc/\(pid)/exe") == 0 { throw .foreignABI(pid: pid) }
            if case .success(let mnt) = reader.proc.readLink(dirfd: dirfd, "ns/mnt"), case .success(let ours) = ourMnt, mnt != ours {
                // Checked against the log once it exists (execute): recorded here.
                warnings.append("\(pid) runs in another mount namespace: the log path is checked there")
            }
            var tid = pid
            if p.state.isGone || taskState(dirfd: dirfd, tid: pid, reader: reader) == UInt8(ascii: "Z") {
                if case .success(let tids) = reader.proc.listNumeric(dirfd: dirfd, "task"),
                   let other = tids.first(where: { $0 != pid && taskState(dirfd: dirfd, tid: $0, reader: reader) != UInt8(ascii: "Z") }) {
                    tid = other
                }
            }
            let hup: HupDisposition = p.signals.ignored.contains(SIGHUP) ? .ignored : p.signals.caught.contains(SIGHUP) ? .caught : .default
            var fds: [Int32] = []
            for f in p.fds.value ?? [] where f.kind == .tty {
                if (ttyNr != 0 && f.device == ttyNr) || f.device == 0x500 || f.targetText == "/dev/tty" {
                    fds.append(f.fd)
                }
            }
            var sc: String?
            if case .known(let s) = p.syscall { sc = "\(s)" }
            members.append(DetachMemberPlan(identity: p.identity, tid: tid, command: p.commandLine.isEmpty ? p.commText : String(p.commandLine.prefix(60)),
                                            uid: p.uid, pgid: p.pgid, sid: p.sid, state: p.state, hup: hup,
                                            terminalFds: fds, syscall: sc))
            if p.state == .diskSleep { warnings.append("\(pid) is in uninterruptible sleep (D): it may not stop in time") }
            if hup == .caught && !options.forceIgnore {
                warnings.append("\(pid) catches SIGHUP: its handler is kept (--force-ignore to ignore it)")
            }
        }
        let continueFirst = members.contains { $0.state.isStopped }
        let anyLeader = members.contains { $0.identity.pid == $0.sid }
        var newGroup = options.newGroup ?? !anyLeader
        if newGroup && anyLeader {
            warnings.append("a session leader cannot change its process group: no new group")
            newGroup = false
        }
        if ttyNr == 0 && members.allSatisfy({ $0.terminalFds.isEmpty }) {
            warnings.append("it has no controlling terminal and no fd on one: only SIGHUP changes")
        }

        // The log.
        let owner = procs[0]
        var logPath: String
        var logOwner: FileOwner?
        if let l = options.logPath {
            logPath = l.hasPrefix("/") ? l : currentDirectory() + "/" + l
        } else {
            let env = reader.environment(of: owner.pid).value?.compactMap { String(validating: $0, as: UTF8.self) } ?? []
            guard let dir = SafeFile.logDirectory(environment: env, uid: owner.uid) else { throw .noLogDirectory(uid: owner.uid) }
            let comm = String(owner.commText.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }.prefix(32))
            logPath = "\(dir)/\(comm.isEmpty ? "job" : comm)-\(pgid).log"
            logOwner = FileOwner(uid: owner.uid, gid: owner.gid)
        }
        return DetachPlan(target: target, pgid: pgid, sid: sid, members: members, logPath: logPath, logOwner: logOwner,
                          stdin: options.stdin, newGroup: newGroup, forceIgnore: options.forceIgnore,
                          continueFirst: continueFirst, ttyNr: ttyNr, ttyName: ttyName, warnings: warnings, options: options)
    }

    /// Creates (or opens) the log, continues a stopped job, runs the engine, re-reads and
    /// re-analyses. Throws only what stops it before the engine ran (nothing changed then).
    public static func execute(_ plan: DetachPlan, reader: SnapshotReader) throws(DetachRefusal) -> DetachOutcome {
        let began = monotonicMicroseconds()
        // Pin every member: a pidfd, then the start time (the pidfd keeps the pid from being
        // reused, so a match now means it is that process). A member gone since the plan (a
        // job's short-lived child) is skipped; the primary gone means nothing to do.
        var pidfds: [Int32] = []
        defer { for fd in pidfds { close(fd) } }
        var live: [DetachMemberPlan] = []
        var results: [DetachMemberResult] = []
        for m in plan.members {
            let fd = st_pidfd_open(m.identity.pid, 0)
            if fd >= 0 && startTime(m.identity.pid, reader: reader) == m.identity.startTime {
                pidfds.append(fd)
                live.append(m)
            } else {
                if fd >= 0 { close(fd) }
                if case .process(let p) = plan.target, p == m.identity.pid { throw .noSuchProcess(p) }
                results.append(vanished(m))
            }
        }
        if live.isEmpty { throw .noMembers(plan.pgid) }
        // The log, before any attach.
        let handle: SafeFile.Handle
        do throws(SafeFileError) {
            if let owner = plan.logOwner {
                do { handle = try SafeFile.createLog(plan.logPath, owner: owner) } catch {
                    if case .exists = error {
                        handle = try SafeFile.open(plan.logPath, for: .output(append: true), owners: [geteuid(), owner.uid],
                                                   makeDirectories: owner)
                    } else { throw error }
                }
            } else {
                let uid = plan.members[0].uid
                handle = try SafeFile.open(plan.logPath, for: .output(append: true), owners: [geteuid(), uid])
                if handle.created && geteuid() == 0 && uid != 0 {
                    let gid = reader.readProcess(plan.members[0].identity.pid)?.gid ?? uid
                    _ = fchown(handle.fd, uid, gid)
                }
            }
        } catch {
            throw .log(error)
        }
        var st = stat()
        guard fstat(handle.fd, &st) == 0 else { throw .log(.system(plan.logPath, .current)) }
        // Another mount namespace or root: the path must name this very file there.
        for m in live {
            var there = stat()
            if stat("/proc/\(m.identity.pid)/root\(plan.logPath)", &there) != 0 || there.st_dev != st.st_dev || there.st_ino != st.st_ino {
                if kill(m.identity.pid, 0) != 0 && errno == ESRCH { continue }
                throw .otherMountNamespace(pid: m.identity.pid, path: plan.logPath)
            }
        }
        if plan.continueFirst {
            for (i, m) in live.enumerated() where m.state.isStopped { _ = st_pidfd_send_signal(pidfds[i], SIGCONT, 0) }
            let deadline = monotonicMicroseconds() + 1_000_000
            while monotonicMicroseconds() < deadline {
                let stopped = live.contains { reader.readProcess($0.identity.pid)?.state.isStopped ?? false }
                if !stopped { break }
                usleep(2000)
            }
            // Let the shell see CLD_CONTINUED (its SIGCHLD handler marks the job running).
            usleep(50_000)
        }

        // Rounds: the members, then any process that joined the old group meanwhile (a fork
        // between the plan and the stop), up to 4 rounds.
        var failure: String?
        var newPgid: Int32?
        var engineUs = 0
        var round = live
        var handled = Set(plan.members.map(\.identity))
        for _ in 0..<4 {
            let (rc, rr, fail, pg, us) = runEngine(round, plan: plan, log: st, join: newPgid)
            results += rr
            engineUs += us
            if let pg { newPgid = pg }
            if rc != 0 { failure = fail; break }
            guard !plan.options.onlyThis else { break }
            // Who is in the old group now and was not handled?
            let snap = reader.snapshot(options: ScanOptions(details: .all))
            // (A child forked after its parent was changed inherits it all: SIG_IGN survives
            // exec, signal(7); so does the fd table. Only those still needing a change count.)
            let joined = snap.processes.values.filter { p in
                guard p.pgid == plan.pgid, !p.state.isGone, !handled.contains(p.identity), p.pid != reader.selfPid else { return false }
                let onTerminal = (p.fds.value ?? []).contains { f in f.kind == .tty && ((plan.ttyNr != 0 && f.device == plan.ttyNr) || f.device == 0x500) && !(f.fd == 0 && plan.stdin == .keep) }
                return plan.newGroup || onTerminal || !(p.signals.ignored.contains(SIGHUP) || p.signals.caught.contains(SIGHUP))
            }
            if joined.isEmpty { break }
            round = joined.sorted { $0.pid < $1.pid }.prefix(Int(ST_DETACH_MAX_MEMBERS)).map { p in
                DetachMemberPlan(identity: p.identity, tid: p.pid, command: p.commandLine.isEmpty ? p.commText : String(p.commandLine.prefix(60)),
                                 uid: p.uid, pgid: p.pgid, sid: p.sid, state: p.state, hup: .default, terminalFds: [], syscall: nil)
            }
            for m in round { handled.insert(m.identity) }
        }
        if failure != nil && handle.created && results.allSatisfy({ $0.status != .detached && $0.status != .partial }) {
            handle.removeIfCreated()
        }

        // Re-read and re-analyse.
        var done = false
        if failure == nil {
            let after = reader.snapshot(options: ScanOptions(details: .all))
            let verdicts = HangupVerdicts(after, events: [.hangup, .logout])
            var checked = 0
            done = true
            for i in results.indices where results[i].status == .detached {
                let id = results[i].identity
                // Exited since (a job's short-lived child): nothing to protect.
                guard after.processes[id.pid]?.identity == id, !(after.processes[id.pid]?.state.isGone ?? true) else {
                    results[i].status = .vanished
                    continue
                }
                results[i].hangup = verdicts.verdict(id.pid, .hangup)
                results[i].logout = verdicts.verdict(id.pid, .logout)
                checked += 1
                for v in [results[i].hangup, results[i].logout] {
                    guard let v, v.certain, v.fate == .survives || v.fate == .unaffected else { done = false; continue }
                }
            }
            if checked == 0 { done = false }
            DetachRecord.append(plan: plan, results: results, reader: reader)
        }
        return DetachOutcome(plan: plan, members: results, failure: failure,
                             newPgid: newPgid, done: done,
                             engineMicroseconds: engineUs, totalMicroseconds: Int(monotonicMicroseconds() - began))
    }

    static func vanished(_ m: DetachMemberPlan) -> DetachMemberResult {
        DetachMemberResult(identity: m.identity, command: m.command, status: .vanished, failure: nil, hupBefore: m.hup,
                           hupAfter: m.hup, redirected: [], pgidBefore: m.pgid, pgidAfter: m.pgid, interruptedSyscall: -1,
                           site: "none", signalsRedelivered: [], syscalls: 0, stoppedMicroseconds: 0)
    }

    /// One engine run over `members`: (rc, per-member results, failure text, new group, µs).
    static func runEngine(_ members: [DetachMemberPlan], plan: DetachPlan, log st: stat, join: Int32?)
        -> (Int32, [DetachMemberResult], String?, Int32?, Int) {
        var req = st_detach_request()
        withUnsafeMutableBytes(of: &req.log_path) { raw in
            let b = Array(plan.logPath.utf8.prefix(Int(ST_DETACH_PATH_MAX) - 1))
            raw.copyBytes(from: b + [0])
        }
        req.log_dev = UInt64(st.st_dev)
        req.log_ino = UInt64(st.st_ino)
        req.tty_nr = plan.ttyNr
        req.stdin_keep = plan.stdin == .keep ? 1 : 0
        req.force_ignore = plan.forceIgnore ? 1 : 0
        req.new_group = plan.newGroup ? 1 : 0
        req.join_pgid = join ?? 0
        req.stop_timeout_ms = plan.options.stopTimeoutMs
        req.test_pause_ms = join == nil ? plan.options.testPauseMs : 0
        req.test_fail_after = join == nil ? plan.options.testFailAfter : -1
        req.member_count = Int32(members.count)
        withUnsafeMutableBytes(of: &req.members) { raw in
            let ms = raw.bindMemory(to: st_detach_member.self)
            for (i, m) in members.enumerated() {
                ms[i].pid = m.identity.pid
                ms[i].tid = m.tid
                ms[i].start_time = m.identity.startTime
            }
        }
        let rc = st_detach_run(&req)
        let engineErrno = errno
        var results: [DetachMemberResult] = []
        withUnsafeBytes(of: &req.members) { raw in
            let ms = raw.bindMemory(to: st_detach_member.self)
            for (i, m) in members.enumerated() {
                let o = ms[i]
                let status: DetachMemberResult.Status
                switch UInt32(o.status) {
                case ST_DM_DONE.rawValue: status = .detached
                case ST_DM_UNCHANGED.rawValue: status = .unchanged
                case ST_DM_UNDONE.rawValue: status = .undone
                case ST_DM_PARTIAL.rawValue: status = .partial
                case ST_DM_VANISHED.rawValue: status = .vanished
                default: status = .pending
                }
                var redirected: [(fd: Int32, toLog: Bool)] = []
                withUnsafeBytes(of: o.fds) { f in
                    withUnsafeBytes(of: o.fd_to_log) { l in
                        let fa = f.bindMemory(to: Int32.self), la = l.bindMemory(to: Int32.self)
                        for k in 0..<Int(o.fd_count) { redirected.append((fa[k], la[k] != 0)) }
                    }
                }
                var sigs: [Int32] = []
                withUnsafeBytes(of: o.signals) { s in
                    let sa = s.bindMemory(to: Int32.self)
                    for k in 0..<Int(o.signals_count) { sigs.append(sa[k]) }
                }
                func hup(_ v: Int32) -> HupDisposition { v == 1 ? .ignored : v == 2 ? .caught : .default }
                let failure = o.stage != 0 ? stageText(Int32(o.stage), err: o.err) : nil
                results.append(DetachMemberResult(
                    identity: m.identity, command: m.command, status: rc < 0 ? .unchanged : status, failure: failure,
                    hupBefore: hup(o.hup_before), hupAfter: hup(o.hup_after), redirected: redirected,
                    pgidBefore: o.pgid_before, pgidAfter: o.pgid_after, interruptedSyscall: o.interrupted_syscall,
                    site: UInt32(o.site) == ST_SITE_SYSCALL.rawValue ? "syscall" : UInt32(o.site) == ST_SITE_VDSO.rawValue ? "vdso" : "none",
                    signalsRedelivered: sigs, syscalls: Int(o.syscalls), stoppedMicroseconds: Int(o.stopped_us)))
            }
        }
        var failure: String?
        if rc < 0 {
            failure = "the detach helper could not run: \(Errno(engineErrno).message)"
        } else if rc == 1 {
            let who = req.failed_member >= 0 && Int(req.failed_member) < members.count ? "pid \(members[Int(req.failed_member)].identity.pid): " : ""
            failure = who + stageText(req.failed_stage, err: req.failed_err)
        }
        return (rc, results, failure, req.new_pgid > 0 ? req.new_pgid : nil, Int(req.elapsed_us))
    }

    static func stageText(_ stage: Int32, err: Int32) -> String {
        let e = Errno(err).message
        switch UInt32(stage) {
        case ST_DS_HELPER.rawValue: return "the helper could not start (\(e))"
        case ST_DS_SEIZE.rawValue:
            return err == EPERM ? "ptrace refused (EPERM): not allowed to trace it, or it is already traced" : "ptrace attach failed (\(e))"
        case ST_DS_STOP.rawValue: return err == ETIMEDOUT ? "it did not stop in time (uninterruptible sleep?)" : "it did not stop (\(e))"
        case ST_DS_IDENTITY.rawValue: return "its pid now names another process"
        case ST_DS_ABI.rawValue: return "not a native-ABI task"
        case ST_DS_SITE.rawValue: return "no syscall instruction found to run syscalls at"
        case ST_DS_STOPPED.rawValue: return "it is stopped (job control): continue it first"
        case ST_DS_MMAP.rawValue: return "mmap of a scratch page failed in it (\(e))"
        case ST_DS_SIGACTION.rawValue: return "rt_sigaction(SIGHUP) failed in it (\(e))"
        case ST_DS_OPEN_LOG.rawValue: return "it could not open the log (\(e))"
        case ST_DS_LOG_MISMATCH.rawValue: return "the log it opened is not the file sessiontop created (another mount namespace or a swapped path)"
        case ST_DS_OPEN_NULL.rawValue: return "it could not open /dev/null (\(e))"
        case ST_DS_REDIRECT.rawValue: return "re-pointing its fds failed (\(e))"
        case ST_DS_GROUP.rawValue: return "moving it to a new process group failed (\(e))"
        case ST_DS_RESTORE.rawValue: return "restoring its registers failed (\(e))"
        case ST_DS_TEST.rawValue: return "a test made it fail on purpose"
        case ST_DS_INJECT.rawValue: return err == ESRCH ? "it exited during the injection" : "a syscall injection failed (\(e))"
        default: return "failed (stage \(stage), \(e))"
        }
    }

    static func isDescendant(_ pid: Int32, of ancestor: Int32, _ snap: Snapshot) -> Bool {
        var p = snap.processes[pid]?.ppid ?? 0
        var hops = 0
        while p > 1 && hops < 4096 {
            if p == ancestor { return true }
            p = snap.processes[p]?.ppid ?? 0
            hops += 1
        }
        return false
    }

    static func threadGroup(of tid: Int32, reader: SnapshotReader) -> Int32? {
        guard case .success(let s) = reader.proc.readRootFile("\(tid)/status", limit: 1 << 16),
              let t = statusValue(s, "Tgid").flatMap(Int32.init), t != tid else { return nil }
        return t
    }

    static func taskState(dirfd: Int32, tid: Int32, reader: SnapshotReader) -> UInt8? {
        guard case .success(let s) = reader.proc.readBytes(dirfd: dirfd, "task/\(tid)/stat", limit: 4096),
              let close = s.lastIndex(of: UInt8(ascii: ")")), close + 2 < s.count else { return nil }
        return s[close + 2]
    }

    static func startTime(_ pid: Int32, reader: SnapshotReader) -> UInt64? {
        guard case .success(let s) = reader.proc.readRootFile("\(pid)/stat", limit: 4096),
              let st = try? StatParser.parse(s) else { return nil }
        return st.startTime
    }

    static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(cString: buf)
    }
}

func monotonicMicroseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}


extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
