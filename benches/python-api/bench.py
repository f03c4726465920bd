"""Cost of the Python API per job, beside Optuna's and beside Rust's own, in one run.

    benches/python-api/run.sh            # venv with the package and Optuna, release build

All on the talk's MNIST space (lr, l2 log floats; hidden log int), R = 81, eta = 3, random
sampler, with an objective that costs nothing; the fastest of --repeat runs per cell (the
least disturbed by other load; the runs go in rounds over all cells), each run on a fresh
study (and a fresh SQLite file).

1. ask + tell per job: ours (hyperband and asha schedulers, in memory and through SQLite),
   Rust's own (`hyperband bench overhead`, both schedulers), and Optuna's RandomSampler ask/tell with the
   same three suggest calls, in memory and through SQLite (fewer jobs: it is slow there).
2. `optimize` with 1 worker: ours with `max_trials=N` (a trial is one job per rung it
   reaches, so jobs >= trials: both costs are given), Optuna's with `n_trials=N` (one
   trial, one call), in memory and through SQLite (fewer trials for Optuna there). Each
   row also has the fastest 1-trial run as the call's fixed cost, and the cost per job
   net of it.
3. `optimize` with 2 workers on a function that sleeps 10 ms, against the ideal
   jobs x 10 ms / 2.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Tuple

import hyperband


def space() -> hyperband.Space:
    return hyperband.Space().float("lr", 1e-3, 1e-1, log=True).float("l2", 1e-6, 1e-1, log=True).int("hidden", 10, 1000, log=True)


def fresh_sqlite(tmp: str) -> str:
    """A path for a new SQLite file in tmp: each run starts from an empty database."""
    return os.path.join(tmp, f"bench-{time.time_ns()}.db")


def per_job(jobs: int, wall: float) -> Dict[str, Any]:
    return {"jobs": jobs, "wall_s": wall, "us_per_job": wall / jobs * 1e6}


def ours(jobs: int, scheduler: str, tmp: Optional[str]) -> Dict[str, Any]:
    storage = None if tmp is None else f"sqlite:{fresh_sqlite(tmp)}"
    study = hyperband.Study(space(), scheduler=scheduler, max_budget=81, seed=0, storage=storage, name=f"bench-{time.time_ns()}")
    start = time.perf_counter()
    for _ in range(jobs):
        job = study.ask()
        assert job is not None
        study.tell(job, float(job.config["lr"]))
    return per_job(jobs, time.perf_counter() - start)


def optuna_study(tmp: Optional[str]) -> Any:
    import optuna  # type: ignore[import-not-found, unused-ignore]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = None if tmp is None else f"sqlite:///{fresh_sqlite(tmp)}"
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), storage=storage, study_name=f"bench-{time.time_ns()}")


def optuna_suggest(trial: Any) -> float:
    lr = float(trial.suggest_float("lr", 1e-3, 1e-1, log=True))
    trial.suggest_float("l2", 1e-6, 1e-1, log=True)
    trial.suggest_int("hidden", 10, 1000, log=True)
    return lr


def optuna_ask_tell(jobs: int, tmp: Optional[str]) -> Dict[str, Any]:
    study = optuna_study(tmp)
    start = time.perf_counter()
    for _ in range(jobs):
        trial = study.ask()
        study.tell(trial, optuna_suggest(trial))
    return per_job(jobs, time.perf_counter() - start)


def ours_optimize(trials: int, scheduler: str, tmp: Optional[str]) -> Dict[str, Any]:
    """study.optimize(free objective, max_trials=trials), 1 worker: the run's wall time per
    job and per trial (a trial promoted to k rungs is k jobs)."""
    storage = None if tmp is None else f"sqlite:{fresh_sqlite(tmp)}"
    study = hyperband.Study(space(), scheduler=scheduler, max_budget=81, seed=0, storage=storage, name=f"bench-{time.time_ns()}")

    def objective(job: hyperband.Job) -> float:
        return float(job.config["lr"])

    start = time.perf_counter()
    study.optimize(objective, max_trials=trials)
    wall = time.perf_counter() - start
    stats = study.stats
    done, made = int(stats["jobs"]), int(stats["trials"])
    assert int(stats["finished"]) == done, stats
    return {"trials": made, **per_job(done, wall), "us_per_trial": wall / made * 1e6}


def optuna_optimize(trials: int, tmp: Optional[str]) -> Dict[str, Any]:
    """Optuna's study.optimize(objective, n_trials=trials) with the three suggest calls:
    one trial is one call of the objective."""
    study = optuna_study(tmp)
    start = time.perf_counter()
    study.optimize(optuna_suggest, n_trials=trials)
    wall = time.perf_counter() - start
    made = len(study.trials)
    return {"trials": made, **per_job(made, wall), "us_per_trial": wall / made * 1e6}


def rust_overhead(binary: str, jobs: int, scheduler: str, storage: str) -> Dict[str, Any]:
    """One run of `hyperband bench overhead` on one cell."""
    out = subprocess.run(
        [binary, "bench", "overhead", "--jobs", str(jobs), "--schedulers", scheduler, "--storage", storage, "--sqlite-max-jobs", str(jobs), "--repeat", "1", "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (row,) = [r for r in json.loads(out)["results"] if r["jobs"] == jobs]
    return per_job(jobs, float(row["us_per_job"]) * jobs / 1e6)


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


def rounded(row: Dict[str, Any]) -> Dict[str, Any]:
    return {k: round(v, 4 if k.endswith("_s") else 2) if isinstance(v, float) else v for k, v in row.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000, help="ask + tell jobs per run (ours, Rust, Optuna in memory)")
    parser.add_argument("--optuna-sqlite-jobs", type=int, default=500, help="ask + tell jobs per run for Optuna through SQLite (and ours beside it)")
    parser.add_argument("--optimize-trials", type=int, default=10_000, help="optimize: trials per run (ours, Optuna in memory)")
    parser.add_argument("--optuna-sqlite-trials", type=int, default=500, help="optimize: trials per run for Optuna through SQLite")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell, in rounds over all cells; the fastest is reported")
    parser.add_argument("--hyperband-bin", default=os.path.join("target", "release", "hyperband"))
    parser.add_argument("--optimize-jobs", type=int, default=300, help="trials of the 10 ms, 2-worker optimize")
    args = parser.parse_args()

    n, n_sql = args.jobs, args.optuna_sqlite_jobs
    t, t_sql = args.optimize_trials, args.optuna_sqlite_trials
    has_optuna = importlib.util.find_spec("optuna") is not None
    if not has_optuna:
        print("optuna is not installed here: its rows are missing", file=sys.stderr)
    tmp = tempfile.mkdtemp(prefix="hyperband-pybench-")

    # Each cell: its row's labels and one run. The runs go in rounds over all cells, so
    # that a burst of other load on the machine hits one run of each cell, not all of one.
    ask_cells: List[Tuple[Dict[str, Any], Callable[[], Dict[str, Any]]]] = []
    optimize_cells: List[Tuple[Dict[str, Any], Callable[[int], Dict[str, Any]], int]] = []

    def ask_cell(api: str, storage: str, scheduler: str, run: Callable[[], Dict[str, Any]]) -> None:
        ask_cells.append(({"api": api, "storage": storage, "scheduler": scheduler}, run))

    def optimize_cell(api: str, storage: str, scheduler: str, trials: int, run: Callable[[int], Dict[str, Any]]) -> None:
        optimize_cells.append(({"api": api, "storage": storage, "scheduler": scheduler, "workers": 1}, run, trials))

    for scheduler in ("hyperband", "asha"):
        ask_cell("python", "memory", scheduler, partial(ours, n, scheduler, None))
        ask_cell("rust", "memory", scheduler, partial(rust_overhead, args.hyperband_bin, n, scheduler, "memory"))
    for scheduler in ("hyperband", "asha"):
        ask_cell("python", "sqlite", scheduler, partial(ours, n, scheduler, tmp))
        ask_cell("rust", "sqlite", scheduler, partial(rust_overhead, args.hyperband_bin, n, scheduler, "sqlite"))
        if n_sql != n:
            ask_cell("python", "sqlite", scheduler, partial(ours, n_sql, scheduler, tmp))
    for scheduler in ("asha", "hyperband"):
        optimize_cell("python", "memory", scheduler, t, partial(ours_optimize, scheduler=scheduler, tmp=None))
    for scheduler in ("asha", "hyperband"):
        optimize_cell("python", "sqlite", scheduler, t, partial(ours_optimize, scheduler=scheduler, tmp=tmp))
    if has_optuna:
        random = "none (random sampler)"
        ask_cell("optuna", "memory", random, partial(optuna_ask_tell, n, None))
        ask_cell("optuna", "sqlite", random, partial(optuna_ask_tell, n_sql, tmp))
        optimize_cell("optuna", "memory", random, t, partial(optuna_optimize, tmp=None))
        optimize_cell("optuna", "sqlite", random, t_sql, partial(optuna_optimize, tmp=tmp))

    def keep(best: Dict[int, Dict[str, Any]], i: int, row: Dict[str, Any]) -> None:
        if i not in best or row["wall_s"] < best[i]["wall_s"]:
            best[i] = row

    asked: Dict[int, Dict[str, Any]] = {}
    optimized: Dict[int, Dict[str, Any]] = {}
    # The fixed cost of an optimize call (threads, connections, the waits that end it):
    # a run of one trial, also the fastest of --repeat.
    fixed: Dict[int, Dict[str, Any]] = {}
    try:
        for _ in range(args.repeat):
            for i, (_, run) in enumerate(ask_cells):
                keep(asked, i, run())
            for i, (_, optimize, trials) in enumerate(optimize_cells):
                keep(optimized, i, optimize(trials))
                keep(fixed, i, optimize(1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ask_tell = [{**labels, **asked[i]} for i, (labels, _) in enumerate(ask_cells)]
    optimize_rows = []
    for i, (labels, _, _) in enumerate(optimize_cells):
        row, one = optimized[i], fixed[i]
        net = (row["wall_s"] - one["wall_s"]) / (row["jobs"] - one["jobs"]) * 1e6
        optimize_rows.append({**labels, **row, "fixed_s": one["wall_s"], "fixed_jobs": one["jobs"], "us_per_job_net": net})
    versions = {"hyperband": importlib.metadata.version("hyperband")}
    if has_optuna:
        versions["optuna"] = importlib.metadata.version("optuna")
    print(
        json.dumps(
            {
                "repeat": args.repeat,
                "versions": versions,
                "ask_tell": [rounded(x) for x in ask_tell],
                "optimize": [rounded(x) for x in optimize_rows],
                "optimize_busy": optimize_busy(args.optimize_jobs, 0.01),
            }
        )
    )


if __name__ == "__main__":
    main()
