"""Cost of the Python API per job, beside Optuna's and beside Rust's own, in one run.

    benches/python-api/run.sh            # venv with the package and Optuna, release build

Ask+tell with an objective that costs nothing, on the talk's MNIST space (lr, l2 log
floats; hidden log int), Hyperband R = 81, eta = 3, random sampler; the fastest of
--repeat runs per cell (the least disturbed by other load). Then `optimize` with 2 workers
on a function that sleeps 10 ms, against the ideal jobs x 10 ms / 2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional

import hyperband


def space() -> hyperband.Space:
    return hyperband.Space().float("lr", 1e-3, 1e-1, log=True).float("l2", 1e-6, 1e-1, log=True).int("hidden", 10, 1000, log=True)


def ours(jobs: int, scheduler: str, storage: Optional[str]) -> float:
    study = hyperband.Study(space(), scheduler=scheduler, max_budget=81, seed=0, storage=storage, name=f"bench-{time.time_ns()}")
    start = time.perf_counter()
    for _ in range(jobs):
        job = study.ask()
        assert job is not None
        study.tell(job, float(job.config["lr"]))
    return (time.perf_counter() - start) / jobs * 1e6


def optuna_memory(jobs: int) -> float:
    import optuna  # type: ignore[import-not-found, unused-ignore]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    start = time.perf_counter()
    for _ in range(jobs):
        trial = study.ask()
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        trial.suggest_float("l2", 1e-6, 1e-1, log=True)
        trial.suggest_int("hidden", 10, 1000, log=True)
        study.tell(trial, lr)
    return (time.perf_counter() - start) / jobs * 1e6


def fastest(repeat: int, f: Callable[[], float]) -> float:
    return min(f() for _ in range(repeat))


def rust_overhead(binary: str, jobs: int, repeat: int) -> List[Dict[str, Any]]:
    out = subprocess.run(
        [binary, "bench", "overhead", "--jobs", str(jobs), "--schedulers", "hyperband", "--sqlite-max-jobs", str(jobs), "--repeat", str(repeat), "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [r for r in json.loads(out)["results"] if r["jobs"] == jobs]


def optimize_busy(jobs: int, sleep: float) -> Dict[str, Any]:
    def objective(job: hyperband.Job) -> float:
        time.sleep(sleep)
        return float(job.config["lr"])

    study = hyperband.Study(space(), scheduler="asha", max_budget=81, seed=0)
    start = time.perf_counter()
    study.optimize(objective, n_workers=2, max_trials=jobs)
    wall = time.perf_counter() - start
    done = int(study.stats["jobs"])
    ideal = done * sleep / 2
    return {"jobs": done, "sleep_s": sleep, "workers": 2, "wall_s": round(wall, 3), "ideal_s": round(ideal, 3), "ratio": round(wall / ideal, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hyperband-bin", default=os.path.join("target", "release", "hyperband"))
    parser.add_argument("--optimize-jobs", type=int, default=300)
    args = parser.parse_args()

    results: List[Dict[str, Any]] = []
    n = args.jobs
    results.append({"api": "python", "storage": "memory", "scheduler": "hyperband", "jobs": n, "us_per_job": fastest(args.repeat, lambda: ours(n, "hyperband", None))})
    results.append({"api": "python", "storage": "memory", "scheduler": "asha", "jobs": n, "us_per_job": fastest(args.repeat, lambda: ours(n, "asha", None))})
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:{tmp}/bench.db"
        results.append({"api": "python", "storage": "sqlite", "scheduler": "hyperband", "jobs": n, "us_per_job": fastest(args.repeat, lambda: ours(n, "hyperband", url))})
    for row in rust_overhead(args.hyperband_bin, n, args.repeat):
        results.append({"api": "rust", "storage": row["storage"], "scheduler": row["scheduler"], "jobs": n, "us_per_job": row["us_per_job"]})
    try:
        results.append({"api": "optuna", "storage": "memory", "scheduler": "none (random sampler)", "jobs": n, "us_per_job": fastest(args.repeat, lambda: optuna_memory(n))})
    except ImportError:
        print("optuna is not installed here: its row is missing", file=sys.stderr)
    for r in results:
        r["us_per_job"] = round(r["us_per_job"], 2)
    print(json.dumps({"results": results, "optimize": optimize_busy(args.optimize_jobs, 0.01)}))


if __name__ == "__main__":
    main()
