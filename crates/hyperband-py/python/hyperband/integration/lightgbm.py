"""LightGBM: a callback that reports an evaluation metric after each boosting round.

    import lightgbm
    from hyperband.integration import LightGBMCallback

    def objective(job):
        train = lightgbm.Dataset(X_train, y_train)
        valid = lightgbm.Dataset(X_valid, y_valid, reference=train)
        callback = LightGBMCallback(job, metric="binary_logloss")
        lightgbm.train(
            {"objective": "binary", "learning_rate": job.config["lr"], "verbosity": -1},
            train,
            num_boost_round=int(job.budget),
            valid_sets=[valid],
            callbacks=[callback],
        )
        return callback.last_value

    study = hyperband.Study(space, scheduler="asha", mode="stop", min_budget=1, max_budget=27)
    study.optimize(objective, max_trials=20)

The study's budget is boosting rounds. After round ``env.iteration + 1`` (LightGBM counts the
rounds of an ``init_model`` it continues) the callback reports the metric and, when the
study says the trial stops, raises ``lightgbm.callback.EarlyStopException`` at that round:
``lightgbm.train`` returns the booster with every round trained (``best_iteration`` is the
last one). With ``lightgbm.cv`` it reports the mean over the folds.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import lightgbm  # type: ignore[import-not-found, unused-ignore]

from ._base import Reporter, ReportingJob, as_float

__all__ = ["LightGBMCallback"]


class LightGBMCallback(Reporter):
    """Reports ``metric`` on the validation set ``valid_name`` to ``job`` after each round;
    stops training when the study says so.

    ``metric`` is a LightGBM metric name (``binary_logloss``, ``l2``, ``auc``); left out, the
    first metric LightGBM computes. ``valid_name`` is a name from ``valid_names`` (LightGBM
    calls the first unnamed validation set ``valid_0``); left out, the first validation set
    that is not the training data. With ``lightgbm.cv`` the set is the folds' (``valid``).
    The value must be what the study optimizes: a loss, or a score such as ``auc`` if the
    study maximizes.

    ``stopped``, ``last_step`` and ``last_value`` tell what happened (see ``Reporter``).
    """

    def __init__(
        self, job: ReportingJob, metric: Optional[str] = None, valid_name: Optional[str] = None
    ) -> None:
        Reporter.__init__(self, job)
        # LightGBM calls its callbacks by `order`, read from the instance (a callback without
        # one goes first): after log_evaluation (10) and record_evaluation (20), so that the
        # last round is logged and recorded, and before early_stopping (30).
        self.order = 25
        self.before_iteration = False
        self.metric = metric
        self.valid_name = valid_name

    def _pick(self, env: Any) -> Sequence[Any]:
        results: Sequence[Sequence[Any]] = env.evaluation_result_list or []
        if not results:
            raise ValueError(
                "LightGBMCallback: LightGBM evaluated nothing; pass valid_sets=[valid] to lightgbm.train"
            )
        training = getattr(env.model, "_train_data_name", "training")
        names = [r[0] for r in results]
        data = self.valid_name
        if data is None:
            data = next((n for n in names if n != training), names[0])
        for result in results:
            name, metric = result[0], result[1]
            # lightgbm.cv before 4.7 named the folds' metrics "valid binary_logloss".
            if name == data and (self.metric is None or metric in (self.metric, f"{name} {self.metric}")):
                return result
        known = ", ".join(f"{r[0]}'s {r[1]}" for r in results)
        raise KeyError(
            f"LightGBMCallback: no metric {self.metric or '(first)'} on {data!r} in LightGBM's "
            f"evaluation results, which have {known}"
        )

    def __call__(self, env: Any) -> None:
        result = self._pick(env)
        value = as_float(result[2], f"LightGBM's {result[0]}'s {result[1]}")
        if self._report(value, float(env.iteration + 1)):
            raise lightgbm.callback.EarlyStopException(env.iteration, env.evaluation_result_list)
