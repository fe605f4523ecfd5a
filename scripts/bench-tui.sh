#!/usr/bin/env bash
# Benchmark of the live inspector against htop on the same load, side by side in tmux.
#
#   scripts/bench-tui.sh [seconds] [sessions] [per-session]
#
# Spawns SESSIONS x (1 + PER) processes (default 50 x 41 = 2050: a `sh` session leader with 40
# sleeps each, every one in its own session via setsid), then
#  1. time to first frame: sessiontop launched from a wrapper that records the time just before
#     exec; sessiontop writes the time of its first drawn frame (SESSIONTOP_FIRST_FRAME_FILE);
#     five runs, median and max reported;
#  2. CPU: sessiontop (default refresh, 1.5 s) and `htop -d 15` (1.5 s) run together in one tmux
#     server for SECONDS; CPU time = utime + stime from /proc/<pid>/stat before and after.
# Everything it starts is killed by pid (groups by their leader's pid) on exit.
set -euo pipefail
DURATION=${1:-20}
SESSIONS=${2:-50}
PER=${3:-40}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SESSIONTOP_BIN:-$ROOT/.build/release/sessiontop}
if [ ! -x "$BIN" ]; then
    (cd "$ROOT" && swift build -c release --product sessiontop >/dev/null)
fi
command -v htop >/dev/null || { echo "bench-tui: htop is not installed (apt-get install htop)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/bench-tui.XXXXXX)
SOCK=bench-tui-$$
TMUX_CMD=(env -u TMUX tmux -L "$SOCK" -f /dev/null)
LEADERS=()
CLK=$(getconf CLK_TCK)

cleanup() {
    "${TMUX_CMD[@]}" kill-server 2>/dev/null || true
    for pid in "${LEADERS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    for pid in "${LEADERS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# The load: each leader is `sh` in a new session (setsid execs it: $! is the sid and pgid).
for _ in $(seq "$SESSIONS"); do
    setsid sh -c "for i in \$(seq $PER); do sleep 100000 & done; wait" </dev/null >/dev/null 2>&1 &
    LEADERS+=("$!")
done
# Wait until the sleeps exist.
want=$((SESSIONS * (PER + 1)))
for _ in $(seq 100); do
    have=0
    for pid in "${LEADERS[@]}"; do have=$((have + $(pgrep -g "$pid" -c || true))); done
    [ "$have" -ge "$want" ] && break
    sleep 0.1
done
total=$( (ls -d /proc/[0-9]* 2>/dev/null || true) | wc -l)
echo "load: $have processes in $SESSIONS sessions (machine total: $total)"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

"${TMUX_CMD[@]}" new-session -d -s bench -x 200 -y 50 "sleep 100000"

# 1. Time to first frame.
ttff=()
for run in 1 2 3 4 5; do
    rm -f "$WORK/t0" "$WORK/t1"
    "${TMUX_CMD[@]}" new-window -d -t bench -n "ff$run" \
        "sh -c 'date +%s%N > $WORK/t0; exec env LANG=C.UTF-8 SWIFT_BACKTRACE=interactive=no SESSIONTOP_FIRST_FRAME_FILE=$WORK/t1 $BIN'"
    for _ in $(seq 100); do [ -s "$WORK/t1" ] && break; sleep 0.05; done
    [ -s "$WORK/t1" ] || { echo "bench-tui: no first frame in 5 s" >&2; exit 1; }
    ttff+=($(( ($(cat "$WORK/t1") - $(cat "$WORK/t0")) / 1000000 )))
    pid=$("${TMUX_CMD[@]}" display-message -p -t "bench:ff$run" '#{pane_pid}')
    kill -TERM "$pid" 2>/dev/null || true
    sleep 0.3
done
sorted=($(printf '%s\n' "${ttff[@]}" | sort -n))
echo "time to first frame (ms), 5 runs: ${ttff[*]}  median ${sorted[2]}  max ${sorted[4]}"

# 2. CPU side by side.
"${TMUX_CMD[@]}" new-window -d -t bench -n st "exec env LANG=C.UTF-8 SWIFT_BACKTRACE=interactive=no $BIN"
"${TMUX_CMD[@]}" new-window -d -t bench -n htop "exec htop -d 15"
sleep 3  # both past their start-up
st_pid=$("${TMUX_CMD[@]}" display-message -p -t bench:st '#{pane_pid}')
htop_pid=$("${TMUX_CMD[@]}" display-message -p -t bench:htop '#{pane_pid}')
st0=$(cpu_ticks "$st_pid"); h0=$(cpu_ticks "$htop_pid")
sleep "$DURATION"
st1=$(cpu_ticks "$st_pid"); h1=$(cpu_ticks "$htop_pid")
st_rss=$(awk '/VmRSS/ { print $2 }' "/proc/$st_pid/status")
h_rss=$(awk '/VmRSS/ { print $2 }' "/proc/$htop_pid/status")
st=$((st1 - st0)); h=$((h1 - h0))
awk -v st="$st" -v h="$h" -v clk="$CLK" -v d="$DURATION" -v sr="$st_rss" -v hr="$h_rss" 'BEGIN {
    printf "CPU over %d s: sessiontop %.2f s (%.1f%% of a core, RSS %d MB), htop -d 15 %.2f s (%.1f%%, RSS %d MB)\n",
        d, st / clk, 100 * st / clk / d, sr / 1024, h / clk, 100 * h / clk / d, hr / 1024
    if (h > 0) printf "ratio sessiontop / htop = %.2f (floor: at most 0.50)\n", st / h
}'
