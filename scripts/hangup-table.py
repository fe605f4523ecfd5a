#!/usr/bin/env python3
# Pivots the rows the hangup lab writes to $HANGUP_TABLE into one table per event, then the
# battery's figures (every process of every case counted once):
#   HANGUP_TABLE=/tmp/rows.md swift test --filter 'HangupRealityTests|HangupSSHTests'
#   scripts/hangup-table.py /tmp/rows.md            # tables + figures
#   scripts/hangup-table.py --figures /tmp/rows.md  # figures only
#   scripts/hangup-table.py --compare BEFORE AFTER  # the figures of two runs side by side
# Cell: predicted → actual (one entry per process; "?" = certain:false; ≈ = differs, but the
# prediction said it was uncertain and why; ✗ = a real mismatch).
# Figures: right = certain and what happened; hedged = certain:false; wrong = certain and not
# what happened (at-risk is right for a process alive afterwards, or dead when its program
# ends by itself on a dead terminal).
import sys

SHELLS = ['bash', 'bash-login+huponexit', 'bash+huponexit', 'zsh', 'zsh+NO_HUP', 'fish', 'dash',
          'bash-c', 'ssh-login-bash', 'ssh-login-bash+huponexit']
EVENTS = ['hangup', 'leader-exit', 'logout']


def load(path):
    rows = [l.strip().strip('|').split('|') for l in open(path) if l.startswith('|')]
    return [[c.strip() for c in r] for r in rows]


def figures(rows):
    right = hedged = wrong = 0
    for r in rows:
        if len(r) >= 9:
            right += int(r[6]); hedged += int(r[7]); wrong += int(r[8])
    total = right + hedged + wrong
    return right, hedged, wrong, total


def pct(n, total):
    return f"{100.0 * n / total:.1f} %" if total else "-"


def print_figures(rows, title="figures"):
    right, hedged, wrong, total = figures(rows)
    print(f"\n{title}: {total} verdicts: {right} certain and right, {hedged} hedged ({pct(hedged, total)}), "
          f"{wrong} wrong")


def print_tables(rows):
    order, cell = [], {}
    shells = [s for s in SHELLS if any(r[1] == s for r in rows)] + \
             sorted({r[1] for r in rows} - set(SHELLS))
    for r in rows:
        scen, sh, ev, pred, act, mark = r[:6]
        if scen not in order and not scen.startswith('other'):
            order.append(scen)
        m = {'ok': '', 'uncertain, differs': ' ≈', 'MISMATCH': ' ✗'}[mark]
        cell[(scen, sh, ev)] = f"{pred} → {act}{m}"
    order = [s for s in order if not s.startswith('foreground')] + [s for s in order if s.startswith('foreground')]
    for ev in EVENTS:
        print(f"\n### {ev}\n")
        print("| scenario | " + " | ".join(shells) + " |")
        print("|---|" + "---|" * len(shells))
        for s in order:
            cells = [cell.get((s, sh, ev), "n/a") for sh in shells]
            if all(c == "n/a" for c in cells):
                continue
            print(f"| {s} | " + " | ".join(cells) + " |")
        others = [(k, v) for k, v in cell.items() if k[0].startswith('other') and k[2] == ev]
        for k, v in others:
            print(f"| {k[0]} ({k[1]}) | {v} |")


args = sys.argv[1:]
if args and args[0] == '--compare':
    print("| run | verdicts | certain and right | hedged | wrong |")
    print("|---|---|---|---|---|")
    for name, path in (("before", args[1]), ("after", args[2])):
        right, hedged, wrong, total = figures(load(path))
        print(f"| {name} | {total} | {right} | {hedged} ({pct(hedged, total)}) | {wrong} |")
elif args and args[0] == '--figures':
    print_figures(load(args[1]))
else:
    rows = load(args[0])
    print_tables(rows)
    print_figures(rows)
