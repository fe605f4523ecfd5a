#include "CCurses.h"
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

unsigned int cc_attr_bold(void) { return A_BOLD; }
unsigned int cc_attr_reverse(void) { return A_REVERSE; }
unsigned int cc_attr_underline(void) { return A_UNDERLINE; }
unsigned int cc_attr_dim(void) { return A_DIM; }
unsigned int cc_color_pair(int n) { return (unsigned int)COLOR_PAIR(n); }
int cc_lines(void) { return LINES; }
int cc_cols(void) { return COLS; }
unsigned long cc_all_mouse_events(void) { return ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION; }
unsigned long cc_button1_pressed(void) { return BUTTON1_PRESSED; }
unsigned long cc_button1_clicked(void) { return BUTTON1_CLICKED; }
unsigned long cc_button1_double_clicked(void) { return BUTTON1_DOUBLE_CLICKED; }
unsigned long cc_button4_pressed(void) { return BUTTON4_PRESSED; }
unsigned long cc_button5_pressed(void) { return BUTTON5_PRESSED; }

static struct termios saved_termios;
static int have_saved = 0;

void cc_emergency_restore(void) {
    static const char reset[] = "\033[0m\033[?1000l\033[?1006l\033[?25h\033[?1049l\r\n";
    ssize_t r = write(STDOUT_FILENO, reset, sizeof reset - 1);
    (void)r;
    if (have_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

static void crash_handler(int sig) {
    cc_emergency_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

void cc_install_crash_restore(void) {
    if (tcgetattr(STDIN_FILENO, &saved_termios) == 0) have_saved = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = crash_handler;
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}
