"""XGBoost: a training callback that reports an evaluation metric after each boosting round.

    import xgboost
    from hyperband.integration import XGBoostCallback

    def objective(job):
        dtrain, dvalid = xgboost.DMatrix(X_train, y_train), xgboost.DMatrix(X_valid, y_valid)
        callback = XGBoostCallback(job, metric="validation-logloss")
        xgboost.train(
            {"objective": "binary:logistic", "eta": job.config["eta"], "eval_metric": "logloss"},
            dtrain,
            num_boost_round=int(job.budget),
            evals=[(dvalid, "validation")],
            callbacks=[callback],
            verbose_eval=False,
        )
        return callback.last_value

    study = hyperband.Study(space, scheduler="asha", mode="stop", min_budget=1, max_budget=27)
    study.optimize(objective, max_trials=20)

The study's budget is boosting rounds. After round ``i`` (counted from 1: the booster's
``num_boosted_rounds()``, so a booster continued with ``xgb_model=`` counts its earlier rounds
too) the callback reports the metric's latest value at step ``i`` and, when the study says
the trial stops, returns True, which ends ``xgboost.train`` after that round (the booster
keeps every round trained). With ``xgboost.cv`` it reports the mean over the folds.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple, Union

import xgboost  # type: ignore[import-not-found, unused-ignore]

from ._base import Reporter, ReportingJob, as_float

__all__ = ["XGBoostCallback"]


class XGBoostCallback(xgboost.callback.TrainingCallback, Reporter):  # type: ignore[misc, unused-ignore]
    """Reports ``metric`` to ``job`` after each boosting round; stops training when the study
    says so.

    ``metric`` names an evaluation set and a metric, as ``"validation-logloss"`` (XGBoost's
    own ``evals_result`` naming: ``validation_0-logloss`` with the scikit-learn API) or as
    ``("validation", "logloss")``. Left out, it is the last metric of the last evaluation
    set, as XGBoost's early stopping takes it. The value must be what the study optimizes:
    a loss, or a score if the study maximizes.

    ``stopped``, ``last_step`` and ``last_value`` tell what happened (see ``Reporter``).
    """

    def __init__(
        self, job: ReportingJob, metric: Union[str, Tuple[str, str], None] = None
    ) -> None:
        xgboost.callback.TrainingCallback.__init__(self)
        Reporter.__init__(self, job)
        if isinstance(metric, str):
            data, dash, name = metric.partition("-")
            if not dash or not data or not name:
                raise ValueError(
                    f"XGBoostCallback: metric {metric!r} is not DATASET-METRIC, as validation-logloss"
                )
            self.metric: Optional[Tuple[str, str]] = (data, name)
        elif metric is None:
            self.metric = None
        else:
            data, name = metric
            self.metric = (str(data), str(name))

    def _latest(self, evals_log: Mapping[str, Mapping[str, Any]]) -> float:
        if not evals_log:
            raise ValueError(
                "XGBoostCallback: XGBoost evaluated nothing; pass evals=[(dvalid, 'validation')] "
                "to xgboost.train (eval_set= with the scikit-learn API)"
            )
        if self.metric is None:
            data = list(evals_log)[-1]
            name = list(evals_log[data])[-1]
        else:
            data, name = self.metric
        try:
            scores = evals_log[data][name]
        except KeyError:
            known = [f"{d}-{m}" for d, metrics in evals_log.items() for m in metrics]
            raise KeyError(
                f"XGBoostCallback: no metric {data}-{name} in XGBoost's evaluation log, "
                f"which has {', '.join(known)}"
            ) from None
        latest = scores[-1]
        if isinstance(latest, tuple):  # xgboost.cv: (mean, standard deviation) over the folds
            latest = latest[0]
        return as_float(latest, f"XGBoost's {data}-{name}")

    def after_iteration(
        self, model: Any, epoch: int, evals_log: Dict[str, Dict[str, Any]]
    ) -> bool:
        value = self._latest(evals_log)
        # A Booster counts the rounds it was continued from (xgb_model=); so do cv's folds.
        rounds = getattr(model, "num_boosted_rounds", None)
        step = int(rounds()) if callable(rounds) else epoch + 1
        stop = self._report(value, float(step))
        if stop and not isinstance(model, xgboost.Booster) and model.attr("best_iteration") is None:
            # xgboost.cv keeps the history up to best_iteration when a callback stops it.
            model.set_attr(best_iteration=str(epoch))
        return stop
