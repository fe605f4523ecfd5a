import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// logind's configuration read from fixture trees (systemd does not run here): the main file,
/// drop-ins in systemd's precedence, linger files and session files.
@Suite struct LogindPolicyTests {
    static func tree(_ files: [String: String], dirs: [String] = []) throws -> String {
        let root = try TempDirectory.make("logind")
        for (path, text) in files {
            let full = root + "/" + path
            let parent = String(full[..<full.lastIndex(of: "/")!])
            #expect(try Processes.run(["/bin/mkdir", "-p", parent]).status == 0)
            try write(full, text)
        }
        for d in dirs { #expect(try Processes.run(["/bin/mkdir", "-p", root + "/" + d]).status == 0) }
        return root
    }

    @Test func precedenceAndLists() throws {
        let root = try Self.tree([
            "etc/systemd/logind.conf": "[Login]\n#KillUserProcesses=no\nKillOnlyUsers=ann bob\n",
            // The same name in /usr/lib is hidden by /etc's.
            "usr/lib/systemd/logind.conf.d/50-kill.conf": "[Login]\nKillUserProcesses=no\n",
            "etc/systemd/logind.conf.d/50-kill.conf": "[Login]\nKillUserProcesses=yes\n",
            // Applied after 50-: the empty assignment resets the list, then adds carl.
            "run/systemd/logind.conf.d/60-only.conf": "[Login]\nKillOnlyUsers=\nKillOnlyUsers=carl\n# KillExcludeUsers=zed\n",
            "usr/lib/systemd/logind.conf.d/70-exclude.conf": "[Other]\nKillExcludeUsers=nope\n[Login]\nKillExcludeUsers=dan\n",
            "var/lib/systemd/linger/ann": "",
            "run/systemd/sessions/7": "UID=1000\nUSER=ann\nLEADER=4242\nSCOPE=session-7.scope\n",
            "run/systemd/sessions/7.ref": "",
        ])
        defer { TempDirectory.remove(root) }
        let p = LogindPolicyReader.read(root: root)
        #expect(p.killUserProcesses == true && p.killUserProcessesFrom == root + "/etc/systemd/logind.conf.d/50-kill.conf")
        #expect(p.shippedDefault == false)
        #expect(p.killOnlyUsers == ["carl"] && p.killExcludeUsers == ["dan"])
        #expect(p.lingering == ["ann"] && p.sessionLeaders == ["7": 4242])
        #expect(p.files == [root + "/etc/systemd/logind.conf", root + "/etc/systemd/logind.conf.d/50-kill.conf",
                            root + "/run/systemd/logind.conf.d/60-only.conf", root + "/usr/lib/systemd/logind.conf.d/70-exclude.conf"])
        #expect(p.shallKill(user: "carl").kill == true && p.shallKill(user: "ann").kill == false)
        #expect(p.shallKill(user: "dan").kill == false)
        // KillExcludeUsers= is set, so root is no longer spared by default; KillOnlyUsers decides.
        #expect(p.shallKill(user: "root") == (false, "KillOnlyUsers= does not name root"))
    }

    @Test func nothingSetLeavesTheCompiledDefault() throws {
        let root = try Self.tree(["usr/lib/systemd/logind.conf": "[Login]\n#KillUserProcesses=no\n"])
        defer { TempDirectory.remove(root) }
        let p = LogindPolicyReader.read(root: root)
        #expect(p.killUserProcesses == nil && p.shippedDefault == false)
        let (kill, why) = p.shallKill(user: "ann")
        #expect(kill == nil && why.contains("compiled-in default") && why.contains("#KillUserProcesses=no"))
        #expect(p.shallKill(user: "root").kill == false)
        // No tree at all: nothing set, nothing found.
        var empty = LogindPolicyReader.read(root: root + "/absent")
        #expect(empty.dbusNote?.hasPrefix("no system bus") == true && !empty.fromDBus)
        empty.dbusNote = nil
        #expect(empty == LogindPolicy())
    }
}

/// The CLI on a fixture /proc tree whose processes sit in a logind session scope, with a
/// fixture logind configuration: the logout verdict names logind.
@Suite struct LogindCLITests {
    @Test func logoutKillsTheScopeWithKillUserProcesses() throws {
        let proc = try TempDirectory.make("logind-proc")
        defer { TempDirectory.remove(proc) }
        #expect(try Processes.run(["sh", "-c", "cp -a '\(PackagePaths.fixtures)/basic/.' '\(proc)'"]).status == 0)
        for pid in ["100", "200", "300", "301", "700"] {
            try write("\(proc)/\(pid)/cgroup", "0::/user.slice/user-1000.slice/session-5.scope\n")
        }
        // logind keeps session 5 (so cgroups are worth reading) and KillUserProcesses=yes.
        let config = try LogindPolicyTests.tree(["etc/systemd/logind.conf.d/kill.conf": "[Login]\nKillUserProcesses=yes\n",
                                                 "run/systemd/sessions/5": "LEADER=1\n"])
        defer { TempDirectory.remove(config) }
        let r = try Processes.runSessiontop(["hangup", "--event", "logout", "--tty", "pts/3", "--json",
                                             "--proc-root", proc, "--config-root", config])
        #expect(r.status == 0, "\(r.stderr)")
        // backupd (pid 700, its own session, no terminal) is in the scope: logind stops it.
        #expect(r.stdout.contains("{\"pid\":700,\"sid\":700,\"pgid\":700,\"command\":\"backupd --daemon\",\"verdict\":{\"fate\":\"dies\",\"by\":\"logind\",\"certain\":true"))
        #expect(r.stdout.contains("KillUserProcesses=yes (\(config)/etc/systemd/logind.conf.d/kill.conf)"))
        let s = try Processes.runSessiontop(["snapshot", "--json", "--pid", "100", "--proc-root", proc, "--config-root", config])
        #expect(s.stdout.contains("\"cgroup\":\"/user.slice/user-1000.slice/session-5.scope\""))
        // Without a setting, the verdict is hedged and says why.
        let bare = try LogindPolicyTests.tree(["run/systemd/sessions/5": "LEADER=1\n"])
        defer { TempDirectory.remove(bare) }
        let h = try Processes.runSessiontop(["hangup", "--event", "logout", "--tty", "pts/3", "--proc-root", proc, "--config-root", bare])
        #expect(h.status == 0 && h.stdout.contains("uncertain: no logind.conf file sets KillUserProcesses="), "\(h.stdout)")
        // Where logind keeps no sessions, cgroups are not read and no logind rule applies.
        let none = try LogindPolicyTests.tree(["etc/systemd/logind.conf.d/kill.conf": "[Login]\nKillUserProcesses=yes\n"])
        defer { TempDirectory.remove(none) }
        let n = try Processes.runSessiontop(["hangup", "--event", "logout", "--tty", "pts/3", "--json", "--proc-root", proc, "--config-root", none])
        #expect(n.status == 0 && !n.stdout.contains("logind"))
    }
}
