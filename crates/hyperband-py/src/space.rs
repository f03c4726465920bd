//! `hyperband.Space`: the parameters to tune, built one call at a time.

use crate::errors;
use hyperband::{Domain, Param, Space, Value};
use pyo3::prelude::*;

/// A search space. Each method returns a new space with one more parameter, so that a
/// space reads as one expression:
///
/// `Space().float("lr", 1e-3, 1e-1, log=True).int("hidden", 10, 1000, log=True)`
#[pyclass(name = "Space", module = "hyperband", frozen)]
#[derive(Clone, Default)]
pub struct PySpace {
    pub params: Vec<Param>,
    /// Parameters with one value, not searched: in every configuration the function gets.
    pub fixed: Vec<(String, Value)>,
}

impl PySpace {
    /// The space as the core checks it: at least one parameter, valid ranges.
    pub fn space(&self) -> PyResult<Space> {
        Space::new(self.params.clone()).map_err(errors::value)
    }

    fn taken(&self, name: &str) -> PyResult<()> {
        if self.fixed.iter().any(|(n, _)| n == name) {
            return Err(errors::value(format!(
                "parameter `{name}` is defined twice"
            )));
        }
        Ok(())
    }

    /// The space with `param`, made conditional on `when` if given.
    fn with(&self, param: Param, when: Option<&str>) -> PyResult<Self> {
        self.taken(&param.name)?;
        let param = match when {
            Some(condition) => param.when(condition).map_err(errors::value)?,
            None => param,
        };
        let mut params = self.params.clone();
        params.push(param);
        Space::new(params.clone()).map_err(errors::value)?;
        Ok(Self {
            params,
            fixed: self.fixed.clone(),
        })
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
    ///
    /// `step=0.1` makes it one of `low, low + step, ..., high` (the step must divide
    /// `high - low`). `when="optimizer == 'sgd'"` makes it conditional: only in
    /// configurations where the condition holds on the parameters defined before it (as a
    /// study file's `when`).
    #[pyo3(signature = (name, low, high, *, log = false, step = None, when = None))]
    fn float(
        &self,
        name: &str,
        low: f64,
        high: f64,
        log: bool,
        step: Option<f64>,
        when: Option<&str>,
    ) -> PyResult<Self> {
        let domain = Domain::Float {
            low,
            high,
            log,
            step,
        };
        self.with(Param::new(name, domain), when)
    }

    /// An integer parameter in `[low, high]`, both included; `log=True` for widths that
    /// span decades (hidden units 10..1000).
    /// `step=16` makes it one of `low, low + step, ..., high`.
    #[pyo3(signature = (name, low, high, *, log = false, step = None, when = None))]
    fn int(
        &self,
        name: &str,
        low: &Bound<'_, PyAny>,
        high: &Bound<'_, PyAny>,
        log: bool,
        step: Option<&Bound<'_, PyAny>>,
        when: Option<&str>,
    ) -> PyResult<Self> {
        let (low, high) = (bound(name, "low", low)?, bound(name, "high", high)?);
        // A step of 1 is the plain integer axis, stored as it always was.
        let step = step
            .map(|s| bound(name, "step", s))
            .transpose()?
            .filter(|s| *s != 1);
        let domain = Domain::Int {
            low,
            high,
            log,
            step,
        };
        self.with(Param::new(name, domain), when)
    }

    /// One of a list of labels.
    #[pyo3(signature = (name, choices, *, when = None))]
    fn categorical(&self, name: &str, choices: Vec<String>, when: Option<&str>) -> PyResult<Self> {
        self.with(Param::new(name, Domain::Categorical { choices }), when)
    }

    /// A parameter with one value (a batch size, a path): not searched, but in every
    /// configuration the function gets, and part of the study's definition.
    fn fixed(&self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<Self> {
        if name.is_empty() {
            return Err(errors::value("parameter name must not be empty"));
        }
        if self.params.iter().any(|p| p.name == name) {
            return Err(errors::value(format!(
                "parameter `{name}` is defined twice"
            )));
        }
        self.taken(name)?;
        let value = crate::convert::py_to_value(name, value)?;
        let mut fixed = self.fixed.clone();
        fixed.push((name.to_string(), value));
        Ok(Self {
            params: self.params.clone(),
            fixed,
        })
    }

    /// The parameters' names, searched ones first, then fixed ones.
    fn names(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|p| p.name.clone())
            .chain(self.fixed.iter().map(|(n, _)| n.clone()))
            .collect()
    }

    fn __len__(&self) -> usize {
        self.params.len() + self.fixed.len()
    }

    fn __repr__(&self) -> String {
        let parts: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.describe()))
            .chain(self.fixed.iter().map(|(n, v)| format!("{n}: {v}")))
            .collect();
        format!("Space({})", parts.join(", "))
    }
}
