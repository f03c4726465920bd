//! The first pass: the file as serde sees it, with unknown keys and wrong types refused.
//!
//! serde stops at the first refusal, so each table (and each parameter of `[space]`) is
//! read on its own, and an entry serde refuses is reported, taken out and the rest read
//! again. One wrong key therefore costs neither its neighbours' checks nor the other
//! tables'. The refused keys are kept, so that the second pass does not also complain
//! that they are missing.

use super::errors::{at, Ctx, StudyFileError};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashSet;
use std::ops::Range;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

/// The top-level keys, in the order the unknown-key message lists them.
const KEYS: &[&str] = &[
    "name",
    "seed",
    "storage",
    "objective",
    "space",
    "algorithm",
    "run",
    "enqueue",
];
const REQUIRED: &[&str] = &["name", "objective", "space", "algorithm"];

/// What the first pass could read: a part is `None` when it is absent or was refused
/// (and then `errors` says why, or it is optional).
#[derive(Default)]
pub(super) struct RawFile {
    pub name: Option<Spanned<String>>,
    pub seed: Option<Spanned<u64>>,
    pub storage: Option<Spanned<String>>,
    pub objective: Option<Spanned<RawObjective>>,
    pub space: Option<RawSpace>,
    pub algorithm: Option<Spanned<RawAlgorithm>>,
    pub run: Option<Spanned<RawRun>>,
    /// `[[enqueue]]`: configurations to evaluate first, parameter name to value.
    pub enqueue: Option<Spanned<Vec<Spanned<RawConfig>>>>,
    pub errors: Vec<StudyFileError>,
    /// Dotted paths of the entries refused here (`run.max_trials`).
    pub refused: HashSet<String>,
}

/// `[space]`: its parameters in file order, since parameter order decides how samplers
/// map the unit cube; a parameter is `None` when its own table was refused, and still
/// listed, so that placeholders naming it are not reported as well.
pub(super) struct RawSpace {
    pub span: Range<usize>,
    pub params: Vec<(Spanned<String>, Option<RawParam>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawObjective {
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    pub builtin: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub resumable: Option<Spanned<bool>>,
    pub retries: Option<Spanned<u32>>,
    pub line_buffered: Option<Spanned<bool>>,
    pub metric: Option<Spanned<RawMetric>>,
}

/// `[objective] metric = { regex = '...', ... }` or `{ format = "keras", name = "..." }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetric {
    pub regex: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub budget_key: Option<Spanned<String>>,
    pub source: Option<Spanned<String>>,
    pub maximize: Option<Spanned<bool>>,
    pub budget_regex: Option<Spanned<String>>,
    pub step_budget: Option<Spanned<f64>>,
}

/// One `[[enqueue]]` table, in file order.
pub(super) type RawConfig = toml::map::Map<String, toml::Value>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawParam {
    /// Required unless `value` makes the parameter a fixed one.
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    pub low: Option<Spanned<toml::Value>>,
    pub high: Option<Spanned<toml::Value>>,
    pub log: Option<Spanned<bool>>,
    /// `step = 16`: only `low, low + step, ..., high`.
    pub step: Option<Spanned<toml::Value>>,
    pub choices: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    /// `when = "optimizer == 'sgd'"`: only part of a configuration when this holds.
    pub when: Option<Spanned<String>>,
    /// `value = 128`: a fixed parameter, not searched, passed like any other.
    pub value: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlgorithm {
    pub scheduler: Spanned<String>,
    pub sampler: Option<Spanned<String>>,
    pub min_budget: Option<Spanned<f64>>,
    pub max_budget: Spanned<f64>,
    pub eta: Option<Spanned<u32>>,
    pub bracket_sizes: Option<Spanned<String>>,
    pub n_configs: Option<Spanned<u64>>,
    pub max_brackets: Option<Spanned<u64>>,
    pub mode: Option<Spanned<String>>,
    pub integer_budgets: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRun {
    pub workers: Option<Spanned<u64>>,
    pub max_total_budget: Option<Spanned<f64>>,
    pub max_trials: Option<Spanned<u64>>,
    pub max_time: Option<Spanned<String>>,
}

/// Reads `ctx.text`; `Err` only when it is not TOML at all (then nothing else can be said).
pub(super) fn read(ctx: &Ctx) -> Result<RawFile, StudyFileError> {
    let doc = DeTable::parse(ctx.text).map_err(|e| ctx.syntax_error(&e))?;
    let mut file = RawFile::default();
    let mut present = HashSet::new();
    for (key, value) in doc.into_inner() {
        let k = key.get_ref().to_string();
        match k.as_str() {
            "name" => file.name = file.read(ctx, value, &[]),
            "seed" => file.seed = file.read(ctx, value, &[]),
            "storage" => file.storage = file.read(ctx, value, &[]),
            "objective" => file.objective = file.read(ctx, value, &["objective"]),
            "space" => file.space = file.space(ctx, value),
            "algorithm" => file.algorithm = file.read(ctx, value, &["algorithm"]),
            "run" => file.run = file.read(ctx, value, &["run"]),
            "enqueue" => file.enqueue = file.read(ctx, value, &["enqueue"]),
            other => {
                let expected: Vec<String> = KEYS.iter().map(|k| format!("`{k}`")).collect();
                file.errors.push(ctx.error_naming_key(
                    at(&[other], key.span()),
                    format!(
                        "unknown key `{other}`, expected one of {}",
                        expected.join(", ")
                    ),
                ));
            }
        }
        present.insert(k);
    }
    for key in REQUIRED {
        if !present.contains(*key) {
            file.errors
                .push(ctx.error_naming_key(at(&[key], 0..0), format!("missing key `{key}`")));
        }
    }
    Ok(file)
}

impl RawFile {
    /// `value` as a `T` (a table's struct, whose path is `table`, or a scalar): every entry
    /// serde refuses is reported and dropped, and the rest is read again. `None` when a
    /// required entry is refused or missing, or the value is not even a table.
    fn read<T: DeserializeOwned>(
        &mut self,
        ctx: &Ctx,
        mut value: Spanned<DeValue<'_>>,
        table: &[&str],
    ) -> Option<Spanned<T>> {
        loop {
            let e = match Spanned::<T>::deserialize(ValueDeserializer::from(value.clone())) {
                Ok(v) => return Some(v),
                Err(e) => e,
            };
            let error = ctx.serde_error(&e);
            // Missing because it was refused: its refusal said it already.
            if self.refused.contains(&error.key) {
                return None;
            }
            self.errors.push(error);
            let pos = e.span()?.start;
            // The innermost entry at the error goes, not the whole inline table it is in
            // (`metric = { step_bugdet = 1, source = 'stdot' }` reports both).
            let mut path: Vec<String> = table.iter().map(|s| s.to_string()).collect();
            let mut entries = match value.get_mut() {
                DeValue::Table(entries) => entries,
                _ => return None,
            };
            loop {
                let culprit = entries
                    .iter()
                    .find(|(k, v)| k.span().contains(&pos) || v.span().contains(&pos))
                    .map(|(k, _)| k.get_ref().to_string())?;
                path.push(culprit.clone());
                let inner = entries.get(culprit.as_str()).is_some_and(|v| {
                    matches!(v.get_ref(), DeValue::Table(t)
                        if t.iter().any(|(k, v)| k.span().contains(&pos) || v.span().contains(&pos)))
                });
                if !inner {
                    entries.remove(culprit.as_str());
                    break;
                }
                entries = match entries.get_mut(culprit.as_str()).map(|v| v.get_mut()) {
                    Some(DeValue::Table(t)) => t,
                    _ => return None,
                };
            }
            self.refused.insert(path.join("."));
        }
    }

    /// `[space]`, one parameter at a time.
    fn space(&mut self, ctx: &Ctx, value: Spanned<DeValue<'_>>) -> Option<RawSpace> {
        let span = value.span();
        let kind = value.get_ref().type_str();
        let DeValue::Table(entries) = value.into_inner() else {
            self.errors.push(ctx.error(
                at(&["space"], span),
                format!("expected a table of parameters, got {kind}"),
            ));
            return None;
        };
        let mut params = Vec::new();
        for (name, p) in entries {
            let n = name.get_ref().to_string();
            let param = self.read(ctx, p, &["space", &n]).map(Spanned::into_inner);
            params.push((Spanned::new(name.span(), n), param));
        }
        Some(RawSpace { span, params })
    }
}
