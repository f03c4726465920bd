"""The same studies from Python and from the command line, on SQLite and PostgreSQL."""

import json
import subprocess
import textwrap

import pytest

import hyperband


def run_cli(binary, *args, cwd=None):
    done = subprocess.run([binary, *args], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def storages(tmp_path, pg_url):
    return {"sqlite": f"sqlite:{tmp_path}/interop.db", "postgres": pg_url}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_python_study_is_shown_by_the_cli(tmp_path, pg_url, unique_name, hyperband_bin, kind):
    url = storages(tmp_path, pg_url)[kind]
    space = hyperband.Space().float("x", 0.0, 1.0).int("n", 1, 9)
    study = hyperband.Study(space, storage=url, name=unique_name, max_budget=9, max_brackets=3, seed=2)
    study.optimize(lambda job: (job.config["x"] - 0.5) ** 2 + job.config["n"] / job.budget, n_workers=2)
    status = json.loads(run_cli(hyperband_bin, "status", "--storage", url, "--study", unique_name, "--json"))
    assert status["trials"] == study.stats["trials"]
    assert status["finished"] == study.stats["finished"]
    best = json.loads(run_cli(hyperband_bin, "best", "--storage", url, "--study", unique_name, "--json"))
    assert best["trial"] == study.best["trial"]
    assert best["loss"] == study.best["loss"]
    assert best["config"] == study.best["config"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_study_file_study_opens_in_python(tmp_path, pg_url, unique_name, hyperband_bin, kind):
    url = storages(tmp_path, pg_url)[kind]
    (tmp_path / "study.toml").write_text(
        textwrap.dedent(
            f"""
            name = "{unique_name}"
            seed = 4
            storage = "{url}"
            [objective]
            command = ["python3", "-c", "import sys; x, b = map(float, sys.argv[1:]); print((x - 0.2) ** 2 + 1 / b)", "{{x}}", "{{budget}}"]
            [space]
            x = {{ type = "float", low = 0.0, high = 1.0 }}
            [algorithm]
            scheduler = "hyperband"
            sampler = "random"
            min_budget = 1
            max_budget = 9
            eta = 3
            max_brackets = 1
            [run]
            workers = 2
            """
        )
    )
    run_cli(hyperband_bin, "run", str(tmp_path / "study.toml"), "--plain")
    best = json.loads(run_cli(hyperband_bin, "best", str(tmp_path / "study.toml"), "--json"))
    study = hyperband.Study.load(unique_name, url)
    assert study.best["trial"] == best["trial"]
    assert study.best["loss"] == best["loss"]
    assert study.best["config"] == best["config"]
    # Python can go on with it: the one bracket is done, so nothing is left.
    assert study.ask() is None and study.is_done
