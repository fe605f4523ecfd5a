import Testing
import Glibc
import TestSupport
import SessionCore

/// The hangup analysis against a real OpenSSH login: a private `sshd -D` on 127.0.0.1,
/// `ssh -tt` into a login bash, jobs typed at its prompt, then the connection dropped (the
/// client killed) or `exit` typed; every verdict is compared with what really happened.
@Suite(.timeLimit(.minutes(3)))
struct HangupSSHTests {
    enum Ending: String, CaseIterable, CustomTestStringConvertible, Sendable {
        /// The client is SIGKILLed: sshd sees the connection close and closes the pty.
        case drop
        /// `exit` typed (again if refused): sshd closes the pty once the shell is gone.
        case exit
        /// `shopt -s huponexit` typed first, then `exit`: the login bash hangs up its jobs.
        case exitHuponexit = "exit+huponexit"
        var testDescription: String { rawValue }
        var event: HangupEvent { self == .drop ? .hangup : .logout }
    }

    /// The background scenarios of the lab, in bash syntax.
    static let scenarios: [(Int, Scenario)] = Scenarios.all.enumerated().filter { $0.element.part == .background }.map { ($0.offset, $0.element) }

    @Test(arguments: Ending.allCases)
    func sshLoginMatchesReality(_ ending: Ending) throws {
        Processes.becomeSubreaper()
        let sshd = try PrivateSSHD()
        defer { sshd.stop() }
        try sshd.start()
        let token = "9" + String(UInt32.random(in: 1_000_000...9_999_999))
        let lab = try HangupLab(shell: .bashLogin, token: token)
        let client = try lab.startClient(sshd.clientArgv)
        defer {
            Processes.killAndReap(client)
            lab.cleanup()
        }
        try #require(lab.sync("LOGGEDIN", timeout: 20), "no login: \(tail(lab.output)) \(Files.read(sshd.dir + "/sshd.log") ?? "")")
        lab.type("echo SHELL''PID=$$")
        try #require(lab.sync("PIDSHOWN"))
        let shown = try #require(Self.shellPid(lab.output), "no pid in \(tail(lab.output))")
        lab.adopt(leader: shown)
        // Keep the login's traces (nohup.out, history) in the lab's temp dir, not in ~.
        lab.type("unset HISTFILE; cd \(lab.home)")

        if ending == .exitHuponexit { lab.type("shopt -s huponexit") }
        let scen: [HangupLab.Typed] = Self.scenarios.compactMap { i, s in s.command(.bash, lab.marker(i)).map { (i, s, $0) } }
        for (_, _, cmd) in scen { lab.type(cmd) }
        try #require(lab.sync("SYNCED"), "the login shell did not run the scenarios: \(tail(lab.output))")
        try lab.waitForScenarios(scen)
        try #require(lab.sync("STILL"))
        // A login's own prompt hooks (PROMPT_COMMAND from ~/.bashrc) run after each prompt: let
        // them finish, so only the scenarios' processes are compared.
        try lab.waitForScenarios(scen)

        let snap = try SnapshotReader().snapshot()
        let leader = try #require(snap.processes[shown])
        // A real login: sshd started `-bash` as a session leader on a pty of its own.
        #expect(leader.isSessionLeader && leader.argv.value?.first == Array("-bash".utf8))
        #expect(snap.processes[leader.ppid]?.commText.hasPrefix("sshd") == true)
        let predicted = HangupAnalysis.analyze(snap, session: shown, event: ending.event)
        let tracked = lab.tracked(in: snap)
        try #require(tracked.contains { $0.pid == shown })

        switch ending {
        case .drop:
            Processes.killAndReap(client)
        case .exit, .exitHuponexit:
            lab.type("exit")
            let t = monotonicSeconds()
            while monotonicSeconds() - t < 1.5 && !lab.leaderDead() { lab.pump(0.05) }
            if !lab.leaderDead() { lab.type("exit") }
        }
        let alive = lab.watchUntilSettled(tracked)
        let rows = lab.rows(tracked, snap: snap, predicted: predicted, alive: alive, scen: scen)
        lab.recordMismatches(rows, "ssh × \(ending.rawValue)")
        #expect(snap.shellMemory[shown]?.trusted == true, "\(snap.shellMemory[shown]?.reason ?? "not read")")
        lab.recordHedgesBeyondRaces(rows, "ssh × \(ending.rawValue)")
        #expect(rows.contains { $0.scenario == "leader" && $0.dead })
        // Not every process died: the nohup job, the setsid job … live on.
        #expect(rows.contains { $0.inSession && !$0.dead })
        writeTable(ending == .exitHuponexit ? "ssh-login-bash+huponexit" : "ssh-login-bash", ending.event, rows)
    }

    /// `SHELLPID=123` in the terminal output (the echo of the typed line shows `SHELL''PID`).
    static func shellPid(_ out: [UInt8]) -> Int32? {
        let text = String(decoding: out, as: UTF8.self)
        let parts = text.split(separator: "SHELLPID=", omittingEmptySubsequences: false)
        guard parts.count > 1, let last = parts.last else { return nil }
        return Int32(String(last.prefix { $0.isNumber }))
    }
}
