/// The shell's own view and the cgroup in the JSON documents (`snapshot --json`, `hangup
/// --json`): what the shell's memory says, so a teacher can show what `disown` really changes.
extension SnapshotJSON {
    /// `"shell": {"source": "memory", "shell", "version", "trusted", "reason", "interactive",
    /// "login", "job_control", "huponexit", "hup_option", "hup_trapped", "jobs": [{"number",
    /// "pgid", "pids", "state", "nohup", "foreground"}]}` for a bash/zsh leader whose memory was
    /// looked at; `null` otherwise.
    public static func shellView(_ m: ShellMemory?, _ w: inout JSONWriter) {
        guard let m else { w.null(); return }
        w.object { w in
            w.key("source"); w.string("memory")
            w.key("trusted"); w.bool(m.trusted)
            w.key("reason"); if let r = m.reason { w.string(r) } else { w.null() }
            guard let v = m.view else { return }
            w.key("shell"); w.string(v.shell.rawValue)
            w.key("version"); w.string(v.version)
            w.key("pid"); w.int(v.shellPid)
            w.key("interactive"); w.bool(v.interactive)
            w.key("login"); w.bool(v.login)
            w.key("job_control"); w.bool(v.jobControl)
            w.key("huponexit"); if let h = v.hupOnExit { w.bool(h) } else { w.null() }
            w.key("hup_option"); if let h = v.hupOption { w.bool(h) } else { w.null() }
            w.key("hup_trapped"); w.bool(v.hupTrapped)
            w.key("jobs")
            w.array { w in for j in v.jobs { job(j, &w) } }
        }
    }

    static func job(_ j: ShellJob, _ w: inout JSONWriter) {
        w.object { w in
            w.key("number"); w.int(Int32(clamping: j.number))
            w.key("pgid"); w.int(j.pgid)
            w.key("pids"); w.array { w in for p in j.pids { w.int(p) } }
            w.key("state"); w.string(j.state.rawValue)
            w.key("nohup"); w.bool(j.noHup)
            w.key("foreground"); w.bool(j.foreground)
        }
    }

    /// `"shell_job"`: the entry of the leader's job table for this process's group (as the
    /// shell sees it), `null` when the table (read and trusted) has none — a disowned job —
    /// and absent when the leader's table was not read.
    static func shellJob(_ p: ProcessInfo, _ snap: Snapshot, _ w: inout JSONWriter) {
        guard let s = snap.session(p.sid), let l = s.leader, l != p.pid, let m = snap.shellMemory[l],
              m.trusted, let v = m.view else { return }
        w.key("shell_job")
        if let j = v.job(group: p.pgid) { job(j, &w) } else { w.null() }
    }
}
