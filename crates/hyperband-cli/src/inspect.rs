//! `status`, `best` and `export`: read a study back from its store.
//!
//! They need only the store: the study's definition is stored with it, so these work from
//! any machine that can reach the database, study file or not.

use crate::cli_error::bad_input;
use crate::schedule::fmt_budget;
use anyhow::Context;
use hyperband::storage::{AnyStore, Replica, StorageUrl, StoredEvent, StoredStudy};
use hyperband::{Decision, JobState, Limits, StudySpec};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

/// Which study: a study file, or a storage URL and a study name.
#[derive(Debug, clap::Args)]
pub struct StudyRef {
    /// The study file (TOML).
    pub study_file: Option<PathBuf>,
    /// Storage URL (`sqlite:PATH` or `postgres://...`), instead of a study file.
    #[arg(long, requires = "study")]
    pub storage: Option<String>,
    /// Study name in that storage.
    #[arg(long, requires = "storage")]
    pub study: Option<String>,
}

impl StudyRef {
    /// The storage URL and study name this reference points at.
    pub fn locate(&self) -> anyhow::Result<(StorageUrl, String)> {
        match (&self.study_file, &self.storage, &self.study) {
            (Some(file), None, None) => {
                let parsed = crate::study_file::StudyFile::load(file).map_err(bad_input)?;
                Ok((parsed.storage.clone(), parsed.name.clone()))
            }
            (None, Some(url), Some(name)) => {
                let cwd = std::env::current_dir()?;
                let url = StorageUrl::parse(url, &cwd).map_err(bad_input)?;
                Ok((url, name.clone()))
            }
            _ => Err(bad_input(anyhow::anyhow!(
                "name the study by its file (`hyperband status study.toml`) or by \
                 `--storage URL --study NAME`, not both"
            ))),
        }
    }

    /// The study as its store has it now, read without writing: the store is opened
    /// read-only (nothing is created, initialised, upgraded or locked, so a read-only
    /// folder or database serves), and results still waiting in a server store's inbox
    /// are shown without being moved into the log. A missing or empty store, schema or
    /// study is bad input (exit status 2).
    pub fn open(&self) -> anyhow::Result<(Replica, StudySpec, StorageUrl)> {
        let opened = self.open_with_leases()?;
        Ok((opened.replica, opened.study.spec, opened.url))
    }

    /// [`open`](Self::open), and which running jobs' leases have expired: their worker
    /// stopped renewing them (killed, or its machine gone), so the job will not end by
    /// itself, but only a worker's next decision records it as lost. A reader cannot
    /// write that decision (it opens the store read-only), so it shows the job as stale
    /// instead of as running on.
    pub fn open_with_leases(&self) -> anyhow::Result<Opened> {
        let (url, name) = self.locate()?;
        let mut store = AnyStore::open_read_only(&url).map_err(bad_input)?;
        let study = StoredStudy::find(&mut store, &name)
            .map_err(|e| crate::cli_error::opening_error(&url, e))?;
        let id = study.id;
        let mut replica = study.replica();
        let peeked = store.peek_events(id, 0)?;
        let events: Vec<StoredEvent> = peeked.log.into_iter().chain(peeked.pending).collect();
        for event in &events {
            replica.apply(event)?;
        }
        let now = hyperband::storage::now();
        let jobs = replica.study().jobs();
        let expired = store
            .peek_leases(id)?
            .into_iter()
            .filter(|lease| lease.expires_at < now)
            .map(|lease| lease.job.0 as usize)
            .filter(|&job| jobs.get(job).is_some_and(|j| j.state == JobState::Running))
            .collect();
        Ok(Opened {
            replica,
            study,
            url,
            expired,
            events,
        })
    }
}

/// A stored study as a read command sees it.
pub struct Opened {
    pub replica: Replica,
    /// The study as stored (its definition), which also makes fresh replicas.
    pub study: StoredStudy,
    pub url: StorageUrl,
    /// Running jobs whose lease has expired.
    pub expired: BTreeSet<usize>,
    /// The events the replica was built from, to build a throwaway copy without reading the
    /// store again ([`ended_by`]).
    pub events: Vec<StoredEvent>,
}

impl Opened {
    /// A fresh replica of the same events.
    pub fn replay(&self) -> anyhow::Result<Replica> {
        let mut replica = self.study.replica();
        for event in &self.events {
            replica.apply(event)?;
        }
        Ok(replica)
    }
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub study: StudyRef,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BestArgs {
    #[command(flatten)]
    pub study: StudyRef,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub study: StudyRef,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Same as `--format json`.
    #[arg(long)]
    pub json: bool,
}

/// The best result: the best loss at the highest budget reached (BOHB's incumbent).
pub fn best_json(replica: &Replica) -> Option<Value> {
    let study = replica.study();
    let inc = study.incumbent()?;
    let config = &study.history().trial(inc.trial).config;
    Some(json!({
        "trial": inc.trial.0,
        "config": config,
        "budget": inc.budget,
        "loss": inc.loss,
    }))
}

/// The most frequent failure reasons (first line of each), most frequent first.
pub(crate) fn failure_summary(replica: &Replica) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for job in replica.study().jobs() {
        if let Some(reason) = &job.failure {
            let first = reason.lines().next().unwrap_or_default().to_string();
            *counts.entry(first).or_default() += 1;
        }
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Which stop criterion ended the study, or `None` while it can go on (jobs running, or
/// more to do within its limits): `"max_total_budget"`, `"max_trials"`, `"max_time"`, or
/// `"plan"` when the scheduler's own plan ran out (SHA's brackets, `max_brackets`).
/// Without it a finished study looked the same whichever limit ended it, and a user could
/// not tell whether raising a limit would make `run` do more.
///
/// The log does not record why the study stopped, so this asks the study again: `fresh`
/// replays the same log into a throwaway replica (asking changes a study), once with the
/// trial limit lifted to tell the plan's end from the trial limit's, once as stored.
pub fn ended_by(
    shown: &Replica,
    mut fresh: impl FnMut() -> anyhow::Result<Replica>,
    now: f64,
) -> anyhow::Result<Option<&'static str>> {
    let study = shown.study();
    let s = study.stats();
    if s.running > 0 {
        return Ok(None);
    }
    let limits = study.settings().limits;
    if limits
        .max_total_budget
        .is_some_and(|max| s.budget_spent >= max)
    {
        return Ok(Some("max_total_budget"));
    }
    let mut unlimited = fresh()?;
    unlimited.study_mut().set_limits(Limits {
        max_trials: None,
        ..limits
    });
    if matches!(unlimited.study_mut().ask(), Decision::Done) {
        return Ok(Some("plan"));
    }
    if limits.max_trials.is_some_and(|m| s.trials >= m)
        && matches!(fresh()?.study_mut().ask(), Decision::Done)
    {
        return Ok(Some("max_trials"));
    }
    if shown.deadline().is_some_and(|d| now >= d) {
        return Ok(Some("max_time"));
    }
    Ok(None)
}

/// [`ended_by`] in words, with the limit's value.
pub fn ended_text(replica: &Replica, ended_by: &str) -> String {
    let study = replica.study();
    let limits = study.settings().limits;
    let s = study.stats();
    match ended_by {
        "max_total_budget" => format!(
            "max_total_budget = {} reached ({} spent)",
            fmt_budget(limits.max_total_budget.unwrap_or_default()),
            fmt_budget(s.budget_spent)
        ),
        "max_trials" => format!(
            "max_trials = {} reached",
            limits.max_trials.unwrap_or_default()
        ),
        "max_time" => "max_time reached".to_string(),
        _ => "the plan is complete (every bracket the scheduler plans has run)".to_string(),
    }
}

pub fn status_json(replica: &Replica, spec: &StudySpec, url: &StorageUrl) -> Value {
    let study = replica.study();
    let s = study.stats();
    let failures: Vec<Value> = failure_summary(replica)
        .into_iter()
        .take(5)
        .map(|(reason, count)| json!({"reason": reason, "jobs": count}))
        .collect();
    json!({
        "study": replica.name(),
        "storage": url.redacted(),
        "scheduler": study.scheduler_name(),
        "sampler": study.sampler_name(),
        "min_budget": spec.algorithm.min_budget(),
        "max_budget": spec.algorithm.max_budget(),
        "eta": spec.algorithm.eta(),
        "trials": s.trials,
        "jobs": s.jobs,
        "finished": s.finished,
        "failed": s.failed,
        "lost": s.lost,
        "stopped": s.stopped,
        "running": s.running,
        "budget_spent": s.budget_spent,
        "cost_model": spec.cost,
        "limits": {
            "max_total_budget": study.settings().limits.max_total_budget,
            "max_trials": study.settings().limits.max_trials,
            "deadline": replica.deadline(),
        },
        "best": best_json(replica),
        "failures": failures,
    })
}

pub fn status(args: &StatusArgs) -> anyhow::Result<()> {
    let opened = args.study.open_with_leases()?;
    let ended = ended_by(
        &opened.replica,
        || opened.replay(),
        hyperband::storage::now(),
    )?;
    let Opened {
        replica,
        study,
        url,
        expired,
        ..
    } = opened;
    let spec = &study.spec;
    let mut status = status_json(&replica, spec, &url);
    status["ended_by"] = ended.into();
    status["stale"] = expired.len().into();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    let s = replica.study().stats();
    println!("study      {}  ({})", replica.name(), url.redacted());
    println!(
        "algorithm  {} + {} sampler, budgets {}..{}, eta {}",
        replica.study().scheduler_name(),
        replica.study().sampler_name(),
        fmt_budget(spec.algorithm.min_budget()),
        fmt_budget(spec.algorithm.max_budget()),
        spec.algorithm.eta()
    );
    let stopped = if s.stopped > 0 {
        format!(", {} stopped while training", s.stopped)
    } else {
        String::new()
    };
    println!(
        "progress   {} trials, {} jobs: {} finished, {} failed, {} lost{stopped}, {} running",
        s.trials, s.jobs, s.finished, s.failed, s.lost, s.running
    );
    if !expired.is_empty() {
        println!(
            "stale      {} of the running jobs (job {}) have an expired lease: their worker \
             is gone; the next `run` or `worker` declares them lost and runs them again",
            expired.len(),
            expired
                .iter()
                .map(|j| j.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!(
        "budget     {} spent ({})",
        fmt_budget(s.budget_spent),
        match (spec.algorithm.mode(), spec.cost) {
            (hyperband::Mode::Stop, _) =>
                "stop mode: each trial pays the budget its program reached",
            (_, hyperband::CostModel::Scratch) =>
                "scratch accounting: every job pays its full budget",
            (_, hyperband::CostModel::Resume) =>
                "resume accounting: promoted jobs pay only their new budget",
        }
    );
    match replica.study().incumbent() {
        Some(inc) => println!(
            "best       loss {:.6} at budget {} (trial {}: {})",
            inc.loss,
            fmt_budget(inc.budget),
            inc.trial,
            replica.study().history().trial(inc.trial).config
        ),
        None => println!("best       no finished job yet"),
    }
    match ended {
        Some(e) => println!("ended      {}", ended_text(&replica, e)),
        None if s.running > 0 => println!("ended      not yet: jobs are running"),
        None => println!("ended      not yet: `hyperband run` goes on with it"),
    }
    let failures = failure_summary(&replica);
    if !failures.is_empty() {
        println!("failures");
        for (reason, count) in failures.iter().take(5) {
            println!("  {count:>5} x {reason}");
        }
    }
    Ok(())
}

pub fn best(args: &BestArgs) -> anyhow::Result<()> {
    let (replica, _, _) = args.study.open()?;
    let best = best_json(&replica)
        .ok_or_else(|| anyhow::anyhow!("study `{}` has no finished job yet", replica.name()))?;
    if args.json {
        println!("{best}");
    } else {
        println!(
            "loss {} at budget {} (trial {})",
            best["loss"], best["budget"], best["trial"]
        );
        for (name, value) in best["config"].as_object().into_iter().flatten() {
            println!("  {name} = {value}");
        }
    }
    Ok(())
}

/// One object per job, in the order they were issued; `expired` are the running jobs
/// whose lease expired ([`StudyRef::open_with_leases`]), marked `lease_expired`.
pub fn job_rows(replica: &Replica, expired: &BTreeSet<usize>) -> Vec<Value> {
    let study = replica.study();
    study
        .jobs()
        .iter()
        .zip(replica.meta())
        .enumerate()
        .map(|(id, (job, meta))| {
            let a = &job.assignment;
            json!({
                "job": id,
                "trial": a.trial.0,
                "config": study.history().trial(a.trial).config,
                "budget": a.budget,
                "resume_from": a.resume_from,
                "bracket": a.bracket,
                "rung": a.rung,
                "attempt": job.attempt,
                "loss": job.loss,
                "cost": job.cost,
                "metrics": meta.metrics,
                "state": job.state.name(),
                "lease_expired": expired.contains(&id),
                "failure": job.failure,
                "worker": meta.worker,
                "started_at": meta.issued_at,
                "ended_at": meta.ended_at,
                "seconds": meta.seconds,
            })
        })
        .collect()
}

pub fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let Opened {
        replica,
        study,
        expired,
        ..
    } = args.study.open_with_leases()?;
    let spec = &study.spec;
    let rows = job_rows(&replica, &expired);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&mut out, &rows, spec)?,
    }
    out.flush()?;
    Ok(())
}

/// CSV with one column per parameter and per metric, so that a spreadsheet can plot it.
fn write_csv(out: &mut dyn Write, rows: &[Value], spec: &StudySpec) -> anyhow::Result<()> {
    let params: Vec<&str> = spec.space.iter().map(|p| p.name.as_str()).collect();
    let mut metrics: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            r["metrics"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
        })
        .collect();
    metrics.sort();
    metrics.dedup();
    let fixed = [
        "job",
        "trial",
        "budget",
        "resume_from",
        "bracket",
        "rung",
        "attempt",
        "loss",
        "cost",
        "state",
        "worker",
        "started_at",
        "ended_at",
        "seconds",
        "failure",
    ];
    let mut header: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
    header.extend(params.iter().map(|p| format!("param.{p}")));
    header.extend(metrics.iter().map(|m| format!("metric.{m}")));
    writeln!(
        out,
        "{}",
        header
            .iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(",")
    )?;
    for row in rows {
        let mut fields: Vec<String> = fixed.iter().map(|k| csv_value(&row[*k])).collect();
        fields.extend(params.iter().map(|p| csv_value(&row["config"][*p])));
        fields.extend(
            metrics
                .iter()
                .map(|m| csv_value(&row["metrics"][m.as_str()])),
        );
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

fn csv_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => csv_field(s),
        other => csv_field(&other.to_string()),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
