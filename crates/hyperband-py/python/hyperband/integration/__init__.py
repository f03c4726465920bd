"""Callbacks that report a framework's training to a study, and stop it when the study says.

Each adapter reports the metric after each epoch or boosting round with ``job.report(value,
step)`` and ends training when ``job.should_stop()`` is True: in a stop-mode study when the
trial was not promoted at a rung (or its rung was revoked), in a promote-mode study when the
job reached its ``budget``. The objective then returns; ``callback.last_value`` is the value
reported last. ::

    import hyperband
    from hyperband.integration import XGBoostCallback

    def objective(job):
        callback = XGBoostCallback(job, metric="validation-logloss")
        xgboost.train(params(job.config), dtrain, num_boost_round=int(job.budget),
                      evals=[(dvalid, "validation")], callbacks=[callback])
        return callback.last_value

    study = hyperband.Study(space, scheduler="asha", mode="stop", min_budget=1, max_budget=27)
    study.optimize(objective, max_trials=30)

The adapters, each importing its framework on first use:

- ``XGBoostCallback``: ``xgboost`` (or ``xgboost-cpu``), step = boosting rounds.
- ``LightGBMCallback``: ``lightgbm``, step = boosting rounds.
- ``LightningCallback``: ``lightning`` (or ``pytorch_lightning`` alone), step = epochs or
  the global step; ``PyTorchLightningCallback`` for a ``pytorch_lightning.Trainer``.
- ``KerasCallback``: ``keras`` 3 (any backend) or TensorFlow's, step = epochs.
- ``TransformersCallback``: ``transformers``, step = ``state.epoch`` (a float) or the
  global step.

This package imports none of the frameworks: ``hyperband.integration.XGBoostCallback``
imports ``hyperband.integration.xgboost``, which imports ``xgboost``, on first use, and
raises ImportError naming the package to install where it is missing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Dict, Tuple

from ._base import Reporter, ReportingJob

if TYPE_CHECKING:
    from .keras import KerasCallback as KerasCallback
    from .lightgbm import LightGBMCallback as LightGBMCallback
    from .lightning import LightningCallback as LightningCallback
    from .pytorch_lightning import PyTorchLightningCallback as PyTorchLightningCallback
    from .transformers import TransformersCallback as TransformersCallback
    from .xgboost import XGBoostCallback as XGBoostCallback

__all__ = [
    "KerasCallback",
    "LightGBMCallback",
    "LightningCallback",
    "PyTorchLightningCallback",
    "Reporter",
    "ReportingJob",
    "TransformersCallback",
    "XGBoostCallback",
]

# name -> (submodule, what to pip install when its framework is missing)
_LAZY: Dict[str, Tuple[str, str]] = {
    "KerasCallback": ("keras", "keras (with a backend: jax, tensorflow or torch)"),
    "LightGBMCallback": ("lightgbm", "lightgbm"),
    "LightningCallback": ("lightning", "lightning"),
    "PyTorchLightningCallback": ("pytorch_lightning", "pytorch-lightning"),
    "TransformersCallback": ("transformers", "transformers (and torch)"),
    "XGBoostCallback": ("xgboost", "xgboost (or xgboost-cpu)"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, package = _LAZY[name]
    try:
        found = importlib.import_module(f"{__name__}.{module}")
    except ImportError as e:
        raise ImportError(f"hyperband.integration.{name} needs {package}: {e}") from e
    value = getattr(found, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
