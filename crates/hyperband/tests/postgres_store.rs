//! The PostgreSQL event log, against a real server: `postgres://postgres@127.0.0.1:5432/test`
//! or `$HYPERBAND_TEST_POSTGRES`. The tests fail, never skip, when it cannot be reached.
//!
//! Shared tests use the schema `hbtest` with a study name of their own, so that they run in
//! parallel and again without cleanup; the tests that create or break a schema use one of
//! their own and drop it.

use hyperband::executor::StoreWorker;
use hyperband::storage::{Event, EventStore, IssuedJob, PgStore, Replica, StorageError};
use hyperband::{
    BracketSizes, Budgets, Decision, Evaluation, Hyperband, Job, JobState, Outcome, Param, Random,
    Settings, Space, Study,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const SHARED_SCHEMA: &str = "hbtest";

fn url() -> String {
    std::env::var("HYPERBAND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A name no other test or earlier run has used.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// A plain client for poking at the database behind the store's back.
fn admin() -> postgres::Client {
    postgres::Client::connect(&url(), postgres::NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is not reachable: {e}", redacted()))
}

fn redacted() -> String {
    hyperband::storage::StorageUrl::Postgres(url()).redacted()
}

/// Drops a test's own schema when the test ends, passed or not.
struct DropSchema(String);

impl Drop for DropSchema {
    fn drop(&mut self) {
        // Never panics: it may run while a failed test unwinds.
        if let Ok(mut admin) = postgres::Client::connect(&url(), postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.0));
        }
    }
}

fn study(seed: u64) -> Study {
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

fn fresh(seed: u64) -> Box<dyn Fn() -> Replica + Send> {
    Box::new(move || Replica::new("demo", study(seed)))
}

fn loss(job: &Job) -> Result<Evaluation, String> {
    let lr = job.config.f64("lr").unwrap();
    let hidden = job.config.f64("hidden").unwrap();
    Ok(Evaluation::new(
        (lr.log10() + 2.0).powi(2) + (hidden.log10() - 2.0).powi(2) + 1.0 / job.budget,
    )
    .with_metric("hidden", hidden))
}

fn connect() -> PgStore {
    PgStore::connect_in(&url(), SHARED_SCHEMA)
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is not reachable: {e}", redacted()))
}

fn open(name: &str) -> (PgStore, i64) {
    let mut store = connect();
    let (id, _) = store
        .open_study(name, &serde_json::json!({"seed": 7}))
        .unwrap();
    (store, id)
}

/// (trial, budget, loss) of every finished job, in order.
fn results(study: &Study) -> Vec<(u64, f64, f64)> {
    study
        .history()
        .observations()
        .iter()
        .map(|o| (o.trial.0, o.budget, o.loss))
        .collect()
}

fn in_memory(seed: u64) -> Study {
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

fn run_worker(name: &str, seed: u64, max_jobs: Option<u64>) -> u64 {
    let (store, id) = open(name);
    let mut worker = StoreWorker::new(store, id, fresh(seed));
    let stop = AtomicBool::new(false);
    let mut done = 0;
    let report = worker
        .run(|| Ok(connect()), loss, None, &stop, &mut |_, _, _| {
            done += 1;
            if max_jobs.is_some_and(|m| done >= m) {
                stop.store(true, Ordering::Relaxed);
            }
        })
        .unwrap();
    report.jobs
}

fn replay(name: &str, seed: u64) -> Replica {
    let (mut store, id) = open(name);
    let mut replica = Replica::new("demo", study(seed));
    replica.sync(&mut store, id).unwrap();
    replica
}

/// Every job finished once, each (trial, rung) issued once, no result counted twice.
fn assert_complete_without_double_work(replica: &Replica, jobs: usize) {
    let study = replica.study();
    assert_eq!(study.stats().finished, jobs as u64);
    let mut seen = HashSet::new();
    for job in study.jobs() {
        assert_eq!(job.state, JobState::Finished, "{job:?}");
        assert!(seen.insert((job.assignment.trial, job.assignment.rung)));
    }
    assert_eq!(study.jobs().len(), jobs);
    assert_eq!(replica.duplicates(), 0);
}

#[test]
fn a_stored_run_replays_to_the_in_memory_run() {
    let name = unique("replay");
    assert_eq!(run_worker(&name, 7, None), 69);
    let replica = replay(&name, 7);
    let reference = in_memory(7);
    assert_eq!(results(replica.study()), results(&reference));
    assert_eq!(replica.study().incumbent(), reference.incumbent());
    assert_eq!(replica.study().stats(), reference.stats());
    assert_eq!(replica.meta().len(), 69);
    assert!(replica.meta()[0].metrics.contains_key("hidden"));
    // The study is listed and found by name with its spec.
    let mut store = connect();
    assert!(store.study_names().unwrap().contains(&name));
    assert_eq!(
        store.find_study(&name).unwrap().1,
        serde_json::json!({"seed": 7})
    );
    assert!(matches!(
        store.find_study(&unique("nothing")),
        Err(StorageError::NoSuchStudy(_))
    ));
}

#[test]
fn stopping_and_resuming_gives_the_uninterrupted_history() {
    let name = unique("resume");
    let mut total = 0;
    for _ in 0..5 {
        total += run_worker(&name, 3, Some(9));
    }
    total += run_worker(&name, 3, None);
    assert_eq!(total, 69);
    assert_eq!(results(replay(&name, 3).study()), results(&in_memory(3)));
}

#[test]
fn eight_workers_share_a_study_without_double_work() {
    let name = unique("shared");
    open(&name);
    let jobs: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| run_worker(&name, 11, None)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(jobs, 69);
    let replica = replay(&name, 11);
    assert_complete_without_double_work(&replica, 69);
    // The same trials as a serial run: configurations depend on (seed, trial) only.
    let reference = in_memory(11);
    for (a, b) in replica
        .study()
        .history()
        .trials()
        .iter()
        .zip(reference.history().trials())
    {
        assert_eq!(a.config, b.config);
    }
}

#[test]
fn concurrent_results_and_decisions_get_dense_distinct_sequence_numbers() {
    let name = unique("appends");
    let (_, id) = open(&name);
    let name = name.as_str();
    let per_thread = 40;
    std::thread::scope(|s| {
        for t in 0..6 {
            s.spawn(move || {
                let (mut store, _) = open(name);
                for i in 0..per_thread {
                    let event = Event::JobLost {
                        job: hyperband::JobId(t * 1000 + i),
                        reason: format!("thread {t} event {i}"),
                    };
                    // Half as results (through the inbox), half as decisions.
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
    let (mut store, _) = open(name);
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
    // Each thread's results reach the log in the order it wrote them.
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

#[test]
fn jobs_of_a_dead_worker_are_reissued() {
    let name = unique("dead");
    let (mut store, id) = open(&name);
    // A worker on this host whose process is gone took job 0 and vanished.
    let mut ghost = Replica::new("demo", study(5));
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
            log.put_lease(&hyperband::storage::Lease {
                job: job.id,
                worker: dead.clone(),
                expires_at: hyperband::storage::now() + 3600.0,
            })
        })
        .unwrap();
    assert_eq!(run_worker(&name, 5, None), 69);
    let replica = replay(&name, 5);
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

#[test]
fn expired_leases_are_declared_lost_and_late_results_not_counted() {
    let name = unique("expired");
    let (store, id) = open(&name);
    let mut slow = StoreWorker::new(store, id, fresh(9)).with_lease(Duration::from_millis(1));
    let job = match slow.next_job().unwrap() {
        Decision::Run(job) => job,
        d => panic!("{d:?}"),
    };
    std::thread::sleep(Duration::from_millis(20));
    let (store, id) = open(&name);
    let mut other = StoreWorker::new(store, id, fresh(9));
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
    let replica = replay(&name, 9);
    assert_eq!(replica.study().stats().finished, 1);
    assert_eq!(replica.meta()[0].late_results, 1);
    assert_eq!(replica.study().history().observations()[0].loss, 2.0);
}

#[test]
fn a_newer_schema_is_refused() {
    let schema = unique("hbtest_newer");
    let _cleanup = DropSchema(schema.clone());
    drop(PgStore::connect_in(&url(), &schema).unwrap());
    admin()
        .execute(
            &format!("UPDATE \"{schema}\".meta SET value = '99' WHERE key = 'schema_version'"),
            &[],
        )
        .unwrap();
    let err = PgStore::connect_in(&url(), &schema).unwrap_err();
    assert!(
        matches!(err, StorageError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("newer hyperband (schema 99"),
        "{err}"
    );
    // The `?schema=` form of the URL names the same place.
    let err = PgStore::connect(&format!("{}?schema={schema}", url()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("newer hyperband (schema 99"), "{err}");
    assert!(err.contains(&schema), "{err}");
}

#[test]
fn a_foreign_schema_is_refused_and_left_untouched() {
    let schema = unique("hbtest_foreign");
    let _cleanup = DropSchema(schema.clone());
    let mut admin = admin();
    // Another program's tables under our names, without our marker.
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA \"{schema}\";
             CREATE TABLE \"{schema}\".studies (id INT PRIMARY KEY, title TEXT);
             CREATE TABLE \"{schema}\".events (id INT PRIMARY KEY, what TEXT);
             INSERT INTO \"{schema}\".studies VALUES (1, 'cohort A');"
        ))
        .unwrap();
    let tables = |admin: &mut postgres::Client| -> Vec<String> {
        admin
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
                &[&schema],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let before = tables(&mut admin);
    let err = PgStore::connect_in(&url(), &schema).unwrap_err();
    assert!(matches!(err, StorageError::Foreign { .. }), "{err}");
    assert!(
        err.to_string().contains("not a hyperband database"),
        "{err}"
    );
    assert_eq!(tables(&mut admin), before);
    let rows: i64 = admin
        .query_one(&format!("SELECT count(*) FROM \"{schema}\".studies"), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);

    // A `meta` table of someone else's is not our marker either.
    admin
        .batch_execute(&format!(
            "CREATE TABLE \"{schema}\".meta (key TEXT PRIMARY KEY, value TEXT);
             INSERT INTO \"{schema}\".meta VALUES ('schema_version', '1');"
        ))
        .unwrap();
    let err = PgStore::connect_in(&url(), &schema)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a hyperband database"), "{err}");
}

#[test]
fn many_workers_create_the_schema_at_once() {
    let schema = unique("hbtest_init");
    let _cleanup = DropSchema(schema.clone());
    let start = std::sync::Barrier::new(8);
    let ids: Vec<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    let mut store = PgStore::connect_in(&url(), &schema).unwrap();
                    store
                        .open_study("one", &serde_json::json!({"seed": 1}))
                        .unwrap()
                        .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|&id| id == ids[0]), "{ids:?}");
    let mut store = PgStore::connect_in(&url(), &schema).unwrap();
    assert_eq!(store.study_names().unwrap(), vec!["one".to_string()]);
    // One StudyCreated, not eight.
    assert_eq!(store.events_after(ids[0], 0).unwrap().len(), 1);
}

#[test]
fn passwords_never_show_in_errors() {
    // Nothing listens on port 1: the connection is refused, and the message names the URL.
    let err = PgStore::connect("postgres://postgres:hunter2@127.0.0.1:1/test?connect_timeout=2")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("hunter2"), "{err}");
    assert!(err.contains("postgres:***@127.0.0.1:1/test"), "{err}");
    let err = PgStore::connect("postgres://postgres@127.0.0.1:1/test?password=hunter2")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("hunter2"), "{err}");
    // A password may hold `@`, `:` and `/`: none of it shows.
    for password in ["p@ss", "a:b@c", "x/y@z", "q@@r"] {
        let err = PgStore::connect(&format!(
            "postgres://postgres:{password}@127.0.0.1:1/test?connect_timeout=2"
        ))
        .unwrap_err()
        .to_string();
        assert!(!err.contains(password), "{password}: {err}");
        assert!(
            err.contains("postgres:***@127.0.0.1:1/test"),
            "{password}: {err}"
        );
    }
}

/// Kills every server process whose connection carries `application_name`.
fn terminate(admin: &mut postgres::Client, application_name: &str) -> i64 {
    admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
            &[&application_name],
        )
        .unwrap()
        .get(0)
}

/// Four workers run a study while `fault` strikes their connections (it is called every
/// 30 ms with their `application_name` and returns how many connections it broke); the
/// study must complete with every (trial, rung) finished exactly once.
fn study_survives(
    prefix: &str,
    job_ms: u64,
    fault: &mut dyn FnMut(&str) -> i64,
    min_faults: i64,
) -> Replica {
    let name = unique(prefix);
    let app = unique("hbfault");
    let worker_url = format!("{}?application_name={app}", url());
    // Connecting itself may be cut short: try again, as a restarted worker would.
    let open_worker = || {
        let start = Instant::now();
        loop {
            let opened = PgStore::connect_in(&worker_url, SHARED_SCHEMA).and_then(|mut store| {
                let (id, _) = store.open_study(&name, &serde_json::json!({"seed": 7}))?;
                Ok((store, id))
            });
            match opened {
                Ok(opened) => return opened,
                Err(e) => {
                    assert!(start.elapsed().as_secs() < 15, "cannot connect: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    };
    open_worker();
    let mut faults = 0;
    let (jobs, errors): (u64, u64) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let (store, id) = open_worker();
                    let mut worker =
                        StoreWorker::new(store, id, fresh(13)).with_lease(Duration::from_secs(2));
                    let stop = AtomicBool::new(false);
                    // A little work per job so that the faults land mid-study.
                    let slow = |job: &Job| {
                        std::thread::sleep(Duration::from_millis(job_ms));
                        loss(job)
                    };
                    let (mut jobs, mut errors) = (0, 0);
                    // A decision that failed with its connection is tried again with a
                    // rebuilt replica, as a supervised worker would be.
                    loop {
                        let beat = || PgStore::connect_in(&worker_url, SHARED_SCHEMA);
                        match worker.run(beat, slow, None, &stop, &mut |_, _, _| jobs += 1) {
                            Ok(_) => return (jobs, errors),
                            Err(e) => {
                                errors += 1;
                                eprintln!("worker error: {e}");
                                assert!(errors < 100, "a worker keeps failing: {e}");
                            }
                        }
                    }
                })
            })
            .collect();
        let start = Instant::now();
        while !handles.iter().all(|h| h.is_finished()) {
            assert!(start.elapsed() < Duration::from_secs(25), "the study hangs");
            std::thread::sleep(Duration::from_millis(30));
            faults += fault(&app);
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    });
    eprintln!("{faults} faults, {errors} failed worker runs, {jobs} jobs run");
    assert!(faults >= min_faults, "only {faults} faults struck");
    let replica = replay(&name, 13);
    // A job whose decision committed while its reply was lost, and could not be confirmed,
    // comes back after its lease expires: every (trial, rung) is finished exactly once,
    // nothing is counted twice, and every other job was declared lost.
    let study = replica.study();
    assert_eq!(study.stats().finished, 69);
    assert_eq!(replica.duplicates(), 0);
    let mut finished = HashSet::new();
    for job in study.jobs() {
        match job.state {
            JobState::Finished => {
                assert!(finished.insert((job.assignment.trial, job.assignment.rung)))
            }
            JobState::Lost => {}
            other => panic!("job {:?} ended {other:?}", job.assignment),
        }
    }
    assert_eq!(finished.len(), 69);
    replica
}

#[test]
fn workers_survive_their_connections_being_killed_mid_study() {
    let mut admin = admin();
    study_survives("killed", 2, &mut |app| terminate(&mut admin, app), 5);
}

/// Restarts the whole server once, 200 ms into the study. It breaks every connection of
/// every test running at the same time, so it runs only when asked for, alone:
/// `cargo test -p hyperband --test postgres_store -- --ignored --test-threads 1`.
/// Needs `pg_ctlcluster` and the right to use it; `HYPERBAND_TEST_PG_CLUSTER` names the
/// cluster (default: the only version under /etc/postgresql, `main`).
#[test]
#[ignore = "restarts the PostgreSQL server; run alone with --ignored"]
fn a_database_restart_mid_study_is_survived() {
    let cluster = std::env::var("HYPERBAND_TEST_PG_CLUSTER").unwrap_or_else(|_| {
        let version = std::fs::read_dir("/etc/postgresql")
            .expect("/etc/postgresql")
            .next()
            .expect("a PostgreSQL cluster")
            .unwrap()
            .file_name();
        format!("{} main", version.to_string_lossy())
    });
    let start = Instant::now();
    let mut restarted = None;
    let replica = study_survives(
        "restart",
        20,
        &mut |_| {
            if restarted.is_some() || start.elapsed() < Duration::from_millis(200) {
                return 0;
            }
            restarted = Some(hyperband::storage::now());
            let status = std::process::Command::new("pg_ctlcluster")
                .arg("--skip-systemctl-redirect")
                .args(cluster.split_whitespace())
                .args(["restart", "-m", "fast"])
                .status()
                .expect("pg_ctlcluster");
            assert!(status.success(), "pg_ctlcluster restart failed");
            1
        },
        1,
    );
    // The restart struck mid-study: jobs ended on both sides of it.
    let at = restarted.unwrap();
    let ended: Vec<f64> = replica.meta().iter().filter_map(|m| m.ended_at).collect();
    assert!(ended.iter().any(|&t| t < at), "{ended:?}");
    assert!(ended.iter().any(|&t| t > at), "{ended:?}");
}

#[test]
fn a_schema_1_database_is_upgraded_in_place_and_keeps_its_studies() {
    let schema = unique("hbtest_v1");
    let _cleanup = DropSchema(schema.clone());
    let s = format!("\"{schema}\"");
    // What hyperband's first schema created, holding one study.
    let mut admin = admin();
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {s};
             CREATE TABLE {s}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE {s}.studies (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 name TEXT NOT NULL UNIQUE, spec TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL);
             CREATE TABLE {s}.events (study BIGINT NOT NULL REFERENCES {s}.studies(id),
                 seq BIGINT NOT NULL, at DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL,
                 payload TEXT NOT NULL, PRIMARY KEY (study, seq));
             CREATE TABLE {s}.leases (study BIGINT NOT NULL, job BIGINT NOT NULL,
                 worker TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
                 PRIMARY KEY (study, job));
             CREATE FUNCTION {s}.append_event(p_study BIGINT, p_at DOUBLE PRECISION,
                 p_kind TEXT, p_payload TEXT, p_ends_job BIGINT) RETURNS BIGINT
                 LANGUAGE sql AS 'SELECT 0::BIGINT';
             INSERT INTO {s}.meta VALUES ('application', 'hyperband'), ('schema_version', '1');
             INSERT INTO {s}.studies (name, spec, created_at) VALUES ('demo', '{{\"seed\":3}}', 0);
             INSERT INTO {s}.events SELECT id, 1, 0, 'study_created',
                 '{{\"event\":\"study_created\",\"spec\":{{\"seed\":3}}}}' FROM {s}.studies;"
        ))
        .unwrap();
    let mut store = PgStore::connect_in(&url(), &schema).unwrap();
    let (id, spec) = store
        .open_study("demo", &serde_json::json!({"seed": 99}))
        .unwrap();
    assert_eq!(
        spec,
        serde_json::json!({"seed": 3}),
        "the stored study is found"
    );
    let mut worker = StoreWorker::new(PgStore::connect_in(&url(), &schema).unwrap(), id, fresh(3));
    for _ in 0..2 {
        let Decision::Run(job) = worker.next_job().unwrap() else {
            panic!("no job")
        };
        worker
            .report(&job, Outcome::Finished(loss(&job).unwrap()), 0.0)
            .unwrap();
    }
    let version: String = admin
        .query_one(
            &format!("SELECT value FROM {s}.meta WHERE key = 'schema_version'"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, "3", "upgraded to the current schema");
    let old_function: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = $1 AND p.proname = 'append_event'",
            &[&schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(old_function, 0);
    // The study goes on to the same history as an uninterrupted in-memory run.
    let mut worker = StoreWorker::new(PgStore::connect_in(&url(), &schema).unwrap(), id, fresh(3));
    let stop = AtomicBool::new(false);
    worker
        .run(
            || PgStore::connect_in(&url(), &schema),
            loss,
            None,
            &stop,
            &mut |_, _, _| {},
        )
        .unwrap();
    let mut replica = Replica::new("demo", study(3));
    replica.sync(&mut store, id).unwrap();
    assert_eq!(results(replica.study()), results(&in_memory(3)));
}

#[test]
fn a_schema_2_database_is_read_as_it_is_and_upgraded_by_its_first_writer() {
    let schema = unique("hbtest_v2");
    let _cleanup = DropSchema(schema.clone());
    let s = format!("\"{schema}\"");
    let mut store = PgStore::connect_in(&url(), &schema).unwrap();
    let (id, _) = store
        .open_study("demo", &serde_json::json!({"seed": 7}))
        .unwrap();
    let mut worker = StoreWorker::new(PgStore::connect_in(&url(), &schema).unwrap(), id, fresh(7));
    for _ in 0..5 {
        let Decision::Run(job) = worker.next_job().unwrap() else {
            panic!("no job")
        };
        worker
            .report(&job, Outcome::Finished(loss(&job).unwrap()), 0.0)
            .unwrap();
    }
    drop((store, worker));
    // Schema 2 is schema 3 without the checksum columns.
    let mut admin = admin();
    admin
        .batch_execute(&format!(
            "ALTER TABLE {s}.events DROP COLUMN crc;
             ALTER TABLE {s}.inbox DROP COLUMN crc;
             UPDATE {s}.meta SET value = '2' WHERE key = 'schema_version';"
        ))
        .unwrap();
    let version = |admin: &mut postgres::Client| -> String {
        admin
            .query_one(
                &format!("SELECT value FROM {s}.meta WHERE key = 'schema_version'"),
                &[],
            )
            .unwrap()
            .get(0)
    };

    // A reader takes it as it is, the result waiting in the inbox included.
    let mut reader = PgStore::connect_read_only(&format!("{}?schema={schema}", url())).unwrap();
    let peeked = reader.peek_events(id, 0).unwrap();
    assert_eq!(
        peeked.pending.len(),
        1,
        "the last result waits in the inbox"
    );
    let mut replica = Replica::new("demo", study(7));
    for event in peeked.log.iter().chain(&peeked.pending) {
        replica.apply(event).unwrap();
    }
    assert_eq!(replica.study().stats().finished, 5);
    drop(reader);
    assert_eq!(version(&mut admin), "2");

    // A writer upgrades it, and the study goes on to the uninterrupted history.
    let mut worker = StoreWorker::new(PgStore::connect_in(&url(), &schema).unwrap(), id, fresh(7));
    assert_eq!(version(&mut admin), "3");
    let stop = AtomicBool::new(false);
    worker
        .run(
            || PgStore::connect_in(&url(), &schema),
            loss,
            None,
            &stop,
            &mut |_, _, _| {},
        )
        .unwrap();
    let (old, new): (i64, i64) = {
        let row = admin
            .query_one(
                &format!("SELECT count(*) FILTER (WHERE crc IS NULL), count(crc) FROM {s}.events"),
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(
        old >= 6 && new > 0,
        "{old} events without a checksum, {new} with"
    );
    let mut store = PgStore::connect_in(&url(), &schema).unwrap();
    let mut replica = Replica::new("demo", study(7));
    replica.sync(&mut store, id).unwrap();
    assert_eq!(results(replica.study()), results(&in_memory(7)));
}

#[test]
fn a_changed_digit_in_a_stored_loss_is_reported_as_damage_naming_the_event() {
    let name = unique("damaged");
    run_worker(&name, 7, Some(6));
    let mut admin = admin();
    let row = admin
        .query_one(
            &format!(
                "SELECT e.seq, e.payload FROM {SHARED_SCHEMA}.events e
                 JOIN {SHARED_SCHEMA}.studies s ON s.id = e.study
                 WHERE s.name = $1 AND e.kind = 'job_finished' ORDER BY e.seq LIMIT 1"
            ),
            &[&name],
        )
        .unwrap();
    let (seq, payload): (i64, String) = (row.get(0), row.get(1));
    let at = payload.find("\"loss\":").unwrap() + "\"loss\":".len();
    let digit = payload[at..].find(|c: char| c.is_ascii_digit()).unwrap() + at;
    let mut bytes = payload.into_bytes();
    bytes[digit] = if bytes[digit] == b'9' {
        b'1'
    } else {
        bytes[digit] + 1
    };
    admin
        .execute(
            &format!(
                "UPDATE {SHARED_SCHEMA}.events SET payload = $1
                 WHERE seq = $2 AND study = (SELECT id FROM {SHARED_SCHEMA}.studies WHERE name = $3)"
            ),
            &[&String::from_utf8(bytes).unwrap(), &seq, &name],
        )
        .unwrap();
    let (mut store, id) = open(&name);
    let mut replica = Replica::new(&name, study(7));
    let err = replica.sync(&mut store, id).unwrap_err();
    assert!(
        matches!(&err, StorageError::Damaged { name: n, seq: s } if *n == name && *s == seq as u64),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("study `{name}`: event #{seq} is damaged")),
        "{err}"
    );
    // A read-only reader says the same.
    let mut reader =
        PgStore::connect_read_only(&format!("{}?schema={SHARED_SCHEMA}", url())).unwrap();
    let err = reader.peek_events(id, 0).unwrap_err();
    assert!(matches!(err, StorageError::Damaged { .. }), "{err:?}");
}
