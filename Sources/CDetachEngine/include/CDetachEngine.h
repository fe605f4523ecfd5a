#ifndef CDETACHENGINE_H
#define CDETACHENGINE_H

#include <sys/types.h>
#include <stdint.h>

/// Detach in place: the ptrace engine (issue 8; research note shared/detach-in-place.md §3-§4).
///
/// st_detach_run forks a short-lived helper that does all the ptrace work, so the tracer is a
/// process of its own: it blocks every signal and calls setsid(), so a SIGKILL of sessiontop,
/// or a hangup of sessiontop's own terminal, cannot stop it half way; it always finishes (or
/// undoes) and detaches. The helper never allocates (it is a child of a multithreaded process
/// that did not exec): only syscalls, stack and static buffers. The caller reads the filled
/// request back over a pipe.
///
/// Per member (one thread is enough: dispositions and the fd table are per process, signal(7)):
///  1. PTRACE_SEIZE + PTRACE_INTERRUPT (never SIGSTOP) → PTRACE_EVENT_STOP; all registers saved
///     (PTRACE_GETREGSET NT_PRSTATUS); the start time re-read (a seized task cannot be recycled).
///  2. Syscalls are injected at a known syscall instruction: the one the task is blocked after
///     (x86_64: rip-2 when orig_rax >= 0), else one found in its vDSO (the CPU-loop case);
///     the syscall number is "none" (orig_rax = -1) so the kernel's restart logic never fires
///     for an injected call.
///  3. mmap a private scratch page; rt_sigaction(SIGHUP) with the kernel's struct layout
///     (handler, flags, restorer, mask); openat the log (O_WRONLY|O_APPEND|O_NOFOLLOW), checked
///     to be the file sessiontop created (dev/inode via /proc/P/fd); each fd on the terminal is
///     first saved (F_DUPFD_CLOEXEC, for undo) then dup3'd over, keeping its FD_CLOEXEC.
///  4. Optionally a new process group (dummy child, reptyr's trick done with SEIZE): clone in
///     one member (CLONE_VM, it never runs user code), setpgid(0,0) in the dummy, setpgid(0,D)
///     in every member, the dummy killed and reaped (wait4 in its parent).
///  5. Commit: the saved fds closed, the scratch page unmapped, the registers restored: for a
///     task interrupted in a syscall with -ERESTARTSYS/-NOINTR/-NOHAND/-RESTARTBLOCK and no
///     signal to re-deliver, the kernel's no-handler restart is done here (rip -= 2, rax =
///     orig_rax or __NR_restart_syscall, arch/x86/kernel/signal.c), since the last stop is a
///     syscall-exit stop after which the kernel runs no restart logic; signals that arrived
///     meanwhile (suppressed at their signal-delivery stops) are re-sent with tgkill before
///     PTRACE_DETACH, and then the kernel's own restart logic applies as it would have.
/// Every member is stopped before any is changed; a failure undoes every member changed so far
/// (fds, disposition, group), so the result is all or nothing unless an undo itself fails,
/// which the per-member status says.

#define ST_DETACH_MAX_MEMBERS 64
#define ST_DETACH_MAX_FDS 32
#define ST_DETACH_MAX_SIGNALS 32
#define ST_DETACH_PATH_MAX 1024

/// What happened to one member.
enum st_detach_status {
    ST_DM_PENDING = 0,
    /// Detached: every requested change made, registers restored, tracer gone.
    ST_DM_DONE = 1,
    /// Left exactly as it was (the run failed elsewhere, or before any change).
    ST_DM_UNCHANGED = 2,
    /// It had been changed, and the change was undone.
    ST_DM_UNDONE = 3,
    /// Changed, and the undo failed part way: `changed_*` say what is still changed.
    ST_DM_PARTIAL = 4,
    /// It exited (or was killed) during the run.
    ST_DM_VANISHED = 5,
};

/// The step a failure happened at (err is its errno).
enum st_detach_stage {
    ST_DS_NONE = 0,
    ST_DS_HELPER = 1,     /// fork/pipe of the helper
    ST_DS_SEIZE = 2,      /// PTRACE_SEIZE (EPERM: not allowed to trace; EBUSY/EPERM: already traced)
    ST_DS_STOP = 3,       /// no stop within the timeout (uninterruptible sleep, D)
    ST_DS_IDENTITY = 4,   /// start time differs (the pid was recycled)
    ST_DS_ABI = 5,        /// not the native ABI (a 32-bit task)
    ST_DS_SITE = 6,       /// no syscall instruction found
    ST_DS_STOPPED = 7,    /// the task is in a group stop (stopped job): continue it first
    ST_DS_MMAP = 8,
    ST_DS_SIGACTION = 9,
    ST_DS_OPEN_LOG = 10,
    ST_DS_LOG_MISMATCH = 11, /// the path the target opened is not the file sessiontop created
    ST_DS_OPEN_NULL = 12,
    ST_DS_REDIRECT = 13,
    ST_DS_GROUP = 14,
    ST_DS_RESTORE = 15,
    ST_DS_TEST = 16,      /// fault injected by a test
    ST_DS_INJECT = 17,    /// the injection itself (unexpected stop, the task died)
};

/// Where the injected syscalls ran.
enum st_detach_site {
    ST_SITE_NONE = 0,
    ST_SITE_SYSCALL = 1,  /// the syscall instruction the task was blocked after
    ST_SITE_VDSO = 2,     /// a syscall instruction in the vDSO (the task was in user space)
};

typedef struct st_detach_member {
    /* in */
    pid_t pid;
    /// The thread to stop (pid unless the leader thread is a zombie).
    pid_t tid;
    uint64_t start_time;
    /* out */
    int status;
    int stage;
    int err;
    /// SIGHUP disposition before: 0 default, 1 ignored, 2 caught (a handler).
    int hup_before;
    /// SIGHUP disposition left: same coding.
    int hup_after;
    int site;
    /// The syscall it was stopped in (orig_rax), -1 none; and its return register then.
    long interrupted_syscall;
    long interrupted_result;
    /// Redirected fds: number and where to (1 log, 0 /dev/null).
    int fd_count;
    int fds[ST_DETACH_MAX_FDS];
    int fd_to_log[ST_DETACH_MAX_FDS];
    /// Process group before and after.
    pid_t pgid_before;
    pid_t pgid_after;
    /// Signals that arrived during the injection and were re-sent.
    int signals_count;
    int signals[ST_DETACH_MAX_SIGNALS];
    /// Injected syscalls, and the microseconds it spent stopped.
    int syscalls;
    int stopped_us;
    /// For ST_DM_PARTIAL: still changed after a failed undo.
    int changed_disposition;
    int changed_fds;
    int changed_group;
} st_detach_member;

typedef struct st_detach_request {
    /* in */
    /// Absolute path of the log (already created, owned by the target's user).
    char log_path[ST_DETACH_PATH_MAX];
    /// Its device and inode as sessiontop sees them (st_dev, st_ino).
    uint64_t log_dev;
    uint64_t log_ino;
    /// The session's terminal, as /proc/P/stat field 7 encodes it (tty_nr); fds whose st_rdev is
    /// that device or /dev/tty (5,0) are redirected.
    uint64_t tty_nr;
    /// 1: leave fd 0 (and other input-only uses) alone.
    int stdin_keep;
    /// 1: set SIG_IGN even over a handler.
    int force_ignore;
    /// 1: move every member to a fresh process group.
    int new_group;
    /// With new_group: join this existing group instead of making one (a later round for
    /// members forked meanwhile); 0: make one.
    pid_t join_pgid;
    /// How long to wait for a member to stop (ms); 0: 2000.
    int stop_timeout_ms;
    /// Tests only: sleep this long (ms) while every member is stopped and changed, before the
    /// commit (the window a SIGKILL test aims at); and fail on purpose after changing member
    /// `test_fail_after` (0-based; -1 never) to exercise the undo.
    int test_pause_ms;
    int test_fail_after;
    int member_count;
    st_detach_member members[ST_DETACH_MAX_MEMBERS];
    /* out */
    /// 0: every member done. Otherwise the stage/errno of the first failure, and which member.
    int failed_stage;
    int failed_err;
    int failed_member;
    pid_t new_pgid;
    /// The helper's pid (for tests and logs) and the whole run's duration in microseconds.
    pid_t helper_pid;
    int elapsed_us;
} st_detach_request;

/// Runs the request in a helper process (see above) and waits for it. Returns 0 when every
/// member was detached, 1 when the run failed (req->failed_* and each member's status say what
/// is left), -1 with errno when the helper could not run at all.
int st_detach_run(st_detach_request *req);

/// The architecture the engine was built for: "x86_64", "aarch64", or NULL when the engine
/// has no layer for it (st_detach_run then fails with ENOSYS).
const char *st_detach_arch(void);

/// 1 when `path`'s ELF header (class and machine) is this process's native ABI, 0 when it is
/// another one (a 32-bit program), -1 when it cannot be read.
int st_detach_elf_is_native(const char *path);

#endif
