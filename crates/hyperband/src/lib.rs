//! Hyperparameter optimization library.
