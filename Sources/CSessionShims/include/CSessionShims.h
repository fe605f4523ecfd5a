#ifndef CSESSIONSHIMS_H
#define CSESSIONSHIMS_H

#include <sys/types.h>
#include <stdint.h>
#include "st_safefile.h"

/// Thin wrappers over what Swift's Glibc module hides (it is built without _GNU_SOURCE),
/// and the only code that runs between fork and exec. Every function returns -1 and sets
/// errno on failure, like the syscall it wraps.

/// pidfd_open(2).
int st_pidfd_open(pid_t pid, unsigned int flags);
/// pidfd_send_signal(2), with a NULL siginfo.
int st_pidfd_send_signal(int pidfd, int sig, unsigned int flags);
/// Raises the soft RLIMIT_NOFILE towards `want` (never above the hard limit); returns the soft
/// limit now in force, or -1. Children spawned by st_spawn get the original one back.
long st_raise_nofile_limit(unsigned long want);
/// The soft RLIMIT_NOFILE st_spawn gives children (the original one after a raise); -1 for unlimited.
long st_nofile_limit_for_children(void);
/// close_range(2).
int st_close_range(unsigned int first, unsigned int last, unsigned int flags);
/// getdents64(2): raw directory entries into buf (struct linux_dirent64 records).
long st_getdents64(int fd, void *buf, unsigned long len);
/// pipe2(2).
int st_pipe2(int fds[2], int flags);
/// Real-time signal bounds as glibc reports them (SIGRTMIN is a function call in glibc).
int st_sigrtmin(void);
int st_sigrtmax(void);
/// prctl(PR_SET_CHILD_SUBREAPER, on).
int st_set_child_subreaper(int on);
/// TIOCSCTTY / TIOCGPGRP / TIOCSPGRP / TIOCGSID ioctls.
int st_tiocsctty(int fd);
pid_t st_tcgetsid(int fd);
/// posix_openpt + grantpt + unlockpt; writes the slave's path into name (size len).
int st_open_pty(char *name, size_t len);
/// 1 when fd is on a procfs mount (fstatfs(2) f_type PROC_SUPER_MAGIC), 0 when not, -1 on error.
int st_is_procfs(int fd);
/// Sends sig to the process or group with a raw kill(2); only used by tests.
int st_kill(pid_t pid, int sig);

/// Where st_spawn failed: the errno is meaningful together with the stage.
enum st_spawn_stage {
    ST_STAGE_NONE = 0,
    ST_STAGE_FORK = 1,
    ST_STAGE_SETSID = 2,
    ST_STAGE_SETPGID = 3,
    ST_STAGE_CTTY = 4,
    ST_STAGE_FORK2 = 5,
    ST_STAGE_CHDIR = 6,
    ST_STAGE_FDS = 7,
    ST_STAGE_USER = 8,
    ST_STAGE_EXEC = 9,
    ST_STAGE_PIPE = 10,
    ST_STAGE_SIGNALS = 11,
    /// The caller cancelled a gated spawn (errno ECANCELED): nothing was exec'd.
    ST_STAGE_GATE = 12,
};

/// What the child does between fork and exec. Plain data: the Swift side fills it.
typedef struct st_spawn_attr {
    /// Program to exec. If it has no '/', PATH from `envp` (or the caller's) is searched.
    const char *path;
    /// NULL-terminated argument vector.
    char *const *argv;
    /// NULL-terminated environment, or NULL to inherit the caller's.
    char *const *envp;
    /// Directory to chdir into, or NULL.
    const char *cwd;
    /// umask to set, or -1 to inherit.
    int umask_value;
    /// Call setsid() in the child.
    int new_session;
    /// -1: keep the group; 0: become leader of a new group; >0: join that group.
    pid_t pgid;
    /// >= 0 (after setsid): make this fd's terminal the controlling tty (TIOCSCTTY).
    int ctty_fd;
    /// Double fork: the first child calls setsid() and forks again, then exits; the
    /// grandchild runs the program, so it is not a session leader and can never acquire a tty.
    int daemon;
    /// fd_map[2*i] is the child's fd, fd_map[2*i+1] the caller's fd to dup there (-1: close it).
    const int *fd_map;
    int fd_map_count;
    /// Close every fd above the highest mapped one (and 0-2 unless mapped).
    int close_other_fds;
    /// Switch user in the child: setgroups(groups), setgid(gid), setuid(uid).
    int switch_user;
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    int group_count;
    /// Reset every signal disposition to default and unblock all signals (like posix_spawn
    /// with SETSIGDEF + SETSIGMASK). Ignored signals (SIG_IGN) survive exec otherwise.
    int reset_signals;
    /// Keep these signals ignored in the child (bit n-1 for signal n) even with reset_signals.
    uint64_t ignore_mask;
    /// st_spawn_gated only: set by it (the process that will exec waits on this fd).
    int gate_fd;
    /// Daemon only: after a successful exec the intermediate child (still the daemon's parent)
    /// watches it this long (ms) before it exits, and reports its wait status if it ended
    /// meanwhile; st_spawn returns after the watch. 0: no watch.
    int watch_ms;
    /// With watch_ms: where the wait status of a daemon that ended during the watch is stored
    /// (-1: it was still running when the watch ended). May be NULL.
    int *watch_status;
} st_spawn_attr;

/// Forks and execs per `attr`. On success returns 0 and stores the pid of the process that
/// runs the program (the grandchild for `daemon`). On failure returns -1 with errno set and
/// *stage saying which step failed (and, for a daemon, *out_pid the grandchild that failed);
/// exec failures come back over a close-on-exec pipe.
/// For a daemon, the intermediate child relays the grandchild's result, reaps a grandchild
/// whose exec failed, and is itself reaped before returning.
int st_spawn(const st_spawn_attr *attr, pid_t *out_pid, int *stage);

/// A spawn held before its exec (st_spawn_gated): every step but the exec is done.
typedef struct st_spawn_gate {
    int gate_fd;    /// write end: one byte 'g' lets the exec go; closing it cancels
    int result_fd;  /// read end of the status pipe
    pid_t child;    /// the forked child (the intermediate one for a daemon)
    pid_t target;   /// the process that will exec
    int daemon;
    int *watch_status;
} st_spawn_gate;

/// Like st_spawn, but the process that will exec first waits: returns 0 once it has done
/// every other step (setsid, chdir, fds, user switch) and its pid is in *out_pid; the caller
/// then does what must come before the program runs (write a pidfile) and calls
/// st_spawn_release. On failure returns -1 as st_spawn does (nothing is left waiting).
int st_spawn_gated(const st_spawn_attr *attr, st_spawn_gate *gate, pid_t *out_pid, int *stage);
/// go != 0: let it exec and wait for the result (0, or -1 with errno and *stage as st_spawn);
/// go == 0: cancel (it exits without exec'ing; -1 with ECANCELED, ST_STAGE_GATE). Reaps what
/// st_spawn reaps.
int st_spawn_release(st_spawn_gate *gate, int go, int *stage);

/// waitid(P_PID, pid, WEXITED|WNOHANG|WNOWAIT): 1 when our child `pid` has ended (its status
/// stays for the parent to collect), with *exited 1 and *value its exit code, or *exited 0
/// and *value the signal; 0 when it has not; -1 with errno (ECHILD: not our child).
int st_peek_child_exit(pid_t pid, int *exited, int *value);

#endif
