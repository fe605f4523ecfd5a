import Testing
@testable import SessionCore

/// Text for people (issue 11): wrapping at word boundaries with a hanging indent, citations
/// moved to the end, identical reason chains grouped.
@Suite struct TextWrapTests {
    @Test func wrapsAtWordBoundariesWithAHangingIndent() {
        let text = "bash sends SIGHUP to job %1 (group 1200), which its job table shows running; it neither ignores, blocks nor catches HUP"
        let lines = TextWrap.wrap(text, width: 40, indent: 2, hang: 6)
        #expect(lines.allSatisfy { $0.count <= 40 })
        #expect(lines[0].hasPrefix("  bash sends"))
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("      ") && !$0.hasPrefix("       ") })
        // No word is ever cut: joined back, the words are the same.
        let words = lines.flatMap { $0.split(separator: " ") }.map(String.init)
        #expect(words == text.split(separator: " ").map(String.init))
        // Runs of spaces inside a line are kept; a word longer than a line is cut.
        #expect(TextWrap.wrap("1234  sleep 5", width: 80) == ["1234  sleep 5"])
        let long = TextWrap.wrap(String(repeating: "x", count: 25), width: 10)
        #expect(long == ["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx"])
        #expect(TextWrap.wrap("", width: 10) == [""])
        for w in [1, 2, 5] { _ = TextWrap.wrap("a bb ccc dddd", width: w, indent: 4, hang: 8) }
    }

    @Test func citationsComeOut() {
        let (t, c) = TextWrap.splitCitations("the tty layer sends SIGHUP (tty_jobctrl.c tty_signal_session_leader); see setsid (setsid(2)) (SigCgt holds HUP)")
        #expect(t == "the tty layer sends SIGHUP; see setsid (SigCgt holds HUP)")
        #expect(c == ["tty_jobctrl.c tty_signal_session_leader", "setsid(2)"])
        let none = TextWrap.splitCitations("job %1 (group 12) (read from its memory)")
        #expect(none.citations.isEmpty && none.text == "job %1 (group 12) (read from its memory)")
        for junk in ["(", ")", "((", "(a.c", "x (y(1)", "()"] { _ = TextWrap.splitCitations(junk) }
    }

    @Test func hangupTextGroupsIdenticalChains() {
        var procs: [Int32: ProcessInfo] = [:]
        func p(_ pid: Int32, _ pgid: Int32, _ argv: String) -> ProcessInfo {
            ProcessInfo(pid: pid, ppid: 100, pgid: pgid, sid: 100, tpgid: 100, state: ProcessState(letter: UInt8(ascii: "S")),
                        comm: Array(argv.utf8.prefix(15)), argv: .known(argv.split(separator: " ").map { Array($0.utf8) }),
                        exe: .unknown(.notRead), uid: 0, euid: 0, gid: 0, egid: 0, user: "root", startTime: UInt64(pid), threads: 1,
                        ttyDevice: 136 << 8, tty: "pts/0", cwd: .unknown(.notRead), umask: .unknown(.notRead), fds: .known([]),
                        signals: SignalDispositions(), isKernelThread: false, cpuTicks: 0, rssBytes: 0)
        }
        procs[100] = p(100, 100, "-bash")
        for (i, pid) in [201, 202, 203].enumerated() { procs[Int32(pid)] = p(Int32(pid), Int32(pid), "sleep 90\(i)") }
        let snap = Snapshot(processes: procs, selfPid: 1)
        var v: [Int32: Verdict] = [100: Verdict(fate: .dies, by: .kernel, reasons: ["the tty layer sends SIGHUP to the session leader (tty_jobctrl.c tty_signal_session_leader)"])]
        for (n, pid) in [201, 202, 203].enumerated() {
            v[Int32(pid)] = Verdict(fate: .dies, by: .shell, reasons: ["bash sends SIGHUP to job %\(n + 1) (group \(pid)), which its job table shows running (jobs.c hangup_all_jobs); the default action ends it"])
        }
        let text = HangupReport.text(snap, session: snap.sessions[0], event: .hangup, verdicts: v, width: 80)
        #expect(text.contains("3 processes in 3 jobs (%1, %2, %3):  [by shell]"))
        // Said once, generic, citation at the end in brackets.
        #expect(text.components(separatedBy: "bash sends SIGHUP to job").count == 2)
        #expect(text.contains("job %N (group N)"))
        #expect(text.contains("[jobs.c hangup_all_jobs]"))
        #expect(!text.contains("(jobs.c hangup_all_jobs)"))
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 80 })
        for pid in [201, 202, 203] { #expect(text.contains("      \(pid)  sleep")) }
    }
}
