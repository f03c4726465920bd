"""examples/python/tune_sklearn.py runs, checkpoints and resumes (it needs scikit-learn,
which the CI venv installs)."""

import pathlib
import re
import subprocess
import sys

import hyperband
from conftest import ROOT


def test_the_sklearn_example_tunes_and_resumes_from_checkpoints(tmp_path):
    url = f"sqlite:{tmp_path}/digits.db"
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python" / "tune_sklearn.py"), "--storage", url, "--max-budget", "9"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    error = float(re.search(r"best validation error ([0-9.]+)", done.stdout).group(1))
    assert error < 0.15, done.stdout
    study = hyperband.Study.load("digits-sgd", url)
    jobs = study.jobs()
    promoted = [j for j in jobs if j["resume_from"] > 0]
    assert promoted
    # Promotions continued from their checkpoints, so they paid only their new epochs.
    assert all(j["cost"] == j["budget"] - j["resume_from"] for j in promoted)
    assert study.run_dir.startswith(str(tmp_path / "digits-runs" / "digits-sgd-"))
    assert (pathlib.Path(study.run_dir) / "checkpoints" / "trial-0" / "model.pkl").exists()


def run_example(name, *args, cwd):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / name), *args], capture_output=True, text=True, cwd=cwd, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_sklearn_simple_chooses_a_model_and_its_own_parameters(tmp_path):
    out = run_example("sklearn_simple.py", "--trials", "30", cwd=tmp_path)
    assert "trials: 30" in out
    accuracy = float(re.search(r"best accuracy ([0-9.]+)", out).group(1))
    assert accuracy > 0.9, out
    best = re.search(r"best accuracy [0-9.]+: (\{.*\})", out).group(1)
    # The conditional parameter of the other model is absent.
    assert ("svc_c" in best) != ("rf_max_depth" in best), best


def test_pruning_stops_trials_inside_their_training_loop(tmp_path):
    out = run_example("pruning.py", "--trials", "30", cwd=tmp_path)
    m = re.search(r"trials: (\d+), stopped early: (\d+), trained to the end: (\d+)", out)
    trials, stopped, finished = map(int, m.groups())
    assert trials == 30 and stopped > 0 and finished > 0 and stopped + finished == trials, out
    spent, full = map(int, re.search(r"steps trained: (\d+) of (\d+)", out).groups())
    assert spent < full, out
    assert float(re.search(r"best validation error ([0-9.]+)", out).group(1)) < 0.5, out


def test_processes_sharing_a_sqlite_study_end_at_exactly_max_trials(tmp_path):
    # The SQLAlchemy URL Optuna users write, relative to the working folder.
    out = run_example("max_trials.py", "--processes", "3", "--trials", "12", "--storage", "sqlite:///shared.db", cwd=tmp_path)
    assert (tmp_path / "shared.db").exists()
    assert "trials in the study: 12 (12 finished), by 3 processes" in out, out
    callbacks = re.findall(r"process (\d+): trial (\d+) finished", out)
    assert sorted(int(t) for _, t in callbacks) == list(range(12)), out
