#if canImport(Glibc)
import Glibc
#endif

/// The small state file that remembers what sessiontop detached in place, so the detail pane
/// can say "detached in place by sessiontop at 14:02, log …" (issue 8 §6). One line per
/// member: `pid<TAB>start time<TAB>unix seconds<TAB>log path`, appended, in the caller's state
/// directory (`$XDG_STATE_HOME/sessiontop/detached.tsv`), written through SafeFile.
public enum DetachRecord {
    public struct Entry: Hashable, Sendable {
        public var identity: ProcessIdentity
        public var when: Int64
        public var log: String
        public init(identity: ProcessIdentity, when: Int64, log: String) {
            self.identity = identity
            self.when = when
            self.log = log
        }
    }

    public static func path(environment: [String] = currentEnvironment()) -> String? {
        SafeFile.logDirectory(environment: environment, uid: geteuid()).map { $0 + "/detached.tsv" }
    }

    static func append(plan: DetachPlan, results: [DetachMemberResult], reader: SnapshotReader) {
        guard let p = path() else { return }
        guard let h = try? SafeFile.open(p, for: .output(append: true), makeDirectories: .caller) else { return }
        let now = Int64(time(nil))
        var text = ""
        for r in results where r.status == .detached {
            text += "\(r.identity.pid)\t\(r.identity.startTime)\t\(now)\t\(plan.logPath)\n"
        }
        var b = Array(text.utf8)
        _ = b.withUnsafeMutableBytes { write(h.fd, $0.baseAddress, $0.count) }
    }

    /// Pure: the entries in the file's bytes (malformed lines skipped; the last entry for an
    /// identity wins).
    public static func parse(_ bytes: [UInt8]) -> [ProcessIdentity: Entry] {
        var out: [ProcessIdentity: Entry] = [:]
        for line in bytes.split(separator: 0x0a) {
            let f = line.split(separator: 0x09, maxSplits: 3, omittingEmptySubsequences: false)
            guard f.count == 4,
                  let pid = Int32(String(decoding: f[0], as: UTF8.self)),
                  let start = UInt64(String(decoding: f[1], as: UTF8.self)),
                  let when = Int64(String(decoding: f[2], as: UTF8.self)) else { continue }
            let id = ProcessIdentity(pid: pid, startTime: start)
            out[id] = Entry(identity: id, when: when, log: String(decoding: f[3], as: UTF8.self))
        }
        return out
    }

    /// Reads the caller's file (at most 1 MiB), [:] when there is none.
    public static func load(path given: String? = nil) -> [ProcessIdentity: Entry] {
        guard let p = given ?? path() else { return [:] }
        let fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return [:] }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return [:] }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count < 1 << 20 {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return parse(out)
    }

    public static func currentEnvironment() -> [String] {
        var out: [String] = []
        var p = environ
        while let e = p.pointee { out.append(String(cString: e)); p += 1 }
        return out
    }
}
