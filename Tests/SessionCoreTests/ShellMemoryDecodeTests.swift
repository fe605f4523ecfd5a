import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// A made-up address space: byte regions at addresses. Reads outside them fail, as an
/// unmapped address does on /proc/<pid>/mem.
struct FakeMemory: MemorySource {
    var regions: [(base: UInt64, bytes: [UInt8])] = []

    func read(at address: UInt64, count: Int) -> [UInt8]? {
        for r in regions where address >= r.base && address + UInt64(count) <= r.base + UInt64(r.bytes.count) {
            let off = Int(address - r.base)
            return Array(r.bytes[off..<(off + count)])
        }
        return nil
    }

    mutating func put(_ address: UInt64, _ bytes: [UInt8]) {
        for i in regions.indices where address >= regions[i].base && address + UInt64(bytes.count) <= regions[i].base + UInt64(regions[i].bytes.count) {
            let off = Int(address - regions[i].base)
            regions[i].bytes.replaceSubrange(off..<(off + bytes.count), with: bytes)
            return
        }
        regions.append((address, bytes))
    }

    mutating func i32(_ address: UInt64, _ v: Int32) { put(address, TinyELF.le(UInt64(UInt32(bitPattern: v)), 4)) }
    mutating func u64(_ address: UInt64, _ v: UInt64) { put(address, TinyELF.le(v, 8)) }
}

/// bash 5.2 and zsh 5.9 as they lie in memory (the layouts of BashLayout/ZshLayout, built by
/// hand), then broken in every way the decoders check.
enum FakeShell {
    static func symbols(_ list: [String: (UInt64, UInt64)]) -> SymbolAddresses {
        var syms: [String: ELFImage.Symbol] = [:]
        for (n, (v, s)) in list { syms[n] = ELFImage.Symbol(name: n, value: v, size: s, kind: 1) }
        return SymbolAddresses(image: ELFImage(type: 3, machine: 62, loads: [], symbols: syms), bias: 0x5500_0000_0000)
    }

    static let base: UInt64 = 0x5500_0000_0000

    /// bash $$=100 with %1 = group 300 (one process, running) and %3 = group 500 (two
    /// processes, stopped, disown -h); slots 2 and 4-8 empty.
    static func bash(version: String = "5.2", njobs: Int32 = 2) -> (FakeMemory, SymbolAddresses) {
        let s = symbols([
            "dist_version": (0x1000, 8), "patch_level": (0x1010, 4), "hup_on_exit": (0x1020, 4),
            "login_shell": (0x1024, 4), "interactive_shell": (0x1028, 4), "job_control": (0x102c, 4),
            "dollar_dollar_pid": (0x1030, 4), "trap_list": (0x1100, 0x220), "initialize_traps": (0x9000, 100),
            "js": (0x2000, 72), "jobs": (0x2100, 8),
        ])
        var m = FakeMemory()
        m.put(base + 0x1000, [UInt8](repeating: 0, count: 0x1400))  // globals page
        m.u64(base + 0x1000, base + 0x1200)                             // dist_version → "5.2"
        m.put(base + 0x1200, Array(version.utf8) + [0])
        m.i32(base + 0x1010, 15)
        m.i32(base + 0x1020, 1)                                         // huponexit on
        m.i32(base + 0x1028, 1)                                         // interactive
        m.i32(base + 0x102c, 1)                                         // job control
        m.i32(base + 0x1030, 100)
        // js: j_jobslots 8, j_njobs, j_ndead 0.
        m.i32(base + 0x2000 + 28, 8)
        m.i32(base + 0x2000 + 40, njobs)
        let heap: UInt64 = 0x7f00_0000_0000
        m.put(heap, [UInt8](repeating: 0, count: 0x1000))
        m.u64(base + 0x2100, heap)                                      // jobs → array of 8
        m.u64(heap + 0, heap + 0x100)                                   // jobs[0] = %1
        m.u64(heap + 16, heap + 0x200)                                  // jobs[2] = %3
        // %1: pipe → one PROCESS pointing at itself; pgrp 300, JRUNNING, flags 0.
        m.u64(heap + 0x100 + 8, heap + 0x400)
        m.i32(heap + 0x100 + 16, 300); m.i32(heap + 0x100 + 20, 1); m.i32(heap + 0x100 + 24, 0)
        m.u64(heap + 0x400, heap + 0x400); m.i32(heap + 0x408, 300); m.i32(heap + 0x410, 1)
        // %3: two stopped PROCESSes in a ring; pgrp 500, JSTOPPED, J_NOHUP.
        m.u64(heap + 0x200 + 8, heap + 0x500)
        m.i32(heap + 0x200 + 16, 500); m.i32(heap + 0x200 + 20, 2); m.i32(heap + 0x200 + 24, 0x08)
        m.u64(heap + 0x500, heap + 0x540); m.i32(heap + 0x508, 500); m.i32(heap + 0x50c, 0x137f); m.i32(heap + 0x510, 2)
        m.u64(heap + 0x540, heap + 0x500); m.i32(heap + 0x548, 501); m.i32(heap + 0x54c, 0x137f); m.i32(heap + 0x550, 2)
        return (m, s)
    }

    /// zsh 5.9, mypid 100, NO_HUP unless `hup`; %1 = group 300 running, %2 = group 400 stopped.
    static func zsh(version: String = "5.9", hup: Bool = true, maxjob: Int32 = 2) -> (FakeMemory, SymbolAddresses) {
        let s = symbols([
            "jobtab": (0x1000, 8), "jobtabsize": (0x1008, 4), "maxjob": (0x100c, 4), "thisjob": (0x1010, 4),
            "opts": (0x1100, 186), "mypid": (0x1020, 8), "realparamtab": (0x1030, 8), "sigtrapped": (0x1200, 136),
        ])
        var m = FakeMemory()
        m.put(base + 0x1000, [UInt8](repeating: 0, count: 0x400))
        var opts = [UInt8](repeating: 0, count: 186)
        opts[ZshLayout.optINTERACTIVE] = 1; opts[ZshLayout.optMONITOR] = 1; opts[ZshLayout.optHUP] = hup ? 1 : 0
        m.put(base + 0x1100, opts)
        m.u64(base + 0x1020, 100)
        m.i32(base + 0x1008, 16); m.i32(base + 0x100c, maxjob); m.i32(base + 0x1010, -1)
        let heap: UInt64 = 0x7f00_0000_0000
        m.put(heap, [UInt8](repeating: 0, count: 0x2000))
        // Parameter table: 8 buckets; ZSH_VERSION in its bucket, behind another node.
        m.u64(base + 0x1030, heap)
        m.i32(heap, 8); m.u64(heap + 8, heap + 0x100)
        let bucket = UInt64(ZshLayout.hasher("ZSH_VERSION") % 8)
        m.u64(heap + 0x100 + bucket * 8, heap + 0x200)
        m.u64(heap + 0x200, heap + 0x300); m.u64(heap + 0x208, heap + 0x280)     // node "PATH" → next
        m.put(heap + 0x280, Array("PATH".utf8) + [0])
        m.u64(heap + 0x308, heap + 0x380); m.u64(heap + 0x318, heap + 0x3c0)     // node ZSH_VERSION, u.str
        m.put(heap + 0x380, Array("ZSH_VERSION".utf8) + [0])
        m.put(heap + 0x3c0, Array(version.utf8) + [0])
        // jobtab at heap+0x1000, 64-byte entries; STAT_INUSE|STAT_LOCKED (+STAT_STOPPED).
        m.u64(base + 0x1000, heap + 0x1000)
        m.i32(heap + 0x1040, 300); m.i32(heap + 0x1048, 0x50); m.u64(heap + 0x1058, heap + 0x1800)
        m.i32(heap + 0x1080, 400); m.i32(heap + 0x1088, 0x52); m.u64(heap + 0x1098, heap + 0x1900)
        m.i32(heap + 0x1808, 300); m.i32(heap + 0x1800 + 92, -1)
        m.i32(heap + 0x1908, 400); m.i32(heap + 0x1900 + 92, 0x137f)
        return (m, s)
    }
}

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
        // In another job's group: the memory is stale or misread.
        #expect(check(view([ShellJob(number: 1, pgid: 301, pids: [300], state: .running),
                            ShellJob(number: 2, pgid: 300, pids: [300], state: .running)])) == "bash 5.2.15: job %1's pid 300 is in group 300, not 301")
        // In a group no job claims: moved out of its job (setpgid from inside, as `sessiontop
        // detach --new-group` does); bash still signals group 301, which no longer holds it.
        #expect(check(view([ShellJob(number: 1, pgid: 301, pids: [300], state: .running)])) == nil)
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
