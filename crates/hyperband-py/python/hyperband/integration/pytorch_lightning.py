"""PyTorch Lightning under its older package name: ``PyTorchLightningCallback`` is
``LightningCallback`` (see ``hyperband.integration.lightning``) on
``pytorch_lightning.Callback``, for a ``pytorch_lightning.Trainer`` where both packages are
installed (a trainer accepts only its own package's callbacks).

    import pytorch_lightning as pl
    from hyperband.integration.pytorch_lightning import PyTorchLightningCallback

    def objective(job):
        callback = PyTorchLightningCallback(job, monitor="val_loss")
        pl.Trainer(max_epochs=int(job.budget), callbacks=[callback]).fit(LitModel(job.config))
        return callback.last_value
"""

from __future__ import annotations

from pytorch_lightning import Callback  # type: ignore[import-not-found, unused-ignore]

from ._base import ReportingJob
from .lightning import LightningReporter

__all__ = ["PyTorchLightningCallback"]


class PyTorchLightningCallback(LightningReporter, Callback):  # type: ignore[misc, unused-ignore]
    __doc__ = LightningReporter.__doc__

    def __init__(self, job: ReportingJob, monitor: str = "val_loss", step: str = "epoch") -> None:
        Callback.__init__(self)
        LightningReporter.__init__(self, job, monitor, step)
