#!/usr/bin/env bash
# Store throughput, ours (`hyperband bench storage`) against Optuna's RDB storage
# (throughput.py), same worker processes and seconds, alternating runs:
# PostgreSQL with 32 worker processes and SQLite with 8.
#
#   benches/optuna-storage/run.sh             # 2 repetitions each, 8 s per run (~3 minutes)
#   REPS=3 SECONDS_PER_RUN=10 benches/optuna-storage/run.sh
#
# Knobs (environment): REPS (2), SECONDS_PER_RUN (8), PG_WORKERS (32), SQLITE_WORKERS (8),
# HB (./target/release/hyperband; not rebuilt here), PY (benches/peers/.venv/bin/python),
# PG_URL (postgres://postgres@127.0.0.1:5432/test; Optuna gets the same database through
# postgresql+psycopg2), SETTINGS ("postgres sqlite"; add sqlite-wal for Optuna's SQLite with
# our settings, WAL and synchronous = NORMAL, instead of its defaults),
# OUT (benches/optuna-storage/results.jsonl).
# Every run's JSON goes to OUT, one line each, with "system": "ours" or "optuna" and "setting".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

REPS="${REPS:-2}"
SECS="${SECONDS_PER_RUN:-8}"
PG_WORKERS="${PG_WORKERS:-32}"
SQLITE_WORKERS="${SQLITE_WORKERS:-8}"
HB="${HB:-$root/target/release/hyperband}"
PY="${PY:-$root/benches/peers/.venv/bin/python}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
SETTINGS="${SETTINGS:-postgres sqlite}"
OUT="${OUT:-$here/results.jsonl}"

[ -x "$HB" ] || { echo "no $HB: cargo build --release -p hyperband-cli" >&2; exit 1; }
"$PY" -c "import optuna, psycopg2" || {
  echo "$PY lacks optuna or psycopg2: pip install -r benches/peers/requirements.txt" >&2; exit 1; }
optuna_pg_url="postgresql+psycopg2://${PG_URL#postgres://}"
optuna_pg_url="${optuna_pg_url%%\?*}"   # our ?schema=NAME means nothing to Optuna

: > "$OUT"
tag() { "$PY" -c 'import json,sys; r=json.loads(sys.stdin.read().strip().splitlines()[-1]); r["system"]=sys.argv[1]; r["rep"]=int(sys.argv[2]); r["setting"]=sys.argv[3]; print(json.dumps(r))' "$@"; }

for setting in $SETTINGS; do
  case "$setting" in
    postgres) workers=$PG_WORKERS ;;
    sqlite|sqlite-wal) workers=$SQLITE_WORKERS ;;
    *) echo "unknown setting $setting" >&2; exit 1 ;;
  esac
  for rep in $(seq 1 "$REPS"); do
    if [ "$setting" = postgres ]; then
      ours_url="$PG_URL"
    else
      db="$(mktemp -u /tmp/hb-throughput-XXXXXX).db"
      ours_url="sqlite:$db"
    fi
    echo "== $setting, $workers workers, ${SECS}s, repetition $rep: ours" >&2
    "$HB" bench storage --storage "$ours_url" --workers "$workers" --seconds "$SECS" --json \
      | tag ours "$rep" "$setting" | tee -a "$OUT" >&2
    [ "$setting" != postgres ] && rm -f "$db" "$db-wal" "$db-shm"
    echo "== $setting, $workers workers, ${SECS}s, repetition $rep: optuna" >&2
    if [ "$setting" = postgres ]; then
      o=(--storage postgresql --url "$optuna_pg_url")
    elif [ "$setting" = sqlite ]; then
      o=(--storage sqlite)
    else
      o=(--storage sqlite --sqlite-wal)
    fi
    # A worker error still prints the JSON (with worker_errors) and exits 1; keep going.
    { "$PY" "$here/throughput.py" "${o[@]}" --workers "$workers" --seconds "$SECS" --json || true; } \
      | tag optuna "$rep" "$setting" | tee -a "$OUT" >&2
  done
done

"$PY" - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| store | worker processes | ours jobs/s (runs) | Optuna trials/s (runs) | ratio (ours / Optuna) | lost, duplicated (ours; Optuna) |")
print("|---|---:|---:|---:|---:|---|")
for s in dict.fromkeys(r["setting"] for r in rows):
    ours = [r for r in rows if r["setting"] == s and r["system"] == "ours"]
    opt = [r for r in rows if r["setting"] == s and r["system"] == "optuna"]
    if not ours or not opt:
        continue
    mo = statistics.median(r["jobs_per_second"] for r in ours)
    mp = statistics.median(r["jobs_per_second"] for r in opt)
    runs = lambda rs: ", ".join(f"{r['jobs_per_second']:,.0f}" for r in rs)
    ld = lambda rs: f"{sum(r['lost'] for r in rs)}, {sum(r['duplicated'] for r in rs)}"
    errs = sum(len(r.get("worker_errors", [])) for r in opt)
    name = {"postgres": "PostgreSQL", "sqlite": "SQLite",
            "sqlite-wal": "SQLite, Optuna with WAL + synchronous = NORMAL"}[s]
    ratio = f"{mo / mp:.1f}x" if mp > 0 else "n/a"
    note = f" ({errs} Optuna worker errors)" if errs else ""
    print(f"| {name} | {ours[0]['workers']} | {mo:,.0f} ({runs(ours)}) | {mp:,.0f} ({runs(opt)}) | {ratio} | {ld(ours)}; {ld(opt)}{note} |")
print("\nmedian of the runs; ratio = median ours / median Optuna")
EOF
