/// What `/proc/<pid>/syscall` says the task is doing (proc(5), fs/proc/base.c proc_pid_syscall).
public enum SyscallState: Hashable, Sendable {
    /// `running`: on a CPU, no blocked call to report.
    case running
    /// `-1 sp pc`: blocked, but not in a system call (e.g. stopped by a signal).
    case notInSyscall
    /// `nr arg1 … arg6 sp pc`: blocked in system call `number` with these arguments.
    case blocked(number: Int64, args: [UInt64])

    /// The first argument of `read`/`readv`/`pread64` when blocked in one (the fd it reads).
    public var readingFD: Int32? {
        guard case .blocked(let nr, let args) = self, let fd = args.first,
              SyscallState.readCalls.contains(nr) else { return nil }
        return Int32(truncatingIfNeeded: fd)
    }

    /// read, readv, pread64 (arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h).
    #if arch(x86_64)
    static let readCalls: Set<Int64> = [0, 17, 19]
    #else
    static let readCalls: Set<Int64> = [63, 65, 67]
    #endif
}

public enum SyscallParser {
    /// Parses `/proc/<pid>/syscall`; nil when the text is not what the kernel writes.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> SyscallState? {
        if bytes.starts(with: Array("running".utf8)) { return .running }
        var s = ByteScanner(bytes)
        guard let nr = s.int64() else { return nil }
        if nr < 0 { return .notInSyscall }
        var args: [UInt64] = []
        args.reserveCapacity(8)
        while !s.atEnd {
            s.skipSpaces()
            guard s.index + 1 < bytes.count, bytes[s.index] == UInt8(ascii: "0"),
                  bytes[s.index + 1] == UInt8(ascii: "x") else { break }
            s.index += 2
            var v: UInt64 = 0
            var digits = 0
            while s.index < bytes.count {
                let c = bytes[s.index]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x61...0x66: d = c - 0x61 + 10
                case 0x41...0x46: d = c - 0x41 + 10
                default: d = 0xFF
                }
                if d == 0xFF { break }
                v = v &<< 4 | UInt64(d)
                digits += 1
                s.index += 1
            }
            if digits == 0 || digits > 16 { return nil }
            args.append(v)
        }
        // Six arguments, then the stack and instruction pointers: keep the arguments.
        return .blocked(number: nr, args: Array(args.prefix(6)))
    }
}
