#if canImport(Glibc)
import Glibc
#endif

/// Reading a child's output pipes.
public enum Pipes {
    /// Reads every fd in `fds` to end of file, all together through poll(2) (a child that fills
    /// one pipe never blocks on the other), for at most `timeout` seconds; closes them all.
    /// The bytes read from each fd, in the order given.
    public static func drain(_ fds: [Int32], timeout: Double) -> [[UInt8]] {
        var collected = [[UInt8]](repeating: [], count: fds.count)
        var polled = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var open = fds.count
        let deadline = monotonicMillis() + Int64(timeout * 1000)
        var buf = [UInt8](repeating: 0, count: 65536)
        while open > 0 && monotonicMillis() < deadline {
            if poll(&polled, nfds_t(polled.count), 200) < 0 && errno != EINTR { break }
            for i in polled.indices where polled[i].fd >= 0 && polled[i].revents != 0 {
                let n = buf.withUnsafeMutableBytes { read(polled[i].fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    collected[i] += buf[0..<n]
                } else if n == 0 || errno != EINTR {
                    close(polled[i].fd); polled[i].fd = -1; open -= 1
                }
            }
        }
        for p in polled where p.fd >= 0 { close(p.fd) }
        return collected
    }
}
