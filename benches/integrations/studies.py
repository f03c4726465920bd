"""One small stop-mode study per framework, each trained through its
hyperband.integration callback; checks that the study stopped trials early through the
callback and found a finite best, and prints a summary (benches/integrations/run.sh).

    python benches/integrations/studies.py                 # every framework
    python benches/integrations/studies.py keras lightning --trials 6

Tiny models on small synthetic (or scikit-learn) data, a few seconds a trial on a CPU. Each
study is ASHA in stop mode: one job per trial, with the study's max budget as its target,
stopped by the study at a rung (1, 3, 9 epochs; 1, 3, 9, 27 boosting rounds) unless
promoted. The objective counts the epochs or rounds it actually trained; the check is that
this count is the step the callback reported last, for every trial.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np

import hyperband

Run = Dict[str, Any]  # per trial: trained (epochs or rounds), last_step, stopped, value


def synthetic(n: int = 512, d: int = 16, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """A binary task that a small network learns in a few epochs, not in one."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    w = rng.normal(size=(d,)).astype(np.float32)
    y = ((x @ w) + 0.5 * np.sin(3 * x[:, 0]) > 0).astype(np.float32)
    return x, y


def split(x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, ...]:
    k = len(x) * 3 // 4
    return x[:k], y[:k], x[k:], y[k:]


def nn_space() -> hyperband.Space:
    return hyperband.Space().float("lr", 1e-4, 3e-1, log=True).int("hidden", 4, 64, log=True)


# --- each framework: (space, max budget, objective factory, version) ---------------------


def xgboost_study(runs: Dict[int, Run]) -> Tuple[hyperband.Space, int, Callable[[Any], float], str]:
    import xgboost
    from sklearn.datasets import load_breast_cancer

    from hyperband.integration import XGBoostCallback

    x_train, y_train, x_valid, y_valid = split(*load_breast_cancer(return_X_y=True))
    dtrain, dvalid = xgboost.DMatrix(x_train, y_train), xgboost.DMatrix(x_valid, y_valid)
    space = hyperband.Space().float("eta", 1e-3, 1.0, log=True).int("max_depth", 1, 6)

    def objective(job: Any) -> float:
        callback = XGBoostCallback(job, metric="validation-logloss")
        booster = xgboost.train(
            {"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1, **job.config},
            dtrain, num_boost_round=int(job.budget), evals=[(dvalid, "validation")],
            callbacks=[callback], verbose_eval=False,
        )
        return record(runs, job, callback, booster.num_boosted_rounds())

    return space, 27, objective, xgboost.__version__


def lightgbm_study(runs: Dict[int, Run]) -> Tuple[hyperband.Space, int, Callable[[Any], float], str]:
    import lightgbm
    from sklearn.datasets import load_breast_cancer

    from hyperband.integration import LightGBMCallback

    x_train, y_train, x_valid, y_valid = split(*load_breast_cancer(return_X_y=True))
    space = hyperband.Space().float("learning_rate", 1e-3, 1.0, log=True).int("num_leaves", 2, 31, log=True)

    def objective(job: Any) -> float:
        train = lightgbm.Dataset(x_train, y_train)
        valid = lightgbm.Dataset(x_valid, y_valid, reference=train)
        callback = LightGBMCallback(job, metric="binary_logloss")
        booster = lightgbm.train(
            {"objective": "binary", "verbosity": -1, "num_threads": 1, **job.config},
            train, num_boost_round=int(job.budget), valid_sets=[valid], callbacks=[callback],
        )
        return record(runs, job, callback, booster.current_iteration())

    return space, 27, objective, lightgbm.__version__


def keras_study(runs: Dict[int, Run]) -> Tuple[hyperband.Space, int, Callable[[Any], float], str]:
    import keras

    from hyperband.integration import KerasCallback

    x_train, y_train, x_valid, y_valid = split(*synthetic())

    def objective(job: Any) -> float:
        keras.utils.set_random_seed(job.trial)
        model = keras.Sequential([
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(job.config["hidden"], activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(keras.optimizers.Adam(job.config["lr"]), "binary_crossentropy")
        callback = KerasCallback(job, monitor="val_loss")
        history = model.fit(x_train, y_train, validation_data=(x_valid, y_valid), epochs=int(job.budget),
                            batch_size=64, callbacks=[callback], verbose=0)
        return record(runs, job, callback, len(history.history["loss"]))

    return nn_space(), 9, objective, f"{keras.__version__} (backend {keras.backend.backend()})"


def lightning_study(runs: Dict[int, Run]) -> Tuple[hyperband.Space, int, Callable[[Any], float], str]:
    import lightning.pytorch as pl
    import torch

    for logger in ("lightning", "lightning.pytorch"):  # the trainer's banners at each fit
        logging.getLogger(logger).setLevel(logging.ERROR)

    from hyperband.integration import LightningCallback

    x_train, y_train, x_valid, y_valid = (torch.tensor(a) for a in split(*synthetic()))

    class Net(pl.LightningModule):
        def __init__(self, lr: float, hidden: int) -> None:
            super().__init__()
            self.lr = lr
            self.net = torch.nn.Sequential(torch.nn.Linear(x_train.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

        def loss(self, batch: Any) -> Any:
            x, y = batch
            return torch.nn.functional.binary_cross_entropy_with_logits(self.net(x).squeeze(-1), y)

        def training_step(self, batch: Any, index: int) -> Any:
            return self.loss(batch)

        def validation_step(self, batch: Any, index: int) -> None:
            self.log("val_loss", self.loss(batch))

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), self.lr)

    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    valid = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_valid, y_valid), batch_size=256)

    def objective(job: Any) -> float:
        pl.seed_everything(job.trial, verbose=False)
        callback = LightningCallback(job, monitor="val_loss")
        trainer = pl.Trainer(max_epochs=int(job.budget), callbacks=[callback], accelerator="cpu", logger=False,
                             enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
        trainer.fit(Net(job.config["lr"], job.config["hidden"]), train, valid)
        return record(runs, job, callback, trainer.current_epoch)

    return nn_space(), 9, objective, pl.__version__


def transformers_study(runs: Dict[int, Run]) -> Tuple[hyperband.Space, int, Callable[[Any], float], str]:
    import torch
    import transformers

    from hyperband.integration import TransformersCallback

    transformers.logging.set_verbosity_error()
    # Token sequences whose label is whether token 1 occurs more often than token 2.
    rng = np.random.default_rng(0)
    ids = rng.integers(3, 20, size=(384, 16))
    ids[rng.random(ids.shape) < 0.15] = 1
    ids[rng.random(ids.shape) < 0.15] = 2
    labels = ((ids == 1).sum(1) > (ids == 2).sum(1)).astype(np.int64)

    class Rows(torch.utils.data.Dataset):  # type: ignore[type-arg]
        def __init__(self, lo: int, hi: int) -> None:
            self.ids, self.labels = torch.tensor(ids[lo:hi]), torch.tensor(labels[lo:hi])

        def __len__(self) -> int:
            return len(self.ids)

        def __getitem__(self, i: int) -> Dict[str, Any]:
            return {"input_ids": self.ids[i], "labels": self.labels[i]}

    train, valid = Rows(0, 288), Rows(288, 384)
    space = hyperband.Space().float("lr", 1e-4, 1e-1, log=True).int("hidden", 8, 32, log=True)

    def objective(job: Any) -> float:
        transformers.set_seed(job.trial)
        hidden = 2 * (job.config["hidden"] // 2)
        config = transformers.BertConfig(vocab_size=20, hidden_size=hidden, num_hidden_layers=1, num_attention_heads=2,
                                         intermediate_size=2 * hidden, max_position_embeddings=16, num_labels=2)
        args = transformers.TrainingArguments(
            output_dir=job.checkpoint_dir, num_train_epochs=job.budget, learning_rate=job.config["lr"],
            per_device_train_batch_size=32, per_device_eval_batch_size=96, eval_strategy="epoch",
            save_strategy="no", logging_strategy="no", report_to=[], disable_tqdm=True, use_cpu=True,
        )
        callback = TransformersCallback(job, metric_name="eval_loss")
        trainer = transformers.Trainer(model=transformers.BertForSequenceClassification(config), args=args,
                                       train_dataset=train, eval_dataset=valid, callbacks=[callback])
        trainer.remove_callback(transformers.PrinterCallback)  # it prints every evaluation's metrics
        trainer.train()
        return record(runs, job, callback, round(trainer.state.epoch))

    return space, 9, objective, transformers.__version__


STUDIES = {
    "xgboost": xgboost_study,
    "lightgbm": lightgbm_study,
    "keras": keras_study,
    "lightning": lightning_study,
    "transformers": transformers_study,
}


def record(runs: Dict[int, Run], job: Any, callback: Any, trained: int) -> float:
    runs[job.trial] = {"trained": trained, "last_step": callback.last_step, "stopped": callback.stopped,
                       "value": callback.last_value}
    assert callback.last_value is not None, "the callback reported nothing"
    return float(callback.last_value)


def run(name: str, trials: int) -> Dict[str, Any]:
    runs: Dict[int, Run] = {}
    started = time.perf_counter()
    space, max_budget, objective, version = STUDIES[name](runs)
    study = hyperband.Study(space, scheduler="asha", mode="stop", min_budget=1, max_budget=max_budget, seed=0)
    study.optimize(objective, max_trials=trials)
    seconds = time.perf_counter() - started
    states = {t["trial"]: t["state"] for t in study.trials()}
    problems: List[str] = []
    for trial, r in sorted(runs.items()):
        if r["trained"] != r["last_step"]:
            problems.append(f"trial {trial} trained {r['trained']} but reported up to step {r['last_step']}")
        # should_stop() turns True at a rung the trial was not promoted from, and at the max
        # budget, where the trial is finished.
        if not r["stopped"]:
            problems.append(f"trial {trial} trained {r['trained']}, and its job never said stop")
        if (states.get(trial) == "stopped") != (r["trained"] < max_budget):
            problems.append(f"trial {trial} is {states.get(trial)} in the study, trained {r['trained']} of {max_budget}")
    early = [r for r in runs.values() if r["trained"] < max_budget]
    if not early:
        problems.append("no trial was stopped before the max budget")
    best = study.best
    if best is None or not math.isfinite(best["loss"]):
        problems.append(f"best is {best}")
    return {
        "framework": name, "version": version, "trials": len(runs), "stopped_early": len(early),
        "full": sum(1 for r in runs.values() if r["trained"] == max_budget), "max_budget": max_budget,
        "trained": sorted(r["trained"] for r in runs.values()), "budget_spent": study.stats["budget_spent"],
        "best": None if best is None else best["loss"], "seconds": seconds, "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("frameworks", nargs="*", help=f"some of {', '.join(STUDIES)} (default: all)")
    parser.add_argument("--trials", type=int, default=9, help="trials per study (GBDTs: twice as many)")
    options = parser.parse_args()
    names = options.frameworks or list(STUDIES)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        parser.error(f"unknown framework {', '.join(unknown)}: choose from {', '.join(STUDIES)}")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    results = []
    for name in names:
        trials = options.trials * (2 if name in ("xgboost", "lightgbm") else 1)
        print(f"== {name}: ASHA, stop mode, {trials} trials", flush=True)
        try:
            result = run(name, trials)
        except Exception as e:  # one framework's failure is reported, the others still run
            result = {"framework": name, "problems": [f"{type(e).__name__}: {e}"]}
        results.append(result)
        print(result, flush=True)
    print()
    print(f"{'framework':<13} {'version':<22} {'trials':>6} {'stopped early':>13} {'to max':>6} "
          f"{'budget spent':>12} {'best loss':>10} {'seconds':>8}  trained (epochs/rounds)")
    for r in results:
        if "trials" not in r:
            print(f"{r['framework']:<13} FAILED: {r['problems'][0]}")
            continue
        print(f"{r['framework']:<13} {r['version']:<22} {r['trials']:>6} {r['stopped_early']:>13} {r['full']:>6} "
              f"{r['budget_spent']:>12g} {r['best']:>10.4f} {r['seconds']:>8.1f}  {r['trained']}")
    failed = [r for r in results if r["problems"]]
    for r in failed:
        for p in r["problems"]:
            print(f"PROBLEM {r['framework']}: {p}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
