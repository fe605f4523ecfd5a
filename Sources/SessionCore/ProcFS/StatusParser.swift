/// The lines of `/proc/<pid>/status` (or `task/<tid>/status`) that sessiontop uses
/// (proc_pid_status(5)).
public struct ProcStatus: Hashable, Sendable {
    /// `Uid:` real, effective, saved, filesystem; empty when the line is missing or holds a
    /// value that is not a uid (then the ids are unknown, never root).
    public var uids: [UInt32] = []
    /// `Gid:` real, effective, saved, filesystem; empty as for `uids`.
    public var gids: [UInt32] = []
    /// `Umask:` (Linux 4.7+); nil when the line is absent.
    public var umask: UInt32?
    /// `Threads:`.
    public var threads: Int32 = 1
    /// `SigPnd:` pending for this thread.
    public var sigPending: UInt64 = 0
    /// `ShdPnd:` pending for the whole thread group.
    public var sharedPending: UInt64 = 0
    /// `SigBlk:` blocked — per thread.
    public var sigBlocked: UInt64 = 0
    /// `SigIgn:` ignored (SIG_IGN); survives exec.
    public var sigIgnored: UInt64 = 0
    /// `SigCgt:` caught (a handler is installed).
    public var sigCaught: UInt64 = 0
    /// `PPid:` (also in stat; here for tests and cross-checks).
    public var ppid: Int32 = 0
    /// `Tgid:`: the process (thread group) this task belongs to; nil when absent.
    public var tgid: Int32?

    public init() {}
}

public enum StatusParser {
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ProcStatus {
        var st = ProcStatus()
        var s = ByteScanner(bytes)
        guard !s.atEnd else { return st }
        repeat {
            // Dispatch on the first byte: most lines are skipped without a compare.
            switch s.bytes[s.index] {
            case UInt8(ascii: "U"):
                if s.consume("Uid:") { st.uids = ids(&s) }
                else if s.consume("Umask:") { st.umask = s.unsigned(radix: 8).flatMap { $0 <= 0o777 ? UInt32($0) : nil } }
            case UInt8(ascii: "G"):
                if s.consume("Gid:") { st.gids = ids(&s) }
            case UInt8(ascii: "T"):
                if s.consume("Threads:") { st.threads = s.int64().flatMap { Int32(exactly: $0) } ?? 1 }
                else if s.consume("Tgid:") { st.tgid = s.int64().flatMap { Int32(exactly: $0) } }
            case UInt8(ascii: "P"):
                if s.consume("PPid:") { st.ppid = s.int64().flatMap { Int32(exactly: $0) } ?? 0 }
            case UInt8(ascii: "S"):
                if s.consume("SigPnd:") { st.sigPending = s.unsigned(radix: 16) ?? 0 }
                else if s.consume("ShdPnd:") { st.sharedPending = s.unsigned(radix: 16) ?? 0 }
                else if s.consume("SigBlk:") { st.sigBlocked = s.unsigned(radix: 16) ?? 0 }
                else if s.consume("SigIgn:") { st.sigIgnored = s.unsigned(radix: 16) ?? 0 }
                else if s.consume("SigCgt:") { st.sigCaught = s.unsigned(radix: 16) ?? 0 }
            default:
                break
            }
        } while s.nextLine()
        return st
    }

    public static func parse(_ bytes: [UInt8]) -> ProcStatus {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    /// The ids of a `Uid:`/`Gid:` line; empty when one of them is not a 32-bit id.
    private static func ids(_ s: inout ByteScanner) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(4)
        while out.count < 4 {
            s.skipSpaces()
            if s.atEnd || s.bytes[s.index] == 0x0A { break }
            guard let v = s.uint64(), let id = UInt32(exactly: v) else { return [] }
            out.append(id)
        }
        return out
    }
}

/// `/proc/<pid>/cmdline`: the argument vector, NUL-separated. Empty for kernel threads and
/// zombies. A process may overwrite it (setproctitle), so it may hold no NULs at all.
public enum CmdlineParser {
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var start = 0
        let n = bytes.count
        var i = 0
        while i < n {
            if bytes[i] == 0 {
                out.append(Array(UnsafeBufferPointer(rebasing: bytes[start..<i])))
                start = i + 1
            }
            i += 1
        }
        if start < n { out.append(Array(UnsafeBufferPointer(rebasing: bytes[start..<n]))) }
        return out
    }

    public static func parse(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.withUnsafeBufferPointer { parse($0) }
    }
}

/// `/proc/<pid>/fdinfo/<fd>`: `pos:` and `flags:` (octal open flags).
public struct FdInfo: Hashable, Sendable {
    public var position: UInt64
    public var flags: UInt32
}

public enum FdInfoParser {
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> FdInfo? {
        var s = ByteScanner(bytes)
        var pos: UInt64?
        var flags: UInt32?
        guard !s.atEnd else { return nil }
        repeat {
            if s.consume("pos:") { pos = s.uint64() }
            else if s.consume("flags:") { flags = s.unsigned(radix: 8).flatMap { UInt32(exactly: $0) } }
        } while s.nextLine()
        guard let p = pos, let f = flags else { return nil }
        return FdInfo(position: p, flags: f)
    }

    public static func parse(_ bytes: [UInt8]) -> FdInfo? {
        bytes.withUnsafeBufferPointer { parse($0) }
    }
}
