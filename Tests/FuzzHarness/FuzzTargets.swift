import SessionCore
import SessionUI
#if canImport(Glibc)
import Glibc
#endif

/// One thing fed arbitrary bytes: a pure parser, or `SnapshotReader` (and everything after
/// it) over a tree made from the bytes. `run` returns the broken invariants (empty: fine); a
/// crash or a hang is a finding too. The fuzzer (`Fuzz/`, `scripts/fuzz`) and the regression
/// test (`FuzzRegressionTests`, which replays `Tests/Fixtures/fuzz/<name>/*`) share this list.
public struct FuzzTarget: Sendable {
    /// Where the seed corpus comes from.
    public enum Seeds: Sendable {
        /// These files of a fixture tree (the predicate gets the path relative to the tree);
        /// a symlink gives its target.
        case files(@Sendable (String) -> Bool)
        /// The whole fixture tree as one `FuzzTree` input.
        case tree
        case literals([String])
        /// Byte strings made by code (an encoded message).
        case made(@Sendable () -> [[UInt8]])
        /// Files of this machine (a small ELF executable, /proc/self/maps).
        case systemFiles([String])

        /// A file named `name`, anywhere in the tree.
        public static func named(_ name: String) -> Seeds {
            .files { $0 == name || $0.hasSuffix("/" + name) }
        }
    }

    public let name: String
    public let seeds: Seeds
    /// libFuzzer's -max_len for it.
    public let maxLength: Int
    public let run: @Sendable (UnsafeBufferPointer<UInt8>) -> [String]

    public init(_ name: String, seeds: Seeds, maxLength: Int = 4096, _ run: @escaping @Sendable (UnsafeBufferPointer<UInt8>) -> [String]) {
        self.name = name
        self.seeds = seeds
        self.maxLength = maxLength
        self.run = run
    }
}

public enum FuzzTargets {
    /// Every target. Adding a parser is one line here (name, seed files, a call that must not
    /// crash, and what must hold of its result).
    public static let all: [FuzzTarget] = [
        FuzzTarget("stat", seeds: .named("stat")) { b in _ = try? StatParser.parse(b); return [] },
        FuzzTarget("status", seeds: .named("status")) { b in _ = StatusParser.parse(b); return [] },
        FuzzTarget("cmdline", seeds: .named("cmdline")) { b in cmdlineRoundTrip(b) },
        FuzzTarget("fdinfo", seeds: .files { $0.contains("/fdinfo/") }) { b in _ = FdInfoParser.parse(b); return [] },
        FuzzTarget("syscall", seeds: .literals(["0 0x3 0x7ffd 0x1 0x0 0x0 0x0 0x7ffc 0x7f12\n", "running\n", "-1 0x7ffc 0x7f12\n"])) { b in
            _ = SyscallParser.parse(b); return []
        },
        FuzzTarget("tty-drivers", seeds: .named("drivers")) { b in ttyDrivers(b) },
        FuzzTarget("fd-target", seeds: .files { $0.contains("/fd/") }) { b in fdTarget(b) },
        FuzzTarget("uptime", seeds: .named("uptime")) { b in
            SnapshotReader.parseUptime(Array(b)).map { $0.isFinite && $0 >= 0 ? [] : ["uptime \($0)"] } ?? []
        },
        FuzzTarget("json-text", seeds: .named("cmdline")) { b in jsonText(b) },
        FuzzTarget("signal-name", seeds: .literals(["TERM", "SIGHUP", "9", "RTMIN+2", "rtmax-1", "sigusr1"])) { b in
            _ = Signals.number(named: String(decoding: b, as: UTF8.self)); return []
        },
        // Issue 9: the shell-memory reader's ELF and maps parsers, cgroup lines, the D-Bus wire.
        FuzzTarget("elf", seeds: .systemFiles(["/usr/bin/true", "/usr/bin/sleep"]), maxLength: 1 << 17) { b in
            _ = try? ELFImage.parse(Array(b)); _ = try? ELFImage.parse(Array(b), wanted: BashLayout.symbols); return []
        },
        FuzzTarget("maps", seeds: .systemFiles(["/proc/self/maps"]), maxLength: 1 << 16) { b in _ = MapsParser.parse(b); return [] },
        FuzzTarget("cgroup", seeds: .literals(["0::/user.slice/user-1000.slice/session-3.scope\n", "12:pids:/\n1:name=systemd:/user.slice\n"])) { b in
            _ = CgroupParser.parse(b); return []
        },
        FuzzTarget("dbus", seeds: .made { dbusSeeds() }) { b in
            let bytes = Array(b)
            _ = try? DBusWire.messageLength(Array(bytes.prefix(16)))
            if let m = try? DBusWire.decode(bytes), let again = try? DBusWire.decode(DBusWire.encode(m)), again.body != m.body {
                return ["a decoded message does not survive encode/decode"]
            }
            return []
        },
        // The shell-memory decoders over a bash 5.2 / zsh 5.9 image damaged by the input.
        FuzzTarget("shell-memory", seeds: .literals(["\u{0}", "\u{1}", "\u{0}\u{0}\u{0}\u{ff}", "\u{1}\u{10}\u{0}\u{7}"])) { b in
            shellMemory(b)
        },
        FuzzTarget("tree", seeds: .tree, maxLength: 1 << 16) { b in scanTree(b) },
    ]

    public static func target(named name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// The seed inputs of `target` from a fixture tree.
    public static func seeds(for target: FuzzTarget, fixture: String) -> [[UInt8]] {
        let pick: @Sendable (String) -> Bool
        switch target.seeds {
        case .literals(let l): return l.map { Array($0.utf8) }
        case .made(let make): return make()
        case .systemFiles(let paths):
            return paths.compactMap { path in
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { return nil }
                defer { close(fd) }
                var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
                while out.count < target.maxLength {
                    let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    out += buf[0..<n]
                }
                return Array(out.prefix(target.maxLength))
            }
        case .tree: return [FuzzTree.encode(FuzzTree.read(directory: fixture))]
        case .files(let p): pick = p
        }
        let entries = FuzzTree.read(directory: fixture)
        var out: [[UInt8]] = []
        for e in entries {
            let path = e.path.joined(separator: "/")
            guard pick(path) else { continue }
            out.append(e.kind == .symlink || e.kind == .file ? e.content : Array(path.utf8))
        }
        return out
    }

    // MARK: - checks

    /// Messages as sessiontop's D-Bus client sends and logind answers them.
    static func dbusSeeds() -> [[UInt8]] {
        var call = DBusMessage(kind: .methodCall, path: "/org/freedesktop/login1", interface: "org.freedesktop.DBus.Properties",
                               member: "Get", destination: "org.freedesktop.login1",
                               body: [.string("org.freedesktop.login1.Manager"), .string("KillUserProcesses")])
        call.serial = 2
        var reply = DBusMessage(kind: .methodReturn, body: [.variant(.bool(true))])
        reply.serial = 7
        reply.replySerial = 2
        var list = DBusMessage(kind: .methodReturn, body: [.variant(.array(element: "s", [.string("root"), .string("ann")]))])
        list.serial = 8
        list.replySerial = 3
        return [DBusWire.encode(call), DBusWire.encode(reply), DBusWire.encode(list)]
    }

    /// `cmdline` split at NUL joins back to the same bytes.
    /// Byte 0 picks the shell (even: bash, odd: zsh); then 3-byte patches (little-endian
    /// offset into the image's bytes, new value). The decoders must neither trap nor hang, and
    /// whatever they accept must stay inside their caps.
    static func shellMemory(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
        guard let first = b.first else { return [] }
        let bash = first % 2 == 0
        var (m, s) = bash ? FakeShell.bash() : FakeShell.zsh()
        let total = m.regions.reduce(0) { $0 + $1.bytes.count }
        var i = 1
        while i + 2 < b.count {
            var at = (Int(b[i]) | Int(b[i + 1]) << 8) % total
            for r in m.regions.indices {
                if at < m.regions[r].bytes.count { m.regions[r].bytes[at] = b[i + 2]; break }
                at -= m.regions[r].bytes.count
            }
            i += 3
        }
        let decoded = bash ? BashLayout.decode(m, symbols: s) : ZshLayout.decode(m, symbols: s)
        _ = bash ? BashLayout.hupTrapped(m, symbols: s) : ZshLayout.hupTrapped(m, symbols: s)
        guard case .success(let v) = decoded else { return [] }
        let pids = v.jobs.reduce(0) { $0 + $1.pids.count }
        return v.jobs.count <= 4096 && pids <= 1 << 16 ? [] : ["decoded \(v.jobs.count) jobs, \(pids) pids"]
    }

    static func cmdlineRoundTrip(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
        let parts = CmdlineParser.parse(b)
        var joined: [UInt8] = []
        for (i, p) in parts.enumerated() {
            if i > 0 { joined.append(0) }
            joined += p
        }
        if b.last == 0 { joined.append(0) }
        return joined == Array(b) ? [] : ["cmdline does not round-trip: \(parts.count) parts"]
    }

    static func ttyDrivers(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
        let d = TTYDrivers.parse(String(decoding: b, as: UTF8.self))
        var problems: [String] = []
        for driver in d.drivers where driver.minorFirst > driver.minorLast {
            problems.append("driver \(driver.name): range \(driver.minorFirst)-\(driver.minorLast)")
        }
        // Name a few devices the bytes suggest, and the usual ones.
        var devices: [UInt64] = [0, (136 << 8) | 3, (4 << 8) | 1, (4 << 8) | 64, (5 << 8) | 1, UInt64.max]
        if b.count >= 8 { devices.append(UnsafeRawBufferPointer(b).loadUnaligned(as: UInt64.self)) }
        for dev in devices { _ = d.name(forDevice: dev) }
        return problems
    }

    static func fdTarget(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
        let link = Array(b)
        _ = FdTargetParser.classify(link)
        _ = FdTargetParser.isTTYPath(link)
        if let dev = FdTargetParser.ptsDevice(link), TTYDrivers.split(dev).major != 136 {
            return ["ptsDevice gave major \(TTYDrivers.split(dev).major)"]
        }
        return []
    }

    /// Arbitrary bytes through the JSON writer and SafeText stay valid JSON and printable.
    static func jsonText(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
        var w = JSONWriter(capacity: b.count * 6 + 16)
        w.array { w in
            w.string(bytes: Array(b))
            w.string(String(decoding: b, as: UTF8.self))
            w.string(SafeText.display(Array(b)))
        }
        var problems: [String] = []
        if let p = StrictJSON.problem(w.bytes) { problems.append("JSON: \(p)") }
        if SafeText.display(Array(b)).unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            problems.append("SafeText left a control character")
        }
        return problems
    }

    // MARK: - the tree

    /// Builds the tree under a fresh directory (tmpfs when there is one), scans it the ways
    /// the CLI and the TUI do, and checks the snapshot, the analysis, every report and the
    /// rendered screens.
    static func scanTree(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/sessiontop-fuzz-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { return [] }
        let root = String(cString: made)
        defer { FuzzTree.clear(root); rmdir(root) }
        FuzzTree.materialize(FuzzTree.decode(b), at: root)
        return check(root: root)
    }

    /// Everything sessiontop does with a /proc tree, checked.
    public static func check(root: String) -> [String] {
        guard let reader = try? SnapshotReader(root: root) else { return [] }
        reader.parallelThreshold = 6  // the two-thread scan too
        reader.configRoot = root       // logind's files come from the tree as well
        var problems: [String] = []
        var options = ScanOptions()
        options.fdInfoForAll = true
        let full = reader.snapshot(options: options)
        let fast = reader.snapshot(options: ScanOptions(details: .only([full.selfPid])))
        var refresh = ScanOptions(details: .refresh(Set(full.processes.keys.prefix(3)), previous: fast))
        refresh.statusWithDetails = true
        let refreshed = reader.snapshot(options: refresh)
        for (label, snap) in [("full", full), ("fast", fast), ("refresh", refreshed)] {
            problems += SnapshotInvariants.violations(snap).map { "\(label): \($0)" }
        }
        let sessions = full.sessions
        var analysed: [(Session, [Int32: Verdict])] = []
        for s in sessions {
            for event in HangupEvent.allCases {
                let v = HangupAnalysis.analyze(full, session: s.sid, event: event)
                if event == .hangup { analysed.append((s, v)) }
                _ = HangupReport.text(full, session: s, event: event, verdicts: v)
            }
        }
        let verdicts = HangupAnalysis.ownSessionVerdicts(full, sessions: sessions)
        if let p = StrictJSON.problem(SnapshotJSON.render(full, sessions: sessions, verdicts: verdicts)) {
            problems.append("snapshot JSON: \(p)")
        }
        if let p = StrictJSON.problem(HangupReport.json(full, sessions: analysed, event: .hangup)) {
            problems.append("hangup JSON: \(p)")
        }
        _ = SnapshotText.render(full, sessions: sessions)
        // The inspector: first frame, a scan, the detail pane, the table, a tiny terminal.
        var state = AppState(snapshot: fast, width: 100, height: 30, analysisPending: true)
        _ = update(&state, .snapshot(full, now: 1))
        var screen = Screen(width: 100, height: 30)
        render(state, into: &screen)
        for key: Key in [.down, .char("i"), .end, .char("t")] { _ = update(&state, .key(key)) }
        _ = update(&state, .snapshot(refreshed, now: 3))
        render(state, into: &screen)
        _ = update(&state, .resize(width: 12, height: 3))
        screen = Screen(width: 12, height: 3)
        render(state, into: &screen)
        return problems
    }
}
