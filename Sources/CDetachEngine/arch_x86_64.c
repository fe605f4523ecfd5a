#if defined(__x86_64__)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "arch.h"
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <elf.h>
#include <string.h>

/// Kernel errnos that mean "restart me" (include/linux/errno.h; never seen by user space).
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

int st_arch_get_regs(pid_t tid, st_arch_regs *r) {
    struct iovec iov = { r, sizeof *r };
    return (int)ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov);
}

int st_arch_set_regs(pid_t tid, const st_arch_regs *r) {
    struct iovec iov = { (void *)r, sizeof *r };
    return (int)ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov);
}

int st_arch_is_native(const st_arch_regs *r) { return r->cs == 0x33; }
long st_arch_syscall_nr(const st_arch_regs *r) { return (long)r->orig_rax; }
long st_arch_return_value(const st_arch_regs *r) { return (long)r->rax; }
unsigned long st_arch_pc(const st_arch_regs *r) { return r->rip; }

int st_arch_site_candidates(const st_arch_regs *r, unsigned long out[2]) {
    // In a syscall (and after any syscall, until an interrupt overwrites orig_rax) rip is just
    // past the 2-byte `syscall`; the engine checks the bytes before using it.
    out[0] = r->rip - 2;
    return 1;
}

int st_arch_is_syscall_insn(const unsigned char *b) { return b[0] == 0x0f && b[1] == 0x05; }

void st_arch_setup_call(st_arch_regs *w, const st_arch_regs *base, unsigned long site, long nr, const long a[6]) {
    *w = *base;
    w->rip = site;
    w->rax = (unsigned long)nr;
    w->orig_rax = (unsigned long)-1;
    w->rdi = (unsigned long)a[0];
    w->rsi = (unsigned long)a[1];
    w->rdx = (unsigned long)a[2];
    w->r10 = (unsigned long)a[3];
    w->r8 = (unsigned long)a[4];
    w->r9 = (unsigned long)a[5];
}

void st_arch_final_regs(st_arch_regs *out, const st_arch_regs *saved, int signals) {
    *out = *saved;
    if (signals || (long)saved->orig_rax < 0) return;
    // arch_do_signal_or_restart with no handler: -ERESTART* → re-execute the syscall.
    switch ((long)saved->rax) {
    case -ERESTARTSYS: case -ERESTARTNOINTR: case -ERESTARTNOHAND:
        out->rax = saved->orig_rax;
        out->rip = saved->rip - 2;
        out->orig_rax = (unsigned long)-1;
        break;
    case -ERESTART_RESTARTBLOCK:
        out->rax = ST_NR_restart_syscall;
        out->rip = saved->rip - 2;
        out->orig_rax = (unsigned long)-1;
        break;
    default:
        break;
    }
}
#endif
