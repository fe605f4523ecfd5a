/// Bytes of another process's address space. The live source is `pread` on `/proc/<pid>/mem`
/// (ShellMemoryReader); tests hand in synthetic images. Read-only by construction.
public protocol MemorySource {
    /// Exactly `count` bytes at `address`, or nil (unmapped, short read, denied).
    func read(at address: UInt64, count: Int) -> [UInt8]?
}

/// Why a shell's memory could not be decoded: a sentence for the reasons.
public struct DecodeFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Typed, capped reads on top of a `MemorySource`: every read counts against a byte budget,
/// pointers must be non-null, aligned user-space addresses, strings are cut at `limit`.
/// Nothing read here is trusted: the decoders check it, then ShellViewCheck checks it
/// against /proc.
struct BoundedMemory {
    let source: MemorySource
    /// Bytes left to read for this shell.
    private(set) var budget: Int

    init(_ source: MemorySource, budget: Int = 1 << 20) {
        self.source = source
        self.budget = budget
    }

    /// The top of user space on x86-64 and AArch64 with 4-level pages (2^47, 2^48).
    static let userTop: UInt64 = 1 << 48

    mutating func bytes(_ address: UInt64, _ count: Int, _ what: @autoclosure () -> String) throws(DecodeFailure) -> [UInt8] {
        guard count >= 0, count <= budget else { throw DecodeFailure("reading \(what()) would exceed the read budget") }
        guard address < Self.userTop, address.addingReportingOverflow(UInt64(count)).overflow == false,
              address &+ UInt64(count) <= Self.userTop
        else { throw DecodeFailure("\(what()) at \(hex(address)) is outside user space") }
        budget -= count
        guard let b = source.read(at: address, count: count), b.count == count else {
            throw DecodeFailure("cannot read \(what()) at \(hex(address))")
        }
        return b
    }

    mutating func i32(_ address: UInt64, _ what: @autoclosure () -> String) throws(DecodeFailure) -> Int32 {
        let b = try bytes(address, 4, what())
        return Int32(bitPattern: Self.le32(b, 0))
    }

    mutating func u64(_ address: UInt64, _ what: @autoclosure () -> String) throws(DecodeFailure) -> UInt64 {
        let b = try bytes(address, 8, what())
        return Self.le64(b, 0)
    }

    /// A pointer that must be usable: nil for NULL when `nullable`, else an error.
    mutating func pointer(_ address: UInt64, _ what: @autoclosure () -> String, nullable: Bool = false,
                          alignment: UInt64 = 8) throws(DecodeFailure) -> UInt64? {
        let name = what()
        let p = try u64(address, name)
        if p == 0 {
            if nullable { return nil }
            throw DecodeFailure("\(name) is NULL")
        }
        try Self.check(p, name, alignment: alignment)
        return p
    }

    static func check(_ p: UInt64, _ what: String, alignment: UInt64 = 8) throws(DecodeFailure) {
        guard p < userTop, p >= 4096 else { throw DecodeFailure("\(what) = \(hex(p)) is not a user-space address") }
        guard alignment <= 1 || p % alignment == 0 else { throw DecodeFailure("\(what) = \(hex(p)) is misaligned") }
    }

    /// A NUL-terminated string of at most `limit` bytes (read in one go, then cut).
    mutating func cString(_ address: UInt64, limit: Int, _ what: @autoclosure () -> String) throws(DecodeFailure) -> String {
        let name = what()
        try Self.check(address, name, alignment: 1)
        // Page by page: a short string near the end of the last mapped page still reads.
        var out: [UInt8] = []
        var at = address
        while out.count < limit {
            let chunk = min(limit - out.count, Int(4096 - at % 4096))
            let b = try bytes(at, chunk, name)
            if let nul = b.firstIndex(of: 0) { return SafeText.display(out + b[..<nul]) }
            out += b
            at &+= UInt64(chunk)
        }
        throw DecodeFailure("\(name) is not a string of at most \(limit) bytes")
    }

    static func le32(_ b: [UInt8], _ at: Int) -> UInt32 {
        guard at >= 0, at + 4 <= b.count else { return 0 }
        return UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    static func le64(_ b: [UInt8], _ at: Int) -> UInt64 {
        guard at >= 0, at + 8 <= b.count else { return 0 }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(b[at + k]) << (8 * UInt64(k)) }
        return v
    }

    static func i32(_ b: [UInt8], _ at: Int) -> Int32 { Int32(bitPattern: le32(b, at)) }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// Where the shell's globals are in its address space: the `.dynsym` symbols of its executable
/// plus the load bias read from `/proc/<pid>/maps`.
public struct SymbolAddresses: Sendable {
    public let image: ELFImage
    public let bias: UInt64

    public init(image: ELFImage, bias: UInt64) {
        self.image = image
        self.bias = bias
    }

    /// The run-time address of `name`; checks its `st_size` when `size` is given (a size that
    /// differs from the layout's means another build or version: do not decode it).
    func address(_ name: String, size: UInt64? = nil, layout: String) throws(DecodeFailure) -> UInt64 {
        guard let s = image.symbols[name] else { throw DecodeFailure("\(layout): its executable exports no `\(name)`") }
        if let size, s.size != size {
            throw DecodeFailure("\(layout): `\(name)` is \(s.size) bytes, the layout says \(size)")
        }
        let (a, o) = bias.addingReportingOverflow(s.value)
        guard !o else { throw DecodeFailure("`\(name)`: address overflows") }
        return a
    }
}
