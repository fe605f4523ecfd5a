#if canImport(Glibc)
import Glibc
#endif

/// A minimal D-Bus client on a unix socket (D-Bus Specification: "Authentication Protocol"
/// with EXTERNAL, `Hello`, method calls and their replies). Every wait is bounded by a
/// timeout: asking logind must never hang a snapshot. Messages carry NO_AUTO_START, so asking
/// never starts a service.
public final class DBusConnection {
    let fd: Int32
    private var serial: UInt32 = 0
    private var inbox: [UInt8] = []
    public private(set) var uniqueName: String?
    public var timeout: Double

    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// `unix:path=/run/dbus/system_bus_socket` (the first `unix:path=` of the address).
    public init(address: String, timeout: Double = 0.5) throws(Failure) {
        self.timeout = timeout
        guard let path = address.split(separator: ";").lazy.compactMap({ part -> String? in
            guard part.hasPrefix("unix:") else { return nil }
            for kv in part.dropFirst(5).split(separator: ",") where kv.hasPrefix("path=") { return String(kv.dropFirst(5)) }
            return nil
        }).first else { throw Failure("no unix:path= in the bus address \(address)") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw Failure("bus socket path too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b }; raw[bytes.count] = 0 }
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard s >= 0 else { throw Failure("socket: \(Errno.current.message)") }
        fd = s
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if r != 0 && errno != EINPROGRESS && errno != EAGAIN {
            let e = Errno.current
            close(s)
            throw Failure("cannot connect to \(path): \(e.message)")
        }
        do throws(Failure) {
            try authenticate()
            let reply = try call(DBusMessage(kind: .methodCall, path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
                                             member: "Hello", destination: "org.freedesktop.DBus"))
            if case .string(let name)? = reply.body.first { uniqueName = name }
        } catch {
            close(s)
            throw error
        }
    }

    deinit { close(fd) }

    /// `\0AUTH EXTERNAL <uid in hex-encoded decimal>\r\n` → `OK <guid>` → `BEGIN`.
    private func authenticate() throws(Failure) {
        let uid = String(geteuid())
        let hexUID = uid.utf8.map { String($0, radix: 16) }.joined()
        try send(Array("\0AUTH EXTERNAL \(hexUID)\r\n".utf8))
        var line: [UInt8] = []
        let deadline = monotonic() + timeout
        while !line.suffix(2).elementsEqual([0x0D, 0x0A]) {
            guard let b = try readSome(until: deadline) else { throw Failure("the bus did not answer the authentication") }
            line += b
            guard line.count < 4096 else { throw Failure("the bus's authentication answer is too long") }
        }
        guard line.starts(with: Array("OK ".utf8)) else {
            throw Failure("the bus refused authentication: \(SafeText.display(Array(line.dropLast(2))))")
        }
        try send(Array("BEGIN\r\n".utf8))
    }

    /// Sends a method call and waits for its reply (other messages are dropped); an error reply
    /// becomes a `Failure` naming the error.
    public func call(_ message: DBusMessage) throws(Failure) -> DBusMessage {
        let s = try send(message)
        let deadline = monotonic() + timeout
        while true {
            let m = try receive(until: deadline)
            guard m.replySerial == s else { continue }
            if m.kind == .error {
                var text = m.errorName ?? "error"
                if case .string(let why)? = m.body.first { text += ": " + why }
                throw Failure(text)
            }
            return m
        }
    }

    /// `org.freedesktop.DBus.Properties.Get`: the property's value (the variant unwrapped).
    public func property(destination: String, path: String, interface: String, name: String) throws(Failure) -> DBusValue {
        let reply = try call(DBusMessage(kind: .methodCall, path: path, interface: "org.freedesktop.DBus.Properties",
                                         member: "Get", destination: destination,
                                         body: [.string(interface), .string(name)]))
        guard case .variant(let v)? = reply.body.first else { throw Failure("Get returned \(reply.bodySignature), not a variant") }
        return v
    }

    @discardableResult
    public func send(_ message: DBusMessage) throws(Failure) -> UInt32 {
        serial &+= 1
        if serial == 0 { serial = 1 }
        var m = message
        m.serial = serial
        try send(DBusWire.encode(m))
        return serial
    }

    /// The next whole message, waiting until `deadline` (CLOCK_MONOTONIC seconds).
    public func receive(until deadline: Double) throws(Failure) -> DBusMessage {
        while true {
            if inbox.count >= 16 {
                let total: Int
                do { total = try DBusWire.messageLength(inbox) } catch { throw Failure("bad message from the bus: \(error)") }
                if inbox.count >= total {
                    let bytes = Array(inbox.prefix(total))
                    inbox.removeFirst(total)
                    do { return try DBusWire.decode(bytes) } catch { throw Failure("bad message from the bus: \(error)") }
                }
            }
            guard let b = try readSome(until: deadline) else { throw Failure("no answer from the bus within \(timeout) s") }
            inbox += b
        }
    }

    private func send(_ bytes: [UInt8]) throws(Failure) {
        var off = 0
        let deadline = monotonic() + timeout
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n > 0 { off += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOTCONN) {
                guard wait(for: Int16(POLLOUT), until: deadline) else { throw Failure("the bus does not take our message") }
                continue
            }
            throw Failure("cannot write to the bus: \(Errno.current.message)")
        }
    }

    /// Some bytes, nil when the deadline passed; an error when the bus closed the connection.
    private func readSome(until deadline: Double) throws(Failure) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { return Array(buf[..<n]) }
            if n == 0 { throw Failure("the bus closed the connection") }
            if errno == EINTR { continue }
            guard errno == EAGAIN else { throw Failure("cannot read from the bus: \(Errno.current.message)") }
            guard wait(for: Int16(POLLIN), until: deadline) else { return nil }
        }
    }

    private func wait(for events: Int16, until deadline: Double) -> Bool {
        let left = deadline - monotonic()
        guard left > 0 else { return false }
        var p = pollfd(fd: fd, events: events, revents: 0)
        return poll(&p, 1, Int32(left * 1000) + 1) > 0
    }

    private func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
