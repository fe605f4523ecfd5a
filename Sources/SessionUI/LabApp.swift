@preconcurrency import CCurses
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

/// The host of `sessiontop lab` inside its tmux pane: the inspector's loop (App.run), pinned
/// to the lab terminal's session, with the lesson strip, and a LabHost that runs the lab's
/// effects and looks at the watched processes every 100 ms while an event is watched.
public enum LabApp {
    public static func run(_ options: AppOptions, lab labOptions: LabOptions) throws(App.Failure) -> Int32 {
        let reader: SnapshotReader
        do { reader = try SnapshotReader(root: "/proc") } catch { throw .cannotOpen(error.description) }
        guard let term = getenv("TERM").map({ String(cString: $0) }), !term.isEmpty else { throw .noTerminalType }
        cc_install_crash_restore()
        let quitFD = cc_install_quit_pipe()
        let terminal: Terminal
        do { terminal = try Terminal(term: term, wantColor: options.color) } catch { throw .unknownTerminal(term) }
        defer { terminal.stop() }
        cc_arm_restore()

        var snap = reader.snapshot(options: ScanOptions(details: .only([reader.selfPid])))
        let size = terminal.size
        var state = AppState(snapshot: snap, width: size.width, height: size.height, color: terminal.color,
                             unicode: terminal.utf8, interval: options.interval, myUID: getuid(), analysisPending: true)
        state.lab = LabState(shell: labOptions.shell)
        state.pinnedSid = -1  // nothing listed until the lab terminal is known
        state.now = App.monotonic()
        state.rebuildRows()
        let actions = ActionHost(reader: reader, live: true)
        let host = LabHost(options: labOptions, reader: reader)
        var screen = Screen(width: size.width, height: size.height)
        render(state, into: &screen)
        terminal.draw(screen)

        var nextScan = App.monotonic()
        var cursor = 0
        var exitCode: Int32 = 0

        func perform(_ effects: [Effect]) -> Bool {
            var queue = effects
            while !queue.isEmpty {
                let effect = queue.removeFirst()
                switch effect {
                case .quit: return true
                case .refreshNow: nextScan = 0
                case .lab(let e):
                    for ev in host.perform(e, state: state) {
                        state.now = App.monotonic()
                        queue += update(&state, ev)
                    }
                default:
                    if let result = actions.perform(effect, snapshot: snap) {
                        state.now = App.monotonic()
                        queue += update(&state, result)
                    }
                }
            }
            return false
        }
        for ev in host.start() { _ = perform(update(&state, ev)) }

        loop: while true {
            let now = App.monotonic()
            var wait = max(0, Int32(((nextScan - now) * 1000).rounded(.up)))
            if host.busy { wait = min(wait, 100) }
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: quitFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: actions.wakeFD, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, 3, wait)
            var dirty = false
            if n > 0 && fds[1].revents & Int16(POLLIN) != 0 {
                var b: UInt8 = 0
                _ = read(quitFD, &b, 1)
                exitCode = 128 + Int32(b)
                break loop
            }
            if n > 0 && fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 && fds[0].revents & Int16(POLLIN) == 0 {
                exitCode = 1
                break loop
            }
            for ev in terminal.readEvents() + actions.takeEvents() + host.tick() {
                dirty = true
                state.now = App.monotonic()
                if perform(update(&state, ev)) { break loop }
            }
            if host.busy { state.now = App.monotonic(); dirty = true }
            if App.monotonic() >= nextScan {
                var pids = App.detailPids(state, cursor: &cursor)
                // Every member of the lab session, fresh every tick: the checks read their
                // signal masks, fds and the shell's memory.
                if let sid = state.lab?.leader, let s = state.snapshot.session(sid) {
                    for g in s.groups { pids.formUnion(g.members) }
                }
                var opts = ScanOptions(details: .refresh(pids, previous: snap))
                opts.statusWithDetails = true
                if state.detailOpen, let p = state.selectedProcess { opts.fdInfoFor = [p.pid] }
                snap = reader.snapshot(options: opts)
                if perform(update(&state, .snapshot(snap, now: App.monotonic()))) { break loop }
                nextScan = App.monotonic() + state.interval
                dirty = true
            }
            if dirty {
                render(state, into: &screen)
                terminal.draw(screen)
            }
        }
        return exitCode
    }
}
