/// The D-Bus wire format, as much as asking a property needs (D-Bus Specification, "Message
/// Protocol": little-endian messages, header fields, the basic types y b u s o g, arrays,
/// structs and variants). Pure: values to bytes and bytes to values; decoding never traps on
/// any input (bounds, alignment and nesting are checked, sizes capped).
public indirect enum DBusValue: Hashable, Sendable {
    case byte(UInt8)
    case bool(Bool)
    case uint32(UInt32)
    case string(String)
    case objectPath(String)
    case signature(String)
    case array(element: String, [DBusValue])
    case variant(DBusValue)

    /// The type signature of this value.
    public var signature: String {
        switch self {
        case .byte: return "y"
        case .bool: return "b"
        case .uint32: return "u"
        case .string: return "s"
        case .objectPath: return "o"
        case .signature: return "g"
        case .array(let e, _): return "a" + e
        case .variant: return "v"
        }
    }
}

public struct DBusMessage: Hashable, Sendable {
    public enum Kind: UInt8, Sendable { case methodCall = 1, methodReturn = 2, error = 3, signal = 4 }

    public var kind: Kind
    /// NO_REPLY_EXPECTED 0x1, NO_AUTO_START 0x2 (never start a service just to ask it).
    public var flags: UInt8 = 0x2
    public var serial: UInt32 = 0
    public var path: String?
    public var interface: String?
    public var member: String?
    public var errorName: String?
    public var replySerial: UInt32?
    public var destination: String?
    public var sender: String?
    public var body: [DBusValue] = []

    public init(kind: Kind, path: String? = nil, interface: String? = nil, member: String? = nil,
                destination: String? = nil, body: [DBusValue] = []) {
        self.kind = kind
        self.path = path
        self.interface = interface
        self.member = member
        self.destination = destination
        self.body = body
    }

    public var bodySignature: String { body.map(\.signature).joined() }
}

public struct DBusWireError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// Marshalling (little-endian).
public enum DBusWire {
    /// Messages larger than this are refused (the spec's maximum is 128 MiB; a property is tiny).
    public static let maxMessage = 1 << 20

    public static func encode(_ m: DBusMessage) -> [UInt8] {
        var body = Writer()
        for v in m.body { body.value(v) }
        var fields: [(code: UInt8, value: DBusValue)] = []
        func field(_ code: UInt8, _ v: DBusValue?) {
            if let v { fields.append((code, v)) }
        }
        field(1, m.path.map { .objectPath($0) })
        field(2, m.interface.map { .string($0) })
        field(3, m.member.map { .string($0) })
        field(4, m.errorName.map { .string($0) })
        field(5, m.replySerial.map { .uint32($0) })
        field(6, m.destination.map { .string($0) })
        field(7, m.sender.map { .string($0) })
        if !m.body.isEmpty { field(8, .signature(m.bodySignature)) }
        var w = Writer()
        w.bytes += [0x6c, m.kind.rawValue, m.flags, 1]
        w.u32(UInt32(body.bytes.count))
        w.u32(m.serial)
        // a(yv): the array length, then 8-aligned structs.
        let lengthAt = w.bytes.count
        w.u32(0)
        w.pad(8)
        let start = w.bytes.count
        for f in fields {
            w.pad(8)
            w.value(.byte(f.code))
            w.value(.variant(f.value))
        }
        let len = UInt32(w.bytes.count - start)
        for k in 0..<4 { w.bytes[lengthAt + k] = UInt8((len >> (8 * UInt32(k))) & 0xff) }
        w.pad(8)
        return w.bytes + body.bytes
    }

    /// How many bytes the message starting with these (at least 16) bytes takes, or an error.
    public static func messageLength(_ head: [UInt8]) throws(DBusWireError) -> Int {
        guard head.count >= 16 else { throw DBusWireError("short header") }
        guard head[0] == 0x6c else { throw DBusWireError("not a little-endian message") }
        let body = Int(Reader.le32(head, 4)), fields = Int(Reader.le32(head, 12))
        guard body <= maxMessage, fields <= maxMessage else { throw DBusWireError("message too large") }
        let header = 16 + fields
        return (header + 7) / 8 * 8 + body
    }

    public static func decode(_ bytes: [UInt8]) throws(DBusWireError) -> DBusMessage {
        let total = try messageLength(bytes)
        guard bytes.count >= total else { throw DBusWireError("truncated message") }
        guard let kind = DBusMessage.Kind(rawValue: bytes[1]), bytes[3] == 1 else { throw DBusWireError("unknown message type or version") }
        var m = DBusMessage(kind: kind)
        m.flags = bytes[2]
        m.serial = Reader.le32(bytes, 8)
        var r = Reader(bytes: Array(bytes.prefix(total)), at: 12)
        var signature = ""
        let fieldsLen = Int(try r.u32())
        try r.align(8)
        let end = r.at + fieldsLen
        guard end <= total else { throw DBusWireError("header fields overrun") }
        while r.at < end {
            try r.align(8)
            let code = try r.byte()
            let v = try r.value("v", depth: 0)
            guard case .variant(let inner) = v else { continue }
            switch (code, inner) {
            case (1, .objectPath(let s)): m.path = s
            case (2, .string(let s)): m.interface = s
            case (3, .string(let s)): m.member = s
            case (4, .string(let s)): m.errorName = s
            case (5, .uint32(let u)): m.replySerial = u
            case (6, .string(let s)): m.destination = s
            case (7, .string(let s)): m.sender = s
            case (8, .signature(let s)): signature = s
            default: break
            }
        }
        try r.align(8)
        var types: [String] = []
        var sig = Substring(signature)
        while !sig.isEmpty { types.append(try Reader.single(&sig)) }
        for t in types { m.body.append(try r.value(t, depth: 0)) }
        return m
    }

    struct Writer {
        var bytes: [UInt8] = []
        mutating func pad(_ n: Int) { while bytes.count % n != 0 { bytes.append(0) } }
        mutating func u32(_ v: UInt32) { pad(4); for k in 0..<4 { bytes.append(UInt8((v >> (8 * UInt32(k))) & 0xff)) } }
        mutating func str(_ s: String) { let b = Array(s.utf8); u32(UInt32(b.count)); bytes += b + [0] }
        mutating func value(_ v: DBusValue) {
            switch v {
            case .byte(let b): bytes.append(b)
            case .bool(let b): u32(b ? 1 : 0)
            case .uint32(let u): u32(u)
            case .string(let s), .objectPath(let s): str(s)
            case .signature(let s): let b = Array(s.utf8); bytes.append(UInt8(b.count)); bytes += b + [0]
            case .array(let e, let items):
                u32(0)
                let lengthAt = bytes.count - 4
                pad(Self.alignment(of: e))
                let start = bytes.count
                for i in items { value(i) }
                let len = UInt32(bytes.count - start)
                for k in 0..<4 { bytes[lengthAt + k] = UInt8((len >> (8 * UInt32(k))) & 0xff) }
            case .variant(let inner):
                value(.signature(inner.signature))
                value(inner)
            }
        }
        static func alignment(of type: String) -> Int {
            switch type.first {
            case "y"?, "g"?, "v"?: return 1
            case "(", "{": return 8
            default: return 4
            }
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var at: Int

        static func le32(_ b: [UInt8], _ at: Int) -> UInt32 {
            guard at >= 0, at + 4 <= b.count else { return 0 }
            return UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
        }

        mutating func align(_ n: Int) throws(DBusWireError) {
            let next = (at + n - 1) / n * n
            guard next <= bytes.count else { throw DBusWireError("padding overruns the message") }
            at = next
        }
        mutating func byte() throws(DBusWireError) -> UInt8 {
            guard at < bytes.count else { throw DBusWireError("value overruns the message") }
            defer { at += 1 }
            return bytes[at]
        }
        mutating func u32() throws(DBusWireError) -> UInt32 {
            try align(4)
            guard at + 4 <= bytes.count else { throw DBusWireError("value overruns the message") }
            defer { at += 4 }
            return Self.le32(bytes, at)
        }
        mutating func text(_ n: Int) throws(DBusWireError) -> String {
            guard n >= 0, at + n < bytes.count, bytes[at + n] == 0 else { throw DBusWireError("string overruns the message") }
            guard let s = String(validating: bytes[at..<(at + n)], as: UTF8.self) else { throw DBusWireError("string is not UTF-8") }
            at += n + 1
            return s
        }

        /// The first complete type of a signature.
        static func single(_ sig: inout Substring) throws(DBusWireError) -> String {
            guard let c = sig.first else { throw DBusWireError("empty signature") }
            sig.removeFirst()
            if c == "a" { return "a" + (try single(&sig)) }
            if "ybusogv".contains(c) { return String(c) }
            throw DBusWireError("unsupported type \(c)")
        }

        mutating func value(_ type: String, depth: Int) throws(DBusWireError) -> DBusValue {
            guard depth < 32 else { throw DBusWireError("values nested too deep") }
            switch type.first {
            case "y": return .byte(try byte())
            case "b":
                let v = try u32()
                guard v <= 1 else { throw DBusWireError("boolean \(v)") }
                return .bool(v == 1)
            case "u": return .uint32(try u32())
            case "s": let n = Int(try u32()); return .string(try text(n))
            case "o": let n = Int(try u32()); return .objectPath(try text(n))
            case "g": let n = Int(try byte()); return .signature(try text(n))
            case "v":
                let n = Int(try byte())
                var sig = Substring(try text(n))
                let t = try Self.single(&sig)
                guard sig.isEmpty else { throw DBusWireError("variant holds more than one type") }
                return .variant(try value(t, depth: depth + 1))
            case "a":
                let element = String(type.dropFirst())
                let len = Int(try u32())
                try align(Writer.alignment(of: element))
                let end = at + len
                guard len <= DBusWire.maxMessage, end <= bytes.count else { throw DBusWireError("array overruns the message") }
                var items: [DBusValue] = []
                while at < end {
                    items.append(try value(element, depth: depth + 1))
                    guard items.count <= 65536 else { throw DBusWireError("array too long") }
                }
                guard at == end else { throw DBusWireError("array length does not match its elements") }
                return .array(element: element, items)
            default:
                throw DBusWireError("unsupported type \(type)")
            }
        }
    }
}
