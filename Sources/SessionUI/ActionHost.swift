import SessionCore
#if canImport(Glibc)
import Glibc
#endif

/// The host side of the actions: runs the effects `update` asks for through the core
/// (`SignalSender`, `Relauncher`) and turns their results into events. Ending the original of a
/// relaunch (`Relauncher.endOriginal`, up to its timeout) runs on a detached pthread that posts
/// its result here and wakes the host's poll through a pipe (`wakeFD`), so the screen never
/// freezes.
final class ActionHost: @unchecked Sendable {
    let reader: SnapshotReader
    /// nil when signals are off (a fixture `--proc-root`, or /proc could not be opened).
    private let sender: SignalSender?
    /// Read end, polled by the host loop; a byte means `takeEvents` has something.
    let wakeFD: Int32
    private let wakeWriteFD: Int32
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var inbox: [AppEvent] = []

    init(reader: SnapshotReader, live: Bool) {
        self.reader = reader
        sender = live ? try? SignalSender() : nil
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
        }
        wakeFD = fds[0]
        wakeWriteFD = fds[1]
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    deinit {
        // Never freed while a worker may still post (the app ends with the process anyway).
        if wakeFD >= 0 { close(wakeFD) }
    }

    /// Runs one effect; returns the event that reports it (nil for `endOriginal`, whose event
    /// comes later through `takeEvents`). `quit` and `refreshNow` are the loop's business.
    func perform(_ effect: Effect, snapshot: Snapshot) -> AppEvent? {
        switch effect {
        case .lab(.log(let table)):
            // The inspector's surprises go to the lab log too (issue 12 §3).
            if case .failure(let e) = LabLog.append(table, source: "inspector") { return .actionFailed("surprise not logged: \(e.description)") }
            return nil
        case .quit, .refreshNow, .lab:
            return nil
        case .sendSignal(let target, let sig):
            guard let sender else { return .actionFailed("signals act on the live /proc only: nothing sent") }
            return .signalSent(sender.send(sig, to: target, force: false))
        case .planRelaunch(let id, let via):
            guard sender != nil else { return .actionFailed("detach acts on the live /proc only") }
            var o = RelaunchOptions()
            o.via = via
            let plan: RelaunchPlan
            do { plan = try Relauncher.plan(pid: id.pid, options: o, reader: reader, snapshot: snapshot) } catch {
                return .actionFailed("detach pid \(id.pid): \(error.description)")
            }
            guard plan.original == id else {
                return .actionFailed("detach pid \(id.pid): the pid now names another process (start time changed); nothing done")
            }
            return .relaunchPlanned(plan)
        case .relaunch(let plan):
            guard let sender else { return .actionFailed("detach acts on the live /proc only") }
            // The dialog may have been open a while: start nothing for a process that is gone.
            guard sender.identity(of: plan.original.pid) == plan.original else {
                return .actionFailed("pid \(plan.original.pid) has exited meanwhile: nothing started")
            }
            // The copy must live through its grace period (1 s) first: off the UI loop.
            inBackground("relaunch pid \(plan.original.pid)") {
                do throws(RelaunchError) { return .relaunchStarted(plan, newPid: try Relauncher.start(plan)) } catch {
                    if case .copyExited = error { return .actionFailed(error.description) }
                    return .actionFailed("relaunch failed: \(error.description); pid \(plan.original.pid) left running")
                }
            }
            return nil
        case .endOriginal(let plan, let newPid):
            endInBackground(plan, newPid: newPid)
            return nil
        case .readEnvironment(let id):
            // Read, then checked: the pid must still be that process, or it is not its environ.
            let env = reader.environment(of: id.pid)
            guard reader.readProcess(id.pid)?.startTime == id.startTime else { return .environment(id, .unknown(.vanished)) }
            return .environment(id, env)
        case .sendSignalEach(let ids, let sig):
            guard let sender else { return .actionFailed("signals act on the live /proc only: nothing sent") }
            return .signalsSent(ids.map { sender.send(sig, to: .process($0), force: false) })
        case .relaunchEach(let ids, let via):
            guard sender != nil else { return .actionFailed("detach acts on the live /proc only") }
            // Its own reader and sender: the UI thread's are not shared with a worker.
            inBackground("relaunch \(ids.count) processes") {
                guard let reader = try? SnapshotReader(), let sender = try? SignalSender() else { return .actionFailed("cannot open /proc: nothing relaunched") }
                return ActionHost.relaunchEach(ids, via: via, sender: sender, reader: reader, snapshot: snapshot)
            }
            return nil
        case .planDetach(let id):
            return planDetach(id, snapshot: snapshot)
        case .detachInPlace(let plan):
            guard sender != nil else { return .actionFailed("detach acts on the live /proc only") }
            do { return .detached(try Detacher.execute(plan, reader: reader)) } catch {
                return .actionFailed("detach in place: \(error.description)")
            }
        case .detachInPlaceEach(let ids):
            guard sender != nil else { return .actionFailed("detach acts on the live /proc only") }
            return detachEach(ids, snapshot: snapshot)
        case .saveConfig(let text):
            return .configSaved(Self.saveConfig(text))
        }
    }

    /// Where the setup is saved: `$XDG_CONFIG_HOME/sessiontop/config`, else
    /// `~/.config/sessiontop/config` (XDG Base Directory Specification).
    static func configPath() -> String? {
        if let x = getenv("XDG_CONFIG_HOME").map({ String(cString: $0) }), x.hasPrefix("/") { return x + "/sessiontop/config" }
        if let h = getenv("HOME").map({ String(cString: $0) }), h.hasPrefix("/") { return h + "/.config/sessiontop/config" }
        return nil
    }

    /// Writes the config through SafeFile (no symlink followed, owner-checked directories,
    /// created 0700 where missing); returns the line for the status bar.
    static func saveConfig(_ text: String) -> String {
        guard let path = configPath() else { return "not saved: neither XDG_CONFIG_HOME nor HOME is set" }
        let me = FileOwner(uid: geteuid(), gid: getegid())
        do {
            let h = try SafeFile.open(path, for: .output(append: false), makeDirectories: me)
            var bytes = Array(text.utf8)
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeMutableBytes { write(h.fd, $0.baseAddress! + off, $0.count - off) }
                if n < 0 { if errno == EINTR { continue }; return "not saved: \(path): \(Errno.current.message)" }
                off += n
            }
            return "setup saved to \(path)"
        } catch {
            return "not saved: \(error.description)"
        }
    }

    /// The saved setup, if there is one (its problems, one line each).
    static func loadConfig() -> (SetupConfig, [String])? {
        guard let path = configPath() else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while data.count < 65536 {
            let n = read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data += buf[0..<n]
        }
        let parsed = SetupConfig.parse(String(decoding: data, as: UTF8.self))
        return (parsed.config, parsed.problems)
    }

    /// Events posted by workers since the last call (drains the wake pipe).
    func takeEvents() -> [AppEvent] {
        var buf = [UInt8](repeating: 0, count: 64)
        while wakeFD >= 0 && read(wakeFD, &buf, buf.count) > 0 {}
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        let out = inbox
        inbox = []
        return out
    }

    func post(_ event: AppEvent) {
        pthread_mutex_lock(lock)
        inbox.append(event)
        pthread_mutex_unlock(lock)
        var b: UInt8 = 1
        if wakeWriteFD >= 0 { _ = write(wakeWriteFD, &b, 1) }
    }

    /// Each tagged process relaunched in turn (each copy through its grace period).
    static func relaunchEach(_ ids: [ProcessIdentity], via: RelaunchVia, sender: SignalSender, reader: SnapshotReader, snapshot: Snapshot) -> AppEvent {
        var lines: [String] = []
        var started = 0
        for id in ids {
            var o = RelaunchOptions()
            o.via = via
            guard sender.identity(of: id.pid) == id else { lines.append("pid \(id.pid) has exited: nothing started"); continue }
            let plan: RelaunchPlan
            do { plan = try Relauncher.plan(pid: id.pid, options: o, reader: reader, snapshot: snapshot) } catch {
                lines.append("pid \(id.pid): \(error.description)")
                continue
            }
            guard plan.original == id else { lines.append("pid \(id.pid) now names another process: nothing done"); continue }
            do {
                let new = try Relauncher.start(plan)
                started += 1
                var line = "pid \(id.pid) → " + (new.map { "pid \($0)" } ?? "started")
                if plan.endOriginal {
                    // On this worker: the next copy starts once this original has ended.
                    let (_, gone) = Relauncher.endOriginal(plan, sender: sender)
                    if !gone { line += " (the original did NOT end)" }
                }
                lines.append(line)
            } catch {
                lines.append("pid \(id.pid): detach failed: \(error.description); left running")
            }
        }
        return .relaunchedEach(started: started, lines: lines)
    }

    /// Runs `work` on a detached pthread (all signals blocked in it) and posts its event.
    func inBackground(_ what: String, otherwise: String = "nothing done", _ work: @escaping @Sendable () -> AppEvent) {
        let job = Unmanaged.passRetained(WorkJob(work: work, host: self)).toOpaque()
        var all = sigset_t(), old = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &old)
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let job = Unmanaged<WorkJob>.fromOpaque(arg!).takeRetainedValue()
            job.host.post(job.work())
            return nil
        }, job)
        pthread_sigmask(SIG_SETMASK, &old, nil)
        if rc == 0 {
            pthread_detach(tid)
        } else {
            Unmanaged<WorkJob>.fromOpaque(job).release()
            post(.actionFailed("cannot start a thread to \(what) (\(Errno(rc).message)): \(otherwise)"))
        }
    }

    private final class WorkJob {
        let work: @Sendable () -> AppEvent
        let host: ActionHost
        init(work: @escaping @Sendable () -> AppEvent, host: ActionHost) {
            self.work = work
            self.host = host
        }
    }

    /// `Relauncher.endOriginal` (SIGTERM, SIGCONT if stopped, SIGKILL after the timeout, each
    /// checked against the original's identity) on a worker thread, so the screen stays live.
    private func endInBackground(_ plan: RelaunchPlan, newPid: Int32?) {
        inBackground("end pid \(plan.original.pid)", otherwise: "end it yourself (k)") {
            let (reports, gone) = Relauncher.endOriginal(plan)
            return .originalEnded(plan, newPid: newPid, reports: reports, gone: gone)
        }
    }
}

extension ActionHost {
    /// The in-place plan for the process's job; when in place is refused (pid 1, a traced or
    /// seccomp-filtered process, …), the relaunch plan with the reason among its warnings.
    /// One in-place detach per job (process group) of the tagged processes, each planned from
    /// /proc now; a process whose pid names another process by now is skipped, said so.
    func detachEach(_ ids: [ProcessIdentity], snapshot: Snapshot) -> AppEvent {
        var outcomes: [DetachOutcome] = []
        var refused: [String] = []
        var seen = Set<Int32>()
        for id in ids {
            guard let p = reader.readProcess(id.pid), p.startTime == id.startTime, !p.state.isGone else {
                refused.append("pid \(id.pid) has exited: nothing done")
                continue
            }
            guard seen.insert(p.pgid).inserted else { continue }
            do {
                let plan = try Detacher.plan(.group(p.pgid), reader: reader)
                outcomes.append(try Detacher.execute(plan, reader: reader))
            } catch {
                refused.append("group \(p.pgid): \(error.description)")
            }
        }
        return .detachedEach(outcomes, refused: refused)
    }

    func planDetach(_ id: ProcessIdentity, snapshot: Snapshot) -> AppEvent {
        guard snapshot.processes[id.pid]?.startTime == id.startTime else {
            return .actionFailed("detach pid \(id.pid): the pid now names another process (start time changed); nothing done")
        }
        do {
            let plan = try Detacher.plan(.process(id.pid), reader: reader)
            guard plan.members.contains(where: { $0.identity == id }) else {
                return .actionFailed("detach pid \(id.pid): the pid now names another process (start time changed); nothing done")
            }
            return .detachPlanned(plan)
        } catch {
            guard var plan = try? Relauncher.plan(pid: id.pid, options: RelaunchOptions(), reader: reader, snapshot: snapshot) else {
                return .actionFailed("detach pid \(id.pid): \(error.description)")
            }
            plan.warnings.insert("in place is not possible: \(error.description)", at: 0)
            return .relaunchPlanned(plan)
        }
    }
}
