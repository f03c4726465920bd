"""Stop unpromising trials while they train: an SGD classifier trained step by step on
iris, each step's validation error reported, trials stopped at rungs when they fall behind
(what optuna-examples' basic/pruning.py does, written for hyperband).

    python examples/python/pruning.py [--trials 40]

The training loop is Optuna's, line for line: `trial.report(value, step)` is
`job.report(value, step)` and `if trial.should_prune(): raise optuna.TrialPruned()` is
`if job.should_stop(): raise hyperband.Stopped()`. The study runs ASHA in stop mode: each
trial's function runs once, to the largest budget, and is stopped at the first rung where
it is not among the best third.
"""

from __future__ import annotations

import argparse

import sklearn.datasets  # type: ignore[import-untyped]
import sklearn.linear_model  # type: ignore[import-untyped]
import sklearn.model_selection  # type: ignore[import-untyped]

import hyperband


def objective(job: hyperband.Job) -> float:
    iris = sklearn.datasets.load_iris()
    classes = list(set(iris.target))
    train_x, valid_x, train_y, valid_y = sklearn.model_selection.train_test_split(iris.data, iris.target, test_size=0.25, random_state=0)

    clf = sklearn.linear_model.SGDClassifier(alpha=job.config["alpha"], random_state=0)
    error = 1.0
    for step in range(1, int(job.budget) + 1):
        clf.partial_fit(train_x, train_y, classes=classes)
        # Report the intermediate value: the validation error after `step` steps.
        error = 1.0 - float(clf.score(valid_x, valid_y))
        job.report(error, step)
        # Stop the trial here if the study says so.
        if job.should_stop():
            raise hyperband.Stopped()
    return error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    space = hyperband.Space().float("alpha", 1e-5, 1e-1, log=True)
    study = hyperband.Study(space, scheduler="asha", mode="stop", min_budget=1, max_budget=81, seed=args.seed)
    study.optimize(objective, max_trials=args.trials)

    trials = study.trials()
    stopped = [t for t in trials if t["state"] == "stopped"]
    finished = [t for t in trials if t["state"] == "finished"]
    print(f"trials: {len(trials)}, stopped early: {len(stopped)}, trained to the end: {len(finished)}")
    print(f"steps trained: {study.stats['budget_spent']:.0f} of {len(trials) * 81} without stopping")
    print(f"best validation error {study.best_value:.4f}: {study.best_params}")


if __name__ == "__main__":
    main()
