#!/usr/bin/env bash
# CPU per job of `hyperband bench storage`, split between the PostgreSQL server processes
# and our worker processes: `perf record -a` at 1 kHz during one run, samples per process
# name divided by the jobs the run finished. Needs perf and a built release binary.
#
#   benches/store-cpu/run.sh [WORKERS] [SECONDS] [STORAGE_URL]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
workers="${1:-32}"
seconds="${2:-5}"
url="${3:-postgres://postgres@127.0.0.1:5432/test}"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
perf record -q -F 1000 -a -o "$data/perf.data" -- \
  "$root/target/release/hyperband" bench storage --storage "$url" \
  --workers "$workers" --seconds "$seconds" --json > "$data/run.json" 2>/dev/null
perf report -i "$data/perf.data" --no-children --sort comm -F sample,comm --stdio -g none \
  2>/dev/null | grep -v '^#' | grep -v '^$' > "$data/comm.txt"
python3 - "$data" <<'PY'
import json, sys
d = sys.argv[1]
run = json.load(open(f"{d}/run.json"))
samples = {}
for line in open(f"{d}/comm.txt"):
    parts = line.split(None, 1)
    if len(parts) == 2:
        samples[parts[1].strip()] = samples.get(parts[1].strip(), 0) + int(parts[0])
jobs = run["jobs"]
pg, hb = samples.get("postgres", 0), samples.get("hyperband", 0)
other = sum(samples.values()) - pg - hb
print(f"{run['storage']}, {run['workers']} workers: {jobs} jobs, {run['jobs_per_second']:.0f} jobs/s; "
      f"CPU per job: postgres {pg / jobs:.3f} ms, workers {hb / jobs:.3f} ms; "
      f"other processes {other / 1000:.1f} CPU-s during the run")
PY
