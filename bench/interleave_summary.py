#!/usr/bin/env python3
"""Summarise `bench/interleave.sh` output: per model and mode, each binary's median over the
rounds (of the per-round medians) with the rounds' min–max, and the ratio of each binary's median
to the first binary's.

    bench/interleave.sh ... BEFORE AFTER > out.txt; bench/interleave_summary.py out.txt
"""
import collections
import statistics
import sys

rows = collections.defaultdict(lambda: collections.defaultdict(list))
order = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 6 and f[0] == "round":
        b, model, mode, med = f[2], f[3], f[4], float(f[5])
        rows[(model, mode)][b].append(med)
        if b not in order:
            order.append(b)
print(f"{'model':10} {'mode':9} " + "  ".join(f"{b:>28}" for b in order) + "   ratio to the first")
for (model, mode), per in rows.items():
    base = statistics.median(per[order[0]]) if per[order[0]] else None
    cells, ratios = [], []
    for b in order:
        r = per[b]
        if not r:  # a run still going, or cut short
            cells.append("-")
            ratios.append("-")
            continue
        cells.append(f"{statistics.median(r):8.0f} ({min(r):.0f}-{max(r):.0f}, n={len(r)})")
        ratios.append(f"{statistics.median(r) / base:.3f}x" if base else "-")
    print(f"{model:10} {mode:9} " + "  ".join(f"{c:>28}" for c in cells) + "   " + " ".join(ratios[1:]))
