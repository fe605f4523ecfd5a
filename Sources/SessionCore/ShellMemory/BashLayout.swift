/// bash's job state in memory, decoded with the struct layouts of the versions whose source
/// was checked (x86-64/AArch64 LP64). Source of truth, bash-5.1 and bash-5.2 (through patch
/// 37) alike:
/// - `jobs.h` `typedef struct process { struct process *next; pid_t pid; WAIT status;
///   int running; char *command; } PROCESS;` → next 0, pid 8, status 12, running 16; 32 bytes.
/// - `jobs.h` `typedef struct job { char *wd; PROCESS *pipe; pid_t pgrp; JOB_STATE state;
///   int flags; COMMAND *deferred; sh_vptrfunc_t *j_cleanup; PTR_T cleanarg; } JOB;` → pipe 8,
///   pgrp 16, state 20, flags 24; 56 bytes.
/// - `jobs.h` `struct jobstats { long c_childmax; int c_living, c_reaped, c_injobs,
///   c_totforked, c_totreaped, j_jobslots, j_lastj, j_firstj, j_njobs, j_ndead, j_current,
///   j_previous; JOB *j_lastmade, *j_lastasync; }` → j_jobslots 28, j_njobs 40, j_ndead 44;
///   72 bytes.
/// - `jobs.h` JOB_STATE: JNONE -1, JRUNNING 1, JSTOPPED 2, JDEAD 4, JMIXED 8; flags
///   J_FOREGROUND 0x01, J_NOHUP 0x08 (`disown -h`); PROCESS `running`: PS_DONE 0,
///   PS_RUNNING 1, PS_STOPPED 2, PS_RECYCLED 4.
/// - `jobs.c` `JOB **jobs`, `struct jobstats js`, `int hup_on_exit` (`shopt huponexit`);
///   `shell.c` `int login_shell, interactive_shell`; `jobs.c` `int job_control`;
///   `variables.c` `pid_t dollar_dollar_pid`; `version.c` `const char * const dist_version`,
///   `const int patch_level`; `trap.c` `char *trap_list[BASH_NSIG]` with DEFAULT_SIG (0),
///   IGNORE_SIG (1) and IMPOSSIBLE_TRAP_HANDLER (`initialize_traps`).
/// bash 5.3 added `int flags` to PROCESS (32 → 40 bytes): its layout is not known here.
public enum BashLayout {
    /// Versions (`dist_version`) whose layout is the one above.
    public static let knownVersions: Set<String> = ["5.1", "5.2"]

    static let processSize = 32, jobSize = 56, jobstatsSize: UInt64 = 72
    static let JSTOPPED: Int32 = 2, JDEAD: Int32 = 4, JMIXED: Int32 = 8, JRUNNING: Int32 = 1, JNONE: Int32 = -1
    static let J_FOREGROUND: Int32 = 0x01, J_NOHUP: Int32 = 0x08
    static let PS_DONE: Int32 = 0, PS_RUNNING: Int32 = 1, PS_STOPPED: Int32 = 2, PS_RECYCLED: Int32 = 4
    /// Caps on what a sane table holds (bash grows `jobs` 8 slots at a time).
    static let maxSlots: Int32 = 4096, maxPipeline = 256

    /// The symbols the decoder needs from `.dynsym`.
    public static let symbols: Set<String> = [
        "jobs", "js", "hup_on_exit", "login_shell", "interactive_shell", "job_control",
        "dollar_dollar_pid", "dist_version", "patch_level", "trap_list", "initialize_traps",
    ]

    /// bash's view of itself and its jobs, or why it cannot be decoded.
    public static func decode(_ source: MemorySource, symbols: SymbolAddresses) -> Result<ShellView, DecodeFailure> {
        do throws(DecodeFailure) {
            var m = BoundedMemory(source)
            let s = symbols
            // The version first: it picks the layout.
            let dist = try m.pointer(s.address("dist_version", size: 8, layout: "bash"), "dist_version", alignment: 1)!
            let version = try m.cString(dist, limit: 16, "bash's version string")
            let patch = try m.i32(s.address("patch_level", size: 4, layout: "bash"), "patch_level")
            let full = patch >= 0 && patch < 1000 ? "\(version).\(patch)" : version
            guard knownVersions.contains(version) else {
                throw DecodeFailure("bash \(full): layout unknown (sessiontop knows bash \(knownVersions.sorted().joined(separator: ", ")))")
            }
            let layout = "bash \(full)"
            func int(_ name: String) throws(DecodeFailure) -> Int32 {
                try m.i32(s.address(name, size: 4, layout: layout), name)
            }
            let hupOnExit = try int("hup_on_exit")
            let login = try int("login_shell")
            let interactive = try int("interactive_shell")
            let jobControl = try int("job_control")
            let pid = try int("dollar_dollar_pid")

            let hupTrapped = try trapped(&m, s, layout: layout)

            // struct jobstats js.
            let jsBytes = try m.bytes(s.address("js", size: jobstatsSize, layout: layout), Int(jobstatsSize), "js")
            let slots = BoundedMemory.i32(jsBytes, 28), njobs = BoundedMemory.i32(jsBytes, 40)
            let ndead = BoundedMemory.i32(jsBytes, 44)
            guard slots >= 0, slots <= maxSlots else { throw DecodeFailure("\(layout): js.j_jobslots is \(slots)") }
            guard njobs >= 0, njobs <= slots, ndead >= 0, ndead <= njobs else {
                throw DecodeFailure("\(layout): js counts out of range (j_jobslots \(slots), j_njobs \(njobs), j_ndead \(ndead))")
            }

            var jobs: [ShellJob] = []
            var used: Int32 = 0
            if slots > 0 {
                guard let table = try m.pointer(s.address("jobs", size: 8, layout: layout), "jobs", nullable: true) else {
                    throw DecodeFailure("\(layout): `jobs` is NULL but js.j_jobslots is \(slots)")
                }
                let slotBytes = try m.bytes(table, Int(slots) * 8, "the jobs array")
                for i in 0..<Int(slots) {
                    let jp = BoundedMemory.le64(slotBytes, i * 8)
                    if jp == 0 { continue }
                    used += 1
                    try BoundedMemory.check(jp, "jobs[\(i)]")
                    jobs.append(try job(&m, at: jp, number: i + 1, layout: layout))
                }
            }
            guard used == njobs else {
                throw DecodeFailure("\(layout): js.j_njobs says \(njobs) jobs, the table holds \(used)")
            }
            return .success(ShellView(shell: .bash, version: full, shellPid: pid, interactive: interactive != 0,
                                      login: login != 0, jobControl: jobControl != 0, hupOnExit: hupOnExit != 0,
                                      hupTrapped: hupTrapped, jobs: jobs))
        } catch {
            return .failure(error)
        }
    }

    /// `trap_list[SIGHUP]`: a string (not DEFAULT_SIG 0, IGNORE_SIG 1 or
    /// IMPOSSIBLE_TRAP_HANDLER) means `trap … HUP` is set.
    static func trapped(_ m: inout BoundedMemory, _ s: SymbolAddresses, layout: String) throws(DecodeFailure) -> Bool {
        let trapAt = try s.address("trap_list", layout: layout)
        let hupTrap = try m.u64(trapAt &+ 8, "trap_list[SIGHUP]")
        let impossible = (try? s.address("initialize_traps", layout: layout)) ?? 0
        return hupTrap != 0 && hupTrap != 1 && hupTrap != impossible
    }

    /// Only the HUP trap (for a fork of the session's bash), after the version check.
    public static func hupTrapped(_ source: MemorySource, symbols s: SymbolAddresses) -> Result<Bool, DecodeFailure> {
        do throws(DecodeFailure) {
            var m = BoundedMemory(source, budget: 4096)
            let dist = try m.pointer(s.address("dist_version", size: 8, layout: "bash"), "dist_version", alignment: 1)!
            let version = try m.cString(dist, limit: 16, "bash's version string")
            guard knownVersions.contains(version) else { throw DecodeFailure("bash \(version): layout unknown") }
            return .success(try trapped(&m, s, layout: "bash \(version)"))
        } catch {
            return .failure(error)
        }
    }

    static func job(_ m: inout BoundedMemory, at jp: UInt64, number: Int, layout: String) throws(DecodeFailure) -> ShellJob {
        let jb = try m.bytes(jp, jobSize, "job %\(number)")
        let pipe = BoundedMemory.le64(jb, 8)
        let pgrp = BoundedMemory.i32(jb, 16), state = BoundedMemory.i32(jb, 20), flags = BoundedMemory.i32(jb, 24)
        guard [JNONE, JRUNNING, JSTOPPED, JDEAD, JMIXED].contains(state) else {
            throw DecodeFailure("\(layout): job %\(number) has state \(state), not a JOB_STATE")
        }
        guard pgrp > 0 else { throw DecodeFailure("\(layout): job %\(number) has process group \(pgrp)") }
        // The pipeline: a circular chain of PROCESS back to its head.
        var pids: [Int32] = []
        if pipe != 0 {
            try BoundedMemory.check(pipe, "job %\(number)'s pipeline")
            var p = pipe
            var n = 0
            repeat {
                guard n < maxPipeline else { throw DecodeFailure("\(layout): job %\(number)'s pipeline does not close within \(maxPipeline) processes") }
                let pb = try m.bytes(p, processSize, "a process of job %\(number)")
                let next = BoundedMemory.le64(pb, 0)
                let pid = BoundedMemory.i32(pb, 8), status = BoundedMemory.i32(pb, 12), running = BoundedMemory.i32(pb, 16)
                guard pid > 0, [PS_DONE, PS_RUNNING, PS_STOPPED, PS_RECYCLED].contains(running) else {
                    throw DecodeFailure("\(layout): job %\(number) holds process \(pid) in state \(running)")
                }
                // PALIVE: running, or stopped (WIFSTOPPED(status)).
                if running == PS_RUNNING || running == PS_STOPPED || status & 0xff == 0x7f { pids.append(pid) }
                try BoundedMemory.check(next, "job %\(number)'s pipeline link")
                p = next
                n += 1
            } while p != pipe
        }
        let st: ShellJob.State
        switch state {
        case JSTOPPED: st = .stopped
        case JDEAD: st = .done
        case JMIXED: st = .mixed
        default: st = .running
        }
        return ShellJob(number: number, pgid: pgrp, pids: pids, state: st, noHup: flags & J_NOHUP != 0,
                        foreground: flags & J_FOREGROUND != 0)
    }
}
