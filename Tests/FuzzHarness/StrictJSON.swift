/// A strict RFC 8259 JSON checker (no NaN, no trailing commas, no control characters in
/// strings, valid UTF-8): what every `--json` output must pass. Used by the fuzz targets and
/// the churn test; independent of the writer it checks.
public enum StrictJSON {
    /// nil when `bytes` is one valid JSON text, else where and why it is not.
    public static func problem(_ bytes: [UInt8]) -> String? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return "not UTF-8" }
        var p = Parser(bytes: bytes)
        do throws(Failure) {
            p.space()
            try p.value(depth: 0)
            p.space()
            if p.i != bytes.count { throw Failure(at: p.i, what: "text after the value") }
            return nil
        } catch {
            return "at byte \(error.at): \(error.what)"
        }
    }

    public static func isValid(_ bytes: [UInt8]) -> Bool { problem(bytes) == nil }

    struct Failure: Error {
        let at: Int
        let what: String
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func space() {
            while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 }
        }

        func fail(_ what: String) -> Failure { Failure(at: i, what: what) }

        mutating func expect(_ c: UInt8) throws(Failure) {
            guard peek == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
            i += 1
        }

        mutating func value(depth: Int) throws(Failure) {
            guard depth < 128 else { throw fail("nested too deep") }
            guard let c = peek else { throw fail("value expected") }
            switch c {
            case UInt8(ascii: "{"):
                i += 1
                space()
                if peek == UInt8(ascii: "}") { i += 1; return }
                while true {
                    space()
                    try string()
                    space()
                    try expect(UInt8(ascii: ":"))
                    space()
                    try value(depth: depth + 1)
                    space()
                    if peek == UInt8(ascii: ",") { i += 1; continue }
                    try expect(UInt8(ascii: "}"))
                    return
                }
            case UInt8(ascii: "["):
                i += 1
                space()
                if peek == UInt8(ascii: "]") { i += 1; return }
                while true {
                    space()
                    try value(depth: depth + 1)
                    space()
                    if peek == UInt8(ascii: ",") { i += 1; continue }
                    try expect(UInt8(ascii: "]"))
                    return
                }
            case UInt8(ascii: "\""): try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { throw fail("bad literal") }
            for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("bad literal") }
            i += n
        }

        mutating func digits() -> Int {
            let start = i
            while let c = peek, c >= 0x30 && c <= 0x39 { i += 1 }
            return i - start
        }

        mutating func number() throws(Failure) {
            if peek == UInt8(ascii: "-") { i += 1 }
            if peek == UInt8(ascii: "0") {
                i += 1
            } else if digits() == 0 {
                throw fail("value expected")
            }
            if peek == UInt8(ascii: ".") {
                i += 1
                guard digits() > 0 else { throw fail("digits expected after '.'") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw fail("exponent digits expected") }
            }
        }

        mutating func string() throws(Failure) {
            try expect(UInt8(ascii: "\""))
            while true {
                guard let c = peek else { throw fail("unterminated string") }
                i += 1
                switch c {
                case UInt8(ascii: "\""): return
                case UInt8(ascii: "\\"):
                    guard let e = peek else { throw fail("unterminated escape") }
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                         UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        break
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard let h = peek, (h >= 0x30 && h <= 0x39) || (h | 0x20 >= 0x61 && h | 0x20 <= 0x66) else {
                                throw fail("bad \\u escape")
                            }
                            i += 1
                        }
                    default: throw fail("bad escape")
                    }
                case 0..<0x20: throw fail("control character in a string")
                default: break
                }
            }
        }
    }
}
