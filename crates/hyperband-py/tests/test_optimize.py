import threading
import time

import pytest

import hyperband


def space():
    return hyperband.Space().float("x", 0.0, 1.0).int("n", 1, 8)


def test_caught_exceptions_fail_their_job_with_the_traceback_and_the_study_goes_on():
    study = hyperband.Study(space(), scheduler="asha", max_budget=9, seed=4)

    def objective(job):
        if job.trial % 5 == 2:
            raise RuntimeError(f"diverged at trial {job.trial}")
        if job.trial % 5 == 3:
            return "not a number"
        return job.config["x"] + 1.0 / job.budget

    study.optimize(objective, n_workers=2, max_trials=30, catch=(RuntimeError,))
    stats = study.stats
    assert stats["trials"] == 30
    failures = [t["failure"] for t in study.trials() if t["failure"]]
    assert any("RuntimeError: diverged at trial" in f and "Traceback" in f for f in failures)
    assert any("unusable result" in f for f in failures)
    assert stats["finished"] > 0 and stats["running"] == 0


def test_max_trials_and_max_total_budget_hold():
    study = hyperband.Study(space(), scheduler="hyperband", max_budget=27, seed=1)
    study.optimize(lambda job: job.config["x"], n_workers=3, max_trials=20)
    assert study.stats["trials"] == 20

    study = hyperband.Study(space(), scheduler="asha", max_budget=27, seed=1)
    study.optimize(lambda job: job.config["x"], n_workers=2, max_total_budget=100)
    spent = study.stats["budget_spent"]
    # No job starts once the budget is reached; the jobs in flight (one per worker,
    # at most 27 each) may finish beyond it.
    assert 100 <= spent <= 100 + 2 * 27


def test_timeout_stops_taking_jobs():
    study = hyperband.Study(space(), scheduler="asha", max_budget=27)
    start = time.monotonic()
    study.optimize(lambda job: time.sleep(0.02) or job.config["x"], n_workers=2, timeout=0.3)
    assert time.monotonic() - start < 2.0
    assert not study.is_done and study.stats["finished"] >= 2


def test_optimize_runs_to_done_and_reports_it():
    study = hyperband.Study(space(), max_budget=9, max_brackets=3, seed=8)
    study.optimize(lambda job: job.config["x"] + 1 / job.budget, n_workers=2)
    assert study.is_done
    assert study.best["budget"] == 9.0


def test_two_workers_keep_two_jobs_running():
    study = hyperband.Study(space(), scheduler="asha", max_budget=27)
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def objective(job):
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return job.config["x"]

    study.optimize(objective, n_workers=2, max_trials=40)
    assert running[1] == 2


def test_bad_arguments():
    study = hyperband.Study(space())
    with pytest.raises(ValueError, match="n_workers"):
        study.optimize(lambda job: 0.0, n_workers=0)
    with pytest.raises(ValueError, match="timeout"):
        study.optimize(lambda job: 0.0, timeout=-1)
