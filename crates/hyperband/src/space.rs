//! Search spaces: named parameters, each mapped to and from one axis of the unit cube.
//!
//! Samplers work in the unit cube `[0, 1)^d` so that they need not know about scales or
//! types; the space owns the mapping. Integers get equal-width cells of the axis (the range
//! is widened by half a unit on each side before mapping, on the log scale too), so uniform
//! sampling on the axis gives each integer the share its scale promises.
//!
//! A parameter may carry a [`Condition`] (`when`): it is then only part of a configuration
//! when the condition holds on the parameters before it, and *absent* otherwise. Samplers
//! still see a full unit vector: an absent parameter sits at [`INACTIVE_UNIT`].

mod condition;

pub use condition::Condition;

use crate::config::{Config, Value};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// What values a parameter takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Domain {
    /// A real number in `[low, high]`; with a `step`, one of `low, low + step, ..., high`.
    Float {
        low: f64,
        high: f64,
        #[serde(default)]
        log: bool,
        /// Left out of the stored definition when `None`, so existing studies keep their
        /// JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<f64>,
    },
    /// An integer in `[low, high]`, both included; with a `step`, one of `low, low +
    /// step, ..., high`.
    Int {
        low: i64,
        high: i64,
        #[serde(default)]
        log: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<i64>,
    },
    /// One of a list of labels.
    Categorical { choices: Vec<String> },
}

/// The unit coordinate an absent (inactive) parameter is given by [`Space::to_unit`], so
/// that samplers always work on full vectors (SMAC imputes inactive values the same way).
pub const INACTIVE_UNIT: f64 = 0.5;

/// A named parameter of a [`Space`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    #[serde(flatten)]
    pub domain: Domain,
    /// Only part of a configuration when this holds on the parameters defined before it;
    /// left out of the stored definition when `None`, so existing studies keep their JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

/// Why a space or a configuration was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error("parameter `{name}`: low ({low}) must be below high ({high})")]
    EmptyRange {
        name: String,
        low: String,
        high: String,
    },
    /// A step that is not positive, comes with a log scale, or does not divide the range
    /// (Optuna silently lowers `high` there; we say so instead).
    #[error("parameter `{name}`: {message}")]
    Step { name: String, message: String },
    #[error("parameter `{name}`: a log scale needs low > 0, got low = {low}")]
    LogNeedsPositive { name: String, low: String },
    #[error("parameter `{name}`: bounds must be finite numbers, got [{low}, {high}]")]
    NotFinite {
        name: String,
        low: String,
        high: String,
    },
    /// Samplers place a value at `low + u * (high - low)`: with an infinite width every
    /// sample would be `high` (or NaN), so the range is refused rather than silently
    /// searched at one point.
    #[error("parameter `{name}`: the range [{low}, {high}] is too wide: high - low is not a finite number, so it cannot be sampled (keep both bounds within ±8.9e307)")]
    TooWide {
        name: String,
        low: String,
        high: String,
    },
    #[error("parameter `{name}`: a categorical parameter needs at least one choice")]
    NoChoices { name: String },
    #[error("parameter `{name}`: choice `{choice}` is listed twice")]
    DuplicateChoice { name: String, choice: String },
    #[error("parameter `{name}` is defined twice")]
    DuplicateName { name: String },
    #[error("parameter name must not be empty")]
    EmptyName,
    #[error("the space has no parameters")]
    Empty,
    #[error("configuration has no value for parameter `{name}`")]
    Missing { name: String },
    #[error("parameter `{name}`: value {value} is not in its domain ({domain})")]
    OutOfDomain {
        name: String,
        value: String,
        domain: String,
    },
    #[error("configuration names `{name}`, which is not a parameter of the space")]
    Unknown { name: String },
    /// A `when` condition that does not parse or does not fit the parameters it names.
    #[error("parameter `{name}`: {message}")]
    Condition { name: String, message: String },
    #[error("configuration has a value for parameter `{name}`, but its condition `{when}` does not hold")]
    Inactive { name: String, when: String },
}

impl Param {
    pub fn float(name: &str, low: f64, high: f64) -> Self {
        Self::new(
            name,
            Domain::Float {
                low,
                high,
                log: false,
                step: None,
            },
        )
    }
    pub fn log_float(name: &str, low: f64, high: f64) -> Self {
        Self::new(
            name,
            Domain::Float {
                low,
                high,
                log: true,
                step: None,
            },
        )
    }
    pub fn int(name: &str, low: i64, high: i64) -> Self {
        Self::new(
            name,
            Domain::Int {
                low,
                high,
                log: false,
                step: None,
            },
        )
    }
    pub fn log_int(name: &str, low: i64, high: i64) -> Self {
        Self::new(
            name,
            Domain::Int {
                low,
                high,
                log: true,
                step: None,
            },
        )
    }
    pub fn categorical<S: AsRef<str>>(name: &str, choices: &[S]) -> Self {
        let choices = choices.iter().map(|c| c.as_ref().to_string()).collect();
        Self::new(name, Domain::Categorical { choices })
    }
    pub fn new(name: &str, domain: Domain) -> Self {
        Self {
            name: name.to_string(),
            domain,
            when: None,
        }
    }

    /// This parameter, only active when `condition` holds (e.g. `"optimizer == 'sgd'"`);
    /// a condition that does not parse is an error naming the parameter. Whether the names
    /// and literals fit the space is checked by [`Space::new`].
    pub fn when(mut self, condition: &str) -> Result<Self, SpaceError> {
        let c = Condition::parse(condition).map_err(|message| SpaceError::Condition {
            name: self.name.clone(),
            message,
        })?;
        self.when = Some(c);
        Ok(self)
    }

    fn validate(&self) -> Result<(), SpaceError> {
        let name = || self.name.clone();
        if self.name.is_empty() {
            return Err(SpaceError::EmptyName);
        }
        self.validate_step()?;
        match &self.domain {
            Domain::Float { low, high, log, .. } => {
                if !low.is_finite() || !high.is_finite() {
                    return Err(SpaceError::NotFinite {
                        name: name(),
                        low: low.to_string(),
                        high: high.to_string(),
                    });
                }
                check_range(
                    &self.name,
                    *low,
                    *high,
                    *log,
                    low.to_string(),
                    high.to_string(),
                )?;
                // A log axis is ln(high) - ln(low) wide, finite for any positive bounds.
                if !*log && !(high - low).is_finite() {
                    return Err(SpaceError::TooWide {
                        name: name(),
                        low: format!("{low:e}"),
                        high: format!("{high:e}"),
                    });
                }
                Ok(())
            }
            Domain::Int { low, high, log, .. } => check_range(
                &self.name,
                *low as f64,
                *high as f64,
                *log,
                low.to_string(),
                high.to_string(),
            ),
            Domain::Categorical { choices } => {
                if choices.is_empty() {
                    return Err(SpaceError::NoChoices { name: name() });
                }
                let mut seen = HashSet::new();
                for c in choices {
                    if !seen.insert(c) {
                        return Err(SpaceError::DuplicateChoice {
                            name: name(),
                            choice: c.clone(),
                        });
                    }
                }
                Ok(())
            }
        }
    }

    /// A step must be positive, on a linear scale, and divide `high - low`: the grid
    /// then ends at `high` exactly, as the user wrote it.
    fn validate_step(&self) -> Result<(), SpaceError> {
        let fail = |message: String| {
            Err(SpaceError::Step {
                name: self.name.clone(),
                message,
            })
        };
        match &self.domain {
            Domain::Float {
                step: Some(step), ..
            } if !(step.is_finite() && *step > 0.0) => {
                fail(format!("step must be a number > 0, got {step}"))
            }
            Domain::Int {
                step: Some(step), ..
            } if *step <= 0 => fail(format!("step must be an integer > 0, got {step}")),
            Domain::Float {
                log: true,
                step: Some(_),
                ..
            }
            | Domain::Int {
                log: true,
                step: Some(_),
                ..
            } => fail("a step and a log scale do not go together".to_string()),
            Domain::Float {
                low,
                high,
                step: Some(step),
                ..
            } => {
                let k = ((high - low) / step).round();
                if !on_grid(*low, *step, k, *high) {
                    return fail(format!(
                        "step {step} does not divide high - low = {} (make high low + k * step)",
                        high - low
                    ));
                }
                Ok(())
            }
            Domain::Int {
                low,
                high,
                step: Some(step),
                ..
            } if (*high as i128 - *low as i128) % *step as i128 != 0 => fail(format!(
                "step {step} does not divide high - low = {} (make high low + k * step)",
                *high as i128 - *low as i128
            )),
            _ => Ok(()),
        }
    }

    /// A stepped parameter's grid: its first value, its step and how many values it has.
    /// An integer step of 1 is the plain integer axis.
    fn grid(&self) -> Option<(f64, f64, f64)> {
        match &self.domain {
            Domain::Float {
                low,
                high,
                step: Some(step),
                ..
            } => Some((*low, *step, ((high - low) / step).round() + 1.0)),
            Domain::Int {
                low,
                high,
                step: Some(step),
                ..
            } if *step > 1 => Some((
                *low as f64,
                *step as f64,
                ((*high as i128 - *low as i128) / *step as i128) as f64 + 1.0,
            )),
            _ => None,
        }
    }

    /// The parameter's axis of the unit cube, as an interval on the real line (log-mapped
    /// where the scale is log); `to_unit` is an affine map of this interval onto `[0, 1]`.
    /// A stepped parameter's axis is its grid's index, one equal cell per value.
    fn axis(&self) -> (f64, f64) {
        if let Some((_, _, n)) = self.grid() {
            return (0.0, n);
        }
        match &self.domain {
            Domain::Float { low, high, log, .. } => scaled(*low, *high, *log),
            Domain::Int { low, high, log, .. } => {
                scaled(*low as f64 - 0.5, *high as f64 + 0.5, *log && *low > 0)
            }
            Domain::Categorical { choices } => (0.0, choices.len() as f64),
        }
    }

    fn is_log(&self) -> bool {
        match &self.domain {
            Domain::Float { log, .. } | Domain::Int { log, .. } => *log,
            Domain::Categorical { .. } => false,
        }
    }

    /// Maps `u` in `[0, 1]` (values outside are clamped) to a value of this parameter.
    pub fn from_unit(&self, u: f64) -> Value {
        let u = if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) };
        let (a, b) = self.axis();
        let t = a + u * (b - a);
        if let Some((first, step, n)) = self.grid() {
            let i = t.floor().clamp(0.0, n - 1.0);
            return match &self.domain {
                Domain::Int {
                    low, high, step, ..
                } => {
                    // In i128: a grid spanning all of i64 overflows it.
                    let v = *low as i128 + i as i128 * step.unwrap_or(1) as i128;
                    Value::Int(v.clamp(*low as i128, *high as i128) as i64)
                }
                Domain::Float { low, high, .. } => {
                    Value::Float((first + i * step).clamp(*low, *high))
                }
                Domain::Categorical { .. } => unreachable!("categoricals have no grid"),
            };
        }
        let x = if self.is_log() { t.exp() } else { t };
        match &self.domain {
            Domain::Float { low, high, .. } => Value::Float(x.clamp(*low, *high)),
            Domain::Int { low, high, .. } => {
                // Half-open cells: the value at the upper edge of a cell belongs to the next.
                let v = (x + 0.5).floor();
                Value::Int((v as i64).clamp(*low, *high))
            }
            Domain::Categorical { choices } => {
                let i = (t.floor() as usize).min(choices.len() - 1);
                Value::Categorical(choices[i].clone())
            }
        }
    }

    /// The centre of `value`'s cell on the unit axis (exact position for floats).
    pub fn to_unit(&self, value: &Value) -> Result<f64, SpaceError> {
        let (a, b) = self.axis();
        if let Some((first, step, n)) = self.grid() {
            // The index of the grid value `value` is (exactly for integers, within rounding
            // for floats).
            let i = match (&self.domain, value) {
                (
                    Domain::Int {
                        low,
                        high,
                        step: Some(step),
                        ..
                    },
                    Value::Int(x),
                ) if x >= low && x <= high => {
                    let offset = *x as i128 - *low as i128;
                    (offset % *step as i128 == 0).then(|| (offset / *step as i128) as f64)
                }
                (Domain::Float { .. }, v) => v
                    .as_f64()
                    .map(|x| (x, ((x - first) / step).round()))
                    .filter(|&(x, k)| k >= 0.0 && k < n && on_grid(first, step, k, x))
                    .map(|(_, k)| k),
                _ => None,
            };
            let i = i.ok_or_else(|| self.out_of_domain(value))?;
            return Ok(((i + 0.5 - a) / (b - a)).clamp(0.0, 1.0));
        }
        let t = match (&self.domain, value) {
            (Domain::Float { low, high, log, .. }, v) => {
                let x = v.as_f64().filter(|x| *x >= *low && *x <= *high);
                let x = x.ok_or_else(|| self.out_of_domain(value))?;
                if *log {
                    x.ln()
                } else {
                    x
                }
            }
            (Domain::Int { low, high, log, .. }, Value::Int(x)) if x >= low && x <= high => {
                if *log && *low > 0 {
                    // The centre of the cell [x - 0.5, x + 0.5) on the log axis.
                    let x = *x as f64;
                    ((x - 0.5).ln() + (x + 0.5).ln()) / 2.0
                } else {
                    *x as f64
                }
            }
            (Domain::Categorical { choices }, Value::Categorical(c)) => {
                let i = choices
                    .iter()
                    .position(|x| x == c)
                    .ok_or_else(|| self.out_of_domain(value))?;
                i as f64 + 0.5
            }
            _ => return Err(self.out_of_domain(value)),
        };
        Ok(((t - a) / (b - a)).clamp(0.0, 1.0))
    }

    /// Checks that `value` belongs to this parameter.
    pub fn check(&self, value: &Value) -> Result<(), SpaceError> {
        self.to_unit(value).map(|_| ())
    }

    fn out_of_domain(&self, value: &Value) -> SpaceError {
        SpaceError::OutOfDomain {
            name: self.name.clone(),
            value: value.to_string(),
            domain: self.describe(),
        }
    }

    /// A short human description, e.g. `float in [0.001, 0.1], log`.
    pub fn describe(&self) -> String {
        let scale = |log: bool, step: Option<String>| match (log, step) {
            (true, _) => ", log".to_string(),
            (false, Some(step)) => format!(", step {step}"),
            (false, None) => String::new(),
        };
        match &self.domain {
            Domain::Float {
                low,
                high,
                log,
                step,
            } => format!(
                "float in [{low}, {high}]{}",
                scale(*log, step.map(|s| s.to_string()))
            ),
            Domain::Int {
                low,
                high,
                log,
                step,
            } => format!(
                "int in [{low}, {high}]{}",
                scale(*log, step.map(|s| s.to_string()))
            ),
            Domain::Categorical { choices } => format!("one of {choices:?}"),
        }
    }
}

fn check_range(
    name: &str,
    low: f64,
    high: f64,
    log: bool,
    low_s: String,
    high_s: String,
) -> Result<(), SpaceError> {
    if low >= high || low.is_nan() || high.is_nan() {
        return Err(SpaceError::EmptyRange {
            name: name.to_string(),
            low: low_s,
            high: high_s,
        });
    }
    if log && low <= 0.0 {
        return Err(SpaceError::LogNeedsPositive {
            name: name.to_string(),
            low: low_s,
        });
    }
    Ok(())
}

/// Whether `x` is the grid's `k`-th value `first + k * step`, up to the rounding of that
/// sum: the one rule for a float grid, used both to check that a step divides a range
/// (`x` = high) and to accept a value as a grid value.
fn on_grid(first: f64, step: f64, k: f64, x: f64) -> bool {
    let slack = 1e-9 * step + 4.0 * f64::EPSILON * x.abs().max(first.abs());
    (first + k * step - x).abs() <= slack
}

fn scaled(low: f64, high: f64, log: bool) -> (f64, f64) {
    if log {
        (low.ln(), high.ln())
    } else {
        (low, high)
    }
}

/// An ordered set of uniquely named parameters; cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    params: Arc<[Param]>,
    names: Arc<[String]>,
}

impl Space {
    /// Validates every parameter; the first problem found is the error.
    pub fn new(params: Vec<Param>) -> Result<Self, SpaceError> {
        if params.is_empty() {
            return Err(SpaceError::Empty);
        }
        let mut seen = HashSet::new();
        for (i, p) in params.iter().enumerate() {
            p.validate()?;
            if !seen.insert(p.name.as_str()) {
                return Err(SpaceError::DuplicateName {
                    name: p.name.clone(),
                });
            }
            if let Some(c) = &p.when {
                // Only parameters defined before this one: evaluation in order is then
                // well-defined and a cycle cannot be written.
                c.check(&params[..i])
                    .map_err(|message| SpaceError::Condition {
                        name: p.name.clone(),
                        message,
                    })?;
            }
        }
        let names = params.iter().map(|p| p.name.clone()).collect();
        Ok(Self {
            params: params.into(),
            names,
        })
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn names(&self) -> &Arc<[String]> {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.params.len()
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Whether parameter `i` is active given the values so far (`values[j]` for `j < i` is
    /// all its condition may read).
    fn active(&self, i: usize, values: &[Option<Value>]) -> bool {
        match &self.params[i].when {
            None => true,
            Some(c) => c.holds(|n| self.index_of(n).and_then(|j| values.get(j)?.as_ref())),
        }
    }

    /// Maps one coordinate per parameter, in order, leaving out parameters whose condition
    /// does not hold on the ones before them.
    fn build(&self, u: impl Iterator<Item = f64>) -> Config {
        let mut values: Vec<Option<Value>> = Vec::with_capacity(self.len());
        for (i, x) in u.enumerate() {
            let v = self.active(i, &values).then(|| self.params[i].from_unit(x));
            values.push(v);
        }
        Config::new(self.names.clone(), values)
    }

    /// The configuration at point `u` of the unit cube (one coordinate per parameter; the
    /// coordinate of a parameter whose condition is false is ignored and it is absent).
    pub fn from_unit(&self, u: &[f64]) -> Config {
        assert_eq!(u.len(), self.len(), "unit point has the wrong dimension");
        self.build(u.iter().copied())
    }

    /// The point of the unit cube that represents `config`; an absent parameter is at
    /// [`INACTIVE_UNIT`].
    pub fn to_unit(&self, config: &Config) -> Result<Vec<f64>, SpaceError> {
        self.check(config)?;
        self.params
            .iter()
            .enumerate()
            .map(|(i, p)| match config.at(i) {
                Some(v) => p.to_unit(v),
                None => Ok(INACTIVE_UNIT),
            })
            .collect()
    }

    /// A uniformly random configuration (uniform on each parameter's scale). One number is
    /// drawn per parameter, absent or not, so the stream does not depend on the conditions.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Config {
        let u: Vec<f64> = (0..self.len()).map(|_| rng.random::<f64>()).collect();
        self.build(u.into_iter())
    }

    /// Checks that `config` names exactly this space's parameters, in order, with values in
    /// their domains, a value present exactly for the parameters whose condition holds.
    pub fn check(&self, config: &Config) -> Result<(), SpaceError> {
        for (name, _) in config.iter() {
            if self.index_of(name).is_none() {
                return Err(SpaceError::Unknown { name: name.clone() });
            }
        }
        let mut values: Vec<Option<Value>> = Vec::with_capacity(self.len());
        for (i, p) in self.params.iter().enumerate() {
            match config.names().get(i) {
                Some(n) if *n == p.name => {}
                _ => {
                    return Err(SpaceError::Missing {
                        name: p.name.clone(),
                    })
                }
            }
            let value = config.at(i);
            self.check_presence(i, &values, value.is_some())?;
            if let Some(v) = value {
                p.check(v)?;
            }
            values.push(value.cloned());
        }
        Ok(())
    }

    /// A value must be given exactly when parameter `i`'s condition holds.
    fn check_presence(
        &self,
        i: usize,
        values: &[Option<Value>],
        given: bool,
    ) -> Result<(), SpaceError> {
        let p = &self.params[i];
        match (self.active(i, values), given) {
            (true, false) => Err(SpaceError::Missing {
                name: p.name.clone(),
            }),
            (false, true) => Err(SpaceError::Inactive {
                name: p.name.clone(),
                when: p.when.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            }),
            _ => Ok(()),
        }
    }

    /// Builds a configuration of this space from `(name, value)` pairs in any order; a
    /// parameter whose condition does not hold must be left out, every other one given.
    pub fn config<I, S>(&self, pairs: I) -> Result<Config, SpaceError>
    where
        I: IntoIterator<Item = (S, Value)>,
        S: AsRef<str>,
    {
        let mut values: Vec<Option<Value>> = vec![None; self.len()];
        for (name, value) in pairs {
            let i = self
                .index_of(name.as_ref())
                .ok_or_else(|| SpaceError::Unknown {
                    name: name.as_ref().to_string(),
                })?;
            // An integer written where a float is expected is still that number, and so is
            // a whole float where an integer is (`3.0` from JSON or Python): not "value 3 is
            // not in its domain".
            let value = match (&self.params[i].domain, value) {
                (Domain::Float { .. }, Value::Int(x)) => Value::Float(x as f64),
                (Domain::Int { .. }, Value::Float(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
                    Value::Int(x as i64)
                }
                (_, v) => v,
            };
            self.params[i].check(&value)?;
            values[i] = Some(value);
        }
        for i in 0..self.len() {
            self.check_presence(i, &values[..i], values[i].is_some())?;
        }
        Ok(Config::new(self.names.clone(), values))
    }
}
