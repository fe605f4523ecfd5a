#!/usr/bin/env python3
"""Issue 8's benchmark: detach in place of a three-process job, y to verdict.

    scripts/bench-detach.py [rounds=10]        (SESSIONTOP_BIN overrides the binary)

Each round starts an interactive bash (--norc) on a fresh pty running a foreground pipeline of
three sleeps, then detaches that job in place twice over, on two fresh jobs:

  sessiontop  `sessiontop detach --pgid G --yes --json`: its own figures, `total_us` (from the
              confirmed plan to the re-run hangup verdicts: what `y` in the TUI waits for) and
              `engine_us` (the ptrace engine alone), and the command's wall time (process start,
              /proc scan and plan included);
  gdb         the classic recipe from outside the shell, one `gdb -p PID -batch` per process:
              `signal(SIGHUP, SIG_IGN)`, `open(log, O_WRONLY|O_CREAT|O_APPEND)`, `dup2` onto each
              of its terminal fds 1 and 2, `close` — less than sessiontop does (no stdin, no
              group move, no check), timed wall clock for the three.

Both results are checked (SIGHUP ignored, fds on the log) before a round counts. Every process
it starts is killed by pid at the end of its round (the job, then bash), and the pty closed.
"""
import json, os, pty, random, signal, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("SESSIONTOP_BIN", os.path.join(ROOT, ".build/debug/sessiontop"))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
WORK = "/tmp/bench-detach.%d" % os.getpid()
os.makedirs(WORK, exist_ok=True)


def stat(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        s = f.read()
    rest = s[s.rindex(b")") + 2:].split()
    return {"state": rest[0].decode(), "ppid": int(rest[1]), "pgid": int(rest[2]), "start": int(rest[19])}


def argv(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def sig_ign_hup(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return int(line.split()[1], 16) & 1 == 1
    return False


def fd_target(pid, fd):
    try:
        return os.readlink("/proc/%d/fd/%d" % (pid, fd))
    except OSError:
        return ""


class Job:
    """bash -i on a new pty, running `sleep M | sleep M | sleep M` in the foreground."""

    def __init__(self):
        self.marker = "7%d" % random.randint(10**8, 10**9 - 1)
        self.bash, self.master = pty.fork()
        if self.bash == 0:
            os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"],
                       {"PATH": "/usr/bin:/bin", "HOME": WORK, "TERM": "dumb", "PS1": "$ "})
        self.drain(0.3)
        os.write(self.master, ("sleep %s | sleep %s | sleep %s\n" % ((self.marker,) * 3)).encode())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.drain(0.05)
            pids = sorted(p for p in map(int, filter(str.isdigit, os.listdir("/proc")))
                          if argv(p)[:2] == [b"sleep", self.marker.encode()])
            if len(pids) == 3 and len({stat(p)["pgid"] for p in pids}) == 1:
                self.pids = pids
                self.pgid = stat(pids[0])["pgid"]
                return
        raise SystemExit("bench-detach: the job did not start")

    def drain(self, seconds):
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            import select
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    return

    def terminal_fds(self, pid):
        tty = fd_target(self.bash, 0)
        return [fd for fd in (1, 2) if fd_target(pid, fd) == tty]

    def cleanup(self):
        for p in self.pids + [self.bash]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.close(self.master)
        os.waitpid(self.bash, 0)


def by_sessiontop(job, log):
    t = time.monotonic()
    r = subprocess.run([BIN, "detach", "--pgid", str(job.pgid), "--yes", "--json", "--log", log],
                       capture_output=True, text=True)
    wall = time.monotonic() - t
    if r.returncode != 0:
        raise SystemExit("bench-detach: sessiontop detach failed: %s %s" % (r.stdout, r.stderr))
    out = json.loads(r.stdout)
    assert out["done"], out["line"]
    return wall, out["total_us"] / 1000.0, out["engine_us"] / 1000.0


def by_gdb(job, log):
    t = time.monotonic()
    for pid in job.pids:
        cmds = ["-ex", "call (int)signal(1, 1)", "-ex", 'call (int)open("%s", 1089, 0600)' % log]
        for fd in job.terminal_fds(pid):
            cmds += ["-ex", "call (int)dup2($2, %d)" % fd]
        cmds += ["-ex", "call (int)close($2)"]
        subprocess.run(["gdb", "-nx", "-p", str(pid), "-batch"] + cmds, capture_output=True)
    return time.monotonic() - t


def check(job, log, what):
    for p in job.pids:
        assert sig_ign_hup(p), "%s: pid %d does not ignore SIGHUP" % (what, p)
        assert fd_target(p, 2) == log, "%s: pid %d fd 2 is %s" % (what, p, fd_target(p, 2))


def main():
    if not os.access(BIN, os.X_OK):
        raise SystemExit("bench-detach: build first (swift build), or set SESSIONTOP_BIN")
    if subprocess.run(["sh", "-c", "command -v gdb"], capture_output=True).returncode != 0:
        raise SystemExit("bench-detach: gdb is not installed (apt-get install gdb)")
    st_wall, st_total, st_engine, gdb_wall = [], [], [], []
    for i in range(ROUNDS):
        job = Job()
        try:
            log = "%s/st-%d.log" % (WORK, i)
            w, total, engine = by_sessiontop(job, log)
            check(job, log, "sessiontop")
            st_wall.append(w * 1000); st_total.append(total); st_engine.append(engine)
        finally:
            job.cleanup()
        job = Job()
        try:
            log = "%s/gdb-%d.log" % (WORK, i)
            gdb_wall.append(by_gdb(job, log) * 1000)
            check(job, log, "gdb")
        finally:
            job.cleanup()

    def fig(xs):
        xs = sorted(xs)
        return "median %.1f, p90 %.1f, max %.1f" % (statistics.median(xs), xs[min(len(xs) - 1, int(len(xs) * 0.9))], xs[-1])

    load = open("/proc/loadavg").read().split()[0]
    print("| %d rounds, load %s | ms |" % (ROUNDS, load))
    print("|---|---|")
    print("| sessiontop: y → verdict (`total_us`: engine + re-read + hangup verdicts) | %s |" % fig(st_total))
    print("| sessiontop: the ptrace engine alone (`engine_us`), 3 processes | %s |" % fig(st_engine))
    print("| sessiontop: the whole `detach --pgid … --yes` command, wall | %s |" % fig(st_wall))
    print("| gdb -p -batch ×3 (signal + open + dup2 + close), wall | %s |" % fig(gdb_wall))
    print("| ratio gdb / sessiontop (whole command, medians) | **%.1f×** |" % (statistics.median(gdb_wall) / statistics.median(st_wall)))


main()
