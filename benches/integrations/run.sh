#!/usr/bin/env bash
# One small stop-mode study per framework through hyperband.integration's callbacks
# (XGBoost, LightGBM, Keras, PyTorch Lightning, Transformers): each must stop some trials
# early and find a finite best; prints a summary (docs/integrations.md has a recorded run).
#
#   benches/integrations/run.sh                        # every framework, 9 trials each (GBDTs 18)
#   benches/integrations/run.sh keras lightning --trials 6
#   HYPERBAND_WHEEL=target/wheels/hyperband-….whl benches/integrations/run.sh   # skip the build
#
# The first run creates a venv outside the repository, $INTEGRATIONS_VENV (default
# ${TMPDIR:-/tmp}/hyperband-integrations-venv), and installs CPU builds of the frameworks:
# torch from PyTorch's CPU index where it is reachable, else from PyPI (the CUDA build, about
# 5 GB with its nvidia wheels; it runs on the CPU all the same), lightning, keras (on the
# torch backend), transformers and accelerate, xgboost-cpu and lightgbm. Later runs reuse
# it. The hyperband package is built from this checkout (pip, release) each run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${INTEGRATIONS_VENV:-${TMPDIR:-/tmp}/hyperband-integrations-venv}"
pip_() { "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"; }
export KERAS_BACKEND="${KERAS_BACKEND:-torch}"  # Keras 3's default, tensorflow, is not installed

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, lightning, keras, transformers, accelerate, xgboost, lightgbm, sklearn" 2>/dev/null; then
    echo "== installing the frameworks into $venv (once)"
    python3 -m venv "$venv"
    pip_ --upgrade pip
    if "$venv/bin/python" -c "import urllib.request as u; u.urlopen('https://download.pytorch.org/whl/cpu/torch/', timeout=20)" 2>/dev/null; then
        echo "torch: PyTorch's CPU index"
        pip_ --index-url https://download.pytorch.org/whl/cpu torch
    else
        echo "torch: PyTorch's CPU index is unreachable here; PyPI's torch (the CUDA build, run on the CPU)"
        pip_ torch
    fi
    pip_ lightning keras transformers accelerate xgboost-cpu lightgbm scikit-learn numpy
fi

echo "== hyperband from $root/crates/hyperband-py"
if [ -n "${HYPERBAND_WHEEL:-}" ]; then
    pip_ --force-reinstall --no-deps "$HYPERBAND_WHEEL"
else
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" pip_ --force-reinstall --no-deps "$root/crates/hyperband-py"
fi

"$venv/bin/python" - <<'PY'
import importlib.metadata as m
names = ["hyperband", "torch", "lightning", "keras", "transformers", "accelerate", "xgboost-cpu", "lightgbm", "scikit-learn", "numpy"]
print("versions: " + ", ".join(f"{n} {m.version(n)}" for n in names))
PY
export TOKENIZERS_PARALLELISM=false PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
cd "$root"
exec "$venv/bin/python" "$here/studies.py" "$@"
