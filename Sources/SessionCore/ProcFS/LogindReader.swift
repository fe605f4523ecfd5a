#if canImport(Glibc)
import Glibc
#endif

/// `/proc/<pid>/cgroup` → the path that names its place in systemd's tree: the cgroup v2 line
/// `0::/path`, else the v1 `N:name=systemd:/path` line (cgroups(7)). Pure; nil when neither.
public enum CgroupParser {
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var v1: [UInt8]?
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true).prefix(256) {
            // hierarchy-ID:controller-list:path — the path may itself hold ':'.
            guard let c1 = line.firstIndex(of: 0x3A) else { continue }
            let rest = line[(c1 + 1)...]
            guard let c2 = rest.firstIndex(of: 0x3A) else { continue }
            let id = Array(line[..<c1]), controllers = Array(rest[..<c2]), path = Array(rest[(c2 + 1)...])
            if id == [0x30] && controllers.isEmpty { return path }
            if controllers == Array("name=systemd".utf8) { v1 = path }
        }
        return v1
    }

    public static func parse(_ bytes: [UInt8]) -> [UInt8]? { bytes.withUnsafeBufferPointer { parse($0) } }
}

/// Reads systemd-logind's policy under `root` (`/` on a real machine, a fixture tree in tests;
/// systemd need not run): logind.conf and its drop-ins in systemd's precedence
/// (systemd.syntax(7), "CONFIGURATION DIRECTORIES AND PRECEDENCE": the main file from the
/// first of /etc, /run, /usr/local/lib, /usr/lib; drop-ins `logind.conf.d/*.conf` from all four,
/// a name in an earlier directory hiding the same name in a later one, applied in name order
/// after the main file), the linger files, and logind's session files in /run/systemd/sessions.
public enum LogindPolicyReader {
    static let dirs = ["etc/systemd", "run/systemd", "usr/local/lib/systemd", "usr/lib/systemd"]
    /// Files larger than this are not logind configuration.
    static let maxFile = 1 << 16

    public static func read(root: String) -> LogindPolicy {
        let base = root.hasSuffix("/") ? root : root + "/"
        var policy = LogindPolicy()
        if let main = dirs.lazy.map({ base + $0 + "/logind.conf" }).first(where: { readFile($0) != nil }),
           let text = readFile(main) {
            apply(text, from: main, to: &policy)
            policy.shippedDefault = commentedDefault(text)
            policy.files.append(main)
        }
        var dropIns: [String: String] = [:]
        for d in dirs.reversed() {  // earlier directories win: visit them last
            for name in listDir(base + d + "/logind.conf.d") where name.hasSuffix(".conf") {
                dropIns[name] = base + d + "/logind.conf.d/" + name
            }
        }
        for name in dropIns.keys.sorted() {
            guard let path = dropIns[name], let text = readFile(path) else { continue }
            apply(text, from: path, to: &policy)
            policy.files.append(path)
        }
        askLogind(socket: base + "run/dbus/system_bus_socket", into: &policy)
        policy.lingering = Set(listDir(base + "var/lib/systemd/linger"))
        for id in listDir(base + "run/systemd/sessions") where !id.hasSuffix(".ref") {
            guard let text = readFile(base + "run/systemd/sessions/" + id) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("LEADER=") {
                if let pid = Int32(line.dropFirst(7)) { policy.sessionLeaders[id] = pid }
            }
        }
        return policy
    }

    /// Where the system bus is there, logind's own answer wins over the files: the Manager's
    /// `KillUserProcesses`, `KillOnlyUsers` and `KillExcludeUsers` properties
    /// (org.freedesktop.login1(5)). Asked with NO_AUTO_START and a short timeout.
    static func askLogind(socket: String, into p: inout LogindPolicy) {
        guard access(socket, F_OK) == 0 else { p.dbusNote = "no system bus (\(socket))"; return }
        do throws(DBusConnection.Failure) {
            let bus = try DBusConnection(address: "unix:path=" + socket)
            func get(_ name: String) throws(DBusConnection.Failure) -> DBusValue {
                try bus.property(destination: "org.freedesktop.login1", path: "/org/freedesktop/login1",
                                 interface: "org.freedesktop.login1.Manager", name: name)
            }
            guard case .bool(let kill) = try get("KillUserProcesses") else {
                p.dbusNote = "logind's KillUserProcesses is not a boolean"
                return
            }
            func list(_ v: DBusValue) -> [String]? {
                guard case .array("s", let items) = v else { return nil }
                return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            }
            p.killUserProcesses = kill
            p.killUserProcessesFrom = "logind over D-Bus"
            if let only = list(try get("KillOnlyUsers")) { p.killOnlyUsers = only }
            if let ex = list(try get("KillExcludeUsers")) { p.killExcludeUsers = ex }
            p.fromDBus = true
        } catch {
            p.dbusNote = "logind did not answer over D-Bus (\(error.description)): its files decide"
        }
    }

    /// Whether logind keeps sessions here (`<root>/run/systemd/sessions` lists one): only then
    /// do cgroups place processes in logind scopes worth reading.
    public static func hasSessions(root: String) -> Bool {
        let base = root.hasSuffix("/") ? root : root + "/"
        return listDir(base + "run/systemd/sessions").contains { !$0.hasSuffix(".ref") }
    }

    /// Applies the `[Login]` section of one file (later assignments win; an empty list
    /// assignment resets the list, logind.conf(5)).
    static func apply(_ text: String, from path: String, to p: inout LogindPolicy) {
        var section = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
            if line.hasPrefix("[") { section = String(line.drop { $0 == "[" }.prefix { $0 != "]" }); continue }
            guard section == "Login", let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingSpaces, value = line[line.index(after: eq)...].trimmingSpaces
            switch key {
            case "KillUserProcesses":
                if let b = boolean(value) { p.killUserProcesses = b; p.killUserProcessesFrom = path }
            case "KillOnlyUsers":
                if value.isEmpty { p.killOnlyUsers = [] } else { p.killOnlyUsers += words(value) }
            case "KillExcludeUsers":
                if value.isEmpty { p.killExcludeUsers = nil } else { p.killExcludeUsers = (p.killExcludeUsers ?? []) + words(value) }
            default: break
            }
        }
    }

    /// `#KillUserProcesses=no` in the shipped main file: the compiled-in default it documents.
    static func commentedDefault(_ text: String) -> Bool? {
        for raw in text.split(separator: "\n") {
            let line = raw.drop { $0 == " " || $0 == "\t" || $0 == "#" }
            if line.hasPrefix("KillUserProcesses="), raw.hasPrefix("#") {
                return boolean(line.dropFirst("KillUserProcesses=".count).trimmingSpaces)
            }
        }
        return nil
    }

    /// systemd's parse_boolean.
    static func boolean(_ v: String) -> Bool? {
        switch v.lowercased() {
        case "1", "yes", "y", "true", "t", "on": return true
        case "0", "no", "n", "false", "f", "off": return false
        default: return nil
        }
    }

    static func words(_ v: String) -> [String] { v.split(separator: " ").map(String.init).filter { !$0.isEmpty } }

    /// A small regular file's text (no links followed at the last step), nil when absent.
    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= Int64(maxFile) else { return nil }
        var buf = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
        var got = 0
        while got < buf.count {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        return String(decoding: buf[..<min(got, maxFile)], as: UTF8.self)
    }

    /// Names in a directory (no `.`/`..`), empty when it is absent.
    static func listDir(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d), out.count < 4096 {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out.sorted()
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}
