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

    /// Lines for a confirmation dialog or `--dry-run`.
    public var preview: [String] {
        var out: [String] = []
        out.append("relaunch pid \(original.pid) via \(via.rawValue):")
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
                   ? "  then:   SIGTERM to pid \(original.pid), SIGKILL after \(Int(termTimeout)) s if still running"
                   : "  then:   keep the original running")
        for w in warnings { out.append("  warning: \(w)") }
        return out
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
            w.key("warnings"); w.array { w in for x in warnings { w.string(x) } }
        }
    }
}

public enum RelaunchError: Error, Hashable, Sendable, CustomStringConvertible {
    case start(DaemonizeError)
    case launcher(String)
    /// The log file was refused or could not be created (SafeFile's rules).
    case log(SafeFileError)

    public var description: String {
        switch self {
        case .start(let e): return e.description
        case .launcher(let s): return s
        case .log(let e): return e.description
        }
    }
}

public struct RelaunchOutcome: Hashable, Sendable {
    /// The new process (for tmux: the pane's process).
    public var newPid: Int32?
    /// The signals sent to end the original (empty with --keep).
    public var ended: [SignalReport]
    /// The original is gone.
    public var originalGone: Bool
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

        var argv: [String] = []
        for a in argvBytes { argv.append(try text(a, "command line")) }
        var env: [String] = []
        for e in envBytes { env.append(try text(e, "environment")) }
        let exe = try text(exeBytes, "program path")
        let cwd = try text(cwdBytes, "working directory")

        var warnings: [String] = []
        let umask: UInt32
        if let u = p.umask.value { umask = u } else { umask = 0o022; warnings.append("its umask is unknown: using 022") }

        var user: String?
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
                    warnings.append("it reads the terminal (stdin is \(f.targetText)): the new process gets /dev/null")
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
        let kids = (snap.children[pid] ?? []).filter { snap.processes[$0].map { !$0.state.isGone } ?? false }
        if !kids.isEmpty {
            let list = kids.prefix(8).map(String.init).joined(separator: ", ")
            warnings.append("it has \(kids.count) child process\(kids.count == 1 ? "" : "es") (\(list)\(kids.count > 8 ? ", …" : "")) that would be left behind")
        }
        if p.state.isStopped { warnings.append("it is stopped: the new copy starts running") }
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
                                warnings: warnings, name: name)
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
            if let s = options.tmuxSocket { cmd += ["-L", s] }
            cmd += ["new-session", "-d", "-P", "-F", "#{pane_pid}", "-s", name, "-c", cwd]
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
        let newPid = try start(plan)
        var ended: [SignalReport] = []
        var gone = false
        if plan.endOriginal { (ended, gone) = endOriginal(plan, sender: sender) }
        return RelaunchOutcome(newPid: newPid, ended: ended, originalGone: gone)
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
        var newPid: Int32?
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
            do { newPid = try Daemonizer.start(o).pid } catch {
                log?.removeIfCreated()
                throw .start(error)
            }
            withExtendedLifetime(log) {}
        case .tmux, .systemdRun:
            // tmux: a server it starts gets the original's environment as its global one;
            // systemd-run needs the caller's (XDG_RUNTIME_DIR, the bus), --setenv carries the rest.
            let (status, out, err) = runCapturing(plan.launcher, environment: plan.via == .tmux ? plan.environment : nil)
            guard status == 0 else {
                let msg = String(decoding: err, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "exit status \(status)"
                throw .launcher("\(plan.via.rawValue) failed: \(msg)")
            }
            if plan.via == .tmux {
                newPid = Int32(String(decoding: out, as: UTF8.self).filter { $0.isNumber })
            }
        }
        return newPid
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
