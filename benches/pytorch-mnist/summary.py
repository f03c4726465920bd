"""The side-by-side table of benches/pytorch-mnist/run.sh.

    summary.py row --dir RUN_DIR --mode MODE --seed S --rc RC --start T0 --end T1
        one JSON line for a finished study: wall and CPU seconds (/usr/bin/time -v of
        `hyperband run`, children included), budget spent, trials, jobs and failures
        (`status --json`), the best test loss (`best --json`), the epochs the jobs printed
        (`Test set:` lines in the job logs), and a check that every stored value is one the
        program printed for that job at that epoch.
    summary.py table SUMMARY.jsonl
        the markdown table of those lines.
"""
import argparse
import glob
import json
import os
import re
import sys

TEST = re.compile(r"^Test set: Average loss: ([-+0-9.eEnaif]+)")
EPOCH = re.compile(r"^Train Epoch: (\d+) ")


def time_v(path):
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path):
        key, _, value = line.strip().rpartition(": ")
        if key == "User time (seconds)":
            out["user"] = float(value)
        elif key == "System time (seconds)":
            out["sys"] = float(value)
        elif key == "Exit status":
            out["exit"] = int(value)
    return out


def curve(path):
    """(epoch, printed test loss) pairs of one job log, in order."""
    epoch, points = None, []
    with open(path, errors="replace") as f:
        for line in f:
            m = EPOCH.match(line)
            if m:
                epoch = int(m.group(1))
            m = TEST.match(line)
            if m:
                points.append((epoch, float(m.group(1))))
    return points


def row(args):
    d = args.dir
    status = json.load(open(os.path.join(d, "status.json")))
    try:
        best = json.load(open(os.path.join(d, "best.json")))
    except ValueError:
        best = {}
    jobs = json.load(open(os.path.join(d, "jobs.json")))
    logs = sorted(p for p in glob.glob(os.path.join(d, "*-runs", "*", "logs", "**", "*"),
                                       recursive=True) if os.path.isfile(p))
    curves = {p: curve(p) for p in logs}
    printed = sum(len(c) for c in curves.values())
    # Every stored value must be the one the program printed at that budget: a job's log is
    # job-ID.stdout; in stop mode a trial's rungs are jobs of one program, logged under the
    # trial's first job.
    first_job = {}
    for j in jobs:
        first_job.setdefault(j["trial"], j["job"])
    by_name = {os.path.basename(p): p for p in logs}
    mismatches = []
    for j in jobs:
        if j["state"] != "finished":
            continue
        log = by_name.get("job-{}.stdout".format(j["job"])) or \
            by_name.get("job-{}.stdout".format(first_job[j["trial"]]))
        at = [loss for epoch, loss in curves.get(log, []) if epoch == int(round(j["budget"]))]
        if not at or round(at[-1], 4) != round(j["loss"], 4):
            mismatches.append(j["job"])
    brackets = {}
    for j in jobs:
        brackets[j["bracket"]] = brackets.get(j["bracket"], 0.0) + (j["cost"] or 0.0)
    t = time_v(os.path.join(d, "time.txt"))
    failures = [f["reason"] for f in status.get("failures", [])]
    out = {
        "seed": args.seed,
        "mode": args.mode,
        "rc": args.rc,
        "wall_s": round(args.end - args.start, 1),
        "cpu_s": round(t.get("user", 0.0) + t.get("sys", 0.0), 1),
        "budget_spent": status["budget_spent"],
        "epochs_printed": printed,
        "spent_by_bracket": [brackets[b] for b in sorted(brackets)],
        "trials": status["trials"],
        "jobs": status["jobs"],
        "failed": status["failed"],
        "lost": status["lost"],
        "processes": len([p for p in logs if curves[p] or "stdout" in os.path.basename(p)]),
        "best_loss": best.get("loss"),
        "best_budget": best.get("budget"),
        "best_config": best.get("config"),
        "stored_not_printed": mismatches,
        "failures": failures,
        "logs": len(logs),
    }
    print(json.dumps(out))


def fmt(v, digits=1):
    return "-" if v is None else ("{:.%df}" % digits).format(v)


def table(args):
    rows = [json.loads(l) for l in open(args.summary) if l.strip()]
    print("| seed | mode | wall s | CPU s | budget spent (epochs) | by bracket | epochs printed | trials | processes | jobs (failed, lost) | best test loss | at epoch | best lr, gamma, batch |")
    print("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        c = r["best_config"] or {}
        cfg = "-" if not c else "{:.3g}, {:.3g}, {}".format(c.get("lr"), c.get("gamma"), c.get("batch_size"))
        print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}, {}) | {} | {} | {} |".format(
            r["seed"], r["mode"], fmt(r["wall_s"]), fmt(r["cpu_s"]), fmt(r["budget_spent"], 0),
            "/".join(fmt(b, 0) for b in r["spent_by_bracket"]),
            r["epochs_printed"], r["trials"], r["processes"], r["jobs"], r["failed"], r["lost"], fmt(r["best_loss"], 4),
            fmt(r["best_budget"], 0), cfg))
    modes = sorted({r["mode"] for r in rows})
    if len(rows) > len(modes):
        print()
        print("| mode | seeds | mean wall s | mean CPU s | mean budget spent | mean epochs printed | mean best test loss |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for m in modes:
            rs = [r for r in rows if r["mode"] == m]
            mean = lambda k: sum(r[k] for r in rs if r[k] is not None) / max(1, len([r for r in rs if r[k] is not None]))
            print("| {} | {} | {} | {} | {} | {} | {} |".format(
                m, len(rs), fmt(mean("wall_s")), fmt(mean("cpu_s")), fmt(mean("budget_spent")),
                fmt(mean("epochs_printed")), fmt(mean("best_loss"), 4)))
    bad = [r for r in rows if r["stored_not_printed"] or r["rc"] != 0 or r["failures"]
           or r["lost"] or r["epochs_printed"] != round(r["budget_spent"])]
    for r in bad:
        print("seed {} {}: exit {}, {} lost jobs, {} epochs printed for {} spent, stored values "
              "not printed at their epoch: jobs {}, failures: {}".format(
                  r["seed"], r["mode"], r["rc"], r["lost"], r["epochs_printed"],
                  fmt(r["budget_spent"], 0), r["stored_not_printed"], r["failures"]))
    if not any(r["stored_not_printed"] for r in rows):
        print("every stored value is the one its program printed at that epoch")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("row")
    r.add_argument("--dir", required=True)
    r.add_argument("--mode", required=True)
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--rc", type=int, required=True)
    r.add_argument("--start", type=float, required=True)
    r.add_argument("--end", type=float, required=True)
    t = sub.add_parser("table")
    t.add_argument("summary")
    args = p.parse_args()
    row(args) if args.cmd == "row" else table(args)


if __name__ == "__main__":
    sys.exit(main())
