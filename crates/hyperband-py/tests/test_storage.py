import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import hyperband


def space():
    return hyperband.Space().float("x", 0.0, 1.0).float("y", -1.0, 1.0)


def loss(job):
    return (job.config["x"] - 0.3) ** 2 + job.config["y"] ** 2 + 1.0 / job.budget


def test_a_sqlite_study_resumes_in_a_new_object(tmp_path):
    url = f"sqlite:{tmp_path}/s.db"
    study = hyperband.Study(space(), storage=url, name="s", max_budget=9, seed=5)
    for _ in range(7):
        job = study.ask()
        study.tell(job, loss(job))
    del study
    again = hyperband.Study(space(), storage=url, name="s", max_budget=9, seed=5)
    assert again.stats["finished"] == 7
    job = again.ask()
    assert job.id == 7
    again.tell(job, loss(job))
    loaded = hyperband.Study.load("s", url)
    assert loaded.stats["finished"] == 8
    assert loaded.best == again.best


def test_loading_a_missing_study_is_an_error_that_creates_nothing(tmp_path):
    url = f"sqlite:{tmp_path}/absent.db"
    with pytest.raises(hyperband.StorageError) as err:
        hyperband.Study.load("ghost", url)
    assert "ghost" in str(err.value) and "absent.db" in str(err.value)
    assert list(tmp_path.iterdir()) == []

    # A store that holds other studies: the same, and the store is left as it was.
    url = f"sqlite:{tmp_path}/s.db"
    hyperband.Study(space(), storage=url, name="s", max_budget=9)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(hyperband.StorageError) as err:
        hyperband.Study.load("ghost", url)
    assert "ghost" in str(err.value) and "s.db" in str(err.value)
    # SQLite may open its WAL companions (-wal, -shm) to read; no other file appears, and
    # the store still holds exactly the one study.
    def files():
        return sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm")))

    assert files() == [n for n in before if not n.endswith(("-wal", "-shm"))]
    assert hyperband.Study.load("s", url).name == "s"
    with pytest.raises(hyperband.StorageError):
        hyperband.Study.load("ghost", url)


def test_another_definition_under_the_same_name_is_refused(tmp_path):
    url = f"sqlite:{tmp_path}/s.db"
    hyperband.Study(space(), storage=url, name="s", max_budget=9)
    with pytest.raises(hyperband.StorageError) as info:
        hyperband.Study(space(), storage=url, name="s", max_budget=27)
    assert "algorithm.max_budget" in str(info.value)
    assert "new name" in str(info.value)


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(hyperband.StorageError):
        hyperband.Study(space(), storage=f"sqlite:{path}", name="s")
    with pytest.raises(hyperband.StorageError, match="nope"):
        hyperband.Study.load("nope", f"sqlite:{tmp_path}/empty.db")


def test_telling_a_job_of_another_object_is_refused(tmp_path):
    url = f"sqlite:{tmp_path}/s.db"
    a = hyperband.Study(space(), storage=url, name="s", scheduler="asha", max_budget=9)
    b = hyperband.Study(space(), storage=url, name="s", scheduler="asha", max_budget=9)
    job = a.ask()
    with pytest.raises(ValueError, match="not asked from this Study"):
        b.tell(job, 1.0)
    a.tell(job, 1.0)
    assert b.stats["finished"] == 1


RUNNER = textwrap.dedent(
    """
    import sys, time, hyperband
    url, marker = sys.argv[1], sys.argv[2]
    space = hyperband.Space().float("x", 0.0, 1.0).float("y", -1.0, 1.0)
    study = hyperband.Study(space, storage=url, name="k", max_budget=9, max_brackets=3, seed=9)
    def objective(job):
        time.sleep(float(sys.argv[3]))
        open(marker, "a").write(f"{job.id}\\n")
        return (job.config["x"] - 0.3) ** 2 + job.config["y"] ** 2 + 1.0 / job.budget
    study.optimize(objective, n_workers=1)
    """
)


def finished(url):
    study = hyperband.Study.load("k", url)
    configs = {t["trial"]: t["x"] for t in study.trials()}
    return sorted(
        (j["trial"], configs[j["trial"]], j["budget"], j["loss"]) for j in study.jobs() if j["state"] == "finished"
    ), study


def test_sigkill_mid_study_loses_no_result_and_resumes_to_the_same_end(tmp_path):
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    killed_url = f"sqlite:{tmp_path}/killed.db"
    marker = tmp_path / "done.txt"
    proc = subprocess.Popen([sys.executable, str(script), killed_url, str(marker), "0.02"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if marker.exists() and len(marker.read_text().split()) >= 8:
            break
        time.sleep(0.01)
    else:
        proc.kill()
        pytest.fail("the runner produced no results")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before, _ = finished(killed_url)
    assert len(before) >= 7
    subprocess.run([sys.executable, str(script), killed_url, str(marker), "0"], check=True)
    after, resumed = finished(killed_url)
    assert resumed.ask() is None and resumed.is_done
    # Every result stored before the kill is still there.
    assert set(before) <= set(after)

    clean_url = f"sqlite:{tmp_path}/clean.db"
    subprocess.run([sys.executable, str(script), clean_url, str(tmp_path / "clean.txt"), "0"], check=True)
    uninterrupted, _ = finished(clean_url)
    assert after == uninterrupted


INTERRUPTED = textwrap.dedent(
    """
    import sys, time, hyperband
    url, marker = sys.argv[1], sys.argv[2]
    space = hyperband.Space().float("x", 0.0, 1.0)
    study = hyperband.Study(space, storage=url, name="c", scheduler="asha", max_budget=9, seed=1)
    def objective(job):
        open(marker, "a").write("started\\n")
        time.sleep(0.3)
        return job.config["x"]
    try:
        study.optimize(objective, n_workers=2)
    except KeyboardInterrupt:
        print("interrupted", study.stats["finished"], study.stats["running"], flush=True)
        sys.exit(130)
    """
)


def test_ctrl_c_lets_running_jobs_finish_and_records_them(tmp_path):
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED)
    url = f"sqlite:{tmp_path}/c.db"
    marker = tmp_path / "started.txt"
    # A shell starts background jobs with SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler: give the script the default disposition whatever ran us.
    proc = subprocess.Popen(
        [sys.executable, str(script), url, str(marker)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 30
    while not (marker.exists() and len(marker.read_text().split()) >= 3):
        assert time.monotonic() < deadline, "no job started"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, out
    words = out.split()
    assert words[0] == "interrupted"
    finished, running = int(words[1]), int(words[2])
    # The jobs running at Ctrl-C finished and were stored; none was left running.
    assert running == 0 and finished >= 3
    study = hyperband.Study.load("c", url)
    assert study.stats["finished"] == finished and study.stats["lost"] == 0


def test_sqlalchemy_sqlite_urls_mean_what_they_mean_to_optuna_users(tmp_path, monkeypatch):
    # `sqlite:///rel.db` is relative to the working folder, not a file at the root.
    monkeypatch.chdir(tmp_path)
    study = hyperband.Study(space(), storage="sqlite:///rel.db", name="s", max_budget=9)
    job = study.ask()
    study.tell(job, loss(job))
    assert (tmp_path / "rel.db").is_file()
    # `sqlite:////ABS` is absolute.
    absolute = tmp_path / "sub" / "abs.db"
    hyperband.Study(space(), storage=f"sqlite:///{absolute}", name="s", max_budget=9)
    assert absolute.is_file()
    # In-memory SQLite is a study in memory: no file, no storage.
    for memory in ["sqlite://", "sqlite:///:memory:", "sqlite::memory:"]:
        study = hyperband.Study(space(), storage=memory, max_budget=9)
        job = study.ask()
        study.tell(job, loss(job))
        assert study.storage is None
    assert not any(":memory:" in p.name for p in tmp_path.iterdir())


def test_optimize_refuses_what_it_cannot_call():
    study = hyperband.Study(space(), max_budget=9)
    with pytest.raises(TypeError, match="function of a job, got int"):
        study.optimize(42)  # type: ignore[arg-type]
