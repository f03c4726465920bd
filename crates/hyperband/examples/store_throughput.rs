//! Jobs per second through a store with a near-free objective: N worker threads, each with
//! its own connections (one for decisions and results, one for lease renewal), run one fresh
//! ASHA study to completion; then the log is replayed to count lost and duplicated jobs.
//!
//! ```text
//! cargo run --release -p hyperband --example store_throughput -- \
//!     --storage postgres://postgres@127.0.0.1:5432/test?schema=hbbench --workers 32 --jobs 5000
//! cargo run --release -p hyperband --example store_throughput -- \
//!     --storage sqlite:/tmp/bench.db --workers 8 --jobs 3000
//! ```
//!
//! Prints `{"storage":..,"workers":..,"jobs":..,"jobs_per_second":..,"lost":..,"duplicated":..}`.
//! `duplicated` counts jobs issued for a (trial, rung) that already had a live or finished
//! job, plus results recorded twice for one job; `lost` counts (trial, rung) pairs issued but
//! never finished.

use hyperband::executor::StoreWorker;
use hyperband::storage::{Event, EventStore, PgStore, Replica, SqliteStore, StorageUrl};
use hyperband::{Asha, Budgets, Evaluation, Job, Limits, Param, Random, Settings, Space, Study};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::Barrier;
use std::time::Instant;

fn study(max_trials: u64) -> Study {
    let space = Space::new(vec![
        Param::log_float("lr", 1e-4, 1e-1),
        Param::float("x", -1.0, 1.0),
    ])
    .unwrap();
    Study::new(
        space,
        Box::new(Random),
        Box::new(Asha::new(Budgets::new(1.0, 27.0, 3).unwrap())),
        Settings {
            seed: 1,
            limits: Limits {
                max_trials: Some(max_trials),
                ..Limits::default()
            },
            ..Settings::default()
        },
    )
}

fn objective(job: &Job) -> Result<Evaluation, String> {
    let lr = job.config.f64("lr").unwrap();
    let x = job.config.f64("x").unwrap();
    Ok(Evaluation::new(
        (lr.log10() + 2.0).powi(2) + x * x + 1.0 / job.budget,
    ))
}

struct Args {
    storage: String,
    workers: usize,
    jobs: u64,
}

fn args() -> Args {
    let mut args = Args {
        storage: String::new(),
        workers: 8,
        jobs: 2000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--storage" => args.storage = value,
            "--workers" => args.workers = value.parse().expect("--workers N"),
            "--jobs" => args.jobs = value.parse().expect("--jobs M"),
            _ => panic!("unknown flag {flag}; expected --storage URL --workers N --jobs M"),
        }
    }
    assert!(!args.storage.is_empty(), "--storage URL is required");
    args
}

/// (jobs, lost, duplicated) from the raw log.
fn audit(events: &[hyperband::storage::StoredEvent]) -> (u64, u64, u64) {
    let mut pair_of = HashMap::new();
    let mut live: HashMap<(u64, u32), u64> = HashMap::new();
    let mut finished: HashSet<(u64, u32)> = HashSet::new();
    let mut ended: HashSet<u64> = HashSet::new();
    let mut duplicated = 0;
    for stored in events {
        match &stored.event {
            Event::JobIssued { job, .. } => {
                let pair = (job.trial.0, job.rung);
                if live.contains_key(&pair) || finished.contains(&pair) {
                    duplicated += 1;
                }
                live.insert(pair, job.id.0);
                pair_of.insert(job.id.0, pair);
            }
            Event::JobLost { job, .. } => {
                let pair = pair_of[&job.0];
                if live.get(&pair) == Some(&job.0) {
                    live.remove(&pair);
                }
            }
            Event::JobFinished { job, .. }
            | Event::JobFailed { job, .. }
            | Event::JobStopped { job, .. } => {
                if !ended.insert(job.0) {
                    duplicated += 1;
                }
                let pair = pair_of[&job.0];
                if live.get(&pair) == Some(&job.0) {
                    live.remove(&pair);
                    finished.insert(pair);
                }
            }
            Event::StudyCreated { .. } | Event::LimitsSet { .. } | Event::Enqueued { .. } => {}
        }
    }
    let issued: HashSet<_> = pair_of.values().collect();
    let lost = issued.iter().filter(|p| !finished.contains(p)).count() as u64;
    (finished.len() as u64, lost, duplicated)
}

fn bench<S: EventStore + 'static>(
    open: &(dyn Fn() -> S + Sync),
    kind: &str,
    workers: usize,
    jobs: u64,
) -> serde_json::Value {
    // ASHA with eta 3 over 4 rungs issues about 1.48 jobs per trial.
    let max_trials = (jobs as f64 / 1.48).ceil() as u64;
    let name = format!(
        "bench-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let spec = serde_json::json!({"bench": "store_throughput", "max_trials": max_trials});
    let (id, _) = open().open_study(&name, &spec).unwrap();
    let ready = Barrier::new(workers + 1);
    let done = Barrier::new(workers + 1);
    let stop = AtomicBool::new(false);
    let seconds = std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let fresh = Box::new(move || Replica::new("bench", study(max_trials)));
                let mut worker = StoreWorker::new(open(), id, fresh);
                ready.wait();
                worker
                    .run(|| Ok(open()), objective, None, &stop, &mut |_, _, _| {})
                    .unwrap();
                done.wait();
            });
        }
        ready.wait();
        let start = Instant::now();
        done.wait();
        start.elapsed().as_secs_f64()
    });
    let events = open().events_after(id, 0).unwrap();
    let (finished, lost, duplicated) = audit(&events);
    // The replayed study agrees.
    let mut replica = Replica::new("bench", study(max_trials));
    for event in &events {
        replica.apply(event).unwrap();
    }
    assert_eq!(replica.study().stats().finished, finished);
    serde_json::json!({
        "storage": kind,
        "workers": workers,
        "jobs": finished,
        "jobs_per_second": (finished as f64 / seconds * 10.0).round() / 10.0,
        "lost": lost,
        "duplicated": duplicated + replica.duplicates(),
        "seconds": (seconds * 1000.0).round() / 1000.0,
    })
}

fn main() {
    let args = args();
    let here = std::env::current_dir().unwrap();
    let url = StorageUrl::parse(&args.storage, &here).unwrap_or_else(|e| panic!("{e}"));
    let report = match &url {
        StorageUrl::Postgres(url) => bench(
            &|| PgStore::connect(url).unwrap_or_else(|e| panic!("{e}")),
            "postgres",
            args.workers,
            args.jobs,
        ),
        StorageUrl::Sqlite(path) => bench(
            &|| SqliteStore::open(path).unwrap_or_else(|e| panic!("{e}")),
            "sqlite",
            args.workers,
            args.jobs,
        ),
    };
    println!("{report}");
}
