"""Optuna's HyperbandPruner on the same learning curve as curve.py, in process: every trial
reports each epoch and is pruned when the pruner says so; prints the epochs trained. With a
third argument N, N trials run at once (n_jobs = N), each epoch taking EPOCH_SECONDS as in
curve.py."""
import math, os, sys, threading, time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def run(seed: int, trials: int, jobs: int) -> int:
    epochs = 0
    lock = threading.Lock()
    pause = float(os.environ.get("EPOCH_SECONDS", "0.05")) if jobs > 1 else 0.0

    def objective(trial: optuna.Trial) -> float:
        nonlocal epochs
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        val = 0.0
        for epoch in range(1, 10):
            time.sleep(pause)
            with lock:
                epochs += 1
            val = (math.log10(lr) + 2.0) ** 2 / 4.0 + 1.0 / epoch
            trial.report(val, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return val

    study = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3),
    )
    study.optimize(objective, n_trials=trials, n_jobs=jobs)
    return epochs


if __name__ == "__main__":
    for seed in map(int, sys.argv[1].split(",")):
        jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
        print(seed, run(seed, int(sys.argv[2]), jobs))
