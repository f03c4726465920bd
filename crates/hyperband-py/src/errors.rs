//! The core's errors as Python exceptions, with the core's messages.

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::PyErr;
use std::fmt::Display;

pyo3::create_exception!(
    hyperband,
    StorageError,
    PyException,
    "The study's database refused an operation: it cannot be opened or read, it holds a \
     study of another definition, or its log cannot be replayed. The message says which."
);

pub fn storage(e: impl Display) -> PyErr {
    StorageError::new_err(e.to_string())
}

/// Bad input from the caller: a space, a setting, a result.
pub fn value(e: impl Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

pyo3::create_exception!(
    hyperband,
    Stopped,
    PyException,
    "Raise it from an objective when `job.should_stop()` says the study stopped the trial \
     (Optuna's `TrialPruned`): the trial ends as the study decided, without a value."
);
