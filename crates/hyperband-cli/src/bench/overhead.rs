//! Per-job cost of the study itself (sampling, scheduling, bookkeeping), measured with an
//! objective that costs nothing, so that the figure is what every job pays on top of
//! training.

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
    storage: &'static str,
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

/// Microseconds per ask+tell over `jobs` jobs on a fresh study.
fn measure(name: &str, jobs: u64) -> anyhow::Result<f64> {
    let mut study = Study::new(
        space(),
        Box::new(Random),
        scheduler(name)?,
        Settings::default(),
    );
    let start = Instant::now();
    for _ in 0..jobs {
        let job = match study.ask() {
            Decision::Run(job) => job,
            d => anyhow::bail!("{name} stopped handing out work: {d:?}"),
        };
        // A cheap loss that still ranks configurations differently.
        let lr = job.config.f64("lr").unwrap_or(0.0);
        let loss = (lr.ln() + 4.6).abs() + 1.0 / job.budget;
        study.tell(job.id, Outcome::loss(loss))?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / jobs as f64)
}

pub fn run(args: &OverheadArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for name in &args.schedulers {
        for &jobs in &args.jobs {
            let mut best = f64::INFINITY;
            for _ in 0..args.repeat.max(1) {
                best = best.min(measure(name, jobs)?);
            }
            rows.push(Row {
                scheduler: name.clone(),
                sampler: "random",
                storage: "memory",
                jobs,
                us_per_job: (best * 100.0).round() / 100.0,
            });
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
