import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// Relaunch plans and their execution against real processes.
@Suite struct ActionsRelaunchTests {
    @Test func refusesInitKernelThreadsAndSelf() throws {
        let reader = try SnapshotReader()
        #expect(throws: RelaunchRefusal.initProcess) { try Relauncher.plan(pid: 1, reader: reader) }
        #expect(throws: RelaunchRefusal.kernelThread(2)) { try Relauncher.plan(pid: 2, reader: reader) }
        #expect(throws: RelaunchRefusal.sessiontopItself(getpid())) { try Relauncher.plan(pid: getpid(), reader: reader) }
    }

    @Test func refusesZombies() throws {
        let pid = try Processes.spawn(["true"])
        defer { Processes.killAndReap(pid) }
        let reader = try SnapshotReader()
        #expect(waitUntil(timeout: 3) { reader.readProcess(pid)?.state == .zombie })
        #expect(throws: RelaunchRefusal.zombie(pid)) { try Relauncher.plan(pid: pid, reader: reader) }
    }

    @Test func refusesDeletedProgramAndDeletedDirectory() throws {
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let cp = try Processes.spawn(["cp", "/bin/sleep", dir + "/mysleep"])
        #expect(Processes.reap(cp) == 0)
        let a = try Processes.spawn([dir + "/mysleep", "30"])
        defer { Processes.killAndReap(a) }
        mkdir(dir + "/sub", 0o755)
        let b = try Processes.spawn(["sleep", "30"]) { $0.workingDirectory = dir + "/sub" }
        defer { Processes.killAndReap(b) }
        let reader = try SnapshotReader()
        #expect(waitUntil(timeout: 3) { reader.readProcess(a)?.exe.value.map { SafeText.display($0).hasSuffix("mysleep") } == true })
        unlink(dir + "/mysleep")
        rmdir(dir + "/sub")
        #expect(throws: RelaunchRefusal.exeDeleted(dir + "/mysleep")) { try Relauncher.plan(pid: a, reader: reader) }
        #expect(throws: RelaunchRefusal.cwdDeleted(dir + "/sub")) { try Relauncher.plan(pid: b, reader: reader) }
    }

    /// argv, exe, cwd, environ and umask come from /proc; the terminal on stdin and a child
    /// left behind are warned about.
    @Test func planCarriesTheProcessAndWarns() throws {
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let pty = try PseudoTerminal()
        let slave = try pty.openSlave()
        defer { close(slave) }
        let env = ["PATH=/usr/bin:/bin", "A=1", "B=two words", "C="]
        // After `exec`, sleep 31 still has the shell's child sleep 30.
        let pid = try Processes.spawn(["/bin/sh", "-c", "sleep 30 & exec sleep 31"]) {
            $0.environment = env
            $0.workingDirectory = dir
            $0.umask = 0o027
            $0.fileDescriptors = [(0, slave), (1, slave), (2, slave)]
        }
        let reader = try SnapshotReader()
        #expect(waitUntil(timeout: 3) { reader.readProcess(pid)?.commText == "sleep" && !(reader.snapshot().children[pid] ?? []).isEmpty })
        let kids = reader.snapshot().children[pid] ?? []
        defer { Processes.killAndReap(pid); for k in kids { Processes.killAndReap(k) } }

        var options = RelaunchOptions()
        options.logPath = dir + "/out.log"
        let plan = try Relauncher.plan(pid: pid, options: options, reader: reader)
        #expect(plan.arguments == ["sleep", "31"])
        #expect(plan.executable == "/usr/bin/sleep")
        #expect(plan.directory == dir)
        #expect(plan.umask == 0o027)
        // sh exports its own order (and PWD): the same variables, as /proc shows them.
        #expect(Set(plan.environment.filter { !$0.hasPrefix("PWD=") }) == Set(env))
        #expect(plan.environment == (reader.environment(of: pid).value ?? []).map { SafeText.display($0) })
        #expect(plan.endOriginal)
        #expect(plan.warnings.contains { $0.contains("its stdin is the terminal") && $0.contains("/dev/null") })
        #expect(plan.warnings.contains { $0.contains("child process") && $0.contains("left behind") })
        #expect(plan.preview.contains { $0.contains(dir + "/out.log") })
        #expect(plan.preview.contains { $0.contains("SIGTERM to pid \(pid)") })
        let json = String(decoding: plan.json(), as: UTF8.self)
        #expect(json.contains("\"argv\":[\"sleep\",\"31\"]"))
    }

    /// The target's XDG_STATE_HOME, else its HOME, else its password entry's home; root with
    /// none of them gets /var/log/sessiontop; never /tmp.
    @Test func defaultLogIsUnderTheTargetsStateDirectory() {
        let path = Relauncher.defaultLogPath(comm: "sleep", pid: 42, environment: ["XDG_STATE_HOME=/srv/state"], uid: 1234)
        #expect(path?.hasPrefix("/srv/state/sessiontop/sleep-42-") == true)
        #expect(path?.hasSuffix(".log") == true)
        #expect(SafeFile.logDirectory(environment: ["XDG_STATE_HOME=relative", "HOME=/home/ann/"], uid: 1234)
                == "/home/ann/.local/state/sessiontop")
        let rootHome = Daemonizer.lookUpUser("0")?.home ?? "?"
        #expect(SafeFile.logDirectory(environment: ["PATH=/bin"], uid: 0) == rootHome + "/.local/state/sessiontop")
        #expect(SafeFile.logDirectory(environment: ["HOME=/"], uid: 0) == rootHome + "/.local/state/sessiontop")
        // nobody's home is /nonexistent: that is where its state would go, not /tmp.
        #expect(SafeFile.logDirectory(environment: [], uid: 65534)?.hasPrefix("/tmp") == false)
    }

    @Test func systemdRunNeedsSystemd() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        var options = RelaunchOptions()
        options.via = .systemdRun
        let reader = try SnapshotReader()
        if let why = Relauncher.systemdUnavailable() {
            #expect(throws: RelaunchRefusal.systemdNotRunning(why)) { try Relauncher.plan(pid: pid, options: options, reader: reader) }
        } else {
            let plan = try Relauncher.plan(pid: pid, options: options, reader: reader)
            #expect(plan.launcher.starts(with: ["systemd-run", "--user"]))
        }
    }

    /// The TUI path: plan, execute, the copy runs detached and the original got SIGTERM.
    @Test func executeStartsTheCopyAndEndsTheOriginal() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let env = ["PATH=/usr/bin:/bin", "MARK=relaunch-core-\(getpid())"]
        let pid = try Processes.spawn(["sleep", "41.5"]) { $0.environment = env; $0.workingDirectory = dir; $0.umask = 0o077 }
        defer { Processes.killAndReap(pid) }
        let reader = try SnapshotReader()
        var options = RelaunchOptions()
        options.logPath = dir + "/logs/sleep.log"
        let plan = try Relauncher.plan(pid: pid, options: options, reader: reader)
        let outcome = try Relauncher.execute(plan)
        let newPid = try #require(outcome.newPid)
        defer { Processes.killAndReap(newPid) }
        #expect(Processes.termSignal(Processes.reap(pid)) == SIGTERM)
        #expect(outcome.ended.count == 1 && outcome.ended[0].allSent)
        let p = try #require(reader.readProcess(newPid))
        #expect(p.argv.value?.map { SafeText.display($0) } == ["sleep", "41.5"])
        #expect(p.cwdText == dir)
        #expect(p.umask == .known(0o077))
        #expect(reader.environment(of: newPid).value?.map { SafeText.display($0) } == env)
        #expect(p.sid != newPid && p.sid != getsid(0) && p.ttyDevice == 0)
        #expect(p.fds.value?.map(\.targetText) == ["/dev/null", dir + "/logs/sleep.log", dir + "/logs/sleep.log"])
    }

    /// An original that ignores SIGTERM gets SIGKILL after the timeout.
    @Test func killsAfterTheTimeoutWhenTermIsIgnored() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let pid = try Processes.spawn(["sleep", "42.5"]) { $0.ignoredSignals = [SIGTERM] }
        defer { Processes.killAndReap(pid) }
        var options = RelaunchOptions()
        options.logPath = dir + "/sleep.log"
        options.termTimeout = 0.3
        let plan = try Relauncher.plan(pid: pid, options: options, reader: try SnapshotReader())
        let outcome = try Relauncher.execute(plan)
        if let n = outcome.newPid { Processes.killAndReap(n) }
        #expect(outcome.ended.map(\.signal) == [Signals.term, Signals.kill])
        #expect(outcome.originalGone)
        #expect(Processes.termSignal(Processes.reap(pid)) == SIGKILL)
    }
}

extension ActionsRelaunchTests {
    /// keep: the copy starts and the original is left alone.
    @Test func keepLeavesTheOriginalRunning() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let pid = try Processes.spawn(["sleep", "43.5"])
        defer { Processes.killAndReap(pid) }
        var options = RelaunchOptions()
        options.keep = true
        options.logPath = dir + "/k.log"
        let plan = try Relauncher.plan(pid: pid, options: options, reader: try SnapshotReader())
        #expect(!plan.endOriginal)
        #expect(plan.preview.contains("  then:   keep the original running"))
        let outcome = try Relauncher.execute(plan)
        let newPid = try #require(outcome.newPid)
        defer { Processes.killAndReap(newPid) }
        #expect(outcome.ended.isEmpty && !outcome.originalGone)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, WNOHANG) == 0)
        #expect(try SnapshotReader().readProcess(newPid)?.argv.value?.map { SafeText.display($0) } == ["sleep", "43.5"])
    }
}

extension ActionsRelaunchTests {
    /// Planning (only) the relaunch of our own parent warns that it is an ancestor.
    @Test func warnsAboutRelaunchingAnAncestor() throws {
        let plan = try Relauncher.plan(pid: getppid(), reader: try SnapshotReader())
        #expect(plan.warnings.contains { $0.hasPrefix("it is an ancestor of this sessiontop") })
    }
}
