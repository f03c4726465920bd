//! Stopping rules in the library: an in-process objective reports `(budget, loss)` as it
//! trains and is told to go on or stop; on a store, several workers share the decisions and
//! a replica rebuilt from the log takes the same ones.

mod common;

use hyperband::executor::StoreWorker;
use hyperband::objective::{Monitor, Verdict};
use hyperband::storage::{EventStore, PgStore, Replica, SqliteStore, StorageError};
use hyperband::{
    AlgorithmFields, CostModel, Decision, Evaluation, Job, JobState, Limits, Mode, Outcome, Param,
    SamplerKind, SchedulerKind, Study, StudySpec, TrialId, Value,
};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

fn spec(scheduler: SchedulerKind, sampler: SamplerKind) -> StudySpec {
    StudySpec {
        cost: CostModel::Resume,
        ..StudySpec::new(
            3,
            vec![Param::log_float("lr", 1e-4, 1.0)],
            AlgorithmFields {
                mode: Mode::Stop,
                ..AlgorithmFields::new(scheduler, sampler, 1.0, 27.0)
            }
            .try_into()
            .expect("a valid algorithm"),
        )
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
    // The logged curve of each segment that reached its rung ends at the rung's value.
    for (job, meta) in replica.study().jobs().iter().zip(replica.meta()) {
        if job.state == JobState::Stopped {
            continue;
        }
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
    let url = common::postgres_url();
    let name = common::unique("stop");
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

/// Three workers start three trials at once. The worst reaches rung 0 first and goes on on
/// credit (nothing to compare it with); the other two arrive while it trains towards rung
/// 1, and the third result ranks it out: its program is stopped mid-segment, charged the
/// epochs it trained, and a replica rebuilt from the log agrees.
#[test]
fn a_trial_ranked_out_while_it_trains_on_credit_is_stopped_mid_segment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credit.db");
    let (mut store, id) = open(&path);
    let space = spec(SchedulerKind::Asha, SamplerKind::Random)
        .space()
        .unwrap();
    let configs: Vec<_> = [1.0, 0.01, 0.001]
        .iter()
        .map(|&lr| space.config([("lr", Value::Float(lr))]).unwrap())
        .collect();
    hyperband::storage::enqueue(&mut store, id, &configs).unwrap();
    let build = || {
        let limits = Limits {
            max_trials: Some(3),
            ..Limits::default()
        };
        spec(SchedulerKind::Asha, SamplerKind::Random)
            .build(limits)
            .unwrap()
    };
    // The three reach rung 0 in a known order: lr = 1 (the worst) reports epoch 1 at once,
    // then takes 2 s an epoch; lr = 0.01 (the best) after 0.3 s, lr = 0.001 after 1 s, and
    // both then train fast. The best goes on on credit too, and stays in the top third.
    let epochs_of = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
    let train = |job: &Job, monitor: &mut dyn Monitor| -> Result<Evaluation, String> {
        let lr = job.config.f64("lr").unwrap();
        let which = [1.0, 0.01, 0.001].iter().position(|&l| l == lr).unwrap();
        let mut last = 0.0;
        for epoch in 1..=job.budget as u64 {
            let pause = match (which, epoch) {
                (0, 1) => 0,
                (0, _) => 2000,
                (1, 1) => 300,
                (_, 1) => 1000,
                _ => 5,
            };
            std::thread::sleep(Duration::from_millis(pause));
            epochs_of[which].fetch_add(1, Ordering::Relaxed);
            last = value(lr, epoch as f64);
            if monitor.report(epoch as f64, last) == Verdict::Stop {
                break;
            }
        }
        Ok(Evaluation::new(last))
    };
    std::thread::scope(|scope| {
        for _ in 0..3 {
            let (path, train) = (&path, &train);
            scope.spawn(move || {
                let (store, id) = open(path);
                let mut worker =
                    StoreWorker::new(store, id, Box::new(move || Replica::new("stop", build())));
                let stop = AtomicBool::new(false);
                let beat = path.clone();
                worker
                    .run_stopping(
                        move || Ok(open(&beat).0),
                        train,
                        None,
                        &stop,
                        &mut |_, _, _| {},
                    )
                    .unwrap();
            });
        }
    });
    let mut replica = Replica::new("stop", build());
    replica.sync(&mut store, id).unwrap();
    let study = replica.study();
    let worst: Vec<_> = study
        .jobs()
        .iter()
        .filter(|j| j.assignment.trial == TrialId(0))
        .collect();
    assert_eq!(worst.len(), 2, "rung 0, then the segment towards rung 1");
    assert_eq!(worst[0].state, JobState::Finished);
    assert_eq!(worst[1].state, JobState::Stopped);
    let trained = epochs_of[0].load(Ordering::Relaxed);
    assert!(
        trained < 3,
        "stopped before rung 1 (budget 3), after {trained} epochs"
    );
    // Charged what it trained past rung 0, and every epoch of every trial is charged.
    assert_eq!(worst[1].cost, (trained - 1) as f64);
    let total: u64 = epochs_of.iter().map(|e| e.load(Ordering::Relaxed)).sum();
    assert_eq!(study.stats().budget_spent, total as f64);
    assert_eq!(study.stats().stopped, 1);
    // The best trial went on to the top rung.
    assert_eq!(epochs_of[1].load(Ordering::Relaxed), 27);
}

/// A log written before the rules version was recorded (its `StudyCreated` has none)
/// replays as it was decided: on arrival, with no credit settled, so a trial that the
/// current rules would stop trains on as the older worker let it.
#[test]
fn a_log_from_before_credit_settling_replays_on_arrival() {
    use hyperband::storage::{Event, StoredEvent};
    let created: Event = serde_json::from_str(r#"{"event":"study_created","spec":{}}"#).unwrap();
    assert!(matches!(created, Event::StudyCreated { rules: 0, .. }));
    let decide = |created: Option<&Event>| {
        let mut replica = Replica::new("old", study(SchedulerKind::Asha));
        if let Some(event) = created {
            let stored = StoredEvent {
                seq: 1,
                at: 0.0,
                event: event.clone(),
            };
            replica.apply(&stored).unwrap();
        }
        let s = replica.study_mut();
        let jobs: Vec<Job> = (0..3)
            .map(|_| match s.ask() {
                Decision::Run(job) => job,
                other => panic!("{other:?}"),
            })
            .collect();
        // The first two go on on credit; the third result beats both.
        let next = s
            .tell_and_continue(jobs[0].id, Outcome::loss(5.0))
            .unwrap()
            .1
            .unwrap();
        s.tell_and_continue(jobs[1].id, Outcome::loss(4.0)).unwrap();
        s.tell_and_continue(jobs[2].id, Outcome::loss(3.0)).unwrap();
        s.stop_requested(next.id)
    };
    assert!(!decide(Some(&created)), "rules 0: decided on arrival only");
    assert!(decide(None), "the current rules settle the credit");
}
