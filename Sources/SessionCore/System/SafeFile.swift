import CSessionShims
#if canImport(Glibc)
import Glibc
#endif

/// The user a file or directory is made for.
public struct FileOwner: Hashable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }
    /// The caller's effective ids.
    public static var caller: FileOwner { FileOwner(uid: geteuid(), gid: getegid()) }
}

/// Why a file was not opened or created. Every case names the path it is about.
public enum SafeFileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file itself is a symlink (O_NOFOLLOW): never followed.
    case symlink(String)
    /// A directory symlink owned by another user led somewhere that user does not own.
    case untrustedSymlink(link: String, owner: UInt32, into: String)
    case notDirectory(String)
    /// A FIFO, device, socket or directory where a regular file was expected.
    case notRegularFile(String)
    /// The file has other names (a hard link to it may be anyone's file).
    case hardLinked(String, links: UInt64)
    /// An existing file of another user in a directory others can write to.
    case foreignFile(String, owner: UInt32)
    /// A directory that must be private to `owner` is not.
    case unsafeDirectory(String, reason: String)
    /// A new file was asked for and the name is taken.
    case exists(String)
    /// No home or state directory to put a log in.
    case noLogDirectory(uid: UInt32)
    case badPath(String)
    case system(String, Errno)

    public var description: String {
        switch self {
        case .symlink(let p): return "refusing to open \(p): it is a symbolic link"
        case .untrustedSymlink(let l, let o, let d):
            return "refusing to follow \(l): a symbolic link owned by uid \(o) into \(d), which uid \(o) does not own"
        case .notDirectory(let p): return "\(p) is not a directory"
        case .notRegularFile(let p): return "refusing to use \(p): not a regular file"
        case .hardLinked(let p, let n): return "refusing to use \(p): it has \(n) hard links"
        case .foreignFile(let p, let o):
            return "refusing to use \(p): it belongs to uid \(o) and its directory is writable by others"
        case .unsafeDirectory(let p, let why): return "refusing to write in \(p): \(why)"
        case .exists(let p): return "refusing to reuse \(p): it already exists"
        case .noLogDirectory(let uid):
            return "no directory for the log of uid \(uid): no XDG_STATE_HOME, HOME or home directory (give a log path)"
        case .badPath(let p): return "bad file name: \(p)"
        case .system(let p, let e): return "cannot open \(p): \(e.message)"
        }
    }
}

/// Opening and creating the files a (possibly privileged) sessiontop writes — pidfiles,
/// lockfiles, daemon output, logs — so that no other user can redirect the write:
/// - the parent directory is resolved one component at a time from a directory fd (openat with
///   O_PATH|O_NOFOLLOW; one openat2(RESOLVE_NO_SYMLINKS) call when no component is a link); a
///   directory symlink owned by another user is followed only into a directory that user owns;
/// - the file itself is opened O_NOFOLLOW|O_NONBLOCK (a FIFO cannot block, a symlink is refused)
///   and kept only when fstat says it is a regular file with one link;
/// - in a directory others can write to (sticky, group/world-writable, or owned by someone
///   else) an existing file must belong to the caller or the target user;
/// - new logs are created exclusively (O_TMPFILE + linkat, else O_EXCL), owned by the target
///   user, in a directory private to that user.
public enum SafeFile {
    /// What an existing or new file is for; decides the open flags.
    public enum Use: Sendable, Hashable {
        /// Read-write, created 0644, never truncated here (the writer truncates after locking).
        case pidFile
        /// Read-write, created 0644, for flock(2).
        case lockFile
        /// Write-only, created 0644, truncated after the checks unless `append`.
        case output(append: Bool)
    }

    /// An open file, and the directory it was opened in (for removing exactly that file).
    public final class Handle {
        /// The open file (close-on-exec); closed when the handle goes, unless `take()`n.
        public private(set) var fd: Int32
        /// The path as given.
        public let path: String
        /// This call created the file.
        public let created: Bool
        private let directoryFD: Int32
        private let name: String
        private let device: UInt64
        private let inode: UInt64

        init(fd: Int32, path: String, created: Bool, directoryFD: Int32, name: String, stat st: stat) {
            self.fd = fd
            self.path = path
            self.created = created
            self.directoryFD = directoryFD
            self.name = name
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
        }

        /// Hands the fd over: the handle no longer closes it.
        public func take() -> Int32 {
            let f = fd
            fd = -1
            return f
        }

        /// Unlinks the file if this call created it and the name still is that very file.
        public func removeIfCreated() {
            guard created else { return }
            var st = stat()
            guard fstatat(directoryFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0,
                  UInt64(st.st_dev) == device, UInt64(st.st_ino) == inode else { return }
            unlinkat(directoryFD, name, 0)
        }

        deinit {
            if fd >= 0 { close(fd) }
            close(directoryFD)
        }
    }

    /// Opens (creating when missing) a pidfile, lockfile or output file. `owners`: the users
    /// whose existing files may be used in a directory others can write to (the caller, and
    /// the user a daemon will run as). `makeDirectories`: create missing parent directories
    /// (0700, owned by that user).
    public static func open(_ path: String, for use: Use, owners: Set<UInt32> = [geteuid()],
                            makeDirectories: FileOwner? = nil) throws(SafeFileError) -> Handle {
        let (dirPath, name) = try split(path)
        let (dirFD, confinedTo) = try openDirectory(dirPath, createFor: makeDirectories, strict: false)
        var ok = false
        defer { if !ok { close(dirFD) } }
        var dst = stat()
        guard fstat(dirFD, &dst) == 0 else { throw .system(dirPath, .current) }
        if let c = confinedTo, dst.st_uid != c.owner {
            throw .untrustedSymlink(link: c.link, owner: c.owner, into: c.target)
        }
        let shared = dst.st_mode & (S_IWGRP | S_IWOTH | S_ISVTX) != 0
            || (dst.st_uid != 0 && !owners.contains(dst.st_uid))

        var flags = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC
        switch use {
        case .pidFile, .lockFile: flags |= O_RDWR
        case .output(let append): flags |= O_WRONLY | (append ? O_APPEND : 0)
        }
        var fd: Int32 = -1
        var created = false
        for _ in 0..<4 {
            fd = openat(dirFD, name, flags | O_CREAT | O_EXCL, 0o644)
            if fd >= 0 { created = true; break }
            if errno != EEXIST { throw failure(path, .current) }
            // It exists: look before opening, so a FIFO or a device is never opened at all.
            var pre = stat()
            if fstatat(dirFD, name, &pre, AT_SYMLINK_NOFOLLOW) != 0 {
                if errno == ENOENT { continue }  // removed meanwhile: create it
                throw .system(path, .current)
            }
            if pre.st_mode & S_IFMT == S_IFLNK { throw .symlink(path) }
            if pre.st_mode & S_IFMT != S_IFREG { throw .notRegularFile(path) }
            fd = openat(dirFD, name, flags)
            if fd >= 0 { break }
            if errno != ENOENT { throw failure(path, .current) }
        }
        guard fd >= 0 else { throw .system(path, .current) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = Errno.current; close(fd); throw .system(path, e) }
        func refuse(_ e: SafeFileError) -> SafeFileError { close(fd); return e }
        if st.st_mode & S_IFMT != S_IFREG { throw refuse(.notRegularFile(path)) }
        if !created {
            if st.st_nlink != 1 { throw refuse(.hardLinked(path, links: UInt64(st.st_nlink))) }
            if shared && !owners.contains(st.st_uid) { throw refuse(.foreignFile(path, owner: st.st_uid)) }
        }
        // O_NONBLOCK was only for the open; a regular file ignores it, but the daemon inherits it.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        if case .output(false) = use, !created, ftruncate(fd, 0) != 0 {
            throw refuse(.system(path, .current))
        }
        ok = true
        return Handle(fd: fd, path: path, created: created, directoryFD: dirFD, name: name, stat: st)
    }

    /// Creates a new log file `path` for `owner`, exclusively (never an existing file), mode
    /// 0600 and owned by `owner` from the start (O_TMPFILE, chown, then linkat; O_EXCL where the
    /// filesystem has no O_TMPFILE). Missing directories are created (0700, owned by `owner`);
    /// the log's directory must be owned by `owner` and writable by nobody else, and every
    /// directory above it owned by root or `owner` and not writable by others. Opened for
    /// appending.
    public static func createLog(_ path: String, owner: FileOwner) throws(SafeFileError) -> Handle {
        let (dirPath, name) = try split(path)
        let (dirFD, confinedTo) = try openDirectory(dirPath, createFor: owner, strict: true)
        var ok = false
        defer { if !ok { close(dirFD) } }
        var dst = stat()
        guard fstat(dirFD, &dst) == 0 else { throw .system(dirPath, .current) }
        if let c = confinedTo, dst.st_uid != c.owner {
            throw .untrustedSymlink(link: c.link, owner: c.owner, into: c.target)
        }
        if dst.st_uid != owner.uid {
            throw .unsafeDirectory(dirPath, reason: "it belongs to uid \(dst.st_uid), not uid \(owner.uid)")
        }
        if dst.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw .unsafeDirectory(dirPath, reason: "it is writable by \(dst.st_mode & S_IWOTH != 0 ? "everyone" : "its group")")
        }
        let chown = geteuid() == 0 && (owner.uid != geteuid() || owner.gid != getegid())
        var fd = openat(dirFD, ".", O_WRONLY | st_o_tmpfile() | O_CLOEXEC, 0o600)
        var created = false
        if fd >= 0 {
            if chown && fchown(fd, owner.uid, owner.gid) != 0 { let e = Errno.current; close(fd); throw .system(path, e) }
            if st_link_tmpfile(fd, dirFD, name) != 0 {
                let e = Errno.current
                close(fd)
                throw e.rawValue == EEXIST ? .exists(path) : .system(path, e)
            }
            created = true
        } else if [EOPNOTSUPP, EISDIR, EINVAL, ENOENT].contains(errno) {
            // No O_TMPFILE here (some filesystems): an exclusive create, chowned at once.
            fd = openat(dirFD, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 { throw errno == EEXIST ? .exists(path) : failure(path, .current) }
            created = true
            if chown && fchown(fd, owner.uid, owner.gid) != 0 {
                let e = Errno.current
                unlinkat(dirFD, name, 0)
                close(fd)
                throw .system(path, e)
            }
        } else {
            throw failure(path, .current)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND)
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = Errno.current; close(fd); throw .system(path, e) }
        ok = true
        return Handle(fd: fd, path: path, created: created, directoryFD: dirFD, name: name, stat: st)
    }

    /// Where `uid`'s logs go (XDG Base Directory spec, XDG_STATE_HOME): `$XDG_STATE_HOME/
    /// sessiontop` or `$HOME/.local/state/sessiontop` from `environment` (the target process's),
    /// else under the home directory of its password entry; for root without any of them
    /// `/var/log/sessiontop`. Never a world-writable place such as /tmp; nil when there is none.
    public static func logDirectory(environment: [String], uid: UInt32) -> String? {
        func value(_ name: String) -> String? {
            let prefix = name + "="
            return environment.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        }
        func usable(_ p: String?) -> String? {
            guard let p, p.hasPrefix("/"), p.contains(where: { $0 != "/" }) else { return nil }
            return p.hasSuffix("/") ? String(p.dropLast()) : p
        }
        if let s = usable(value("XDG_STATE_HOME")) { return s + "/sessiontop" }
        if let h = usable(value("HOME")) { return h + "/.local/state/sessiontop" }
        if let h = usable(Daemonizer.lookUpUser(String(uid))?.home) { return h + "/.local/state/sessiontop" }
        return uid == 0 ? "/var/log/sessiontop" : nil
    }

    // MARK: - directories

    /// Opens directory `path` (O_PATH) without following any symlink owned by another user
    /// out of that user's reach: one openat2(RESOLVE_NO_SYMLINKS) when the path has no link,
    /// else one component at a time. Links owned by root or the caller are followed; after a
    /// link owned by another user, `confinedTo` is that user: the directory reached must be
    /// theirs. `createFor`: create missing components (0700, owned by that user); with `strict`,
    /// every directory on the way must be owned by root or that user and not writable by others,
    /// except a sticky one passed through to an existing directory (`/tmp/mine/logs`).
    static func openDirectory(_ path: String, createFor owner: FileOwner? = nil, strict: Bool = false) throws(SafeFileError) -> (fd: Int32, confinedTo: (owner: UInt32, link: String, target: String)?) {
        let oPath = st_o_path()
        if !strict {
            let fd = st_openat2_nosymlinks(AT_FDCWD, path, oPath | O_DIRECTORY | O_CLOEXEC, 0)
            if fd >= 0 { return (fd, nil) }
            let walk = errno == ELOOP || errno == ENOSYS || errno == EXDEV || errno == EAGAIN
                || (errno == ENOENT && owner != nil)
            if !walk { throw failure(path, .current) }
        }
        var stack = path.split(separator: "/").reversed().map(String.init)
        var here = path.hasPrefix("/") ? "/" : "."
        var fd = Glibc.open(here, oPath | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(here, .current) }
        var ok = false
        defer { if !ok { close(fd) } }
        var confinedTo: (owner: UInt32, link: String, target: String)?
        var links = 0
        let me = geteuid()

        // A sticky directory others can write (/tmp) may be passed through to an existing
        // directory of root's or the owner's (others can add entries there but not rename or
        // remove ours), but nothing is ever created in it, no link of another user's is
        // followed from it, and it is never the last one.
        var stickyPassage: SafeFileError?
        func checkAncestor(_ dirfd: Int32, _ shown: String) throws(SafeFileError) {
            guard strict, let owner else { return }
            var st = stat()
            guard fstat(dirfd, &st) == 0 else { throw .system(shown, .current) }
            if st.st_uid != 0 && st.st_uid != owner.uid {
                throw .unsafeDirectory(shown, reason: "it belongs to uid \(st.st_uid)")
            }
            stickyPassage = nil
            if st.st_mode & S_IWOTH != 0 || (st.st_mode & S_IWGRP != 0 && st.st_gid != 0 && st.st_gid != owner.gid) {
                let refusal = SafeFileError.unsafeDirectory(shown, reason: "it is writable by \(st.st_mode & S_IWOTH != 0 ? "everyone" : "group \(st.st_gid)")")
                guard st.st_mode & S_ISVTX != 0 else { throw refusal }
                stickyPassage = refusal
            }
        }
        func join(_ a: String, _ b: String) -> String { a == "/" ? "/" + b : (a == "." ? b : a + "/" + b) }

        try checkAncestor(fd, here)
        while let c = stack.popLast() {
            if c == "." { continue }
            let shown = join(here, c)
            var next = openat(fd, c, oPath | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT, let owner {
                if let refusal = stickyPassage { throw refusal }
                if mkdirat(fd, c, 0o700) == 0 {
                    if me == 0 && (owner.uid != 0 || owner.gid != getegid()) {
                        _ = fchownat(fd, c, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW)
                    }
                } else if errno != EEXIST {
                    throw .system(shown, .current)
                }
                next = openat(fd, c, oPath | O_NOFOLLOW | O_CLOEXEC)
            }
            guard next >= 0 else { throw .system(shown, .current) }
            var st = stat()
            guard fstat(next, &st) == 0 else { let e = Errno.current; close(next); throw .system(shown, e) }
            switch st.st_mode & S_IFMT {
            case S_IFLNK:
                links += 1
                var buf = [CChar](repeating: 0, count: 4097)
                let n = readlinkat(next, "", &buf, 4096)
                close(next)
                guard n > 0, links <= 40 else { throw .system(shown, Errno(ELOOP)) }
                let target = String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if st.st_uid != 0 && st.st_uid != me {
                    if let refusal = stickyPassage { throw refusal }
                    if let c = confinedTo, c.owner != st.st_uid {
                        throw .untrustedSymlink(link: shown, owner: st.st_uid, into: target)
                    }
                    confinedTo = (st.st_uid, shown, target)
                }
                stack += target.split(separator: "/").reversed().map(String.init)
                if target.hasPrefix("/") {
                    let root = Glibc.open("/", oPath | O_DIRECTORY | O_CLOEXEC)
                    guard root >= 0 else { throw .system("/", .current) }
                    close(fd)
                    fd = root
                    here = "/"
                    try checkAncestor(fd, here)
                }
            case S_IFDIR:
                close(fd)
                fd = next
                here = shown
                try checkAncestor(fd, here)
            default:
                close(next)
                throw .notDirectory(shown)
            }
        }
        if let refusal = stickyPassage { throw refusal }
        ok = true
        return (fd, confinedTo)
    }

    // MARK: - helpers

    /// `dir/name` → (dir, name); a bare name is in ".".
    static func split(_ path: String) throws(SafeFileError) -> (String, String) {
        guard !path.isEmpty, !path.hasSuffix("/") else { throw .badPath(path) }
        let name: String
        let dir: String
        if let slash = path.lastIndex(of: "/") {
            name = String(path[path.index(after: slash)...])
            let d = String(path[..<slash])
            dir = d.isEmpty ? "/" : d
        } else {
            name = path
            dir = "."
        }
        guard name != ".", name != ".." else { throw .badPath(path) }
        return (dir, name)
    }

    static func failure(_ path: String, _ e: Errno) -> SafeFileError {
        switch e.rawValue {
        case ELOOP: return .symlink(path)
        case ENXIO, EISDIR: return .notRegularFile(path)
        default: return .system(path, e)
        }
    }
}
