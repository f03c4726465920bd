//! `hyperband bench storage`: jobs per second through a store, with N worker processes and
//! a near-free objective, and a check that no job was lost or done twice.

use crate::cli_error::bad_input;
use crate::runner::open_store;
use hyperband::storage::{EventStore, Replica, StorageUrl};
use hyperband::{AlgorithmFields, JobState, Limits, SamplerKind, SchedulerKind, StudySpec};
use serde_json::json;
use std::collections::HashMap;
use std::process::Stdio;

#[derive(Debug, clap::Args)]
pub struct StorageArgs {
    /// The store to measure: `sqlite:PATH` or `postgres://...`.
    #[arg(long)]
    pub storage: String,
    /// Worker processes.
    #[arg(long, default_value_t = 8)]
    pub workers: usize,
    /// How long the workers take jobs.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &StorageArgs, this: &crate::Invocation) -> anyhow::Result<()> {
    let cwd = std::env::current_dir()?;
    let url = StorageUrl::parse(&args.storage, &cwd).map_err(bad_input)?;
    let problem = workloads::synthetic::by_name("mf-branin").expect("a built-in problem");
    // ASHA never waits, so the figure is the store's, not the algorithm's.
    let spec = StudySpec {
        objective: Some(hyperband::ObjectiveSpec::Builtin {
            builtin: problem.name().to_string(),
        }),
        ..StudySpec::new(
            0,
            crate::synthetic::space(problem.as_ref()).params().to_vec(),
            AlgorithmFields::new(
                SchedulerKind::Asha,
                SamplerKind::Random,
                problem.min_budget(),
                problem.max_budget(),
            )
            .try_into()
            .expect("a valid algorithm"),
        )
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let name = format!("bench-storage-{}-{nanos}", std::process::id());
    let mut store = open_store(&url)?;
    let (id, _) = store.open_study(&name, &spec.to_json())?;
    drop(store);
    let max_time = format!("{}s", args.seconds);
    let worker = [
        "worker",
        "--storage",
        &args.storage,
        "--study",
        &name,
        "--json",
        "--max-time",
        &max_time,
    ];
    let children = (0..args.workers.max(1))
        .map(|_| {
            this.command(worker)?
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut failures = Vec::new();
    for child in children {
        let out = child.wait_with_output()?;
        if !out.status.success() {
            failures.push(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
    }
    if let Some(first) = failures.first() {
        anyhow::bail!(
            "{} of {} workers failed; the first said: {first}",
            failures.len(),
            args.workers
        );
    }
    let mut store = open_store(&url)?;
    let mut replica = Replica::new(&name, spec.build(Limits::default())?);
    replica.sync(&mut store, id)?;
    let study = replica.study();
    let mut finished_per_slot: HashMap<(u64, u32), u32> = HashMap::new();
    let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
    for (job, meta) in study.jobs().iter().zip(replica.meta()) {
        first = first.min(meta.issued_at);
        if job.state == JobState::Finished {
            *finished_per_slot
                .entry((job.assignment.trial.0, job.assignment.rung))
                .or_default() += 1;
            last = last.max(meta.ended_at.unwrap_or(meta.issued_at));
        }
    }
    let finished = study.stats().finished;
    let duplicated: u32 = finished_per_slot.values().map(|n| n - 1).sum();
    // A job still running after every worker stopped cleanly was dropped by someone.
    let lost = study
        .jobs()
        .iter()
        .filter(|j| matches!(j.state, JobState::Running | JobState::Lost))
        .count();
    let seconds = (last - first).max(1e-9);
    let report = json!({
        "storage": match url { StorageUrl::Sqlite(_) => "sqlite", StorageUrl::Postgres(_) => "postgres" },
        "workers": args.workers,
        "jobs": finished,
        "seconds": seconds,
        "jobs_per_second": finished as f64 / seconds,
        "lost": lost,
        "duplicated": duplicated,
        "late_results": replica.meta().iter().map(|m| m.late_results as u64).sum::<u64>(),
        "study": name,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{} with {} worker processes: {} jobs in {:.1} s = {:.0} jobs/s; lost {}, duplicated {}",
            url.redacted(),
            args.workers,
            finished,
            seconds,
            finished as f64 / seconds,
            lost,
            duplicated
        );
    }
    Ok(())
}
