"""hyperband.integration.LightGBMCallback against the real LightGBM (pip install lightgbm): a
stop-mode study whose trials the study stops at rungs through the callback (LightGBM's
EarlyStopException), and a promote-mode study whose jobs the callback ends at their budget,
continued from the checkpoint of the trial's previous job.

LightGBM is imported, not skipped when missing: CI must install it to pass.
"""

from __future__ import annotations

import math
import os
from typing import Any, Dict, Tuple

import lightgbm
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import hyperband
from conftest import assert_stopped_at_rungs
from hyperband.integration import LightGBMCallback

MAX = 27
RUNGS = {1, 3, 9, 27}


@pytest.fixture(scope="module")
def data() -> Tuple[Any, ...]:
    x, y = load_breast_cancer(return_X_y=True)
    return tuple(train_test_split(x, y, test_size=0.3, random_state=0))


def datasets(data: Tuple[Any, ...]) -> Tuple[Any, Any]:
    x_train, x_valid, y_train, y_valid = data
    train = lightgbm.Dataset(x_train, y_train, free_raw_data=False)
    return train, lightgbm.Dataset(x_valid, y_valid, reference=train, free_raw_data=False)


def space() -> hyperband.Space:
    return hyperband.Space().float("learning_rate", 1e-3, 1.0, log=True).int("num_leaves", 2, 31, log=True)


def params(config: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "objective": "binary",
        "metric": ["binary_error", "binary_logloss"],
        "learning_rate": config["learning_rate"],
        "num_leaves": config["num_leaves"],
        "num_threads": 1,
        "deterministic": True,
        "seed": 0,
        "verbosity": -1,
    }


@pytest.mark.parametrize("scheduler", ["asha", "hyperband"])
def test_stop_mode_stops_trials_at_rungs_through_the_callback(data, scheduler):
    study = hyperband.Study(space(), scheduler=scheduler, mode="stop", min_budget=1, max_budget=MAX, seed=5)
    runs: Dict[int, Dict[str, Any]] = {}

    def objective(job: hyperband.Job) -> float:
        assert job.budget == MAX and job.resume_from == 0
        train, valid = datasets(data)
        callback = LightGBMCallback(job, metric="binary_logloss", valid_name="valid")
        history: Dict[str, Any] = {}
        booster = lightgbm.train(
            params(job.config),
            train,
            num_boost_round=int(job.budget),
            valid_sets=[train, valid],
            valid_names=["train", "valid"],
            callbacks=[callback, lightgbm.record_evaluation(history)],
        )
        runs[job.trial] = {
            "rounds": booster.current_iteration(),
            "recorded": len(history["valid"]["binary_logloss"]),
            "last_step": callback.last_step,
            "stopped": callback.stopped,
            "value": callback.last_value,
        }
        assert callback.last_value is not None
        return callback.last_value

    study.optimize(objective, max_trials=14)

    assert_stopped_at_rungs(study, runs, MAX, RUNGS)
    for trial, run in runs.items():
        # LightGBM's own record of the evaluation ends where the callback stopped it too.
        assert run["recorded"] == run["rounds"], (trial, run)


def test_promote_mode_callback_ends_each_job_at_its_budget(data):
    # One Hyperband iteration (3 brackets for max_budget 9); resumable: a promoted job pays
    # only its new rounds.
    study = hyperband.Study(
        space(), scheduler="hyperband", min_budget=1, max_budget=9, seed=1, resumable=True, max_brackets=3
    )
    seen = []

    def objective(job: hyperband.Job) -> float:
        path = os.path.join(job.checkpoint_dir, "model.txt")
        model = None
        if job.resume_from > 0:
            model = lightgbm.Booster(model_file=path)
            assert model.current_iteration() == job.resume_from
        train, valid = datasets(data)
        callback = LightGBMCallback(job)  # the first metric on the first validation set
        # Far more rounds than any job's budget: the callback ends the job at its budget.
        booster = lightgbm.train(
            params(job.config), train, num_boost_round=1000, valid_sets=[valid], init_model=model, callbacks=[callback]
        )
        booster.save_model(path)
        seen.append((job.budget, job.resume_from, booster.current_iteration(), callback.stopped, callback.last_step))
        assert callback.last_value is not None
        return callback.last_value

    study.optimize(objective)
    assert study.is_done
    assert seen and any(resume > 0 for _, resume, *_ in seen)
    for budget, resume, rounds, stopped, last_step in seen:
        assert rounds == budget == last_step and stopped, (budget, resume, rounds, stopped, last_step)
    assert study.stats["budget_spent"] == sum(budget - resume for budget, resume, *_ in seen)


def test_callback_names_the_results_it_has(data):
    class Job:
        def report(self, value: float, step: float) -> None:
            pass

        def should_stop(self) -> bool:
            return False

    train, valid = datasets(data)
    with pytest.raises(KeyError, match="auc on 'valid_0'.*valid_0's binary_error, valid_0's binary_logloss"):
        lightgbm.train(params({"learning_rate": 0.1, "num_leaves": 4}), train, 2, valid_sets=[valid],
                       callbacks=[LightGBMCallback(Job(), metric="auc")])


def test_stop_mode_maximizing_auc(data):
    study = hyperband.Study(
        space(), scheduler="asha", mode="stop", min_budget=1, max_budget=MAX, seed=2, direction="maximize"
    )
    finals: Dict[int, float] = {}

    def objective(job: hyperband.Job) -> float:
        train, valid = datasets(data)
        callback = LightGBMCallback(job, metric="auc")
        booster = lightgbm.train(
            {**params(job.config), "metric": "auc"}, train, num_boost_round=int(job.budget), valid_sets=[valid],
            callbacks=[callback],
        )
        assert callback.last_value is not None and booster.current_iteration() == callback.last_step
        if booster.current_iteration() == MAX:
            finals[job.trial] = callback.last_value
        return callback.last_value

    study.optimize(objective, max_trials=10)
    states = [t["state"] for t in study.trials()]
    assert "stopped" in states and "finished" in states
    assert study.best_value == max(finals.values())
