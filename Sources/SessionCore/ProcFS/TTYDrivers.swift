/// One line of `/proc/tty/drivers`: name, device path prefix, major, minor range, type.
public struct TTYDriver: Hashable, Sendable {
    public var name: String
    public var path: String
    public var major: UInt32
    public var minorFirst: UInt32
    public var minorLast: UInt32
    public var type: String
}

/// Decodes terminal device numbers (stat field 7, `st_rdev`) into the names users know.
public struct TTYDrivers: Hashable, Sendable {
    public var drivers: [TTYDriver]

    public init(drivers: [TTYDriver]) { self.drivers = drivers }

    /// Parses `/proc/tty/drivers` (fs/proc/proc_tty.c show_tty_range), e.g.
    /// `pty_slave            /dev/pts      136 0-1048575 pty:slave`.
    public static func parse(_ text: String) -> TTYDrivers {
        var out: [TTYDriver] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 5, let major = UInt32(f[2]) else { continue }
            // `first` or `first-last`; anything else (`-`, `5-`, `9-3`) is not a range.
            let range = f[3].split(separator: "-", omittingEmptySubsequences: false)
            guard range.count <= 2, let first = UInt32(range[0]) else { continue }
            let last: UInt32
            if range.count == 2 {
                guard let l = UInt32(range[1]), l >= first else { continue }
                last = l
            } else {
                last = first
            }
            out.append(TTYDriver(name: String(f[0]), path: String(f[1]), major: major,
                                 minorFirst: first, minorLast: last, type: String(f[4])))
        }
        return TTYDrivers(drivers: out)
    }

    /// The kernel's split of a dev_t (include/linux/kdev_t.h new_decode_dev).
    public static func split(_ dev: UInt64) -> (major: UInt32, minor: UInt32) {
        let major = UInt32((dev >> 8) & 0xfff) | UInt32((dev >> 32) & ~UInt64(0xfff))
        let minor = UInt32(dev & 0xff) | UInt32((dev >> 12) & 0xfff00)
        return (major, minor)
    }

    /// `pts/3`, `tty1`, `ttyS0`, `console`; `tty(136,3)` when no driver claims the number;
    /// nil for 0 (no controlling terminal).
    public func name(forDevice dev: UInt64) -> String? {
        guard dev != 0 else { return nil }
        let (major, minor) = Self.split(dev)
        // Prefer the narrowest range: "/dev/tty 5 0" before a wide one of the same major.
        var best: TTYDriver?
        for d in drivers where d.major == major && minor >= d.minorFirst && minor <= d.minorLast {
            if let b = best, (b.minorLast - b.minorFirst) <= (d.minorLast - d.minorFirst) { continue }
            best = d
        }
        guard let d = best else { return Self.fallbackName(major: major, minor: minor) }
        var base = d.path.hasPrefix("/dev/") ? String(d.path.dropFirst(5)) : d.path
        if d.minorFirst == d.minorLast && d.type != "serial" { return base }  // /dev/console
        if d.type.hasPrefix("pty:") || d.path == "/dev/pts" {
            base += "/"
            return base + String(minor - d.minorFirst)
        }
        // Serial drivers number from minor_start (ttyS0 is 4:64); virtual consoles use the
        // minor itself (tty1 is 4:1).
        let index = d.type == "serial" ? minor - d.minorFirst : minor
        return base + String(index)
    }

    /// Names for the common numbers when `/proc/tty/drivers` is unreadable (Documentation/
    /// admin-guide/devices.txt).
    static func fallbackName(major: UInt32, minor: UInt32) -> String {
        switch major {
        case 136...143: return "pts/\((major - 136) * 256 + minor)"
        case 4 where minor < 64: return "tty\(minor)"
        case 4: return "ttyS\(minor - 64)"
        case 5 where minor == 1: return "console"
        default: return "tty(\(major),\(minor))"
        }
    }

    /// When no drivers file can be read.
    public static let fallback = TTYDrivers(drivers: [])
}
