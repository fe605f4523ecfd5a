/// The `snapshot --json` document: sessions → groups → processes, with every field and
/// the hangup verdicts for each event. Unreadable fields are `null` with a `<name>_unknown`
/// string that says why.
public enum SnapshotJSON {
    public static func render(_ snapshot: Snapshot, sessions: [Session],
                              verdicts: [HangupEvent: [Int32: Verdict]]) -> [UInt8] {
        var w = JSONWriter(capacity: snapshot.processes.count * 1024)
        w.object { w in
            w.key("host"); w.string(snapshot.hostname)
            w.key("self_pid"); w.int(snapshot.selfPid)
            w.key("clock_ticks"); w.int(snapshot.clockTicks)
            w.key("uptime"); w.double(snapshot.uptime)
            w.key("sessions")
            w.array { w in
                for s in sessions { session(s, snapshot, verdicts, &w) }
            }
        }
        var out = w.bytes
        out.append(0x0A)
        return out
    }

    static func session(_ s: Session, _ snap: Snapshot, _ verdicts: [HangupEvent: [Int32: Verdict]],
                        _ w: inout JSONWriter) {
        w.object { w in
            w.key("sid"); w.int(s.sid)
            w.key("leader"); if let l = s.leader { w.int(l) } else { w.null() }
            w.key("tty"); if let t = s.tty { w.string(t) } else { w.null() }
            w.key("foreground_pgid"); if let f = s.foregroundPgid { w.int(f) } else { w.null() }
            w.key("groups")
            w.array { w in
                for g in s.groups {
                    w.object { w in
                        w.key("pgid"); w.int(g.pgid)
                        w.key("leader_present"); w.bool(g.leaderPresent)
                        w.key("foreground"); w.bool(g.isForeground)
                        w.key("orphaned"); w.bool(g.isOrphaned)
                        w.key("stopped"); w.bool(g.hasStopped)
                        w.key("processes")
                        w.array { w in
                            for pid in g.members {
                                process(snap.processes[pid]!, verdicts, &w, snapshot: snap)
                            }
                        }
                    }
                }
            }
            // Added by issue 9, after the fields that were there before it.
            w.key("shell"); shellView(s.leader.flatMap { snap.shellMemory[$0] }, &w)
        }
    }

    public static func process(_ p: ProcessInfo, _ verdicts: [HangupEvent: [Int32: Verdict]],
                               _ w: inout JSONWriter, snapshot: Snapshot? = nil) {
        w.object { w in
            w.key("pid"); w.int(p.pid)
            w.key("ppid"); w.int(p.ppid)
            w.key("pgid"); w.int(p.pgid)
            w.key("sid"); w.int(p.sid)
            w.key("tpgid"); w.int(p.tpgid)
            w.key("tty"); if let t = p.tty { w.string(t) } else { w.null() }
            w.key("state"); w.string(String(p.state.letter))
            w.key("comm"); w.string(bytes: p.comm)
            field("argv", "argv_unknown", p.argv, &w) { w, argv in
                w.array { w in for a in argv { w.string(bytes: a) } }
            }
            field("exe", "exe_unknown", p.exe, &w) { w, v in w.string(bytes: v) }
            if let why = p.userUnknown {
                w.key("user"); w.null()
                w.key("user_unknown"); w.string(why.description)
            } else {
                w.key("user"); w.string(p.user)
            }
            let unknown = ProcessInfo.unknownID
            w.key("uid"); if p.uid == unknown { w.null() } else { w.int(p.uid) }
            w.key("euid"); if p.euid == unknown { w.null() } else { w.int(p.euid) }
            w.key("gid"); if p.gid == unknown { w.null() } else { w.int(p.gid) }
            w.key("start_time"); w.int(p.startTime)
            w.key("threads"); w.int(p.threads)
            w.key("session_leader"); w.bool(p.isSessionLeader)
            w.key("kernel_thread"); w.bool(p.isKernelThread)
            field("cwd", "cwd_unknown", p.cwd, &w) { w, v in w.string(bytes: v) }
            field("umask", "umask_unknown", p.umask, &w) { w, v in w.string(Self.octal(v)) }
            field("fds", "fds_unknown", p.fds, &w) { w, files in
                w.array { w in
                    for f in files {
                        w.object { w in
                            w.key("fd"); w.int(f.fd)
                            w.key("target"); w.string(bytes: f.target)
                            w.key("kind"); w.string(f.kind.rawValue)
                            switch f.info {
                            case .known(let info):
                                w.key("flags"); w.string(Self.octal(info.flags, width: 7))
                                w.key("pos"); w.int(info.position)
                                w.key("open_flags"); w.string(OpenFlags.names(info.flags))
                            case .unknown(.notRead): break
                            case .unknown(let why):
                                w.key("flags"); w.null()
                                w.key("pos"); w.null()
                                w.key("fdinfo_unknown"); w.string(why.description)
                            }
                        }
                    }
                }
            }
            w.key("signals")
            w.object { w in
                w.key("ignored"); w.strings(p.signals.ignored.names)
                w.key("caught"); w.strings(p.signals.caught.names)
                w.key("blocked"); w.strings(p.signals.blocked.names)
                w.key("pending"); w.strings(p.signals.pending.names)
            }
            if !verdicts.isEmpty {
                w.key("hangup")
                w.object { w in
                    for event in HangupEvent.allCases {
                        guard let v = verdicts[event]?[p.pid] else { continue }
                        switch event {
                        case .hangup: w.key("hangup")
                        case .leaderExit: w.key("leader-exit")
                        case .logout: w.key("logout")
                        }
                        verdict(v, &w)
                    }
                }
            }
            // Added by issue 9, after the fields that were there before it.
            field("cgroup", "cgroup_unknown", p.cgroup, &w) { w, v in w.string(bytes: v) }
            if let snapshot { shellJob(p, snapshot, &w) }
        }
    }

    public static func verdict(_ v: Verdict, _ w: inout JSONWriter) {
        w.object { w in
            w.key("fate"); w.string(v.fate.rawValue)
            w.key("by"); if let by = v.by { w.string(by.rawValue) } else { w.null() }
            w.key("certain"); w.bool(v.certain)
            w.key("reasons"); w.strings(v.reasons)
        }
    }

    /// Writes the value, or `null` and `<name>_unknown: reason`.
    static func field<T>(_ name: StaticString, _ unknownName: StaticString, _ f: Field<T>,
                         _ w: inout JSONWriter, _ body: (inout JSONWriter, T) -> Void) {
        w.key(name)
        switch f {
        case .known(let v): body(&w, v)
        case .unknown(let r):
            w.null()
            w.key(unknownName)
            w.string(r.description)
        }
    }

    /// `0022`, zero-padded octal.
    public static func octal(_ v: UInt32, width: Int = 4) -> String {
        let s = String(v, radix: 8)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
