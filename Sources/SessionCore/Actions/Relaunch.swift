import CSessionShims
#if canImport(Glibc)
import Glibc
#endif

/// How the copy is started.
public enum RelaunchVia: String, Hashable, Sendable, CaseIterable {
    /// Double fork + setsid (the daemonize path), output to a log file.
    case daemonize
    /// A new detached tmux session: the user can attach to it later.
    case tmux
    /// A transient unit of the user's systemd manager (`systemd-run --user`).
    case systemdRun = "systemd-run"
}

public struct RelaunchOptions: Sendable {
    public var via: RelaunchVia = .daemonize
    /// Leave the original running.
    public var keep = false
    /// Log file for the daemonize path; nil: `defaultLogPath`.
    public var logPath: String?
    /// Seconds between SIGTERM and SIGKILL.
    public var termTimeout: Double = 5
    /// tmux `-L` socket name (nil: the default server, or the one in $TMUX).
    public var tmuxSocket: String?
    /// tmux session / systemd unit name; nil: `relaunch-<comm>-<pid>`.
    public var name: String?
    /// Seconds the copy must stay alive, still running its program, before the original is
    /// ended (issue 8 §3); if it exits meanwhile the relaunch fails and the original is kept.
    public var grace: Double = 1
    /// Relaunch an interactive shell or a session leader with jobs anyway.
    public var force = false
    public init() {}
}

/// Why a process cannot be relaunched.
public enum RelaunchRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    case noSuchProcess(Int32)
    case initProcess
    case kernelThread(Int32)
    case sessiontopItself(Int32)
    case zombie(Int32)
    case exeDeleted(String)
    case cwdDeleted(String)
    case unreadable(what: String, reason: UnknownReason)
    case notUTF8(what: String)
    case otherUser(uid: UInt32)
    case systemdNotRunning(String)
    case noTmux
    /// No state or home directory for the default log (give --log).
    case noLogDirectory(uid: UInt32)
    /// An interactive shell (login shell, `-i`, or stdin a terminal with no script): its copy
    /// would have no terminal and exit ("no job control in this shell").
    case interactiveShell(pid: Int32, shell: String, why: String)
    /// A session leader whose session has other process groups: ending it hangs them up.
    case leaderWithJobs(pid: Int32, groups: Int)

    public var description: String {
        switch self {
        case .noSuchProcess(let p): return "no such process: \(p)"
        case .initProcess: return "refusing to relaunch pid 1 (init)"
        case .kernelThread(let p): return "refusing to relaunch kernel thread \(p): it has no program to run"
        case .sessiontopItself(let p): return "refusing to relaunch sessiontop itself (pid \(p))"
        case .zombie(let p): return "refusing to relaunch \(p): it has already exited (zombie)"
        case .exeDeleted(let e): return "refusing to relaunch: its program \(e) was deleted"
        case .cwdDeleted(let d): return "refusing to relaunch: its working directory \(d) was deleted"
        case .unreadable(let what, let why): return "cannot read its \(what): \(why)"
        case .notUTF8(let what): return "cannot reproduce its \(what) exactly (not valid UTF-8)"
        case .otherUser(let uid): return "it runs as uid \(uid): only root can relaunch another user's process"
        case .systemdNotRunning(let why): return "systemd-run: \(why); use --via daemonize or --via tmux"
        case .noTmux: return "tmux is not installed (no tmux in PATH)"
        case .noLogDirectory(let uid): return SafeFileError.noLogDirectory(uid: uid).description
        case .interactiveShell(let pid, let shell, let why):
            return "refusing to relaunch pid \(pid): it is an interactive \(shell) (\(why)); a copy would have no terminal and exit at once, and ending the original ends its jobs; detach its jobs in place (sessiontop detach PID-of-the-job) or --force"
        case .leaderWithJobs(let pid, let groups):
            return "refusing to relaunch pid \(pid): it leads a session with \(groups) other process group\(groups == 1 ? "" : "s") (jobs) that ending it would hang up; detach them in place (sessiontop detach --pgid G) or --force"
        }
    }
}

/// Exactly what a relaunch will do, built before anything runs so it can be shown and confirmed.
public struct RelaunchPlan: Hashable, Sendable {
    public var original: ProcessIdentity
    public var via: RelaunchVia
    /// The program (`/proc/<pid>/exe`) and argv (`/proc/<pid>/cmdline`) as they will be exec'd.
    public var executable: String
    public var arguments: [String]
    public var directory: String
    /// `/proc/<pid>/environ`: the environment the original was started with.
    public var environment: [String]
    public var umask: UInt32
    /// Switch to this user (root relaunching another user's process).
    public var user: String?
    /// daemonize: where stdout and stderr go.
    public var logPath: String?
    /// Set for sessiontop's default log: a new file owned by this user (the original's), in a
    /// directory private to them (`SafeFile.createLog`). nil for a log the user named (opened
    /// with `SafeFile.open`, appended to).
    public var logOwner: FileOwner?
    /// tmux / systemd-run: the exact launcher command line.
    public var launcher: [String]
    public var endOriginal: Bool
    public var termTimeout: Double
    public var warnings: [String]
    /// Where the tmux session or unit is named.
    public var name: String
    /// The exact argv and environment bytes when some are not UTF-8 (`arguments` and
    /// `environment` then hold their display form, `\xNN`); the daemonize path execs these.
    public var argumentBytes: [[UInt8]]? = nil
    public var environmentBytes: [[UInt8]]? = nil
    /// Seconds the copy must live before the original is ended.
    public var grace: Double = 1
    /// tmux: the server the session goes to (`-S` path or `-L` name), for the attach command.
    public var tmuxServer: [String] = []

    /// Lines for a confirmation dialog or `--dry-run`.
    public var preview: [String] {
        var out: [String] = []
        out.append("relaunch pid \(original.pid) via \(via.rawValue) — restarts from scratch: a new copy starts, the running state (the work done so far) is lost:")
        out.append("  run:    \(Self.quote(arguments))")
        out.append("  exe:    \(executable)")
        out.append("  in:     \(directory)  (umask \(octal(umask)))")
        out.append("  env:    \(environment.count) variables, as the original's /proc/\(original.pid)/environ")
        if let u = user { out.append("  user:   \(u)") }
        switch via {
        case .daemonize:
            out.append("  detach: new session (double fork), stdin /dev/null, stdout+stderr >> \(logPath ?? "/dev/null")")
        case .tmux, .systemdRun:
            out.append("  launch: \(Self.quote(launcher.prefix(12).map { $0 }))\(launcher.count > 12 ? " … (\(launcher.count) words)" : "")")
        }
        out.append(endOriginal
                   ? "  then:   once the copy has run \(Self.seconds(grace)) s, SIGTERM to pid \(original.pid), SIGKILL after \(Int(termTimeout)) s if still running (if the copy exits first, the original is kept)"
                   : "  then:   keep the original running")
        for w in warnings { out.append("  warning: \(w)") }
        return out
    }

    public static func seconds(_ s: Double) -> String {
        s == s.rounded() ? String(Int(s)) : String(s)
    }

    /// sh-style quoting for display.
    public static func quote(_ words: [String]) -> String {
        words.map { w in
            if !w.isEmpty && w.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }) { return w }
            return "'" + w.replacing("'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }

    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        writeJSON(&w)
        var out = w.bytes
        out.append(0x0a)
        return out
    }

    func writeJSON(_ w: inout JSONWriter) {
        w.object { w in
            w.key("pid"); w.int(original.pid)
            w.key("start_time"); w.int(original.startTime)
            w.key("via"); w.string(via.rawValue)
            w.key("executable"); w.string(executable)
            w.key("argv"); w.array { w in for a in arguments { w.string(a) } }
            w.key("cwd"); w.string(directory)
            w.key("umask"); w.string(octal(umask))
            w.key("environment"); w.array { w in for e in environment { w.string(e) } }
            w.key("user"); if let u = user { w.string(u) } else { w.null() }
            w.key("log"); if let l = logPath { w.string(l) } else { w.null() }
            w.key("launcher"); w.array { w in for a in launcher { w.string(a) } }
            w.key("end_original"); w.bool(endOriginal)
            w.key("grace_seconds"); w.double(grace)
            w.key("warnings"); w.array { w in for x in warnings { w.string(x) } }
        }
    }
}

public enum RelaunchError: Error, Hashable, Sendable, CustomStringConvertible {
    case start(DaemonizeError)
    case launcher(String)
    /// The log file was refused or could not be created (SafeFile's rules).
    case log(SafeFileError)
    /// The copy exited within the grace period: its wait status (nil: unknown, e.g. tmux
    /// collected it), the last lines of its log; the original was left untouched.
    case copyExited(pid: Int32, status: Int32?, grace: Double, original: Int32, logTail: [String])

    public var description: String {
        switch self {
        case .start(let e): return e.description
        case .launcher(let s): return s
        case .log(let e): return e.description
        case .copyExited(let pid, let status, let grace, let original, let tail):
            var s = "relaunch failed: the copy (pid \(pid)) "
            if let st = status {
                s += (st & 0x7f) == 0 ? "exited with status \((st >> 8) & 0xff)" : "was killed by SIG\(Signals.name(of: st & 0x7f))"
            } else {
                s += "exited"
            }
            s += " within \(RelaunchPlan.seconds(grace)) s; pid \(original) left running, untouched"
            if !tail.isEmpty { s += "; its log ends: " + tail.joined(separator: " | ") }
            return s
        }
    }
}

extension RelaunchError {
    /// The copy's exit code when it exited normally within the grace period.
    public var copyExitCode: Int32? {
        if case .copyExited(_, let st?, _, _, _) = self, (st & 0x7f) == 0 { return (st >> 8) & 0xff }
        return nil
    }
}

public struct RelaunchOutcome: Hashable, Sendable {
    /// The new process (for tmux: the pane's process).
    public var newPid: Int32?
    /// The signals sent to end the original (empty with --keep).
    public var ended: [SignalReport]
    /// The original is gone.
    public var originalGone: Bool
    /// Where the copy went (tmux: socket and attach command).
    public var started: Relauncher.Started? = nil
}

public enum Relauncher {
    /// Builds the plan from the live process (argv, exe, cwd, environ, umask, fds, children).
    public static func plan(pid: Int32, options: RelaunchOptions = RelaunchOptions(),
                            reader: SnapshotReader, snapshot: Snapshot? = nil) throws(RelaunchRefusal) -> RelaunchPlan {
        if pid == 1 { throw .initProcess }
        guard let p = reader.readProcess(pid) else { throw .noSuchProcess(pid) }
        if p.isKernelThread { throw .kernelThread(pid) }
        if pid == getpid() || pid == reader.selfPid { throw .sessiontopItself(pid) }
        if p.state.isGone { throw .zombie(pid) }

        func known<T>(_ f: Field<T>, _ what: String) throws(RelaunchRefusal) -> T {
            switch f {
            case .known(let v): return v
            case .unknown(let r): throw .unreadable(what: what, reason: r)
            }
        }
        func text(_ b: [UInt8], _ what: String) throws(RelaunchRefusal) -> String {
            guard let s = String(validating: b, as: UTF8.self) else { throw .notUTF8(what: what) }
            return s
        }
        let deleted = Array(" (deleted)".utf8)
        let exeBytes = try known(p.exe, "program (/proc/\(pid)/exe)")
        if exeBytes.count > deleted.count && Array(exeBytes.suffix(deleted.count)) == deleted {
            throw .exeDeleted(SafeText.display(Array(exeBytes.dropLast(deleted.count))))
        }
        let cwdBytes = try known(p.cwd, "working directory")
        if cwdBytes.count > deleted.count && Array(cwdBytes.suffix(deleted.count)) == deleted {
            throw .cwdDeleted(SafeText.display(Array(cwdBytes.dropLast(deleted.count))))
        }
        let argvBytes = try known(p.argv, "command line")
        if argvBytes.isEmpty { throw .unreadable(what: "command line", reason: .notApplicable) }
        let envBytes = try known(reader.environment(of: pid), "environment")

        // argv and environment need not be UTF-8: the daemonize path execs their bytes; tmux and
        // systemd-run take text, so there they are refused.
        let bytesOK = options.via == .daemonize
        func textOrBytes(_ b: [UInt8], _ what: String) throws(RelaunchRefusal) -> String {
            if let s = String(validating: b, as: UTF8.self) { return s }
            if bytesOK { return SafeText.display(b) }
            throw .notUTF8(what: what + " (relaunch it --via daemonize, which passes the bytes as they are)")
        }
        var argv: [String] = []
        for a in argvBytes { argv.append(try textOrBytes(a, "command line")) }
        var env: [String] = []
        for e in envBytes { env.append(try textOrBytes(e, "environment")) }
        let rawArgv = argvBytes.contains { String(validating: $0, as: UTF8.self) == nil } ? argvBytes : nil
        let rawEnv = envBytes.contains { String(validating: $0, as: UTF8.self) == nil } ? envBytes : nil
        let exe = try text(exeBytes, "program path")
        let cwd = try text(cwdBytes, "working directory")

        var warnings: [String] = []
        let umask: UInt32
        if let u = p.umask.value { umask = u } else { umask = 0o022; warnings.append("its umask is unknown: using 022") }

        var user: String?
        if let why = p.userUnknown { throw .unreadable(what: "owner (status Uid:)", reason: why) }
        if p.uid != geteuid() {
            if geteuid() != 0 || options.via != .daemonize { throw .otherUser(uid: p.uid) }
            user = String(p.uid)
        }

        // What is lost by detaching.
        if let fds = p.fds.value {
            let names = ["stdin", "stdout", "stderr"]
            for f in fds where f.kind == .tty || FdTargetParser.isTTYPath(f.target) {
                if options.via == .tmux { break }
                if f.fd == 0 {
                    // True warnings only: /proc/PID/syscall shows whether it is reading it now.
                    let sys = p.syscall.value
                    if let fd = sys?.readingFD, fds.contains(where: { $0.fd == fd && ($0.kind == .tty || FdTargetParser.isTTYPath($0.target)) }) {
                        warnings.append("it is reading the terminal now (blocked in read on fd \(fd), \(f.targetText)): the copy reads /dev/null and gets end-of-file")
                    } else {
                        warnings.append("its stdin is the terminal \(f.targetText) (it is not reading it now): the copy's is /dev/null")
                    }
                } else if f.fd <= 2 {
                    warnings.append("its \(names[Int(f.fd)]) is the terminal \(f.targetText): output goes to \(options.via == .daemonize ? "the log" : "the journal")")
                } else {
                    warnings.append("fd \(f.fd) is the terminal \(f.targetText): not carried over")
                }
            }
            let others = fds.filter { $0.fd > 2 }
            let nonTTY = others.filter { !($0.kind == .tty || FdTargetParser.isTTYPath($0.target)) }
            if !nonTTY.isEmpty {
                let list = nonTTY.prefix(6).map { "\($0.fd) (\($0.kind.rawValue))" }.joined(separator: ", ")
                warnings.append("open fds \(list)\(nonTTY.count > 6 ? ", …" : "") are not carried over: the new process starts with 0, 1, 2 only")
            }
        }
        let snap = snapshot ?? reader.snapshot()
        // Relaunch restarts it: say so plainly, and what would keep it instead.
        let verdicts = HangupVerdicts(snap, events: [.hangup, .logout])
        let safe = [HangupEvent.hangup, .logout].allSatisfy { e in
            guard let v = verdicts.verdict(pid, e) else { return snap.session(p.sid)?.tty == nil }
            return v.certain && (v.fate == .survives || v.fate == .unaffected)
        }
        if safe {
            let why = verdicts.verdict(pid, .hangup)?.reasons.first ?? "its session has no terminal: no hangup can reach it"
            warnings.insert("no need to detach: pid \(pid) already survives a hangup (\(why)); relaunching only restarts it", at: 0)
        } else if !p.isSessionLeader {
            warnings.insert("to keep it running instead (same pid, same state): sessiontop detach \(pid)", at: 0)
        }
        let kids = (snap.children[pid] ?? []).filter { snap.processes[$0].map { !$0.state.isGone } ?? false }
        if !kids.isEmpty {
            let list = kids.prefix(8).map(String.init).joined(separator: ", ")
            warnings.append("it has \(kids.count) child process\(kids.count == 1 ? "" : "es") (\(list)\(kids.count > 8 ? ", …" : "")) that would be left behind")
        }
        if p.state.isStopped { warnings.append("it is stopped: the new copy starts running") }
        // nohup: SIGHUP ignored and the output in nohup.out; the copy's goes to the new log.
        if p.signals.ignored.contains(Signals.hup), options.via == .daemonize,
           let out = p.fds.value?.first(where: { $0.fd == 1 }), out.targetText.hasSuffix("/nohup.out") {
            warnings.append("it was started with nohup: its output moves from \(out.targetText) to the new log")
        }
        // Interactive shells and session leaders with jobs: a copy cannot replace them.
        let shells: Set<String> = ["bash", "zsh", "fish", "dash", "sh", "ksh", "mksh", "tcsh", "csh", "ash", "busybox"]
        let arg0 = argv[0].split(separator: "/").last.map(String.init) ?? argv[0]
        let shellName = arg0.hasPrefix("-") ? String(arg0.dropFirst()) : arg0
        if shells.contains(shellName) || shells.contains(p.commText) {
            let rest = argv.dropFirst()
            var why: String?
            if arg0.hasPrefix("-") || rest.contains("-l") || rest.contains("--login") { why = "a login shell" }
            else if rest.contains("-i") || rest.contains(where: { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains("i") && !$0.contains("c") }) { why = "started with -i" }
            else if rest.allSatisfy({ $0.hasPrefix("-") }),
                    let in0 = p.fds.value?.first(where: { $0.fd == 0 }), in0.kind == .tty || FdTargetParser.isTTYPath(in0.target) {
                why = "no script, stdin the terminal \(in0.targetText)"
            }
            if let why, !options.force { throw .interactiveShell(pid: pid, shell: shellName, why: why) }
        }
        if p.isSessionLeader, !options.force, !options.keep {
            let others = Set(snap.processes.values.filter { $0.sid == p.sid && $0.pgid != p.pgid && !$0.state.isGone }.map(\.pgid))
            if !others.isEmpty { throw .leaderWithJobs(pid: pid, groups: others.count) }
        }
        // Ending an ancestor ends sessiontop's own terminal session with it.
        var ancestor = snap.processes[reader.selfPid]?.ppid ?? 0
        var hops = 0
        while ancestor > 1 && hops < 64 {
            if ancestor == pid {
                warnings.append("it is an ancestor of this sessiontop (\(options.keep ? "kept" : "ending it may end this terminal session"))")
                break
            }
            ancestor = snap.processes[ancestor]?.ppid ?? 0
            hops += 1
        }

        let comm = sanitize(p.commText)
        let name = options.name ?? "relaunch-\(comm)-\(pid)"
        var plan = RelaunchPlan(original: p.identity, via: options.via, executable: exe, arguments: argv,
                                directory: cwd, environment: env, umask: umask, user: user, logPath: nil,
                                launcher: [], endOriginal: !options.keep, termTimeout: options.termTimeout,
                                warnings: warnings, name: name, grace: max(0, options.grace))
        plan.argumentBytes = rawArgv
        plan.environmentBytes = rawEnv
        if rawArgv != nil || rawEnv != nil {
            plan.warnings.append("its \(rawArgv != nil ? "command line" : "environment") is not UTF-8: shown with \\xNN escapes, exec'd byte for byte")
        }
        switch options.via {
        case .daemonize:
            if let path = options.logPath {
                plan.logPath = path
            } else {
                guard let path = defaultLogPath(comm: comm, pid: pid, environment: env, uid: p.uid) else {
                    throw .noLogDirectory(uid: p.uid)
                }
                plan.logPath = path
                plan.logOwner = FileOwner(uid: p.uid, gid: p.gid)
            }
        case .tmux:
            guard let tmux = findInPath("tmux") else { throw .noTmux }
            var cmd = [tmux]
            // The server: --tmux-socket, else the one sessiontop runs in ($TMUX: socket,pid,n),
            // else the original's default server (its environment decides, as tmux would).
            if let s = options.tmuxSocket {
                plan.tmuxServer = s.hasPrefix("/") ? ["-S", s] : ["-L", s]
            } else if let t = getenv("TMUX").map({ String(cString: $0) }), let sock = t.split(separator: ",").first, sock.hasPrefix("/") {
                plan.tmuxServer = ["-S", String(sock)]
            }
            cmd += plan.tmuxServer
            cmd += ["new-session", "-d", "-P", "-F", "#{pane_pid} #{socket_path}", "-s", name, "-c", cwd]
            for e in env where !e.hasPrefix("TMUX=") && !e.hasPrefix("TMUX_PANE=") { cmd += ["-e", e] }
            // A pane runs argv[0] through execvp (tmux spawn.c); sh sets the umask first, and
            // `exec "$@"` keeps argv. argv[0] must find the same program in PATH.
            var args = argv
            if resolve(argv[0], env: env, cwd: cwd) != realPath(exe) {
                args[0] = exe
                plan.warnings.append("argv[0] '\(argv[0])' does not find \(exe) in PATH: tmux runs \(exe) as argv[0]")
            }
            cmd += ["--", "/bin/sh", "-c", "umask \(octal(umask)) && exec \"$@\"", "sh"] + args
            plan.launcher = cmd
            plan.warnings.append("tmux adds TERM, TMUX and TMUX_PANE to the environment")
        case .systemdRun:
            if let why = systemdUnavailable() { throw .systemdNotRunning(why) }
            var cmd = [findInPath("systemd-run") ?? "systemd-run", "--user", "--quiet", "--collect", "--unit=\(name)",
                       "--working-directory=\(cwd)", "--property=UMask=\(octal(umask))"]
            for e in env { cmd.append("--setenv=\(e)") }
            cmd += ["--", exe] + argv.dropFirst()
            plan.launcher = cmd
            if argv[0] != exe { plan.warnings.append("systemd-run sets argv[0] to \(exe) (was '\(argv[0])')") }
        }
        return plan
    }

    /// Starts the copy, then (unless `keep`) ends the original through the safe sender.
    /// Blocks up to `termTimeout` (+2 s) while the original ends: a UI may call `start` and
    /// `endOriginal` separately, the second off its event loop.
    public static func execute(_ plan: RelaunchPlan, sender: SignalSender? = nil) throws(RelaunchError) -> RelaunchOutcome {
        let started = try launch(plan)
        var ended: [SignalReport] = []
        var gone = false
        if plan.endOriginal { (ended, gone) = endOriginal(plan, sender: sender) }
        return RelaunchOutcome(newPid: started.pid, ended: ended, originalGone: gone, started: started)
    }

    /// SIGTERM (SIGCONT if stopped), SIGKILL after the timeout, all checked against the
    /// original's identity. Returns the reports and whether it is gone.
    public static func endOriginal(_ plan: RelaunchPlan, sender: SignalSender? = nil) -> ([SignalReport], Bool) {
        guard let s = sender ?? (try? SignalSender()) else { return ([], false) }
        let reports = s.terminate(plan.original, timeout: plan.termTimeout)
        return (reports, s.waitForExit(plan.original, timeout: 0))
    }

    /// Starts the copy only. Returns its pid (for tmux, the pane's; nil for systemd-run).
    public static func start(_ plan: RelaunchPlan) throws(RelaunchError) -> Int32? {
        try launch(plan).pid
    }

    /// Where the copy went.
    public struct Started: Hashable, Sendable {
        public var pid: Int32?
        /// tmux: the server's socket path, as tmux reports it.
        public var tmuxSocket: String?
        /// tmux: the exact command that attaches to the copy's session.
        public var attachCommand: String?
    }

    /// Starts the copy, then waits `plan.grace` seconds: it must still be running before this
    /// returns (daemonize: its parent watches it and reports its wait status; tmux: the pane's
    /// process is polled). A copy that exits meanwhile throws `.copyExited`, and nothing has
    /// been done to the original.
    public static func launch(_ plan: RelaunchPlan) throws(RelaunchError) -> Started {
        var newPid: Int32?
        var socket: String?
        switch plan.via {
        case .daemonize:
            // The log is opened here, by rules no other user can subvert (SafeFile).
            var log: SafeFile.Handle?
            if let path = plan.logPath {
                do {
                    if let owner = plan.logOwner {
                        log = try SafeFile.createLog(path, owner: owner)
                    } else {
                        var owners: Set<UInt32> = [geteuid()]
                        if let u = plan.user.flatMap({ UInt32($0) }) { owners.insert(u) }
                        let maker = plan.user.flatMap { UInt32($0) }.flatMap { Daemonizer.lookUpUser(String($0)) }
                            .map { FileOwner(uid: $0.uid, gid: $0.gid) } ?? .caller
                        log = try SafeFile.open(path, for: .output(append: true), owners: owners, makeDirectories: maker)
                    }
                } catch { throw .log(error) }
            }
            var o = DaemonizeOptions(command: plan.arguments)
            o.executable = plan.executable
            o.directory = plan.directory
            o.environment = plan.environment
            o.umask = plan.umask
            o.user = plan.user
            o.userEnvironment = false
            o.outputFD = log?.fd
            o.commandBytes = plan.argumentBytes
            o.environmentBytes = plan.environmentBytes
            o.graceMilliseconds = Int32(min(plan.grace, 600) * 1000)
            let result: DaemonizeResult
            do { result = try Daemonizer.start(o) } catch {
                log?.removeIfCreated()
                throw .start(error)
            }
            withExtendedLifetime(log) {}
            newPid = result.pid
            if let status = result.ended {
                throw .copyExited(pid: result.pid, status: status, grace: plan.grace, original: plan.original.pid,
                                  logTail: plan.logPath.map { logTail($0) } ?? [])
            }
        case .tmux, .systemdRun:
            // tmux: a server it starts gets the original's environment as its global one;
            // systemd-run needs the caller's (XDG_RUNTIME_DIR, the bus), --setenv carries the rest.
            let (status, out, err) = runCapturing(plan.launcher, environment: plan.via == .tmux ? plan.environment : nil)
            guard status == 0 else {
                let msg = String(decoding: err, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "exit status \(status)"
                throw .launcher("\(plan.via.rawValue) failed: \(msg)")
            }
            if plan.via == .tmux {
                let words = String(decoding: out, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
                newPid = words.first.flatMap { Int32($0) }
                socket = words.dropFirst().first.map(String.init)
                if let pid = newPid, plan.grace > 0 {
                    // tmux collects the pane's status itself: alive or not is what we can tell.
                    let deadline = monotonicSeconds() + plan.grace
                    while monotonicSeconds() < deadline {
                        if !isRunning(pid) {
                            throw .copyExited(pid: pid, status: nil, grace: plan.grace, original: plan.original.pid, logTail: [])
                        }
                        usleep(20_000)
                    }
                }
            }
        }
        var attach: String?
        if plan.via == .tmux {
            let server = socket.map { ["-S", $0] } ?? plan.tmuxServer
            attach = RelaunchPlan.quote(["tmux"] + server + ["attach", "-t", plan.name])
        }
        return Started(pid: newPid, tmuxSocket: socket, attachCommand: attach)
    }

    /// Alive and not a zombie (`/proc/<pid>/stat` state).
    static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buf, buf.count)
        guard n > 0, let close = buf[0..<n].lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return false }
        let state = buf[close + 2]
        return state != UInt8(ascii: "Z") && state != UInt8(ascii: "X")
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The last `count` lines of a log (at most its last 16 KiB read), control bytes escaped.
    public static func logTail(_ path: String, count: Int = 5) -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return [] }
        let size = Int(st.st_size)
        let want = min(size, 16384)
        var buf = [UInt8](repeating: 0, count: want)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(size - want)) }
        guard n > 0 else { return [] }
        let lines = buf[0..<n].split(separator: 0x0a).map { SafeText.display(Array($0)) }.filter { !$0.isEmpty }
        return Array(lines.suffix(count))
    }

    /// `<state dir>/<comm>-<pid>-<YYYYmmdd-HHMMSS>.log`, where the state dir is the one of the
    /// user `uid` whose environment is `environment` (`SafeFile.logDirectory`: XDG_STATE_HOME,
    /// HOME, the password entry's home; never /tmp). nil when that user has none.
    public static func defaultLogPath(comm: String, pid: Int32, environment: [String], uid: UInt32) -> String? {
        guard let dir = SafeFile.logDirectory(environment: environment, uid: uid) else { return nil }
        var t = time(nil)
        var tmv = tm()
        localtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 32)
        let n = strftime(&buf, buf.count, "%Y%m%d-%H%M%S", &tmv)
        let stamp = String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(dir)/\(comm)-\(pid)-\(stamp).log"
    }

    /// systemd-run --user needs a booted systemd (sd_booted(3): /run/systemd/system) and the
    /// user's manager ($XDG_RUNTIME_DIR/systemd/private). nil when both are there.
    public static func systemdUnavailable() -> String? {
        var st = stat()
        if stat("/run/systemd/system", &st) != 0 { return "systemd is not running on this machine (no /run/systemd/system)" }
        let runtime = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) } ?? "/run/user/\(geteuid())"
        if stat(runtime + "/systemd/private", &st) != 0 { return "no systemd user manager for uid \(geteuid()) (no \(runtime)/systemd/private)" }
        if findInPath("systemd-run") == nil { return "systemd-run is not installed" }
        return nil
    }

    // MARK: - helpers

    static func sanitize(_ s: String) -> String {
        let t = String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return t.isEmpty ? "process" : t
    }

    static func findInPath(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        return nil
    }

    /// Where execvp(3) would find `name` with this PATH, from `cwd`.
    static func resolve(_ name: String, env: [String], cwd: String) -> String? {
        if name.contains("/") { return realPath(name.hasPrefix("/") ? name : cwd + "/" + name) }
        let path = env.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let d = dir.isEmpty ? cwd : (dir.hasPrefix("/") ? String(dir) : cwd + "/" + dir)
            let candidate = d + "/" + name
            if access(candidate, X_OK) == 0 { return realPath(candidate) }
        }
        return nil
    }

    static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// Runs a short command (tmux, systemd-run) through Spawner; returns status, stdout, stderr.
    static func runCapturing(_ argv: [String], environment: [String]?) -> (Int32, [UInt8], [UInt8]) {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard st_pipe2(&outPipe, O_CLOEXEC) == 0 else { return (-1, [], Array("pipe: \(Errno.current.message)".utf8)) }
        guard st_pipe2(&errPipe, O_CLOEXEC) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            return (-1, [], Array("pipe: \(Errno.current.message)".utf8))
        }
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        var r = SpawnRequest(argv)
        r.environment = environment?.filter { !$0.hasPrefix("TMUX=") }
        r.fileDescriptors = [(0, devnull), (1, outPipe[1]), (2, errPipe[1])]
        let pid: Int32
        do { pid = try Spawner.spawn(r) } catch {
            for fd in [outPipe[0], outPipe[1], errPipe[0], errPipe[1], devnull] { close(fd) }
            return (-1, [], Array(error.description.utf8))
        }
        close(outPipe[1]); close(errPipe[1]); close(devnull)
        let output = Pipes.drain([outPipe[0], errPipe[0]], timeout: 10)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, output[0], output[1])
    }
}

/// `0022`-style octal.
func octal(_ value: UInt32) -> String {
    let s = String(value, radix: 8)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}
