#if canImport(Glibc)
import Glibc
#endif

/// A /proc-like tree as bytes, for fuzzing `SnapshotReader`: a sequence of entries
/// `kind (1 byte) · path length (1) · path · content length (2, little endian) · content`,
/// where kind % 4 is 0 a regular file, 1 a directory, 2 a symlink (content: its target), 3 a
/// FIFO. Paths are made safe (components of [A-Za-z0-9._-], no `.`/`..`, at most 5 deep) and
/// symlinks point inside the tree or at a few fixed places, so whatever the bytes, the tree
/// stays below its root and a run reads nothing else.
public enum FuzzTree {
    public struct Entry: Equatable {
        public enum Kind: UInt8 { case file = 0, directory, symlink, fifo }
        public var kind: Kind
        public var path: [String]
        public var content: [UInt8]
    }

    /// Where absolute symlinks may point (everything else is made relative to the tree).
    static let absoluteTargets: Set<String> = ["/", "/dev/null", "/dev/zero", "/nonexistent", "/dev/pts/3",
                                               "/dev/ttyS0", "/dev/tty1", "/home/ann", "/dev/console"]

    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> [Entry] {
        var out: [Entry] = []
        var i = 0
        while i + 2 <= bytes.count, out.count < 512 {
            let kind = Entry.Kind(rawValue: bytes[i] % 4)!
            let pathLength = Int(bytes[i + 1])
            i += 2
            guard i + pathLength + 2 <= bytes.count else { break }
            let path = safePath(Array(bytes[i..<(i + pathLength)]))
            i += pathLength
            let length = Int(bytes[i]) | Int(bytes[i + 1]) << 8
            i += 2
            let end = min(bytes.count, i + length)
            let content = Array(bytes[i..<end])
            i = end
            if !path.isEmpty { out.append(Entry(kind: kind, path: path, content: content)) }
        }
        return out
    }

    public static func encode(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = []
        for e in entries {
            let path = Array(e.path.joined(separator: "/").utf8.prefix(255))
            let content = e.content.prefix(65535)
            out.append(e.kind.rawValue)
            out.append(UInt8(path.count))
            out += path
            out.append(UInt8(content.count & 0xff))
            out.append(UInt8(content.count >> 8))
            out += content
        }
        return out
    }

    static func safePath(_ raw: [UInt8]) -> [String] {
        var parts: [String] = []
        for piece in raw.split(separator: UInt8(ascii: "/")) {
            let name = String(decoding: piece.prefix(40).map { c -> UInt8 in
                let ok = (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7a) || c == 0x2e || c == 0x5f || c == 0x2d
                return ok ? c : UInt8(ascii: "_")
            }, as: UTF8.self)
            if name == "." || name == ".." || name.isEmpty { continue }
            parts.append(name)
            if parts.count == 5 { break }
        }
        return parts
    }

    /// The entries of a real directory tree (a fixture), in an order `materialize` can replay.
    public static func read(directory: String) -> [Entry] {
        var out: [Entry] = []
        func walk(_ dir: String, _ prefix: [String]) {
            guard let d = opendir(dir) else { return }
            var names: [String] = []
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(d)
            for name in names.sorted() {
                let full = dir + "/" + name
                let path = prefix + [name]
                var st = stat()
                guard lstat(full, &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    out.append(Entry(kind: .directory, path: path, content: []))
                    walk(full, path)
                case S_IFLNK:
                    var buf = [CChar](repeating: 0, count: 4096)
                    let n = readlink(full, &buf, buf.count)
                    if n >= 0 { out.append(Entry(kind: .symlink, path: path, content: buf.prefix(n).map { UInt8(bitPattern: $0) })) }
                case S_IFIFO:
                    out.append(Entry(kind: .fifo, path: path, content: []))
                default:
                    let fd = open(full, O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { continue }
                    var content: [UInt8] = []
                    var buf = [UInt8](repeating: 0, count: 4096)
                    while true {
                        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                        if n <= 0 { break }
                        content += buf[0..<n]
                    }
                    close(fd)
                    out.append(Entry(kind: .file, path: path, content: content))
                }
            }
        }
        walk(directory, [])
        return out
    }

    /// Creates the entries below `root` (an existing empty directory). An entry whose place
    /// is taken, or whose parent is not a directory, is skipped.
    public static func materialize(_ entries: [Entry], at root: String) {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return }
        defer { close(rootFD) }
        for e in entries {
            // Parents, without following anything.
            var dir = dup(rootFD)
            var ok = true
            for part in e.path.dropLast() {
                _ = mkdirat(dir, part, 0o755)
                let next = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                close(dir)
                if next < 0 { ok = false; break }
                dir = next
            }
            guard ok else { continue }
            defer { close(dir) }
            let name = e.path.last!
            switch e.kind {
            case .directory:
                _ = mkdirat(dir, name, 0o755)
            case .fifo:
                _ = mkfifoat(dir, name, 0o644)
            case .symlink:
                _ = symlinkat(safeTarget(e.content), dir, name)
            case .file:
                let fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
                guard fd >= 0 else { continue }
                var off = 0
                while off < e.content.count {
                    let n = e.content.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
                    if n <= 0 { break }
                    off += n
                }
                close(fd)
            }
        }
    }

    /// A target inside the tree (no `..`, not absolute) or one of `absoluteTargets`.
    static func safeTarget(_ raw: [UInt8]) -> String {
        let text = String(decoding: raw.prefix(200).map { $0 == 0 ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
        if absoluteTargets.contains(text) { return text }
        let parts = text.split(separator: "/").filter { $0 != ".." && $0 != "." }
        let rel = parts.joined(separator: "/")
        return rel.isEmpty ? "." : rel
    }

    /// Removes everything below `root` (not `root` itself), never following a link.
    public static func clear(_ root: String) {
        func clear(_ fd: Int32) {
            let dupFD = dup(fd)
            guard dupFD >= 0, let d = fdopendir(dupFD) else { return }
            var names: [(String, Bool)] = []
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name == "." || name == ".." { continue }
                names.append((name, e.pointee.d_type == UInt8(DT_DIR)))
            }
            closedir(d)
            for (name, isDir) in names {
                if isDir {
                    let sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if sub >= 0 { clear(sub); close(sub) }
                    unlinkat(fd, name, AT_REMOVEDIR)
                } else {
                    unlinkat(fd, name, 0)
                }
            }
        }
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        clear(fd)
        close(fd)
    }
}
