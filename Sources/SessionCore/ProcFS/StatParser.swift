/// The fields of `/proc/<pid>/stat` that sessiontop uses (proc_pid_stat(5)).
public struct ProcStat: Hashable, Sendable {
    /// Field 1.
    public var pid: Int32
    /// Field 2, the bytes between the first `(` and the *last* `)`: `comm` may itself hold
    /// `)`, spaces and newlines (it is whatever the program wrote with prctl(PR_SET_NAME)).
    public var comm: [UInt8]
    /// Field 3: R, S, D, Z, T, t, X, I …
    public var state: UInt8
    /// Field 4.
    public var ppid: Int32
    /// Field 5 (pgrp).
    public var pgid: Int32
    /// Field 6 (session).
    public var sid: Int32
    /// Field 7: device number of the controlling terminal, 0 if none.
    public var ttyNr: UInt32
    /// Field 8: foreground process group of the controlling terminal, -1 if none.
    public var tpgid: Int32
    /// Field 9: kernel PF_* flags (PF_KTHREAD = 0x00200000).
    public var flags: UInt32
    /// Fields 14 and 15, in clock ticks.
    public var utime: UInt64
    public var stime: UInt64
    /// Field 20.
    public var threads: Int32
    /// Field 22: start time in clock ticks after boot. With the pid, the process's identity.
    public var startTime: UInt64
    /// Field 24, in pages.
    public var rssPages: Int64

    public var isKernelThread: Bool { flags & 0x0020_0000 != 0 }
}

public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed(file: String, detail: String)
    public var description: String {
        switch self {
        case .malformed(let file, let detail): return "malformed \(file): \(detail)"
        }
    }
}

public enum StatParser {
    /// Parses `/proc/<pid>/stat`. `comm` is cut at the last `)`, as the kernel writes it
    /// unescaped (fs/proc/array.c do_task_stat).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ParseError) -> ProcStat {
        let count = bytes.count
        var open = -1
        for i in 0..<count where bytes[i] == UInt8(ascii: "(") { open = i; break }
        var close = -1
        var i = count - 1
        while i > open, i >= 0 {
            if bytes[i] == UInt8(ascii: ")") { close = i; break }
            i -= 1
        }
        guard open > 0, close > open else { throw .malformed(file: "stat", detail: "no (comm)") }
        var head = ByteScanner(bytes)
        guard let pid = head.int64() else { throw .malformed(file: "stat", detail: "no pid") }
        let comm = Array(UnsafeBufferPointer(rebasing: bytes[(open + 1)..<close]))
        var s = ByteScanner(bytes, from: close + 1)
        guard let state = s.byte(),
              let ppid = s.int64(), let pgid = s.int64(), let sid = s.int64(),
              let tty = s.int64(), let tpgid = s.int64(), let flags = s.uint64()
        else { throw .malformed(file: "stat", detail: "fields 3-9") }
        // Fields 10-13: minflt cminflt majflt cmajflt.
        for _ in 0..<4 { s.skipToken() }
        guard let utime = s.uint64(), let stime = s.uint64() else {
            throw .malformed(file: "stat", detail: "fields 14-15")
        }
        // Fields 16-19: cutime cstime priority nice.
        for _ in 0..<4 { s.skipToken() }
        guard let threads = s.int64() else { throw .malformed(file: "stat", detail: "field 20") }
        s.skipToken() // 21 itrealvalue
        guard let start = s.uint64() else { throw .malformed(file: "stat", detail: "field 22") }
        s.skipToken() // 23 vsize
        let rss = s.int64() ?? 0
        return ProcStat(pid: Int32(truncatingIfNeeded: pid), comm: comm, state: state,
                        ppid: Int32(truncatingIfNeeded: ppid), pgid: Int32(truncatingIfNeeded: pgid),
                        sid: Int32(truncatingIfNeeded: sid), ttyNr: UInt32(truncatingIfNeeded: tty),
                        tpgid: Int32(truncatingIfNeeded: tpgid), flags: UInt32(truncatingIfNeeded: flags),
                        utime: utime, stime: stime, threads: Int32(truncatingIfNeeded: threads),
                        startTime: start, rssPages: rss)
    }

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> ProcStat {
        do {
            return try bytes.withUnsafeBufferPointer { try parse($0) }
        } catch let e as ParseError {
            throw e
        } catch {
            throw .malformed(file: "stat", detail: "\(error)")
        }
    }
}
