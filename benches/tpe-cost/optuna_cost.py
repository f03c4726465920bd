"""Proposal cost of Optuna's TPESampler, in the setting of our sampler_cost example.

    .venv/bin/python optuna_cost.py --observations 1000 --reps 20

Mirrors crates/hyperband/examples/sampler_cost.rs: the same 6-parameter space (float,
float, log-float, int, log-int, 3-way categorical), N completed observations at uniformly
random points (uniform on each parameter's scale) with the loss sum_i (u_i - 0.1 i)^2 of
their unit-cube coordinates u, all at one budget. The study is preloaded with
optuna.trial.create_trial + study.add_trials; then each timed proposal is study.ask() plus
reading the six suggested values (Optuna's TPE samples each parameter when it is
suggested, so that is where its model work happens). Asked trials are left running, so
every proposal sees the same N completed trials (TPESampler ignores running trials unless
constant_liar is set). Prints one JSON line with the medians of wall time and of this
thread's CPU time per proposal, in milliseconds.
"""

import argparse
import json
import math
import statistics
import sys
import time

import numpy as np
import optuna
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

CHOICES = ["relu", "tanh", "gelu"]


def space(kind):
    if kind == "unit":
        return {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(6)}
    return {
        "a": FloatDistribution(0.0, 1.0),
        "b": FloatDistribution(-5.0, 5.0),
        "lr": FloatDistribution(1e-5, 1e-1, log=True),
        "layers": IntDistribution(1, 8),
        "hidden": IntDistribution(8, 1024, log=True),
        "act": CategoricalDistribution(CHOICES),
    }


def from_unit(dist, u):
    """A value uniform on the parameter's scale from u in [0, 1), and its unit coordinate
    the way our Space::to_unit computes it (ints at cell centres, categoricals at i + 0.5)."""
    if isinstance(dist, CategoricalDistribution):
        n = len(dist.choices)
        i = min(int(u * n), n - 1)
        return dist.choices[i], (i + 0.5) / n
    if isinstance(dist, IntDistribution):
        lo, hi = dist.low - 0.5, dist.high + 0.5
        if dist.log:
            t = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        else:
            t = lo + u * (hi - lo)
        x = min(max(int(round(t)), dist.low), dist.high)
        if dist.log:
            c = (math.log(x - 0.5) + math.log(x + 0.5)) / 2
            return x, (c - math.log(lo)) / (math.log(hi) - math.log(lo))
        return x, (x - lo) / (hi - lo)
    if dist.log:
        lo, hi = math.log(dist.low), math.log(dist.high)
        return min(max(math.exp(lo + u * (hi - lo)), dist.low), dist.high), u
    return dist.low + u * (dist.high - dist.low), u


def suggest(trial, name, dist):
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log)
    return trial.suggest_float(name, dist.low, dist.high, log=dist.log)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--observations", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--space", choices=["mixed", "unit"], default="mixed")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = space(args.space)
    rng = np.random.default_rng(args.seed)
    trials = []
    for _ in range(args.observations):
        params, units = {}, []
        for name, dist in dists.items():
            params[name], u = from_unit(dist, float(rng.random()))
            units.append(u)
        loss = sum((u - 0.1 * i) ** 2 for i, u in enumerate(units))
        trials.append(
            optuna.trial.create_trial(params=params, distributions=dists, value=loss)
        )
    # Optuna's defaults (n_startup_trials=10, n_ei_candidates=24, independent sampling);
    # a fixed seed so runs repeat.
    sampler = optuna.samplers.TPESampler(seed=7)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.add_trials(trials)

    wall, cpu = [], []
    for _ in range(args.reps):
        t0, c0 = time.perf_counter(), time.thread_time()
        trial = study.ask()
        config = [suggest(trial, name, dist) for name, dist in dists.items()]
        cpu.append((time.thread_time() - c0) * 1e3)
        wall.append((time.perf_counter() - t0) * 1e3)
        assert len(config) == 6
    print(
        json.dumps(
            {
                "sampler": "optuna-tpe",
                "observations": args.observations,
                "space": args.space,
                "reps": args.reps,
                "median_ms": statistics.median(wall),
                "median_cpu_ms": statistics.median(cpu),
                "max_ms": max(wall),
                "version": optuna.__version__,
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
