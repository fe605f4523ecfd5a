import Testing
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

extension TmuxPane {
    /// After the app ended: keypad transmit and every mouse mode are off too (tmux's view of
    /// the modes the app set), besides what `expectRestored` checks.
    func expectModesReset(sourceLocation: SourceLocation = #_sourceLocation) {
        for flag in ["keypad_cursor_flag", "keypad_flag", "mouse_any_flag", "mouse_standard_flag",
                     "mouse_button_flag", "mouse_sgr_flag", "alternate_on"] {
            #expect(display("#{\(flag)}") == "0", "\(flag) is off", sourceLocation: sourceLocation)
        }
    }
}

/// The terminal comes back on every way out but SIGKILL (issue 10, item 2).
@Suite(.serialized) struct TUITmuxRestoreTests {
    init() {
        #expect(access(sessiontopBinary, X_OK) == 0, "build first: swift build")
    }

    /// Ctrl-\ (SIGQUIT) with Swift's backtracer as users have it: a clean quit at once, no
    /// backtrace over the screen, no 30 s wait.
    @Test func ctrlBackslashQuitsCleanly() {
        let pane = TmuxPane(backtrace: nil, command: sessiontopBinary)
        pane.waitForApp()
        let started = monotonicNow()
        pane.keys("C-\\")
        pane.expectRestored(exit: 131)
        #expect(monotonicNow() - started < 5, "no backtracer wait")
        pane.expectModesReset()
        let screen = pane.capture()
        #expect(!screen.contains("Crash") && !screen.contains("Thread 0") && !screen.contains("backtrace"), "\(screen)")
    }

    /// A stack overflow faults on the guard page: only a handler on the alternate stack can run.
    @Test func stackOverflowRestoresTheTerminal() {
        let pane = TmuxPane(backtrace: nil, command: "SESSIONTOP_SELFTEST=stack-overflow " + sessiontopBinary)
        pane.expectRestored(exit: 139)
        pane.expectModesReset()
        #expect(pane.capture().contains("sessiontop: crashed (SIGSEGV); the terminal was restored"))
    }

    @Test func segvAndAbortResetKeypadAndMouse() throws {
        for (how, code) in [("kill-SEGV", Int32(139)), ("segv", 139), ("abort", 134)] {
            let pane = TmuxPane(command: (how.hasPrefix("kill") ? "" : "SESSIONTOP_SELFTEST=\(how) ") + sessiontopBinary)
            if how.hasPrefix("kill") {
                pane.waitForApp()
                #expect(pane.display("#{keypad_cursor_flag}#{mouse_any_flag}") == "11", "modes on while it runs")
                kill(try #require(pane.appPid()), SIGSEGV)
            }
            pane.expectRestored(exit: code)
            pane.expectModesReset()
        }
    }

    /// Signals whose default action would end the app with the terminal raw: each quits cleanly.
    @Test func otherTerminatingSignalsQuitCleanly() throws {
        for sig in [SIGQUIT, SIGUSR1, SIGALRM, SIGPIPE, Int32(34 + 3)] {
            let pane = TmuxPane(command: sessiontopBinary)
            pane.waitForApp()
            kill(try #require(pane.appPid()), sig)
            pane.expectRestored(exit: 128 + sig)
            pane.expectModesReset()
        }
    }
}
