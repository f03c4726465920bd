//! `hyperband run` (create or resume a study from its file) and `hyperband worker` (join a
//! stored study from anywhere).

use crate::cli_error::bad_input;
use crate::inspect::{self, StudyRef};
use crate::objectives;
use crate::runner::{self, RunOutcome, RunPlan};
use crate::schedule::fmt_budget;
use crate::study_file::{parse_duration, StudyFile};
use hyperband::executor::StopReason;
use hyperband::storage::EventStore;
use hyperband::{Limits, StudySpec};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The study file (TOML).
    pub study_file: std::path::PathBuf,
    /// Worker threads in this process (default: `[run] workers` of the file).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Start a copy of the study under a new name (NAME-fork-N) instead of resuming, for
    /// when the file's space or algorithm changed.
    #[arg(long)]
    pub fork: bool,
    /// One line per job instead of a progress bar.
    #[arg(long)]
    pub plain: bool,
    /// Print the final status as JSON (no progress output).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub study: StudyRef,
    /// Worker threads in this process.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Per-job timeout for command objectives ("10m", "90s"); the study file's when given.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Stop taking new jobs after this long ("2h").
    #[arg(long)]
    pub max_time: Option<String>,
    #[arg(long)]
    pub plain: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let file = StudyFile::load(&args.study_file).map_err(bad_input)?;
    for warning in &file.warnings {
        eprintln!("{}: warning: {warning}", file.path.display());
    }
    let spec = file.spec();
    spec.validate().map_err(bad_input)?;
    let mut name = file.name.clone();
    if args.fork {
        let mut store = runner::open_store(&file.storage)?;
        name = runner::fork_name(&mut store, &name)?;
        eprintln!("forking: the study is stored as `{name}`");
    }
    let run_dir = objectives::run_dir(&file.storage, &name, file.dir());
    let objective = match file.command_objective(&run_dir) {
        Some(command) => objectives::command_objective(command),
        None => objectives::from_spec(&spec, file.dir(), &run_dir, file.objective.timeout)?,
    };
    let plan = RunPlan {
        name,
        spec: file.fingerprint(),
        build: build(spec, file.limits()),
        storage: file.storage.clone(),
        workers: args.workers.unwrap_or(file.run.workers),
        max_time: file.run.max_time,
        plain: args.plain,
        quiet: args.json,
    };
    let outcome = runner::run(&plan, objective)?;
    report(&plan, &outcome, args.json)
}

pub fn worker(args: &WorkerArgs) -> anyhow::Result<()> {
    let (url, name) = args.study.locate()?;
    let parse = |s: &Option<String>, flag: &str| -> anyhow::Result<Option<Duration>> {
        s.as_deref()
            .map(|t| parse_duration(t).map_err(|e| bad_input(anyhow::anyhow!("{flag}: {e}"))))
            .transpose()
    };
    let (mut timeout, max_time) = (
        parse(&args.timeout, "--timeout")?,
        parse(&args.max_time, "--max-time")?,
    );
    let cwd = std::env::current_dir()?;
    let (mut workdir, mut limits) = (cwd.clone(), Limits::default());
    if let Some(path) = &args.study.study_file {
        let file = StudyFile::load(path).map_err(bad_input)?;
        workdir = file.dir().to_path_buf();
        limits = file.limits();
        timeout = timeout.or(file.objective.timeout);
    }
    let mut store = runner::open_store(&url)?;
    let (_, stored) = store.find_study(&name).map_err(bad_input)?;
    let spec: StudySpec = serde_json::from_value(stored.clone())
        .map_err(|e| anyhow::anyhow!("study `{name}`: the stored definition is unreadable: {e}"))?;
    spec.validate().map_err(bad_input)?;
    let run_dir = objectives::run_dir(&url, &name, &cwd);
    let objective = objectives::from_spec(&spec, &workdir, &run_dir, timeout)?;
    let plan = RunPlan {
        name,
        spec: stored,
        build: build(spec, limits),
        storage: url,
        workers: args.workers,
        max_time,
        plain: args.plain,
        quiet: args.json,
    };
    let outcome = runner::run(&plan, objective)?;
    report(&plan, &outcome, args.json)
}

fn build(spec: StudySpec, limits: Limits) -> runner::StudyBuilder {
    Arc::new(move || spec.build(limits).expect("validated before the run"))
}

/// The end-of-run summary; a run in which every job failed is a failed run (exit 1).
fn report(plan: &RunPlan, outcome: &RunOutcome, json: bool) -> anyhow::Result<()> {
    let replica = &outcome.replica;
    let spec: StudySpec = serde_json::from_value(plan.spec.clone())?;
    let stats = replica.study().stats();
    if json {
        let mut status = inspect::status_json(replica, &spec, &plan.storage);
        status["seconds"] = outcome.elapsed.as_secs_f64().into();
        status["stopped"] = match (outcome.interrupted, outcome.stopped) {
            (true, _) => "interrupted",
            (false, StopReason::Time) => "time",
            (false, StopReason::Done) => "done",
        }
        .into();
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        println!(
            "\nstudy `{}` ({}): {} trials, {} jobs finished, {} failed, {} budget spent, {:.1} s{}",
            plan.name,
            plan.storage.redacted(),
            stats.trials,
            stats.finished,
            stats.failed,
            fmt_budget(stats.budget_spent),
            outcome.elapsed.as_secs_f64(),
            if outcome.interrupted {
                " (interrupted: run again to resume)"
            } else if outcome.stopped == StopReason::Time {
                " (time limit reached: run again to continue)"
            } else {
                ""
            }
        );
        if let Some(best) = inspect::best_json(replica) {
            println!(
                "best: loss {} at budget {} (trial {})",
                best["loss"], best["budget"], best["trial"]
            );
            for (k, v) in best["config"].as_object().into_iter().flatten() {
                println!("  {k} = {v}");
            }
        }
    }
    if stats.finished == 0 && stats.failed > 0 {
        let reason = replica
            .study()
            .jobs()
            .iter()
            .rev()
            .find_map(|j| j.failure.clone())
            .unwrap_or_default();
        anyhow::bail!("every job failed; the last failure was:\n{reason}");
    }
    Ok(())
}
