@preconcurrency import CCurses
import SessionCore
import CSessionShims
#if canImport(Glibc)
import Glibc
#endif

/// Scans /proc on a thread of its own, so a key pressed while 10 000 processes are read is
/// drawn at once (issue 11: key press to draw within 50 ms). It has its own `SnapshotReader`
/// (the host's stays with the actions); the loop hands it the options of a scan, and polls
/// `wakeFD`: a byte there means `take()` has the snapshot. One scan at a time.
final class BackgroundScanner: @unchecked Sendable {
    private let reader: SnapshotReader
    /// Read end, polled by the host loop.
    let wakeFD: Int32
    private let wakeWriteFD: Int32
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private var pending: (ScanOptions, HangupEvent?)?
    private var result: (Snapshot, HangupVerdicts?)?
    /// A scan was asked for and its snapshot not taken yet (the host's thread only).
    private(set) var busy = false
    /// How long the last scan took (seconds on the worker's thread CPU clock: its own cost).
    private(set) var lastScanCPU: Double = 0
    private var scanCPU: Double = 0

    /// nil when the reader, the pipe or the thread cannot be had: the host scans inline then.
    init?(root: String, configRoot: String) {
        guard let r = try? SnapshotReader(root: root) else { return nil }
        r.configRoot = configRoot
        // Every process's stat kept open between ticks (one pread each): room for them
        // (children get the original limit back, st_spawn).
        _ = st_raise_nofile_limit(1 << 17)
        r.keepStatFiles = true
        reader = r
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        wakeFD = fds[0]
        wakeWriteFD = fds[1]
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        // Every signal blocked on the worker: SIGWINCH and the quit signals reach the UI thread.
        var all = sigset_t(), old = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &old)
        var tid = pthread_t()
        let me = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&tid, nil, { raw in
            Unmanaged<BackgroundScanner>.fromOpaque(raw!).takeUnretainedValue().loop()
            return nil
        }, me)
        pthread_sigmask(SIG_SETMASK, &old, nil)
        guard rc == 0 else {
            Unmanaged<BackgroundScanner>.fromOpaque(me).release()
            close(fds[0]); close(fds[1])
            return nil
        }
        pthread_detach(tid)
    }

    /// Starts a scan with these options (ignored while one runs); with `analyze`, the hangup
    /// analysis of the new snapshot for that event runs on the worker too.
    func request(_ options: ScanOptions, analyze event: HangupEvent? = nil) {
        guard !busy else { return }
        busy = true
        pthread_mutex_lock(mutex)
        pending = (options, event)
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }

    /// The finished scan, if there is one (drains the wake pipe).
    func take() -> (Snapshot, HangupVerdicts?)? {
        var buf = [UInt8](repeating: 0, count: 16)
        while read(wakeFD, &buf, buf.count) > 0 {}
        pthread_mutex_lock(mutex)
        let r = result
        result = nil
        if r != nil { lastScanCPU = scanCPU }
        pthread_mutex_unlock(mutex)
        if r != nil { busy = false }
        return r
    }

    static func threadCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private func loop() {
        // Below the UI thread (nice is per thread on Linux, setpriority(2) NOTES; the scan's
        // helper thread inherits it): on a busy machine a key is drawn before the scan goes on.
        _ = cc_nice_this_thread(10)
        while true {
            pthread_mutex_lock(mutex)
            while pending == nil { pthread_cond_wait(cond, mutex) }
            let (options, event) = pending!
            pending = nil
            pthread_mutex_unlock(mutex)
            let c0 = Self.threadCPU()
            let snap = reader.snapshot(options: options)
            let verdicts = event.map { HangupVerdicts(snap, events: [$0]) }
            let c1 = Self.threadCPU()
            pthread_mutex_lock(mutex)
            result = (snap, verdicts)
            scanCPU = c1 - c0
            pthread_mutex_unlock(mutex)
            var b: UInt8 = 1
            _ = write(wakeWriteFD, &b, 1)
        }
    }
}
