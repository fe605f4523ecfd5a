/// A small streaming JSON writer into bytes: fast enough to print 2000 processes with all
/// their fds well inside the scan's own time, which Foundation's JSONEncoder is not.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = [false]

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    public mutating func beginObject() { valueSeparator(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { valueSeparator(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    /// Writes `"name":` — the value call that follows must not add a comma.
    public mutating func key(_ name: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        pendingKey = true
    }
    private var pendingKey = false

    private mutating func valueSeparator() {
        if pendingKey {
            pendingKey = false
        } else {
            separator()
        }
    }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        valueSeparator(); bytes.append(UInt8(ascii: "{")); needsComma.append(false)
        body(&self)
        endObject()
    }

    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        valueSeparator(); bytes.append(UInt8(ascii: "[")); needsComma.append(false)
        body(&self)
        endArray()
    }

    public mutating func int<T: BinaryInteger>(_ v: T) {
        valueSeparator()
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(0x30 + Int(m % 10))
                m /= 10
                n += 1
            } while m > 0
            for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }

    /// A finite number as Swift prints it (`4321.5`); NaN and ±infinity are `null`: JSON
    /// (RFC 8259 §6) has no spelling for them.
    public mutating func double(_ v: Double) {
        guard v.isFinite else { null(); return }
        valueSeparator()
        bytes.append(contentsOf: Array("\(v)".utf8))
    }
    public mutating func bool(_ v: Bool) { valueSeparator(); bytes.append(contentsOf: v ? Array("true".utf8) : Array("false".utf8)) }
    public mutating func null() { valueSeparator(); bytes.append(contentsOf: [0x6e, 0x75, 0x6c, 0x6c]) }

    public mutating func string(_ s: String) {
        valueSeparator()
        var s = s
        s.withUTF8 { appendEscaped($0) }
    }

    /// Bytes from /proc: valid UTF-8 goes out as is (JSON-escaped, so newlines are `\n`);
    /// other bytes are shown as `\xNN` (SafeText), so the output is always valid JSON.
    public mutating func string(bytes raw: [UInt8]) {
        valueSeparator()
        if String(validating: raw, as: UTF8.self) != nil {
            raw.withUnsafeBufferPointer { appendEscaped($0) }
        } else {
            var s = SafeText.display(raw)
            s.withUTF8 { appendEscaped($0) }
        }
    }

    private mutating func appendEscaped(_ src: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        for b in src {
            switch b {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0..<0x20, 0x7f:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30,
                                          hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func strings(_ list: [String]) {
        array { w in for s in list { w.string(s) } }
    }
}
