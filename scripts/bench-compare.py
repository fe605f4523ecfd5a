#!/usr/bin/env python3
"""Two builds of `sessiontop snapshot --json` (and ps) on the same load, interleaved: did a change
make the scan slower? Uses bench-snapshot.py's load (~2000 processes in ~50 sessions).

    python3 scripts/bench-compare.py OLD_BINARY NEW_BINARY [--reps 21]
"""
import argparse, importlib.util, os, signal, statistics, time

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench", os.path.join(here, "bench-snapshot.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--reps", type=int, default=21)
    args = ap.parse_args()
    leaders = bench.spawn_load(50, 40)
    times = {"old": [], "new": [], "ps": []}
    try:
        deadline = time.time() + 60
        while len(bench.descendants([p.pid for p in leaders])) < 50 * 40 and time.time() < deadline:
            time.sleep(0.2)
        nproc = bench.count_procs()
        load = os.getloadavg()[0]
        for _ in range(args.reps):
            times["old"].append(bench.timed([args.old, "snapshot", "--json"])[0])
            times["new"].append(bench.timed([args.new, "snapshot", "--json"])[0])
            times["ps"].append(bench.timed(["ps", "-eo", "pid,ppid,pgid,sid,tty,tpgid,stat,comm"])[0])
    finally:
        for p in bench.descendants([p.pid for p in leaders]) + [p.pid for p in leaders]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in leaders:
            p.wait()
    print(f"load: {nproc} processes; load average {load:.2f}; {args.reps} reps, interleaved")
    for k, v in times.items():
        print(f"  {k:4s} median {statistics.median(v) * 1000:7.1f} ms   (min {min(v) * 1000:7.1f} ms)")
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"new/old = {med['new'] / med['old']:.3f}   old/ps = {med['old'] / med['ps']:.2f}   new/ps = {med['new'] / med['ps']:.2f}")

if __name__ == "__main__":
    main()
