#!/usr/bin/env python3
"""Writes the fixture /proc trees the parser tests read. The texts follow real files captured
on this machine (kernel 6.18): stat and status lines are edited copies, not invented formats.
Run from this folder; the output is committed."""
import os, shutil

STATUS = """Name:\t{name}
Umask:\t{umask}
State:\t{state_long}
Tgid:\t{pid}
Ngid:\t0
Pid:\t{pid}
PPid:\t{ppid}
TracerPid:\t0
Uid:\t{uid}\t{uid}\t{uid}\t{uid}
Gid:\t{gid}\t{gid}\t{gid}\t{gid}
FDSize:\t256
Groups:\t 
NStgid:\t{pid}
NSpid:\t{pid}
NSpgid:\t{pgid}
NSsid:\t{sid}
Kthread:\t{kthread}
VmPeak:\t    3060 kB
VmSize:\t    3060 kB
VmRSS:\t    1688 kB
Threads:\t{threads}
SigQ:\t0/96365
SigPnd:\t{sigpnd:016x}
ShdPnd:\t{shdpnd:016x}
SigBlk:\t{sigblk:016x}
SigIgn:\t{sigign:016x}
SigCgt:\t{sigcgt:016x}
CapInh:\t0000000000000000
CapPrm:\t000001fffeffffff
NoNewPrivs:\t0
Cpus_allowed_list:\t0-1
voluntary_ctxt_switches:\t12
nonvoluntary_ctxt_switches:\t3
"""

DRIVERS = """/dev/tty             /dev/tty        5       0 system:/dev/tty
/dev/console         /dev/console    5       1 system:console
/dev/ptmx            /dev/ptmx       5       2 system
/dev/vc/0            /dev/vc/0       4       0 system:vtmaster
serial               /dev/ttyS       4 64-95 serial
pty_slave            /dev/pts      136 0-1048575 pty:slave
pty_master           /dev/ptm      128 0-1048575 pty:master
unknown              /dev/tty        4 1-63 console
"""

LONG = {"R": "R (running)", "S": "S (sleeping)", "T": "T (stopped)", "Z": "Z (zombie)", "I": "I (idle)"}

def bit(*sigs):
    m = 0
    for s in sigs: m |= 1 << (s - 1)
    return m

def proc(root, pid, comm, state, ppid, pgid, sid, tty, tpgid, start, argv=b"", uid=0, umask="0022",
         flags=4194304, threads=1, cwd=None, exe=None, fds=(), sigign=0, sigcgt=0, sigblk=0,
         sigpnd=0, shdpnd=0, kthread=0, missing=(), tasks=None):
    d = os.path.join(root, str(pid))
    os.makedirs(d)
    stat = b"%d (%s) %s %d %d %d %d %d %d 102 0 0 0 7 3 0 0 20 0 %d 0 %d 3133440 381 18446744073709551615 94221821210624 94221821230505 140736237507920 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n" % (
        pid, comm, state.encode(), ppid, pgid, sid, tty, tpgid, flags, threads, start)
    files = {"stat": stat,
             "status": STATUS.format(name=comm.decode("utf-8", "replace").replace("\n", "\\n")[:15], umask=umask,
                                     state_long=LONG[state], pid=pid, ppid=ppid, uid=uid, gid=uid,
                                     pgid=pgid, sid=sid, kthread=kthread, threads=threads,
                                     sigpnd=sigpnd, shdpnd=shdpnd, sigblk=sigblk, sigign=sigign,
                                     sigcgt=sigcgt).encode(),
             "cmdline": argv}
    for name, data in files.items():
        if name in missing: continue
        with open(os.path.join(d, name), "wb") as f: f.write(data)
    if cwd: os.symlink(cwd, os.path.join(d, "cwd"))
    if exe: os.symlink(exe, os.path.join(d, "exe"))
    if not kthread and state != "Z" and "fd" not in missing:
        os.makedirs(os.path.join(d, "fd"))
        os.makedirs(os.path.join(d, "fdinfo"))
        for n, target, fl in fds:
            os.symlink(target, os.path.join(d, "fd", str(n)))
            with open(os.path.join(d, "fdinfo", str(n)), "w") as f:
                f.write("pos:\t%d\nflags:\t%s\nmnt_id:\t25\nino:\t6\n" % (n * 10, fl))
    if tasks:
        os.makedirs(os.path.join(d, "task"))
        for tid, blk, pnd in tasks:
            t = os.path.join(d, "task", str(tid))
            os.makedirs(t)
            with open(os.path.join(t, "status"), "w") as f:
                f.write(STATUS.format(name=comm.decode(), umask=umask, state_long=LONG[state], pid=pid,
                                      ppid=ppid, uid=uid, gid=uid, pgid=pgid, sid=sid, kthread=0,
                                      threads=threads, sigpnd=pnd, shdpnd=shdpnd, sigblk=blk,
                                      sigign=sigign, sigcgt=sigcgt))

def basic(root):
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "tty"))
    with open(os.path.join(root, "tty", "drivers"), "w") as f: f.write(DRIVERS)
    with open(os.path.join(root, "uptime"), "w") as f: f.write("4321.50 8000.00\n")
    os.symlink("300", os.path.join(root, "self"))
    pts3 = (136 << 8) | 3
    ttyS0 = (4 << 8) | 64
    # init and a kernel thread
    proc(root, 1, b"init", "S", 0, 1, 1, 0, -1, 5, b"/sbin/init\0", cwd="/", exe="/sbin/init",
         fds=[(0, "/dev/null", "0100000")], sigign=bit(1, 15))
    proc(root, 2, b"kthreadd", "S", 0, 0, 0, 0, -1, 6, flags=2129984, kthread=1)
    proc(root, 40, b"kworker/0:1-events", "I", 2, 0, 0, 0, -1, 7, flags=69238880, kthread=1)
    # an interactive bash on pts/3, a stopped job, a foreground pipeline
    proc(root, 100, b"bash", "S", 1, 100, 100, pts3, 300, 1000, b"-bash\0", uid=1000,
         cwd="/home/ann", exe="/usr/bin/bash",
         fds=[(0, "/dev/pts/3", "0100002"), (1, "/dev/pts/3", "0100002"), (2, "/dev/pts/3", "0100002"),
              (255, "/dev/pts/3", "02100002")],
         sigign=bit(3, 20, 21, 22), sigcgt=bit(1, 2, 17, 28))
    proc(root, 200, b"vim", "T", 100, 200, 100, pts3, 300, 1100, b"vim\0notes.txt\0", uid=1000,
         cwd="/home/ann/src", exe="/usr/bin/vim.basic",
         fds=[(0, "/dev/pts/3", "0100002"), (1, "/dev/pts/3", "0100002"), (2, "/dev/pts/3", "0100002"),
              (3, "/home/ann/src/.notes.txt.swp", "0100002")], sigpnd=bit(1))
    proc(root, 300, b"cat", "S", 100, 300, 100, pts3, 300, 1200, b"cat\0", uid=1000, cwd="/home/ann",
         exe="/usr/bin/cat", umask="0027",
         fds=[(0, "/dev/pts/3", "0100000"), (1, "pipe:[43210]", "01"), (2, "/dev/pts/3", "0100002")])
    proc(root, 301, b"grep", "S", 100, 300, 100, pts3, 300, 1201, b"grep\0x\0", uid=1000,
         cwd="/home/ann", exe="/usr/bin/grep",
         fds=[(0, "pipe:[43210]", "0"), (1, "/dev/pts/3", "0100002"), (2, "/dev/pts/3", "0100002"),
              (4, "socket:[5555]", "02"), (5, "anon_inode:[eventfd]", "02004002"),
              (6, "/memfd:buffer (deleted)", "0100002"), (7, "/tmp/old.log (deleted)", "0100001"),
              (8, "net:[4026531840]", "0")])
    # odd bytes: comm with ") (", spaces and a newline; argv that is not UTF-8; threads
    proc(root, 400, b") (x y\nz", "S", 100, 400, 100, pts3, 300, 1300,
         b"odd\xff\xfename\0arg with space\0line\nbreak\0", uid=1000, cwd="/home/ann",
         exe="/usr/bin/odd", threads=3, sigblk=0,
         fds=[(0, "/dev/pts/3", "0100002")],
         tasks=[(400, 0, 0), (401, bit(1), 0), (402, bit(1, 10), bit(12))])
    # a zombie in the stopped job's group
    proc(root, 500, b"sh", "Z", 200, 200, 100, pts3, 300, 1400, uid=1000)
    # a process that vanished mid-scan: stat is there, status is gone
    proc(root, 600, b"gone", "S", 100, 600, 100, pts3, 300, 1500, b"gone\0", uid=1000,
         missing=("status", "cmdline"))
    # a nohup'ed daemon in its own session without a terminal, and a serial console login
    proc(root, 700, b"backupd", "S", 1, 700, 700, 0, -1, 1600, b"backupd\0--daemon\0", uid=0,
         cwd="/", exe="/usr/sbin/backupd", umask="0077", sigign=bit(1),
         fds=[(0, "/dev/null", "0100000"), (1, "/var/log/backupd.log", "02102001"),
              (2, "/var/log/backupd.log", "02102001"), (3, "/var/lib/backupd", "0200000")])
    proc(root, 800, b"agetty", "S", 1, 800, 800, ttyS0, 800, 1700, b"/sbin/agetty\0ttyS0\0", uid=0,
         cwd="/", exe="/sbin/agetty", fds=[(0, "/dev/ttyS0", "0100002")])
    # a group whose leader is gone (its member's parent is init: orphaned)
    proc(root, 901, b"worker", "S", 1, 900, 100, pts3, 300, 1800, b"worker\0", uid=1000,
         cwd="/home/ann", exe="/usr/bin/worker", fds=[])

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    basic(os.path.join(here, "basic"))
