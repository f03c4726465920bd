//! Configurations and results between Python objects and the core's types.

use crate::failed::Failed;
use hyperband::{Config, Direction, Evaluation, Outcome, Value};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

pub fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => f.into_pyobject(py)?.into_any(),
        Value::Categorical(s) => s.into_pyobject(py)?.into_any(),
    })
}

pub fn config_to_dict<'py>(py: Python<'py>, config: &Config) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in config.iter() {
        dict.set_item(name, value_to_py(py, value)?)?;
    }
    Ok(dict)
}

/// A configuration from a dict of parameter name to value, checked against `space`.
/// `fixed` names the fixed parameters, which may be given (with their value) or not.
pub fn dict_to_config(
    dict: &Bound<'_, PyDict>,
    space: &hyperband::Space,
    fixed: &[(String, Value)],
) -> PyResult<Config> {
    let mut pairs = Vec::with_capacity(dict.len());
    for (key, value) in dict.iter() {
        let name: String = key
            .extract()
            .map_err(|_| PyTypeError::new_err("configuration keys must be parameter names"))?;
        let value = py_to_value(&name, &value)?;
        if let Some((_, v)) = fixed.iter().find(|(n, _)| *n == name) {
            if *v != value {
                return Err(crate::errors::value(format!(
                    "parameter `{name}` is fixed at {v}, not {value}"
                )));
            }
            continue;
        }
        pairs.push((name, value));
    }
    space.config(pairs).map_err(crate::errors::value)
}

/// One parameter value: an int, a float or a string.
pub fn py_to_value(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if value.is_instance_of::<PyBool>() {
        Err(PyTypeError::new_err(format!(
            "parameter `{name}`: a boolean is not a parameter value; use a categorical"
        )))
    } else if value.is_instance_of::<PyInt>() {
        value.extract().map(Value::Int).map_err(|_| {
            crate::errors::value(format!(
                "parameter `{name}`: {value} does not fit in a 64-bit integer"
            ))
        })
    } else if value.is_instance_of::<PyFloat>() {
        Ok(Value::Float(value.extract()?))
    } else if let Ok(s) = value.cast::<PyString>() {
        Ok(Value::Categorical(s.to_cow()?.into_owned()))
    } else {
        Err(PyTypeError::new_err(format!(
            "parameter `{name}`: a {} is not a parameter value",
            value.get_type().name()?
        )))
    }
}

/// A metric as JSON, for the event log: numbers, strings, booleans and None.
fn metric(value: &Bound<'_, PyAny>, key: &str) -> PyResult<serde_json::Value> {
    if value.is_none() {
        return Ok(serde_json::Value::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(serde_json::Value::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(i) = value.extract::<i64>() {
            return Ok(i.into());
        }
    }
    if value.is_instance_of::<PyFloat>() || value.is_instance_of::<PyInt>() {
        let f: f64 = value.extract()?;
        return Ok(serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned().into());
    }
    Err(PyTypeError::new_err(format!(
        "metric `{key}` is a {}; metrics are numbers, strings, booleans or None",
        value.get_type().name()?
    )))
}

/// Metrics as a dict, JSON values as Python ones.
pub fn metrics_to_dict<'py>(
    py: Python<'py>,
    metrics: &std::collections::BTreeMap<String, serde_json::Value>,
) -> PyResult<Bound<'py, PyDict>> {
    let json = py.import("json")?;
    let dict = PyDict::new(py);
    for (key, value) in metrics {
        let value = match value {
            serde_json::Value::Null => py.None().into_bound(py),
            serde_json::Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => i.into_pyobject(py)?.into_any(),
                None => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
            },
            serde_json::Value::String(s) => s.into_pyobject(py)?.into_any(),
            other => json.call_method1("loads", (other.to_string(),))?,
        };
        dict.set_item(key, value)?;
    }
    Ok(dict)
}

/// What a Python objective or `tell` reported: a number (the objective's value, in the
/// study's `direction`), a dict with that value under `value` or `loss` and other metrics,
/// or `Failed(reason)`. A non-finite value becomes a failure in the core, not here.
pub fn outcome(
    result: &Bound<'_, PyAny>,
    resumed: Option<bool>,
    direction: Direction,
) -> PyResult<Outcome> {
    if let Ok(failed) = result.cast::<Failed>() {
        return Ok(Outcome::failed(failed.get().reason.clone()));
    }
    let mut evaluation = if let Ok(dict) = result.cast::<PyDict>() {
        let value = match (dict.get_item("value")?, dict.get_item("loss")?) {
            (None, Some(_)) if !direction.is_minimize() => {
                return Err(PyTypeError::new_err(
                    "the study maximizes: a result dict has its value under `value`, not \
                     `loss` (which would be maximized)",
                ))
            }
            (Some(value), None) | (None, Some(value)) => value,
            (Some(_), Some(_)) => {
                return Err(PyTypeError::new_err(
                    "a result dict has its value under `value` or `loss`, not both",
                ))
            }
            (None, None) => {
                return Err(PyTypeError::new_err(
                    "a result dict needs its value under `loss` (or `value`)",
                ))
            }
        };
        let mut evaluation = Evaluation::new(direction.loss(loss_of(&value)?));
        for (key, value) in dict.iter() {
            let key: String = key
                .extract()
                .map_err(|_| PyTypeError::new_err("the keys of a result dict must be strings"))?;
            if key == "loss" || key == "value" {
                continue;
            }
            if key == "resumed" {
                evaluation.resumed = Some(value.is_truthy()?);
                continue;
            }
            let json = metric(&value, &key)?;
            evaluation.metrics.insert(key, json);
        }
        evaluation
    } else {
        Evaluation::new(direction.loss(loss_of(result)?))
    };
    if resumed.is_some() {
        evaluation.resumed = resumed;
    }
    Ok(Outcome::Finished(evaluation))
}

fn loss_of(value: &Bound<'_, PyAny>) -> PyResult<f64> {
    if value.is_instance_of::<PyBool>() || value.extract::<f64>().is_err() {
        return Err(PyTypeError::new_err(format!(
            "a result is a number (the objective's value), a dict with a `loss` key, or \
             hyperband.Failed; got {}",
            value.get_type().name()?
        )));
    }
    value.extract()
}
