"""Hyperparameter optimization with Hyperband, ASHA, BOHB and GP-BO, decided by a Rust core.

    import hyperband

    space = hyperband.Space().float("lr", 1e-3, 1e-1, log=True).int("hidden", 10, 1000, log=True)
    study = hyperband.Study(space, scheduler="hyperband", min_budget=1, max_budget=27)
    study.optimize(lambda job: train(job.config, epochs=job.budget), n_workers=2)
    print(study.best)

Studies stored with ``storage="sqlite:PATH"`` or ``"postgres://..."`` are the same studies
the ``hyperband`` command line shows (``hyperband status --storage URL --study NAME``).
"""

from __future__ import annotations

from typing import Any, Dict, List

from ._hyperband import Failed, Job, Space, StorageError, Stopped, Study, param_importances

__all__ = ["Failed", "Job", "Space", "StorageError", "Stopped", "Study", "param_importances", "trials_dataframe"]


def trials_dataframe(study: Study) -> Any:
    """``study.trials()`` as a pandas DataFrame, one row per trial (needs pandas).

    Each metric a result reported becomes a column ``metric_NAME`` (Optuna's
    ``user_attrs_NAME``); a stop-mode segment's learning curve (``curve``) is left out.
    """
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("trials_dataframe needs pandas: pip install pandas") from e
    rows: List[Dict[str, Any]] = []
    for trial in study.trials():
        metrics = trial.pop("metrics")
        for name, value in metrics.items():
            if name != "curve":
                trial[f"metric_{name}"] = value
        rows.append(trial)
    return pandas.DataFrame(rows)
