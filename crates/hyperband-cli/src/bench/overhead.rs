//! Per-job cost of the study itself (sampling, scheduling, bookkeeping), measured with an
//! objective that costs nothing, so that the figure is what every job pays on top of
//! training.

use hyperband::executor::StoreWorker;
use hyperband::storage::{EventStore, Replica, SqliteStore};
use hyperband::{
    Asha, BracketSizes, Budgets, Decision, Hyperband, Outcome, Param, Random, Scheduler, Settings,
    Space, Study,
};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct OverheadArgs {
    /// Study sizes to measure, in jobs.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000u64, 10_000, 100_000])]
    pub jobs: Vec<u64>,
    /// Schedulers to measure.
    #[arg(long, value_delimiter = ',', default_values_t = ["hyperband".to_string(), "asha".to_string()])]
    pub schedulers: Vec<String>,
    /// Storages to measure: `memory` (ask/tell on the in-memory study) and `sqlite` (a
    /// store worker deciding under the study lock and appending each result, on a fresh
    /// database in the temporary directory).
    #[arg(long, value_delimiter = ',', default_values_t = ["memory".to_string(), "sqlite".to_string()])]
    pub storage: Vec<String>,
    /// Largest study measured on SQLite (each job there is two transactions on disk).
    #[arg(long, default_value_t = 10_000)]
    pub sqlite_max_jobs: u64,
    /// Repetitions per cell; the fastest is reported (the least disturbed by other load).
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Row {
    scheduler: String,
    sampler: &'static str,
    storage: String,
    jobs: u64,
    us_per_job: f64,
}

/// The talk's MNIST space.
fn space() -> Space {
    Space::new(vec![
        Param::log_float("lr", 1e-3, 1e-1),
        Param::log_float("l2", 1e-6, 1e-1),
        Param::log_int("hidden", 10, 1000),
    ])
    .expect("the talk's space is valid")
}

fn scheduler(name: &str) -> anyhow::Result<Box<dyn Scheduler>> {
    let budgets = Budgets::new(1.0, 81.0, 3)?;
    Ok(match name {
        "hyperband" => Box::new(Hyperband::new(budgets, BracketSizes::Algorithm)),
        "asha" => Box::new(Asha::new(budgets)),
        "async-hyperband" => Box::new(Asha::async_hyperband(budgets, BracketSizes::Algorithm)),
        other => {
            return Err(crate::cli_error::bad_input(anyhow::anyhow!(
                "unknown scheduler `{other}` (expected hyperband, asha or async-hyperband)"
            )))
        }
    })
}

fn study(name: &str) -> anyhow::Result<Study> {
    Ok(Study::new(
        space(),
        Box::new(Random),
        scheduler(name)?,
        Settings::default(),
    ))
}

/// A cheap loss that still ranks configurations differently.
fn free_loss(job: &hyperband::Job) -> f64 {
    let lr = job.config.f64("lr").unwrap_or(0.0);
    (lr.ln() + 4.6).abs() + 1.0 / job.budget
}

/// Microseconds per job through a SQLite store: decide under the lock, append the result.
fn measure_sqlite(name: &str, jobs: u64) -> anyhow::Result<f64> {
    let dir = std::env::temp_dir().join(format!("hyperband-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}-{jobs}.db"));
    let _ = std::fs::remove_file(&path);
    let mut store = SqliteStore::open(&path)?;
    let (id, _) = store.open_study("bench", &serde_json::json!({ "scheduler": name }))?;
    study(name)?;
    let owned = name.to_string();
    let fresh = Box::new(move || Replica::new("bench", study(&owned).expect("checked above")));
    let mut worker = StoreWorker::new(store, id, fresh);
    let start = Instant::now();
    for _ in 0..jobs {
        let job = match worker.next_job()? {
            Decision::Run(job) => job,
            d => anyhow::bail!("{name} stopped handing out work: {d:?}"),
        };
        worker.report(&job, Outcome::loss(free_loss(&job)), 0.0)?;
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / jobs as f64;
    drop(worker);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(us)
}

/// Microseconds per ask+tell over `jobs` jobs on a fresh in-memory study.
fn measure(name: &str, jobs: u64) -> anyhow::Result<f64> {
    let mut study = study(name)?;
    let start = Instant::now();
    for _ in 0..jobs {
        let job = match study.ask() {
            Decision::Run(job) => job,
            d => anyhow::bail!("{name} stopped handing out work: {d:?}"),
        };
        study.tell(job.id, Outcome::loss(free_loss(&job)))?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / jobs as f64)
}

pub fn run(args: &OverheadArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for storage in &args.storage {
        for name in &args.schedulers {
            for &jobs in &args.jobs {
                let mut best = f64::INFINITY;
                for _ in 0..args.repeat.max(1) {
                    best = best.min(match storage.as_str() {
                        "memory" => measure(name, jobs)?,
                        "sqlite" if jobs > args.sqlite_max_jobs => continue,
                        "sqlite" => measure_sqlite(name, jobs)?,
                        other => {
                            return Err(crate::cli_error::bad_input(anyhow::anyhow!(
                                "unknown storage `{other}` (expected memory or sqlite)"
                            )))
                        }
                    });
                }
                if best.is_finite() {
                    rows.push(Row {
                        scheduler: name.clone(),
                        sampler: "random",
                        storage: storage.clone(),
                        jobs,
                        us_per_job: (best * 100.0).round() / 100.0,
                    });
                }
            }
        }
    }
    if args.json {
        println!("{}", serde_json::json!({ "results": rows }));
    } else {
        println!(
            "{:<16} {:<8} {:<8} {:>8} {:>10}",
            "scheduler", "sampler", "storage", "jobs", "us/job"
        );
        for r in &rows {
            println!(
                "{:<16} {:<8} {:<8} {:>8} {:>10.2}",
                r.scheduler, r.sampler, r.storage, r.jobs, r.us_per_job
            );
        }
    }
    Ok(())
}
