/// A cursor over raw /proc bytes. Parsers work on bytes, never on `String`: it is what keeps
/// a full scan near the C floor (see swift-on-linux-notes.md: String/split costs 2x).
struct ByteScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    var atEnd: Bool { index >= bytes.count }

    mutating func skipSpaces() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
    }

    /// Skips one whitespace-separated token.
    mutating func skipToken() {
        skipSpaces()
        while index < bytes.count, bytes[index] != 0x20, bytes[index] != 0x0A { index += 1 }
    }

    /// A signed decimal integer, after optional spaces; nil when there is none or it does not
    /// fit an Int64 (overflow-checked: /proc text is never trusted to be in range).
    mutating func int64() -> Int64? {
        skipSpaces()
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
        guard let magnitude = digits(radix: 10) else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return .min }
            return magnitude <= UInt64(Int64.max) ? -Int64(magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// An unsigned decimal integer, after optional spaces; nil when none or over UInt64.max.
    mutating func uint64() -> UInt64? {
        skipSpaces()
        return digits(radix: 10)
    }

    /// Unsigned integer in the given radix (8, 10 or 16), after optional spaces; nil when there
    /// is none or it overflows a UInt64.
    mutating func unsigned(radix: UInt64) -> UInt64? {
        skipSpaces()
        return digits(radix: radix)
    }

    /// The digits at the cursor as a value; consumes every digit even past an overflow (so the
    /// cursor ends after the token), then nil for the overflow.
    private mutating func digits(radix: UInt64) -> UInt64? {
        let start = index
        var value: UInt64 = 0
        var overflow = false
        while index < bytes.count {
            let c = bytes[index]
            let d: UInt64
            switch c {
            case 0x30...0x39: d = UInt64(c - 0x30)
            case 0x61...0x66: d = UInt64(c - 0x61 + 10)
            case 0x41...0x46: d = UInt64(c - 0x41 + 10)
            default: d = 99
            }
            if d >= radix { break }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { overflow = true }
            value = a
            index += 1
        }
        if index == start || overflow { return nil }
        return value
    }

    /// One byte, after optional spaces.
    mutating func byte() -> UInt8? {
        skipSpaces()
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    /// Moves to the start of the next line; false at the end.
    mutating func nextLine() -> Bool {
        while index < bytes.count, bytes[index] != 0x0A { index += 1 }
        guard index < bytes.count else { return false }
        index += 1
        return index < bytes.count
    }

    /// True (and moves past it) if the bytes at the cursor start with `prefix`.
    mutating func consume(_ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard index + n <= bytes.count else { return false }
        let p = prefix.utf8Start
        for i in 0..<n where bytes[index + i] != p[i] { return false }
        index += n
        return true
    }
}

extension Array where Element == UInt8 {
    /// Runs a byte parser over an array (tests and fixtures; the scanner passes its buffer).
    @inlinable
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer(body)
    }
}
