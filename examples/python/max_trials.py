"""Several processes on one SQLite study, with a limit on the trials of all of them
together (what optuna-examples' faq/max_trials_callback.py does, written for hyperband).

    python examples/python/max_trials.py [--processes 2] [--trials 10] [--storage sqlite:///example.db]

Optuna needs a `MaxTrialsCallback` because each process's `n_trials` counts only its own
trials, and processes still overshoot it. Here `max_trials` is the study's own limit,
stored with it: every process stops starting trials once the study has that many, so the
study ends with exactly `--trials` trials however many processes share it. The URL is
SQLAlchemy's, as Optuna users write it (`sqlite:///example.db` is relative to the working
folder). A callback prints each result as it comes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
from typing import Any, Dict

import hyperband

NAME = "max-trials-example"


def space() -> hyperband.Space:
    return hyperband.Space().float("x", -10.0, 10.0)


def objective(job: hyperband.Job) -> float:
    x = float(job.config["x"])
    return (x - 2) ** 2


def show(study: hyperband.Study, result: Dict[str, Any]) -> None:
    print(f"process {os.getpid()}: trial {result['trial']} {result['state']}, value {result['value']}", flush=True)


def work(storage: str, trials: int) -> None:
    # Every process opens the same study: the first creates it, the others join it.
    study = hyperband.Study(space(), scheduler="full-budget", max_budget=1, storage=storage, name=NAME)
    study.optimize(objective, max_trials=trials, callbacks=[show])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--storage", default="sqlite:///example.db")
    args = parser.parse_args()

    processes = [multiprocessing.Process(target=work, args=(args.storage, args.trials)) for _ in range(args.processes)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a worker process failed (exit code {p.exitcode})")

    study = hyperband.Study.load(NAME, args.storage)
    finished = [t for t in study.trials() if t["state"] == "finished"]
    print(f"trials in the study: {len(study.trials())} ({len(finished)} finished), by {args.processes} processes")
    print(f"best value {study.best_value:.4f}: {study.best_params}")


if __name__ == "__main__":
    main()
