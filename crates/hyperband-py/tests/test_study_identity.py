"""Each study has its own folder and its own jobs: a study in memory gets a private
checkpoint folder, a stored study the folder of its identity (store and name), and a job
told to a study that did not ask it is refused."""

import gc
import os
import subprocess
import sys

import pytest

import hyperband


def space():
    return hyperband.Space().float("x", 0.0, 1.0)


def test_two_studies_in_memory_never_share_a_checkpoint_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, second = hyperband.Study(space(), max_budget=9), hyperband.Study(space(), max_budget=9)
    a, b = first.ask(), second.ask()
    assert a.trial == b.trial == 0
    assert a.checkpoint_dir != b.checkpoint_dir
    with open(os.path.join(a.checkpoint_dir, "model.pkl"), "w") as f:
        f.write("first")
    assert os.listdir(b.checkpoint_dir) == []
    # Nothing lands in the current folder.
    assert os.listdir(tmp_path) == []


SCRIPT = """
import os, sys
import hyperband
study = hyperband.Study(hyperband.Space().float("x", 0.0, 1.0), max_budget=9, name="same")
job = study.ask()
found = os.listdir(job.checkpoint_dir)
with open(os.path.join(job.checkpoint_dir, "model.pkl"), "w") as f:
    f.write("mine")
print(found)
"""


def test_two_runs_of_a_script_start_with_empty_checkpoint_folders(tmp_path):
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"


def test_a_private_folder_goes_with_its_study_and_jobs():
    study = hyperband.Study(space(), max_budget=9)
    job = study.ask()
    folder = study.run_dir
    assert job.checkpoint_dir.startswith(folder) and os.path.isdir(folder)
    del study
    gc.collect()
    # The job still points into it, so it stays until the job is gone too.
    assert os.path.isdir(folder)
    del job
    gc.collect()
    assert not os.path.exists(folder)


def test_a_stored_study_s_folder_is_its_identity_s(tmp_path):
    url = f"sqlite:{tmp_path}/s.db"
    spaced = hyperband.Study(space(), max_budget=9, storage=url, name="p17 shared")
    underscored = hyperband.Study(space(), max_budget=9, storage=url, name="p17_shared")
    folders = {spaced.run_dir, underscored.run_dir}
    assert len(folders) == 2
    for folder in folders:
        assert os.path.dirname(folder) == str(tmp_path / "s-runs")
        assert os.path.basename(folder).startswith("p17_shared-")
    # Opened again, a stored study finds its folder again (checkpoints carry over).
    assert hyperband.Study.load("p17 shared", url).run_dir == spaced.run_dir


def test_telling_a_job_to_another_study_is_a_value_error_naming_both(tmp_path):
    a = hyperband.Study(space(), max_budget=9, name="alpha")
    b = hyperband.Study(space(), max_budget=9, name="beta")
    ja, jb = a.ask(), b.ask()
    assert ja.id == jb.id == 0
    with pytest.raises(ValueError) as info:
        b.tell(ja, 0.5)
    assert "`alpha`" in str(info.value) and "`beta`" in str(info.value)
    assert b.stats["finished"] == 0
    b.tell(jb, 0.5)
    a.tell(ja, 0.25)
    assert a.best["loss"] == 0.25 and b.best["loss"] == 0.5

    url = f"sqlite:{tmp_path}/s.db"
    one = hyperband.Study(space(), max_budget=9, storage=url, name="one")
    two = hyperband.Study(space(), max_budget=9, storage=url, name="two")
    j1, j2 = one.ask(), two.ask()
    assert j1.id == j2.id == 0
    with pytest.raises(ValueError) as info:
        two.tell(j1, 0.5)
    message = str(info.value)
    assert "`one` in sqlite:" in message and "`two` in sqlite:" in message
    assert two.stats["finished"] == 0
    # A job of a study in memory is not a stored study's either, whatever its name.
    same = hyperband.Study(space(), max_budget=9, name="one")
    with pytest.raises(ValueError, match="in memory"):
        one.tell(same.ask(), 0.5)
    two.tell(j2, 0.5)
    one.tell(j1, 0.5)
