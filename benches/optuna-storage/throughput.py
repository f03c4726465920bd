#!/usr/bin/env python3
"""Optuna's RDB storage throughput with N worker processes on one study.

The Optuna side of `hyperband bench storage`: a fresh study (RandomSampler, a unique name),
N worker processes (multiprocessing, spawn), each with its own `optuna.load_study` and its
own storage connection, each running `study.optimize(objective, timeout=S)` on a near-free
objective (MF-Branin's full-fidelity function of two suggested floats). Afterwards:

- jobs: COMPLETE trials;
- jobs_per_second: jobs / (last COMPLETE trial's datetime_complete - first trial's
  datetime_start), the same definition as ours (finished jobs / (last end - first issue));
- lost: trials left RUNNING or FAIL after every worker stopped;
- duplicated: trials sharing a trial number with another trial of the study.

    benches/peers/.venv/bin/python benches/optuna-storage/throughput.py \
        --storage postgresql --workers 32 --seconds 8 --json

PostgreSQL: postgresql+psycopg2://postgres@127.0.0.1:5432/test (override with --url).
SQLite: a fresh file under /tmp, Optuna's defaults (rollback journal, synchronous = FULL),
or with --sqlite-wal our settings (WAL, synchronous = NORMAL).
The workers load the study, then wait for every other worker before starting, so the
interpreter start-up of 32 processes is not inside the measured span.
"""

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def branin(x, y):
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5.0 / math.pi
    r, s, t = 6.0, 10.0, 1.0 / (8 * math.pi)
    return a * (y - b * x * x + c * x - r) ** 2 + s * (1 - t) * math.cos(x) + s


def objective(trial):
    x = trial.suggest_float("x", -5.0, 10.0)
    y = trial.suggest_float("y", 0.0, 15.0)
    return branin(x, y)


def open_storage(url, sqlite_wal):
    import optuna

    storage = optuna.storages.RDBStorage(url)
    if sqlite_wal:
        # Our SQLite settings: WAL (persistent in the file, set by the parent) and
        # synchronous = NORMAL (per connection, so on every connection from now on).
        import sqlalchemy

        def on_connect(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")

        sqlalchemy.event.listen(storage.engine, "connect", on_connect)
        storage.remove_session()
        storage.engine.dispose()
    return storage


def worker(url, study_name, seed, seconds, sqlite_wal, ready, go, errors):
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = open_storage(url, sqlite_wal)
        study = optuna.load_study(
            study_name=study_name,
            storage=storage,
            sampler=optuna.samplers.RandomSampler(seed=seed),
        )
    except Exception as e:  # noqa: BLE001 - reported by the parent
        errors.put(f"load: {type(e).__name__}: {e}")
        ready.release()
        return
    ready.release()
    go.wait()
    try:
        # catch=() : a storage error ends the worker and is reported, not swallowed.
        study.optimize(objective, timeout=seconds)
    except Exception as e:  # noqa: BLE001
        errors.put(f"optimize: {type(e).__name__}: {e}")
    finally:
        storage.remove_session()
        storage.engine.dispose()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--storage", choices=["postgresql", "sqlite"], required=True)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="override the storage URL")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--sqlite-wal",
        action="store_true",
        help="SQLite with our settings (WAL, synchronous = NORMAL) instead of Optuna's defaults",
    )
    ap.add_argument("--keep", action="store_true", help="keep the study (deleted by default)")
    args = ap.parse_args()

    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    db_file = None
    if args.url:
        url = args.url
    elif args.storage == "postgresql":
        url = PG_URL
    else:
        fd, db_file = tempfile.mkstemp(prefix="optuna-throughput-", suffix=".db", dir="/tmp")
        os.close(fd)
        os.unlink(db_file)  # let SQLAlchemy create it
        url = f"sqlite:///{db_file}"
        if args.sqlite_wal:
            import sqlite3

            con = sqlite3.connect(db_file)
            con.execute("PRAGMA journal_mode = WAL")
            con.close()
    name = f"optuna-throughput-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    storage = optuna.storages.RDBStorage(url)
    optuna.create_study(study_name=name, storage=storage, direction="minimize")
    storage.remove_session()
    storage.engine.dispose()

    ctx = mp.get_context("spawn")
    ready = ctx.Semaphore(0)
    go = ctx.Event()
    errors = ctx.Queue()
    procs = [
        ctx.Process(
            target=worker,
            args=(url, name, args.seed + i, args.seconds, args.sqlite_wal, ready, go, errors),
        )
        for i in range(max(1, args.workers))
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    go.set()
    for p in procs:
        p.join()
    failures = []
    while True:
        try:
            failures.append(errors.get(timeout=0.2))
        except Exception:  # noqa: BLE001 - queue.Empty
            break
    failures += [f"exit code {p.exitcode}" for p in procs if p.exitcode != 0]

    storage = optuna.storages.RDBStorage(url)
    study = optuna.load_study(study_name=name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    lost = sum(1 for t in trials if t.state in (TrialState.RUNNING, TrialState.FAIL))
    numbers = [t.number for t in trials]
    duplicated = len(numbers) - len(set(numbers))
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in complete if t.datetime_complete is not None]
    if starts and ends:
        seconds = max((max(ends) - min(starts)).total_seconds(), 1e-9)
    else:
        seconds = float("nan")
    report = {
        "storage": args.storage,
        "sqlite_wal": bool(args.sqlite_wal),
        "workers": args.workers,
        "jobs": len(complete),
        "seconds": seconds,
        "jobs_per_second": len(complete) / seconds if complete else 0.0,
        "lost": lost,
        "duplicated": duplicated,
        "trials": len(trials),
        "worker_errors": failures,
        "optuna": optuna.__version__,
        "study": name,
    }
    if not args.keep:
        optuna.delete_study(study_name=name, storage=storage)
    storage.remove_session()
    storage.engine.dispose()
    for f in [db_file, f"{db_file}-wal", f"{db_file}-shm"] if db_file and not args.keep else []:
        if os.path.exists(f):
            os.unlink(f)
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"optuna {optuna.__version__} {args.storage} with {args.workers} worker processes: "
            f"{len(complete)} trials in {seconds:.1f} s = {report['jobs_per_second']:.0f} "
            f"trials/s; lost {lost}, duplicated {duplicated}"
        )
        for f in failures:
            print(f"worker error: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
