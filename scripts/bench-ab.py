#!/usr/bin/env python3
"""A/B: two sessiontop binaries, `snapshot --json`, interleaved on the same load as
bench-snapshot.py (50 sessions, ~2050 processes); CPU time (user+sys, wait4 rusage) is less
disturbed by a busy machine than wall time. Kills everything it started by pid.

    python3 scripts/bench-ab.py BEFORE_BINARY AFTER_BINARY [--reps 15]
"""
import argparse, importlib.util, os, signal, statistics, subprocess, time

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench", os.path.join(here, "bench-snapshot.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

ap = argparse.ArgumentParser()
ap.add_argument("before"); ap.add_argument("after"); ap.add_argument("--reps", type=int, default=15)
args = ap.parse_args()
leaders = bench.spawn_load(50, 40)
try:
    time.sleep(3)
    bins = {"before": args.before, "after": args.after}
    cpu = {k: [] for k in bins}
    for _ in range(args.reps):
        for k, path in bins.items():
            p = subprocess.Popen([path, "snapshot", "--json"], stdout=subprocess.DEVNULL)
            _, _, ru = os.wait4(p.pid, 0)
            cpu[k].append(ru.ru_utime + ru.ru_stime)
    for k in bins:
        print(f"{k:7s} cpu median {1000 * statistics.median(cpu[k]):6.1f} ms  (min {1000 * min(cpu[k]):6.1f} ms)")
    print(f"after/before = {statistics.median(cpu['after']) / statistics.median(cpu['before']):.2f}")
finally:
    for p in leaders:
        try: os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError: pass
    for p in leaders: p.wait()
