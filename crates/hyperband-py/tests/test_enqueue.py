import pytest

import hyperband


def space():
    return hyperband.Space().float("lr", 1e-3, 1e-1, log=True).int("hidden", 10, 1000).categorical("act", ["relu", "tanh"])


KNOWN = [{"lr": 0.01, "hidden": 100, "act": "relu"}, {"lr": 0.05, "hidden": 20, "act": "tanh"}]


def test_enqueued_configurations_run_first_in_memory():
    study = hyperband.Study(space(), scheduler="asha", sampler="tpe", max_budget=9, seed=1)
    for c in KNOWN:
        study.enqueue(c)
    jobs = [study.ask() for _ in range(3)]
    assert [j.config for j in jobs[:2]] == KNOWN
    assert jobs[2].config not in KNOWN


@pytest.mark.parametrize(
    "config, words",
    [
        ({"lr": 0.5, "hidden": 100, "act": "relu"}, ["`lr`"]),
        ({"lr": 0.01, "act": "relu"}, ["`hidden`"]),
        ({"lr": 0.01, "hidden": 100, "act": "gelu"}, ["`act`", "gelu"]),
        ({"lr": 0.01, "hidden": 100, "act": "relu", "depth": 3}, ["`depth`"]),
        ({"lr": 0.01, "hidden": 2**64, "act": "relu"}, ["`hidden`", "64-bit"]),
        ({"lr": 0.01, "hidden": 100.5, "act": "relu"}, ["`hidden`", "100.5"]),
    ],
)
def test_enqueued_configurations_are_checked_against_the_space(config, words):
    study = hyperband.Study(space())
    with pytest.raises(ValueError) as info:
        study.enqueue(config)
    for w in words:
        assert w in str(info.value)


def test_a_boolean_or_object_is_not_a_value():
    with pytest.raises(TypeError, match="`act`"):
        hyperband.Study(space()).enqueue({"lr": 0.01, "hidden": 100, "act": True})


def test_stored_enqueues_are_kept_once_and_run_first(tmp_path):
    url = f"sqlite:{tmp_path}/q.db"
    for _ in range(2):  # a script that enqueues on every start
        study = hyperband.Study(space(), storage=url, name="q", scheduler="asha", max_budget=9)
        for c in KNOWN:
            study.enqueue(c)
    study.optimize(lambda job: job.config["lr"], n_workers=2, max_trials=6)
    trials = hyperband.Study.load("q", url).trials()
    configs = [{k: t[k] for k in ("lr", "hidden", "act")} for t in trials]
    assert configs[:2] == KNOWN
    assert sum(c in KNOWN for c in configs) == 2


def test_a_whole_float_is_the_integer_it_writes():
    # JSON and Python code write 100.0 for 100; Optuna users enqueue it so.
    study = hyperband.Study(space())
    study.enqueue({"lr": 0.01, "hidden": 100.0, "act": "relu"})
    assert study.ask().config["hidden"] == 100
