/// Making arbitrary bytes from /proc safe to print in one terminal line.
public enum SafeText {
    /// Valid UTF-8 stays as it is, except control characters (newline, tab, ESC …), which
    /// become `\n`, `\t`, `\x1b`; every byte that is not valid UTF-8 becomes `\xNN`.
    public static func display(_ bytes: [UInt8]) -> String {
        var fast = true
        for b in bytes where b < 0x20 || b >= 0x7f { fast = false; break }
        if fast { return String(decoding: bytes, as: UTF8.self) }
        var out = ""
        out.reserveCapacity(bytes.count + 8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x80 {
                out += escapeASCII(b)
                i += 1
                continue
            }
            let len = sequenceLength(bytes, at: i)
            if len > 0, let s = String(validating: bytes[i..<(i + len)], as: UTF8.self) {
                // C1 controls (U+0080-U+009F) are escaped like C0 ones.
                if let scalar = s.unicodeScalars.first, scalar.value >= 0x80 && scalar.value < 0xA0 {
                    for x in bytes[i..<(i + len)] { out += hex(x) }
                } else {
                    out += s
                }
                i += len
            } else {
                out += hex(b)
                i += 1
            }
        }
        return out
    }

    static func escapeASCII(_ b: UInt8) -> String {
        switch b {
        case 0x0A: return "\\n"
        case 0x09: return "\\t"
        case 0x0D: return "\\r"
        case 0x20...0x7E: return String(Unicode.Scalar(b))
        default: return hex(b)
        }
    }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 15)])
    }

    /// Length of a well-formed UTF-8 sequence starting at i, or 0.
    static func sequenceLength(_ bytes: [UInt8], at i: Int) -> Int {
        let b = bytes[i]
        let len: Int
        switch b {
        case 0xC2...0xDF: len = 2
        case 0xE0...0xEF: len = 3
        case 0xF0...0xF4: len = 4
        default: return 0
        }
        guard i + len <= bytes.count else { return 0 }
        for k in 1..<len where bytes[i + k] & 0xC0 != 0x80 { return 0 }
        return len
    }
}
