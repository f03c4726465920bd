"""Shared helpers for the training scripts: tiny seeded data sets and the record writer.

Every script takes --record PATH and writes there, as JSON, the framework's own record of
the metric values (History.history, log_history, evals_result(), ...), untouched; the
capture driver (capture.py) turns those records into the fixtures' expected files.
"""
import json
import random

import numpy as np


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
        torch.manual_seed(seed)
    except ImportError:
        pass


def digits(n_train=1200, n_valid=400, seed=0, binary=False):
    """scikit-learn's 8x8 digits (shipped with the package, nothing downloaded), pixels
    scaled to [0, 1], shuffled with a fixed seed and split into train / validation."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    if binary:
        y = (y % 2).astype(np.int64)
    order = np.random.RandomState(seed).permutation(len(x))
    x, y = x[order], y[order]
    return (x[:n_train], y[:n_train]), (x[n_train:n_train + n_valid], y[n_train:n_train + n_valid])


def regression(n_train=800, n_valid=200, seed=0, n_features=8):
    """A synthetic regression: y = x.w + sin(x0) + noise."""
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(n_train + n_valid, n_features))
    w = rng.normal(size=n_features)
    y = x @ w + np.sin(3 * x[:, 0]) + 0.3 * rng.normal(size=len(x))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def write_record(path, record):
    if path:
        with open(path, "w") as f:
            json.dump(record, f, indent=1, default=float)
