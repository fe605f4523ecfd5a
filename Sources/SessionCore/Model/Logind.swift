/// systemd-logind's logout policy, as its configuration and runtime state say
/// (logind.conf(5); LogindPolicyReader reads it under a root that tests point at fixtures).
public struct LogindPolicy: Hashable, Sendable {
    /// `KillUserProcesses=`, nil when no file sets it (then only the compiled-in default decides).
    public var killUserProcesses: Bool?
    /// The file whose line decided `killUserProcesses`.
    public var killUserProcessesFrom: String?
    /// A commented `#KillUserProcesses=…` in the main file: the default the distribution ships.
    public var shippedDefault: Bool?
    /// `KillOnlyUsers=`: when not empty, only these users' sessions are killed.
    public var killOnlyUsers: [String]
    /// `KillExcludeUsers=`, nil when never set (then root alone is excluded).
    public var killExcludeUsers: [String]?
    /// Users with a linger file (`/var/lib/systemd/linger/USER`): their user manager outlives
    /// their last session.
    public var lingering: Set<String>
    /// logind's sessions (`/run/systemd/sessions/ID`): id → the session's leader pid (sshd's
    /// session process, `login`, a display manager's worker).
    public var sessionLeaders: [String: Int32]
    /// The files read, in the order they were applied.
    public var files: [String]
    /// True when logind itself answered over the system bus (its properties then decide).
    public var fromDBus = false
    /// Why logind was not asked over D-Bus, or did not answer (no bus socket, no logind on it).
    public var dbusNote: String?

    public init(killUserProcesses: Bool? = nil, killUserProcessesFrom: String? = nil, shippedDefault: Bool? = nil,
                killOnlyUsers: [String] = [], killExcludeUsers: [String]? = nil, lingering: Set<String> = [],
                sessionLeaders: [String: Int32] = [:], files: [String] = []) {
        self.killUserProcesses = killUserProcesses
        self.killUserProcessesFrom = killUserProcessesFrom
        self.shippedDefault = shippedDefault
        self.killOnlyUsers = killOnlyUsers
        self.killExcludeUsers = killExcludeUsers
        self.lingering = lingering
        self.sessionLeaders = sessionLeaders
        self.files = files
    }

    /// logind.c manager_shall_kill: root is spared unless KillExcludeUsers was set; an
    /// excluded user is spared; with KillOnlyUsers only those are killed; else
    /// KillUserProcesses decides. nil when that comes down to the compiled-in default.
    public func shallKill(user: String) -> (kill: Bool?, why: String) {
        if killExcludeUsers == nil && user == "root" {
            return (false, "root is excluded by default (KillExcludeUsers= is not set)")
        }
        if let ex = killExcludeUsers, ex.contains(user) {
            return (false, "\(user) is in KillExcludeUsers=")
        }
        if !killOnlyUsers.isEmpty {
            return killOnlyUsers.contains(user)
                ? (true, "\(user) is in KillOnlyUsers=")
                : (false, "KillOnlyUsers= does not name \(user)")
        }
        if let k = killUserProcesses {
            return (k, "KillUserProcesses=\(k ? "yes" : "no") (\(killUserProcessesFrom ?? "logind.conf"))")
        }
        return (nil, "no logind.conf file sets KillUserProcesses=, so only logind's compiled-in default decides"
                + (shippedDefault.map { " (the shipped logind.conf shows #KillUserProcesses=\($0 ? "yes" : "no"))" } ?? ""))
    }
}

/// Where a cgroup path sits in systemd's tree (systemd.special(7), systemd-logind(8)):
/// `/user.slice/user-1000.slice/session-3.scope/…` is logind session 3 of uid 1000;
/// `/user.slice/user-1000.slice/user@1000.service/…` is uid 1000's user manager.
public struct CgroupPlace: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// In logind session `id`'s scope; `scope` is the path up to and including it.
        case session(id: String, scope: [UInt8])
        /// Under the user's manager (`user@UID.service`).
        case userManager
    }

    public var kind: Kind
    public var uid: UInt32

    /// Parses a cgroup path; nil outside `user-UID.slice`.
    public static func of(_ path: [UInt8]) -> CgroupPlace? {
        let parts = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        var uid: UInt32?
        var prefix: [UInt8] = []
        for part in parts {
            prefix += [UInt8(ascii: "/")] + part
            let name = String(decoding: part, as: UTF8.self)
            if name.hasPrefix("user-"), name.hasSuffix(".slice"), let u = UInt32(name.dropFirst(5).dropLast(6)) {
                uid = u
                continue
            }
            guard let u = uid else { continue }
            if name.hasPrefix("session-"), name.hasSuffix(".scope") {
                let id = String(name.dropFirst(8).dropLast(6))
                guard !id.isEmpty else { return nil }
                return CgroupPlace(kind: .session(id: id, scope: prefix), uid: u)
            }
            if name == "user@\(u).service" { return CgroupPlace(kind: .userManager, uid: u) }
        }
        return nil
    }
}
