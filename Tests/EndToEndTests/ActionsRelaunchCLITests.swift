import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// `sessiontop relaunch` as a program, against real jobs.
@Suite struct ActionsRelaunchCLITests {
    /// A job of an interactive bash on a real pty is relaunched; then the terminal hangs up.
    /// The copy lives on with the same argv, cwd and environment, in its own session without
    /// a terminal; the original is gone.
    @Test func relaunchABashJobThenHangUp() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let pty = try PseudoTerminal()
        let slave = try pty.openSlave()
        let env = ["PATH=/usr/bin:/bin", "HOME=\(dir)", "TERM=dumb", "PS1=$ ", "MARK=relaunch-\(TextScan.uniqueNumber())"]
        let bash = try Processes.spawn(["bash", "--norc", "--noprofile", "-i"]) {
            $0.newSession = true
            $0.controllingTerminalFD = 0
            $0.fileDescriptors = [(0, slave), (1, slave), (2, slave)]
            $0.environment = env
            $0.workingDirectory = dir
        }
        close(slave)
        defer { pty.closeMaster(); Processes.killAndReap(bash) }
        let seconds = "1000.\(TextScan.uniqueNumber())"
        pty.write("sleep \(seconds) &\n")

        let reader = try SnapshotReader()
        var job: ProcessInfo?
        #expect(waitUntil {
            let snap = reader.snapshot()
            job = (snap.children[bash] ?? []).compactMap { snap.process($0) }
                .first { $0.argv.value?.map { SafeText.display($0) } == ["sleep", seconds] }
            return job != nil
        })
        let original = try #require(job)
        defer { Processes.killAndReap(original.pid) }
        #expect(original.tty == pty.name)
        let originalEnv = try #require(reader.environment(of: original.pid).value)

        let r = try Processes.runSessiontop(["relaunch", "\(original.pid)", "--yes", "--json", "--log", dir + "/job.log", "--timeout", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let newPid = try #require(TextScan.jsonInt(r.stdout, "new_pid"))
        defer { Processes.killAndReap(newPid) }
        #expect(r.stdout.contains("\"original_gone\":true"))
        #expect(r.stdout.contains("its stdin is the terminal /dev/pts/"))

        pty.closeMaster()
        // bash goes with the hangup.
        #expect(Processes.reap(bash, within: 5) != nil)

        let copy = try #require(reader.readProcess(newPid))
        #expect(!copy.state.isGone)
        #expect(copy.argv == original.argv)
        #expect(copy.exe == original.exe)
        #expect(copy.cwdText == dir)
        #expect(reader.environment(of: newPid).value == originalEnv)
        #expect(copy.sid != original.sid && copy.sid != newPid)
        #expect(copy.ttyDevice == 0 && copy.tty == nil)
        #expect(copy.fds.value?.map(\.targetText) == ["/dev/null", dir + "/job.log", dir + "/job.log"])
        // The original is gone (reaped by its bash, or a zombie at most), and it was that very process.
        #expect(Processes.isGone(original.pid) || reader.readProcess(original.pid)?.startTime != original.startTime)
    }

    /// --via tmux: a detached session on its own server; the copy runs in its pane.
    @Test func relaunchIntoTmux() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("actions")
        defer { TempDirectory.remove(dir) }
        let seconds = "1001.\(TextScan.uniqueNumber())"
        let env = ["PATH=/usr/bin:/bin", "MARK=tmux-\(TextScan.uniqueNumber())"]
        let pid = try Processes.spawn(["sleep", seconds]) {
            $0.environment = env
            $0.workingDirectory = dir
            $0.umask = 0o027
        }
        defer { Processes.killAndReap(pid) }
        let socket = "st-actions-\(getpid())-\(TextScan.uniqueNumber())"
        let r = try Processes.runSessiontop(["relaunch", "\(pid)", "--via", "tmux", "--tmux-socket", socket, "--name", "moved",
                         "--yes", "--json", "--timeout", "2"])
        let server = try Processes.run(["/usr/bin/tmux", "-L", socket, "display-message", "-p", "-t", "moved", "#{pid}"])
        defer {
            _ = try? Processes.run(["/usr/bin/tmux", "-L", socket, "kill-server"])
            if let s = Int32(server.stdout.filter { $0.isNumber }) { Processes.reap(s, within: 3) }
        }
        #expect(r.status == 0, "\(r.stderr)")
        let newPid = try #require(TextScan.jsonInt(r.stdout, "new_pid"))
        defer { Processes.killAndReap(newPid) }
        #expect(Processes.termSignal(Processes.reap(pid, within: 3)) == SIGTERM)

        let reader = try SnapshotReader()
        // The pane's sh sets the umask and execs the command.
        #expect(waitUntil { reader.readProcess(newPid)?.commText == "sleep" })
        let copy = try #require(reader.readProcess(newPid))
        #expect(copy.argv.value?.map { SafeText.display($0) } == ["sleep", seconds])
        #expect(copy.cwdText == dir)
        #expect(copy.umask == .known(0o027))
        #expect(copy.tty?.hasPrefix("pts/") == true)
        let copyEnv = reader.environment(of: newPid).value?.map { SafeText.display($0) } ?? []
        for e in env { #expect(copyEnv.contains(e)) }
        let has = try Processes.run(["/usr/bin/tmux", "-L", socket, "has-session", "-t", "moved"])
        #expect(has.status == 0)
    }

    @Test func refusalsAndConfirmation() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        let noTTY = try Processes.runSessiontop(["relaunch", "\(pid)"])
        #expect(noTTY.status == 1)
        #expect(noTTY.stderr == "sessiontop: not a terminal to confirm on: add --yes (or --dry-run to see the plan)\n")
        let dry = try Processes.runSessiontop(["relaunch", "\(pid)", "--dry-run", "--log", "/tmp/st-actions-x.log"])
        #expect(dry.status == 0)
        #expect(dry.stdout.hasPrefix("relaunch pid \(pid) via daemonize — restarts from scratch: a new copy starts, the running state (the work done so far) is lost:\n  run:    sleep 30\n  exe:    /usr/bin/sleep\n"))
        #expect(dry.stdout.contains("stdout+stderr >> /tmp/st-actions-x.log"))
        #expect(Processes.reap(pid, within: 0.05) == nil)
        let initRefused = try Processes.runSessiontop(["relaunch", "1", "--yes"])
        #expect(initRefused.status == 1 && initRefused.stderr == "sessiontop: refusing to relaunch pid 1 (init)\n")
        let kthread = try Processes.runSessiontop(["relaunch", "2", "--yes"])
        #expect(kthread.status == 1 && kthread.stderr.hasPrefix("sessiontop: refusing to relaunch kernel thread 2"))
        if Relauncher.systemdUnavailable() != nil {
            let sd = try Processes.runSessiontop(["relaunch", "\(pid)", "--via", "systemd-run", "--yes"])
            #expect(sd.status == 1)
            #expect(sd.stderr.hasPrefix("sessiontop: systemd-run: ") && sd.stderr.hasSuffix("use --via daemonize or --via tmux\n"))
            #expect(Processes.reap(pid, within: 0.05) == nil)
        }
    }
}
