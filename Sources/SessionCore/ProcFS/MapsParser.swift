/// One line of `/proc/<pid>/maps` (proc(5)): `start-end perms offset major:minor inode path`.
public struct Mapping: Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64
    /// `r`, `w`, `x`, `p`/`s` as four bytes.
    public var perms: [UInt8]
    /// File offset of `start`.
    public var offset: UInt64
    public var major: UInt32
    public var minor: UInt32
    public var inode: UInt64
    /// The path as bytes (any bytes; a deleted file ends in ` (deleted)`), empty for anonymous.
    public var path: [UInt8]
}

/// `/proc/<pid>/maps` → mappings. Pure; malformed lines are skipped, numbers are
/// overflow-checked, at most `maxLines` lines are read (fs/proc/task_mmu.c show_map_vma).
public enum MapsParser {
    public static let maxLines = 1 << 16

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [Mapping] {
        var out: [Mapping] = []
        var lineStart = 0
        var i = 0
        while i <= bytes.count && out.count < maxLines {
            if i == bytes.count || bytes[i] == 0x0A {
                if i > lineStart, let m = line(bytes, lineStart, i) { out.append(m) }
                lineStart = i + 1
            }
            i += 1
        }
        return out
    }

    public static func parse(_ bytes: [UInt8]) -> [Mapping] {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    static func line(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Mapping? {
        var i = from
        func hex(until stop: UInt8) -> UInt64? {
            var v: UInt64 = 0
            var digits = 0
            while i < to, b[i] != stop {
                guard let d = hexDigit(b[i]), digits < 16 else { return nil }
                v = v << 4 | UInt64(d)
                digits += 1
                i += 1
            }
            guard digits > 0, i < to else { return nil }
            i += 1  // the separator
            return v
        }
        guard let start = hex(until: 0x2D), let end = hex(until: 0x20), end >= start else { return nil }
        guard i + 5 <= to else { return nil }
        let perms = Array(b[i..<(i + 4)])
        i += 5
        guard let offset = hex(until: 0x20), let major = hex(until: 0x3A), let minor = hex(until: 0x20),
              major <= UInt64(UInt32.max), minor <= UInt64(UInt32.max)
        else { return nil }
        var inode: UInt64 = 0
        var digits = 0
        while i < to, b[i] != 0x20 {
            let d = b[i] &- 0x30
            guard d <= 9, digits < 20 else { return nil }
            let (m, o1) = inode.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            inode = s
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        while i < to, b[i] == 0x20 { i += 1 }
        return Mapping(start: start, end: end, perms: perms, offset: offset, major: UInt32(major),
                       minor: UInt32(minor), inode: inode, path: Array(b[i..<to]))
    }

    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}
