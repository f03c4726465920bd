//! Study files: the TOML contract of DESIGN.md, checked before anything runs.
//!
//! Every mistake is reported as `FILE:LINE: [table] key ...`, because a study file is
//! written by hand and the line is what its author needs. Parsing happens in two passes:
//! serde with `deny_unknown_fields` and spanned values catches unknown keys and wrong
//! types (its error spans are mapped back to key paths through the spanned document), and
//! a second pass checks meanings (ranges, names, budgets) with the spans it kept.

use hyperband::objective::command::{param_env_var, placeholders, JOB_PLACEHOLDERS};
use hyperband::objective::CommandObjective;
use hyperband::storage::{StorageError, StorageUrl};
use hyperband::{
    AlgorithmSpec, BracketSizes, Budgets, CostModel, Domain, Limits, Param, PlanError, SamplerKind,
    SchedulerKind, Space, SpaceError, StudySpec,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Where a study keeps its event log unless its file says otherwise (beside the file).
pub const DEFAULT_STORAGE: &str = "sqlite:hyperband.db";

/// A study file, parsed and checked: building its parts cannot fail (except samplers that
/// are not written yet).
#[derive(Debug, Clone)]
pub struct StudyFile {
    /// The file as it was named, for messages.
    pub path: PathBuf,
    pub name: String,
    pub seed: u64,
    pub storage: StorageUrl,
    pub objective: Objective,
    space: Space,
    pub algorithm: AlgorithmSpec,
    pub run: RunSpec,
    /// Things that are allowed but probably not meant, formatted like errors.
    pub warnings: Vec<String>,
    dir: PathBuf,
}

/// What evaluates a job.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectiveKind {
    /// A program and its arguments, with `{placeholders}`.
    Command(Vec<String>),
    /// A workload built into the binary, by name (the caller checks the name).
    Builtin(String),
}

/// The `[objective]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub kind: ObjectiveKind,
    pub timeout: Option<Duration>,
    /// The command continues from `HYPERBAND_CHECKPOINT_DIR`, so a promotion costs only
    /// the budget it adds.
    pub resumable: bool,
    pub retries: u32,
}

/// The `[run]` table: how to run, and when to stop; none of it is part of the study's
/// identity, so it may change between resumes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    pub workers: usize,
    pub max_total_budget: Option<f64>,
    pub max_trials: Option<u64>,
    pub max_time: Option<Duration>,
}

/// A problem in a study file, located for its author.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyFileError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no place in the file (it could not be read).
    pub line: usize,
    /// The dotted key path of the culprit (`space.lr.low`), empty when there is none.
    pub key: String,
    /// The message without the file and line, starting with the table and key.
    pub message: String,
}

impl fmt::Display for StudyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for StudyFileError {}

impl StudyFile {
    pub fn load(path: impl AsRef<Path>) -> Result<Self, StudyFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| StudyFileError {
            file: path.to_path_buf(),
            line: 0,
            key: String::new(),
            message: format!("cannot read the study file: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses `text` as if read from `path` (which places relative storage paths and the
    /// command's working directory).
    pub fn parse(text: &str, path: &Path) -> Result<Self, StudyFileError> {
        let ctx = Ctx { text, path };
        let raw: RawFile = toml::from_str(text).map_err(|e| ctx.serde_error(&e))?;
        ctx.check(raw)
    }

    /// The folder of the study file: where a relative command runs and relative storage
    /// paths point.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_total_budget: self.run.max_total_budget,
            max_trials: self.run.max_trials,
        }
    }

    /// A command resumes when its file says so; a built-in workload decides for itself.
    fn cost_model(&self) -> CostModel {
        let resumes = match &self.objective.kind {
            ObjectiveKind::Command(_) => self.objective.resumable,
            ObjectiveKind::Builtin(name) => crate::objectives::builtin_resumes(name),
        };
        if resumes {
            CostModel::Resume
        } else {
            CostModel::Scratch
        }
    }

    /// The study's definition as the store keeps it.
    pub fn spec(&self) -> StudySpec {
        let objective = match &self.objective.kind {
            ObjectiveKind::Command(argv) => serde_json::json!({ "command": argv }),
            ObjectiveKind::Builtin(name) => serde_json::json!({ "builtin": name }),
        };
        StudySpec {
            seed: self.seed,
            space: self.space.params().to_vec(),
            algorithm: self.algorithm.clone(),
            cost: self.cost_model(),
            max_retries: self.objective.retries,
            objective,
        }
    }

    /// Everything that shapes the study's decisions (seed, space in file order, algorithm,
    /// cost model, retries, objective), and nothing that may change on resume (`[run]`,
    /// the timeout, the storage): equal fingerprints mean a stored study may be continued.
    pub fn fingerprint(&self) -> serde_json::Value {
        self.spec().to_json()
    }

    /// The command objective of a command study: runs in the study file's folder, with
    /// logs and checkpoints under `run_dir`.
    pub fn command_objective(&self, run_dir: &Path) -> Option<CommandObjective> {
        let ObjectiveKind::Command(argv) = &self.objective.kind else {
            return None;
        };
        let objective = CommandObjective::new(argv.clone())
            .expect("placeholders were checked when the file was parsed")
            .with_timeout(self.objective.timeout)
            .with_workdir(&self.dir)
            .with_log_dir(run_dir.join("logs"))
            .with_checkpoint_root(run_dir.join("checkpoints"));
        Some(objective)
    }
}

/// Conveniences the tests use to look at a parsed file.
#[cfg(test)]
impl StudyFile {
    pub fn space(&self) -> Space {
        self.space.clone()
    }

    pub fn scheduler(&self) -> Box<dyn hyperband::Scheduler> {
        self.spec()
            .scheduler()
            .expect("the algorithm was checked when the file was parsed")
    }

    pub fn sampler(&self) -> Result<Box<dyn hyperband::Sampler>, hyperband::SpecError> {
        self.spec().sampler()
    }

    pub fn settings(&self) -> hyperband::Settings {
        hyperband::Settings {
            seed: self.seed,
            limits: self.limits(),
            cost: self.cost_model(),
            max_retries: self.objective.retries,
            ..hyperband::Settings::default()
        }
    }
}

// ---- the raw file, as serde sees it -------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: Spanned<String>,
    seed: Option<Spanned<u64>>,
    storage: Option<Spanned<String>>,
    objective: Spanned<RawObjective>,
    space: Spanned<Ordered<Spanned<RawParam>>>,
    algorithm: Spanned<RawAlgorithm>,
    run: Option<Spanned<RawRun>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObjective {
    command: Option<Spanned<Vec<Spanned<String>>>>,
    builtin: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    resumable: Option<Spanned<bool>>,
    retries: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    low: Option<Spanned<toml::Value>>,
    high: Option<Spanned<toml::Value>>,
    log: Option<Spanned<bool>>,
    choices: Option<Spanned<Vec<Spanned<toml::Value>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlgorithm {
    scheduler: Spanned<String>,
    sampler: Option<Spanned<String>>,
    min_budget: Option<Spanned<f64>>,
    max_budget: Spanned<f64>,
    eta: Option<Spanned<u32>>,
    bracket_sizes: Option<Spanned<String>>,
    n_configs: Option<Spanned<u64>>,
    max_brackets: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    workers: Option<Spanned<u64>>,
    max_total_budget: Option<Spanned<f64>>,
    max_trials: Option<Spanned<u64>>,
    max_time: Option<Spanned<String>>,
}

/// A table's entries in file order: parameter order decides how samplers map the unit
/// cube, so it must not depend on how a map happens to sort.
struct Ordered<V>(Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

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

// ---- checking --------------------------------------------------------------------------

struct Ctx<'a> {
    text: &'a str,
    path: &'a Path,
}

/// Where a message points: a key path and a span of the file.
struct At<'k> {
    key: &'k [&'k str],
    span: Range<usize>,
}

fn at<'k>(key: &'k [&'k str], span: Range<usize>) -> At<'k> {
    At { key, span }
}

impl Ctx<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
    }

    /// `[table] key: message`, or `[table] message` when the message names the key itself
    /// (a key of `""` stands for the table as a whole).
    fn located(&self, at: &At, message: &str, names_key: bool) -> String {
        let (table, key) = match at.key.split_last() {
            Some((last, table)) => (table.join("."), *last),
            None => (String::new(), ""),
        };
        let mut out = String::new();
        if !table.is_empty() {
            out.push_str(&format!("[{table}] "));
        }
        if !names_key && !key.is_empty() {
            out.push_str(&format!("{key}: "));
        }
        out.push_str(message);
        out
    }

    fn error(&self, at: At, message: impl fmt::Display) -> StudyFileError {
        self.make_error(at, &message.to_string(), false)
    }

    /// An error whose message already names the key (`low (0.1) must be below high`).
    fn error_naming_key(&self, at: At, message: impl fmt::Display) -> StudyFileError {
        self.make_error(at, &message.to_string(), true)
    }

    fn make_error(&self, at: At, message: &str, names_key: bool) -> StudyFileError {
        StudyFileError {
            file: self.path.to_path_buf(),
            line: self.line(&at.span),
            key: at
                .key
                .iter()
                .filter(|k| !k.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("."),
            message: self.located(&at, message, names_key),
        }
    }

    fn warning(&self, at: At, message: impl fmt::Display) -> String {
        self.error(at, message).to_string()
    }

    /// Turns a serde or syntax error into one that names the key, found by walking the
    /// spanned document to the entry that contains the error's position.
    fn serde_error(&self, e: &toml::de::Error) -> StudyFileError {
        let span = e.span().unwrap_or(0..0);
        let mut message = tidy_serde_message(e.message());
        let mut path = match toml::de::DeTable::parse(self.text) {
            // An empty span is "somewhere in the document": the top level.
            Ok(_) if span.is_empty() => Vec::new(),
            Ok(doc) => key_path_at(doc.get_ref(), span.start),
            Err(_) => {
                // A syntax error: no document to walk; quote the offending key if it is one.
                if message == "duplicate key" {
                    if let Some(k) = self.text.get(span.clone()) {
                        message = format!("duplicate key `{}`", k.trim());
                    }
                }
                Vec::new()
            }
        };
        // The span of a missing key is the table that lacks it; the message names the key.
        if let Some(missing) = message
            .strip_prefix("missing key `")
            .and_then(|m| m.split('`').next())
        {
            path.push(missing.to_string());
        }
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let names_key = message.starts_with("unknown key") || message.starts_with("missing key");
        self.make_error(at(&path, span), &message, names_key)
    }

    fn check(&self, raw: RawFile) -> Result<StudyFile, StudyFileError> {
        let name = raw.name.get_ref().trim();
        if name.is_empty() {
            return Err(self.error(at(&["name"], raw.name.span()), "must not be empty"));
        }
        let dir = std::path::absolute(self.path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        let storage = match &raw.storage {
            Some(s) => StorageUrl::parse(s.get_ref(), &dir).map_err(|e| {
                let message = match e {
                    StorageError::BadUrl { url, problem } => format!("{problem}, got `{url}`"),
                    other => other.to_string(),
                };
                self.error(at(&["storage"], s.span()), message)
            })?,
            None => StorageUrl::parse(DEFAULT_STORAGE, &dir).expect("the default parses"),
        };
        let mut warnings = Vec::new();
        let space = self.space(&raw.space)?;
        let objective = self.objective(&raw.objective, &space, &mut warnings)?;
        let algorithm = self.algorithm(&raw.algorithm, &mut warnings)?;
        let run = self.run(raw.run.as_ref())?;
        Ok(StudyFile {
            path: self.path.to_path_buf(),
            name: name.to_string(),
            seed: raw.seed.map_or(0, |s| s.into_inner()),
            storage,
            objective,
            space,
            algorithm,
            run,
            warnings,
            dir,
        })
    }

    fn space(&self, raw: &Spanned<Ordered<Spanned<RawParam>>>) -> Result<Space, StudyFileError> {
        if raw.get_ref().0.is_empty() {
            return Err(self.error_naming_key(
                at(&["space", ""], raw.span()),
                "the study needs at least one parameter",
            ));
        }
        let mut params = Vec::new();
        let mut env_vars: HashMap<String, &str> = HashMap::new();
        for (name, p) in &raw.get_ref().0 {
            let param = self.param(name, p.get_ref())?;
            let n = name.get_ref().as_str();
            if JOB_PLACEHOLDERS.contains(&n) {
                return Err(self.error(
                    at(&["space", n], name.span()),
                    format!(
                        "`{n}` is reserved for the job's own placeholder `{{{n}}}`; rename the parameter"
                    ),
                ));
            }
            if let Some(other) = env_vars.insert(param_env_var(n), n) {
                return Err(self.error(
                    at(&["space", n], name.span()),
                    format!(
                        "parameters `{other}` and `{n}` would both be passed as {}; rename one",
                        param_env_var(n)
                    ),
                ));
            }
            params.push(param);
        }
        Ok(Space::new(params).expect("each parameter was checked, and TOML keys are unique"))
    }

    fn param(&self, name: &Spanned<String>, p: &RawParam) -> Result<Param, StudyFileError> {
        let n = name.get_ref().as_str();
        let key = |k: &'static str| -> [&str; 3] { ["space", n, k] };
        let keys_ty = key("type");
        let kind = p.kind.get_ref().as_str();
        let domain = match kind {
            "float" | "int" => {
                if let Some(c) = &p.choices {
                    let k = key("choices");
                    return Err(self.error_naming_key(
                        at(&k, c.span()),
                        format!("`choices` is for categorical parameters; a {kind} parameter has low, high and log"),
                    ));
                }
                let bound = |v, which| self.bound(v, n, which, kind, name.span());
                let (low, high) = (bound(&p.low, "low")?, bound(&p.high, "high")?);
                let log = p.log.as_ref().is_some_and(|l| *l.get_ref());
                match (low, high) {
                    (Bound::Int(low), Bound::Int(high)) if kind == "int" => {
                        Domain::Int { low, high, log }
                    }
                    _ => Domain::Float {
                        low: low.as_f64(),
                        high: high.as_f64(),
                        log,
                    },
                }
            }
            "categorical" => {
                for (k, v) in [("low", &p.low), ("high", &p.high)] {
                    if let Some(v) = v {
                        let keys = key(k);
                        return Err(self.error_naming_key(
                            at(&keys, v.span()),
                            format!("`{k}` is for float and int parameters; a categorical parameter has choices"),
                        ));
                    }
                }
                if let Some(l) = &p.log {
                    let keys = key("log");
                    return Err(self.error_naming_key(
                        at(&keys, l.span()),
                        "`log` is for float and int parameters; a categorical parameter has choices",
                    ));
                }
                let Some(choices) = &p.choices else {
                    let keys = ["space", n, "choices"];
                    return Err(
                        self.error_naming_key(at(&keys, name.span()), "missing key `choices`")
                    );
                };
                let mut labels = Vec::new();
                for c in choices.get_ref() {
                    let Some(s) = c.get_ref().as_str() else {
                        let keys = key("choices");
                        return Err(self.error(
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
                Domain::Categorical { choices: labels }
            }
            other => {
                return Err(self.error(
                    at(&keys_ty, p.kind.span()),
                    format!(
                        "unknown parameter type `{other}` (expected float, int or categorical)"
                    ),
                ))
            }
        };
        let param = Param::new(n, domain);
        if let Err(e) = Space::new(vec![param.clone()]) {
            return Err(self.space_error(&e, name, p));
        }
        Ok(param)
    }

    /// A `low` or `high`: present, a number, and an integer for int parameters.
    fn bound(
        &self,
        v: &Option<Spanned<toml::Value>>,
        name: &str,
        which: &'static str,
        kind: &str,
        name_span: Range<usize>,
    ) -> Result<Bound, StudyFileError> {
        let Some(v) = v else {
            let keys = ["space", name, which];
            return Err(
                self.error_naming_key(at(&keys, name_span), format!("missing key `{which}`"))
            );
        };
        let keys = ["space", name, which];
        match (kind, v.get_ref()) {
            (_, toml::Value::Integer(i)) => Ok(Bound::Int(*i)),
            ("float", toml::Value::Float(x)) => Ok(Bound::Float(*x)),
            ("int", other) => Err(self.error(
                at(&keys, v.span()),
                format!("an int parameter needs an integer, got {other}"),
            )),
            (_, other) => Err(self.error(
                at(&keys, v.span()),
                format!("expected a number, got {other}"),
            )),
        }
    }

    /// The library's own check of a parameter, pointed at the key it is about.
    fn space_error(&self, e: &SpaceError, name: &Spanned<String>, p: &RawParam) -> StudyFileError {
        let n = name.get_ref().as_str();
        let span_of = |v: &Option<Spanned<toml::Value>>| v.as_ref().map(|v| v.span());
        let (key, span) = match e {
            SpaceError::EmptyRange { .. } | SpaceError::NotFinite { .. } => {
                ("low", span_of(&p.low))
            }
            SpaceError::LogNeedsPositive { .. } => {
                ("log", p.log.as_ref().map(|l| l.span()).or(span_of(&p.low)))
            }
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
        self.error_naming_key(at(&keys, span.unwrap_or(name.span())), message)
    }

    fn objective(
        &self,
        raw: &Spanned<RawObjective>,
        space: &Space,
        warnings: &mut Vec<String>,
    ) -> Result<Objective, StudyFileError> {
        let o = raw.get_ref();
        let kind = match (&o.command, &o.builtin) {
            (Some(_), Some(b)) => {
                return Err(self.error_naming_key(
                    at(&["objective", "builtin"], b.span()),
                    "give either `command` or `builtin`, not both",
                ))
            }
            (None, None) => {
                return Err(self.error_naming_key(
                    at(&["objective", "command"], raw.span()),
                    "missing key `command` (the program to run, as a list of arguments) or `builtin` (a built-in workload)",
                ))
            }
            (Some(command), None) => {
                ObjectiveKind::Command(self.command(command, space, warnings)?)
            }
            (None, Some(b)) => {
                if b.get_ref().trim().is_empty() {
                    return Err(self.error(
                        at(&["objective", "builtin"], b.span()),
                        "must name a built-in workload",
                    ));
                }
                ObjectiveKind::Builtin(b.get_ref().clone())
            }
        };
        let timeout = match &o.timeout {
            Some(t) => Some(
                parse_duration(t.get_ref())
                    .map_err(|m| self.error(at(&["objective", "timeout"], t.span()), m))?,
            ),
            None => None,
        };
        let resumable = o.resumable.as_ref().is_some_and(|r| *r.get_ref());
        if resumable {
            if let ObjectiveKind::Builtin(_) = kind {
                // Built-in workloads know themselves whether they resume.
                let span = o.resumable.as_ref().map(|r| r.span()).unwrap_or_default();
                warnings.push(self.warning(
                    at(&["objective", "resumable"], span),
                    "applies to commands; a built-in workload resumes on its own terms",
                ));
            }
        }
        Ok(Objective {
            kind,
            timeout,
            resumable,
            retries: o.retries.as_ref().map_or(0, |r| *r.get_ref()),
        })
    }

    fn command(
        &self,
        command: &Spanned<Vec<Spanned<String>>>,
        space: &Space,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<String>, StudyFileError> {
        let keys = ["objective", "command"];
        let args = command.get_ref();
        if args.is_empty() || args[0].get_ref().is_empty() {
            return Err(self.error(
                at(&keys, command.span()),
                "must name a program, e.g. [\"python3\", \"train.py\", \"--lr\", \"{lr}\"]",
            ));
        }
        let mut uses_budget = false;
        for arg in args {
            let names =
                placeholders(arg.get_ref()).map_err(|m| self.error(at(&keys, arg.span()), m))?;
            for name in names {
                uses_budget |= name == "budget";
                if space.index_of(&name).is_none() && !JOB_PLACEHOLDERS.contains(&name.as_str()) {
                    return Err(self.error(
                        at(&keys, arg.span()),
                        format!(
                            "placeholder `{{{name}}}` names no parameter (parameters: {}; job placeholders: {})",
                            space.names().join(", "),
                            JOB_PLACEHOLDERS.join(", ")
                        ),
                    ));
                }
            }
        }
        if !uses_budget {
            warnings.push(self.warning(
                at(&keys, command.span()),
                "no `{budget}` placeholder: the program must read its budget from HYPERBAND_BUDGET",
            ));
        }
        Ok(args.iter().map(|a| a.get_ref().clone()).collect())
    }

    fn algorithm(
        &self,
        raw: &Spanned<RawAlgorithm>,
        warnings: &mut Vec<String>,
    ) -> Result<AlgorithmSpec, StudyFileError> {
        let a = raw.get_ref();
        let scheduler = parse_kind::<SchedulerKind>(a.scheduler.get_ref()).ok_or_else(|| {
            self.error(
                at(&["algorithm", "scheduler"], a.scheduler.span()),
                format!(
                    "unknown scheduler `{}` (expected one of {})",
                    a.scheduler.get_ref(),
                    SchedulerKind::NAMES
                ),
            )
        })?;
        let sampler = match &a.sampler {
            Some(s) => parse_kind::<SamplerKind>(s.get_ref()).ok_or_else(|| {
                self.error(
                    at(&["algorithm", "sampler"], s.span()),
                    format!(
                        "unknown sampler `{}` (expected one of {})",
                        s.get_ref(),
                        SamplerKind::NAMES
                    ),
                )
            })?,
            None => SamplerKind::Random,
        };
        let max_budget = *a.max_budget.get_ref();
        let min_budget = match (&a.min_budget, scheduler) {
            (Some(m), _) => *m.get_ref(),
            // Everything runs at the maximum: there is no minimum to choose.
            (None, SchedulerKind::FullBudget) => max_budget,
            (None, _) => {
                return Err(self.error_naming_key(
                    at(&["algorithm", "min_budget"], raw.span()),
                    format!(
                        "missing key `min_budget` (scheduler `{}` needs it)",
                        a.scheduler.get_ref()
                    ),
                ))
            }
        };
        let eta = a.eta.as_ref().map_or(3, |e| *e.get_ref());
        if let Err(e) = Budgets::new(min_budget, max_budget, eta) {
            let (key, span) = match e {
                PlanError::MinBudget(_) => ("min_budget", a.min_budget.as_ref().map(|m| m.span())),
                PlanError::Eta(_) => ("eta", a.eta.as_ref().map(|e| e.span())),
                _ => ("max_budget", Some(a.max_budget.span())),
            };
            let keys = ["algorithm", key];
            return Err(self.error_naming_key(at(&keys, span.unwrap_or(a.max_budget.span())), e));
        }
        let bracket_sizes = match &a.bracket_sizes {
            Some(b) => b
                .get_ref()
                .parse::<BracketSizes>()
                .map_err(|m| self.error(at(&["algorithm", "bracket_sizes"], b.span()), m))?,
            None => BracketSizes::default(),
        };
        let brackets = matches!(
            scheduler,
            SchedulerKind::Hyperband | SchedulerKind::AsyncHyperband
        );
        if let (Some(b), false) = (&a.bracket_sizes, brackets) {
            warnings.push(self.warning(
                at(&["algorithm", "bracket_sizes"], b.span()),
                format!(
                    "ignored: scheduler `{}` has no Hyperband brackets",
                    a.scheduler.get_ref()
                ),
            ));
        }
        if let (Some(m), false) = (&a.max_brackets, scheduler == SchedulerKind::Hyperband) {
            warnings.push(self.warning(
                at(&["algorithm", "max_brackets"], m.span()),
                format!(
                    "ignored: only scheduler `hyperband` runs a bounded number of brackets, not `{}`",
                    a.scheduler.get_ref()
                ),
            ));
        }
        if let Some(m) = &a.max_brackets {
            if *m.get_ref() == 0 {
                return Err(self.error(
                    at(&["algorithm", "max_brackets"], m.span()),
                    "must be at least 1",
                ));
            }
        }
        let n_configs = match (&a.n_configs, scheduler) {
            (Some(n), SchedulerKind::Sha) if *n.get_ref() == 0 => {
                return Err(self.error(
                    at(&["algorithm", "n_configs"], n.span()),
                    "must be at least 1",
                ))
            }
            (Some(n), SchedulerKind::Sha) => Some(*n.get_ref()),
            (Some(n), _) => {
                return Err(self.error(
                    at(&["algorithm", "n_configs"], n.span()),
                    format!(
                        "applies to scheduler `sha` only, not `{}`",
                        a.scheduler.get_ref()
                    ),
                ))
            }
            (None, SchedulerKind::Sha) => {
                return Err(self.error_naming_key(
                    at(&["algorithm", "n_configs"], raw.span()),
                    "missing key `n_configs` (scheduler `sha` starts that many configurations)",
                ))
            }
            (None, _) => None,
        };
        Ok(AlgorithmSpec {
            scheduler,
            sampler,
            min_budget,
            max_budget,
            eta,
            bracket_sizes,
            n_configs,
            max_brackets: a.max_brackets.as_ref().map(|m| *m.get_ref()),
        })
    }

    fn run(&self, raw: Option<&Spanned<RawRun>>) -> Result<RunSpec, StudyFileError> {
        let mut run = RunSpec {
            workers: 1,
            max_total_budget: None,
            max_trials: None,
            max_time: None,
        };
        let Some(raw) = raw else {
            return Ok(run);
        };
        let r = raw.get_ref();
        if let Some(w) = &r.workers {
            if *w.get_ref() == 0 {
                return Err(self.error(at(&["run", "workers"], w.span()), "must be at least 1"));
            }
            run.workers = *w.get_ref() as usize;
        }
        if let Some(b) = &r.max_total_budget {
            let x = *b.get_ref();
            if !(x.is_finite() && x > 0.0) {
                return Err(self.error(
                    at(&["run", "max_total_budget"], b.span()),
                    format!("must be a positive number, got {x}"),
                ));
            }
            run.max_total_budget = Some(x);
        }
        if let Some(t) = &r.max_trials {
            if *t.get_ref() == 0 {
                return Err(self.error(at(&["run", "max_trials"], t.span()), "must be at least 1"));
            }
            run.max_trials = Some(*t.get_ref());
        }
        if let Some(t) = &r.max_time {
            run.max_time = Some(
                parse_duration(t.get_ref())
                    .map_err(|m| self.error(at(&["run", "max_time"], t.span()), m))?,
            );
        }
        Ok(run)
    }
}

/// A kind by its kebab-case name, through the same serde names the stored spec uses.
fn parse_kind<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// serde's wording, in the study file's terms.
fn tidy_serde_message(m: &str) -> String {
    m.replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
        .replace("expected u32", "expected a non-negative integer")
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected f64", "expected a number")
}

/// The keys leading to the innermost entry whose key or value contains `pos`.
fn key_path_at(table: &toml::de::DeTable, pos: usize) -> Vec<String> {
    fn walk(table: &toml::de::DeTable, pos: usize, path: &mut Vec<String>) -> bool {
        for (k, v) in table.iter() {
            path.push(k.get_ref().to_string());
            if walk_value(v, pos, path) {
                return true;
            }
            if k.span().contains(&pos) || v.span().contains(&pos) {
                return true;
            }
            path.pop();
        }
        false
    }
    fn walk_value(v: &Spanned<toml::de::DeValue>, pos: usize, path: &mut Vec<String>) -> bool {
        match v.get_ref() {
            // A `[table]`'s span is its header: its keys may lie anywhere below it.
            toml::de::DeValue::Table(t) => walk(t, pos, path),
            toml::de::DeValue::Array(a) => a.iter().any(|x| walk_value(x, pos, path)),
            _ => false,
        }
    }
    let mut path = Vec::new();
    walk(table, pos, &mut path);
    path
}

/// `90s`, `10m`, `2h`, `1h30m`, `500ms`, `1.5d`: how people write durations.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad =
        || format!("expected a duration like \"90s\", \"10m\", \"2h\" or \"1h30m\", got {text:?}");
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Err(bad());
    }
    let mut rest = s.as_str();
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    if !(total > 0.0 && total.is_finite()) {
        return Err(format!("a duration must be positive, got {text:?}"));
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DESIGN.md's example, verbatim.
    const EXAMPLE: &str = r#"name = "mnist-mlp"
seed = 7
storage = "sqlite:hyperband.db"   # optional; relative paths are relative to this file

[objective]
command = ["python3", "train.py", "--lr", "{lr}", "--hidden", "{hidden}", "--epochs", "{budget}"]
timeout = "10m"                   # optional, per job
resumable = false                 # true: the command continues from HYPERBAND_CHECKPOINT_DIR
# builtin = "mnist-mlp"           # instead of command

[space]
lr     = { type = "float", low = 1e-3, high = 1e-1, log = true }
hidden = { type = "int", low = 10, high = 1000, log = true }
act    = { type = "categorical", choices = ["relu", "tanh"] }

[algorithm]
scheduler = "hyperband"   # full-budget | sha | hyperband | asha | async-hyperband
sampler = "random"        # random | tpe | gp
min_budget = 1
max_budget = 81
eta = 3

[run]
workers = 2
max_total_budget = 2000   # stop at the first of: max_total_budget, max_trials, max_time
"#;

    fn parse(text: &str) -> Result<StudyFile, StudyFileError> {
        StudyFile::parse(text, Path::new("study.toml"))
    }

    /// The example with `old` replaced by `new` (which must be there, or the test would
    /// silently test the example).
    fn edit(old: &str, new: &str) -> String {
        assert!(EXAMPLE.contains(old), "the example has no {old:?}");
        EXAMPLE.replacen(old, new, 1)
    }

    /// The error for `text`, checked to cite `key`.
    fn error(text: &str, key: &str) -> String {
        let e = parse(text).expect_err("the file should be refused");
        assert_eq!(e.key, key, "{e}");
        e.to_string()
    }

    #[test]
    fn the_design_example_parses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("study.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let f = StudyFile::load(&path).unwrap();
        assert_eq!(f.name, "mnist-mlp");
        assert_eq!(f.seed, 7);
        assert_eq!(
            f.storage,
            StorageUrl::Sqlite(dir.path().join("hyperband.db"))
        );
        assert_eq!(f.dir(), dir.path());
        assert_eq!(
            f.objective,
            Objective {
                kind: ObjectiveKind::Command(
                    ["python3", "train.py", "--lr", "{lr}", "--hidden", "{hidden}"]
                        .iter()
                        .chain(&["--epochs", "{budget}"])
                        .map(|s| s.to_string())
                        .collect()
                ),
                timeout: Some(Duration::from_secs(600)),
                resumable: false,
                retries: 0,
            }
        );
        let space = f.space();
        assert_eq!(space.names().to_vec(), ["lr", "hidden", "act"]);
        assert_eq!(space.params()[0], Param::log_float("lr", 1e-3, 1e-1));
        assert_eq!(space.params()[1], Param::log_int("hidden", 10, 1000));
        assert_eq!(
            space.params()[2],
            Param::categorical("act", &["relu", "tanh"])
        );
        assert_eq!(f.algorithm.scheduler, SchedulerKind::Hyperband);
        assert_eq!(f.algorithm.sampler, SamplerKind::Random);
        assert_eq!(
            (
                f.algorithm.min_budget,
                f.algorithm.max_budget,
                f.algorithm.eta
            ),
            (1.0, 81.0, 3)
        );
        assert_eq!(f.algorithm.bracket_sizes, BracketSizes::Algorithm);
        assert_eq!(
            f.run,
            RunSpec {
                workers: 2,
                max_total_budget: Some(2000.0),
                max_trials: None,
                max_time: None,
            }
        );
        assert_eq!(f.scheduler().name(), "hyperband");
        assert_eq!(f.sampler().unwrap().name(), "random");
        let s = f.settings();
        assert_eq!((s.seed, s.cost, s.max_retries), (7, CostModel::Scratch, 0));
        assert_eq!(s.limits.max_total_budget, Some(2000.0));
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        let command = f.command_objective(Path::new("/runs/x")).unwrap();
        assert_eq!(command.timeout(), Some(Duration::from_secs(600)));
        assert_eq!(command.argv()[3], "{lr}");
    }

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let f = parse(
            "name = \"b\"\n[objective]\nbuiltin = \"branin\"\n[space]\n\
             x = { type = \"float\", low = -5, high = 10 }\n\
             [algorithm]\nscheduler = \"full-budget\"\nmax_budget = 10\n",
        )
        .unwrap();
        assert_eq!(f.seed, 0);
        let StorageUrl::Sqlite(db) = &f.storage else {
            panic!("{:?}", f.storage)
        };
        assert!(db.is_absolute() && db.ends_with("hyperband.db"), "{db:?}");
        assert_eq!(f.objective.kind, ObjectiveKind::Builtin("branin".into()));
        assert_eq!(f.objective.timeout, None);
        assert_eq!(f.algorithm.sampler, SamplerKind::Random);
        assert_eq!((f.algorithm.min_budget, f.algorithm.eta), (10.0, 3));
        assert_eq!(f.run.workers, 1);
        assert_eq!(f.space().params()[0], Param::float("x", -5.0, 10.0));
        assert!(f.command_objective(Path::new("/tmp")).is_none());
        assert_eq!(f.scheduler().name(), "full-budget");
    }

    #[test]
    fn settings_follow_resumable_retries_and_limits() {
        let text = edit("resumable = false", "resumable = true\nretries = 2").replace(
            "workers = 2",
            "workers = 4\nmax_trials = 50\nmax_time = \"1h30m\"",
        );
        let f = parse(&text).unwrap();
        let s = f.settings();
        assert_eq!(s.cost, CostModel::Resume);
        assert_eq!(s.max_retries, 2);
        assert_eq!(s.limits.max_trials, Some(50));
        assert_eq!(f.run.workers, 4);
        assert_eq!(f.run.max_time, Some(Duration::from_secs(5400)));
        assert_eq!(f.spec().cost, CostModel::Resume);
    }

    #[test]
    fn storage_paths_are_relative_to_the_file() {
        let text = edit("sqlite:hyperband.db", "sqlite:db/studies.db");
        let f = StudyFile::parse(&text, Path::new("/home/me/proj/study.toml")).unwrap();
        assert_eq!(
            f.storage,
            StorageUrl::Sqlite(PathBuf::from("/home/me/proj/db/studies.db"))
        );
        let text = edit("sqlite:hyperband.db", "sqlite:///var/db/h.db");
        let f = StudyFile::parse(&text, Path::new("/home/me/proj/study.toml")).unwrap();
        assert_eq!(f.storage, StorageUrl::Sqlite(PathBuf::from("/var/db/h.db")));
    }

    #[test]
    fn the_fingerprint_covers_decisions_not_run_limits() {
        let base = parse(EXAMPLE).unwrap().fingerprint();
        assert_eq!(base["seed"], 7);
        assert_eq!(base["algorithm"]["scheduler"], "hyperband");
        assert_eq!(base["space"][0]["name"], "lr");
        assert_eq!(base["objective"]["command"][3], "{lr}");
        let same = [
            edit("workers = 2", "workers = 8"),
            edit("max_total_budget = 2000", "max_total_budget = 9000"),
            edit("timeout = \"10m\"", "timeout = \"20m\""),
            edit("sqlite:hyperband.db", "sqlite:other.db"),
            edit("seed = 7", "seed = 7 # a comment\n"),
        ];
        for text in same {
            assert_eq!(parse(&text).unwrap().fingerprint(), base, "{text}");
        }
        let different = [
            edit("seed = 7", "seed = 8"),
            edit("high = 1e-1", "high = 0.2"),
            edit("\"relu\", \"tanh\"", "\"tanh\", \"relu\""),
            edit("eta = 3", "eta = 2"),
            edit("scheduler = \"hyperband\"", "scheduler = \"asha\""),
            edit("sampler = \"random\"", "sampler = \"tpe\""),
            edit("resumable = false", "resumable = true"),
            edit("\"--epochs\"", "\"--iters\""),
            edit("eta = 3", "eta = 3\nbracket_sizes = \"table\""),
        ];
        for text in different {
            assert_ne!(parse(&text).unwrap().fingerprint(), base, "{text}");
        }
    }

    #[test]
    fn every_sampler_parses_and_builds_or_says_it_is_not_available() {
        for name in ["random", "tpe", "gp"] {
            let f = parse(&edit(
                "sampler = \"random\"",
                &format!("sampler = \"{name}\""),
            ))
            .unwrap();
            match f.sampler() {
                Ok(sampler) => assert_eq!(sampler.name(), name),
                Err(e) => assert!(
                    e.to_string()
                        .contains(&format!("sampler `{name}` is not available")),
                    "{e}"
                ),
            }
        }
    }

    #[test]
    fn a_command_without_budget_is_allowed_with_a_warning() {
        let f = parse(&edit(", \"--epochs\", \"{budget}\"", "")).unwrap();
        assert_eq!(
            f.warnings,
            ["study.toml:6: [objective] command: no `{budget}` placeholder: the program must read its budget from HYPERBAND_BUDGET"]
        );
    }

    #[test]
    fn unknown_keys_are_refused_where_they_are() {
        assert_eq!(
            error(&edit("seed = 7", "seed = 7\nseeds = 8"), "seeds"),
            "study.toml:3: unknown key `seeds`, expected one of `name`, `seed`, `storage`, \
             `objective`, `space`, `algorithm`, `run`"
        );
        assert_eq!(
            error(
                &edit("eta = 3", "eta = 3\nschedular = \"x\""),
                "algorithm.schedular"
            ),
            "study.toml:22: [algorithm] unknown key `schedular`, expected one of `scheduler`, \
             `sampler`, `min_budget`, `max_budget`, `eta`, `bracket_sizes`, `n_configs`, \
             `max_brackets`"
        );
        assert_eq!(
            error(
                &edit("log = true }\nhidden", "lg = true }\nhidden"),
                "space.lr.lg"
            ),
            "study.toml:12: [space.lr] unknown key `lg`, expected one of `type`, `low`, \
             `high`, `log`, `choices`"
        );
        assert_eq!(
            error(&edit("workers = 2", "worker = 2"), "run.worker"),
            "study.toml:24: [run] unknown key `worker`, expected one of `workers`, \
             `max_total_budget`, `max_trials`, `max_time`"
        );
        assert_eq!(
            error(&edit("[run]", "[runn]"), "runn"),
            "study.toml:23: unknown key `runn`, expected one of `name`, `seed`, `storage`, \
             `objective`, `space`, `algorithm`, `run`"
        );
    }

    #[test]
    fn wrong_types_name_the_key() {
        assert_eq!(
            error(&edit("seed = 7", "seed = \"seven\""), "seed"),
            "study.toml:2: seed: invalid type: string \"seven\", expected a non-negative integer"
        );
        assert_eq!(
            error(&edit("seed = 7", "seed = -1"), "seed"),
            "study.toml:2: seed: invalid value: integer `-1`, expected a non-negative integer"
        );
        assert_eq!(
            error(&edit("\"--lr\"", "3"), "objective.command"),
            "study.toml:6: [objective] command: invalid type: integer `3`, expected a string"
        );
        assert_eq!(
            error(
                &edit("timeout = \"10m\"", "timeout = 600"),
                "objective.timeout"
            ),
            "study.toml:7: [objective] timeout: invalid type: integer `600`, expected a string"
        );
        assert_eq!(
            error(
                &edit("log = true }\nhidden", "log = \"yes\" }\nhidden"),
                "space.lr.log"
            ),
            "study.toml:12: [space.lr] log: invalid type: string \"yes\", expected a boolean"
        );
        assert_eq!(
            error(
                &edit("max_budget = 81", "max_budget = \"81\""),
                "algorithm.max_budget"
            ),
            "study.toml:20: [algorithm] max_budget: invalid type: string \"81\", expected a number"
        );
        assert_eq!(
            error(&edit("low = 10,", "low = 10.5,"), "space.hidden.low"),
            "study.toml:13: [space.hidden] low: an int parameter needs an integer, got 10.5"
        );
        assert_eq!(
            error(&edit("low = 1e-3", "low = \"small\""), "space.lr.low"),
            "study.toml:12: [space.lr] low: expected a number, got \"small\""
        );
        assert_eq!(
            error(
                &edit("\"relu\", \"tanh\"", "\"relu\", 3"),
                "space.act.choices"
            ),
            "study.toml:14: [space.act] choices: choices must be strings, got 3 \
             (write \"3\", or use type = \"int\" or \"float\")"
        );
        assert_eq!(
            error(
                &edit("type = \"int\"", "type = \"integer\""),
                "space.hidden.type"
            ),
            "study.toml:13: [space.hidden] type: unknown parameter type `integer` \
             (expected float, int or categorical)"
        );
    }

    #[test]
    fn missing_keys_name_their_table() {
        assert_eq!(
            error(&edit("name = \"mnist-mlp\"\n", ""), "name"),
            "study.toml:1: missing key `name`"
        );
        assert_eq!(
            error(&edit("max_budget = 81\n", ""), "algorithm.max_budget"),
            "study.toml:16: [algorithm] missing key `max_budget`"
        );
        assert_eq!(
            error(&edit("min_budget = 1\n", ""), "algorithm.min_budget"),
            "study.toml:16: [algorithm] missing key `min_budget` (scheduler `hyperband` needs it)"
        );
        assert_eq!(
            error(&edit(", high = 1000", ""), "space.hidden.high"),
            "study.toml:13: [space.hidden] missing key `high`"
        );
        assert_eq!(
            error(
                &edit(", choices = [\"relu\", \"tanh\"]", ""),
                "space.act.choices"
            ),
            "study.toml:14: [space.act] missing key `choices`"
        );
        assert_eq!(
            error(&edit("{ type = \"float\", ", "{ "), "space.lr.type"),
            "study.toml:12: [space.lr] missing key `type`"
        );
    }

    #[test]
    fn impossible_ranges_cite_the_parameter() {
        assert_eq!(
            error(
                &edit("low = 1e-3, high = 1e-1", "low = 0.1, high = 0.01"),
                "space.lr.low"
            ),
            "study.toml:12: [space.lr] low (0.1) must be below high (0.01)"
        );
        assert_eq!(
            error(
                &edit("low = 10, high = 1000", "low = 10, high = 10"),
                "space.hidden.low"
            ),
            "study.toml:13: [space.hidden] low (10) must be below high (10)"
        );
        assert_eq!(
            error(&edit("low = 10,", "low = 0,"), "space.hidden.log"),
            "study.toml:13: [space.hidden] a log scale needs low > 0, got low = 0"
        );
        assert_eq!(
            error(&edit("low = 1e-3", "low = nan"), "space.lr.low"),
            "study.toml:12: [space.lr] bounds must be finite numbers, got [NaN, 0.1]"
        );
        assert_eq!(
            error(&edit("[\"relu\", \"tanh\"]", "[]"), "space.act.choices"),
            "study.toml:14: [space.act] a categorical parameter needs at least one choice"
        );
        assert_eq!(
            error(
                &edit("[\"relu\", \"tanh\"]", "[\"relu\",\n  \"relu\"]"),
                "space.act.choices"
            ),
            "study.toml:15: [space.act] choice `relu` is listed twice"
        );
        assert_eq!(
            error(
                &edit("choices = [", "low = 1, choices = ["),
                "space.act.low"
            ),
            "study.toml:14: [space.act] `low` is for float and int parameters; a categorical \
             parameter has choices"
        );
        assert_eq!(
            error(
                &edit(
                    "log = true }\nhidden",
                    "log = true, choices = [\"a\"] }\nhidden"
                ),
                "space.lr.choices"
            ),
            "study.toml:12: [space.lr] `choices` is for categorical parameters; a float \
             parameter has low, high and log"
        );
        let no_params = edit(
            "lr     = { type = \"float\", low = 1e-3, high = 1e-1, log = true }\n",
            "",
        )
        .replace(
            "hidden = { type = \"int\", low = 10, high = 1000, log = true }\n",
            "",
        )
        .replace(
            "act    = { type = \"categorical\", choices = [\"relu\", \"tanh\"] }\n",
            "",
        )
        .replace(", \"--lr\", \"{lr}\", \"--hidden\", \"{hidden}\"", "");
        assert_eq!(
            error(&no_params, "space"),
            "study.toml:11: [space] the study needs at least one parameter"
        );
    }

    #[test]
    fn parameter_names_must_not_shadow_job_placeholders_or_each_other() {
        assert_eq!(
            error(&edit("act    =", "budget ="), "space.budget"),
            "study.toml:14: [space] budget: `budget` is reserved for the job's own placeholder \
             `{budget}`; rename the parameter"
        );
        assert_eq!(
            error(&edit("act    =", "\"LR\" ="), "space.LR"),
            "study.toml:14: [space] LR: parameters `lr` and `LR` would both be passed as \
             HYPERBAND_PARAM_LR; rename one"
        );
    }

    #[test]
    fn unknown_algorithms_list_the_valid_names() {
        assert_eq!(
            error(
                &edit("\"hyperband\"", "\"hyper-band\""),
                "algorithm.scheduler"
            ),
            "study.toml:17: [algorithm] scheduler: unknown scheduler `hyper-band` (expected one \
             of full-budget, sha, hyperband, asha, async-hyperband)"
        );
        assert_eq!(
            error(&edit("\"random\"", "\"bohb\""), "algorithm.sampler"),
            "study.toml:18: [algorithm] sampler: unknown sampler `bohb` (expected one of \
             random, tpe, gp)"
        );
        assert_eq!(
            error(
                &edit("eta = 3", "eta = 3\nbracket_sizes = \"paper\""),
                "algorithm.bracket_sizes"
            ),
            "study.toml:22: [algorithm] bracket_sizes: unknown bracket sizes `paper` \
             (expected `algorithm` or `table`)"
        );
    }

    #[test]
    fn budget_problems_cite_the_budget_key() {
        assert_eq!(
            error(
                &edit("min_budget = 1", "min_budget = 0"),
                "algorithm.min_budget"
            ),
            "study.toml:19: [algorithm] min_budget must be a positive finite number, got 0"
        );
        assert_eq!(
            error(
                &edit("max_budget = 81", "max_budget = 0.5"),
                "algorithm.max_budget"
            ),
            "study.toml:20: [algorithm] max_budget (0.5) must be a finite number at least \
             min_budget (1)"
        );
        assert_eq!(
            error(&edit("eta = 3", "eta = 1"), "algorithm.eta"),
            "study.toml:21: [algorithm] eta must be at least 2, got 1"
        );
        assert_eq!(
            error(
                &edit("scheduler = \"hyperband\"", "scheduler = \"sha\""),
                "algorithm.n_configs"
            ),
            "study.toml:16: [algorithm] missing key `n_configs` (scheduler `sha` starts that \
             many configurations)"
        );
        assert_eq!(
            error(&edit("eta = 3", "eta = 3\nn_configs = 27"), "algorithm.n_configs"),
            "study.toml:22: [algorithm] n_configs: applies to scheduler `sha` only, not `hyperband`"
        );
        let sha = edit("scheduler = \"hyperband\"", "scheduler = \"sha\"")
            .replace("eta = 3", "eta = 3\nn_configs = 27");
        assert_eq!(parse(&sha).unwrap().scheduler().name(), "sha");
    }

    #[test]
    fn placeholders_must_name_parameters() {
        assert_eq!(
            error(&edit("\"{hidden}\"", "\"{hiden}\""), "objective.command"),
            "study.toml:6: [objective] command: placeholder `{hiden}` names no parameter \
             (parameters: lr, hidden, act; job placeholders: budget, resume_from, trial, job, \
             checkpoint_dir)"
        );
        let multiline = edit(
            "\"--epochs\", \"{budget}\"]",
            "\n  \"--epochs\",\n  \"{epochs}\",\n]",
        );
        assert_eq!(
            error(&multiline, "objective.command"),
            "study.toml:8: [objective] command: placeholder `{epochs}` names no parameter \
             (parameters: lr, hidden, act; job placeholders: budget, resume_from, trial, job, \
             checkpoint_dir)"
        );
        assert_eq!(
            error(&edit("\"{lr}\"", "\"{lr\""), "objective.command"),
            "study.toml:6: [objective] command: unclosed `{` in argument \"{lr\" (write `{{` \
             for a literal brace)"
        );
        assert_eq!(
            error(&edit("[\"python3\",", "[\"\","), "objective.command"),
            "study.toml:6: [objective] command: must name a program, e.g. [\"python3\", \
             \"train.py\", \"--lr\", \"{lr}\"]"
        );
    }

    #[test]
    fn command_and_builtin_exclude_each_other() {
        assert_eq!(
            error(&edit("# builtin", "builtin"), "objective.builtin"),
            "study.toml:9: [objective] give either `command` or `builtin`, not both"
        );
        let neither = edit(
            "command = [\"python3\", \"train.py\", \"--lr\", \"{lr}\", \"--hidden\", \"{hidden}\", \"--epochs\", \"{budget}\"]\n",
            "",
        );
        assert_eq!(
            error(&neither, "objective.command"),
            "study.toml:5: [objective] missing key `command` (the program to run, as a list \
             of arguments) or `builtin` (a built-in workload)"
        );
    }

    #[test]
    fn durations_and_run_limits_are_checked() {
        assert_eq!(
            error(&edit("\"10m\"", "\"10 minutes\""), "objective.timeout"),
            "study.toml:7: [objective] timeout: expected a duration like \"90s\", \"10m\", \"2h\" \
             or \"1h30m\", got \"10 minutes\""
        );
        assert_eq!(
            error(&edit("workers = 2", "workers = 0"), "run.workers"),
            "study.toml:24: [run] workers: must be at least 1"
        );
        assert_eq!(
            error(&edit("workers = 2", "max_time = \"0s\""), "run.max_time"),
            "study.toml:24: [run] max_time: a duration must be positive, got \"0s\""
        );
        assert_eq!(
            error(&edit("= 2000", "= -5"), "run.max_total_budget"),
            "study.toml:25: [run] max_total_budget: must be a positive number, got -5"
        );
    }

    #[test]
    fn storage_syntax_and_reading_errors_are_located() {
        assert_eq!(
            error(&edit("sqlite:hyperband.db", "mysql://db"), "storage"),
            "study.toml:3: storage: expected `sqlite:PATH` or `postgres://USER@HOST/DATABASE`, \
             got `mysql://db`"
        );
        assert_eq!(
            error(&edit("eta = 3", "eta = 3\nmin_budget = 2"), ""),
            "study.toml:22: duplicate key `min_budget`"
        );
        let e = parse(&edit("seed = 7", "seed = 7 7")).unwrap_err();
        assert!(e.to_string().starts_with("study.toml:2: "), "{e}");
        let e = StudyFile::load("/nonexistent/study.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/nonexistent/study.toml: cannot read the study file: No such file or directory \
             (os error 2)"
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        let d = |s| parse_duration(s).unwrap();
        assert_eq!(d("90s"), Duration::from_secs(90));
        assert_eq!(d("10m"), Duration::from_secs(600));
        assert_eq!(d("2h"), Duration::from_secs(7200));
        assert_eq!(d("1h30m"), Duration::from_secs(5400));
        assert_eq!(d("1h 30m 15s"), Duration::from_secs(5415));
        assert_eq!(d("500ms"), Duration::from_millis(500));
        assert_eq!(d("1.5d"), Duration::from_secs(129600));
        for bad in ["", "10", "m", "10x", "1.2.3s", "-5s", "s10"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
