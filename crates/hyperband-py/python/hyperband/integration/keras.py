"""Keras: a callback that reports a logged metric at the end of each epoch.

    import keras
    from hyperband.integration import KerasCallback

    def objective(job):
        model = make_model(job.config)
        callback = KerasCallback(job, monitor="val_loss")
        model.fit(x, y, validation_data=(x_val, y_val), epochs=int(job.budget),
                  callbacks=[callback], verbose=0)
        return callback.last_value

    study = hyperband.Study(space, scheduler="asha", mode="stop", min_budget=1, max_budget=27)
    study.optimize(objective, max_trials=20)

The study's budget is epochs. At the end of epoch ``epoch`` (Keras counts from 0, and from
``initial_epoch`` when ``fit`` continues a model) the callback reports ``logs[monitor]`` at
step ``epoch + 1`` and, when the study says the trial stops, sets
``model.stop_training = True``: ``fit`` returns after that epoch. Keras 3 (any backend) is
imported as ``keras``; where only TensorFlow's Keras is installed, ``tensorflow.keras``.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

try:
    import keras  # type: ignore[import-not-found, import-untyped, unused-ignore]
except ImportError:  # TensorFlow without the keras package
    from tensorflow import keras  # type: ignore[import-not-found, import-untyped, no-redef, unused-ignore]

from ._base import Reporter, ReportingJob, as_float

__all__ = ["KerasCallback"]


class KerasCallback(keras.callbacks.Callback, Reporter):  # type: ignore[misc, unused-ignore]
    """Reports ``logs[monitor]`` to ``job`` after each epoch; stops training when the study
    says so.

    ``monitor`` is a name in the epoch's logs: ``val_loss``, ``val_accuracy`` (for a study
    that maximizes), ``loss``. A missing name is an error (with ``validation_freq`` above 1,
    validation metrics are missing from most epochs: monitor a training metric, or
    validate every epoch).

    ``stopped``, ``last_step`` and ``last_value`` tell what happened (see ``Reporter``).
    """

    def __init__(self, job: ReportingJob, monitor: str = "val_loss") -> None:
        keras.callbacks.Callback.__init__(self)
        Reporter.__init__(self, job)
        self.monitor = monitor

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(
                f"KerasCallback: no {self.monitor!r} in the logs of epoch {epoch + 1}, "
                f"which have {', '.join(sorted(logs)) or 'nothing'}"
            )
        value = as_float(logs[self.monitor], f"Keras's {self.monitor}")
        if self._report(value, float(epoch + 1)):
            self.model.stop_training = True
