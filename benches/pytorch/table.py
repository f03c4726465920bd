"""Markdown table from the JSON lines of run.sh: per (hidden, threads, batch), the median over
rounds of each implementation's median ms/epoch, and ours as a fraction of PyTorch's."""

import collections
import json
import statistics
import sys

runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    side = "ours" if r["impl"].startswith("rust") else "torch"
    runs[(r["hidden"], r["threads"], r["batch"], side)].append(r["ms_per_epoch_median"])

print("| hidden | threads | batch | ours ms/epoch | PyTorch ms/epoch | ours / PyTorch |")
print("|---:|---:|---:|---:|---:|---:|")
for h, t, b in sorted({k[:3] for k in runs}):
    ours = statistics.median(runs[(h, t, b, "ours")])
    torch = statistics.median(runs[(h, t, b, "torch")])
    print(f"| {h} | {t} | {b} | {ours:.0f} | {torch:.0f} | {ours / torch:.2f} |")
