"""The ``hyperband`` command installed with the package (``hyperband._cli:main``) behaves as
the binary that cargo builds (target/debug/hyperband): the same output, exit statuses,
Ctrl-C handling and server."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from typing import List, Sequence

import pytest


@pytest.fixture(scope="session")
def wheel_cli() -> str:
    """The console script in this interpreter's environment (its bin folder)."""
    folder = pathlib.Path(sys.executable).parent
    found = shutil.which("hyperband", path=str(folder))
    assert found, f"no `hyperband` command in {folder}: is the package installed in this environment?"
    return found


@pytest.fixture(params=["wheel", "cargo"])
def either(request: pytest.FixtureRequest, wheel_cli: str, hyperband_bin: str) -> str:
    """Each test that takes it runs once with the package's command and once with the binary."""
    return wheel_cli if request.param == "wheel" else hyperband_bin


def run(program: str, *args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([program, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def same(wheel: subprocess.CompletedProcess[str], cargo: subprocess.CompletedProcess[str]) -> None:
    assert (wheel.returncode, wheel.stdout, wheel.stderr) == (cargo.returncode, cargo.stdout, cargo.stderr)


def write_study(folder: pathlib.Path, name: str, objective: Sequence[str], workers: int = 2) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    command = json.dumps([sys.executable, "-c", *objective])
    path = folder / "study.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            name = "{name}"
            seed = 3
            storage = "sqlite:study.db"
            [objective]
            command = {command}
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
            workers = {workers}
            """
        )
    )
    return path


# (x - 0.3)^2 + 1/budget: a loss that prefers x near 0.3 and a larger budget.
QUADRATIC = ["import sys; x, b = map(float, sys.argv[1:]); print((x - 0.3) ** 2 + 1 / b)", "{x}", "{budget}"]


def test_help_and_version_are_the_binarys(wheel_cli: str, hyperband_bin: str) -> None:
    for args in (["--help"], ["run", "--help"], ["--version"], []):
        same(run(wheel_cli, *args), run(hyperband_bin, *args))
    done = run(wheel_cli, "--help")
    assert done.returncode == 0 and "Usage: hyperband <COMMAND>" in done.stdout


def test_python_dash_m_is_the_same_command(wheel_cli: str) -> None:
    same(run(sys.executable, "-m", "hyperband", "--help"), run(wheel_cli, "--help"))
    same(run(sys.executable, "-m", "hyperband", "nonsense"), run(wheel_cli, "nonsense"))


def test_bad_input_exits_2_as_the_binary(tmp_path: pathlib.Path, wheel_cli: str, hyperband_bin: str) -> None:
    for args in (["nonsense"], ["run"], ["schedule", "--eta", "x"], ["status", str(tmp_path / "missing.toml")]):
        wheel, cargo = run(wheel_cli, *args), run(hyperband_bin, *args)
        same(wheel, cargo)
        assert wheel.returncode == 2, (args, wheel.stderr)
    assert "Usage: hyperband" in run(wheel_cli, "nonsense").stderr


def test_output_through_a_pipe_is_the_binarys(wheel_cli: str, hyperband_bin: str) -> None:
    args = ["schedule", "--min-budget", "1", "--max-budget", "81", "--eta", "3"]
    wheel = run(wheel_cli, *args)
    same(wheel, run(hyperband_bin, *args))
    assert wheel.returncode == 0 and wheel.stdout.strip()


def test_a_failing_check_exits_1_as_the_binary(tmp_path: pathlib.Path, wheel_cli: str, hyperband_bin: str) -> None:
    statuses = []
    for program, folder in ((wheel_cli, tmp_path / "wheel"), (hyperband_bin, tmp_path / "cargo")):
        study = write_study(folder, "failing", ["import sys; sys.exit('no loss today')"])
        done = run(program, "check", str(study))
        assert "no loss today" in done.stdout + done.stderr
        statuses.append(done.returncode)
    assert statuses == [1, 1]


def test_a_tiny_study_gives_the_binarys_results(tmp_path: pathlib.Path, wheel_cli: str, hyperband_bin: str) -> None:
    results = []
    for program, folder in ((wheel_cli, tmp_path / "wheel"), (hyperband_bin, tmp_path / "cargo")):
        study = write_study(folder, "tiny", QUADRATIC)
        done = run(program, "run", str(study), "--plain")
        assert done.returncode == 0, done.stderr
        assert "best: loss" in done.stdout
        # Each command reads the other's study too.
        status = [json.loads(run(p, "status", str(study), "--json").stdout) for p in (wheel_cli, hyperband_bin)]
        best = [json.loads(run(p, "best", str(study), "--json").stdout) for p in (wheel_cli, hyperband_bin)]
        assert status[0] == status[1] and best[0] == best[1]
        assert status[0]["finished"] > 0 and status[0]["failed"] == 0
        results.append((status[0]["finished"], best[0]))
    assert results[0] == results[1]


def interactive() -> None:
    """SIGINT as a terminal leaves it: a test run in the background (`nohup`, `cmd &`)
    inherits it ignored, and a program that keeps the default action would never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: List[str], cwd: pathlib.Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interactive,
    )


# Each job says it started (a file per job in $MARKS), then takes two seconds.
SLOW = [
    "import os, sys, time; open(os.path.join(os.environ['MARKS'], str(os.getpid())), 'w').close(); "
    "time.sleep(2); x, b = map(float, sys.argv[1:]); print((x - 0.3) ** 2 + 1 / b)",
    "{x}",
    "{budget}",
]


def started_run(tmp_path: pathlib.Path, program: str) -> tuple[subprocess.Popen[str], pathlib.Path]:
    """`program run` of a slow study, once both workers are running a job (so once its
    Ctrl-C handler is in place)."""
    study = write_study(tmp_path, "interrupted", SLOW)
    marks = tmp_path / "marks"
    marks.mkdir()
    proc = start([program, "run", str(study), "--plain"], tmp_path, MARKS=str(marks))
    deadline = time.monotonic() + 60
    while len(list(marks.iterdir())) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the jobs never started"
        time.sleep(0.05)
    return proc, marks


def test_one_ctrl_c_finishes_the_running_jobs(tmp_path: pathlib.Path, either: str) -> None:
    proc, marks = started_run(tmp_path, either)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopping after the running jobs finish" in err
    assert "(interrupted: run again to resume)" in out
    # The running jobs were finished and recorded, and no other was started.
    status = json.loads(run(either, "status", str(tmp_path / "study.toml"), "--json").stdout)
    assert status["finished"] == len(list(marks.iterdir())) >= 2 and status["failed"] == 0


def test_a_second_ctrl_c_exits_130(tmp_path: pathlib.Path, either: str) -> None:
    proc, _ = started_run(tmp_path, either)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopping now; running jobs will be re-run on resume" in err


def test_the_dashboard_serves_and_ctrl_c_stops_it(tmp_path: pathlib.Path, either: str) -> None:
    study = write_study(tmp_path, "served", QUADRATIC)
    assert run(either, "run", str(study), "--plain").returncode == 0
    proc = start([either, "dashboard", str(study), "--port", "0"], tmp_path)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # arrives through a pipe while the server runs
        assert line.startswith("dashboard: http://127.0.0.1:"), line
        with urllib.request.urlopen(line.split(": ", 1)[1].strip(), timeout=30) as page:
            assert page.status == 200
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        # Ended by the signal, as the binary is: Python's handler did not keep it.
        assert proc.returncode == -signal.SIGINT
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
