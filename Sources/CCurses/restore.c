// Putting the terminal back on every way out but SIGKILL: quit signals go through a self-pipe
// to the event loop (which leaves ncurses properly); crashes (SEGV, BUS, ILL, TRAP, ABRT, FPE,
// SYS) run a handler on an alternate signal stack (so a stack overflow still restores) that
// writes the reset sequences, restores the saved termios, says so, and re-raises.
// Everything in a handler is async-signal-safe: write(2), tcsetattr(3), raise(3).
#include "CCurses.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <ncursesw/term.h>

static struct termios saved_termios;
static volatile sig_atomic_t have_saved = 0;

// Two buffers: the handler reads the one `reset_current` names, set only once it is complete.
static char reset_buf[2][768];
static size_t reset_len[2];
static volatile sig_atomic_t reset_current = 0;

static void append(int b, const char *s) {
    if (!s || s == (const char *)-1) return;
    for (; *s; s++) {
        // terminfo padding `$<5>` is for real terminals' delays, not text to send.
        if (s[0] == '$' && s[1] == '<') {
            const char *end = strchr(s, '>');
            if (end) { s = end; continue; }
        }
        if (reset_len[b] + 1 < sizeof reset_buf[b]) reset_buf[b][reset_len[b]++] = *s;
    }
}

static const char *cap(const char *name, const char *fallback, int use_terminfo) {
    if (!use_terminfo) return fallback;
    const char *v = tigetstr(name);
    return (v && v != (const char *)-1) ? v : fallback;
}

/// Attributes off, keypad transmit off, every mouse mode off, cursor shown, main screen.
static void build_reset(int use_terminfo) {
    int b = reset_current ? 0 : 1;
    reset_len[b] = 0;
    append(b, cap("sgr0", "\033[0m", use_terminfo));
    append(b, cap("rmkx", "\033[?1l\033>", use_terminfo));
    append(b, "\033[?1000l\033[?1002l\033[?1003l\033[?1005l\033[?1006l\033[?1015l");
    append(b, cap("cnorm", "\033[?25h", use_terminfo));
    append(b, cap("rmcup", "\033[?1049l", use_terminfo));
    append(b, "\r\n");
    reset_current = b;
}

void cc_emergency_restore(void) {
    int b = reset_current;
    ssize_t r = write(STDOUT_FILENO, reset_buf[b], reset_len[b]);
    (void)r;
    if (have_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGFPE: return "SIGFPE";
    case SIGSYS: return "SIGSYS";
    default: return "a signal";
    }
}

static void say(const char *s) {
    ssize_t r = write(STDERR_FILENO, s, strlen(s));
    (void)r;
}

static void crash_handler(int sig) {
    cc_emergency_restore();
    say("sessiontop: crashed (");
    say(signal_name(sig));
    say("); the terminal was restored\n");
    signal(sig, SIG_DFL);
    raise(sig);  // blocked until the handler returns; then the default action ends us
}

static char alt_stack[1 << 16];

void cc_install_crash_restore(void) {
    if (tcgetattr(STDIN_FILENO, &saved_termios) == 0) have_saved = 1;
    build_reset(0);
    // An alternate stack: a stack overflow faults on the guard page, and a handler on the
    // overflowed stack could not run at all.
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = alt_stack;
    ss.ss_size = sizeof alt_stack;
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = crash_handler;
    sa.sa_flags = (int)(SA_RESETHAND | SA_ONSTACK);
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGSYS};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

void cc_arm_restore(void) { build_reset(1); }

static int quit_pipe[2] = {-1, -1};

static void quit_handler(int sig) {
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(quit_pipe[1], &b, 1);
    (void)r;
    errno = saved;
}

int cc_install_quit_pipe(void) {
    if (quit_pipe[0] >= 0) return quit_pipe[0];
    if (pipe2(quit_pipe, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = quit_handler;
    sigemptyset(&sa.sa_mask);
    // Every signal whose default action ends the process (signal(7)), but the crash ones.
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGVTALRM,
                  SIGPROF, SIGXCPU, SIGXFSZ, SIGIO, SIGPWR, SIGSTKFLT};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++) sigaction(s, &sa, NULL);
    return quit_pipe[0];
}

static volatile char sink;

__attribute__((noinline)) static int recurse(int depth) {
    volatile char frame[4096];
    frame[depth % sizeof frame] = (char)depth;
    return recurse(depth + 1) + frame[(depth * 7) % sizeof frame];
}

void cc_selftest_crash(const char *kind) {
    if (strcmp(kind, "stack-overflow") == 0) sink = (char)recurse(0);
    else if (strcmp(kind, "segv") == 0) *(volatile int *)0 = 1;
    else if (strcmp(kind, "abort") == 0) abort();
}
