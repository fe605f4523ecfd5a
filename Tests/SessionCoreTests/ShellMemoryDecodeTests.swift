import Testing
import Glibc
import TestSupport
@testable import SessionCore
import FuzzHarness

@Suite struct ShellMemoryDecodeTests {
    @Test func bashDecodes() throws {
        let (m, s) = FakeShell.bash()
        let v = try BashLayout.decode(m, symbols: s).get()
        #expect(v.shell == .bash && v.version == "5.2.15" && v.shellPid == 100)
        #expect(v.interactive && !v.login && v.jobControl && v.hupOnExit == true && !v.hupTrapped)
        #expect(v.jobs == [ShellJob(number: 1, pgid: 300, pids: [300], state: .running),
                           ShellJob(number: 3, pgid: 500, pids: [500, 501], state: .stopped, noHup: true)])
    }

    @Test func zshDecodes() throws {
        let (m, s) = FakeShell.zsh(hup: false)
        let v = try ZshLayout.decode(m, symbols: s).get()
        #expect(v.shell == .zsh && v.version == "5.9" && v.shellPid == 100 && v.hupOption == false)
        #expect(v.jobs.map(\.pgid) == [300, 400] && v.jobs.map(\.state) == [.running, .stopped])
        #expect(v.jobs[0].pids == [300] && v.jobs[1].pids == [400] && v.jobs.allSatisfy(\.signalable))
    }

    /// Each kind of damage is refused, with a reason that names it.
    @Test func bashDamageIsRefusedWithAReason() {
        func failure(_ edit: (inout FakeMemory) -> Void, version: String = "5.2", njobs: Int32 = 2,
                     symbols: ((SymbolAddresses) -> SymbolAddresses)? = nil) -> String {
            var (m, s) = FakeShell.bash(version: version, njobs: njobs)
            edit(&m)
            if let symbols { s = symbols(s) }
            switch BashLayout.decode(m, symbols: s) {
            case .success: return "decoded"
            case .failure(let e): return e.description
            }
        }
        let heap: UInt64 = 0x7f00_0000_0000, base = FakeShell.base
        #expect(failure({ _ in }, version: "5.3") == "bash 5.3.15: layout unknown (sessiontop knows bash 5.1, 5.2)")
        #expect(failure({ _ in }, njobs: 3) == "bash 5.2.15: js.j_njobs says 3 jobs, the table holds 2")
        #expect(failure({ $0.i32(heap + 0x100 + 20, 3) }).contains("state 3, not a JOB_STATE"))
        #expect(failure({ $0.u64(heap + 0x400, heap + 0x440) }).contains("not a user-space address")
                || failure({ $0.u64(heap + 0x400, heap + 0x440) }).contains("state"))
        // A chain that never returns to its head.
        #expect(failure({ m in m.u64(heap + 0x540, heap + 0x540) }).contains("does not close"))
        #expect(failure({ $0.u64(base + 0x2100, 0x10) }).contains("is not a user-space address"))
        #expect(failure({ $0.u64(base + 0x2100, 0x6000_0000_0000) }).contains("cannot read the jobs array"))
        #expect(failure({ $0.u64(base + 0x1000, 0) }).contains("dist_version is NULL"))
        #expect(failure({ $0.i32(base + 0x2000 + 28, 1 << 20) }).contains("js.j_jobslots is 1048576"))
        #expect(failure({ $0.put(base + 0x1200, Array(repeating: 0x41, count: 64)) }).contains("not a string"))
        #expect(failure({ _ in }, symbols: { s in
            var img = s.image; img.symbols["js"]!.size = 80
            return SymbolAddresses(image: img, bias: s.bias)
        }) == "bash 5.2.15: `js` is 80 bytes, the layout says 72")
        #expect(failure({ _ in }, symbols: { s in
            var img = s.image; img.symbols["jobs"] = nil
            return SymbolAddresses(image: img, bias: s.bias)
        }) == "bash 5.2.15: its executable exports no `jobs`")
    }

    @Test func zshDamageIsRefusedWithAReason() {
        func failure(_ edit: (inout FakeMemory) -> Void, version: String = "5.9") -> String {
            var (m, s) = FakeShell.zsh(version: version)
            edit(&m)
            switch ZshLayout.decode(m, symbols: s) {
            case .success: return "decoded"
            case .failure(let e): return e.description
            }
        }
        let heap: UInt64 = 0x7f00_0000_0000, base = FakeShell.base
        #expect(failure({ _ in }, version: "5.8") == "zsh 5.8: layout unknown (sessiontop knows zsh 5.9)")
        #expect(failure({ $0.put(base + 0x1100 + 5, [7]) }) == "zsh 5.9: `opts` holds values other than 0 and 1")
        #expect(failure({ $0.i32(base + 0x100c, 99) }).contains("job table counts out of range"))
        #expect(failure({ $0.u64(heap + 0x1800, heap + 0x1800) }).contains("does not end within 256"))
        #expect(failure({ $0.u64(heap + 0x200, 0); $0.u64(heap + 0x100 + UInt64(ZshLayout.hasher("ZSH_VERSION") % 8) * 8, 0) })
                == "zsh: no $ZSH_VERSION in its parameter table")
        #expect(failure({ $0.u64(base + 0x1020, 0) }) == "zsh 5.9: mypid is 0")
    }

    /// Random bytes everywhere: the decoders never trap, and whatever they make of it never
    /// passes the check against a snapshot (so it never becomes a certain verdict).
    @Test func randomMemoryNeverTrapsNorPassesTheCheck() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300)
        let snap = b.snapshot
        let leader = snap.processes[100]!
        let profile = ShellProfile.detect(leader)
        var rng = SplitMix(state: 99)
        var decoded = 0
        for round in 0..<3000 {
            var (m, s) = round % 2 == 0 ? FakeShell.bash() : FakeShell.zsh()
            // Flip bytes in the pages the decoders read.
            for _ in 0...rng.below(12) {
                let r = rng.below(m.regions.count)
                let i = rng.below(m.regions[r].bytes.count)
                m.regions[r].bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            let result = round % 2 == 0 ? BashLayout.decode(m, symbols: s) : ZshLayout.decode(m, symbols: s)
            guard case .success(var v) = result else { continue }
            decoded += 1
            // A decoding that happens to look sane still must match /proc to be used: give it
            // a pid that is not the leader's and it is refused.
            if v.shellPid == 100 { v.shellPid = 101 }
            #expect(ShellViewCheck.mismatch(v, leader: leader, profile: profile, snapshot: snap) != nil)
            _ = s
        }
        #expect(decoded > 0)
    }

    @Test func checkAgainstTheSnapshot() {
        var b = SessionBuilder()
        b.leader("bash", argv: ["bash", "-i"])
        b.add(300, pgid: 300)
        b.add(400, ppid: 1, pgid: 400)
        let snap = b.snapshot
        let leader = snap.processes[100]!
        let profile = ShellProfile.detect(leader)
        func view(_ jobs: [ShellJob], pid: Int32 = 100, interactive: Bool = true) -> ShellView {
            ShellView(shell: .bash, version: "5.2.15", shellPid: pid, interactive: interactive, login: false,
                      jobControl: true, hupOnExit: false, jobs: jobs)
        }
        func check(_ v: ShellView) -> String? { ShellViewCheck.mismatch(v, leader: leader, profile: profile, snapshot: snap) }
        #expect(check(view([ShellJob(number: 1, pgid: 300, pids: [300], state: .running)])) == nil)
        #expect(check(view([], pid: 7)) == "bash 5.2.15: its memory says $$ is 7, not 100")
        #expect(check(view([], interactive: false)) == "bash 5.2.15: its memory says not interactive, its argv says interactive")
        #expect(check(view([ShellJob(number: 1, pgid: 300, pids: [999], state: .running)])) == "bash 5.2.15: job %1 holds pid 999, which /proc does not show")
        #expect(check(view([ShellJob(number: 1, pgid: 400, pids: [400], state: .running)])) == "bash 5.2.15: job %1's pid 400 is not a child of the shell (parent 1)")
        #expect(check(view([ShellJob(number: 1, pgid: 301, pids: [300], state: .running)])) == "bash 5.2.15: job %1's pid 300 is in group 300, not 301")
        // A job the shell already counts done is not checked (its processes may be gone).
        #expect(check(view([ShellJob(number: 1, pgid: 777, pids: [777], state: .done)])) == nil)
    }

    @Test func ptraceScopeReasons() throws {
        // The proc root is a parameter: each Yama setting as a fixture tree.
        for scope in [nil, "0", "1", "2", "3"] as [String?] {
            let root = try TempDirectory.make("yama")
            defer { TempDirectory.remove(root) }
            mkdir(root + "/1", 0o755)
            try write(root + "/1/stat", "1 (init) S 0 1 1 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n")
            if let scope {
                for d in ["/sys", "/sys/kernel", "/sys/kernel/yama"] { mkdir(root + d, 0o755) }
                try write(root + "/sys/kernel/yama/ptrace_scope", scope + "\n")
            }
            let reader = ShellMemoryReader(proc: try ProcReader(root: root))
            let text = reader.permissionReason()
            switch scope {
            case nil: #expect(text == "permission denied reading its memory (no Yama: only its own user (if it is dumpable) or root may read it)")
            case "1": #expect(text.contains("ptrace_scope 1: only an ancestor of it or root may read it"))
            case "2": #expect(text.contains("ptrace_scope 2: only root (CAP_SYS_PTRACE) may read it"))
            case "3": #expect(text.contains("ptrace_scope 3: nobody may read it"))
            default: #expect(text.contains("ptrace_scope 0"))
            }
        }
    }
}

func write(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw Errno.current }
    defer { close(fd) }
    var b = Array(text.utf8)
    _ = b.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
}
