/// What an open file descriptor points at, from the text of its `/proc/<pid>/fd/<n>` link
/// (proc(5), "/proc/pid/fd") refined by a stat of the link where the text is a path.
public enum FileKind: String, Hashable, Sendable, CaseIterable {
    case regular = "file"
    case directory
    case tty
    case device
    case pipe
    case fifo
    case socket
    case anonInode = "anon_inode"
    case memfd
    case deleted
    case other
}

public enum FdTargetParser {
    /// Classifies a link target by its text alone (pure). Paths come back as `.regular`
    /// unless they name a terminal; the scanner refines them with a stat.
    public static func classify(_ link: [UInt8]) -> FileKind {
        if link.isEmpty { return .other }
        if link.first == UInt8(ascii: "/") {
            if link.starts(with: Array("/memfd:".utf8)) { return .memfd }
            if link.count > 10, Array(link.suffix(10)) == Array(" (deleted)".utf8) { return .deleted }
            if isTTYPath(link) { return .tty }
            return .regular
        }
        if link.starts(with: Array("pipe:".utf8)) { return .pipe }
        if link.starts(with: Array("socket:".utf8)) { return .socket }
        if link.starts(with: Array("anon_inode:".utf8)) { return .anonInode }
        return .other
    }

    /// `/dev/pts/N`, `/dev/ttyX`, `/dev/console`, `/dev/tty`.
    public static func isTTYPath(_ link: [UInt8]) -> Bool {
        if link.starts(with: Array("/dev/pts/".utf8)) { return link.count > 9 && link[9] != UInt8(ascii: "p") }
        if link == Array("/dev/console".utf8) || link == Array("/dev/tty".utf8) { return true }
        if link.starts(with: Array("/dev/tty".utf8)), link.count > 8 {
            let c = link[8]
            return (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "S") || c == UInt8(ascii: "U")
                || c == UInt8(ascii: "A")
        }
        return false
    }

    /// `/dev/pts/N` is device 136:N (the Unix98 pty slave driver: major 136, minors
    /// 0-1048575, `/proc/tty/drivers`), so its number needs no stat. Nil for other text.
    public static func ptsDevice(_ link: [UInt8]) -> UInt64? {
        let prefix = Array("/dev/pts/".utf8)
        guard link.count > prefix.count, link.starts(with: prefix) else { return nil }
        var n: UInt64 = 0
        for c in link[prefix.count...] {
            let d = c &- 0x30
            guard d <= 9, n < 1_048_576 else { return nil }
            n = n * 10 + UInt64(d)
        }
        guard n < 1_048_576 else { return nil }
        // new_encode_dev: minor low byte, major, then the minor's high bits.
        return (n & 0xff) | (136 << 8) | ((n & ~0xff) << 12)
    }
}
