//! Study files: the TOML contract of docs/architecture.md, checked before anything runs.
//!
//! Every mistake is reported as `FILE:LINE: [table] key ...` ([`errors`]), and all of
//! them at once, so that a file with three mistakes takes one run to fix, not three.
//! Checking happens in two passes: serde with `deny_unknown_fields` and spanned values
//! refuses unknown keys and wrong types, one table at a time ([`raw`]), and a second pass
//! checks meanings (ranges, names, budgets) with the spans it kept ([`check`], [`space`]).

mod check;
mod duration;
mod errors;
#[cfg(test)]
mod many_mistakes;
mod raw;
mod space;
#[cfg(test)]
mod tests;

pub use duration::parse_duration;
pub use errors::{StudyFileError, StudyFileErrors};

use errors::Ctx;
use hyperband::objective::command::CommandRun;
use hyperband::objective::command::MetricSpec;
use hyperband::objective::CommandObjective;
use hyperband::storage::{RunDir, StorageUrl};
use hyperband::{
    AlgorithmSpec, CommandSpec, Config, CostModel, Limits, Mode, ObjectiveSpec, Space, StudySpec,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// `[[enqueue]]`: configurations evaluated first, before the sampler proposes.
    pub enqueue: Vec<Config>,
    /// `[space] name = { value = ... }`: fixed parameters, in file order; not searched,
    /// passed to the command like the others.
    pub fixed: Vec<(String, hyperband::Value)>,
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
    /// In stop mode, the command's stdout is a pseudo-terminal, so that a program that
    /// does not flush still writes each line as it prints it (promote mode ignores it).
    pub line_buffered: bool,
    /// Where the loss is read from, when not from the last line of stdout.
    pub metric: Option<MetricSpec>,
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

impl StudyFile {
    pub fn load(path: impl AsRef<Path>) -> Result<Self, StudyFileErrors> {
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
    pub fn parse(text: &str, path: &Path) -> Result<Self, StudyFileErrors> {
        let ctx = Ctx { text, path };
        let raw = raw::read(&ctx)?;
        check::check(&ctx, raw)
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
    /// In stop mode a trial's program never restarts, so each rung costs what it adds.
    fn cost_model(&self) -> CostModel {
        let resumes = self.algorithm.mode() == Mode::Stop
            || match &self.objective.kind {
                ObjectiveKind::Command(_) => self.objective.resumable,
                ObjectiveKind::Builtin(name) => crate::objectives::builtin_resumes(name),
            };
        if resumes {
            CostModel::Resume
        } else {
            CostModel::Scratch
        }
    }

    /// The study's definition as the store keeps it: everything that shapes the study's
    /// decisions (seed, space in file order, algorithm, cost model, retries, objective),
    /// and nothing that may change on resume (`[run]`, the timeout, the storage): equal
    /// definitions mean a stored study may be continued.
    pub fn spec(&self) -> StudySpec {
        let objective = match &self.objective.kind {
            ObjectiveKind::Command(argv) => ObjectiveSpec::Command(CommandSpec {
                command: argv.clone(),
                metric: self.objective.metric.clone(),
                fixed: self.fixed.clone(),
            }),
            ObjectiveKind::Builtin(name) => ObjectiveSpec::Builtin {
                builtin: name.clone(),
            },
        };
        StudySpec {
            cost: self.cost_model(),
            max_retries: self.objective.retries,
            objective: Some(objective),
            ..StudySpec::new(
                self.seed,
                self.space.params().to_vec(),
                self.algorithm.clone(),
            )
        }
    }

    /// The command objective of a command study: runs in the study file's folder, with
    /// logs and checkpoints under `run_dir`.
    pub fn command_objective(&self, run_dir: &RunDir) -> Option<CommandObjective> {
        self.command_objective_in(&run_dir.logs(), &run_dir.checkpoints())
    }

    /// The command objective with its job logs and checkpoints in the folders given.
    pub fn command_objective_in(
        &self,
        logs: &std::path::Path,
        checkpoints: &std::path::Path,
    ) -> Option<CommandObjective> {
        let spec = self.spec();
        let command = spec.objective.as_ref()?.command()?;
        let run = CommandRun {
            workdir: self.dir.clone(),
            logs: logs.to_path_buf(),
            checkpoints: checkpoints.to_path_buf(),
            timeout: self.objective.timeout,
            line_buffered: self.objective.line_buffered,
        };
        Some(CommandObjective::from_spec(command, &run).expect("checked when the file was parsed"))
    }
}

/// Conveniences the tests use to look at a parsed file.
#[cfg(test)]
impl StudyFile {
    pub fn space(&self) -> Space {
        self.space.clone()
    }

    pub fn scheduler(&self) -> Box<dyn hyperband::Scheduler> {
        self.spec().scheduler()
    }

    pub fn sampler(&self) -> Box<dyn hyperband::Sampler> {
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
