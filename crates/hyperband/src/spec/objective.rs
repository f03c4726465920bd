//! What evaluates a study's jobs, as its stored definition says: a command line (with the
//! rule that reads its metric and its fixed parameters), a built-in workload, or an
//! in-process function. The JSON of each is what the store has always kept, so studies
//! stored before these types existed open unchanged (`tests/stored_definitions.rs`).

use crate::config::Value;
use serde::{Deserialize, Serialize};

/// A study's objective. Untagged: each variant is known by its key (`command`, `builtin`,
/// `python`), as the stored JSON has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ObjectiveSpec {
    /// `{"command": [...], "metric": {...}, "fixed": {...}}`.
    Command(CommandSpec),
    /// `{"builtin": "mnist-mlp"}`: a workload the CLI carries.
    Builtin { builtin: String },
    /// `{"python": "in-process"}`: the Python package's study, whose function no other
    /// process can run; `direction` and `fixed` only when they say something, so that
    /// definitions stored before them read unchanged.
    InProcess {
        python: String,
        #[serde(default, skip_serializing_if = "Direction::is_minimize")]
        direction: Direction,
        /// Parameters with one value: in every configuration the function is given, not
        /// searched.
        #[serde(default, skip_serializing_if = "Vec::is_empty", with = "fixed_map")]
        fixed: Vec<(String, Value)>,
    },
}

/// Which way a study's value is better. The core minimizes a loss; a value to maximize
/// (an accuracy) is its loss's negative, turned back wherever the user reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Minimize,
    Maximize,
}

impl Direction {
    pub const NAMES: &'static str = "minimize, maximize";

    pub fn is_minimize(&self) -> bool {
        *self == Self::Minimize
    }

    /// The loss the core ranks by, for a value the user reported.
    pub fn loss(self, value: f64) -> f64 {
        match self {
            Self::Minimize => value,
            Self::Maximize => -value,
        }
    }

    /// The value the user reported, for a loss (its own inverse).
    pub fn value(self, loss: f64) -> f64 {
        self.loss(loss)
    }
}

impl ObjectiveSpec {
    pub fn command(&self) -> Option<&CommandSpec> {
        match self {
            Self::Command(c) => Some(c),
            _ => None,
        }
    }
}

/// A command line and how to read it: everything a worker started anywhere needs to run
/// the study's jobs as the study file said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    /// The program and its arguments, with `{param}` placeholders.
    pub command: Vec<String>,
    /// How the loss is read; absent: the last line of stdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<MetricSpec>,
    /// Parameters with one value (`[space] batch = { value = 128 }`), in file order: they
    /// fill placeholders but are not searched.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "fixed_map")]
    pub fixed: Vec<(String, Value)>,
}

impl CommandSpec {
    pub fn new(command: Vec<String>) -> Self {
        Self {
            command,
            metric: None,
            fixed: Vec::new(),
        }
    }
}

/// `fixed` as a JSON object in file order (the order the store has always kept).
mod fixed_map {
    use crate::config::Value;
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(fixed: &[(String, Value)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(fixed.len()))?;
        for (name, value) in fixed {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, Value)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, Value)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table of parameter names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    out.push(pair);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// A metric rule as data: what a study file's `[objective] metric` says and what the
/// store keeps with the study's command, so that a worker joining from anywhere reads the
/// program's output the same way. Either a `regex` (with `budget_regex` or `step_budget`)
/// or a named `format` with the metric's `name`. The field order keeps the JSON of
/// definitions stored before formats existed unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// `stdout`, `stderr` or `file:PATH`.
    #[serde(default = "default_source")]
    pub source: String,
    /// `None`: from the format's metric name, else minimize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximize: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_budget: Option<f64>,
    /// A named output format (`crate::objective::command::metric::Format`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The metric a format reads (`val_loss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The key that carries the epoch, for formats with keys (`epoch` unless given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_key: Option<String>,
}

fn default_source() -> String {
    "stdout".to_string()
}

/// Nothing but the source, stdout, as a study file without the other keys says.
impl Default for MetricSpec {
    fn default() -> Self {
        Self {
            regex: None,
            source: default_source(),
            maximize: None,
            budget_regex: None,
            step_budget: None,
            format: None,
            name: None,
            budget_key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objectives as versions before these types stored them (the first three copied from
    /// a database written at commit cd705c9, the last as the Python package wrote it): each
    /// reads into its variant and writes back byte for byte, so a stored definition still
    /// equals the one a study file or script makes today.
    #[test]
    fn stored_objectives_read_and_write_back_unchanged() {
        for (json, is_command) in [
            (
                r#"{"command":["python3","train.py","--lr","{lr}","--batch","{batch}","--epochs","{budget}"],"metric":{"source":"stdout","format":"keras","name":"val_loss"},"fixed":{"batch":64}}"#,
                true,
            ),
            (
                r#"{"command":["python3","train.py","--lr","{lr}"],"metric":{"regex":"val_loss: ([0-9.]+)","source":"stdout","budget_regex":"Epoch (\\d+)/"}}"#,
                true,
            ),
            (r#"{"builtin":"mf-branin"}"#, false),
            (r#"{"python":"in-process"}"#, false),
            (r#"{"command":["./train.sh"]}"#, true),
        ] {
            let spec: ObjectiveSpec = serde_json::from_str(json).unwrap();
            assert_eq!(spec.command().is_some(), is_command, "{json}");
            assert_eq!(serde_json::to_string(&spec).unwrap(), json);
        }
    }

    #[test]
    fn fixed_values_keep_their_order_and_types() {
        let json = r#"{"command":["x"],"fixed":{"tag":"v1","batch":128,"rate":0.5}}"#;
        let spec: ObjectiveSpec = serde_json::from_str(json).unwrap();
        let fixed = &spec.command().unwrap().fixed;
        assert_eq!(
            fixed,
            &vec![
                ("tag".to_string(), Value::Categorical("v1".into())),
                ("batch".to_string(), Value::Int(128)),
                ("rate".to_string(), Value::Float(0.5)),
            ]
        );
        assert_eq!(serde_json::to_string(&spec).unwrap(), json);
    }

    #[test]
    fn an_objective_of_no_known_kind_is_refused() {
        assert!(serde_json::from_str::<ObjectiveSpec>(r#"{"script":"x"}"#).is_err());
        assert!(serde_json::from_str::<ObjectiveSpec>(r#"{"command":["x"],"oops":1}"#).is_err());
    }
}
