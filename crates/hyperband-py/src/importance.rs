//! `hyperband.param_importances(study)`: Optuna's `optuna.importance.get_param_importances`
//! by PED-ANOVA, computed by the core (`hyperband::importance`).

use crate::errors;
use crate::study::PyStudy;
use hyperband::importance::{of_study, ImportanceOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Each parameter's importance for getting a result into the best `quantile` of the
/// results, by PED-ANOVA: a dict from parameter name to its share (the shares sum to 1),
/// largest first.
///
/// The results are those at the largest budget with at least 20 of them (one per trial);
/// a `ValueError` says so when no budget has that many, or when the losses tie too much to
/// single out a top set. Fixed parameters (`Space.fixed`) are not searched and not listed.
#[pyfunction]
#[pyo3(signature = (study, *, quantile = 0.1))]
pub fn param_importances<'py>(
    py: Python<'py>,
    study: PyRef<'py, PyStudy>,
    quantile: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let options = ImportanceOptions {
        quantile,
        ..ImportanceOptions::default()
    };
    let study: &PyStudy = &study;
    let importances = py
        .detach(|| study.with_study(|s| of_study(s, &options)))?
        .map_err(errors::value)?;
    let dict = PyDict::new(py);
    for (name, share) in importances.params {
        dict.set_item(name, share)?;
    }
    Ok(dict)
}
