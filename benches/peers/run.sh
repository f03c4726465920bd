#!/usr/bin/env bash
# Ours against the peers (Optuna, DEHB, HpBandSter, SMAC3) on the synthetic problems.
# Writes benches/peers/results/*.json and benches/peers/results.md, prints the tables.
#
#   benches/peers/run.sh                 # everything (about an hour on 2 busy cores)
#   PROBLEMS="mf-branin" benches/peers/run.sh
#
# Knobs (environment): SEEDS (10), JOBS (parallel runs per peer, 2), PROBLEMS, PEERS,
# REPORT_ONLY=1 (only rebuild results.md from results/*.json),
# and per-peer seed caps for the slow ones: SMAC_SEEDS (default 10), HPB_SEEDS (default 10).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

SEEDS="${SEEDS:-10}"
JOBS="${JOBS:-2}"
PROBLEMS="${PROBLEMS:-mf-hartmann6 mf-branin counting-ones mfh6-bad mfh6-terrible}"
PEERS="${PEERS:-optuna-tpe-hb dehb hpbandster-hb hpbandster-bohb smac-hb}"
SMAC_SEEDS="${SMAC_SEEDS:-$SEEDS}"
HPB_SEEDS="${HPB_SEEDS:-$SEEDS}"
OURS="random,random-2x,gp,hyperband,bohb,asha,asha-tpe"

venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ "${REPORT_ONLY:-0}" != 1 ]; then
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
  cargo build --release -q -p hyperband-cli
fi

# Budget per run in full-budget evaluations (multiples of max_budget).
budget_of() {
  case "$1" in
    counting-ones*) echo 50 ;;   # 50 x 729 = 36,450 Bernoulli-sample units (see results.md)
    *) echo 100 ;;               # 100 x 81 = 8,100 (mf-*), 100 x 100 = 10,000 (mfh*)
  esac
}
seeds_of() {
  case "$1" in
    smac-hb) echo "$SMAC_SEEDS" ;;
    hpbandster-*) echo "$HPB_SEEDS" ;;
    *) echo "$SEEDS" ;;
  esac
}

out="$here/results"
mkdir -p "$out"
for p in $PROBLEMS; do
  [ "${REPORT_ONLY:-0}" = 1 ] && break
  b="$(budget_of "$p")"
  echo "== $p (budget $b x R, $SEEDS seeds)" >&2
  cmd="./target/release/hyperband bench synthetic --problem $p --budget $b --seeds $SEEDS --methods $OURS --out out/bench/peers-$p --json"
  echo "\$ $cmd" >&2
  start=$SECONDS
  $cmd > "$out/$p-ours.json.tmp"
  # Ours has no wall-clock field; add it (all methods, all seeds together).
  "$venv/bin/python" - "$out/$p-ours.json.tmp" "$((SECONDS - start))" "$cmd" > "$out/$p-ours.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["command"] = sys.argv[3]
d["wall_s_all_methods"] = int(sys.argv[2])
print(json.dumps(d))
PY
  rm -f "$out/$p-ours.json.tmp"
  # Hyperband's guarantee: within (s_max + 1) x of random search; s_max = 4 on every problem
  # here (eta = 3; 81/1, 100/1 and 729/9), so random search at budget / 5 is the yardstick.
  cmd="./target/release/hyperband bench synthetic --problem $p --budget $(python3 -c "print($b/5)") --seeds $SEEDS --methods random --out out/bench/peers-$p-random-fifth --json"
  echo "\$ $cmd" >&2
  $cmd > "$out/$p-ours-random-fifth.json"
  for m in $PEERS; do
    n="$(seeds_of "$m")"
    cmd="benches/peers/.venv/bin/python benches/peers/run.py --problem $p --budget $b --seeds $n --methods $m --jobs $JOBS --json"
    echo "\$ $cmd" >&2
    if $cmd > "$out/$p-peer-$m.json.tmp"; then
      mv "$out/$p-peer-$m.json.tmp" "$out/$p-peer-$m.json"
    else
      echo "peer $m failed on $p (see stderr above)" >&2
      rm -f "$out/$p-peer-$m.json.tmp"
    fi
  done
done

{
  echo "# Peer comparison: results"
  echo
  echo "Produced by \`benches/peers/run.sh\` (SEEDS=$SEEDS SMAC_SEEDS=$SMAC_SEEDS HPB_SEEDS=$HPB_SEEDS JOBS=$JOBS) on $(date -u +%Y-%m-%d)"
  echo "at commit $(git rev-parse --short HEAD). Regret = noise-free full-fidelity value of the"
  echo "incumbent (best loss at the highest budget evaluated) minus the optimum, after the run"
  echo "spent budget x max_budget budget units (each evaluation at budget b costs b)."
  echo "Peer versions: $("$venv/bin/python" -c 'from importlib.metadata import version as v; print(", ".join(f"{d} {v(d)}" for d in ["optuna","DEHB","hpbandster","smac","ConfigSpace"]))')."
  echo
  for p in $PROBLEMS; do
    "$venv/bin/python" "$here/report.py" "$out" "$p"
    echo "Commands: \`$(
      "$venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["command"])' "$out/$p-ours.json"
    )\`; peers: \`benches/peers/.venv/bin/python benches/peers/run.py --problem $p --budget $(budget_of "$p") --seeds N --methods M --jobs $JOBS --json\`"
    echo
  done
} > "$here/results.md"
cat "$here/results.md"
