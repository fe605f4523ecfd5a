import ArgumentParser
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

/// A one-line error for the user and a non-zero exit: never a trace.
struct UserError: Error, CustomStringConvertible {
    let message: String
    var code: Int32 = 1
    var description: String { message }
}

/// Prints `sessiontop: message` on stderr and exits with `code`. Control characters in the
/// message (user input echoed back: a newline, an ESC) are escaped, so it stays one line.
func die(_ message: String, code: Int32 = 1) -> Never {
    let line = "sessiontop: \(SafeText.display(Array(message.utf8)))\n"
    var bytes = Array(line.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    exit(code)
}

/// Runs a throwing core call, turning its typed error into a one-line exit.
func fail<T, E: Error & CustomStringConvertible>(_ body: () throws(E) -> T) -> T {
    do {
        return try body()
    } catch {
        die(error.description)
    }
}

func openReader(_ root: String) -> SnapshotReader {
    fail { () throws(ProcReader.OpenError) in try SnapshotReader(root: root) }
}

/// Writes all bytes to stdout; a closed pipe (`| head`) ends quietly.
func writeOut(_ bytes: [UInt8]) {
    signal(SIGPIPE, SIG_IGN)
    var offset = 0
    bytes.withUnsafeBytes { raw in
        while offset < raw.count {
            let n = write(1, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                die("cannot write output: \(Errno.current.message)")
            }
            offset += n
        }
    }
}

/// `path` made absolute against this process's working directory (nothing resolved).
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    guard let cwd = getcwd(nil, 0) else { return path }
    defer { free(cwd) }
    var base = String(cString: cwd)
    if !base.hasSuffix("/") { base += "/" }
    var rest = Substring(path)
    while rest.hasPrefix("./") { rest = rest.dropFirst(2) }
    return base + rest
}

extension Substring {
    /// The text without the given characters at either end.
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// Columns text output is wrapped to: the terminal's width when stdout is one, else 80.
func outputWidth() -> Int {
    guard isatty(1) == 1 else { return 80 }
    var ws = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col >= 20 { return Int(ws.ws_col) }
    return 80
}
