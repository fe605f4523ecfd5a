import Glibc
import SessionCore

/// Unique temp directories (mkdtemp(3)): tests run in parallel and share no fixed path.
public enum TempDirectory {
    /// Every directory made here starts with this; `remove` refuses anything else.
    public static let prefix = "/tmp/sessiontop-"

    /// A fresh `/tmp/sessiontop-<tag>-XXXXXX` (mode 0700); the caller removes it.
    public static func make(_ tag: String) throws(Errno) -> String {
        var template = Array("\(prefix)\(tag)-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Errno.current
        }
        return String(cString: p)
    }

    /// Where `makePrivate` puts directories: no world-writable directory above them (/tmp is),
    /// for code that refuses to write below one (SafeFile.createLog).
    public static let privatePrefix = "/run/sessiontop-test-"

    /// A fresh `/run/sessiontop-test-<tag>-XXXXXX` (mode 0700); the caller removes it.
    public static func makePrivate(_ tag: String) throws(Errno) -> String {
        var template = Array("\(privatePrefix)\(tag)-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Errno.current
        }
        return String(cString: p)
    }

    /// `rm -rf path`, only for a path made by `make` or `makePrivate`.
    public static func remove(_ path: String) {
        guard path.hasPrefix(prefix) || path.hasPrefix(privatePrefix), !path.contains("/../") else { return }
        _ = try? Processes.run(["/bin/rm", "-rf", path])
    }
}

/// Small whole-file reads.
public enum Files {
    /// The file's bytes, nil when it cannot be opened.
    public static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd)
    }

    /// The file as UTF-8 text (odd bytes replaced), nil when it cannot be opened.
    public static func read(_ path: String) -> String? {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads `fd` to end of file (EINTR retried); does not close it.
    public static func readAll(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    /// The whitespace-separated values of one `/proc/<pid>/status` line (`Uid`, `Gid`,
    /// `Groups`; proc(5)), nil when the process or the line is missing.
    public static func statusLine(_ pid: Int32, _ key: String) -> [String]? {
        guard let text = read("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        return nil
    }
}

/// Bits of text the tests pick out of output.
public enum TextScan {
    /// `"key":123` from a JSON line (the first occurrence), nil when absent.
    public static func jsonInt(_ json: String, _ key: String) -> Int32? {
        guard let r = json.firstRange(of: "\"\(key)\":") else { return nil }
        return Int32(String(json[r.upperBound...].prefix { $0.isNumber }))
    }

    /// Six random digits: makes argv, names and sockets of one test unique.
    public static func uniqueNumber() -> UInt32 { UInt32.random(in: 100_000...999_999) }
}
