#!/usr/bin/env bash
# Regenerates Screenshots/*.png from a real run of the inspector in tmux.
#
#   scripts/screenshots.sh            (uses .build/debug/sessiontop; SESSIONTOP_BIN overrides)
#
# Scenario: an interactive bash in a tmux pane starts a few jobs — a background sleep, a
# pipeline, a nohup'ed sleep with its output redirected, a python that ignores SIGHUP but keeps
# the terminal, a stopped job (Ctrl-Z) — then runs sessiontop in the foreground. The signal
# menu is opened and cancelled; the detach dialog is opened once and cancelled, then the background
# sleep is detached in place for real (it stays in the pane's session). Each screen is
# captured with `capture-pane -p -e` and rendered by scripts/ansi2png.py (Pillow + DejaVu Sans
# Mono). TERM is tmux-256color (no bce), so that coloured blanks are real cells that
# capture-pane -N keeps. Everything started is killed by pid at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SESSIONTOP_BIN:-$ROOT/.build/debug/sessiontop}
OUT=$ROOT/Screenshots
COLS=118
ROWS=34
[ -x "$BIN" ] || { echo "screenshots: build first (swift build)" >&2; exit 1; }
python3 -c 'import PIL' 2>/dev/null || { echo "screenshots: pip install pillow" >&2; exit 1; }
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/st-shots.XXXXXX)
SOCK=st-shots-$$
T=(env -u TMUX tmux -L "$SOCK" -f /dev/null)

LAB=st-shots-lab-$$
L=(env -u TMUX tmux -L "$LAB")
LABSIDS=""

cleanup() {
    local shell sid
    # The lab's own tmux server and every process of its terminals' sessions, by pid.
    for sid in $LABSIDS; do
        for pid in $(ps -e -o pid=,sid= | awk -v s="$sid" '$2 == s { print $1 }'); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    done
    "${L[@]}" kill-server 2>/dev/null || true
    shell=$("${T[@]}" display-message -p -t shots '#{pane_pid}' 2>/dev/null || true)
    if [ -n "$shell" ]; then
        sid=$(ps -o sid= -p "$shell" | tr -d ' ')
        # Every process of the pane's session, by pid.
        for pid in $(ps -e -o pid=,sid= | awk -v s="$sid" '$2 == s { print $1 }'); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    fi
    "${T[@]}" kill-server 2>/dev/null || true
    [ -n "${KEEP_ANS:-}" ] && cp "$WORK"/*.ans "$KEEP_ANS"/ 2>/dev/null; rm -rf "$WORK"
}
trap cleanup EXIT

"${T[@]}" new-session -d -s shots -x "$COLS" -y "$ROWS" \
    "env -i HOME=$WORK PATH=$PATH TERM=tmux-256color LANG=C.UTF-8 PS1='\$ ' bash --norc --noprofile -i"
"${T[@]}" set-option -t shots status off

type_line() { "${T[@]}" send-keys -t shots -l "$1"; "${T[@]}" send-keys -t shots Enter; sleep 0.3; }
wait_for() {
    for _ in $(seq 100); do
        "${T[@]}" capture-pane -p -t shots | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    echo "screenshots: timed out waiting for '$1'" >&2
    "${T[@]}" capture-pane -p -t shots >&2
    return 1
}
shot() {
    sleep 0.4
    "${T[@]}" capture-pane -p -e -N -t shots > "$WORK/$1.ans"
    python3 "$ROOT/scripts/ansi2png.py" "$WORK/$1.ans" "$OUT/$1.png" --cols "$COLS" --rows "${ROWS}" --title "$2"
    echo "wrote Screenshots/$1.png"
}

type_line 'cd /tmp'
type_line 'sleep 4001 &'
type_line 'sleep 4002 | cat &'
type_line 'nohup sleep 4003 >/dev/null 2>&1 &'
type_line "python3 -c 'import signal,time; signal.signal(signal.SIGHUP, signal.SIG_IGN); time.sleep(9999)' &"
type_line 'sleep 4004'
"${T[@]}" send-keys -t shots C-z
sleep 0.3
type_line 'clear'
type_line "SWIFT_BACKTRACE=interactive=no $BIN"
wait_for "F10Quit"
sleep 2  # a refresh or two: details for every process

# Main tree: sessiontop starts on itself, its session open.
shot main-tree "sessiontop: the session tree (this terminal's session open)"

# A job that would die: the background sleep, detail pane with the reasons.
"${T[@]}" send-keys -t shots /
"${T[@]}" send-keys -t shots -l "sleep 4001"
"${T[@]}" send-keys -t shots Enter i
wait_for "(i or Esc closes)"
shot hangup-dies "sessiontop: what happens to a background job when this terminal hangs up"

# Detail pane of the process that ignores SIGHUP but keeps the terminal.
"${T[@]}" send-keys -t shots Escape /
"${T[@]}" send-keys -t shots -l "python3"
"${T[@]}" send-keys -t shots Enter i
wait_for "(i or Esc closes)"
shot detail-pane "sessiontop: detail pane (argv, cwd, umask, fds, signals, hangup reasons)"
"${T[@]}" send-keys -t shots Escape

# Help.
"${T[@]}" send-keys -t shots '?'
wait_for "What you see"
shot help "sessiontop: help, with sessions, groups, terminals and hangup explained"
"${T[@]}" send-keys -t shots Escape

# Search and filter: only what dies or is at risk, matches of "sleep" highlighted.
"${T[@]}" send-keys -t shots f f
wait_for "filter at risk"
"${T[@]}" send-keys -t shots /
"${T[@]}" send-keys -t shots -l "sleep"
"${T[@]}" send-keys -t shots Enter
wait_for "sleep"
shot search-filter "sessiontop: filter 'at risk' and a search for 'sleep'"

# The signal menu on a job (the pipeline's process group): k, nothing sent (Esc).
"${T[@]}" send-keys -t shots Escape f f f
wait_for "filter all"
"${T[@]}" send-keys -t shots /
"${T[@]}" send-keys -t shots -l "sleep 4002"
"${T[@]}" send-keys -t shots Enter Left k
wait_for "Signal process group"
shot signal-menu "sessiontop: k opens the signal menu on the selected job (process group)"
"${T[@]}" send-keys -t shots Escape

# The detach dialog for the python job that keeps the terminal: D shows the in-place plan, then
# n (nothing runs).
"${T[@]}" send-keys -t shots /
"${T[@]}" send-keys -t shots -l "python3"
"${T[@]}" send-keys -t shots Enter D
wait_for "in place"
shot detach-dialog "sessiontop: D shows the plan to detach the job in place (same pid, same state, no restart)"
"${T[@]}" send-keys -t shots n

# Detached for real: the background sleep 4001 (it would die), D then y; the result line, and its
# letter turns from D to S. (It stays in the pane's session: the cleanup kills it by sid.)
"${T[@]}" send-keys -t shots /
"${T[@]}" send-keys -t shots -l "sleep 4001"
"${T[@]}" send-keys -t shots Enter D
wait_for "in place"
"${T[@]}" send-keys -t shots y
wait_for "detached in place:"
sleep 1.6  # the next scan: the new verdict
shot detach-done "sessiontop: y detached the job in place: output to a log, new group, it survives a hangup"

"${T[@]}" send-keys -t shots q
sleep 0.3

# The lab (issue 12): `sessiontop lab` in the same window (its own tmux inside it), a few
# lesson steps typed in the lab terminal, then a real hangup and the prediction-vs-reality
# table. The log goes to a throwaway XDG_STATE_HOME.
LROWS=44
"${T[@]}" resize-window -t shots -x "$COLS" -y "$LROWS"
type_line 'clear'
type_line "SWIFT_BACKTRACE=interactive=no XDG_STATE_HOME=$WORK/state $BIN lab --socket $LAB"
wait_for "Lesson 1/"
LABSIDS=$("${L[@]}" display-message -p -t %0 '#{pane_pid}')
lab_type() { "${L[@]}" send-keys -t %0 -l "$1"; "${L[@]}" send-keys -t %0 Enter; sleep 0.5; }
lab_type 'sleep 1001 &'
wait_for "Lesson 2/"
lab_type 'sleep 1002 | cat &'
wait_for "Lesson 3/"
lab_type 'nohup sleep 1004 >/dev/null 2>&1 &'
lab_type 'sleep 1003'
wait_for "(step 2/2)"
sleep 1
ROWS=$LROWS shot lab-lesson "sessiontop lab: type the lesson in the lab terminal (top), sessiontop checks it (bottom)"

"${L[@]}" send-keys -t %1 H 1 y
wait_for "died as predicted"
ROWS=$LROWS shot lab-table "sessiontop lab: the terminal hung up for real, the prediction next to what happened"
"${L[@]}" send-keys -t %1 q
sleep 0.5
