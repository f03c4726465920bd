"""Tune a scikit-learn classifier with Hyperband from Python, in-process.

An SGD classifier learns the 8x8 digits that ship with scikit-learn; a budget unit is one
epoch. Each trial checkpoints its model to ``job.checkpoint_dir`` and a promoted job
continues from ``job.resume_from`` epochs, so promotions pay only for their new epochs
(``resumable=True``).

    pip install ./crates/hyperband-py scikit-learn
    python examples/python/tune_sklearn.py --storage sqlite:digits.db
    hyperband status --storage sqlite:digits.db --study digits-sgd
"""

from __future__ import annotations

import argparse
import os
import pickle
from typing import Any, Dict, Optional

import numpy as np
from sklearn.datasets import load_digits  # type: ignore[import-untyped]
from sklearn.linear_model import SGDClassifier  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

import hyperband


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--storage", default=None, help="sqlite:PATH or postgres://... (default: in memory)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-budget", type=int, default=27, help="most epochs a trial gets")
    args = parser.parse_args(argv)

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    classes = np.unique(y)

    space = (
        hyperband.Space()
        .float("alpha", 1e-6, 1e-1, log=True)
        .float("eta0", 1e-4, 1e-1, log=True)
        .categorical("loss", ["hinge", "log_loss", "modified_huber"])
    )
    study = hyperband.Study(
        space,
        scheduler="hyperband",
        min_budget=1,
        max_budget=args.max_budget,
        max_brackets=4,
        resumable=True,
        storage=args.storage,
        name="digits-sgd",
        seed=0,
    )

    def objective(job: hyperband.Job) -> Dict[str, Any]:
        path = os.path.join(job.checkpoint_dir, "model.pkl")
        resumed = job.resume_from > 0 and os.path.exists(path)
        if resumed:
            with open(path, "rb") as f:
                model = pickle.load(f)
            done = int(job.resume_from)
        else:
            model = SGDClassifier(
                loss=job.config["loss"],
                alpha=job.config["alpha"],
                learning_rate="constant",
                eta0=job.config["eta0"],
                random_state=job.trial,
            )
            done = 0
        for _ in range(int(job.budget) - done):
            model.partial_fit(x_train, y_train, classes=classes)
        with open(path, "wb") as f:
            pickle.dump(model, f)
        error = 1.0 - float(model.score(x_val, y_val))
        return {"loss": error, "resumed": resumed}

    study.optimize(objective, n_workers=args.workers)
    best = study.best
    assert best is not None
    stats = study.stats
    print(f"{stats['trials']} trials, {stats['jobs']} jobs, {stats['budget_spent']:.0f} epochs spent")
    print(f"best validation error {best['loss']:.4f} at {best['budget']:.0f} epochs: {best['config']}")


if __name__ == "__main__":
    main()
