import math

import pytest

import hyperband


def space():
    return hyperband.Space().float("x", 0.0, 1.0).float("lr", 1e-3, 1e-1, log=True).categorical("act", ["relu", "tanh"])


def objective(config, budget):
    return (config["x"] - 0.3) ** 2 + 1.0 / budget


def drain(study):
    jobs = []
    while (job := study.ask()) is not None:
        jobs.append((job.trial, job.budget, job.resume_from, dict(job.config)))
        study.tell(job, objective(job.config, job.budget))
    return jobs


def test_hyperband_runs_its_brackets_to_the_end():
    study = hyperband.Study(space(), min_budget=1, max_budget=27, eta=3, max_brackets=4, seed=3)
    jobs = drain(study)
    assert study.is_done
    # R = 27, eta = 3: brackets of 27, 12, 6 and 4 configurations (Li et al., Algorithm 1).
    assert study.stats["trials"] == 27 + 12 + 6 + 4
    assert {b for _, b, _, _ in jobs} == {1.0, 3.0, 9.0, 27.0}
    best = study.best
    assert best["budget"] == 27.0
    assert best["loss"] == min(objective(c, b) for _, b, _, c in jobs if b == 27.0)
    assert set(best["config"]) == {"x", "lr", "act"}
    # A promoted job continues from the budget its trial reached.
    promoted = [j for j in jobs if j[2] > 0]
    assert promoted and all(r < b for _, b, r, _ in promoted)


def test_the_same_seed_gives_the_same_jobs():
    a = drain(hyperband.Study(space(), max_budget=9, max_brackets=3, seed=11))
    b = drain(hyperband.Study(space(), max_budget=9, max_brackets=3, seed=11))
    c = drain(hyperband.Study(space(), max_budget=9, max_brackets=3, seed=12))
    assert a == b
    assert a != c


@pytest.mark.parametrize("sampler", ["random", "tpe", "gp", "mf-gp"])
@pytest.mark.parametrize("scheduler", ["hyperband", "asha", "async-hyperband", "full-budget"])
def test_every_scheduler_and_sampler_works_through_ask_tell(scheduler, sampler):
    study = hyperband.Study(space(), scheduler=scheduler, sampler=sampler, max_budget=9, seed=1)
    for _ in range(40):
        job = study.ask()
        assert job is not None
        study.tell(job, objective(job.config, job.budget))
    assert study.stats["finished"] == 40
    assert study.best is not None


def test_failures_nan_and_metrics_are_recorded():
    study = hyperband.Study(space(), scheduler="asha", max_budget=9, seed=2)
    outcomes = []
    for i in range(12):
        job = study.ask()
        if i % 4 == 0:
            study.tell(job, hyperband.Failed("out of memory"))
        elif i % 4 == 1:
            study.tell(job, math.nan)
        else:
            study.tell(job, {"loss": 0.5 + i, "accuracy": 0.9, "note": "ok", "ok": True})
        outcomes.append(job.trial)
    stats = study.stats
    assert stats["failed"] == 6 and stats["finished"] == 6
    failures = [t["failure"] for t in study.trials() if t["failure"]]
    assert "out of memory" in failures
    assert any("NaN" in f or "finite" in f for f in failures), failures


def test_asked_jobs_hold_a_synchronous_rung():
    # Successive halving cannot promote before every job of the rung is told.
    study = hyperband.Study(space(), scheduler="sha", n_configs=3, max_budget=9, seed=0)
    first = [study.ask() for _ in range(3)]
    assert all(j is not None for j in first)
    assert study.ask() is None and not study.is_done
    for job in first:
        study.tell(job, objective(job.config, job.budget))
    promoted = study.ask()
    assert promoted is not None and promoted.budget == 3.0


def test_telling_twice_or_garbage_is_refused():
    study = hyperband.Study(space(), scheduler="asha", max_budget=9)
    job = study.ask()
    with pytest.raises(TypeError, match="loss"):
        study.tell(job, "0.5")
    with pytest.raises(TypeError, match="loss"):
        study.tell(job, {"accuracy": 1.0})
    study.tell(job, 0.5)
    with pytest.raises(ValueError, match="already"):
        study.tell(job, 0.4)


def test_a_job_shows_what_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = hyperband.Study(space(), max_budget=27, name="cp")
    job = study.ask()
    assert job.budget in (1.0, 3.0, 9.0, 27.0) and job.resume_from == 0.0 and job.attempt == 0
    assert job.id == 0 and job.trial == 0
    assert "Job(id=0" in repr(job)
    import os

    assert os.path.isdir(job.checkpoint_dir) and job.checkpoint_dir.endswith("trial-0")
    # A study in memory keeps its checkpoints in its own folder, not in the current one.
    assert job.checkpoint_dir.startswith(study.run_dir) and os.listdir(tmp_path) == []


def test_best_params_and_best_value_are_optunas_names_for_best():
    study = hyperband.Study(space(), max_budget=9, seed=2)
    with pytest.raises(ValueError, match="no result yet"):
        study.best_params
    with pytest.raises(ValueError, match="no result yet"):
        study.best_value
    for _ in range(12):
        job = study.ask()
        study.tell(job, (job.config["x"] - 0.3) ** 2 + 1.0 / job.budget)
    assert study.best is not None
    assert study.best_params == study.best["config"]
    assert study.best_value == study.best["loss"]
