"""Shared fixtures: the `hyperband` binary (for the CLI interop tests) and PostgreSQL.

Neither is skipped when missing: a test that cannot find the binary or reach the server
fails, so that CI cannot pass without running it.
"""

from __future__ import annotations

import os
import pathlib
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def hyperband_bin() -> str:
    path = pathlib.Path(os.environ.get("HYPERBAND_BIN", ROOT / "target" / "debug" / "hyperband"))
    assert path.exists(), f"the hyperband binary is not at {path}: build it (cargo build -p hyperband-cli) or set HYPERBAND_BIN"
    return str(path)


@pytest.fixture(scope="session")
def pg_url() -> str:
    return os.environ.get("HYPERBAND_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")


@pytest.fixture
def unique_name() -> str:
    return f"py-{uuid.uuid4().hex[:12]}"


def assert_stopped_at_rungs(study, runs, max_budget, rungs):
    """What a framework callback in stop mode must leave behind, for any framework: `runs`
    maps each trial to what its training did (`rounds` run, `last_step` reported, whether
    the callback `stopped` it, its `value`). The rounds run are the steps reported; a trial
    is `stopped` exactly when it ran fewer than the largest budget, at a rung; the study was
    charged the rounds trained; the best is the best full-budget value."""
    import math

    trials = {t["trial"]: t for t in study.trials()}
    assert set(runs) == set(trials)
    for trial, run in runs.items():
        # The rounds the framework ran are the steps reported: the callback stopped it there.
        assert run["rounds"] == run["last_step"], (trial, run)
        assert run["rounds"] <= max_budget
        # should_stop() is True at the max budget too, where the trial is finished.
        assert run["stopped"], (trial, run)
        assert (trials[trial]["state"] == "stopped") == (run["rounds"] < max_budget), (trials[trial], run)
        assert trials[trial]["budget"] == run["rounds"], (trials[trial], run)
    stopped = [r for r in runs.values() if r["rounds"] < max_budget]
    full = [r for r in runs.values() if r["rounds"] == max_budget]
    # Some trials were stopped before the max budget, at a rung; the promoted ones went on.
    assert stopped and all(r["rounds"] in rungs for r in stopped), stopped
    assert full
    assert max(r["rounds"] for r in stopped) < max(r["rounds"] for r in runs.values())
    # The study was charged the rounds actually trained.
    assert study.stats["budget_spent"] == sum(r["rounds"] for r in runs.values())
    best = study.best
    assert best is not None and best["budget"] == max_budget and math.isfinite(best["loss"])
    assert best["loss"] == min(r["value"] for r in full)
