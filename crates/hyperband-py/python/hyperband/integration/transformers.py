"""Hugging Face Transformers: a ``TrainerCallback`` that reports an evaluation metric.

    import transformers
    from hyperband.integration import TransformersCallback

    def objective(job):
        args = transformers.TrainingArguments(
            output_dir=job.checkpoint_dir, num_train_epochs=job.budget,
            learning_rate=job.config["lr"], eval_strategy="epoch", save_strategy="no",
            report_to=[],
        )
        callback = TransformersCallback(job, metric_name="eval_loss")
        trainer = transformers.Trainer(model=make_model(), args=args, train_dataset=train,
                                       eval_dataset=valid, callbacks=[callback])
        trainer.train()
        return callback.last_value

    study = hyperband.Study(space, scheduler="asha", mode="stop", min_budget=1, max_budget=27)
    study.optimize(objective, max_trials=20)

The study's budget is epochs (or optimizer steps, with ``step="global_step"``). At each
evaluation the Trainer runs (``eval_strategy``), the callback reports ``metrics[metric_name]``
at step ``state.epoch`` (a float: ``1.5`` halfway through the second epoch when evaluating
by steps) or ``state.global_step`` and, when the study says the trial stops, sets
``control.should_training_stop = True``: the Trainer ends training after that step. An
evaluation at a step already reported (``trainer.evaluate()`` after training) is not
reported again.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from transformers import TrainerCallback  # type: ignore[import-not-found, import-untyped, unused-ignore]

from ._base import Reporter, ReportingJob, as_float

__all__ = ["TransformersCallback"]


class TransformersCallback(TrainerCallback, Reporter):  # type: ignore[misc, unused-ignore]
    """Reports ``metrics[metric_name]`` to ``job`` at each evaluation; stops training when the
    study says so.

    ``metric_name`` is a key of the evaluation's metrics: ``eval_loss``, or
    ``eval_accuracy`` from ``compute_metrics`` for a study that maximizes (a name without
    the ``eval_`` prefix gets it, as ``metric_for_best_model`` does). ``step`` is
    ``"epoch"`` or ``"global_step"``, in the study's unit.

    ``stopped``, ``last_step`` and ``last_value`` tell what happened (see ``Reporter``).
    """

    def __init__(self, job: ReportingJob, metric_name: str = "eval_loss", step: str = "epoch") -> None:
        if step not in ("epoch", "global_step"):
            raise ValueError(f"TransformersCallback: step is 'epoch' or 'global_step', not {step!r}")
        TrainerCallback.__init__(self)
        Reporter.__init__(self, job)
        self.metric_name = metric_name
        self.step = step

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: Optional[Dict[str, Any]] = None, **kwargs: Any
    ) -> None:
        metrics = metrics or {}
        name = self.metric_name
        if name not in metrics and not name.startswith("eval_"):
            name = f"eval_{name}"
        if name not in metrics:
            raise KeyError(
                f"TransformersCallback: no {self.metric_name!r} in the evaluation's metrics, which "
                f"have {', '.join(sorted(metrics)) or 'nothing'}"
            )
        value = as_float(metrics[name], f"the Trainer's {name}")
        if self.step == "epoch":
            # state.epoch is a float; rounding drops the error of summing fractions of an epoch.
            step = round(float(state.epoch or 0.0), 6)
        else:
            step = float(state.global_step)
        if self._report(value, step):
            control.should_training_stop = True
