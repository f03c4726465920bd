"""Optuna's HyperbandPruner on the same learning curve as curve.py, in process: every trial
reports each epoch and is pruned when the pruner says so; prints the epochs trained."""
import math, sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def run(seed: int, trials: int) -> int:
    epochs = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal epochs
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        val = 0.0
        for epoch in range(1, 10):
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
    study.optimize(objective, n_trials=trials)
    return epochs


if __name__ == "__main__":
    for seed in map(int, sys.argv[1].split(",")):
        print(seed, run(seed, int(sys.argv[2])))
