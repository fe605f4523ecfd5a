/// Why a field has no value. A field the user may not read is *unknown*, never empty or zero.
public enum UnknownReason: Hashable, Sendable, CustomStringConvertible {
    /// `EACCES`/`EPERM` reading it (another user's cwd, fds, environ).
    case permissionDenied
    /// The process exited while it was being read.
    case vanished
    /// The kernel has nothing to say here (a zombie's cwd, a kernel thread's fds, a kernel
    /// without the `Umask:` line in status).
    case notApplicable
    /// Not read in this scan (an on-demand field such as fdinfo).
    case notRead
    /// The file is there but is not what the kernel writes; says how, as shown to the user
    /// ("not a regular file", "malformed: no valid Uid: line in status").
    case malformed(String)
    /// Any other failure.
    case failed(Errno)

    public init(_ errno: Errno) {
        if errno.meansDenied { self = .permissionDenied }
        else if errno.meansVanished { self = .vanished }
        else if errno == .tooLarge { self = .malformed("larger than its known bound") }
        else if errno == .notRegularFile { self = .malformed("not a regular file") }
        else { self = .failed(errno) }
    }

    public var description: String {
        switch self {
        case .permissionDenied: return "permission denied"
        case .vanished: return "process vanished"
        case .notApplicable: return "not applicable"
        case .notRead: return "not read"
        case .malformed(let what): return what
        case .failed(let e): return "\(e.name): \(e.message)"
        }
    }
}

/// A value read from /proc, or the reason it could not be read.
public enum Field<Value> {
    case known(Value)
    case unknown(UnknownReason)

    public var value: Value? {
        if case .known(let v) = self { return v }
        return nil
    }

    public var unknownReason: UnknownReason? {
        if case .unknown(let r) = self { return r }
        return nil
    }

    public func map<T>(_ transform: (Value) -> T) -> Field<T> {
        switch self {
        case .known(let v): return .known(transform(v))
        case .unknown(let r): return .unknown(r)
        }
    }

    public init(_ result: Result<Value, Errno>) {
        switch result {
        case .success(let v): self = .known(v)
        case .failure(let e): self = .unknown(UnknownReason(e))
        }
    }
}

extension Field: Sendable where Value: Sendable {}
extension Field: Equatable where Value: Equatable {}
extension Field: Hashable where Value: Hashable {}
