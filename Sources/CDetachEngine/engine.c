#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "CDetachEngine.h"
#include "arch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

/// See CDetachEngine.h for the design. Everything below `helper_main` runs in the forked
/// helper: no malloc, no stdio, only syscalls and static buffers (the helper's own copy).

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#define ST_SYSCALL_INFO_ENTRY 1
#define ST_SYSCALL_INFO_EXIT 2

/// struct ptrace_syscall_info (include/uapi/linux/ptrace.h, 5.3), the part used here.
struct st_syscall_info {
    uint8_t op;
    uint8_t pad[3];
    uint32_t arch;
    uint64_t instruction_pointer;
    uint64_t stack_pointer;
    union {
        struct { uint64_t nr; uint64_t args[6]; } entry;
        struct { int64_t rval; uint8_t is_error; } exit;
        uint64_t raw[8];
    } u;
};

const char *st_detach_arch(void) { return ST_ARCH_NAME; }

int st_detach_elf_is_native(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    unsigned char h[20];
    ssize_t n = pread(fd, h, sizeof h, 0);
    close(fd);
    if (n < (ssize_t)sizeof h || memcmp(h, ELFMAG, SELFMAG) != 0) return -1;
    uint16_t machine = (uint16_t)(h[18] | (h[19] << 8));
#if defined(__x86_64__)
    return h[EI_CLASS] == ELFCLASS64 && machine == EM_X86_64;
#elif defined(__aarch64__)
    return h[EI_CLASS] == ELFCLASS64 && machine == EM_AARCH64;
#else
    (void)machine;
    return 0;
#endif
}

#ifndef ST_ARCH_NONE

/* ---------- small helpers (async-signal-safe) ---------- */

static long now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void sleep_us(long us) {
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/// "/proc/<pid>/<tail>" into buf.
static void proc_path(char *buf, size_t len, pid_t pid, const char *tail) {
    char digits[16];
    int n = 0;
    unsigned v = (unsigned)pid;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v && n < 15);
    size_t o = 0;
    const char *pre = "/proc/";
    while (*pre && o + 1 < len) buf[o++] = *pre++;
    while (n > 0 && o + 1 < len) buf[o++] = digits[--n];
    if (*tail && o + 1 < len) buf[o++] = '/';
    while (*tail && o + 1 < len) buf[o++] = *tail++;
    buf[o] = 0;
}

static void append_int(char *buf, size_t len, int v) {
    size_t o = strlen(buf);
    char d[16];
    int n = 0;
    unsigned u = (unsigned)v;
    do { d[n++] = (char)('0' + u % 10); u /= 10; } while (u && n < 15);
    while (n > 0 && o + 1 < len) buf[o++] = d[--n];
    buf[o] = 0;
}

/// Field 22 (starttime) of /proc/<pid>/stat, 0 when unreadable. The comm field may hold
/// spaces and parentheses: fields are counted after the last ')'.
static uint64_t read_start_time(pid_t pid) {
    static char buf[4096];
    char path[64];
    proc_path(path, sizeof path, pid, "stat");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    p++;
    // After ')': field 3 is state. Field 22 is the 20th field after it.
    int field = 2;
    while (*p && field < 22) {
        if (*p == ' ') { field++; p++; continue; }
        p++;
    }
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') { v = v * 10 + (uint64_t)(*p - '0'); p++; }
    return v;
}

/* ---------- waiting for stops ---------- */

enum stop_kind { STOP_NONE, STOP_EVENT, STOP_GROUP, STOP_SYSCALL, STOP_SIGNAL, STOP_FORK, STOP_GONE, STOP_TIMEOUT, STOP_ERROR };

/// Waits (polling, so it can time out) for the next stop of `tid`.
static int wait_stop(pid_t tid, int timeout_ms, int *status_out) {
    long deadline = now_us() + (long)timeout_ms * 1000;
    long nap = 20;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
        if (r == tid) {
            *status_out = status;
            if (WIFEXITED(status) || WIFSIGNALED(status)) return STOP_GONE;
            if (!WIFSTOPPED(status)) return STOP_ERROR;
            int sig = WSTOPSIG(status);
            int event = (status >> 16) & 0xff;
            if (sig == (SIGTRAP | 0x80)) return STOP_SYSCALL;
            if (event == PTRACE_EVENT_STOP) {
                return (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) ? STOP_GROUP : STOP_EVENT;
            }
            if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_VFORK) return STOP_FORK;
            if (event != 0) return STOP_EVENT;
            return STOP_SIGNAL;
        }
        if (r < 0 && errno != EINTR) return STOP_ERROR;
        if (now_us() > deadline) return STOP_TIMEOUT;
        sleep_us(nap);
        if (nap < 2000) nap *= 2;
    }
}

/* ---------- per-member state ---------- */

struct member_state {
    st_detach_member *out;
    pid_t tid;
    int attached;            /// seized (must be detached)
    int stopped;             /// in a ptrace stop we know
    st_arch_regs saved;
    unsigned long site;
    unsigned long scratch;
    int sig_changed;
    unsigned char old_sa[32];
    int fd_saved[ST_DETACH_MAX_FDS]; /// the target's dup of the old fd (-1 none)
    int fd_cloexec[ST_DETACH_MAX_FDS];
    int fds_changed;         /// how many of out->fds are currently redirected
    int group_changed;
    long stop_began;
};

static struct member_state members[ST_DETACH_MAX_MEMBERS];
static st_detach_request *R;

static void fail(int idx, int stage, int err) {
    if (R->failed_stage == ST_DS_NONE) {
        R->failed_stage = stage;
        R->failed_err = err;
        R->failed_member = idx;
    }
    if (idx >= 0 && members[idx].out->stage == ST_DS_NONE) {
        members[idx].out->stage = stage;
        members[idx].out->err = err;
    }
}

/// Forgets a failure recorded for member idx (it turned out to have exited: not a failure).
static void clear_failure(int idx) {
    if (R->failed_member == idx) { R->failed_stage = ST_DS_NONE; R->failed_err = 0; R->failed_member = -1; }
    members[idx].out->stage = ST_DS_NONE;
    members[idx].out->err = 0;
}

static void note_signal(struct member_state *m, int sig) {
    if (m->out->signals_count < ST_DETACH_MAX_SIGNALS) m->out->signals[m->out->signals_count++] = sig;
}

/// Runs one syscall in the stopped member; its return value in *ret. -1 (errno) when the
/// injection itself failed (the task vanished, an unexpected stop).
static int inject_in(pid_t tid, struct member_state *m, long nr, long a0, long a1, long a2, long a3, long a4, long a5, long *ret) {
    long args[6] = { a0, a1, a2, a3, a4, a5 };
    st_arch_regs w;
    st_arch_setup_call(&w, &m->saved, m->site, nr, args);
    if (st_arch_set_regs(tid, &w) < 0) return -1;
    int phase = 0; // 0: waiting for entry, 1: waiting for exit
    for (int guard = 0; guard < 64; guard++) {
        if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0) return -1;
        int status;
        int k = wait_stop(tid, 5000, &status);
        switch (k) {
        case STOP_SYSCALL: {
            struct st_syscall_info info;
            memset(&info, 0, sizeof info);
            if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof info, &info) < 0) return -1;
            if (phase == 0 && info.op == ST_SYSCALL_INFO_ENTRY) {
                if ((long)info.u.entry.nr != nr) { errno = EPROTO; return -1; }
                phase = 1;
                continue;
            }
            if (phase == 1 && info.op == ST_SYSCALL_INFO_EXIT) {
                *ret = (long)info.u.exit.rval;
                if (m->out) m->out->syscalls++;
                return 0;
            }
            errno = EPROTO;
            return -1;
        }
        case STOP_SIGNAL:
            // A signal arrived: suppress it now (it would run a handler on our registers),
            // re-send it at the end.
            if (m->out) note_signal(m, WSTOPSIG(status));
            continue;
        case STOP_FORK:
            // The dummy child's clone: the caller collects the child separately.
            continue;
        case STOP_EVENT:
        case STOP_GROUP:
            continue;
        case STOP_GONE:
            m->stopped = 0;
            m->attached = 0;
            errno = ESRCH;
            return -1;
        case STOP_TIMEOUT:
            errno = ETIMEDOUT;
            return -1;
        default:
            errno = EPROTO;
            return -1;
        }
    }
    errno = ELOOP;
    return -1;
}

static int inject(struct member_state *m, long nr, long a0, long a1, long a2, long a3, long a4, long a5, long *ret) {
    return inject_in(m->tid, m, nr, a0, a1, a2, a3, a4, a5, ret);
}

static int write_mem(pid_t tid, unsigned long addr, const void *data, size_t len) {
    struct iovec local = { (void *)data, len };
    struct iovec remote = { (void *)addr, len };
    ssize_t n = process_vm_writev(tid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len) return 0;
    // Fallback: /proc/<pid>/mem (same ptrace access check).
    char path[64];
    proc_path(path, sizeof path, tid, "mem");
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    n = pwrite(fd, data, len, (off_t)addr);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

static int read_mem(pid_t tid, unsigned long addr, void *data, size_t len) {
    struct iovec local = { data, len };
    struct iovec remote = { (void *)addr, len };
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len) return 0;
    char path[64];
    proc_path(path, sizeof path, tid, "mem");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    n = pread(fd, data, len, (off_t)addr);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

/// A syscall instruction in the task's vDSO (AT_SYSINFO_EHDR from /proc/P/auxv), 0 if none.
static unsigned long vdso_site(pid_t pid) {
    static unsigned long auxv[128];
    static unsigned char page[8192];
    char path[64];
    proc_path(path, sizeof path, pid, "auxv");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, auxv, sizeof auxv);
    close(fd);
    unsigned long base = 0;
    for (ssize_t i = 0; i + 1 < n / (ssize_t)sizeof(unsigned long); i += 2) {
        if (auxv[i] == 33 /* AT_SYSINFO_EHDR */) { base = auxv[i + 1]; break; }
        if (auxv[i] == 0) break;
    }
    if (!base) return 0;
    size_t len = sizeof page;
    while (len >= 4096 && read_mem(pid, base, page, len) < 0) len -= 4096;
    if (len < 4096) return 0;
    for (size_t i = 0; i + ST_ARCH_INSN_LEN <= len; i += (ST_ARCH_INSN_LEN == 4 ? 4 : 1)) {
        if (st_arch_is_syscall_insn(page + i)) return base + i;
    }
    return 0;
}

/* ---------- phase 1: stop every member ---------- */

static int stop_member(int idx) {
    struct member_state *m = &members[idx];
    st_detach_member *o = m->out;
    pid_t tid = o->tid > 0 ? o->tid : o->pid;
    m->tid = tid;
    int timeout = R->stop_timeout_ms > 0 ? R->stop_timeout_ms : 2000;
    if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
        // Gone already (a job's short-lived child): not a failure, nothing to do for it.
        if (errno == ESRCH) { o->status = ST_DM_VANISHED; return 0; }
        fail(idx, ST_DS_SEIZE, errno);
        return -1;
    }
    m->attached = 1;
    m->stop_began = now_us();
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) { fail(idx, ST_DS_SEIZE, errno); return -1; }
    for (;;) {
        int status;
        int k = wait_stop(tid, timeout, &status);
        if (k == STOP_EVENT) break;
        if (k == STOP_SIGNAL) {
            // A signal was dequeued before the interrupt trap: keep it for later, go on to
            // the trap (it is still pending, so the task stops again at once).
            note_signal(m, WSTOPSIG(status));
            if (ptrace(PTRACE_CONT, tid, 0, 0) < 0) { fail(idx, ST_DS_STOP, errno); return -1; }
            continue;
        }
        if (k == STOP_GROUP) { m->stopped = 1; fail(idx, ST_DS_STOPPED, EAGAIN); return -1; }
        if (k == STOP_GONE) { m->attached = 0; o->status = ST_DM_VANISHED; return 0; }
        if (k == STOP_TIMEOUT) { fail(idx, ST_DS_STOP, ETIMEDOUT); return -1; }
        fail(idx, ST_DS_STOP, errno ? errno : EPROTO);
        return -1;
    }
    m->stopped = 1;
    if (st_arch_get_regs(tid, &m->saved) < 0) { fail(idx, ST_DS_STOP, errno); return -1; }
    // Seized, it cannot be reaped, so its pid cannot be recycled from here on: check it now.
    if (o->start_time && read_start_time(o->pid) != o->start_time) { fail(idx, ST_DS_IDENTITY, ESRCH); return -1; }
    if (!st_arch_is_native(&m->saved)) { fail(idx, ST_DS_ABI, ENOEXEC); return -1; }
    o->interrupted_syscall = st_arch_syscall_nr(&m->saved);
    o->interrupted_result = st_arch_return_value(&m->saved);
    unsigned long cands[2];
    int nc = st_arch_site_candidates(&m->saved, cands);
    for (int i = 0; i < nc && !m->site; i++) {
        unsigned char b[8];
        if (read_mem(tid, cands[i], b, ST_ARCH_INSN_LEN) == 0 && st_arch_is_syscall_insn(b)) {
            m->site = cands[i];
            o->site = ST_SITE_SYSCALL;
        }
    }
    if (!m->site) {
        m->site = vdso_site(o->pid);
        if (m->site) o->site = ST_SITE_VDSO;
    }
    if (!m->site) { fail(idx, ST_DS_SITE, ENOENT); return -1; }
    return 0;
}

/* ---------- phase 2: change ---------- */

static int is_terminal_fd(pid_t pid, int fd, dev_t tty) {
    char path[64];
    proc_path(path, sizeof path, pid, "fd/");
    append_int(path, sizeof path, fd);
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode)) return 0;
    if (tty && st.st_rdev == tty) return 1;
    return st.st_rdev == makedev(5, 0);
}

/// The member's fds on the terminal, ascending, into out->fds.
static int list_terminal_fds(pid_t pid, dev_t tty, st_detach_member *o) {
    static unsigned char dents[16384];
    char path[64];
    proc_path(path, sizeof path, pid, "fd");
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -1;
    int fds[256];
    int n = 0;
    for (;;) {
        long got = syscall(SYS_getdents64, dfd, dents, sizeof dents);
        if (got <= 0) break;
        for (long off = 0; off < got;) {
            unsigned short reclen = *(unsigned short *)(dents + off + 16);
            const char *name = (const char *)(dents + off + 19);
            if (name[0] >= '0' && name[0] <= '9') {
                int v = 0;
                for (const char *p = name; *p >= '0' && *p <= '9'; p++) v = v * 10 + (*p - '0');
                if (n < 256) fds[n++] = v;
            }
            off += reclen;
        }
    }
    close(dfd);
    // Sort ascending (insertion sort: a handful of fds).
    for (int i = 1; i < n; i++) { int v = fds[i]; int j = i - 1; while (j >= 0 && fds[j] > v) { fds[j + 1] = fds[j]; j--; } fds[j + 1] = v; }
    o->fd_count = 0;
    for (int i = 0; i < n && o->fd_count < ST_DETACH_MAX_FDS; i++) {
        if (!is_terminal_fd(pid, fds[i], tty)) continue;
        if (fds[i] == 0 && R->stdin_keep) continue;
        o->fds[o->fd_count] = fds[i];
        o->fd_to_log[o->fd_count] = (fds[i] == 1 || fds[i] == 2);
        o->fd_count++;
    }
    return 0;
}

static int ret_err(long r) { return r < 0 && r > -4096 ? (int)-r : 0; }

/// Kernel struct sigaction (x86_64 and arm64 alike): handler, flags, restorer, mask (8 bytes).
struct k_sigaction { unsigned long handler; unsigned long flags; unsigned long restorer; unsigned long mask; };

static int change_member(int idx) {
    struct member_state *m = &members[idx];
    st_detach_member *o = m->out;
    long r;
    // Scratch page: private anonymous, unmapped at the end.
    if (inject(m, ST_NR_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &r) < 0) { fail(idx, ST_DS_INJECT, errno); return -1; }
    if (ret_err(r)) { fail(idx, ST_DS_MMAP, ret_err(r)); return -1; }
    m->scratch = (unsigned long)r;
    unsigned long sa_new = m->scratch, sa_old = m->scratch + 64, path = m->scratch + 128;

    // SIGHUP: read the old disposition, then set SIG_IGN unless it is caught (and not forced).
    if (inject(m, ST_NR_rt_sigaction, SIGHUP, 0, (long)sa_old, 8, 0, 0, &r) < 0) { fail(idx, ST_DS_INJECT, errno); return -1; }
    if (ret_err(r)) { fail(idx, ST_DS_SIGACTION, ret_err(r)); return -1; }
    struct k_sigaction old;
    if (read_mem(m->tid, sa_old, &old, sizeof old) < 0) { fail(idx, ST_DS_SIGACTION, errno); return -1; }
    memcpy(m->old_sa, &old, sizeof old);
    o->hup_before = old.handler == (unsigned long)SIG_DFL ? 0 : old.handler == (unsigned long)SIG_IGN ? 1 : 2;
    o->hup_after = o->hup_before;
    if (o->hup_before == 0 || (o->hup_before == 2 && R->force_ignore)) {
        struct k_sigaction ign = old;
        ign.handler = (unsigned long)SIG_IGN;
        ign.flags &= ~(unsigned long)SA_SIGINFO;
        if (write_mem(m->tid, sa_new, &ign, sizeof ign) < 0) { fail(idx, ST_DS_SIGACTION, errno); return -1; }
        if (inject(m, ST_NR_rt_sigaction, SIGHUP, (long)sa_new, 0, 8, 0, 0, &r) < 0) { fail(idx, ST_DS_INJECT, errno); return -1; }
        if (ret_err(r)) { fail(idx, ST_DS_SIGACTION, ret_err(r)); return -1; }
        m->sig_changed = 1;
        o->hup_after = 1;
    }

    // The terminal's fds.
    dev_t tty = 0;
    if (R->tty_nr) {
        unsigned major = (unsigned)((R->tty_nr >> 8) & 0xfff);
        unsigned minor = (unsigned)((R->tty_nr & 0xff) | ((R->tty_nr >> 12) & 0xfff00));
        tty = makedev(major, minor);
    }
    if (list_terminal_fds(o->pid, tty, o) < 0) { fail(idx, ST_DS_REDIRECT, errno); return -1; }
    if (o->fd_count == 0) return 0;
    int need_log = 0, need_null = 0;
    for (int i = 0; i < o->fd_count; i++) { if (o->fd_to_log[i]) need_log = 1; else need_null = 1; }
    long logfd = -1, nullfd = -1;
    if (need_log) {
        size_t len = strlen(R->log_path) + 1;
        if (len > 4096 - 128) { fail(idx, ST_DS_OPEN_LOG, ENAMETOOLONG); return -1; }
        if (write_mem(m->tid, path, R->log_path, len) < 0) { fail(idx, ST_DS_OPEN_LOG, errno); return -1; }
        if (inject(m, ST_NR_openat, AT_FDCWD, (long)path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0, 0, 0, &r) < 0) { fail(idx, ST_DS_INJECT, errno); return -1; }
        if (ret_err(r)) { fail(idx, ST_DS_OPEN_LOG, ret_err(r)); return -1; }
        logfd = r;
        // What the target opened must be the file sessiontop created (its mount namespace,
        // root or a swapped path could make it another one).
        char p[64];
        proc_path(p, sizeof p, o->pid, "fd/");
        append_int(p, sizeof p, (int)logfd);
        struct stat st;
        if (stat(p, &st) < 0 || (uint64_t)st.st_dev != R->log_dev || (uint64_t)st.st_ino != R->log_ino) {
            inject(m, ST_NR_close, logfd, 0, 0, 0, 0, 0, &r);
            fail(idx, ST_DS_LOG_MISMATCH, EXDEV);
            return -1;
        }
    }
    if (need_null) {
        static const char devnull[] = "/dev/null";
        if (write_mem(m->tid, path + 2048, devnull, sizeof devnull) < 0) { fail(idx, ST_DS_OPEN_NULL, errno); return -1; }
        if (inject(m, ST_NR_openat, AT_FDCWD, (long)(path + 2048), O_RDWR | O_CLOEXEC | O_NOCTTY, 0, 0, 0, &r) < 0) { fail(idx, ST_DS_INJECT, errno); return -1; }
        if (ret_err(r)) { fail(idx, ST_DS_OPEN_NULL, ret_err(r)); goto close_new; }
        nullfd = r;
    }
    for (int i = 0; i < o->fd_count; i++) {
        int fd = o->fds[i];
        m->fd_saved[i] = -1;
        if (inject(m, ST_NR_fcntl, fd, F_GETFD, 0, 0, 0, 0, &r) < 0) { fail(idx, ST_DS_INJECT, errno); goto close_new; }
        if (ret_err(r)) { fail(idx, ST_DS_REDIRECT, ret_err(r)); goto close_new; }
        m->fd_cloexec[i] = (r & FD_CLOEXEC) ? 1 : 0;
        if (inject(m, ST_NR_fcntl, fd, F_DUPFD_CLOEXEC, 0, 0, 0, 0, &r) < 0) { fail(idx, ST_DS_INJECT, errno); goto close_new; }
        if (ret_err(r)) { fail(idx, ST_DS_REDIRECT, ret_err(r)); goto close_new; }
        m->fd_saved[i] = (int)r;
        long src = o->fd_to_log[i] ? logfd : nullfd;
        if (inject(m, ST_NR_dup3, src, fd, m->fd_cloexec[i] ? O_CLOEXEC : 0, 0, 0, 0, &r) < 0) { fail(idx, ST_DS_INJECT, errno); goto close_new; }
        if (ret_err(r)) { fail(idx, ST_DS_REDIRECT, ret_err(r)); goto close_new; }
        m->fds_changed = i + 1;
    }
    if (logfd >= 0) inject(m, ST_NR_close, logfd, 0, 0, 0, 0, 0, &r);
    if (nullfd >= 0) inject(m, ST_NR_close, nullfd, 0, 0, 0, 0, 0, &r);
    return 0;
close_new:
    if (logfd >= 0) inject(m, ST_NR_close, logfd, 0, 0, 0, 0, 0, &r);
    if (nullfd >= 0) inject(m, ST_NR_close, nullfd, 0, 0, 0, 0, 0, &r);
    return -1;
}

/// The dummy-child group move (reptyr's do_setsid idea, with SEIZE): a CLONE_VM child of
/// member 0 that never runs user code leads the new group; every member joins it.
static int move_group(void) {
    long r;
    int first = -1;
    for (int i = 0; i < R->member_count; i++) if (R->members[i].status != ST_DM_VANISHED && members[i].stopped) { first = i; break; }
    if (first < 0) return 0;
    if (R->join_pgid > 0) {
        // A later round: the group exists (its first members are in it); join it.
        for (int i = 0; i < R->member_count; i++) {
            struct member_state *m = &members[i];
            if (R->members[i].status == ST_DM_VANISHED || !m->stopped) continue;
            if (inject(m, ST_NR_setpgid, 0, R->join_pgid, 0, 0, 0, 0, &r) < 0 || ret_err(r)) {
                fail(i, ST_DS_GROUP, ret_err(r) ? ret_err(r) : errno);
                return -1;
            }
            m->group_changed = 1;
            m->out->pgid_after = R->join_pgid;
        }
        R->new_pgid = R->join_pgid;
        return 0;
    }
    struct member_state *m0 = &members[first];
    if (ptrace(PTRACE_SETOPTIONS, m0->tid, 0, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK)) < 0) { fail(first, ST_DS_GROUP, errno); return -1; }
    // clone(CLONE_VM | SIGCHLD, newsp 0, ...): a FORK event (exit signal SIGCHLD, no VFORK).
    if (inject(m0, ST_NR_clone, CLONE_VM | SIGCHLD, 0, 0, 0, 0, 0, &r) < 0) { fail(first, ST_DS_INJECT, errno); goto opts; }
    ptrace(PTRACE_SETOPTIONS, m0->tid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD);
    if (ret_err(r) || r <= 0) { fail(first, ST_DS_GROUP, ret_err(r) ? ret_err(r) : EPROTO); return -1; }
    pid_t dummy = (pid_t)r;
    int status;
    int k = wait_stop(dummy, 2000, &status);
    if (k != STOP_EVENT && k != STOP_SIGNAL) { kill(dummy, SIGKILL); fail(first, ST_DS_GROUP, EPROTO); return -1; }
    struct member_state d;
    memset(&d, 0, sizeof d);
    d.tid = dummy;
    d.site = m0->site;
    d.out = 0;
    if (st_arch_get_regs(dummy, &d.saved) < 0) { kill(dummy, SIGKILL); fail(first, ST_DS_GROUP, errno); return -1; }
    int ok = inject_in(dummy, &d, ST_NR_setpgid, 0, 0, 0, 0, 0, 0, &r) == 0 && r == 0;
    int err = ok ? 0 : (ret_err(r) ? ret_err(r) : errno);
    if (ok) {
        R->new_pgid = dummy;
        for (int i = 0; i < R->member_count; i++) {
            struct member_state *m = &members[i];
            if (R->members[i].status == ST_DM_VANISHED || !m->stopped) continue;
            if (inject(m, ST_NR_setpgid, 0, dummy, 0, 0, 0, 0, &r) < 0 || ret_err(r)) {
                ok = 0;
                err = ret_err(r) ? ret_err(r) : errno;
                fail(i, ST_DS_GROUP, err);
                break;
            }
            m->group_changed = 1;
            m->out->pgid_after = dummy;
        }
    } else {
        fail(first, ST_DS_GROUP, err);
    }
    // The dummy goes: killed by us, its exit collected as tracer, then reaped by its parent.
    kill(dummy, SIGKILL);
    for (int i = 0; i < 100; i++) {
        int st;
        pid_t w = waitpid(dummy, &st, __WALL);
        if (w == dummy && (WIFEXITED(st) || WIFSIGNALED(st))) break;
        if (w < 0 && errno != EINTR) break;
    }
    for (int i = 0; i < 50; i++) {
        if (inject(m0, ST_NR_wait4, dummy, 0, WNOHANG | __WALL, 0, 0, 0, &r) < 0) break;
        if (r == dummy || r == -ECHILD) break;
        sleep_us(200);
    }
    return ok ? 0 : -1;
opts:
    ptrace(PTRACE_SETOPTIONS, m0->tid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD);
    return -1;
}

/* ---------- undo and commit ---------- */

/// Puts back what change_member and move_group changed; 0 when everything was restored.
static int undo_member(int idx) {
    struct member_state *m = &members[idx];
    st_detach_member *o = m->out;
    long r;
    int bad = 0;
    if (!m->attached || !m->stopped) return -1;
    for (int i = m->fds_changed - 1; i >= 0; i--) {
        if (m->fd_saved[i] < 0) continue;
        if (inject(m, ST_NR_dup3, m->fd_saved[i], o->fds[i], m->fd_cloexec[i] ? O_CLOEXEC : 0, 0, 0, 0, &r) < 0 || ret_err(r)) { bad = 1; continue; }
        m->fds_changed = i;
    }
    if (m->fds_changed == 0) o->changed_fds = 0; else o->changed_fds = m->fds_changed;
    if (m->sig_changed) {
        if (write_mem(m->tid, m->scratch, m->old_sa, sizeof(struct k_sigaction)) == 0 &&
            inject(m, ST_NR_rt_sigaction, SIGHUP, (long)m->scratch, 0, 8, 0, 0, &r) == 0 && !ret_err(r)) {
            m->sig_changed = 0;
            o->hup_after = o->hup_before;
        } else {
            bad = 1;
        }
    }
    o->changed_disposition = m->sig_changed;
    return bad ? -1 : 0;
}

/// Moves every member back to its old group: the old leader first (setpgid(0,0) recreates the
/// group with its own pid), then the others.
static void undo_groups(void) {
    long r;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < R->member_count; i++) {
            struct member_state *m = &members[i];
            if (!m->group_changed || !m->stopped) continue;
            int leader = m->out->pid == m->out->pgid_before;
            if ((pass == 0) != leader) continue;
            long target = leader ? 0 : m->out->pgid_before;
            if (inject(m, ST_NR_setpgid, 0, target, 0, 0, 0, 0, &r) == 0 && !ret_err(r)) {
                m->group_changed = 0;
                m->out->pgid_after = m->out->pgid_before;
            }
        }
    }
    for (int i = 0; i < R->member_count; i++) members[i].out->changed_group = members[i].group_changed;
}

/// Closes the saved fds, unmaps the scratch page, restores the registers, re-sends the
/// signals that arrived, detaches.
static void release_member(int idx) {
    struct member_state *m = &members[idx];
    st_detach_member *o = m->out;
    long r;
    if (!m->attached) return;
    if (m->stopped) {
        for (int i = 0; i < o->fd_count && i < ST_DETACH_MAX_FDS; i++) {
            if (m->fd_saved[i] >= 0) inject(m, ST_NR_close, m->fd_saved[i], 0, 0, 0, 0, 0, &r);
            m->fd_saved[i] = -1;
        }
        if (m->scratch) { inject(m, ST_NR_munmap, (long)m->scratch, 4096, 0, 0, 0, 0, &r); m->scratch = 0; }
        st_arch_regs fin;
        st_arch_final_regs(&fin, &m->saved, o->signals_count);
        if (st_arch_set_regs(m->tid, &fin) < 0) fail(idx, ST_DS_RESTORE, errno);
        for (int i = 0; i < o->signals_count; i++) syscall(SYS_tgkill, o->pid, m->tid, o->signals[i]);
        if (ptrace(PTRACE_DETACH, m->tid, 0, 0) < 0) fail(idx, ST_DS_RESTORE, errno);
    } else {
        // Seized but never stopped (it did not stop in time): the helper's exit detaches it;
        // nothing was changed.
    }
    if (m->stop_began) o->stopped_us = (int)(now_us() - m->stop_began);
    m->stopped = 0;
}

static void helper_main(st_detach_request *req) {
    R = req;
    long began = now_us();
    req->failed_stage = ST_DS_NONE;
    req->failed_member = -1;
    req->new_pgid = 0;
    int n = req->member_count;
    memset(members, 0, sizeof members);
    for (int i = 0; i < n; i++) {
        members[i].out = &req->members[i];
        st_detach_member *o = &req->members[i];
        o->status = ST_DM_PENDING;
        o->stage = ST_DS_NONE;
        o->pgid_before = getpgid(o->pid);
        o->pgid_after = o->pgid_before;
        o->interrupted_syscall = -1;
        for (int k = 0; k < ST_DETACH_MAX_FDS; k++) members[i].fd_saved[k] = -1;
    }
    int ok = 1;
    for (int i = 0; i < n && ok; i++) if (stop_member(i) < 0) ok = 0;
    for (int i = 0; i < n && ok; i++) {
        if (req->members[i].status == ST_DM_VANISHED) continue;
        if (change_member(i) < 0) {
            // It exited while being changed: nothing of it is left to undo.
            if (req->members[i].status == ST_DM_VANISHED || !members[i].attached) { req->members[i].status = ST_DM_VANISHED; clear_failure(i); continue; }
            ok = 0;
        }
        else if (req->test_fail_after == i) { fail(i, ST_DS_TEST, ECANCELED); ok = 0; }
    }
    if (ok && req->new_group && move_group() < 0) ok = 0;
    if (ok && req->test_pause_ms > 0) sleep_us((long)req->test_pause_ms * 1000);
    if (!ok) {
        undo_groups();
        for (int i = n - 1; i >= 0; i--) {
            struct member_state *m = &members[i];
            st_detach_member *o = m->out;
            if (o->status == ST_DM_VANISHED) continue;
            int changed = m->sig_changed || m->fds_changed > 0 || m->group_changed;
            if (!changed) { o->status = ST_DM_UNCHANGED; o->hup_after = o->hup_before; continue; }
            int u = undo_member(i);
            o->changed_group = m->group_changed;
            o->status = (u == 0 && !m->group_changed) ? ST_DM_UNDONE : ST_DM_PARTIAL;
        }
    } else {
        for (int i = 0; i < n; i++) if (members[i].out->status != ST_DM_VANISHED) members[i].out->status = ST_DM_DONE;
    }
    for (int i = 0; i < n; i++) release_member(i);
    req->elapsed_us = (int)(now_us() - began);
}

int st_detach_run(st_detach_request *req) {
    req->helper_pid = 0;
    if (req->member_count <= 0 || req->member_count > ST_DETACH_MAX_MEMBERS) { errno = EINVAL; return -1; }
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return -1;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t child = fork();
    if (child == 0) {
        // The helper: every signal stays blocked (SIGKILL/SIGSTOP aside), its own session, so
        // nothing aimed at sessiontop or its terminal reaches it.
        close(p[0]);
        setsid();
        req->helper_pid = getpid();
        helper_main(req);
        const char *b = (const char *)req;
        size_t left = sizeof *req;
        while (left > 0) {
            ssize_t w = write(p[1], b, left);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            b += w;
            left -= (size_t)w;
        }
        _exit(0);
    }
    int saved_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, 0);
    close(p[1]);
    if (child < 0) { close(p[0]); errno = saved_errno; return -1; }
    size_t got = 0;
    char *b = (char *)req;
    while (got < sizeof *req) {
        ssize_t r = read(p[0], b + got, sizeof *req - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(p[0]);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (got != sizeof *req) { errno = EPIPE; return -1; }
    return req->failed_stage == ST_DS_NONE ? 0 : 1;
}

#else /* no arch layer */

int st_detach_run(st_detach_request *req) { (void)req; errno = ENOSYS; return -1; }

#endif
