import Testing
import Glibc
import TestSupport
import SessionCore

/// One cell of the matrix: a shell, an event, and which batch of scenarios.
struct RealityCase: Sendable, CustomTestStringConvertible {
    var shell: ShellUnderTest
    var event: HangupEvent
    /// `.background`: every background scenario (plus the foreground job, except for logout);
    /// `.foregroundReader`: the foreground reader that ignores HUP, alone.
    var part: Part
    var testDescription: String { "\(shell.rawValue) × \(event.rawValue) × \(part.rawValue)" }

    static let all: [RealityCase] = {
        var out: [RealityCase] = []
        for shell in ShellUnderTest.allCases {
            for event in shell.events {
                out.append(RealityCase(shell: shell, event: event, part: .background))
                if shell.isInteractive && event != .logout {
                    out.append(RealityCase(shell: shell, event: event, part: .foregroundReader))
                }
            }
        }
        return out
    }()

    var scenarios: [(index: Int, scenario: Scenario)] {
        Scenarios.all.enumerated().compactMap { i, s in
            switch part {
            case .background:
                if s.part == .background || (s.part == .foregroundJob && event != .logout) { return (i, s) }
            default:
                if s.part == part { return (i, s) }
            }
            return nil
        }
    }
}

/// What happened to one process, next to what was predicted.
struct RealityRow: Sendable {
    var scenario: String
    var pid: Int32
    var command: String
    var comm: String
    var predicted: Verdict
    var dead: Bool
    /// In the session the event happens to (the naive predictor kills exactly these).
    var inSession: Bool
    /// Its scenario's program ends by itself on a dead terminal (see `Scenario`).
    var endsOnDeadTerminal = false

    /// dies ↔ dead; survives / unaffected ↔ alive; at-risk ↔ alive, or dead for a program that
    /// ends by itself on a dead terminal (at-risk says "what it does then is up to the program").
    var matches: Bool {
        switch predicted.fate {
        case .dies: return dead
        case .atRisk: return !dead || endsOnDeadTerminal
        default: return !dead
        }
    }
    /// A mismatch is tolerated only when the prediction said it was uncertain, and why.
    var tolerated: Bool {
        !matches && !predicted.certain && predicted.reasons.contains { $0.hasPrefix("uncertain") }
    }

    /// The battery's figures: a certain verdict is right or wrong; `certain: false` is hedged.
    enum Outcome: String { case right, hedged, wrong }
    var outcome: Outcome { !predicted.certain ? .hedged : (matches ? .right : .wrong) }

    static func short(_ v: Verdict) -> String {
        var s = v.fate.rawValue
        if let by = v.by { s += "(\(by.rawValue))" }
        if !v.certain { s += "?" }
        return s
    }
}

@Suite(.timeLimit(.minutes(3)))
struct HangupRealityTests {
    /// Predict, do the event for real, compare process by process.
    @Test(arguments: RealityCase.all)
    func predictionMatchesReality(_ c: RealityCase) throws {
        Processes.becomeSubreaper()
        let token = "8" + String(UInt32.random(in: 1_000_000...9_999_999))
        let lab = try HangupLab(shell: c.shell, token: token)
        defer { lab.cleanup() }
        let (rows, memory) = try run(c, lab)
        let naive = naiveMismatches(rows)

        lab.recordMismatches(rows, c.testDescription)
        // bash and zsh: their job table is read from memory and trusted, and then nothing is
        // hedged but a real race.
        if c.shell.memoryReadable && c.shell.isInteractive {
            #expect(memory?.trusted == true, "\(c.testDescription): shell memory not used: \(memory?.reason ?? "not read")")
            lab.recordHedgesBeyondRaces(rows, c.testDescription)
        }
        // The leader is gone after every event.
        #expect(rows.contains { $0.scenario == "leader" && $0.dead })
        // "Everything in the session dies" fails on this batch: the nohup job, the blocked or
        // handled HUP etc. survive in reality.
        if c.part == .background { #expect(naive > 0, "the naive predictor would pass \(c.testDescription)") }
        writeTable(c.shell.rawValue, c.event, rows)
    }

    /// The naive predictor, "every process of the session dies, certainly", against the same
    /// real outcomes: the number of processes it gets wrong.
    func naiveMismatches(_ rows: [RealityRow]) -> Int {
        rows.filter { $0.inSession && !$0.dead }.count
    }

    func run(_ c: RealityCase, _ lab: HangupLab) throws -> ([RealityRow], ShellMemory?) {
        let scen: [HangupLab.Typed] = c.scenarios.compactMap { i, s in s.command(c.shell.syntax, lab.marker(i)).map { (i, s, $0) } }
        if c.shell == .bashC {
            let script = scen.map { $0.2 }.joined(separator: "\n") + "\nread x\n"
            try lab.start(script: script)
        } else {
            try lab.start()
            try #require(lab.sync("READY"), "shell did not start: \(tail(lab.output))")
            if let setup = c.shell.setup { lab.type(setup) }
            for (_, s, cmd) in scen where s.part == .background { lab.type(cmd) }
            try #require(lab.sync("SYNCED"), "shell did not run the scenarios: \(tail(lab.output))")
            for (_, s, cmd) in scen where s.part != .background { lab.type(cmd) }
        }

        try lab.waitForScenarios(scen)
        if c.shell != .bashC && !scen.contains(where: { $0.1.part != .background }) {
            try #require(lab.sync("STILL"), "shell stopped answering: \(tail(lab.output))")
        }

        let snap = try SnapshotReader().snapshot()
        let predicted = HangupAnalysis.analyze(snap, session: lab.leader, event: c.event)
        let tracked = lab.tracked(in: snap)
        try #require(tracked.contains { $0.pid == lab.leader })

        // The event, for real.
        switch c.event {
        case .hangup:
            lab.pty.closeMaster()
        case .leaderExit:
            kill(lab.leader, SIGKILL)
        case .logout:
            // `exit` (again if refused), then the terminal goes away: sshd closes the pty when
            // the session's shell exits, a terminal window closes (docs/hangup.md).
            try lab.logOut(script: c.shell == .bashC)
        }

        let alive = lab.watchUntilSettled(tracked)
        return (lab.rows(tracked, snap: snap, predicted: predicted, alive: alive, scen: scen), snap.shellMemory[lab.leader])
    }
}

/// Appends one case's rows to `$HANGUP_TABLE` (scripts/hangup-table.py turns them into the table
/// and the figures of docs/hangup.md): scenario, shell, event, predicted, actual, mark, and the
/// count of right / hedged / wrong verdicts.
func writeTable(_ shell: String, _ event: HangupEvent, _ rows: [RealityRow]) {
        guard let path = getenv("HANGUP_TABLE").map({ String(cString: $0) }), !path.isEmpty else { return }
        var byScenario: [String: [RealityRow]] = [:]
        var order: [String] = []
        for r in rows.sorted(by: { $0.pid < $1.pid }) {
            if byScenario[r.scenario] == nil { order.append(r.scenario) }
            byScenario[r.scenario, default: []].append(r)
        }
        var text = ""
        for s in order {
            let rs = byScenario[s]!
            let pred = rs.map { RealityRow.short($0.predicted) }.joined(separator: ", ")
            let act = rs.map { $0.dead ? "dead" : "alive" }.joined(separator: ", ")
            let mark = rs.allSatisfy(\.matches) ? "ok" : (rs.allSatisfy { $0.matches || $0.tolerated } ? "uncertain, differs" : "MISMATCH")
            let n = { (o: RealityRow.Outcome) in rs.filter { $0.outcome == o }.count }
            text += "| \(s) | \(shell) | \(event.rawValue) | \(pred) | \(act) | \(mark) | \(n(.right)) | \(n(.hedged)) | \(n(.wrong)) |\n"
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
}

func tail(_ bytes: [UInt8], _ n: Int = 600) -> String {
    SafeText.display(Array(bytes.suffix(n)))
}
