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
