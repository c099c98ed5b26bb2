#!/usr/bin/env python3
"""Where a benchmark rollout's time went, from its step journal.

    GUARDIA_BENCH_KEEP=/tmp/keep scripts/bench/rollout.sh 100
    scripts/bench/steps.py /tmp/keep/100-guardia.db

Prints, per step, how many ran and their mean/max duration (begin → end), the mean gap
between one step's end and the next one's begin on the same server (console time: journal
commits, health checks, connection set-up), each phase's span, and the whole run's.
"""
import sqlite3
import sys
from collections import defaultdict
from datetime import datetime


def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


db = sqlite3.connect(sys.argv[1])
rows = db.execute(
    "SELECT site, server, step, mark, outcome, at FROM rollout_steps ORDER BY seq"
).fetchall()
begins, spans, gaps, last_end = {}, defaultdict(list), defaultdict(list), {}
first, last = {}, {}
for site, server, step, mark, outcome, when in rows:
    t = at(when)
    key = (site, server)
    first.setdefault(site, t)
    last[site] = t
    if mark == "begin":
        if key in last_end:
            prev_step, prev_t = last_end[key]
            gaps[f"{prev_step} → {step}"].append((t - prev_t).total_seconds())
        begins[(key, step)] = t
    else:
        b = begins.pop((key, step), None)
        if b is not None:
            spans[step].append((t - b).total_seconds())
        last_end[key] = (step, t)
print(f"{'step':<24}{'n':>6}{'mean s':>9}{'max s':>9}")
for step, d in spans.items():
    print(f"{step:<24}{len(d):>6}{sum(d) / len(d):>9.3f}{max(d):>9.3f}")
print(f"\n{'gap':<36}{'n':>6}{'mean s':>9}{'max s':>9}")
for g, d in gaps.items():
    print(f"{g:<36}{len(d):>6}{sum(d) / len(d):>9.3f}{max(d):>9.3f}")
per_site = [(last[s] - first[s]).total_seconds() for s in first]
print(f"\nper site: mean {sum(per_site) / len(per_site):.3f} s, max {max(per_site):.3f} s")
start, end = min(first.values()), max(last.values())
print(f"journal span: {(end - start).total_seconds():.3f} s")
