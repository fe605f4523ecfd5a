#!/usr/bin/env python3
"""Benchmark: `sessiontop snapshot --json` against `ps` and `lsof` on the same load, same run.

Spawns ~2000 processes in ~50 sessions (every fifth session holds 40 extra open files per
process), then times each command REPS times, interleaved, and reports the medians, the ratios
and sessiontop's peak RSS (getrusage of the child). Kills everything it started by pid.

    python3 scripts/bench-snapshot.py [--sessions 50] [--per-session 40] [--reps 15] [--binary PATH]
"""
import argparse, os, signal, statistics, subprocess, sys, time

def spawn_load(sessions, per_session):
    leaders = []
    for s in range(sessions):
        extra = ""
        if s % 5 == 0:  # extra open files in some sessions
            extra = " ".join(f"{fd}</etc/passwd" for fd in range(10, 50))
            extra = f"exec {extra};"
        script = f"{extra} for i in $(seq {per_session}); do sleep 100000 & done; wait"
        p = subprocess.Popen(["bash", "-c", script], start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, close_fds=True)
        leaders.append(p)
    return leaders

def descendants(pids):
    """Every live descendant of the given pids, read from /proc (children of each)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], list(pids)
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out

def count_procs():
    return sum(1 for d in os.listdir("/proc") if d.isdigit())

def timed(argv):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{argv[0]} failed with status {status}")
    return dt, ru.ru_maxrss  # KiB

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--per-session", type=int, default=40)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "sessiontop"))
    args = ap.parse_args()

    leaders = spawn_load(args.sessions, args.per_session)
    try:
        want = args.sessions * (args.per_session + 1)
        deadline = time.time() + 120
        while len(descendants([p.pid for p in leaders])) < args.sessions * args.per_session:
            if time.time() > deadline:
                sys.exit("the load did not start within 120 s")
            time.sleep(0.1)
        load_before = os.getloadavg()[0]
        nproc = count_procs()
        fds = sum(len(os.listdir(f"/proc/{d}/fd")) for d in os.listdir("/proc")
                  if d.isdigit() and os.path.exists(f"/proc/{d}/fd"))
        commands = {
            "sessiontop": [args.binary, "snapshot", "--json"],
            "ps": ["ps", "-eo", "pid,ppid,pgid,sid,tty,tpgid,stat,args"],
            "lsof": ["lsof", "-n", "-P", "-w"],
        }
        times = {k: [] for k in commands}
        rss = {k: 0 for k in commands}
        for name, argv in commands.items():  # warm-up
            timed(argv)
        for _ in range(args.reps):
            for name, argv in commands.items():
                dt, peak = timed(argv)
                times[name].append(dt)
                rss[name] = max(rss[name], peak)
        med = {k: statistics.median(v) for k, v in times.items()}
        load_after = os.getloadavg()[0]
        print(f"machine: {os.cpu_count()} cores, load average {load_before:.2f} before the runs, {load_after:.2f} after")
        print(f"load: {nproc} processes in /proc ({want} started in {args.sessions} sessions), {fds} open fds")
        print(f"reps: {args.reps}, interleaved; median wall time; peak RSS over all runs")
        for k in commands:
            print(f"  {k:11s} {med[k]*1000:8.1f} ms   (min {min(times[k])*1000:7.1f} ms)   peak RSS {rss[k]/1024:6.1f} MiB")
        print(f"ratio sessiontop/ps   = {med['sessiontop']/med['ps']:.2f}  (floor: <= 1.20)")
        print(f"ratio lsof/sessiontop = {med['lsof']/med['sessiontop']:.2f}  (floor: >= 3.00)")
        print(f"sessiontop peak RSS   = {rss['sessiontop']/1024:.1f} MiB (floor: < 40 MiB)")
    finally:
        pids = [p.pid for p in leaders]
        everyone = descendants(pids) + pids
        for pid in everyone:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in leaders:
            p.wait()

if __name__ == "__main__":
    main()
