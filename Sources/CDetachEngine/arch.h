#ifndef ST_DETACH_ARCH_H
#define ST_DETACH_ARCH_H

/// The per-architecture layer of the detach engine: registers, the syscall instruction, the
/// syscall numbers and the kernel's restart rule. Everything else in engine.c is shared.
/// Sources: reptyr platform/linux/arch/{amd64.h,aarch64.h} (read, not copied), the kernel's
/// arch/x86/kernel/signal.c and arch/arm64/kernel/signal.c restart logic, asm/unistd.h.

#include <sys/types.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <sys/user.h>
#define ST_ARCH_NAME "x86_64"
#define ST_ARCH_INSN_LEN 2
typedef struct user_regs_struct st_arch_regs;
#define ST_NR_read 0
#define ST_NR_close 3
#define ST_NR_mmap 9
#define ST_NR_munmap 11
#define ST_NR_rt_sigaction 13
#define ST_NR_getpid 39
#define ST_NR_clone 56
#define ST_NR_wait4 61
#define ST_NR_fcntl 72
#define ST_NR_setpgid 109
#define ST_NR_restart_syscall 219
#define ST_NR_openat 257
#define ST_NR_dup3 292
#elif defined(__aarch64__)
#include <asm/ptrace.h>
#define ST_ARCH_NAME "aarch64"
#define ST_ARCH_INSN_LEN 4
/// The general registers plus the syscall number (NT_ARM_SYSTEM_CALL): writing x8 at a stop
/// is too late for the kernel's restart decision, the regset is what it reads.
typedef struct { struct user_pt_regs r; int syscallno; } st_arch_regs;
#define ST_NR_close 57
#define ST_NR_mmap 222
#define ST_NR_munmap 215
#define ST_NR_rt_sigaction 134
#define ST_NR_getpid 172
#define ST_NR_clone 220
#define ST_NR_wait4 260
#define ST_NR_fcntl 25
#define ST_NR_setpgid 154
#define ST_NR_restart_syscall 128
#define ST_NR_openat 56
#define ST_NR_dup3 24
#else
#define ST_ARCH_NONE 1
#define ST_ARCH_NAME 0
#define ST_ARCH_INSN_LEN 2
typedef struct { unsigned long unused; } st_arch_regs;
#endif

int st_arch_get_regs(pid_t tid, st_arch_regs *r);
int st_arch_set_regs(pid_t tid, const st_arch_regs *r);
/// 1 for a task of the native ABI (x86_64: cs 0x33, not 0x23 of a 32-bit task).
int st_arch_is_native(const st_arch_regs *r);
/// The syscall the task is stopped in (orig_rax / syscallno), or -1.
long st_arch_syscall_nr(const st_arch_regs *r);
long st_arch_return_value(const st_arch_regs *r);
unsigned long st_arch_pc(const st_arch_regs *r);
/// Addresses where the stopped task's own syscall instruction may be (most likely first).
int st_arch_site_candidates(const st_arch_regs *r, unsigned long out[2]);
/// 1 when the bytes are the syscall instruction (ST_ARCH_INSN_LEN of them).
int st_arch_is_syscall_insn(const unsigned char *b);
/// Work registers for one injected call: everything from `base`, the pc at `site`, the number
/// and six arguments in place, and no syscall in progress (so no restart logic applies).
void st_arch_setup_call(st_arch_regs *w, const st_arch_regs *base, unsigned long site, long nr, const long args[6]);
/// The registers to leave the task with, at a syscall-exit stop (see CDetachEngine.h step 5):
/// `saved` exactly, except that with no signal to re-deliver an interrupted restartable syscall
/// is set up to run again the way the kernel would have.
void st_arch_final_regs(st_arch_regs *out, const st_arch_regs *saved, int signals_to_redeliver);

#endif
