//! What every event store promises, stated once and run on each store: replay equals the
//! live study, resume equals an uninterrupted run, workers share a study without double
//! work and get dense sequence numbers, dead workers' jobs come back, late results are
//! recorded but not counted, a replica refuses another algorithm's log, a newer schema is
//! refused, workers creating a store at once all get it, and a damaged event is named.
//!
//! A store's test file implements [`Stores`] and says
//! `common::store_contract::store_contract_tests!(ITS_STORES);`, which stamps out one
//! `#[test]` per contract test. Its own tests (files and schemas of other programs, older
//! schemas, faults) stay in its file and use the helpers here.

use hyperband::executor::StoreWorker;
use hyperband::storage::{Event, EventStore, IssuedJob, Lease, Replica, StorageError, StoredEvent};
use hyperband::{
    BracketSizes, Budgets, Decision, Evaluation, FullBudget, Hyperband, Job, JobId, JobState,
    Outcome, Param, Random, Settings, Space, Study,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::Duration;

/// Where one test keeps its study: the study's name and the store's place (a file's path,
/// a schema), with whatever removes a store of the test's own when the test ends.
pub struct Place {
    pub name: String,
    pub at: String,
    _cleanup: Box<dyn Send + Sync>,
}

impl Place {
    /// Study `name` in the store at `at`; `cleanup` is dropped with the place.
    pub fn new(name: &str, at: &str, cleanup: impl Send + Sync + 'static) -> Self {
        Self {
            name: name.to_string(),
            at: at.to_string(),
            _cleanup: Box::new(cleanup),
        }
    }
}

/// A store under test: where a test keeps its study, and the few things a test does
/// behind the store's back.
pub trait Stores: Sync {
    type Store: EventStore + 'static;
    /// How many workers share one study, or create one store, at once.
    const WORKERS: usize;
    /// A study of this test's own, named after `prefix` where tests share a store.
    fn place(&self, prefix: &str) -> Place;
    /// A store of this test's own that is not there yet (a file, a schema), removed when
    /// the place is dropped.
    fn new_store(&self, prefix: &str) -> Place;
    /// A connection as a worker opens one: it creates or upgrades the store.
    fn connect(&self, place: &Place) -> Result<Self::Store, StorageError>;
    /// Study `id`'s events as a read command sees them, through a read-only connection.
    fn read_only_events(&self, place: &Place, id: i64) -> Result<Vec<StoredEvent>, StorageError>;
    /// Sets the store's schema version behind its back.
    fn set_schema_version(&self, place: &Place, version: u32);
    /// Rewrites the payload of the study's first stored result with `edit`, behind the
    /// store's back; that event's sequence number.
    fn edit_first_result(&self, place: &Place, edit: &dyn Fn(&str) -> String) -> u64;
}

/// One `#[test]` per contract test, run on `$stores` (a [`Stores`]). (Unused, as the rest
/// of `common`, by the test files of other things.)
#[allow(unused_macros)]
macro_rules! store_contract_tests {
    ($stores:expr) => {
        $crate::common::store_contract::store_contract_tests!(@each $stores;
            a_stored_run_replays_to_the_in_memory_run,
            stopping_and_resuming_gives_the_uninterrupted_history,
            workers_share_a_study_without_double_work,
            concurrent_results_and_decisions_get_dense_distinct_sequence_numbers,
            jobs_of_a_dead_worker_are_reissued,
            expired_leases_are_declared_lost_and_late_results_not_counted,
            a_replica_refuses_a_log_from_another_algorithm,
            a_newer_schema_is_refused,
            workers_opening_a_new_store_at_once_all_get_it_and_one_study,
            a_changed_digit_in_a_stored_loss_is_reported_as_damage_naming_the_event,
        );
    };
    (@each $stores:expr; $($test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                $crate::common::store_contract::$test(&$stores);
            }
        )*
    };
}
#[allow(unused_imports)]
pub(crate) use store_contract_tests;

/// Hyperband over R = 27, eta = 3, four brackets (69 jobs), random search on a log-scale
/// float and a log-scale integer.
pub fn study(seed: u64) -> Study {
    let space = Space::new(vec![
        Param::log_float("lr", 1e-3, 1e-1),
        Param::log_int("hidden", 10, 1000),
    ])
    .unwrap();
    let scheduler = Hyperband::new(Budgets::new(1.0, 27.0, 3).unwrap(), BracketSizes::Algorithm)
        .with_max_brackets(4);
    Study::new(
        space,
        Box::new(Random),
        Box::new(scheduler),
        Settings {
            seed,
            ..Settings::default()
        },
    )
}

/// What a worker rebuilds its replica of study `name` from.
pub fn fresh(name: &str, seed: u64) -> Box<dyn Fn() -> Replica + Send> {
    let name = name.to_string();
    Box::new(move || Replica::new(&name, study(seed)))
}

/// A deterministic objective of config and budget, with a metric beside the loss.
pub fn loss(job: &Job) -> Result<Evaluation, String> {
    let lr = job.config.f64("lr").unwrap();
    let hidden = job.config.f64("hidden").unwrap();
    Ok(Evaluation::new(
        (lr.log10() + 2.0).powi(2) + (hidden.log10() - 2.0).powi(2) + 1.0 / job.budget,
    )
    .with_metric("hidden", hidden))
}

/// (trial, budget, loss) of every finished job, in order.
pub fn results(study: &Study) -> Vec<(u64, f64, f64)> {
    study
        .history()
        .observations()
        .iter()
        .map(|o| (o.trial.0, o.budget, o.loss))
        .collect()
}

/// The study run to its end in memory, without a store.
pub fn in_memory(seed: u64) -> Study {
    let mut s = study(seed);
    loop {
        match s.ask() {
            Decision::Run(job) => {
                s.tell(job.id, Outcome::Finished(loss(&job).unwrap()))
                    .unwrap();
            }
            Decision::Done => return s,
            Decision::Wait => unreachable!(),
        }
    }
}

/// A connection to the place's store, with its study opened (created with seed 7's spec
/// if new).
pub fn open<K: Stores>(stores: &K, place: &Place) -> (K::Store, i64) {
    let mut store = stores
        .connect(place)
        .unwrap_or_else(|e| panic!("cannot open the store: {e}"));
    let (id, _) = store
        .open_study(&place.name, &serde_json::json!({"seed": 7}))
        .unwrap();
    (store, id)
}

/// Runs one worker on the study until it is done, or stopped after `max_jobs`; the jobs
/// it ran.
pub fn run_worker<K: Stores>(stores: &K, place: &Place, seed: u64, max_jobs: Option<u64>) -> u64 {
    let (store, id) = open(stores, place);
    let mut worker = StoreWorker::new(store, id, fresh(&place.name, seed));
    let stop = AtomicBool::new(false);
    let mut done = 0;
    let report = worker
        .run(
            || stores.connect(place),
            loss,
            None,
            &stop,
            &mut |_, _, _| {
                done += 1;
                if max_jobs.is_some_and(|m| done >= m) {
                    stop.store(true, Ordering::Relaxed);
                }
            },
        )
        .unwrap();
    report.jobs
}

/// The study rebuilt from its log.
pub fn replay<K: Stores>(stores: &K, place: &Place, seed: u64) -> Replica {
    let (mut store, id) = open(stores, place);
    let mut replica = Replica::new(&place.name, study(seed));
    replica.sync(&mut store, id).unwrap();
    replica
}

/// `payload` (a stored result) with the first digit of its loss changed.
pub fn change_a_loss_digit(payload: &str) -> String {
    let at = payload.find("\"loss\":").unwrap() + "\"loss\":".len();
    let digit = payload[at..].find(|c: char| c.is_ascii_digit()).unwrap() + at;
    let mut bytes = payload.as_bytes().to_vec();
    bytes[digit] = if bytes[digit] == b'9' {
        b'1'
    } else {
        bytes[digit] + 1
    };
    String::from_utf8(bytes).unwrap()
}

pub fn a_stored_run_replays_to_the_in_memory_run<K: Stores>(stores: &K) {
    let place = stores.place("replay");
    assert_eq!(run_worker(stores, &place, 7, None), 69);
    let replica = replay(stores, &place, 7);
    let reference = in_memory(7);
    assert_eq!(results(replica.study()), results(&reference));
    assert_eq!(replica.study().incumbent(), reference.incumbent());
    assert_eq!(replica.study().stats(), reference.stats());
    assert_eq!(replica.meta().len(), 69);
    assert!(replica.meta()[0].metrics.contains_key("hidden"));
    // The study is listed and found by name with its spec.
    let (mut store, _) = open(stores, &place);
    assert!(store.study_names().unwrap().contains(&place.name));
    assert_eq!(
        store.find_study(&place.name).unwrap().1,
        serde_json::json!({"seed": 7})
    );
    assert!(matches!(
        store.find_study(&crate::common::unique("nothing")),
        Err(StorageError::NoSuchStudy(_))
    ));
}

/// Ten workers in turn, each stopped after nine jobs (the last ones find the study done),
/// then one to the end.
pub fn stopping_and_resuming_gives_the_uninterrupted_history<K: Stores>(stores: &K) {
    let place = stores.place("resume");
    let mut total = 0;
    for _ in 0..10 {
        total += run_worker(stores, &place, 3, Some(9));
    }
    total += run_worker(stores, &place, 3, None);
    assert_eq!(total, 69);
    assert_eq!(
        results(replay(stores, &place, 3).study()),
        results(&in_memory(3))
    );
}

pub fn workers_share_a_study_without_double_work<K: Stores>(stores: &K) {
    let place = stores.place("shared");
    open(stores, &place);
    let jobs: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..K::WORKERS)
            .map(|_| s.spawn(|| run_worker(stores, &place, 11, None)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(jobs, 69);
    let replica = replay(stores, &place, 11);
    // Every job finished once, each (trial, rung) issued once, no result counted twice.
    let study = replica.study();
    assert_eq!(study.stats().finished, 69);
    let mut seen = HashSet::new();
    for job in study.jobs() {
        assert_eq!(job.state, JobState::Finished, "{job:?}");
        assert!(seen.insert((job.assignment.trial, job.assignment.rung)));
    }
    assert_eq!(study.jobs().len(), 69);
    assert_eq!(replica.duplicates(), 0);
    // The same trials as a serial run: configurations depend on (seed, trial) only.
    let reference = in_memory(11);
    for (a, b) in study
        .history()
        .trials()
        .iter()
        .zip(reference.history().trials())
    {
        assert_eq!(a.config, b.config);
    }
}

/// Six threads, each on its own connection, append 40 events each, half as results
/// (PostgreSQL: through the inbox), half as decisions under the study lock.
pub fn concurrent_results_and_decisions_get_dense_distinct_sequence_numbers<K: Stores>(stores: &K) {
    let place = stores.place("appends");
    let (_, id) = open(stores, &place);
    let per_thread = 40;
    std::thread::scope(|s| {
        for t in 0..6 {
            let place = &place;
            s.spawn(move || {
                let (mut store, _) = open(stores, place);
                for i in 0..per_thread {
                    let event = Event::JobLost {
                        job: JobId(t * 1000 + i),
                        reason: format!("thread {t} event {i}"),
                    };
                    if i % 2 == 0 {
                        store.append(id, &event).unwrap();
                    } else {
                        let at = hyperband::storage::now();
                        store
                            .locked(id, u64::MAX, &mut |log, _| log.append(&event, at))
                            .unwrap();
                    }
                }
            });
        }
    });
    let (mut store, _) = open(stores, &place);
    let events = store.events_after(id, 0).unwrap();
    // StudyCreated is #1; every event follows once, numbered 2..=241 with no gap.
    assert_eq!(events.len(), 6 * per_thread as usize + 1);
    assert!(events
        .iter()
        .enumerate()
        .all(|(i, e)| e.seq == i as u64 + 1));
    let reasons: HashSet<String> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::JobLost { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 6 * per_thread as usize);
    // Each thread's events reach the log in the order it wrote them.
    for t in 0..6 {
        let mine: Vec<u64> = events
            .iter()
            .filter_map(|e| match &e.event {
                Event::JobLost { job, .. } if job.0 / 1000 == t => Some(job.0 % 1000),
                _ => None,
            })
            .collect();
        assert_eq!(mine, (0..per_thread).collect::<Vec<_>>());
    }
}

pub fn jobs_of_a_dead_worker_are_reissued<K: Stores>(stores: &K) {
    let place = stores.place("dead");
    let (mut store, id) = open(stores, &place);
    // A worker on this host whose process is gone took job 0 and vanished.
    let mut ghost = Replica::new(&place.name, study(5));
    let job = match ghost.study_mut().ask() {
        Decision::Run(job) => job,
        d => panic!("{d:?}"),
    };
    let dead = format!(
        "{}:{}:0",
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim(),
        u32::MAX - 1
    );
    store
        .locked(id, u64::MAX, &mut |log, _| {
            log.append(
                &Event::JobIssued {
                    job: IssuedJob::from_job(&job),
                    worker: dead.clone(),
                },
                hyperband::storage::now(),
            )?;
            log.put_lease(&Lease {
                job: job.id,
                worker: dead.clone(),
                expires_at: hyperband::storage::now() + 3600.0,
            })
        })
        .unwrap();
    assert_eq!(run_worker(stores, &place, 5, None), 69);
    let replica = replay(stores, &place, 5);
    let study = replica.study();
    assert_eq!(study.jobs()[0].state, JobState::Lost);
    assert_eq!(study.jobs()[1].assignment, study.jobs()[0].assignment);
    assert_eq!(study.jobs()[1].attempt, 1);
    assert_eq!(results(study), results(&in_memory(5)));
    // Every lease ended with its job.
    let leases = store
        .locked(id, u64::MAX, &mut |log, _| log.leases())
        .unwrap();
    assert!(leases.is_empty(), "{leases:?}");
}

pub fn expired_leases_are_declared_lost_and_late_results_not_counted<K: Stores>(stores: &K) {
    let place = stores.place("expired");
    let (store, id) = open(stores, &place);
    let mut slow =
        StoreWorker::new(store, id, fresh(&place.name, 9)).with_lease(Duration::from_millis(1));
    let job = match slow.next_job().unwrap() {
        Decision::Run(job) => job,
        d => panic!("{d:?}"),
    };
    std::thread::sleep(Duration::from_millis(20));
    let (store, id) = open(stores, &place);
    let mut other = StoreWorker::new(store, id, fresh(&place.name, 9));
    let again = match other.next_job().unwrap() {
        Decision::Run(j) => j,
        d => panic!("{d:?}"),
    };
    assert_eq!(
        (again.trial, again.budget, again.attempt),
        (job.trial, job.budget, 1)
    );
    // The slow worker reports after all: recorded, not counted.
    slow.report(&job, Outcome::loss(1.0), 0.1).unwrap();
    other.report(&again, Outcome::loss(2.0), 0.1).unwrap();
    let replica = replay(stores, &place, 9);
    assert_eq!(replica.study().stats().finished, 1);
    assert_eq!(replica.meta()[0].late_results, 1);
    assert_eq!(replica.study().history().observations()[0].loss, 2.0);
}

pub fn a_replica_refuses_a_log_from_another_algorithm<K: Stores>(stores: &K) {
    let place = stores.place("another");
    run_worker(stores, &place, 7, Some(10));
    let (mut store, id) = open(stores, &place);
    // Same space, another seed: the first new trial's configuration differs, but the
    // replica takes configurations from the log; a different scheduler does not fit.
    let space = study(7).space().clone();
    let other = Study::new(
        space,
        Box::new(Random),
        Box::new(FullBudget::new(27.0)),
        Settings::default(),
    );
    let mut replica = Replica::new(&place.name, other);
    let err = replica.sync(&mut store, id).unwrap_err().to_string();
    assert!(err.contains("cannot be replayed"), "{err}");
    assert!(
        !err.contains("corrupt"),
        "a well-formed log is not corrupt: {err}"
    );
    assert!(err.contains("--fork"), "the message says what to do: {err}");
}

pub fn a_newer_schema_is_refused<K: Stores>(stores: &K) {
    let place = stores.new_store("hbtest_newer");
    drop(stores.connect(&place).unwrap());
    stores.set_schema_version(&place, 99);
    let err = stores.connect(&place).map(|_| ()).unwrap_err();
    assert!(
        matches!(err, StorageError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("newer hyperband (schema 99"),
        "{err}"
    );
}

/// Workers started together on a store that is not there yet: each opens it (the first
/// creates it) and none takes the half-made store for another program's; they all open
/// the same one study. Twenty times, as the race is rare.
pub fn workers_opening_a_new_store_at_once_all_get_it_and_one_study<K: Stores>(stores: &K) {
    for round in 0..20 {
        let place = stores.new_store("hbtest_init");
        let start = Barrier::new(K::WORKERS);
        let ids: Vec<i64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..K::WORKERS)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        let mut store = stores
                            .connect(&place)
                            .unwrap_or_else(|e| panic!("round {round}: {e}"));
                        store
                            .open_study("one", &serde_json::json!({"seed": 1}))
                            .unwrap_or_else(|e| panic!("round {round}: {e}"))
                            .0
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|&id| id == ids[0]), "round {round}: {ids:?}");
        let mut store = stores.connect(&place).unwrap();
        assert_eq!(store.study_names().unwrap(), vec!["one".to_string()]);
        // One StudyCreated, not one a worker.
        assert_eq!(store.events_after(ids[0], 0).unwrap().len(), 1);
    }
}

/// A worker, and a reader through a read-only connection, both refuse the study naming
/// the damaged event; the damage is permanent (no retry mends it).
pub fn a_changed_digit_in_a_stored_loss_is_reported_as_damage_naming_the_event<K: Stores>(
    stores: &K,
) {
    let place = stores.place("damaged");
    run_worker(stores, &place, 7, Some(6));
    let seq = stores.edit_first_result(&place, &change_a_loss_digit);
    let name = place.name.as_str();
    let damaged = |who: &str, err: StorageError| {
        assert!(
            matches!(&err, StorageError::Damaged { name: n, seq: s } if n == name && *s == seq),
            "{who}: {err:?}"
        );
        assert!(
            err.to_string()
                .contains(&format!("study `{name}`: event #{seq} is damaged")),
            "{who}: {err}"
        );
        assert!(err.is_permanent(), "{who}: {err:?}");
    };
    let (mut store, id) = open(stores, &place);
    let mut replica = Replica::new(name, study(7));
    damaged("a worker", replica.sync(&mut store, id).unwrap_err());
    damaged(
        "a reader",
        stores.read_only_events(&place, id).map(|_| ()).unwrap_err(),
    );
}
