#!/usr/bin/env bash
# Tune main.py (pytorch/examples mnist/main.py's structure, on the bundled digits) with
# Hyperband in promote mode and in stop mode, side by side: for each study seed, each mode
# gets a fresh store under $OUT, is timed, and its `status` and `best --json` are printed;
# then a table: wall seconds, CPU seconds, budget spent, epochs the jobs printed, trials,
# best test loss (issue 22).
#
#   benches/pytorch-mnist/run.sh                   # seed 1, both modes
#   SEEDS=1,2 benches/pytorch-mnist/run.sh
#   PYTHON=/path/to/python-with-torch MODES=stop benches/pytorch-mnist/run.sh
#
# PYTHON: an interpreter with torch (default target/framework-venv/bin/python, made by
# benches/framework-output/capture.sh); HYPERBAND: the binary (default: built here, release).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
SEEDS="${SEEDS:-1}"
MODES="${MODES:-promote,stop}"
OUT="${OUT:-$root/target/pytorch-mnist}"
PYTHON="${PYTHON:-$root/target/framework-venv/bin/python}"
case "$PYTHON" in /*) ;; *) PYTHON="$(command -v "$PYTHON" || echo "$PWD/$PYTHON")" ;; esac
if ! "$PYTHON" -c "import torch, numpy" 2>/dev/null; then
    echo "run.sh: $PYTHON cannot import torch and numpy (set PYTHON, or run benches/framework-output/capture.sh)" >&2
    exit 2
fi
if [ -z "${HYPERBAND:-}" ]; then
    (cd "$root" && cargo build --quiet --release -p hyperband-cli)
    HYPERBAND="$root/target/release/hyperband"
fi

IFS=, read -ra seeds <<< "$SEEDS"
IFS=, read -ra modes <<< "$MODES"
mkdir -p "$OUT"
summary="$OUT/summary.jsonl"
: > "$summary"
for seed in "${seeds[@]}"; do
    for mode in "${modes[@]}"; do
        dir="$OUT/seed$seed/$mode"
        rm -rf "$dir"
        mkdir -p "$dir"
        # The committed study file, with this interpreter, this script's path and this seed.
        sed -e "s#\"python3\", \"main.py\"#\"$PYTHON\", \"$here/main.py\"#" \
            -e "s/^seed = .*/seed = $seed/" "$here/$mode.toml" > "$dir/study.toml"
        "$HYPERBAND" schedule --min-budget 1 --max-budget 9 --eta 3 > "$dir/schedule.txt"   # the files' plan
        echo "== seed $seed, $mode: $HYPERBAND run $dir/study.toml"
        start=$(date +%s.%N)
        set +e
        /usr/bin/time -v -o "$dir/time.txt" "$HYPERBAND" run "$dir/study.toml" > "$dir/run.log" 2>&1
        rc=$?
        set -e
        end=$(date +%s.%N)
        tail -n 5 "$dir/run.log"
        "$HYPERBAND" status "$dir/study.toml" | tee "$dir/status.txt"
        "$HYPERBAND" status "$dir/study.toml" --json > "$dir/status.json"
        "$HYPERBAND" best "$dir/study.toml" --json | tee "$dir/best.json" || echo '{}' > "$dir/best.json"
        "$HYPERBAND" export "$dir/study.toml" --json > "$dir/jobs.json"
        "$PYTHON" "$here/summary.py" row --dir "$dir" --mode "$mode" --seed "$seed" --rc "$rc" \
            --start "$start" --end "$end" | tee -a "$summary"
    done
done
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $("$HYPERBAND" --version) (commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)), $("$PYTHON" -c 'import sys, torch; print("Python", sys.version.split()[0] + ", torch", torch.__version__)')"
"$PYTHON" "$here/summary.py" table "$summary"
