"""optimize's cost per job in memory, free objective: the before/after figure of keeping one
Python thread state per worker (docs/benchmarks.md). Fastest of 3 runs of 5,000 trials.

    python benches/python-api/optimize_cost.py
"""

from __future__ import annotations

import time

import hyperband


def space() -> hyperband.Space:
    return hyperband.Space().float("lr", 1e-3, 1e-1, log=True).float("l2", 1e-6, 1e-1, log=True).int("hidden", 10, 1000, log=True)


def main() -> None:
    best = float("inf")
    for _ in range(3):
        study = hyperband.Study(space(), scheduler="hyperband", max_budget=81, seed=0)
        start = time.perf_counter()
        study.optimize(lambda job: float(job.config["lr"]), max_trials=5000)
        best = min(best, (time.perf_counter() - start) / study.stats["jobs"] * 1e6)
    print(f"optimize us/job {best:.2f}")


if __name__ == "__main__":
    main()
