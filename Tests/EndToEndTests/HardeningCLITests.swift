import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// Small things of issue 10 (item 7): what the CLI says back to the user.
@Suite struct HardeningCLITests {
    /// User input with a newline comes back escaped: every error stays one line.
    @Test func echoedInputIsEscaped() throws {
        let cases: [([String], String)] = [
            (["signal", "-s", "TE\nRM", "--pid", "1"], "sessiontop: unknown signal: TE\\nRM\n"),
            (["snapshot", "--user", "no\nbody"], "sessiontop: no user named no\\nbody\n"),
            (["snapshot", "--tty", "pts/\u{1b}[2J9"], "sessiontop: no session has pts/\\x1b[2J9 as its controlling terminal\n"),
            (["hangup", "--event", "hang\nup"], "sessiontop: unknown event 'hang\\nup': use hangup, leader-exit or logout\n"),
            (["daemonize", "-E", "A\nB", "--", "true"], "sessiontop: bad environment setting 'A\\nB': expected NAME=VALUE\n"),
            (["daemonize", "-m", "0\n22", "--", "true"], "sessiontop: bad umask: 0\\n22 (octal, e.g. 022)\n"),
        ]
        for (args, expected) in cases {
            let r = try Processes.runSessiontop(args)
            // A bad signal name or event is a usage error (64, as the parser's own); the rest 1.
            #expect(r.status == (["signal", "hangup"].contains(args[0]) ? 64 : 1), "\(args)")
            #expect(r.stderr == expected, "\(args)")
        }
    }

    /// A thread id is not a process: said so, with the process it belongs to, and nothing is sent.
    @Test func signallingAThreadNamesItsProcess() throws {
        let pid = try Processes.spawn(["python3", "-c", "import threading, time\nthreading.Thread(target=time.sleep, args=(1009,)).start()\ntime.sleep(1009)"])
        defer { Processes.killAndReap(pid) }
        let reader = try SnapshotReader()
        var tid: Int32 = 0
        #expect(waitUntil {
            tid = (try? reader.proc.listNumeric(dirfd: reader.proc.rootFD, "\(pid)/task").get())?.first { $0 != pid } ?? 0
            return tid > 0
        })
        let r = try Processes.runSessiontop(["signal", "-s", "TERM", "--pid", "\(tid)"])
        #expect(r.status == 1)
        #expect(r.stderr == "sessiontop: pid \(tid) is a thread of process \(pid): signal the process (--pid \(pid))\n")
        #expect(r.stdout.isEmpty)
        #expect(Processes.reap(pid, within: 0.2) == nil, "the process still runs")
        let json = try Processes.runSessiontop(["signal", "-s", "TERM", "--pid", "\(tid)", "--json"])
        #expect(json.status == 1 && json.stdout.contains("\"refused\":\"pid \(tid) is a thread of process \(pid): signal the process (--pid \(pid))\""))
    }
}
