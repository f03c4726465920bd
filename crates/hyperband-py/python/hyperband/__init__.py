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

from typing import Any, List

from ._hyperband import Failed, Job, Space, StorageError, Study

__all__ = ["Failed", "Job", "Space", "StorageError", "Study", "trials_dataframe"]


def trials_dataframe(study: Study) -> Any:
    """``study.trials()`` as a pandas DataFrame, one row per trial (needs pandas)."""
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("trials_dataframe needs pandas: pip install pandas") from e
    rows: List[dict] = study.trials()
    return pandas.DataFrame(rows)
