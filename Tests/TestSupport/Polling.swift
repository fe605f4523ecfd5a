import Glibc

/// Seconds on CLOCK_MONOTONIC (clock_gettime(2)): for deadlines, never for dates.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass; the result of a
/// last check after the deadline. Polling, not fixed sleeps: fast when the machine is.
public func waitUntil(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicSeconds() + timeout
    while monotonicSeconds() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Where `tmux -L NAME` keeps its socket: `$TMUX_TMPDIR` (or /tmp), `tmux-UID/NAME` (tmux(1), -L).
public func tmuxSocketPath(_ name: String) -> String {
    let dir = getenv("TMUX_TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    return "\(dir)/tmux-\(getuid())/\(name)"
}
