/// The `flags:` of `/proc/<pid>/fdinfo/<n>` (octal, the file's f_flags plus O_CLOEXEC when the
/// descriptor has it; fs/proc/fd.c seq_show) as names: `O_RDWR|O_APPEND|O_CLOEXEC`.
///
/// Values from include/uapi/asm-generic/fcntl.h; arm64 moves four of them
/// (arch/arm64/include/uapi/asm/fcntl.h). Bits without a name are kept as octal.
public enum OpenFlags {
    #if arch(arm64) || arch(arm)
    static let direct: UInt32 = 0o200000, largeFile: UInt32 = 0o400000
    static let directory: UInt32 = 0o40000, noFollow: UInt32 = 0o100000
    #else
    static let direct: UInt32 = 0o40000, largeFile: UInt32 = 0o100000
    static let directory: UInt32 = 0o200000, noFollow: UInt32 = 0o400000
    #endif

    /// Flag bits in the order `strace` prints them (after the access mode).
    static var named: [(UInt32, String)] {
        [(0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o400, "O_NOCTTY"), (0o1000, "O_TRUNC"),
         (0o2000, "O_APPEND"), (0o4000, "O_NONBLOCK"), (0o4010000, "O_SYNC"), (0o10000, "O_DSYNC"),
         (0o20000, "O_ASYNC"), (direct, "O_DIRECT"), (largeFile, "O_LARGEFILE"), (directory, "O_DIRECTORY"),
         (noFollow, "O_NOFOLLOW"), (0o1000000, "O_NOATIME"), (0o2000000, "O_CLOEXEC"), (0o10000000, "O_PATH"),
         (0o20000000, "O_TMPFILE")]
    }

    public static func names(_ flags: UInt32) -> String {
        var parts: [String] = []
        var rest = flags
        let isPath = flags & 0o10000000 != 0
        // O_PATH descriptors have no access mode (fs/open.c build_open_flags).
        if !isPath {
            switch flags & 3 {
            case 0: parts.append("O_RDONLY")
            case 1: parts.append("O_WRONLY")
            case 2: parts.append("O_RDWR")
            default: parts.append("O_ACCMODE")
            }
        }
        rest &= ~3
        for (bit, name) in named where rest & bit == bit {
            // O_TMPFILE includes O_DIRECTORY; O_SYNC includes O_DSYNC: a whole match only.
            if name == "O_TMPFILE" && rest & directory == 0 { continue }
            parts.append(name)
            rest &= ~bit
        }
        if rest != 0 { parts.append("0" + String(rest, radix: 8)) }
        return parts.joined(separator: "|")
    }
}
