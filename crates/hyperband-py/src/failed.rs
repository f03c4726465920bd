//! `hyperband.Failed`: a result that is a failure.

use pyo3::prelude::*;

/// A result that is a failure: return it from an objective or pass it to `tell`. The
/// study records the reason and goes on (retrying the job if `max_retries` allows).
#[pyclass(name = "Failed", module = "hyperband", frozen)]
pub struct Failed {
    #[pyo3(get)]
    pub reason: String,
}

#[pymethods]
impl Failed {
    #[new]
    fn new(reason: String) -> Self {
        Self { reason }
    }

    fn __repr__(&self) -> String {
        format!("Failed({:?})", self.reason)
    }
}
