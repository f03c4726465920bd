"""hyperband.integration.XGBoostCallback against the real XGBoost (pip install xgboost-cpu,
or xgboost): a stop-mode study whose trials the study stops at rungs through the callback,
and a promote-mode study whose jobs the callback ends at their budget, continued from the
checkpoint of the trial's previous job.

XGBoost is imported, not skipped when missing: CI must install it to pass.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from typing import Any, Dict

import pytest
import xgboost
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import hyperband
from conftest import assert_stopped_at_rungs
from hyperband.integration import XGBoostCallback

MAX = 27
RUNGS = {1, 3, 9, 27}


@pytest.fixture(scope="module")
def data() -> Any:
    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(x, y, test_size=0.3, random_state=0)
    return xgboost.DMatrix(x_train, y_train), xgboost.DMatrix(x_valid, y_valid)


def space() -> hyperband.Space:
    return hyperband.Space().float("eta", 1e-3, 1.0, log=True).int("max_depth", 1, 6)


def params(config: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "objective": "binary:logistic",
        "eval_metric": ["error", "logloss"],
        "eta": config["eta"],
        "max_depth": config["max_depth"],
        "nthread": 1,
        "seed": 0,
    }


@pytest.mark.parametrize("scheduler", ["asha", "hyperband"])
def test_stop_mode_stops_trials_at_rungs_through_the_callback(data, scheduler):
    dtrain, dvalid = data
    study = hyperband.Study(space(), scheduler=scheduler, mode="stop", min_budget=1, max_budget=MAX, seed=3)
    runs: Dict[int, Dict[str, Any]] = {}

    def objective(job: hyperband.Job) -> float:
        assert job.budget == MAX and job.resume_from == 0
        callback = XGBoostCallback(job, metric="validation-logloss")
        booster = xgboost.train(
            params(job.config),
            dtrain,
            num_boost_round=int(job.budget),
            evals=[(dtrain, "train"), (dvalid, "validation")],
            callbacks=[callback],
            verbose_eval=False,
        )
        runs[job.trial] = {
            "rounds": booster.num_boosted_rounds(),
            "last_step": callback.last_step,
            "stopped": callback.stopped,
            "value": callback.last_value,
        }
        assert callback.last_value is not None
        return callback.last_value

    study.optimize(objective, max_trials=14)

    assert_stopped_at_rungs(study, runs, MAX, RUNGS)


def test_promote_mode_callback_ends_each_job_at_its_budget(data, tmp_path):
    dtrain, dvalid = data
    # One Hyperband iteration (3 brackets for max_budget 9); resumable: a promoted job pays
    # only its new rounds.
    study = hyperband.Study(
        space(), scheduler="hyperband", min_budget=1, max_budget=9, seed=1, resumable=True, max_brackets=3
    )
    seen = []

    def objective(job: hyperband.Job) -> float:
        path = os.path.join(job.checkpoint_dir, "model.ubj")
        model = None
        if job.resume_from > 0:
            model = xgboost.Booster(model_file=path)
            assert model.num_boosted_rounds() == job.resume_from
        callback = XGBoostCallback(job, metric=("validation", "logloss"))
        # Far more rounds than any job's budget: the callback ends the job at its budget.
        booster = xgboost.train(
            params(job.config),
            dtrain,
            num_boost_round=1000,
            evals=[(dvalid, "validation")],
            callbacks=[callback],
            verbose_eval=False,
            xgb_model=model,
        )
        booster.save_model(path)
        seen.append((job.budget, job.resume_from, booster.num_boosted_rounds(), callback.stopped, callback.last_step))
        assert callback.last_value is not None
        return callback.last_value

    study.optimize(objective)
    assert study.is_done
    assert seen and any(resume > 0 for _, resume, *_ in seen)
    for budget, resume, rounds, stopped, last_step in seen:
        assert rounds == budget == last_step and stopped, (budget, resume, rounds, stopped, last_step)
    assert study.stats["budget_spent"] == sum(budget - resume for budget, resume, *_ in seen)


def test_callback_names_the_metrics_it_has(data):
    dtrain, dvalid = data

    class Job:
        def report(self, value: float, step: float) -> None:
            pass

        def should_stop(self) -> bool:
            return False

    with pytest.raises(KeyError, match="validation-auc .* validation-error, validation-logloss"):
        xgboost.train(params({"eta": 0.3, "max_depth": 2}), dtrain, 2, evals=[(dvalid, "validation")],
                      callbacks=[XGBoostCallback(Job(), "validation-auc")], verbose_eval=False)
    with pytest.raises(ValueError, match="DATASET-METRIC"):
        XGBoostCallback(Job(), "logloss")


def test_integration_imports_without_the_frameworks():
    code = (
        "import sys\n"
        "for name in ('xgboost', 'lightgbm', 'keras', 'lightning', 'pytorch_lightning', 'transformers', 'tensorflow'):\n"
        "    sys.modules[name] = None\n"
        "import hyperband.integration as integration\n"
        "try:\n"
        "    integration.XGBoostCallback\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "hyperband.integration.XGBoostCallback needs xgboost (or xgboost-cpu)" in out
