import CSessionShims
#if canImport(Glibc)
import Glibc
#endif

/// The one type that touches the /proc filesystem. It owns the root (a parameter, so tests
/// read fixture trees), opens one directory fd per pid and reads every file of that process
/// through it with `openat`, into one reused buffer.
///
/// Reading through the pid's directory fd is also what makes the scan race-safe: once the
/// process exits, every `openat` on that fd fails (ENOENT/ESRCH) even if the pid is reused at
/// once, so one process's fields are never mixed with another's.
public final class ProcReader {
    public let rootPath: String
    let rootFD: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    /// The root is a procfs mount (fstatfs f_type PROC_SUPER_MAGIC): every file in it is a
    /// kernel-made regular file, so the per-file fstat check is skipped on the hot path.
    public let isProcfs: Bool

    /// How many bytes a /proc file may hold before reading it is an error (`Errno.tooLarge`):
    /// the kernel's own bounds with room to spare, so a planted file cannot make a scan
    /// allocate gigabytes. `stat`: 52 numbers and a 64-byte comm; `status`: up to 65536
    /// supplementary groups on one line; `cmdline`/`environ`: the argument area, at most 6 MiB
    /// (fs/exec.c: _STK_LIM / 4 * 3).
    public enum Limit {
        public static let stat = 8 << 10
        public static let status = 1 << 20
        public static let arguments = 8 << 20
        public static let small = 4 << 10
        public static let table = 64 << 10
        /// The default for any other file.
        public static let other = 1 << 20
    }

    public enum OpenError: Error, Hashable, Sendable, CustomStringConvertible {
        case cannotOpen(path: String, errno: Errno)
        case notProc(path: String)
        public var description: String {
            switch self {
            case .cannotOpen(let path, let e): return "cannot read \(path): \(e.message)"
            case .notProc(let path): return "\(path) is not a /proc tree (no <pid>/stat inside)"
            }
        }
    }

    public init(root: String = "/proc") throws(OpenError) {
        rootPath = root
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: root, errno: .current) }
        rootFD = fd
        isProcfs = st_is_procfs(fd) == 1
        buffer = .allocate(byteCount: 1 << 16, alignment: 16)
        // Allocated here, not in a property initializer: those run before an init that throws
        // early (cannot open the root), and nothing would free them (ASan's leak check).
        dents = .allocate(byteCount: 32768, alignment: 8)
        // A /proc tree has at least one numeric directory with a stat file.
        let pids: [Int32]
        switch listNumeric(dirfd: fd, path: ".") {
        case .success(let list): pids = list
        case .failure(let e): throw .cannotOpen(path: root, errno: e)
        }
        var found = false
        for pid in pids.prefix(64) {
            if faccessat(fd, "\(pid)/stat", R_OK, 0) == 0 { found = true; break }
        }
        guard found else { throw .notProc(path: root) }
    }

    deinit {
        close(rootFD)
        buffer.deallocate()
        dents.deallocate()
    }

    /// Numeric entries of the root: the pids (and only the thread-group leaders).
    public func pids() -> [Int32] {
        (try? listNumeric(dirfd: rootFD, path: ".").get()) ?? []
    }

    /// The pid `self` points at, when the tree has it.
    public func selfPid() -> Int32? {
        guard case .success(let bytes) = readLink(dirfd: rootFD, "self") else { return nil }
        return Int32(String(decoding: bytes, as: UTF8.self))
    }

    /// Opens `<root>/<pid>` as a directory fd; the caller closes it.
    public func openProcess(_ pid: Int32) -> Result<Int32, Errno> {
        var name: (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &name) { raw -> Result<Int32, Errno> in
            let p = raw.bindMemory(to: CChar.self)
            Self.writeDecimal(pid, into: p)
            let fd = openat(rootFD, p.baseAddress!, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            return fd >= 0 ? .success(fd) : .failure(.current)
        }
    }

    /// Reads a whole file below `dirfd` into the reused buffer and hands the bytes to
    /// `body` (valid only during the call). At most `limit` bytes: a longer file fails with
    /// `Errno.tooLarge`, or with `truncate` hands over its first `limit` bytes. Only regular
    /// files are read: opened O_NONBLOCK|O_NOFOLLOW (a FIFO cannot block, a symlink is not
    /// followed) and, outside procfs, checked with fstat (`Errno.notRegularFile`).
    public func read<R>(dirfd: Int32, _ path: String, limit: Int = Limit.other, truncate: Bool = false,
                        _ body: (UnsafeBufferPointer<UInt8>) -> R) -> Result<R, Errno> {
        let fd: Int32
        switch openFile(dirfd: dirfd, path) {
        case .success(let f): fd = f
        case .failure(let e): return .failure(e)
        }
        defer { close(fd) }
        return readAll(fd: fd, from: nil, limit: limit, truncate: truncate, body)
    }

    /// Opens a file below `dirfd` for `read(openFile:)`: O_NONBLOCK|O_NOFOLLOW, close-on-exec
    /// and, outside procfs, only a regular file (`Errno.notRegularFile`). The caller closes it.
    public func openFile(dirfd: Int32, _ path: String) -> Result<Int32, Errno> {
        let fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW)
        guard fd >= 0 else { return .failure(errno == ELOOP ? .notRegularFile : .current) }
        if !isProcfs {
            var st = Glibc.stat()
            guard fstat(fd, &st) == 0 else { let e = Errno.current; close(fd); return .failure(e) }
            guard st.st_mode & S_IFMT == S_IFREG else { close(fd); return .failure(.notRegularFile) }
        }
        return .success(fd)
    }

    /// Reads an open /proc file again from its start (pread at offset 0: a seq_file renders
    /// the file afresh, fs/seq_file.c seq_read_iter), one syscall instead of open+read+close.
    /// A `<pid>/stat` opened this way stays bound to that process (its struct pid): once it is
    /// reaped the read fails with ESRCH, even when the pid number is reused.
    public func read<R>(openFile fd: Int32, limit: Int = Limit.other, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> Result<R, Errno> {
        readAll(fd: fd, from: 0, limit: limit, truncate: false, body)
    }

    private func readAll<R>(fd: Int32, from offset: Int?, limit: Int, truncate: Bool,
                            _ body: (UnsafeBufferPointer<UInt8>) -> R) -> Result<R, Errno> {
        var used = 0
        while true {
            let room = min(buffer.count, limit + 1) - used
            if room == 0 {
                if used > limit { break }
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(buffer.count * 2, limit + 1), alignment: 16)
                bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                buffer.deallocate()
                buffer = bigger
                continue
            }
            let n = offset.map { pread(fd, buffer.baseAddress! + used, room, off_t($0 + used)) } ?? Glibc.read(fd, buffer.baseAddress! + used, room)
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.current)
            }
            if n == 0 { break }
            used += n
            // /proc files (seq_file, cmdline, environ) and regular files hand over everything
            // they have in one read when it fits: a short read is the end. Saves a syscall per file.
            if n < room { break }
        }
        if used > limit {
            if !truncate { return .failure(.tooLarge) }
            used = limit
        }
        let typed = buffer.bindMemory(to: UInt8.self)
        return .success(body(UnsafeBufferPointer(rebasing: typed[0..<used])))
    }

    /// Reads a whole file below `dirfd` as bytes (for small, rarely read files).
    public func readBytes(dirfd: Int32, _ path: String, limit: Int = Limit.other) -> Result<[UInt8], Errno> {
        read(dirfd: dirfd, path, limit: limit) { Array($0) }
    }

    /// Reads a file relative to the root (`tty/drivers`, `uptime`).
    public func readRootFile(_ path: String, limit: Int = Limit.table) -> Result<[UInt8], Errno> {
        readBytes(dirfd: rootFD, path, limit: limit)
    }

    /// The target of a symlink below `dirfd` (`cwd`, `exe`, `fd/3`).
    public func readLink(dirfd: Int32, _ path: String) -> Result<[UInt8], Errno> {
        let cap = 4096
        let n = path.withCString { p in
            readlinkat(dirfd, p, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), cap)
        }
        guard n >= 0 else { return .failure(.current) }
        return .success(Array(UnsafeRawBufferPointer(rebasing: buffer[0..<n])))
    }

    /// stat(2) of a path below `dirfd`, following links (so `fd/3` gives the open file).
    public func stat(dirfd: Int32, _ path: String) -> Result<Glibc.stat, Errno> {
        var st = Glibc.stat()
        return fstatat(dirfd, path, &st, 0) == 0 ? .success(st) : .failure(.current)
    }

    /// Numeric entries of a directory below `dirfd` (`fd`, `task`), ascending.
    public func listNumeric(dirfd: Int32, _ path: String) -> Result<[Int32], Errno> {
        listNumeric(dirfd: dirfd, path: path)
    }

    /// Scratch space for getdents64 (32 KiB); one per reader, so one per scanning thread.
    private var dents: UnsafeMutableRawBufferPointer

    private func withDirentBuffer<R>(_ body: (UnsafeMutableRawBufferPointer) -> R) -> R { body(dents) }

    func listNumeric(dirfd: Int32, path: String) -> Result<[Int32], Errno> {
        listNumericWithInodes(dirfd: dirfd, path: path).map { $0.map(\.value) }
    }

    /// The pids with the inode number of each `<root>/<pid>` (getdents64 d_ino): while the
    /// same process lives and one of its files is held open, the number stays; a pid reused by
    /// a new process gets a new directory inode (fs/proc/base.c proc_fill_cache). 0 outside procfs.
    public func pidsWithInodes() -> [(value: Int32, inode: UInt64)] {
        (try? listNumericWithInodes(dirfd: rootFD, path: ".").get()) ?? []
    }

    func listNumericWithInodes(dirfd: Int32, path: String) -> Result<[(value: Int32, inode: UInt64)], Errno> {
        let fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.current) }
        defer { close(fd) }
        return withDirentBuffer { buf in
            var out: [(value: Int32, inode: UInt64)] = []
            while true {
                let n = st_getdents64(fd, buf.baseAddress, UInt(buf.count))
                if n < 0 { return .failure(.current) }
                if n == 0 { break }
                // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                var off = 0
                while off < n {
                    let reclen = Int(buf.load(fromByteOffset: off + 16, as: UInt16.self))
                    if reclen < 20 || off + reclen > n { break }
                    // A pid or fd: 1 to 10 digits within Int32 (pid_max is at most 2^22);
                    // anything else (`9999999999`, `007`) is not one.
                    var v: Int64 = 0
                    var i = off + 19
                    let end = off + reclen
                    var digits = 0
                    var numeric = true
                    while i < end {
                        let c = buf[i]
                        if c == 0 { break }
                        let d = c &- 0x30
                        if d > 9 || digits >= 10 || (digits == 1 && v == 0) { numeric = false; break }
                        v = v * 10 + Int64(d)
                        digits += 1
                        i += 1
                    }
                    if numeric && digits > 0 && v <= Int64(Int32.max) {
                        out.append((Int32(v), isProcfs ? buf.load(fromByteOffset: off, as: UInt64.self) : 0))
                    }
                    off += reclen
                }
                // The kernel stops filling only when the next entry does not fit; with room
                // left for the longest possible one (19 + 256 bytes, 8-aligned: 280), the
                // directory is exhausted and the terminating empty call can be skipped.
                if n <= buf.count - 280 { break }
            }
            out.sort { $0.value < $1.value }
            return .success(out)
        }
    }

    /// `<pid>` as a NUL-terminated decimal (`p` holds 12).
    static func writeDecimal(_ value: Int32, into p: UnsafeMutableBufferPointer<CChar>) {
        var digits: [CChar] = []
        var v = value
        repeat {
            digits.append(CChar(0x30 + v % 10))
            v /= 10
        } while v > 0
        for (i, d) in digits.reversed().enumerated() { p[i] = d }
        p[digits.count] = 0
    }
}

