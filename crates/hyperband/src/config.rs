//! Configurations: one value per parameter of a space.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// The value of one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Float(f64),
    Categorical(String),
}

impl Value {
    /// The value as a number (integers widened); `None` for categorical labels.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(x) => Some(*x as f64),
            Value::Float(x) => Some(*x),
            Value::Categorical(_) => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(x) => Some(*x),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Categorical(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(x) => write!(f, "{x}"),
            // `{}` on f64 prints the shortest text that reads back to the same number.
            Value::Float(x) => write!(f, "{x}"),
            Value::Categorical(s) => f.write_str(s),
        }
    }
}

/// A point of a space: values in the space's parameter order, sharing its name list.
///
/// A parameter whose `when` condition does not hold is *absent*: [`Config::get`] answers
/// `None` for it and [`Config::iter`] (hence JSON, CSV and stored configurations) leaves it
/// out; [`Config::names`] still lists every parameter of the space.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    names: Arc<[String]>,
    /// The present values, in parameter order.
    values: Vec<Value>,
    /// For each parameter, the index of its value in `values`, or `None` when absent.
    slots: Vec<Option<usize>>,
}

impl Config {
    /// Pairs `names` with `values` (`None`: absent); callers outside this crate go through
    /// [`crate::Space::config`], which validates.
    pub(crate) fn new(names: Arc<[String]>, values: Vec<Option<Value>>) -> Self {
        debug_assert_eq!(names.len(), values.len());
        let mut slots = Vec::with_capacity(values.len());
        let mut present = Vec::with_capacity(values.len());
        for v in values {
            match v {
                Some(v) => {
                    slots.push(Some(present.len()));
                    present.push(v);
                }
                None => slots.push(None),
            }
        }
        Self {
            names,
            values: present,
            slots,
        }
    }

    /// The value of `name`; `None` when the space has no such parameter or it is absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let i = self.names.iter().position(|n| n == name)?;
        self.at(i)
    }

    /// The value of the `i`-th parameter of the space; `None` when absent (or out of range).
    pub fn at(&self, i: usize) -> Option<&Value> {
        self.slots
            .get(i)
            .copied()
            .flatten()
            .map(|j| &self.values[j])
    }

    /// The numeric value of `name` (integers widened).
    pub fn f64(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(Value::as_f64)
    }

    /// Every parameter name of the space, present or not.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The present values, in parameter order (all of them when no parameter is absent).
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The present `(name, value)` pairs, in parameter order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.names
            .iter()
            .zip(self.slots.iter())
            .filter_map(|(n, s)| s.map(|j| (n, &self.values[j])))
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (n, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}

impl Serialize for Config {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (n, v) in self.iter() {
            map.serialize_entry(n, v)?;
        }
        map.end()
    }
}
