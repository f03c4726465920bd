#!/usr/bin/env bash
# TPE proposal cost side by side (issue 5): our Tpe, Optuna's TPESampler and the Rust
# `optimizer` crate's TpeSampler, d = 6, at 1,000 and 10,000 observations, in one run, on
# two spaces: "mixed" (the space of crates/hyperband/examples/sampler_cost.rs: float, float,
# log-float, int, log-int, categorical) and "unit" (six floats in [0, 1]; ours from the
# standalone ours-unit/ project, which is that example with the space swapped).
#
#   benches/tpe-cost/run.sh            # from the repository root
#   PYTHON=/path/to/python benches/tpe-cost/run.sh   # reuse an interpreter with optuna==5.0.0
#
# Prints a markdown table (medians per proposal; ratios theirs / ours) and keeps the raw
# lines in benches/tpe-cost/results/ (ignored by git).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/results"
mkdir -p "$out"

py="${PYTHON:-}"
if [ -z "$py" ]; then
    if [ ! -x "$here/.venv/bin/python" ]; then
        python3 -m venv "$here/.venv"
        "$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
    fi
    py="$here/.venv/bin/python"
fi

# Build everything first so that no build competes with a measurement.
(cd "$root" && cargo build -q --release -p hyperband --example sampler_cost)
# ours-unit resolves our crate's dependencies exactly as the workspace does.
cp "$root/Cargo.lock" "$here/ours-unit/Cargo.lock"
cargo build -q --release --manifest-path "$here/ours-unit/Cargo.toml"
cargo build -q --release --manifest-path "$here/optimizer-crate/Cargo.toml"
"$py" -c 'import optuna' >/dev/null

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
raw="$out/raw.txt"
: >"$raw"
# Ours: the example's own 200 proposals per size (it also times the GP; those lines are
# kept in the raw file but not tabulated).
(cd "$root" && cargo run -q --release -p hyperband --example sampler_cost) | sed 's/^/ours: /' >>"$raw"
for n in 1000 10000; do
    "$here/ours-unit/target/release/ours-unit-tpe-cost" --observations "$n" --reps 200 >>"$raw"
    for space in mixed unit; do
        "$here/optimizer-crate/target/release/optimizer-tpe-cost" --space "$space" --observations "$n" --reps 200 >>"$raw"
        "$py" "$here/optuna_cost.py" --space "$space" --observations "$n" --reps 20 >>"$raw"
    done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

LOAD_BEFORE="$load_before" LOAD_AFTER="$load_after" NPROC="$(nproc)" python3 - "$raw" <<'PY'
import json, os, re, sys
ours, peers = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"ours: tpe\s+n =\s*(\d+), d = 6: median\s*([\d.]+) ms wall,\s*([\d.]+) ms CPU", line)
    if m:
        ours[("mixed", int(m[1]))] = (float(m[2]), float(m[3]))
    elif line.startswith("{"):
        r = json.loads(line)
        t = (r["median_ms"], r["median_cpu_ms"])
        if r["sampler"] == "ours-tpe":
            ours[(r["space"], r["observations"])] = t
        else:
            peers[(r["sampler"], r["space"], r["observations"])] = t
print("| space | observations | ours `Tpe` (200 reps) | optimizer 1.0.1 `TpeSampler` (200 reps) | Optuna 5.0.0 `TPESampler` (20 reps) | optimizer / ours | Optuna / ours |")
print("|---|---:|---:|---:|---:|---:|---:|")
for space, n in sorted(ours):
    o = ours[(space, n)]
    z = peers[("optimizer-tpe", space, n)]
    p = peers[("optuna-tpe", space, n)]
    cell = lambda w, c: f"{w:.3f} ms wall, {c:.3f} ms CPU"
    ratio = lambda t: f"{t[0] / o[0]:.0f}x wall, {t[1] / o[1]:.0f}x CPU"
    print(f"| {space} | {n:,} | {cell(*o)} | {cell(z[0], z[1])} | {cell(p[0], p[1])} | {ratio(z)} | {ratio(p)} |")
print()
print(f"Medians of wall and thread-CPU time per proposal, d = 6. "
      f"Load average (1, 5, 15 min) before: {os.environ['LOAD_BEFORE']}, after: {os.environ['LOAD_AFTER']}; "
      f"{os.environ['NPROC']} CPUs.")
PY
