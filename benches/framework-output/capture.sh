#!/usr/bin/env bash
# Captures the raw output of small training runs of real ML frameworks (PyTorch, Keras 3,
# Lightning, Hugging Face Trainer, XGBoost, LightGBM, tqdm, logging), byte for byte, into
# crates/hyperband/tests/fixtures/output/, with the values each framework recorded itself
# (History.history, log_history, evals_result, ...) in NAME[.METRIC].expected.json.
#
#   benches/framework-output/capture.sh              # every fixture, plus BUFFERING.md
#   benches/framework-output/capture.sh keras-verbose1-pty tqdm-file   # only these
#
# The first run makes target/framework-venv and installs requirements.txt from PyPI
# (torch first: ~5 GB, the CUDA build, used on the CPU). Nothing is downloaded at run time
# (HF_HUB_OFFLINE=1; the data is scikit-learn's bundled 8x8 digits or synthetic).
# The runs are seeded, but timings, redraw counts and some last digits vary between runs,
# so a recapture changes the fixtures: commit the set together.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/framework-venv"
py="$venv/bin/python"

want="import torch, keras, lightning, transformers, accelerate, xgboost, lightgbm, tqdm, sklearn"
if [ ! -x "$py" ] || ! KERAS_BACKEND=torch "$py" -c "$want" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "$(grep '^torch==' "$here/requirements.txt")"
    "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi

# Keras 3 runs on the torch backend here; should that ever fail, fall back to TensorFlow.
if ! KERAS_BACKEND=torch "$py" -c "import keras; keras.ops.sum(keras.ops.ones((2,)))" 2>/dev/null; then
    echo "keras on the torch backend failed; installing tensorflow-cpu" >&2
    "$venv/bin/pip" install --quiet tensorflow-cpu
    export CAPTURE_KERAS_BACKEND=tensorflow
fi

start=$SECONDS
"$py" "$here/capture.py" "$@"
echo "capture took $((SECONDS - start)) s"
