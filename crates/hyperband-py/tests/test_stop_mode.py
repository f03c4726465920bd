"""Stop mode from Python: a trial trains once, epoch by epoch; `tell` at each rung says
whether it trains on. The study is charged the epochs actually trained."""

import math

import pytest

import hyperband


def space():
    return hyperband.Space().float("lr", 1e-4, 1.0, log=True)


def value(lr, epoch):
    return (math.log10(lr) + 2.0) ** 2 + 1.0 / epoch


@pytest.mark.parametrize("scheduler", ["asha", "hyperband"])
@pytest.mark.parametrize("stored", [False, True])
def test_trials_stop_at_rungs_and_pay_what_they_trained(tmp_path, scheduler, stored):
    kwargs = {"storage": f"sqlite:{tmp_path / 's.db'}", "name": "stop"} if stored else {}
    study = hyperband.Study(space(), scheduler=scheduler, mode="stop", max_budget=27, seed=2, **kwargs)
    reached = {}
    n = 0
    while n < 25 and (job := study.ask()) is not None:
        n += 1
        epochs = 0
        # One program per trial, trained on rung after rung until told to stop.
        while job is not None:
            while epochs < job.budget:
                epochs += 1
            job = study.tell(job, value(job.config["lr"], epochs))
        reached[n] = epochs
    assert set(reached.values()) <= {1, 3, 9, 27}
    assert 27 in reached.values() and 1 in reached.values()
    assert study.stats["budget_spent"] == sum(reached.values())


def test_promotion_mode_tell_returns_none_and_bad_modes_are_refused():
    study = hyperband.Study(space(), scheduler="asha", max_budget=9)
    job = study.ask()
    assert study.tell(job, 1.0) is None
    with pytest.raises(ValueError, match="mode"):
        hyperband.Study(space(), mode="halt")
    with pytest.raises(ValueError, match="`asha` and `hyperband`"):
        hyperband.Study(space(), scheduler="sha", n_configs=9, mode="stop")
