#!/usr/bin/env python3
"""Markdown tables from the JSON files run.sh writes (ours and the peers', per problem).

    report.py RESULTS_DIR PROBLEM[:BUDGET] ...   -> markdown on stdout
"""

import json
import os
import sys


def fmt(v):
    if v is None or v != v:
        return "n/a"
    if v == 0:
        return "0"
    return f"{v:.3g}" if abs(v) >= 1e-3 else f"{v:.2e}"


def table(results, problem):
    rows = []
    names = sorted(f for f in os.listdir(results)
                   if f.startswith(f"{problem}-peer-") and f.endswith(".json"))
    for name in [f"{problem}-ours.json", f"{problem}-ours-random-fifth.json"] + names:
        path = os.path.join(results, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            data = json.load(f)
        for m in data["methods"]:
            impl = m.get("peer_version") or "hyperband (this repo)"
            if name.endswith("-random-fifth.json"):
                m = dict(m, method=f"random @ {data['budget']:g} R (budget / (s_max+1))")

            seeds = m.get("seeds", data["seeds"])
            rows.append((m["method"], impl, m["median_regret"], m["q25"], m["q75"], seeds,
                         m.get("wall_s")))
        if "peer" in name or name.endswith("-ours.json"):
            budget = data["budget"]
    out = [f"### {problem} ({budget:g} full-budget equivalents per run)", "",
           "| method | implementation | median regret | q25 | q75 | seeds | wall s (all seeds) |",
           "|---|---|---|---|---|---|---|"]
    for name, impl, med, q25, q75, seeds, wall in rows:
        out.append(f"| {name} | {impl} | {fmt(med)} | {fmt(q25)} | {fmt(q75)} | {seeds} | "
                   f"{'' if wall is None else wall} |")
    return "\n".join(out) + "\n"


def main():
    results = sys.argv[1]
    for problem in sys.argv[2:]:
        print(table(results, problem))


if __name__ == "__main__":
    main()
