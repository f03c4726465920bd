#!/usr/bin/env python3
"""Peer comparison: Optuna, DEHB, HpBandSter and SMAC3 on our synthetic problems.

Runs each peer on the functions of crates/workloads/src/synthetic/peer_reference.py (the
pure-Python twin of the Rust problems) with the accounting of `hyperband bench synthetic`:

* an evaluation at budget b costs b budget units (no resume discount); a run stops once the
  cumulative cost reaches budget * max_budget (the job that crosses the limit still counts);
* the incumbent is computed here from the evaluations the peer made: the configuration with
  the best observed loss at the highest budget evaluated so far (BOHB's definition, the one
  `Study::incumbent` uses); regret = true_value(incumbent) - optimum, clipped at 0;
* seed s in 0..N-1 seeds the peer's RNG and is the `run` of the problem's noise seed; `job` is
  the 0-based evaluation counter within the run.

Prints the same JSON as `hyperband bench synthetic --json`, plus "peer_version" per method.

    run.py --problem mf-hartmann6 --budget 100 --seeds 10 \
        --methods optuna-tpe-hb,dehb,hpbandster-hb,hpbandster-bohb,smac-hb --json
"""

import argparse
import json
import logging
import math
import os
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "crates", "workloads", "src", "synthetic"))
import peer_reference as ref  # noqa: E402

METHODS = {
    # name: (distribution whose version is reported, description)
    "optuna-tpe-hb": ("optuna", "Optuna TPESampler + HyperbandPruner (ask/tell)"),
    "dehb": ("dehb", "DEHB (ask/tell)"),
    "hpbandster-hb": ("hpbandster", "HpBandSter HyperBand (random sampling)"),
    "hpbandster-bohb": ("hpbandster", "HpBandSter BOHB"),
    "smac-hb": ("smac", "SMAC3 MultiFidelityFacade (RF + Hyperband intensifier, ask/tell)"),
}


# ---------------------------------------------------------------------------------------------
# Problems: search space (same order as the Rust dims), budgets, optimum.

def problem_spec(name):
    """(dims, min_budget, max_budget, optimum); a dim is ("float", lo, hi) or ("bin",)."""
    if name == "mf-branin":
        return [("float", -5.0, 10.0), ("float", 0.0, 15.0)], 1.0, 81.0, 5.0 / (4.0 * math.pi)
    if name in ("mf-hartmann3", "mf-hartmann6"):
        d = int(name[-1])
        # Rust: unclipped_min().max(-h_max): the clip binds for d = 6 only.
        opt = {3: -3.862779787332663, 6: -3.322368}[d]
        return [("float", 0.0, 1.0)] * d, 1.0, 81.0, opt
    if name.startswith("mfh") and name[5:] in ref.PRESETS and name[3] in "36":
        d = int(name[3])
        opt = {3: -3.862779787332663, 6: -3.322368011415514}[d]
        return [("float", 0.0, 1.0)] * d, 1.0, 100.0, opt
    if name.startswith("counting-ones"):
        n_cat, n_cont = ref._counting_ones_sizes(name)
        dims = [("bin",)] * n_cat + [("float", 0.0, 1.0)] * n_cont
        return dims, 9.0, 729.0, -float(n_cat + n_cont)
    raise SystemExit(f"unknown problem {name!r}")


def dim_names(dims):
    return [f"x{i:02d}" for i in range(len(dims))]


def configspace(dims, seed):
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace(seed=seed)
    for n, d in zip(dim_names(dims), dims):
        if d[0] == "float":
            cs.add(CS.UniformFloatHyperparameter(n, lower=d[1], upper=d[2]))
        else:
            cs.add(CS.CategoricalHyperparameter(n, choices=[0, 1]))
    return cs


def to_point(dims, getter):
    return [float(getter(n)) for n in dim_names(dims)]


class BudgetExhausted(Exception):
    pass


class Run:
    """One run's evaluations, budget accounting and incumbent (computed here, not by the peer)."""

    def __init__(self, problem, seed, budget):
        self.problem = problem
        self.seed = seed
        self.dims, self.min_b, self.max_b, self.optimum = problem_spec(problem)
        self.limit = budget * self.max_b
        self.spent = 0.0
        self.job = 0
        self.inc = None  # (budget, loss, x)
        self.trace = []  # (spent / max_budget, regret) after each job

    @property
    def done(self):
        return self.spent >= self.limit * (1 - 1e-12)

    def evaluate(self, x, budget):
        if self.done:
            raise BudgetExhausted()
        budget = float(budget)
        # Peers compute rung budgets in floating point (81 * 3**-4 may come out 0.99999...).
        budget = min(max(budget, self.min_b), self.max_b)
        loss = ref.evaluate(self.problem, x, budget, self.seed, self.job)
        self.job += 1
        self.spent += budget
        tol = 1e-9 * self.max_b
        if (self.inc is None or budget > self.inc[0] + tol
                or (budget >= self.inc[0] - tol and loss < self.inc[1])):
            self.inc = (budget, loss, list(x))
        self.trace.append((self.spent / self.max_b, self.regret()))
        return loss

    def regret(self):
        return max(0.0, ref.true_value(self.problem, self.inc[2]) - self.optimum)


# ---------------------------------------------------------------------------------------------
# Peers. Each drives its optimizer with documented defaults for eta = 3 and the problem's
# min/max budget until `run.done`.

def run_optuna(run):
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    min_r, max_r = int(run.min_b), int(run.max_b)
    pruner = optuna.pruners.HyperbandPruner(min_resource=min_r, max_resource=max_r,
                                            reduction_factor=3)
    study = optuna.create_study(study_name=f"peer-seed-{run.seed}", direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=run.seed), pruner=pruner)
    names = dim_names(run.dims)
    while not run.done:
        trial = study.ask()
        x = []
        for n, d in zip(names, run.dims):
            if d[0] == "float":
                x.append(trial.suggest_float(n, d[1], d[2]))
            else:
                x.append(float(trial.suggest_categorical(n, [0, 1])))
        # A trial in bracket s is first judged at min_resource * 3**s. Optuna's documented loop
        # reports every training step, and with resumable training the steps before that rung
        # are free; without resume (our accounting) evaluating them would only waste budget,
        # so we evaluate exactly at the rungs of the trial's bracket, then at max_resource
        # (the trial's return value, as in Optuna's HyperbandPruner example).
        if not pruner._pruners:
            pruner._try_initialization(study)
        s = pruner._get_bracket_id(study, trial) if pruner._pruners else 0
        rungs = []
        r = min_r * 3 ** s
        while r < max_r:
            rungs.append(r)
            r *= 3
        pruned = False
        try:
            for r in rungs:
                loss = run.evaluate(x, r)
                trial.report(loss, r)
                if trial.should_prune():
                    study.tell(trial, state=TrialState.PRUNED)
                    pruned = True
                    break
            if not pruned:
                study.tell(trial, run.evaluate(x, max_r))
        except BudgetExhausted:
            study.tell(trial, state=TrialState.FAIL)
            break


def run_dehb(run):
    from dehb import DEHB
    from loguru import logger

    logger.remove()
    cs = configspace(run.dims, run.seed)
    with tempfile.TemporaryDirectory() as tmp:
        dehb = DEHB(cs=cs, f=lambda *a, **k: None, dimensions=len(run.dims),
                    min_fidelity=run.min_b, max_fidelity=run.max_b, eta=3, n_workers=1,
                    output_path=tmp, seed=run.seed, save_freq="end")
        while not run.done:
            job = dehb.ask()
            cfg = job["config"]
            loss = run.evaluate(to_point(run.dims, cfg.__getitem__), job["fidelity"])
            dehb.tell(job, {"fitness": loss, "cost": float(job["fidelity"])})


def run_hpbandster(run, bohb):
    import random

    import numpy as np
    import hpbandster.core.nameserver as hpns
    from hpbandster.core.worker import Worker
    from hpbandster.optimizers import BOHB, HyperBand

    logging.getLogger("hpbandster").setLevel(logging.ERROR)
    random.seed(run.seed)
    np.random.seed(run.seed)
    # Compatibility shim: HpBandSter 0.7.4 predates ConfigSpace 1.x, whose configurations hold
    # numpy scalars (numpy.int64, numpy.str_ for categoricals) that Pyro4's serpent serializer
    # rejects (the dispatcher thread dies and the run hangs). Serialize them as Python values.
    import serpent

    def as_py(obj, ser, out, level):
        ser._serialize(obj.item(), out, level)

    for t in (np.int64, np.int32, np.float64, np.str_, np.bool_):
        serpent.register_class(t, as_py)
    cs = configspace(run.dims, run.seed)
    state = {"stop": False}

    class W(Worker):
        def compute(self, config, budget, **kwargs):
            # The master stops scheduling once the budget is spent (see Stoppable below);
            # jobs already queued are answered without evaluating.
            if run.done:
                return {"loss": float("inf"), "info": {}}
            loss = run.evaluate(to_point(run.dims, config.__getitem__), budget)
            if run.done:
                state["stop"] = True
            return {"loss": loss, "info": {}}

    base = BOHB if bohb else HyperBand

    class Stoppable(base):
        def active_iterations(self):
            return [] if state["stop"] else super().active_iterations()

    run_id = f"peer-{os.getpid()}-{run.seed}"
    # port=0: a free port (None would be Pyro4's fixed 9090, which parallel runs share).
    ns = hpns.NameServer(run_id=run_id, host="127.0.0.1", port=0)
    host, port = ns.start()
    w = W(nameserver=host, nameserver_port=port, run_id=run_id)
    w.run(background=True)
    opt = Stoppable(configspace=cs, run_id=run_id, nameserver=host, nameserver_port=port,
                    min_budget=run.min_b, max_budget=run.max_b, eta=3)
    try:
        # Far more iterations than the budget allows; the stop flag ends the run.
        opt.run(n_iterations=200)
    finally:
        opt.shutdown(shutdown_workers=True)
        ns.shutdown()
    if not run.done:
        raise RuntimeError("hpbandster finished before the budget was spent")


def run_smac(run):
    from smac import MultiFidelityFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    cs = configspace(run.dims, run.seed)
    with tempfile.TemporaryDirectory() as tmp:
        # n_trials only bounds the initial design here (max_ratio 0.25 of it); it is set well
        # above the number of trials a run makes, so the design is the documented 10 per
        # hyperparameter. The run itself stops on our budget.
        scenario = Scenario(cs, n_trials=100_000, min_budget=run.min_b, max_budget=run.max_b,
                            seed=run.seed, output_directory=tmp, name=f"peer-{run.seed}")

        def train(config, seed=0, budget=None):  # required by the facade; unused (ask/tell)
            raise RuntimeError("ask/tell only")

        intensifier = MultiFidelityFacade.get_intensifier(scenario, eta=3)
        smac = MultiFidelityFacade(scenario, train, intensifier=intensifier, overwrite=True,
                                   logging_level=40)
        while not run.done:
            info = smac.ask()
            loss = run.evaluate(to_point(run.dims, info.config.__getitem__), info.budget)
            smac.tell(info, TrialValue(cost=loss))


def one(args):
    method, problem, budget, seed = args
    warnings.filterwarnings("ignore")
    run = Run(problem, seed, budget)
    t0 = time.time()
    if method == "optuna-tpe-hb":
        run_optuna(run)
    elif method == "dehb":
        run_dehb(run)
    elif method == "hpbandster-hb":
        run_hpbandster(run, bohb=False)
    elif method == "hpbandster-bohb":
        run_hpbandster(run, bohb=True)
    elif method == "smac-hb":
        run_smac(run)
    else:
        raise SystemExit(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    assert run.done, (method, run.spent, run.limit)
    return {"seed": seed, "regret": run.regret(), "jobs": run.job,
            "spent_in_R": run.spent / run.max_b, "wall_s": time.time() - t0}


def quantile(sorted_v, q):
    """Linear interpolation between order statistics (as the Rust bench)."""
    if not sorted_v:
        return float("nan")
    pos = q * (len(sorted_v) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_v[lo] + (sorted_v[hi] - sorted_v[lo]) * (pos - lo)


def version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problem", required=True)
    ap.add_argument("--budget", type=float, required=True,
                    help="total budget per run in full-budget evaluations (multiples of R)")
    ap.add_argument("--seeds", type=int, required=True)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    problem_spec(a.problem)
    methods = [m for m in a.methods.split(",") if m]
    for m in methods:
        if m not in METHODS:
            raise SystemExit(f"unknown method {m!r}; expected one of {', '.join(METHODS)}")
    rows = []
    for m in methods:
        t0 = time.time()
        tasks = [(m, a.problem, a.budget, s) for s in range(a.seeds)]
        if a.jobs > 1:
            # A fresh process per run (HpBandSter's nameserver and threads do not clean up).
            with ProcessPoolExecutor(max_workers=a.jobs, max_tasks_per_child=1) as ex:
                res = list(ex.map(one, tasks))
        else:
            res = [one(t) for t in tasks]
        finals = sorted(r["regret"] for r in res)
        rows.append({
            "method": m,
            "median_regret": quantile(finals, 0.5),
            "q25": quantile(finals, 0.25),
            "q75": quantile(finals, 0.75),
            "final_regrets": finals,
            "peer_version": f"{METHODS[m][0]} {version(METHODS[m][0])}",
            "description": METHODS[m][1],
            "seeds": a.seeds,
            "mean_jobs": sum(r["jobs"] for r in res) / len(res),
            "mean_spent_in_R": sum(r["spent_in_R"] for r in res) / len(res),
            "wall_s": round(time.time() - t0, 1),
        })
        print(f"{m}: median {rows[-1]['median_regret']:.4g} "
              f"({rows[-1]['wall_s']} s, {rows[-1]['mean_jobs']:.0f} jobs/run)", file=sys.stderr)
    out = {"problem": a.problem, "budget": a.budget, "seeds": a.seeds, "methods": rows}
    if a.json:
        print(json.dumps(out))
    else:
        for r in rows:
            print(f"{r['method']:18} {r['median_regret']:.4g} [{r['q25']:.4g}, {r['q75']:.4g}]"
                  f"  {r['peer_version']}")


if __name__ == "__main__":
    main()
