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
/// SEGV/BUS/ILL/TRAP/ABRT/FPE that write reset sequences, restore termios and re-raise.
void cc_install_crash_restore(void);
/// Restores termios saved by cc_install_crash_restore and leaves the alternate screen
/// (async-signal-safe: used from signal handlers).
void cc_emergency_restore(void);
#endif
