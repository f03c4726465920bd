"""PyTorch Lightning: a callback that reports a logged metric after each validation.

    import lightning.pytorch as pl
    from hyperband.integration import LightningCallback

    def objective(job):
        model = LitModel(job.config)          # logs "val_loss" in validation_step
        callback = LightningCallback(job, monitor="val_loss")
        trainer = pl.Trainer(max_epochs=int(job.budget), callbacks=[callback],
                             enable_progress_bar=False, logger=False)
        trainer.fit(model, train_loader, val_loader)
        return callback.last_value

    study = hyperband.Study(space, scheduler="asha", mode="stop", min_budget=1, max_budget=27)
    study.optimize(objective, max_trials=20)

The study's budget is epochs (or optimizer steps, with ``step="global_step"``). After each
validation (not the sanity check) the callback reports
``trainer.callback_metrics[monitor]`` at step ``trainer.current_epoch + 1`` (or
``trainer.global_step``) and, when the study says the trial stops, sets
``trainer.should_stop = True``: ``fit`` returns at the end of that epoch (Lightning still
honours ``min_epochs``). ``LightningCallback`` subclasses ``lightning.pytorch.Callback`` (or, where only the older
package is installed, ``pytorch_lightning.Callback``); a trainer from ``pytorch_lightning``
takes ``hyperband.integration.pytorch_lightning.PyTorchLightningCallback``, the same
callback on that package's base class. One process
only: under DDP each process would report on its own.
"""

from __future__ import annotations

from typing import Any

try:
    from lightning.pytorch import Callback  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # only the older package name is installed
    from pytorch_lightning import Callback  # type: ignore[import-not-found, no-redef, assignment, unused-ignore]

from ._base import Reporter, ReportingJob, as_float

__all__ = ["LightningCallback"]


class LightningReporter(Reporter):
    """The callback's work, on either package's ``Callback``: reports
    ``trainer.callback_metrics[monitor]`` to ``job`` after each validation and stops
    training when the study says so.

    ``monitor`` is a name the module logs with ``self.log`` (``val_loss``, ``val_acc`` for a
    study that maximizes). ``step`` is ``"epoch"`` (epochs finished, counting the current
    one) or ``"global_step"`` (optimizer steps), in the study's unit. Validating more than
    once an epoch (``val_check_interval`` below 1) reports only the epoch's first validation
    with ``step="epoch"``: use ``"global_step"`` for those.

    ``stopped``, ``last_step`` and ``last_value`` tell what happened (see ``Reporter``).
    """

    def __init__(self, job: ReportingJob, monitor: str = "val_loss", step: str = "epoch") -> None:
        if step not in ("epoch", "global_step"):
            raise ValueError(f"{type(self).__name__}: step is 'epoch' or 'global_step', not {step!r}")
        Reporter.__init__(self, job)
        self.monitor = monitor
        self.step = step

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:  # the few batches validated before training
            return
        metrics = trainer.callback_metrics
        if self.monitor not in metrics:
            raise KeyError(
                f"{type(self).__name__}: no {self.monitor!r} in trainer.callback_metrics, which "
                f"has {', '.join(sorted(metrics)) or 'nothing'}: log it with self.log({self.monitor!r}, ...)"
            )
        value = as_float(metrics[self.monitor], f"Lightning's {self.monitor}")
        step = trainer.current_epoch + 1 if self.step == "epoch" else trainer.global_step
        if self._report(value, float(step)):
            trainer.should_stop = True


class LightningCallback(LightningReporter, Callback):  # type: ignore[misc, unused-ignore]
    __doc__ = LightningReporter.__doc__

    def __init__(self, job: ReportingJob, monitor: str = "val_loss", step: str = "epoch") -> None:
        Callback.__init__(self)
        LightningReporter.__init__(self, job, monitor, step)
