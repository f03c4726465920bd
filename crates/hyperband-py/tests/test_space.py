import math

import pytest

import hyperband


def test_space_builds_in_one_expression():
    space = hyperband.Space().float("lr", 1e-3, 1e-1, log=True).int("hidden", 10, 1000, log=True).categorical("act", ["relu", "tanh"])
    assert space.names() == ["lr", "hidden", "act"]
    assert len(space) == 3
    assert "lr: float in [0.001, 0.1], log" in repr(space)


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda s: s.float("x", 1.0, 0.0), ["`x`", "below"]),
        (lambda s: s.float("x", 0.0, 1.0, log=True), ["`x`", "log"]),
        (lambda s: s.int("n", 0, 10, log=True), ["`n`", "log"]),
        (lambda s: s.float("x", 0.0, math.inf), ["`x`"]),
        (lambda s: s.float("wide", -1.797e308, 1.797e308), ["`wide`", "too wide"]),
        (lambda s: s.float("x", -1.0, 1.0, log=True), ["`x`", "log"]),
        (lambda s: s.categorical("c", []), ["`c`"]),
        (lambda s: s.categorical("c", ["a", "a"]), ["`c`", "a"]),
        (lambda s: s.float("x", 0, 1).int("x", 0, 3), ["`x`"]),
        (lambda s: s.float("", 0, 1), ["name"]),
        (lambda s: s.int("n", 0, 2**64), ["`n`", "high", "64 bits", str(2**64)]),
        (lambda s: s.int("n", 0.5, 3), ["`n`", "low", "0.5"]),
    ],
)
def test_bad_spaces_are_value_errors_naming_the_parameter(build, words):
    with pytest.raises(ValueError) as info:
        build(hyperband.Space())
    for word in words:
        assert word in str(info.value)


def test_a_space_is_not_changed_by_adding_to_it():
    base = hyperband.Space().float("x", 0, 1)
    bigger = base.int("n", 1, 5)
    assert base.names() == ["x"] and bigger.names() == ["x", "n"]


def test_categorical_choices_must_be_strings():
    with pytest.raises(TypeError):
        hyperband.Space().categorical("c", [1, 2])


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(scheduler="bogus"), ["scheduler", "bogus", "hyperband"]),
        (dict(sampler="bogus"), ["sampler", "bogus", "tpe"]),
        (dict(min_budget=10, max_budget=1), ["budget"]),
        (dict(eta=1), ["eta"]),
        (dict(scheduler="sha"), ["n_configs"]),
        (dict(bracket_sizes="big"), ["bracket_sizes"]),
    ],
)
def test_bad_settings_are_value_errors(kwargs, words):
    with pytest.raises(ValueError) as info:
        hyperband.Study(hyperband.Space().float("x", 0, 1), **kwargs)
    for word in words:
        assert word in str(info.value)


def test_an_empty_space_is_refused():
    with pytest.raises(ValueError):
        hyperband.Study(hyperband.Space())


def test_a_stored_study_needs_a_name(tmp_path):
    with pytest.raises(ValueError, match="name"):
        hyperband.Study(hyperband.Space().float("x", 0, 1), storage=f"sqlite:{tmp_path}/s.db")


def test_a_bad_storage_url_is_a_value_error():
    with pytest.raises(ValueError, match="sqlite:PATH"):
        hyperband.Study(hyperband.Space().float("x", 0, 1), storage="mysql://x", name="s")
