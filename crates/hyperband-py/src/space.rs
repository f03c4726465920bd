//! `hyperband.Space`: the parameters to tune, built one call at a time.

use crate::errors;
use hyperband::{Domain, Param, Space};
use pyo3::prelude::*;

/// A search space. Each method returns a new space with one more parameter, so that a
/// space reads as one expression:
///
/// `Space().float("lr", 1e-3, 1e-1, log=True).int("hidden", 10, 1000, log=True)`
#[pyclass(name = "Space", module = "hyperband", frozen)]
#[derive(Clone, Default)]
pub struct PySpace {
    pub params: Vec<Param>,
}

impl PySpace {
    /// The space as the core checks it: at least one parameter, valid ranges.
    pub fn space(&self) -> PyResult<Space> {
        Space::new(self.params.clone()).map_err(errors::value)
    }

    fn with(&self, param: Param) -> PyResult<Self> {
        let mut params = self.params.clone();
        params.push(param);
        Space::new(params.clone()).map_err(errors::value)?;
        Ok(Self { params })
    }
}

/// An integer bound, or an error naming the parameter and the bound (instead of Python's
/// bare "int too large to convert").
fn bound(name: &str, which: &str, value: &Bound<'_, PyAny>) -> PyResult<i64> {
    value.extract::<i64>().map_err(|_| {
        errors::value(format!(
            "parameter `{name}`: {which} must be an integer that fits in 64 bits, got {}",
            value
                .repr()
                .map_or_else(|_| "?".to_string(), |r| r.to_string())
        ))
    })
}

#[pymethods]
impl PySpace {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// A real parameter in `[low, high]`, sampled uniformly or, with `log=True`, uniformly
    /// in its logarithm (for learning rates and penalties spanning decades).
    #[pyo3(signature = (name, low, high, *, log = false))]
    fn float(&self, name: &str, low: f64, high: f64, log: bool) -> PyResult<Self> {
        self.with(Param::new(name, Domain::Float { low, high, log }))
    }

    /// An integer parameter in `[low, high]`, both included; `log=True` for widths that
    /// span decades (hidden units 10..1000).
    #[pyo3(signature = (name, low, high, *, log = false))]
    fn int(
        &self,
        name: &str,
        low: &Bound<'_, PyAny>,
        high: &Bound<'_, PyAny>,
        log: bool,
    ) -> PyResult<Self> {
        let (low, high) = (bound(name, "low", low)?, bound(name, "high", high)?);
        self.with(Param::new(name, Domain::Int { low, high, log }))
    }

    /// One of a list of labels.
    fn categorical(&self, name: &str, choices: Vec<String>) -> PyResult<Self> {
        self.with(Param::new(name, Domain::Categorical { choices }))
    }

    /// The parameters' names, in order.
    fn names(&self) -> Vec<String> {
        self.params.iter().map(|p| p.name.clone()).collect()
    }

    fn __len__(&self) -> usize {
        self.params.len()
    }

    fn __repr__(&self) -> String {
        let parts: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.describe()))
            .collect();
        format!("Space({})", parts.join(", "))
    }
}
