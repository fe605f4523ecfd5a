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
            do { return .relaunchStarted(plan, newPid: try Relauncher.start(plan)) } catch {
                return .actionFailed("detach failed: \(error.description); pid \(plan.original.pid) left running")
            }
        case .endOriginal(let plan, let newPid):
            endInBackground(plan, newPid: newPid)
            return nil
        }
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

    private final class EndJob {
        let plan: RelaunchPlan
        let newPid: Int32?
        let host: ActionHost
        init(plan: RelaunchPlan, newPid: Int32?, host: ActionHost) {
            self.plan = plan
            self.newPid = newPid
            self.host = host
        }
    }

    /// `Relauncher.endOriginal` (SIGTERM, SIGCONT if stopped, SIGKILL after the timeout, each
    /// checked against the original's identity) on a detached thread with every signal
    /// blocked, so SIGWINCH and the quit signals keep reaching the UI thread.
    private func endInBackground(_ plan: RelaunchPlan, newPid: Int32?) {
        let job = Unmanaged.passRetained(EndJob(plan: plan, newPid: newPid, host: self)).toOpaque()
        var all = sigset_t(), old = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &old)
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let job = Unmanaged<EndJob>.fromOpaque(arg!).takeRetainedValue()
            let (reports, gone) = Relauncher.endOriginal(job.plan)
            job.host.post(.originalEnded(job.plan, newPid: job.newPid, reports: reports, gone: gone))
            return nil
        }, job)
        pthread_sigmask(SIG_SETMASK, &old, nil)
        if rc == 0 {
            pthread_detach(tid)
        } else {
            Unmanaged<EndJob>.fromOpaque(job).release()
            post(.actionFailed("cannot start a thread to end pid \(plan.original.pid) (\(Errno(rc).message)): end it yourself (k)"))
        }
    }
}
