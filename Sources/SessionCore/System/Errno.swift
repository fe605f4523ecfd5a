#if canImport(Glibc)
import Glibc
#endif

/// An errno value with its name: the one error type for every syscall the core makes
/// (in the manner of swift-system's `Errno`).
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current errno.
    public static var current: Errno { Errno(errno) }

    public static let noSuchFile = Errno(ENOENT)
    public static let noSuchProcess = Errno(ESRCH)
    public static let permissionDenied = Errno(EACCES)
    public static let notPermitted = Errno(EPERM)
    public static let interrupted = Errno(EINTR)
    public static let invalid = Errno(EINVAL)
    /// A /proc file larger than its known bound (EFBIG), read by `ProcReader`.
    public static let tooLarge = Errno(EFBIG)
    /// A FIFO, device, directory or symlink where /proc has a regular file (EBADFD: no errno
    /// says it; `UnknownReason` names it).
    public static let notRegularFile = Errno(EBADFD)

    /// `ENOENT`/`ESRCH`: the process (or the file under it) is gone — normal during a scan.
    public var meansVanished: Bool { rawValue == ENOENT || rawValue == ESRCH }
    /// `EACCES`/`EPERM`: the caller may not read or do this.
    public var meansDenied: Bool { rawValue == EACCES || rawValue == EPERM }

    /// The symbolic name, e.g. `ENOENT`.
    public var name: String {
        switch rawValue {
        case EPERM: return "EPERM"
        case ENOENT: return "ENOENT"
        case ESRCH: return "ESRCH"
        case EINTR: return "EINTR"
        case EIO: return "EIO"
        case EBADF: return "EBADF"
        case ECHILD: return "ECHILD"
        case EAGAIN: return "EAGAIN"
        case ENOMEM: return "ENOMEM"
        case EACCES: return "EACCES"
        case EEXIST: return "EEXIST"
        case ENOTDIR: return "ENOTDIR"
        case EISDIR: return "EISDIR"
        case EINVAL: return "EINVAL"
        case EMFILE: return "EMFILE"
        case ENOTTY: return "ENOTTY"
        case ENOSPC: return "ENOSPC"
        case ELOOP: return "ELOOP"
        case ENAMETOOLONG: return "ENAMETOOLONG"
        case ENOSYS: return "ENOSYS"
        case EWOULDBLOCK: return "EWOULDBLOCK"
        case EFBIG: return "EFBIG"
        case EBADFD: return "EBADFD"
        case ECANCELED: return "ECANCELED"
        default: return "errno \(rawValue)"
        }
    }

    /// The C library's message, e.g. "No such file or directory".
    public var message: String { String(cString: strerror(rawValue)) }
    public var description: String { message }
}
