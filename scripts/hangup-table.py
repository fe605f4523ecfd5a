#!/usr/bin/env python3
# Pivots the rows HangupRealityTests writes to $HANGUP_TABLE into one table per event:
#   HANGUP_TABLE=/tmp/rows.md swift test --filter HangupRealityTests; scripts/hangup-table.py /tmp/rows.md
# Cell: predicted → actual (one entry per process; "?" = certain:false; ≈ = differs, but the
# prediction said it was uncertain and why; ✗ = a real mismatch).
import sys, collections
rows = [l.strip().strip('|').split('|') for l in open(sys.argv[1]) if l.startswith('|')]
rows = [[c.strip() for c in r] for r in rows]
shells = ['bash','zsh','fish','dash','bash-c','bash-login+huponexit']
events = ['hangup','leader-exit','logout']
order = []
cell = {}
for scen, sh, ev, pred, act, mark in rows:
    if scen not in order and not scen.startswith('other'): order.append(scen)
    m = {'ok':'', 'uncertain, differs':' ≈', 'MISMATCH':' ✗'}[mark]
    cell[(scen, sh, ev)] = f"{pred} → {act}{m}"
order = [s for s in order if not s.startswith('foreground')] + [s for s in order if s.startswith('foreground')]
for ev in events:
    print(f"\n### {ev}\n")
    print("| scenario | " + " | ".join(shells) + " |")
    print("|---|" + "---|"*len(shells))
    for s in order:
        print(f"| {s} | " + " | ".join(cell.get((s, sh, ev), "n/a") for sh in shells) + " |")
    others = [(k, v) for k, v in cell.items() if k[0].startswith('other') and k[2]==ev]
    for k, v in others: print(f"| {k[0]} ({k[1]}) | {v} |")
