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
    /// unescaped (fs/proc/array.c do_task_stat). With `previousComm` equal to the bytes read,
    /// that array is returned as `comm` (no allocation: the refresh tick reads 10 000 of them).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, previousComm: [UInt8]? = nil) throws(ParseError) -> ProcStat {
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
        // Every number is range-checked into the type the kernel prints it from: a field
        // out of range is a malformed file, never a wrapped value.
        func int32(_ v: Int64?, _ field: String, min: Int64 = Int64(Int32.min)) throws(ParseError) -> Int32 {
            guard let v, v >= min, v <= Int64(Int32.max) else { throw .malformed(file: "stat", detail: "field \(field)") }
            return Int32(v)
        }
        let pid = try int32(head.int64(), "1 (pid)", min: 1)
        let commBytes = UnsafeBufferPointer(rebasing: bytes[(open + 1)..<close])
        let comm: [UInt8]
        if let previousComm, previousComm.elementsEqual(commBytes) { comm = previousComm } else { comm = Array(commBytes) }
        var s = ByteScanner(bytes, from: close + 1)
        guard let state = s.byte() else { throw .malformed(file: "stat", detail: "field 3 (state)") }
        let ppid = try int32(s.int64(), "4 (ppid)", min: 0)
        let pgid = try int32(s.int64(), "5 (pgrp)", min: 0)
        let sid = try int32(s.int64(), "6 (session)", min: 0)
        // tty_nr is an int holding an encoded dev_t (fs/proc/array.c): its bits are the number.
        let tty = try int32(s.int64(), "7 (tty_nr)")
        let tpgid = try int32(s.int64(), "8 (tpgid)", min: -1)
        guard let flags = s.uint64(), flags <= UInt64(UInt32.max) else { throw .malformed(file: "stat", detail: "field 9 (flags)") }
        // Fields 10-13: minflt cminflt majflt cmajflt.
        for _ in 0..<4 { s.skipToken() }
        guard let utime = s.uint64(), let stime = s.uint64() else {
            throw .malformed(file: "stat", detail: "fields 14-15 (utime, stime)")
        }
        // Fields 16-19: cutime cstime priority nice.
        for _ in 0..<4 { s.skipToken() }
        let threads = try int32(s.int64(), "20 (num_threads)", min: 0)
        s.skipToken() // 21 itrealvalue
        guard let start = s.uint64() else { throw .malformed(file: "stat", detail: "field 22 (starttime)") }
        s.skipToken() // 23 vsize
        let rss = max(0, s.int64() ?? 0)
        return ProcStat(pid: pid, comm: comm, state: state, ppid: ppid, pgid: pgid, sid: sid,
                        ttyNr: UInt32(bitPattern: tty), tpgid: tpgid, flags: UInt32(flags),
                        utime: utime, stime: stime, threads: threads, startTime: start, rssPages: rss)
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
