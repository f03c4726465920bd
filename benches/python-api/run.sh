#!/usr/bin/env bash
# The Python API's cost per job (ask + tell, optimize) beside Optuna's (in memory and
# through SQLite) and Rust's, in one run (docs/benchmarks.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
venv="$here/.venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q ./crates/hyperband-py optuna==5.0.0
cargo build --release -q -p hyperband-cli
"$venv/bin/python" "$here/bench.py" "$@"
