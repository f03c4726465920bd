//! `hyperband run` (create or resume a study from its file) and `hyperband worker` (join a
//! stored study from anywhere).

use crate::cli_error::bad_input;
use crate::inspect::{self, StudyRef};
use crate::objectives;
use crate::runner::{self, RunOutcome, RunPlan};
use crate::schedule::fmt_budget;
use crate::study_file::{parse_duration, StudyFile};
use hyperband::executor::StopReason;
use hyperband::storage::{last_limits, EventStore, RunDir, StoredLimits};
use hyperband::Mode;
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
    let run_dir = RunDir::of_study(&file.storage, &name, file.dir());
    let objective = match file.command_objective(&run_dir) {
        Some(command) => {
            objectives::command_objective(command, spec.algorithm.mode() == Mode::Stop)
        }
        None => objectives::from_spec(
            &spec,
            file.dir(),
            &run_dir,
            file.objective.timeout,
            file.objective.line_buffered,
        )?,
    };
    let workers = args.workers.unwrap_or(file.run.workers);
    // Before the study is created: a refused run leaves nothing behind.
    runner::check_workers(workers).map_err(|m| bad_input(anyhow::anyhow!("workers: {m}")))?;
    let plan = RunPlan {
        study: runner::open_study(&file.storage, &name, &spec)?,
        storage: file.storage.clone(),
        workers,
        limits: Some(StoredLimits {
            limits: file.limits(),
            max_seconds: file.run.max_time.map(|t| t.as_secs_f64()),
        }),
        max_time: None,
        plain: args.plain,
        quiet: args.json,
        enqueue: file.enqueue.clone(),
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
    let mut workdir = cwd.clone();
    let mut line_buffered = false;
    let study = runner::find_study(&url, &name)?;
    if let Some(path) = &args.study.study_file {
        let file = StudyFile::load(path).map_err(bad_input)?;
        study
            .same_definition(&file.spec())
            .map_err(|e| crate::cli_error::opening_error(&url, e))?;
        workdir = file.dir().to_path_buf();
        timeout = timeout.or(file.objective.timeout);
        line_buffered = file.objective.line_buffered;
        let mut store = runner::open_store(&url)?;
        let stored_limits = last_limits(&store.events_after(study.id, 0)?).unwrap_or_default();
        if stored_limits.limits != file.limits() {
            eprintln!(
                "{}: note: the study's stored limits apply ({}), not the file's; \
                 `hyperband run` on the file sets them",
                path.display(),
                describe_limits(&stored_limits)
            );
        }
    }
    let run_dir = RunDir::of_study(&url, &name, &cwd);
    let objective = objectives::from_spec(&study.spec, &workdir, &run_dir, timeout, line_buffered)?;
    let plan = RunPlan {
        study,
        storage: url,
        workers: args.workers,
        limits: None,
        max_time,
        plain: args.plain,
        quiet: args.json,
        enqueue: Vec::new(),
    };
    let outcome = runner::run(&plan, objective)?;
    report(&plan, &outcome, args.json)
}

fn describe_limits(stored: &StoredLimits) -> String {
    let mut parts = Vec::new();
    if let Some(b) = stored.limits.max_total_budget {
        parts.push(format!("max_total_budget = {}", fmt_budget(b)));
    }
    if let Some(t) = stored.limits.max_trials {
        parts.push(format!("max_trials = {t}"));
    }
    if let Some(s) = stored.max_seconds {
        parts.push(format!("max_time = {s} s from when the run set it"));
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// The end-of-run summary; a run in which every job failed is a failed run (exit 1).
fn report(plan: &RunPlan, outcome: &RunOutcome, json: bool) -> anyhow::Result<()> {
    let replica = &outcome.replica;
    let spec = &plan.study.spec;
    let stats = replica.study().stats();
    if json {
        let mut status = inspect::status_json(replica, spec, &plan.storage);
        status["ended_by"] = outcome.ended_by.into();
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
            plan.study.name,
            plan.storage.redacted(),
            stats.trials,
            stats.finished,
            stats.failed,
            fmt_budget(stats.budget_spent),
            outcome.elapsed.as_secs_f64(),
            match (outcome.interrupted, outcome.ended_by) {
                (true, _) => " (interrupted: run again to resume)".to_string(),
                (false, Some("max_time")) => format!(
                    " (ended: {}: run again to continue)",
                    inspect::ended_text(replica, "max_time")
                ),
                (false, Some(e)) => format!(" (ended: {})", inspect::ended_text(replica, e)),
                (false, None) if outcome.stopped == StopReason::Time => {
                    " (time limit reached: run again to continue)".to_string()
                }
                (false, None) => String::new(),
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
    if let Some(reason) = &outcome.gave_up {
        let hint = crate::fail_fast::hint(reason)
            .map(|h| format!("\n\nfix: {h}"))
            .unwrap_or_default();
        anyhow::bail!(
            "stopped early: the first {} trials of this run all failed the same way, so the \
             others would too; the last failure was:\n{reason}{hint}",
            crate::fail_fast::FAILURES
        );
    }
    if stats.finished == 0 && stats.failed > 0 {
        let reason = replica
            .study()
            .jobs()
            .iter()
            .rev()
            .find_map(|j| j.failure.clone())
            .unwrap_or_default();
        let hint = crate::fail_fast::hint(&reason)
            .map(|h| format!("\n\nfix: {h}"))
            .unwrap_or_default();
        anyhow::bail!("every job failed; the last failure was:\n{reason}{hint}");
    }
    Ok(())
}
