#if defined(__aarch64__)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "arch.h"
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <elf.h>
#include <string.h>

/// arm64 has no GETREGS/PEEKUSER: NT_PRSTATUS for the registers, NT_ARM_SYSTEM_CALL for the
/// syscall number (reptyr PR #97; arch/arm64/kernel/ptrace.c).
#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL 0x404
#endif

int st_arch_get_regs(pid_t tid, st_arch_regs *r) {
    struct iovec iov = { &r->r, sizeof r->r };
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0) return -1;
    struct iovec sc = { &r->syscallno, sizeof r->syscallno };
    return (int)ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &sc);
}

int st_arch_set_regs(pid_t tid, const st_arch_regs *r) {
    struct iovec iov = { (void *)&r->r, sizeof r->r };
    if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0) return -1;
    struct iovec sc = { (void *)&r->syscallno, sizeof r->syscallno };
    return (int)ptrace(PTRACE_SETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &sc);
}

/// PSR_MODE32_BIT (0x10) in pstate marks an AArch32 task.
int st_arch_is_native(const st_arch_regs *r) { return (r->r.pstate & 0x10) == 0; }
long st_arch_syscall_nr(const st_arch_regs *r) { return r->syscallno; }
long st_arch_return_value(const st_arch_regs *r) { return (long)r->r.regs[0]; }
unsigned long st_arch_pc(const st_arch_regs *r) { return r->r.pc; }

int st_arch_site_candidates(const st_arch_regs *r, unsigned long out[2]) {
    // arm64's do_signal rewinds pc to the svc (and x0 = orig_x0) before get_signal, so at the
    // interrupt stop a restartable syscall's pc already points at it; otherwise pc is past it.
    out[0] = r->r.pc;
    out[1] = r->r.pc - 4;
    return 2;
}

/// svc #0 = 0xd4000001, little endian.
int st_arch_is_syscall_insn(const unsigned char *b) {
    return b[0] == 0x01 && b[1] == 0x00 && b[2] == 0x00 && b[3] == 0xd4;
}

void st_arch_setup_call(st_arch_regs *w, const st_arch_regs *base, unsigned long site, long nr, const long a[6]) {
    *w = *base;
    w->r.pc = site;
    w->r.regs[8] = (unsigned long)nr;
    for (int i = 0; i < 6; i++) w->r.regs[i] = (unsigned long)a[i];
    w->syscallno = -1;
}

void st_arch_final_regs(st_arch_regs *out, const st_arch_regs *saved, int signals) {
    // The kernel already did the no-handler restart set-up before reporting the stop (above),
    // so the saved registers are already what the task must resume with.
    (void)signals;
    *out = *saved;
    out->syscallno = -1;
}
#endif
