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
