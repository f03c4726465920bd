#!/usr/bin/env bash
# One training epoch of the MNIST perceptron (784 -> H -> 10, SGD, 10,000 digits), ours
# (faer, crates/workloads/examples/mlp_epoch.rs) against PyTorch CPU (mlp_epoch.py), same
# network, batch size and thread count. The two sides alternate setting by setting and round
# by round, so that load from other processes hits both alike; the table shows, per setting,
# the median over rounds of each side's median epoch.
#
#   benches/pytorch/run.sh                      # H = 100, 1000; threads 1, 2; batch 100
#   HIDDEN=100,300 THREADS=1 BATCH=25 ROUNDS=5 benches/pytorch/run.sh
#
# The first run creates benches/pytorch/.venv and installs torch from PyPI (about 5 GB).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
HIDDEN="${HIDDEN:-100,1000}"
THREADS="${THREADS:-1,2}"
BATCH="${BATCH:-100}"
ROUNDS="${ROUNDS:-3}"
EPOCHS="${EPOCHS:-7}"

venv="$here/.venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, numpy" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi

cd "$root"
cargo build --quiet --release -p workloads --example mlp_epoch
rust_bin="$root/target/release/examples/mlp_epoch"
results="$root/target/mlp-epoch-bench.jsonl"
: > "$results"

IFS=, read -ra hs <<< "$HIDDEN"
IFS=, read -ra ts <<< "$THREADS"
for round in $(seq "$ROUNDS"); do
    for h in "${hs[@]}"; do
        for t in "${ts[@]}"; do
            args=(--hidden "$h" --threads "$t" --epochs "$EPOCHS" --batch "$BATCH")
            "$rust_bin" "${args[@]}" | tee -a "$results"
            "$venv/bin/python" "$here/mlp_epoch.py" "${args[@]}" | tee -a "$results"
        done
    done
done
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$venv/bin/python" "$here/table.py" "$results"
