#!/usr/bin/env bash
# Issue 11's scale benchmark: the live inspector against htop with 10 000 processes in 200
# sessions, both at the same refresh (1.5 s), side by side in one tmux server.
#
#   scripts/bench-scale.sh [seconds] [sessions] [per-session] [keys]
#
# Default 20 s, 200 sessions x (1 leader + 49 sleeps) = 10 000 processes, 40 key presses.
#  1. key press to draw: tmux send-keys Down at a recorded time; sessiontop writes the wall
#     clock time of each frame it draws after input (SESSIONTOP_KEY_DRAWN_FILE); latency =
#     drawn - sent, one key every 0.25 s (so some land during a scan), median / p90 / max;
#  2. CPU: sessiontop and `htop -d 15` together for SECONDS; utime + stime from /proc/<pid>/stat.
# Every process it starts is killed by pid on exit: each leader's whole group (kill -KILL -pgid),
# then each leader, then the tmux server; it checks that none of them is left.
set -euo pipefail
DURATION=${1:-20}
SESSIONS=${2:-200}
PER=${3:-49}
KEYS=${4:-40}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SESSIONTOP_BIN:-$ROOT/.build/release/sessiontop}
[ -x "$BIN" ] || { echo "bench-scale: build first: swift build -c release --static-swift-stdlib --product sessiontop" >&2; exit 1; }
command -v htop >/dev/null || { echo "bench-scale: htop is not installed (apt-get install htop)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/bench-scale.XXXXXX)
SOCK=bench-scale-$$
TMUX_CMD=(env -u TMUX tmux -L "$SOCK" -f /dev/null)
LEADERS=()
LOAD=()  # every load process, by pid
CLK=$(getconf CLK_TCK)

cleanup() {
    local server
    server=$("${TMUX_CMD[@]}" display-message -p '#{pid}' 2>/dev/null || true)
    "${TMUX_CMD[@]}" kill-server 2>/dev/null || true
    [ -n "$server" ] && kill -KILL "$server" 2>/dev/null || true
    for pid in "${LEADERS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${LOAD[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    # Any sleep forked after the pids were listed is still in its leader's group.
    for pid in "${LEADERS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    for pid in "${LEADERS[@]}"; do wait "$pid" 2>/dev/null || true; done
    # Killed is not yet gone: wait (5 s at most) until none is listed.
    local left
    for _ in $(seq 50); do left=$(members | wc -l); [ "$left" = 0 ] && break; sleep 0.1; done
    echo "cleanup: $left load processes left"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# Pids of every process in one of the leaders' groups: one ps call, not one per leader.
members() {
    printf '%s\n' "${LEADERS[@]}" > "$WORK/leaders"
    ps -e -o pid=,pgid= | awk 'NR == FNR { l[$1] = 1; next } ($2 in l) { print $1 }' "$WORK/leaders" -
}

# The load: each leader is `sh` in a new session (setsid execs it: $! is the sid and pgid).
for _ in $(seq "$SESSIONS"); do
    setsid sh -c "for i in \$(seq $PER); do sleep 100000 & done; wait" </dev/null >/dev/null 2>&1 &
    LEADERS+=("$!")
done
want=$((SESSIONS * (PER + 1)))
have=0
for _ in $(seq 300); do
    have=$(members | wc -l)
    [ "$have" -ge "$want" ] && break
    sleep 0.2
done
LOAD=($(members))
total=$( (ls -d /proc/[0-9]* 2>/dev/null || true) | wc -l)
echo "load: $have processes in $SESSIONS sessions (machine total: $total)"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

"${TMUX_CMD[@]}" new-session -d -s bench -x 100 -y 30 \
    "exec env LANG=C.UTF-8 SWIFT_BACKTRACE=interactive=no SESSIONTOP_KEY_DRAWN_FILE=$WORK/drawn SESSIONTOP_TIMING_FILE=$WORK/timing $BIN -d 1.5"
"${TMUX_CMD[@]}" new-window -d -t bench -n htop "exec htop -d 15"
sleep 4  # both past their start-up and first full scans
st_pid=$("${TMUX_CMD[@]}" display-message -p -t bench:0 '#{pane_pid}')
htop_pid=$("${TMUX_CMD[@]}" display-message -p -t bench:htop '#{pane_pid}')

# 1. Key press to draw: keys 0.3 s apart (so some land while a scan runs); each latency is
# the first frame drawn after the key's send time.
: > "$WORK/drawn"
: > "$WORK/sent"
for k in $(seq "$KEYS"); do
    date +%s%N >> "$WORK/sent"
    "${TMUX_CMD[@]}" send-keys -t bench:0 $([ $((k % 2)) = 0 ] && echo Down || echo Up)
    sleep 0.3
done
sleep 0.5
latency() {
    awk 'NR == FNR { d[++n] = $1; next } { s = $1; for (i = 1; i <= n; i++) if (d[i] >= s) { print int((d[i] - s) / 1000000); break } }' \
        "$WORK/drawn" "$1" | sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%d keys: median %d  p90 %d  max %d", NR, a[int((NR + 1) / 2)], a[int(NR * 0.9 + 0.5)], a[NR] }'
}
# From just before `tmux send-keys` starts: tmux's own client start-up is in the figure.
echo "key press to draw (ms): $(latency "$WORK/sent")"

# Optional: where sessiontop's CPU goes (BENCH_PERF=FILE: perf report of 10 s, written there).
if [ -n "${BENCH_PERF:-}" ] && command -v perf >/dev/null; then
    perf record -q -F 499 -g -p "$st_pid" -o "$WORK/perf.data" -- sleep 10 >/dev/null 2>&1 || true
    perf report -q --stdio --no-children -i "$WORK/perf.data" --percent-limit 1.5 > "$BENCH_PERF" 2>/dev/null || true
fi

# 2. CPU side by side.
st0=$(cpu_ticks "$st_pid"); h0=$(cpu_ticks "$htop_pid")
sleep "$DURATION"
st1=$(cpu_ticks "$st_pid"); h1=$(cpu_ticks "$htop_pid")
st_rss=$(awk '/VmRSS/ { print $2 }' "/proc/$st_pid/status")
h_rss=$(awk '/VmRSS/ { print $2 }' "/proc/$htop_pid/status")
st=$((st1 - st0)); h=$((h1 - h0))
awk -v st="$st" -v h="$h" -v clk="$CLK" -v d="$DURATION" -v sr="$st_rss" -v hr="$h_rss" 'BEGIN {
    printf "CPU over %d s: sessiontop %.2f s (%.1f%% of a core, RSS %d MB), htop -d 15 %.2f s (%.1f%%, RSS %d MB)\n",
        d, st / clk, 100 * st / clk / d, sr / 1024, h / clk, 100 * h / clk / d, hr / 1024
    if (h > 0) printf "ratio sessiontop / htop = %.2f (target: at most 0.30)\n", st / h
}'
# Where sessiontop's time goes, per applied scan (medians): the UI thread's apply and render,
# the scanning thread's CPU.
for k in apply_us render_us scan_cpu_us; do
    tr ' ' '\n' < "$WORK/timing" | sed -n "s/^$k=//p" | sort -n | awk -v k="$k" '{ a[NR] = $1 } END { if (NR) printf "%s median %d (%d scans)\n", k, a[int((NR + 1) / 2)], NR }'
done
