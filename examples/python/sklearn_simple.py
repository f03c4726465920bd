"""Choose a model and its hyperparameters at once: an SVC with its C, or a random forest
with its depth (what optuna-examples' sklearn/sklearn_simple.py does, written for hyperband).

    python examples/python/sklearn_simple.py [--trials 100]

Each configuration is scored by 3-fold cross-validated accuracy, maximized. `svc_c` only
exists when the classifier is an SVC and `rf_max_depth` only for the forest: `when=` makes
them conditional, so the sampler never spends trials on a parameter that does nothing.
"""

from __future__ import annotations

import argparse

import sklearn.datasets  # type: ignore[import-untyped]
import sklearn.ensemble  # type: ignore[import-untyped]
import sklearn.model_selection  # type: ignore[import-untyped]
import sklearn.svm  # type: ignore[import-untyped]

import hyperband


def objective(job: hyperband.Job) -> float:
    x, y = sklearn.datasets.load_iris(return_X_y=True)
    config = job.config
    if config["classifier"] == "SVC":
        model = sklearn.svm.SVC(C=config["svc_c"], gamma="auto")
    else:
        model = sklearn.ensemble.RandomForestClassifier(max_depth=config["rf_max_depth"], n_estimators=10, random_state=0)
    return float(sklearn.model_selection.cross_val_score(model, x, y, n_jobs=1, cv=3).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    space = (
        hyperband.Space()
        .categorical("classifier", ["SVC", "RandomForest"])
        .float("svc_c", 1e-10, 1e10, log=True, when="classifier == 'SVC'")
        .int("rf_max_depth", 2, 32, log=True, when="classifier == 'RandomForest'")
    )
    # One budget (the whole cross-validation): model-based search without early stopping.
    study = hyperband.Study(space, scheduler="full-budget", sampler="tpe", max_budget=1, direction="maximize", seed=args.seed)
    study.optimize(objective, max_trials=args.trials)
    print(f"trials: {len(study.trials())}")
    print(f"best accuracy {study.best_value:.4f}: {study.best_params}")


if __name__ == "__main__":
    main()
