#include "CCurses.h"
#include <sys/resource.h>
#include <sys/syscall.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <fcntl.h>
#include <langinfo.h>
#include <errno.h>

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

// The terminal restore on signals and crashes lives in restore.c.

int cc_key_f(int n) { return KEY_F(n); }

int cc_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

void cc_set_escdelay(int ms) { set_escdelay(ms); }

static SCREEN *the_screen = NULL;

int cc_start(const char *term, int want_color) {
    setlocale(LC_ALL, "");
    the_screen = newterm(term, stdout, stdin);
    if (!the_screen) return -1;
    set_term(the_screen);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    mousemask(ALL_MOUSE_EVENTS, NULL);
    mouseinterval(0);
    if (want_color && has_colors()) {
        start_color();
        use_default_colors();
        return 1;
    }
    return 0;
}

void cc_stop(void) {
    if (!the_screen) return;
    endwin();
    delscreen(the_screen);
    the_screen = NULL;
}

void cc_init_pairs(const short *fg, const short *bg, int n) {
    for (int i = 0; i < n; i++) init_pair((short)(i + 1), fg[i], bg[i]);
}

int cc_read(int *code, int *x, int *y, unsigned long *bstate) {
    wint_t wch = 0;
    int r = wget_wch(stdscr, &wch);
    if (r == ERR) return 0;
    if (r == KEY_CODE_YES) {
        if (wch == KEY_MOUSE) {
            MEVENT ev;
            if (getmouse(&ev) != OK) return 0;
            *x = ev.x; *y = ev.y; *bstate = (unsigned long)ev.bstate;
            return 3;
        }
        *code = (int)wch;
        return 2;
    }
    *code = (int)wch;
    return 1;
}

void cc_draw(int y, int x, const int *wch, int n, unsigned int attr) {
    attrset((int)attr);
    mvaddnwstr(y, x, (const wchar_t *)wch, n);
}

void cc_clear_to_eol(int y, int x) {
    attrset(A_NORMAL);
    move(y, x);
    clrtoeol();
}

void cc_refresh(void) { refresh(); }

void cc_clear_all(void) { clearok(curscr, TRUE); }

int cc_nice_this_thread(int nice) {
    pid_t tid = (pid_t)syscall(SYS_gettid);
    return setpriority(PRIO_PROCESS, (id_t)tid, nice);
}
