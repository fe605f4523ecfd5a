// The one place that touches the libc calls Swift's Glibc cannot see, and the only code that
// runs between fork and exec (async-signal-safe calls only there: a forked child of a
// multi-threaded process may not malloc, lock or call into Swift).
#include "CSessionShims.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

int st_pidfd_open(pid_t pid, unsigned int flags) {
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

int st_pidfd_send_signal(int pidfd, int sig, unsigned int flags) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, flags);
}

int st_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}

int st_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

long st_getdents64(int fd, void *buf, unsigned long len) {
    return syscall(SYS_getdents64, fd, buf, len);
}
int st_sigrtmin(void) { return SIGRTMIN; }
int st_sigrtmax(void) { return SIGRTMAX; }
int st_set_child_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)on, 0, 0, 0); }
int st_tiocsctty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }
pid_t st_tcgetsid(int fd) { return tcgetsid(fd); }
int st_kill(pid_t pid, int sig) { return kill(pid, sig); }

// The soft RLIMIT_NOFILE this process started with, while st_raise_nofile_limit has raised
// it: every child gets it back before exec (as Go's os/exec does), so a program started by
// sessiontop sees the limit its user set, not sessiontop's.
static struct rlimit st_original_nofile;
static volatile int st_nofile_raised;

long st_raise_nofile_limit(unsigned long want) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < want) {
        struct rlimit raised = r;
        raised.rlim_cur = (r.rlim_max == RLIM_INFINITY || r.rlim_max > want) ? want : r.rlim_max;
        if (raised.rlim_cur > r.rlim_cur && setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            if (!st_nofile_raised) st_original_nofile = r;
            st_nofile_raised = 1;
            r = raised;
        }
    }
    return r.rlim_cur == RLIM_INFINITY ? (long)want : (long)r.rlim_cur;
}

int st_is_procfs(int fd) {
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0) return -1;
    return fs.f_type == 0x9fa0;  // PROC_SUPER_MAGIC, linux/magic.h
}

int st_open_pty(char *name, size_t len) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, name, len) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

// ---- fork/exec -------------------------------------------------------------------------

enum { MSG_PID = 1, MSG_ERROR = 2, MSG_READY = 3, MSG_EXIT = 4 };

static void report(int fd, int kind, int a, int b) {
    int msg[3] = {kind, a, b};
    ssize_t r;
    do { r = write(fd, msg, sizeof msg); } while (r < 0 && errno == EINTR);
}

static _Noreturn void fail_child(int fd, int stage) {
    report(fd, MSG_ERROR, errno, stage);
    _exit(127);
}

/// Looks `name` up in PATH (taken from envp, else the caller's) before fork, so the child
/// only calls execve. Returns 0 and fills `out`, or -1 with errno.
static int resolve_path(const char *name, char *const *envp, char *out, size_t outlen) {
    if (strchr(name, '/')) {
        if (strlen(name) >= outlen) { errno = ENAMETOOLONG; return -1; }
        strcpy(out, name);
        return 0;
    }
    const char *path = NULL;
    if (envp) {
        for (char *const *e = envp; *e; e++)
            if (strncmp(*e, "PATH=", 5) == 0) { path = *e + 5; break; }
    } else {
        path = getenv("PATH");
    }
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    int saw_eacces = 0;
    const char *p = path;
    while (1) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        if (dlen + 1 + strlen(name) + 1 <= outlen) {
            if (dlen == 0) { out[0] = '.'; dlen = 1; } else memcpy(out, p, dlen);
            out[dlen] = '/';
            strcpy(out + dlen + 1, name);
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(out, X_OK) == 0) return 0;
                saw_eacces = 1;
            }
        }
        if (!end) break;
        p = end + 1;
    }
    errno = saw_eacces ? EACCES : ENOENT;
    return -1;
}

/// Runs in the child that will exec: every step is a raw syscall.
static _Noreturn void child_exec(const st_spawn_attr *a, const char *exe, int errfd, int old_errfd_is_high) {
    (void)old_errfd_is_high;
    // Signals: defaults (or kept ignores), then an empty mask.
    if (a->reset_signals) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        for (int s = 1; s < 65; s++) {
            if (s == SIGKILL || s == SIGSTOP) continue;
            sa.sa_handler = (a->ignore_mask & (1ULL << (s - 1))) ? SIG_IGN : SIG_DFL;
            sigaction(s, &sa, NULL);  // glibc-internal signals fail with EINVAL: fine
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (a->new_session && !a->daemon && setsid() < 0) fail_child(errfd, ST_STAGE_SETSID);
    if (!a->new_session && !a->daemon && a->pgid >= 0 && setpgid(0, a->pgid) < 0)
        fail_child(errfd, ST_STAGE_SETPGID);
    if (a->cwd && chdir(a->cwd) < 0) fail_child(errfd, ST_STAGE_CHDIR);
    if (a->umask_value >= 0) umask((mode_t)a->umask_value);

    // fds: move every source above every target first, then dup2 into place.
    int maxtarget = 2;
    for (int i = 0; i < a->fd_map_count; i++)
        if (a->fd_map[2 * i] > maxtarget) maxtarget = a->fd_map[2 * i];
    int floor = maxtarget + 1;
    if (errfd < floor) {
        int moved = fcntl(errfd, F_DUPFD_CLOEXEC, floor + a->fd_map_count + 1);
        if (moved < 0) fail_child(errfd, ST_STAGE_FDS);
        errfd = moved;
    }
    int gatefd = a->gate_fd;
    if (gatefd >= 0 && gatefd < floor) {
        int moved = fcntl(gatefd, F_DUPFD_CLOEXEC, floor + a->fd_map_count + 2);
        if (moved < 0) fail_child(errfd, ST_STAGE_FDS);
        gatefd = moved;
    }
    int high[64];
    int n = a->fd_map_count > 64 ? 64 : a->fd_map_count;
    for (int i = 0; i < n; i++) {
        int src = a->fd_map[2 * i + 1];
        high[i] = -1;
        if (src < 0) continue;
        int h = fcntl(src, F_DUPFD_CLOEXEC, floor);
        if (h < 0) fail_child(errfd, ST_STAGE_FDS);
        high[i] = h;
    }
    for (int i = 0; i < n; i++) {
        int target = a->fd_map[2 * i];
        if (high[i] < 0) { close(target); continue; }
        if (dup2(high[i], target) < 0) fail_child(errfd, ST_STAGE_FDS);
    }
    if (a->close_other_fds) {
        for (int fd = 0; fd <= maxtarget; fd++) {
            int mapped = 0;
            for (int i = 0; i < n; i++) if (a->fd_map[2 * i] == fd) { mapped = 1; break; }
            if (!mapped && fd != errfd) close(fd);
        }
        // Everything above the targets except the error pipe and the gate (both close-on-exec:
        // gone at exec).
        int keep_lo = errfd, keep_hi = gatefd;
        if (keep_hi < 0) keep_hi = keep_lo;
        if (keep_hi < keep_lo) { int t = keep_lo; keep_lo = keep_hi; keep_hi = t; }
        if (keep_lo > floor) st_close_range((unsigned)floor, (unsigned)keep_lo - 1, 0);
        if (keep_hi > keep_lo + 1) st_close_range((unsigned)keep_lo + 1, (unsigned)keep_hi - 1, 0);
        st_close_range((unsigned)keep_hi + 1, ~0U, 0);
    }
    if (a->ctty_fd >= 0 && ioctl(a->ctty_fd, TIOCSCTTY, 0) < 0) fail_child(errfd, ST_STAGE_CTTY);

    if (a->switch_user) {
        if (setgroups((size_t)a->group_count, a->groups) < 0) fail_child(errfd, ST_STAGE_USER);
        if (setgid(a->gid) < 0) fail_child(errfd, ST_STAGE_USER);
        if (setuid(a->uid) < 0) fail_child(errfd, ST_STAGE_USER);
    }
    if (gatefd >= 0) {
        // Everything is done but the exec: say so, then wait for the caller's go.
        report(errfd, MSG_READY, 0, 0);
        char go = 0;
        ssize_t r;
        do { r = read(gatefd, &go, 1); } while (r < 0 && errno == EINTR);
        if (r != 1 || go != 'g') { errno = ECANCELED; fail_child(errfd, ST_STAGE_GATE); }
        close(gatefd);
    }
    // setrlimit is a plain syscall (prlimit64): safe here.
    if (st_nofile_raised) (void)setrlimit(RLIMIT_NOFILE, &st_original_nofile);
    execve(exe, a->argv, a->envp ? a->envp : environ);
    fail_child(errfd, ST_STAGE_EXEC);
}

/// Forks (twice for a daemon) and starts the child on its way to exec; fills *g. With a gate,
/// waits until the target is ready (MSG_READY) or failed.
static int spawn_start(const st_spawn_attr *a, int gated, st_spawn_gate *g, int *stage) {
    *stage = ST_STAGE_NONE;
    char exe[PATH_MAX];
    if (resolve_path(a->path ? a->path : a->argv[0], a->envp, exe, sizeof exe) < 0) {
        *stage = ST_STAGE_EXEC;
        return -1;
    }
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) { *stage = ST_STAGE_PIPE; return -1; }
    int gatefd[2] = {-1, -1};
    if (gated && pipe2(gatefd, O_CLOEXEC) < 0) {
        int e = errno;
        close(pipefd[0]); close(pipefd[1]);
        errno = e;
        *stage = ST_STAGE_PIPE;
        return -1;
    }
    st_spawn_attr attr = *a;
    attr.gate_fd = gatefd[0];

    // No signal handler may run in the child before it resets the dispositions.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t child = fork();
    if (child == 0) {
        close(pipefd[0]);
        if (gatefd[1] >= 0) close(gatefd[1]);
        if (a->daemon) {
            if (setsid() < 0) fail_child(pipefd[1], ST_STAGE_SETSID);
            // The intermediate child relays the grandchild's exec result and, when the exec
            // failed, reaps it: a failed daemon leaves no zombie even where init does not reap.
            int relay[2];
            if (pipe2(relay, O_CLOEXEC) < 0) fail_child(pipefd[1], ST_STAGE_PIPE);
            pid_t grandchild = fork();
            if (grandchild < 0) fail_child(pipefd[1], ST_STAGE_FORK2);
            if (grandchild == 0) {
                close(relay[0]);
                close(pipefd[1]);
                child_exec(&attr, exe, relay[1], 0);
            }
            close(relay[1]);
            if (gatefd[0] >= 0) close(gatefd[0]);
            report(pipefd[1], MSG_PID, (int)grandchild, 0);
            int msg[3], failed = 0;
            for (;;) {
                ssize_t r = read(relay[0], msg, sizeof msg);
                if (r < 0 && errno == EINTR) continue;
                if (r != (ssize_t)sizeof msg) break;  // EOF: exec'd (close-on-exec) or exited
                if (msg[0] == MSG_ERROR) failed = 1;
                report(pipefd[1], msg[0], msg[1], msg[2]);
            }
            if (failed) {
                int status;
                while (waitpid(grandchild, &status, 0) < 0 && errno == EINTR) {}
            } else if (a->watch_ms > 0) {
                // The grace period: still its parent, we can tell how it ends if it does.
                for (int waited = 0; waited < a->watch_ms; waited += 5) {
                    int status;
                    pid_t w = waitpid(grandchild, &status, WNOHANG);
                    if (w == grandchild) { report(pipefd[1], MSG_EXIT, status, 0); break; }
                    if (w < 0 && errno != EINTR) break;
                    struct timespec ts = {0, 5 * 1000 * 1000};
                    nanosleep(&ts, NULL);
                }
            }
            _exit(0);
        }
        child_exec(&attr, exe, pipefd[1], 0);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(pipefd[1]);
    if (gatefd[0] >= 0) close(gatefd[0]);
    if (child < 0) {
        close(pipefd[0]);
        if (gatefd[1] >= 0) close(gatefd[1]);
        errno = fork_errno;
        *stage = ST_STAGE_FORK;
        return -1;
    }
    g->gate_fd = gatefd[1];
    g->result_fd = pipefd[0];
    g->child = child;
    g->target = a->daemon ? -1 : child;
    g->daemon = a->daemon;
    g->watch_status = a->watch_status;
    if (a->watch_status) *a->watch_status = -1;
    return 0;
}

/// Reads status messages until `until` (MSG_READY) arrives or EOF; records the pid and the
/// first error. Returns the kind that stopped it (0 for EOF).
static int read_status(st_spawn_gate *g, int until, int *err, int *err_stage) {
    int msg[3];
    for (;;) {
        ssize_t r = read(g->result_fd, msg, sizeof msg);
        if (r < 0 && errno == EINTR) continue;
        if (r != (ssize_t)sizeof msg) return 0;  // EOF: exec succeeded (or everyone exited)
        if (msg[0] == MSG_PID) g->target = (pid_t)msg[1];
        else if (msg[0] == MSG_EXIT && g->watch_status) *g->watch_status = msg[1];
        else if (msg[0] == MSG_ERROR && !*err) { *err = msg[1]; *err_stage = msg[2]; }
        if (msg[0] == until) return until;
    }
}

/// After the exec (or the failure): closes the pipe, reaps what must be reaped, reports.
static int spawn_finish(st_spawn_gate *g, int err, int err_stage, pid_t *out_pid, int *stage) {
    close(g->result_fd);
    g->result_fd = -1;
    if (g->daemon || err) {
        // Reap the intermediate child (daemon) or the failed child.
        int status;
        while (waitpid(g->child, &status, 0) < 0 && errno == EINTR) {}
    }
    if (err) {
        if (g->daemon && g->target > 0 && out_pid) *out_pid = g->target;  // which grandchild failed
        errno = err;
        *stage = err_stage;
        return -1;
    }
    if (g->target <= 0) { errno = ECHILD; *stage = ST_STAGE_FORK2; return -1; }
    if (out_pid) *out_pid = g->target;
    return 0;
}

int st_spawn(const st_spawn_attr *a, pid_t *out_pid, int *stage) {
    st_spawn_gate g;
    if (spawn_start(a, 0, &g, stage) < 0) return -1;
    int err = 0, err_stage = 0;
    read_status(&g, -1, &err, &err_stage);
    return spawn_finish(&g, err, err_stage, out_pid, stage);
}

int st_spawn_gated(const st_spawn_attr *a, st_spawn_gate *g, pid_t *out_pid, int *stage) {
    if (spawn_start(a, 1, g, stage) < 0) return -1;
    int err = 0, err_stage = 0;
    if (read_status(g, MSG_READY, &err, &err_stage) == MSG_READY && !err) {
        *out_pid = g->target;
        return 0;
    }
    // It failed before reaching the gate: finish now, nothing waits.
    close(g->gate_fd);
    g->gate_fd = -1;
    if (!err) read_status(g, -1, &err, &err_stage);
    if (!err) { err = ECHILD; err_stage = ST_STAGE_FORK2; }
    return spawn_finish(g, err, err_stage, out_pid, stage);
}

int st_spawn_release(st_spawn_gate *g, int go, int *stage) {
    if (go) {
        char b = 'g';
        ssize_t r;
        do { r = write(g->gate_fd, &b, 1); } while (r < 0 && errno == EINTR);
    }
    close(g->gate_fd);
    g->gate_fd = -1;
    int err = 0, err_stage = 0;
    read_status(g, -1, &err, &err_stage);
    if (!go && !err) { err = ECANCELED; err_stage = ST_STAGE_GATE; }
    return spawn_finish(g, err, err_stage, NULL, stage);
}

int st_peek_child_exit(pid_t pid, int *exited, int *value) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
    if (info.si_pid != pid) return 0;
    *exited = info.si_code == CLD_EXITED;
    *value = info.si_status;
    return 1;
}

long st_nofile_limit_for_children(void) {
    if (st_nofile_raised) return st_original_nofile.rlim_cur == RLIM_INFINITY ? -1 : (long)st_original_nofile.rlim_cur;
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
    return r.rlim_cur == RLIM_INFINITY ? -1 : (long)r.rlim_cur;
}
