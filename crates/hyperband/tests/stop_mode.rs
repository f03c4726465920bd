//! Stopping rules in the library: an in-process objective reports `(budget, loss)` as it
//! trains and is told to go on or stop; on a store, several workers share the decisions and
//! a replica rebuilt from the log takes the same ones.

use hyperband::executor::StoreWorker;
use hyperband::objective::{Monitor, Verdict};
use hyperband::storage::{EventStore, PgStore, Replica, SqliteStore, StorageError};
use hyperband::{
    AlgorithmSpec, BracketSizes, CostModel, Decision, Evaluation, Job, Limits, Mode, Outcome,
    Param, SamplerKind, SchedulerKind, Study, StudySpec,
};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

fn spec(scheduler: SchedulerKind, sampler: SamplerKind) -> StudySpec {
    StudySpec {
        seed: 3,
        space: vec![Param::log_float("lr", 1e-4, 1.0)],
        algorithm: AlgorithmSpec {
            scheduler,
            sampler,
            min_budget: 1.0,
            max_budget: 27.0,
            eta: 3,
            bracket_sizes: BracketSizes::Algorithm,
            n_configs: None,
            max_brackets: None,
            mode: Mode::Stop,
            integer_budgets: false,
        },
        cost: CostModel::Resume,
        max_retries: 0,
        objective: serde_json::Value::Null,
    }
}

fn study(scheduler: SchedulerKind) -> Study {
    let limits = Limits {
        max_trials: Some(30),
        ..Limits::default()
    };
    spec(scheduler, SamplerKind::Tpe).build(limits).unwrap()
}

fn value(lr: f64, epoch: f64) -> f64 {
    (lr.log10() + 2.0).powi(2) + 1.0 / epoch
}

/// An objective that trains epoch by epoch to the job's budget; counts the epochs it ran.
fn train(epochs: &AtomicU64) -> impl Fn(&Job, &mut dyn Monitor) -> Result<Evaluation, String> + '_ {
    move |job, monitor| {
        assert_eq!(job.resume_from, 0.0, "a program always starts from scratch");
        let lr = job.config.f64("lr").unwrap();
        let mut last = 0.0;
        for epoch in 1..=job.budget as u64 {
            epochs.fetch_add(1, Ordering::Relaxed);
            last = value(lr, epoch as f64);
            if monitor.report(epoch as f64, last) == Verdict::Stop {
                break;
            }
        }
        Ok(Evaluation::new(last))
    }
}

#[test]
fn tell_and_continue_runs_a_trial_rung_after_rung_in_memory() {
    for scheduler in [SchedulerKind::Asha, SchedulerKind::Hyperband] {
        let mut s = study(scheduler);
        assert_eq!(s.program_budget(), Some(27.0));
        let mut reached = Vec::new();
        while let Decision::Run(mut job) = s.ask() {
            loop {
                let lr = job.config.f64("lr").unwrap();
                let outcome = Outcome::loss(value(lr, job.budget));
                match s.tell_and_continue(job.id, outcome).unwrap().1 {
                    Some(next) => {
                        assert_eq!((next.trial, next.resume_from), (job.trial, job.budget));
                        job = next;
                    }
                    None => break,
                }
            }
            reached.push(job.budget);
        }
        assert_eq!(s.stats().trials, 30);
        // Charged the budget each trial reached, once.
        let total: f64 = reached.iter().sum();
        assert_eq!(s.stats().budget_spent, total, "{scheduler:?}");
        assert!(reached.contains(&27.0) && reached.iter().any(|&b| b < 27.0));
    }
}

fn open(path: &Path) -> (SqliteStore, i64) {
    let mut store = SqliteStore::open(path).unwrap();
    let (id, _) = store
        .open_study("stop", &serde_json::json!({"seed": 3}))
        .unwrap();
    (store, id)
}

fn run_workers(path: &Path, scheduler: SchedulerKind, workers: usize) -> u64 {
    let p = path.to_path_buf();
    run_on(move || Ok(open(&p)), scheduler, workers)
}

/// Runs `workers` stored workers, each with its own connection from `connect`; returns the
/// epochs the objective trained.
fn run_on<S: EventStore + 'static>(
    connect: impl Fn() -> Result<(S, i64), StorageError> + Sync + Clone + Send,
    scheduler: SchedulerKind,
    workers: usize,
) -> u64 {
    let epochs = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (epochs, connect) = (&epochs, connect.clone());
            scope.spawn(move || {
                let (store, id) = connect().unwrap();
                let mut worker = StoreWorker::new(
                    store,
                    id,
                    Box::new(move || Replica::new("stop", study(scheduler))),
                );
                let stop = AtomicBool::new(false);
                worker
                    .run_stopping(
                        move || connect().map(|(s, _)| s),
                        train(epochs),
                        None,
                        &stop,
                        &mut |_, _, _| {},
                    )
                    .unwrap();
            });
        }
    });
    epochs.into_inner()
}

/// The checks every stored stop-mode run must pass, on the replica rebuilt from its log.
fn check_log<S: EventStore>(store: &mut S, id: i64, scheduler: SchedulerKind, epochs: u64) {
    let mut replica = Replica::new("stop", study(scheduler));
    replica.sync(store, id).unwrap();
    let stats = replica.study().stats();
    assert_eq!(stats.trials, 30, "{scheduler:?}");
    assert_eq!(stats.running, 0);
    assert_eq!(stats.failed, 0);
    // Every epoch trained was charged, and nothing else.
    assert_eq!(stats.budget_spent, epochs as f64, "{scheduler:?}");
    // The logged curve of each segment ends at its rung's value.
    for (job, meta) in replica.study().jobs().iter().zip(replica.meta()) {
        let curve = meta.metrics["curve"].as_array().unwrap();
        let last = curve.last().unwrap().as_array().unwrap();
        assert_eq!(last[0].as_f64(), Some(job.assignment.budget));
        assert_eq!(last[1].as_f64(), job.loss);
    }
}

#[test]
fn stored_workers_stop_in_process_objectives_and_the_log_replays() {
    for (scheduler, workers) in [
        (SchedulerKind::Asha, 1),
        (SchedulerKind::Asha, 3),
        (SchedulerKind::Hyperband, 2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stop.db");
        let epochs = run_workers(&path, scheduler, workers);
        let (mut store, id) = open(&path);
        check_log(&mut store, id, scheduler, epochs);
    }
}

/// The same on PostgreSQL (`postgres://postgres@127.0.0.1:5432/test` or
/// `$HYPERBAND_TEST_POSTGRES`), whose results go through an inbox outside the study lock;
/// fails, never skips, when the server cannot be reached.
#[test]
fn postgres_workers_share_stop_decisions() {
    let url = std::env::var("HYPERBAND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("stop_{}_{nanos}", std::process::id());
    let connect = move || -> Result<(PgStore, i64), StorageError> {
        let mut store = PgStore::connect_in(&url, "hbtest")?;
        let (id, _) = store.open_study(&name, &serde_json::json!({"seed": 3}))?;
        Ok((store, id))
    };
    let epochs = run_on(connect.clone(), SchedulerKind::Asha, 3);
    let (mut store, id) = connect().expect("PostgreSQL is reachable");
    check_log(&mut store, id, SchedulerKind::Asha, epochs);
}

#[test]
fn one_worker_runs_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    run_workers(&a, SchedulerKind::Asha, 1);
    run_workers(&b, SchedulerKind::Asha, 1);
    let history = |p: &Path| {
        let (mut store, id) = open(p);
        let mut replica = Replica::new("stop", study(SchedulerKind::Asha));
        replica.sync(&mut store, id).unwrap();
        replica
            .study()
            .jobs()
            .iter()
            .map(|j| (j.assignment.trial.0, j.assignment.budget, j.loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(history(&a), history(&b));
}
