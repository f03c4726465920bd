//! The second pass over `[space]`: each parameter's type, bounds and choices, its `when`
//! condition, the fixed ones (`value = ...`), and the names they are passed by.

use super::check::Checker;
use super::errors::at;
use super::raw::{RawParam, RawSpace};
use hyperband::objective::command::{param_env_var, JOB_PLACEHOLDERS};
use hyperband::{Domain, Param, Space, SpaceError, Value};
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;

/// A bound as written: integers stay exact for int parameters.
#[derive(Clone, Copy)]
enum Bound {
    Int(i64),
    Float(f64),
}

impl Bound {
    fn as_f64(self) -> f64 {
        match self {
            Bound::Int(i) => i as f64,
            Bound::Float(x) => x,
        }
    }
}

/// A parameter of `[space]`: searched, or fixed at one value.
enum Parsed {
    Searched(Param),
    Fixed(Value),
}

/// `[space]` checked: the searched parameters, and the fixed ones in file order.
pub(super) type CheckedSpace = (Space, Vec<(String, Value)>);

impl Checker<'_> {
    /// Every parameter is checked, and its name apart from its table, so that one bad
    /// parameter hides nothing about the others.
    pub(super) fn space(&mut self, raw: &RawSpace) -> Option<CheckedSpace> {
        if raw.params.is_empty() {
            return self.fail(self.ctx.error_naming_key(
                at(&["space", ""], raw.span.clone()),
                "the study needs at least one parameter",
            ));
        }
        let mut params: Vec<Param> = Vec::new();
        let mut fixed = Vec::new();
        // Parameters whose table was refused: a condition naming one is not checked.
        let mut failed: Vec<&str> = Vec::new();
        let mut all_good = true;
        let mut env_vars: HashMap<String, &str> = HashMap::new();
        for (name, p) in &raw.params {
            let n = name.get_ref().as_str();
            if JOB_PLACEHOLDERS.contains(&n) {
                all_good = false;
                self.report(self.ctx.error(
                    at(&["space", n], name.span()),
                    format!(
                        "`{n}` is reserved for the job's own placeholder `{{{n}}}`; rename the parameter"
                    ),
                ));
            } else if let Some(other) = env_vars.insert(param_env_var(n), n) {
                all_good = false;
                self.report(self.ctx.error(
                    at(&["space", n], name.span()),
                    format!(
                        "parameters `{other}` and `{n}` would both be passed as {}; rename one",
                        param_env_var(n)
                    ),
                ));
            }
            match p.as_ref().and_then(|p| self.param(name, p)) {
                Some(Parsed::Searched(param)) => {
                    let raw = p.as_ref().expect("parsed from it");
                    if self.condition_fits(&params, &failed, &param, raw) {
                        params.push(param);
                    } else {
                        all_good = false;
                        failed.push(n);
                    }
                }
                Some(Parsed::Fixed(v)) => fixed.push((n.to_string(), v)),
                None => {
                    all_good = false;
                    failed.push(n);
                }
            }
        }
        if all_good && params.is_empty() {
            return self.fail(self.ctx.error_naming_key(
                at(&["space", ""], raw.span.clone()),
                "every parameter is fixed (`value = ...`); the study needs at least one to search",
            ));
        }
        all_good.then(|| {
            let space =
                Space::new(params).expect("each parameter was checked, and TOML keys are unique");
            (space, fixed)
        })
    }

    /// Whether `param`'s condition (if any) names parameters defined before it, with
    /// literals that fit them; the mistake is reported at its `when`. A condition naming a
    /// parameter whose own table was refused is not held against it.
    fn condition_fits(
        &mut self,
        before: &[Param],
        failed: &[&str],
        param: &Param,
        raw: &RawParam,
    ) -> bool {
        let Some(c) = &param.when else {
            return true;
        };
        if c.names().iter().any(|n| failed.contains(n)) {
            return true;
        }
        let mut prefix = before.to_vec();
        prefix.push(param.clone());
        match Space::new(prefix) {
            Ok(_) => true,
            Err(e) => {
                let n = param.name.as_str();
                let span = raw.when.as_ref().map_or(0..0, |w| w.span());
                let message = e.to_string();
                let prefix = format!("parameter `{n}`: ");
                let message = message.strip_prefix(&prefix).unwrap_or(&message);
                self.report(self.ctx.error(at(&["space", n, "when"], span), message));
                false
            }
        }
    }

    /// `{ value = X }`: nothing else may be given, and X is a number or a string.
    fn fixed(&mut self, name: &Spanned<String>, p: &RawParam) -> Option<Parsed> {
        let n = name.get_ref().as_str();
        let spans = [
            ("type", p.kind.as_ref().map(|k| k.span())),
            ("low", p.low.as_ref().map(|v| v.span())),
            ("high", p.high.as_ref().map(|v| v.span())),
            ("log", p.log.as_ref().map(|v| v.span())),
            ("step", p.step.as_ref().map(|v| v.span())),
            ("choices", p.choices.as_ref().map(|v| v.span())),
            ("when", p.when.as_ref().map(|v| v.span())),
        ];
        let mut ok = true;
        for (k, span) in spans {
            if let Some(span) = span {
                ok = false;
                let keys = ["space", n, k];
                self.report(self.ctx.error_naming_key(
                    at(&keys, span),
                    format!("`{k}` does not go with `value`: a fixed parameter has only its value"),
                ));
            }
        }
        let v = p.value.as_ref().expect("called for a fixed parameter");
        let value = match v.get_ref() {
            toml::Value::Integer(i) => Some(Value::Int(*i)),
            toml::Value::Float(x) if x.is_finite() => Some(Value::Float(*x)),
            toml::Value::String(s) => {
                let keys = ["space", n, "value"];
                if !self.passable(&keys, v.span(), "value", s) {
                    return None;
                }
                Some(Value::Categorical(s.clone()))
            }
            other => {
                let keys = ["space", n, "value"];
                return self.fail(self.ctx.error(
                    at(&keys, v.span()),
                    format!("a fixed value must be a number or a string, got {other}"),
                ));
            }
        };
        if ok {
            value.map(Parsed::Fixed)
        } else {
            None
        }
    }

    fn param(&mut self, name: &Spanned<String>, p: &RawParam) -> Option<Parsed> {
        if p.value.is_some() {
            return self.fixed(name, p);
        }
        let n = name.get_ref().as_str();
        let key = |k: &'static str| -> [&str; 3] { ["space", n, k] };
        let Some(kind) = &p.kind else {
            let keys = key("type");
            return self.fail(
                self.ctx
                    .error_naming_key(at(&keys, name.span()), "missing key `type`"),
            );
        };
        let kind = kind.get_ref().as_str();
        let domain = match kind {
            "float" | "int" => {
                if let Some(c) = &p.choices {
                    let k = key("choices");
                    return self.fail(self.ctx.error_naming_key(
                        at(&k, c.span()),
                        format!("`choices` is for categorical parameters; a {kind} parameter has low, high and log"),
                    ));
                }
                // Both bounds are checked before giving up on either.
                let low = self.bound(&p.low, n, "low", kind, name.span());
                let high = self.bound(&p.high, n, "high", kind, name.span());
                let (low, high) = (low?, high?);
                let log = p.log.as_ref().is_some_and(|l| *l.get_ref());
                let step = match &p.step {
                    Some(_) => Some(self.bound(&p.step, n, "step", kind, name.span())?),
                    None => None,
                };
                match (low, high) {
                    (Bound::Int(low), Bound::Int(high)) if kind == "int" => Domain::Int {
                        low,
                        high,
                        log,
                        // A step of 1 is the plain integer axis, stored as it always was.
                        step: step
                            .map(|s| match s {
                                Bound::Int(s) => s,
                                Bound::Float(_) => {
                                    unreachable!("`bound` refuses a float step for an int")
                                }
                            })
                            .filter(|s| *s != 1),
                    },
                    _ => Domain::Float {
                        low: low.as_f64(),
                        high: high.as_f64(),
                        log,
                        step: step.map(|s| s.as_f64()),
                    },
                }
            }
            "categorical" => {
                for (k, v) in [("low", &p.low), ("high", &p.high), ("step", &p.step)] {
                    if let Some(v) = v {
                        let keys = key(k);
                        return self.fail(self.ctx.error_naming_key(
                            at(&keys, v.span()),
                            format!("`{k}` is for float and int parameters; a categorical parameter has choices"),
                        ));
                    }
                }
                if let Some(l) = &p.log {
                    let keys = key("log");
                    return self.fail(self.ctx.error_naming_key(
                        at(&keys, l.span()),
                        "`log` is for float and int parameters; a categorical parameter has choices",
                    ));
                }
                let Some(choices) = &p.choices else {
                    let keys = key("choices");
                    return self.fail(
                        self.ctx
                            .error_naming_key(at(&keys, name.span()), "missing key `choices`"),
                    );
                };
                let mut labels = Vec::new();
                for c in choices.get_ref() {
                    let Some(s) = c.get_ref().as_str() else {
                        let keys = key("choices");
                        return self.fail(self.ctx.error(
                            at(&keys, c.span()),
                            format!(
                                "choices must be strings, got {} (write \"{}\", or use type = \"int\" or \"float\")",
                                c.get_ref(),
                                c.get_ref()
                            ),
                        ));
                    };
                    labels.push(s.to_string());
                }
                let keys = key("choices");
                let passable: Vec<bool> = choices
                    .get_ref()
                    .iter()
                    .zip(&labels)
                    .map(|(c, s)| self.passable(&keys, c.span(), "choice", s))
                    .collect();
                if passable.contains(&false) {
                    return None;
                }
                Domain::Categorical { choices: labels }
            }
            other => {
                let keys = key("type");
                let span = p.kind.as_ref().map_or(name.span(), |k| k.span());
                return self.fail(self.ctx.error(
                    at(&keys, span),
                    format!(
                        "unknown parameter type `{other}` (expected float, int or categorical)"
                    ),
                ));
            }
        };
        let param = Param::new(n, domain);
        if let Err(e) = Space::new(vec![param.clone()]) {
            let error = self.space_error(&e, name, p);
            return self.fail(error);
        }
        match &p.when {
            None => Some(Parsed::Searched(param)),
            Some(w) => match param.when(w.get_ref()) {
                Ok(param) => Some(Parsed::Searched(param)),
                Err(e) => {
                    let message = e.to_string();
                    let prefix = format!("parameter `{n}`: ");
                    let message = message.strip_prefix(&prefix).unwrap_or(&message);
                    let keys = key("when");
                    self.fail(self.ctx.error(at(&keys, w.span()), message))
                }
            },
        }
    }

    /// A `low` or `high`: present, a number, and an integer for int parameters.
    fn bound(
        &mut self,
        v: &Option<Spanned<toml::Value>>,
        name: &str,
        which: &'static str,
        kind: &str,
        name_span: Range<usize>,
    ) -> Option<Bound> {
        let keys = ["space", name, which];
        let Some(v) = v else {
            return self.fail(
                self.ctx
                    .error_naming_key(at(&keys, name_span), format!("missing key `{which}`")),
            );
        };
        match (kind, v.get_ref()) {
            (_, toml::Value::Integer(i)) => Some(Bound::Int(*i)),
            ("float", toml::Value::Float(x)) => Some(Bound::Float(*x)),
            ("int", other) => self.fail(self.ctx.error(
                at(&keys, v.span()),
                format!("an int parameter needs an integer, got {other}"),
            )),
            (_, other) => self.fail(self.ctx.error(
                at(&keys, v.span()),
                format!("expected a number, got {other}"),
            )),
        }
    }

    /// The library's own check of a parameter, pointed at the key it is about.
    fn space_error(
        &self,
        e: &SpaceError,
        name: &Spanned<String>,
        p: &RawParam,
    ) -> super::StudyFileError {
        let n = name.get_ref().as_str();
        let span_of = |v: &Option<Spanned<toml::Value>>| v.as_ref().map(|v| v.span());
        let (key, span) = match e {
            SpaceError::EmptyRange { .. }
            | SpaceError::NotFinite { .. }
            | SpaceError::TooWide { .. } => ("low", span_of(&p.low)),
            SpaceError::LogNeedsPositive { .. } => {
                ("log", p.log.as_ref().map(|l| l.span()).or(span_of(&p.low)))
            }
            SpaceError::Step { .. } => ("step", span_of(&p.step)),
            SpaceError::NoChoices { .. } => ("choices", p.choices.as_ref().map(|c| c.span())),
            SpaceError::DuplicateChoice { choice, .. } => (
                "choices",
                p.choices.as_ref().map(|c| {
                    c.get_ref()
                        .iter()
                        .filter(|x| x.get_ref().as_str() == Some(choice))
                        .nth(1)
                        .map_or(c.span(), |x| x.span())
                }),
            ),
            _ => ("", None),
        };
        let message = e.to_string();
        let prefix = format!("parameter `{n}`: ");
        let message = message.strip_prefix(&prefix).unwrap_or(&message);
        let keys = ["space", n, key];
        self.ctx
            .error_naming_key(at(&keys, span.unwrap_or(name.span())), message)
    }
}
