/// zsh's job state in memory, decoded with the layout of zsh 5.9 (x86-64/AArch64 LP64).
/// Source of truth, zsh-5.9 `Src/zsh.h`:
/// - `struct job { pid_t gleader; pid_t other; int stat; char *pwd; struct process *procs;
///   struct process *auxprocs; LinkList filelist; int stty_in_env; struct ttyinfo *ty; }` →
///   gleader 0, stat 8, procs 24; 64 bytes.
/// - `struct process { struct process *next; pid_t pid; char text[JOBTEXTSIZE]; int status; … }`
///   with JOBTEXTSIZE 80 → next 0, pid 8, status 92; status SP_RUNNING (-1) while running.
/// - STAT_STOPPED 0x02, STAT_DONE 0x08, STAT_LOCKED 0x10, STAT_NOPRINT 0x20, STAT_INUSE 0x40.
/// - The options enum (OPT_INVALID = 0 …): HUP 91, INTERACTIVE 97, LOGINSHELL 114, MONITOR 120,
///   OPT_SIZE 186 (`char opts[OPT_SIZE]`, Src/options.c).
/// - `struct hashtable { int hsize; int ct; HashNode *nodes; … }`, `struct hashnode { HashNode
///   next; char *nam; int flags; }`, `struct param { struct hashnode node; union { … char *str;
///   } u; … }` (u at 24), `Src/hashtable.c hasher()`: the version is `$ZSH_VERSION` in
///   `realparamtab`.
/// - Src/jobs.c `struct job *jobtab; int jobtabsize, maxjob, thisjob`; Src/params.c
///   `zlong mypid`; Src/signals.c `int sigtrapped[VSIGCOUNT]` (ZSIG_TRAPPED 1, ZSIG_IGNORED 2).
public enum ZshLayout {
    public static let knownVersions: Set<String> = ["5.9"]

    static let jobSize: UInt64 = 64, optSize: UInt64 = 186
    public static let optHUP = 91, optINTERACTIVE = 97, optLOGINSHELL = 114, optMONITOR = 120
    static let STAT_STOPPED: Int32 = 0x02, STAT_DONE: Int32 = 0x08, STAT_LOCKED: Int32 = 0x10
    static let STAT_NOPRINT: Int32 = 0x20, STAT_INUSE: Int32 = 0x40
    static let SP_RUNNING: Int32 = -1
    static let maxJobs: Int32 = 4096, maxProcs = 256, maxChain = 256

    public static let symbols: Set<String> = [
        "jobtab", "jobtabsize", "maxjob", "thisjob", "opts", "mypid", "realparamtab", "sigtrapped",
    ]

    public static func decode(_ source: MemorySource, symbols: SymbolAddresses) -> Result<ShellView, DecodeFailure> {
        do throws(DecodeFailure) {
            var m = BoundedMemory(source)
            let s = symbols
            let version = try zshVersion(&m, s)
            guard knownVersions.contains(version) else {
                throw DecodeFailure("zsh \(version): layout unknown (sessiontop knows zsh \(knownVersions.sorted().joined(separator: ", ")))")
            }
            let layout = "zsh \(version)"
            let opts = try m.bytes(s.address("opts", size: optSize, layout: layout), Int(optSize), "opts")
            // Options are 0 or 1 (isset(X) is opts[X]); anything else is not this layout.
            guard opts.allSatisfy({ $0 <= 1 }) else { throw DecodeFailure("\(layout): `opts` holds values other than 0 and 1") }
            let mypid = try m.u64(s.address("mypid", size: 8, layout: layout), "mypid")
            guard mypid > 0, mypid <= UInt64(Int32.max) else { throw DecodeFailure("\(layout): mypid is \(mypid)") }
            let size = try m.i32(s.address("jobtabsize", size: 4, layout: layout), "jobtabsize")
            let maxjob = try m.i32(s.address("maxjob", size: 4, layout: layout), "maxjob")
            let thisjob = try m.i32(s.address("thisjob", size: 4, layout: layout), "thisjob")
            guard size >= 0, size <= maxJobs, maxjob >= 0, maxjob < max(size, 1), thisjob >= -1, thisjob < max(size, 1) else {
                throw DecodeFailure("\(layout): job table counts out of range (jobtabsize \(size), maxjob \(maxjob), thisjob \(thisjob))")
            }
            let trapAt = try s.address("sigtrapped", layout: layout)
            let hupTrap = try m.i32(trapAt &+ 4, "sigtrapped[SIGHUP]")

            var jobs: [ShellJob] = []
            if maxjob >= 1 {
                guard let tab = try m.pointer(s.address("jobtab", size: 8, layout: layout), "jobtab", nullable: true) else {
                    throw DecodeFailure("\(layout): jobtab is NULL with maxjob \(maxjob)")
                }
                let all = try m.bytes(tab, Int(maxjob + 1) * Int(jobSize), "jobtab")
                for i in 1...Int(maxjob) {
                    let at = i * Int(jobSize)
                    let gleader = BoundedMemory.i32(all, at), stat = BoundedMemory.i32(all, at + 8)
                    let procs = BoundedMemory.le64(all, at + 24)
                    guard stat & STAT_INUSE != 0 else { continue }
                    guard gleader >= 0 else { throw DecodeFailure("\(layout): job %\(i) has group leader \(gleader)") }
                    var pids: [Int32] = []
                    var p = procs
                    var n = 0
                    while p != 0 {
                        guard n < maxProcs else { throw DecodeFailure("\(layout): job %\(i)'s process list does not end within \(maxProcs)") }
                        try BoundedMemory.check(p, "a process of job %\(i)")
                        let next = try m.u64(p, "a process of job %\(i)")
                        let pid = try m.i32(p &+ 8, "a process of job %\(i)")
                        let status = try m.i32(p &+ 92, "a process of job %\(i)")
                        guard pid > 0 else { throw DecodeFailure("\(layout): job %\(i) holds pid \(pid)") }
                        if status == SP_RUNNING || status & 0xff == 0x7f { pids.append(pid) }
                        p = next
                        n += 1
                    }
                    let state: ShellJob.State = stat & STAT_DONE != 0 ? .done : (stat & STAT_STOPPED != 0 ? .stopped : .running)
                    jobs.append(ShellJob(number: i, pgid: gleader, pids: pids, state: state, noHup: false,
                                         foreground: Int32(i) == thisjob,
                                         signalable: stat & STAT_LOCKED != 0 && stat & STAT_NOPRINT == 0))
                }
            }
            return .success(ShellView(shell: .zsh, version: version, shellPid: Int32(mypid),
                                      interactive: opts[optINTERACTIVE] != 0, login: opts[optLOGINSHELL] != 0,
                                      jobControl: opts[optMONITOR] != 0, hupOption: opts[optHUP] != 0,
                                      hupTrapped: hupTrap & 1 != 0, currentJob: thisjob, jobs: jobs))
        } catch {
            return .failure(error)
        }
    }

    /// Only `sigtrapped[SIGHUP] & ZSIG_TRAPPED` (for a fork of the session's zsh).
    public static func hupTrapped(_ source: MemorySource, symbols s: SymbolAddresses) -> Result<Bool, DecodeFailure> {
        do throws(DecodeFailure) {
            var m = BoundedMemory(source, budget: 4096)
            let version = try zshVersion(&m, s)
            guard knownVersions.contains(version) else { throw DecodeFailure("zsh \(version): layout unknown") }
            let trapAt = try s.address("sigtrapped", layout: "zsh \(version)")
            return .success(try m.i32(trapAt &+ 4, "sigtrapped[SIGHUP]") & 1 != 0)
        } catch {
            return .failure(error)
        }
    }

    /// `$ZSH_VERSION` from the global parameter table (Src/hashtable.c: bucket `hasher(name) %
    /// hsize`, then the chain).
    static func zshVersion(_ m: inout BoundedMemory, _ s: SymbolAddresses) throws(DecodeFailure) -> String {
        guard let table = try m.pointer(s.address("realparamtab", size: 8, layout: "zsh"), "realparamtab") else {
            throw DecodeFailure("zsh: realparamtab is NULL")
        }
        let head = try m.bytes(table, 16, "the parameter table")
        let hsize = BoundedMemory.i32(head, 0)
        let nodes = BoundedMemory.le64(head, 8)
        guard hsize > 0, hsize <= 1 << 16 else { throw DecodeFailure("zsh: parameter table size \(hsize)") }
        try BoundedMemory.check(nodes, "the parameter table's buckets")
        let bucket = UInt64(hasher("ZSH_VERSION") % UInt32(hsize))
        var node = try m.pointer(nodes &+ bucket &* 8, "a parameter bucket", nullable: true)
        var n = 0
        while let at = node, n < maxChain {
            let name = try m.pointer(at &+ 8, "a parameter's name", alignment: 1)!
            if try m.cString(name, limit: 32, "a parameter's name") == "ZSH_VERSION" {
                let str = try m.pointer(at &+ 24, "$ZSH_VERSION", alignment: 1)!
                return try m.cString(str, limit: 32, "$ZSH_VERSION")
            }
            node = try m.pointer(at, "a parameter chain link", nullable: true)
            n += 1
        }
        throw DecodeFailure("zsh: no $ZSH_VERSION in its parameter table")
    }

    /// Src/hashtable.c hasher: `hashval += (hashval << 5) + c`.
    public static func hasher(_ s: String) -> UInt32 {
        var h: UInt32 = 0
        for c in s.utf8 { h = h &+ (h << 5) &+ UInt32(c) }
        return h
    }
}
