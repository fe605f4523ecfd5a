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
        buffer = .allocate(byteCount: 1 << 16, alignment: 16)
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
            let fd = openat(rootFD, p.baseAddress!, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            return fd >= 0 ? .success(fd) : .failure(.current)
        }
    }

    /// Reads a whole file below `dirfd` into the reused buffer and hands the bytes to
    /// `body` (valid only during the call).
    public func read<R>(dirfd: Int32, _ path: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> Result<R, Errno> {
        let fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return .failure(.current) }
        defer { close(fd) }
        var used = 0
        while true {
            if used == buffer.count {
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
                bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                buffer.deallocate()
                buffer = bigger
            }
            let n = Glibc.read(fd, buffer.baseAddress! + used, buffer.count - used)
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.current)
            }
            if n == 0 { break }
            used += n
            // /proc files (seq_file, cmdline, environ) and regular files hand over everything
            // they have in one read when it fits: a short read is the end. Saves a syscall per file.
            if used < buffer.count { break }
        }
        let typed = buffer.bindMemory(to: UInt8.self)
        return .success(body(UnsafeBufferPointer(rebasing: typed[0..<used])))
    }

    /// Reads a whole file below `dirfd` as bytes (for small, rarely read files).
    public func readBytes(dirfd: Int32, _ path: String) -> Result<[UInt8], Errno> {
        read(dirfd: dirfd, path) { Array($0) }
    }

    /// Reads a file relative to the root (`tty/drivers`, `uptime`).
    public func readRootFile(_ path: String) -> Result<[UInt8], Errno> {
        readBytes(dirfd: rootFD, path)
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
    private var dents = UnsafeMutableRawBufferPointer.allocate(byteCount: 32768, alignment: 8)

    private func withDirentBuffer<R>(_ body: (UnsafeMutableRawBufferPointer) -> R) -> R { body(dents) }

    func listNumeric(dirfd: Int32, path: String) -> Result<[Int32], Errno> {
        let fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.current) }
        defer { close(fd) }
        return withDirentBuffer { buf in
            var out: [Int32] = []
            while true {
                let n = st_getdents64(fd, buf.baseAddress, UInt(buf.count))
                if n < 0 { return .failure(.current) }
                if n == 0 { break }
                // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                var off = 0
                while off < n {
                    let reclen = Int(buf.load(fromByteOffset: off + 16, as: UInt16.self))
                    var v: Int32 = 0
                    var i = off + 19
                    var digits = 0
                    var numeric = true
                    while true {
                        let c = buf[i]
                        if c == 0 { break }
                        let d = c &- 0x30
                        if d > 9 || digits > 9 { numeric = false; break }
                        v = v * 10 + Int32(d)
                        digits += 1
                        i += 1
                    }
                    if numeric && digits > 0 { out.append(v) }
                    off += reclen
                }
                // The kernel stops filling only when the next entry does not fit; with room
                // left for the longest possible one (19 + 256 bytes, 8-aligned: 280), the
                // directory is exhausted and the terminating empty call can be skipped.
                if n <= buf.count - 280 { break }
            }
            out.sort()
            return .success(out)
        }
    }

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

