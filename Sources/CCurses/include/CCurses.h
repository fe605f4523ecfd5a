#ifndef CCURSES_H
#define CCURSES_H
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <ncursesw/curses.h>

/// Function-like ncurses macros that Swift cannot import.
unsigned int cc_attr_bold(void);
unsigned int cc_attr_reverse(void);
unsigned int cc_attr_underline(void);
unsigned int cc_attr_dim(void);
unsigned int cc_color_pair(int n);
int cc_lines(void);
int cc_cols(void);
unsigned long cc_all_mouse_events(void);
unsigned long cc_button1_pressed(void);
unsigned long cc_button1_clicked(void);
unsigned long cc_button1_double_clicked(void);
unsigned long cc_button4_pressed(void);
unsigned long cc_button5_pressed(void);
/// Saves the terminal's termios so a crash handler can restore it; installs handlers for
/// SEGV/BUS/ILL/TRAP/ABRT/FPE/SYS, on an alternate signal stack, that write reset sequences
/// (attributes, keypad, mouse, cursor, main screen), restore termios, say so and re-raise.
void cc_install_crash_restore(void);
/// After newterm: takes the reset sequences from the terminal's terminfo entry.
void cc_arm_restore(void);
/// Restores termios saved by cc_install_crash_restore and writes the reset sequences
/// (async-signal-safe: used from signal handlers).
void cc_emergency_restore(void);
/// Installs handlers for every signal whose default action ends the process but the crash
/// ones (INT, TERM, HUP, QUIT, PIPE, ALRM, USR1/2, real-time …) that write the signal number
/// (one byte) to a non-blocking close-on-exec self-pipe; returns the read end, or -1.
int cc_install_quit_pipe(void);
/// Crashes on purpose ("stack-overflow", "segv", "abort"): SESSIONTOP_SELFTEST, for the tests
/// of the terminal restore.
void cc_selftest_crash(const char *kind);
/// KEY_F(n).
int cc_key_f(int n);
/// Non-zero when the locale's codeset is UTF-8 (nl_langinfo(CODESET)).
int cc_locale_is_utf8(void);
/// Sets ESCDELAY (ms) so a lone Escape is not held back for a second.
void cc_set_escdelay(int ms);
/// newterm(term, stdout, stdin) and the inspector's modes (cbreak, noecho, keypad, nodelay,
/// hidden cursor, mouse, short ESCDELAY). Returns -1 when the terminal type is unknown, else
/// 1 when colours are on, 0 when not.
int cc_start(const char *term, int want_color);
/// endwin() once; safe to call again.
void cc_stop(void);
/// Defines colour pair i+1 as fg[i] on bg[i] (-1 = terminal default).
void cc_init_pairs(const short *fg, const short *bg, int n);
/// Reads one input: 0 none, 1 character (code), 2 key (code = KEY_*), 3 mouse (x, y, bstate).
int cc_read(int *code, int *x, int *y, unsigned long *bstate);
/// Draws n wide characters at (y, x) with attributes.
void cc_draw(int y, int x, const int *wch, int n, unsigned int attr);
void cc_clear_to_eol(int y, int x);
void cc_refresh(void);
/// Forces a full repaint on the next refresh (after a resize).
void cc_clear_all(void);
/// Lowers the calling thread's priority by `nice` (setpriority(2) on its thread id: nice is
/// per thread on Linux); threads it creates inherit it. 0 on success, -1 with errno.
int cc_nice_this_thread(int nice);
#endif
