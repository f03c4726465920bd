#!/usr/bin/env bash
# Epochs trained by 17 trials of Hyperband (R = 9, eta = 3: brackets of 9, 5 and 3 trials) on
# curve.py, WORKERS workers (default 1): ours in stop mode, ours in promote mode (every rung
# from scratch), and Optuna's HyperbandPruner (in process, n_jobs = WORKERS, same curve).
# EPOCH_SECONDS (default 0.05) is how long curve.py takes an epoch; MODES picks our modes.
# Usage:
#   HYPERBAND=target/release/hyperband OPTUNA_PYTHON=/path/to/venv/bin/python SEEDS=0,1,2 benches/stop-first-trials/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hb="${HYPERBAND:-target/debug/hyperband}"
seeds="${SEEDS:-0,1,2,3,4,5,6,7,8,9}"
workers="${WORKERS:-1}"
modes="${MODES:-stop promote}"
out="${OUT:-target/stop-first-trials}"
rm -rf "$out"; mkdir -p "$out"
echo "seed mode epochs_trained budget_spent"
for seed in ${seeds//,/ }; do
  for mode in $modes; do
    dir="$out/$seed-$mode"; mkdir -p "$dir"
    cat > "$dir/study.toml" <<TOML
name = "curve"
seed = $seed
storage = "sqlite:study.db"

[objective]
command = ["python3", "$here/curve.py", "--lr", "{lr}", "--epochs", "{budget}"]
metric = { format = "keras" }

[space]
lr = { type = "float", low = 1e-4, high = 1.0, log = true }

[algorithm]
scheduler = "hyperband"
mode = "$mode"
min_budget = 1
max_budget = 9
eta = 3
max_brackets = 3

[run]
workers = $workers
TOML
    EPOCH_LOG="$PWD/$dir/epochs.log" "$hb" run "$dir/study.toml" --json > "$dir/status.json"
    spent=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['budget_spent'])" "$dir/status.json")
    echo "$seed $mode $(wc -l < "$dir/epochs.log") $spent"
  done
done
[ -n "${SKIP_OPTUNA:-}" ] && exit 0
"${OPTUNA_PYTHON:-python3}" "$here/optuna_pruner.py" "$seeds" 17 "$workers" | sed 's/^\([0-9]*\) /\1 optuna-hyperband-pruner /; s/$/ -/'
