"""What an Optuna user relies on: exceptions that propagate unless caught, callbacks and
`study.stop()`, `direction="maximize"`, metrics in every view, fixed and conditional
parameters, and pruning from inside a training loop (`job.report` / `job.should_stop`)."""

from __future__ import annotations

import math
import threading

import pytest

import hyperband


def space():
    return hyperband.Space().float("x", 0.0, 1.0).int("n", 1, 8)


@pytest.mark.parametrize("stored", [False, True])
def test_an_uncaught_exception_ends_optimize_and_its_job_is_recorded(tmp_path, stored):
    kwargs = {"storage": f"sqlite:{tmp_path / 's.db'}", "name": "raise"} if stored else {}
    study = hyperband.Study(space(), scheduler="asha", max_budget=9, seed=3, **kwargs)
    calls = []

    def objective(job):
        calls.append(job.id)
        if len(calls) == 4:
            raise KeyError("undefined_name")
        return job.config["x"]

    with pytest.raises(KeyError, match="undefined_name"):
        study.optimize(objective, n_workers=1, timeout=30)
    # It stopped at once, not after 30 s of failures; the failure is on record.
    assert len(calls) == 4
    failed = [j for j in study.jobs() if j["state"] == "failed"]
    assert len(failed) == 1 and "KeyError: 'undefined_name'" in failed[0]["failure"]
    assert study.stats["running"] == 0 and study.stats["finished"] == 3


def test_with_several_workers_the_others_finish_their_jobs_then_it_raises():
    study = hyperband.Study(space(), scheduler="asha", max_budget=9, seed=3)

    def objective(job):
        if job.id == 5:
            raise ValueError("bad trial")
        return job.config["x"]

    with pytest.raises(ValueError, match="bad trial"):
        study.optimize(objective, n_workers=3)
    assert study.stats["running"] == 0
    assert [j["id"] for j in study.jobs() if j["state"] == "failed"] == [5]


def test_catch_takes_a_class_or_a_tuple_and_refuses_anything_else():
    study = hyperband.Study(space(), scheduler="asha", max_budget=3)

    def flaky(job):
        if job.id % 2:
            raise ZeroDivisionError("odd")
        return 1.0

    study.optimize(flaky, max_trials=6, catch=ZeroDivisionError)
    assert study.stats["trials"] == 6 and study.stats["failed"] > 0
    with pytest.raises(TypeError, match="exception class"):
        study.optimize(flaky, catch=("not a class",))
    with pytest.raises(TypeError, match="callbacks"):
        study.optimize(flaky, callbacks=[42])


@pytest.mark.parametrize("stored", [False, True])
def test_callbacks_see_each_result_and_can_stop_the_study(tmp_path, stored):
    kwargs = {"storage": f"sqlite:{tmp_path / 's.db'}", "name": "cb"} if stored else {}
    study = hyperband.Study(space(), scheduler="asha", max_budget=9, seed=5, **kwargs)
    seen = []

    def count(s, result):
        assert s is study
        seen.append(result)
        if sum(r["state"] == "finished" for r in seen) >= 7:
            s.stop()

    study.optimize(lambda job: {"loss": job.config["x"], "acc": 1 - job.config["x"]}, callbacks=[count])
    assert len(seen) == 7 and study.stats["finished"] == 7
    first = seen[0]
    assert set(first) == {"id", "trial", "config", "budget", "state", "value", "loss", "metrics", "failure"}
    assert first["state"] == "finished" and first["metrics"] == {"acc": pytest.approx(1 - first["loss"])}


def test_an_exception_in_a_callback_is_raised():
    study = hyperband.Study(space(), scheduler="asha", max_budget=9)

    def broken(s, result):
        raise RuntimeError("callback broke")

    with pytest.raises(RuntimeError, match="callback broke"):
        study.optimize(lambda job: 1.0, callbacks=[broken], max_trials=50)
    assert study.stats["jobs"] == 1


@pytest.mark.parametrize("stored", [False, True])
def test_maximize_ranks_by_the_largest_value_and_reports_it_as_given(tmp_path, stored):
    kwargs = {"storage": f"sqlite:{tmp_path / 's.db'}", "name": "max"} if stored else {}
    study = hyperband.Study(space(), scheduler="asha", max_budget=3, direction="maximize", seed=7, **kwargs)
    study.optimize(lambda job: {"value": job.config["x"], "n": job.config["n"]}, max_trials=40)
    full = [t for t in study.trials() if t["budget"] == 3.0]
    assert full, "some trials reach the top rung"
    assert study.best_value == max(t["value"] for t in full)
    assert study.best["loss"] == -study.best_value
    assert study.best["metrics"] == {"n": study.best_params["n"]}
    # Promotion keeps the largest values: the mean of promoted trials beats the rest.
    promoted = {t["trial"] for t in full}
    low = [t["value"] for t in study.trials() if t["trial"] not in promoted]
    assert min(t["value"] for t in full) >= sorted(low)[len(low) // 2]
    if stored:
        again = hyperband.Study.load("max", f"sqlite:{tmp_path / 's.db'}")
        assert again.best_value == study.best_value
        with pytest.raises(hyperband.StorageError, match="different definition"):
            hyperband.Study(space(), scheduler="asha", max_budget=3, seed=7, **kwargs)
    with pytest.raises(ValueError, match="unknown direction `up`"):
        hyperband.Study(space(), direction="up")


def test_metrics_show_in_trials_jobs_best_and_the_dataframe():
    # pandas is in the CI venv; without it this fails rather than skips.
    import pandas  # noqa: F401
    study = hyperband.Study(space(), scheduler="asha", max_budget=3, seed=1)
    study.optimize(lambda job: {"loss": job.config["x"], "accuracy": 1 - job.config["x"], "tag": "a"}, max_trials=9)
    for row in study.jobs():
        assert row["metrics"] == {"accuracy": pytest.approx(1 - row["loss"]), "tag": "a"}
    for row in study.trials():
        assert row["metrics"]["accuracy"] == pytest.approx(1 - row["loss"])
    assert study.best["metrics"]["accuracy"] == pytest.approx(1 - study.best_value)
    frame = hyperband.trials_dataframe(study)
    assert list(frame["metric_accuracy"]) == pytest.approx([1 - v for v in frame["value"]])
    assert set(frame["metric_tag"]) == {"a"}


def test_fixed_and_conditional_parameters():
    space = (
        hyperband.Space()
        .categorical("model", ["svc", "forest"])
        .float("C", 1e-3, 1e3, log=True, when="model == 'svc'")
        .int("depth", 2, 32, log=True, when="model == 'forest'")
        .fixed("batch", 128)
        .fixed("data", "mnist")
    )
    assert space.names() == ["model", "C", "depth", "batch", "data"]
    study = hyperband.Study(space, scheduler="asha", max_budget=3, seed=2)
    configs = []

    def objective(job):
        configs.append(dict(job.config))
        return 1.0

    study.optimize(objective, max_trials=30)
    for c in configs:
        assert c["batch"] == 128 and c["data"] == "mnist"
        assert ("C" in c) == (c["model"] == "svc") and ("depth" in c) == (c["model"] == "forest")
    assert {c["model"] for c in configs} == {"svc", "forest"}
    assert study.trials()[0]["batch"] == 128
    study.enqueue({"model": "svc", "C": 1.0, "batch": 128, "data": "mnist"})
    with pytest.raises(ValueError, match="fixed at 128"):
        study.enqueue({"model": "svc", "C": 1.0, "batch": 64})
    with pytest.raises(ValueError, match="`batch` is defined twice"):
        space.int("batch", 1, 2)
    with pytest.raises(ValueError, match="unknown parameter|not a parameter|names"):
        hyperband.Space().float("x", 0, 1, when="y == 1")


def train(lr, epochs_done):
    """A learning curve: good learning rates (near 1e-2) end lower."""
    return (math.log10(lr) + 2.0) ** 2 + 1.0 / epochs_done


@pytest.mark.parametrize("scheduler", ["asha", "hyperband"])
@pytest.mark.parametrize("stored", [False, True])
def test_pruning_from_inside_the_training_loop(tmp_path, scheduler, stored):
    kwargs = {"storage": f"sqlite:{tmp_path / 's.db'}", "name": "prune"} if stored else {}
    study = hyperband.Study(
        hyperband.Space().float("lr", 1e-4, 1.0, log=True),
        scheduler=scheduler,
        mode="stop",
        max_budget=27,
        seed=4,
        **kwargs,
    )
    trained = {}
    lock = threading.Lock()

    def objective(job):
        assert job.budget == 27 and job.resume_from == 0
        value = math.inf
        for epoch in range(1, int(job.budget) + 1):
            value = train(job.config["lr"], epoch)
            with lock:
                trained[job.trial] = epoch
            job.report(value, epoch)
            if job.should_stop():
                raise hyperband.Stopped()
        return value

    study.optimize(objective, n_workers=2, max_trials=30)
    assert study.stats["running"] == 0 and study.stats["failed"] == 0
    states = {t["trial"]: t["state"] for t in study.trials()}
    assert set(states.values()) <= {"finished", "stopped"}
    stopped = [t for t, s in states.items() if s == "stopped"]
    finished = [t for t, s in states.items() if s == "finished"]
    assert stopped and finished
    # A stopped trial trained to the rung where it was stopped, and no further, or was
    # stopped mid-way to the next (its segment revoked: ranked out after it went on); a
    # finished one trained to the largest budget.
    budgets = {t["trial"]: t["budget"] for t in study.trials()}
    revoked = {j["trial"] for j in study.jobs() if j["state"] == "stopped"}
    for t in stopped:
        assert trained[t] < 27
        assert trained[t] == budgets[t] or (t in revoked and trained[t] > budgets[t])
    for t in finished:
        assert trained[t] == 27 == budgets[t]
    # Charged for the epochs trained, once each.
    assert study.stats["budget_spent"] == sum(trained.values())
    best = study.best
    assert best["budget"] == 27 and best["value"] == min(
        train(c["lr"], 27) for c in [t for t in study.trials() if t["state"] == "finished"]
    )
    # Each segment kept its piece of the learning curve.
    curves = [j["metrics"].get("curve") for j in study.jobs() if j["state"] == "finished"]
    assert all(c and c[-1][0] == j["budget"] for c, j in zip(curves, [j for j in study.jobs() if j["state"] == "finished"]))


def test_a_program_that_returns_early_fails_its_segment_with_why():
    study = hyperband.Study(hyperband.Space().float("lr", 1e-4, 1.0, log=True), scheduler="asha", mode="stop", max_budget=9)

    def objective(job):
        job.report(1.0, 1)
        return 1.0

    study.optimize(objective, max_trials=3)
    failures = [j["failure"] for j in study.jobs() if j["state"] == "failed"]
    assert failures and all("ended after reporting budget 1 before reaching budget" in f for f in failures)


def test_in_promote_mode_should_stop_says_when_the_job_budget_is_reached():
    study = hyperband.Study(space(), scheduler="hyperband", max_budget=9, seed=1)
    trained = []

    def objective(job):
        epoch = int(job.resume_from)
        while not job.should_stop():
            epoch += 1
            job.report(job.config["x"] + 1 / epoch, epoch)
        trained.append((job.budget, epoch))
        # Returning nothing: the last reported value is the result.

    study.optimize(objective, max_trials=12)
    assert trained and all(b == e for b, e in trained)
    assert study.stats["failed"] == 0
    assert study.best["value"] == pytest.approx(study.best_params["x"] + 1 / 9)


def test_report_after_the_job_is_over_is_refused():
    study = hyperband.Study(hyperband.Space().float("lr", 1e-4, 1.0, log=True), scheduler="asha", mode="stop", max_budget=3)
    kept = []

    def objective(job):
        kept.append(job)
        for epoch in (1, 2, 3):
            job.report(0.5, epoch)
            if job.should_stop():
                return None
        return None

    study.optimize(objective, max_trials=1)
    with pytest.raises(ValueError, match="is over"):
        kept[0].report(0.1, 3)
    with pytest.raises(ValueError, match="step"):
        kept[0].report(0.1, -1)


def test_step_keeps_values_on_their_grid():
    space = hyperband.Space().int("batch", 16, 256, step=16).float("dropout", 0.0, 0.5, step=0.1)
    study = hyperband.Study(space, scheduler="asha", sampler="tpe", max_budget=1, seed=3)
    seen = []

    def objective(job):
        seen.append((job.config["batch"], job.config["dropout"]))
        return abs(job.config["batch"] - 128) / 128 + job.config["dropout"]

    study.optimize(objective, max_trials=60)
    assert all(b % 16 == 0 and 16 <= b <= 256 for b, _ in seen)
    assert all(abs(d * 10 - round(d * 10)) < 1e-9 and 0 <= d <= 0.5 for _, d in seen)
    assert len({b for b, _ in seen}) >= 8
    study.enqueue({"batch": 32, "dropout": 0.2})
    with pytest.raises(ValueError, match="batch"):
        study.enqueue({"batch": 33, "dropout": 0.2})
    with pytest.raises(ValueError, match="step 16 does not divide"):
        hyperband.Space().int("batch", 16, 250, step=16)
    with pytest.raises(ValueError, match="step and a log scale"):
        hyperband.Space().float("lr", 1e-3, 1.0, log=True, step=0.1)


def test_a_trial_whose_promoted_job_failed_is_failed_not_finished():
    study = hyperband.Study(space(), scheduler="hyperband", max_budget=9, seed=2)

    def objective(job):
        if job.resume_from > 0 or job.rung > 0:
            raise ArithmeticError("diverged when promoted")
        return job.config["x"]

    study.optimize(objective, max_trials=20, catch=ArithmeticError)
    promoted = {j["trial"] for j in study.jobs() if j["rung"] > 0}
    assert promoted
    for t in study.trials():
        assert t["state"] == ("failed" if t["trial"] in promoted else "finished"), t
        if t["trial"] in promoted:
            assert "diverged when promoted" in t["failure"] and t["value"] is not None


@pytest.mark.parametrize("stored", [False, True])
def test_in_stop_mode_callbacks_see_each_trial_once_and_stop_reaches_running_programs(tmp_path, stored):
    kwargs = {"storage": f"sqlite:{tmp_path / 's.db'}", "name": "stopcb"} if stored else {}
    study = hyperband.Study(
        hyperband.Space().float("lr", 1e-4, 1.0, log=True),
        scheduler="asha",
        mode="stop",
        max_budget=27,
        direction="maximize",
        seed=6,
        **kwargs,
    )
    seen = []
    epochs = {}

    def objective(job):
        for epoch in range(1, int(job.budget) + 1):
            epochs[job.trial] = epoch
            job.report(-train(job.config["lr"], epoch), epoch)
            if job.should_stop():
                return None
        return None

    def count(s, result):
        seen.append(result)
        if len(seen) == 8:
            s.stop()

    study.optimize(objective, callbacks=[count])
    # One call per trial (its last segment), and the run ended at the eighth.
    assert len(seen) >= 8 and len({r["trial"] for r in seen}) == len(seen)
    assert study.stats["running"] == 0
    for r in seen:
        assert r["state"] in {"finished", "stopped"}
        if r["state"] == "finished":
            # Values as reported (maximized), in the result and in its learning curve.
            assert r["value"] == -train(r["config"]["lr"], r["budget"]) and r["value"] < 0
            assert r["metrics"]["curve"][-1] == [r["budget"], r["value"]]
    for j in study.jobs():
        for b, v in j["metrics"].get("curve", []):
            assert v < 0, j


def test_study_stop_interrupts_a_long_program_instead_of_training_it_to_the_end():
    study = hyperband.Study(hyperband.Space().float("lr", 1e-4, 1.0, log=True), scheduler="asha", mode="stop", max_budget=1000)
    trained = []

    def objective(job):
        for epoch in range(1, int(job.budget) + 1):
            trained.append(epoch)
            if epoch == 50:
                study.stop()
            job.report(1.0 / epoch, epoch)
            if job.should_stop():
                return None
        return None

    study.optimize(objective)
    assert len(trained) == 50
    [job] = [j for j in study.jobs() if j["state"] == "failed"]
    assert "interrupted" in job["failure"] and study.stats["running"] == 0


def test_a_maximized_study_refuses_a_loss_key():
    study = hyperband.Study(space(), scheduler="asha", max_budget=3, direction="maximize")
    job = study.ask()
    with pytest.raises(TypeError, match="under `value`"):
        study.tell(job, {"loss": 0.3})
    study.tell(job, {"value": 0.3})
    assert study.best_value == 0.3


def test_tpe_on_awkward_grids_stays_on_them():
    space = hyperband.Space().float("x", 0.0, 10.0, step=1e-3).int("n", -(5 * 10**18), 5 * 10**18, step=2)
    study = hyperband.Study(space, scheduler="full-budget", sampler="tpe", max_budget=1, seed=1)
    study.optimize(lambda job: abs(job.config["x"] - 3.3) + abs(job.config["n"]) / 1e19, max_trials=40)
    for t in study.trials():
        assert t["state"] == "finished"
        assert abs(t["x"] * 1000 - round(t["x"] * 1000)) < 1e-6 and t["n"] % 2 == 0
    with pytest.raises(ValueError, match="does not divide"):
        hyperband.Space().float("x", 0.0, 10.0 - 5e-9, step=1e-3)
