//! The PostgreSQL event log, against a real server: `postgres://postgres@127.0.0.1:5432/test`
//! or `$HYPERBAND_TEST_POSTGRES`. The tests fail, never skip, when it cannot be reached.
//!
//! The store contract (`common/store_contract.rs`) runs here on PostgreSQL, and the tests
//! of what is PostgreSQL's alone follow: schemas of other programs and of older versions,
//! passwords in URLs, connections killed and a server restarted mid-study.
//!
//! Shared tests use the schema `hbtest` with a study name of their own, so that they run in
//! parallel and again without cleanup; the tests that create or break a schema use one of
//! their own and drop it.

mod common;

use common::store_contract::{
    fresh, in_memory, loss, replay, results, run_worker, store_contract_tests, study, Place, Stores,
};
use common::{postgres_url as url, unique};
use hyperband::executor::StoreWorker;
use hyperband::storage::{EventStore, PgStore, Replica, StorageError, StoredEvent};
use hyperband::{Decision, Job, JobState, Outcome};
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const SHARED_SCHEMA: &str = "hbtest";

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

/// A test's study is a name of its own in the shared schema; a test's own store is a
/// schema of its own (dropped when the test ends), holding study `demo`.
struct Postgres;

impl Stores for Postgres {
    type Store = PgStore;
    const WORKERS: usize = 8;

    fn place(&self, prefix: &str) -> Place {
        Place::new(&unique(prefix), SHARED_SCHEMA, ())
    }

    fn new_store(&self, prefix: &str) -> Place {
        let schema = unique(prefix);
        Place::new("demo", &schema, DropSchema(schema.clone()))
    }

    fn connect(&self, place: &Place) -> Result<PgStore, StorageError> {
        PgStore::connect_in(&url(), &place.at)
    }

    fn read_only_events(&self, place: &Place, id: i64) -> Result<Vec<StoredEvent>, StorageError> {
        let mut reader = PgStore::connect_read_only(&format!("{}?schema={}", url(), place.at))?;
        let peeked = reader.peek_events(id, 0)?;
        Ok(peeked.log.into_iter().chain(peeked.pending).collect())
    }

    fn set_schema_version(&self, place: &Place, version: u32) {
        let schema = &place.at;
        admin()
            .execute(
                &format!("UPDATE \"{schema}\".meta SET value = $1 WHERE key = 'schema_version'"),
                &[&version.to_string()],
            )
            .unwrap();
    }

    fn edit_first_result(&self, place: &Place, edit: &dyn Fn(&str) -> String) -> u64 {
        let s = format!("\"{}\"", place.at);
        let mut admin = admin();
        let row = admin
            .query_one(
                &format!(
                    "SELECT e.seq, e.payload FROM {s}.events e
                     JOIN {s}.studies s ON s.id = e.study
                     WHERE s.name = $1 AND e.kind = 'job_finished' ORDER BY e.seq LIMIT 1"
                ),
                &[&place.name],
            )
            .unwrap();
        let (seq, payload): (i64, String) = (row.get(0), row.get(1));
        admin
            .execute(
                &format!(
                    "UPDATE {s}.events SET payload = $1
                     WHERE seq = $2 AND study = (SELECT id FROM {s}.studies WHERE name = $3)"
                ),
                &[&edit(&payload), &seq, &place.name],
            )
            .unwrap();
        seq as u64
    }
}

store_contract_tests!(Postgres);

/// The `?schema=` form of the URL names the same place as `connect_in`, and the refusal
/// names the schema.
#[test]
fn a_newer_schema_is_refused_through_a_schema_url_naming_it() {
    let place = Postgres.new_store("hbtest_newer");
    let schema = &place.at;
    drop(Postgres.connect(&place).unwrap());
    Postgres.set_schema_version(&place, 99);
    let err = PgStore::connect(&format!("{}?schema={schema}", url()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("newer hyperband (schema 99"), "{err}");
    assert!(err.contains(schema), "{err}");
}

#[test]
fn a_foreign_schema_is_refused_and_left_untouched() {
    let place = Postgres.new_store("hbtest_foreign");
    let schema = &place.at;
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
    let err = Postgres.connect(&place).unwrap_err();
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
    let err = Postgres.connect(&place).unwrap_err().to_string();
    assert!(err.contains("not a hyperband database"), "{err}");
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
    let place = Postgres.place(prefix);
    let name = place.name.as_str();
    let app = unique("hbfault");
    let worker_url = format!("{}?application_name={app}", url());
    // Connecting itself may be cut short: try again, as a restarted worker would.
    let open_worker = || {
        let start = Instant::now();
        loop {
            let opened = PgStore::connect_in(&worker_url, SHARED_SCHEMA).and_then(|mut store| {
                let (id, _) = store.open_study(name, &serde_json::json!({"seed": 7}))?;
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
                    let mut worker = StoreWorker::new(store, id, fresh(name, 13))
                        .with_lease(Duration::from_secs(2));
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
    let replica = replay(&Postgres, &place, 13);
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
    let place = Postgres.new_store("hbtest_v1");
    let schema = &place.at;
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
    let mut store = Postgres.connect(&place).unwrap();
    let (id, spec) = store
        .open_study("demo", &serde_json::json!({"seed": 99}))
        .unwrap();
    assert_eq!(
        spec,
        serde_json::json!({"seed": 3}),
        "the stored study is found"
    );
    let mut worker = StoreWorker::new(Postgres.connect(&place).unwrap(), id, fresh("demo", 3));
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
    run_worker(&Postgres, &place, 3, None);
    let mut replica = Replica::new("demo", study(3));
    replica.sync(&mut store, id).unwrap();
    assert_eq!(results(replica.study()), results(&in_memory(3)));
}

#[test]
fn a_schema_2_database_is_read_as_it_is_and_upgraded_by_its_first_writer() {
    let place = Postgres.new_store("hbtest_v2");
    let schema = &place.at;
    let s = format!("\"{schema}\"");
    let mut store = Postgres.connect(&place).unwrap();
    let (id, _) = store
        .open_study("demo", &serde_json::json!({"seed": 7}))
        .unwrap();
    let mut worker = StoreWorker::new(Postgres.connect(&place).unwrap(), id, fresh("demo", 7));
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
    let writer = Postgres.connect(&place).unwrap();
    assert_eq!(version(&mut admin), "3");
    drop(writer);
    run_worker(&Postgres, &place, 7, None);
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
    assert_eq!(
        results(replay(&Postgres, &place, 7).study()),
        results(&in_memory(7))
    );
}
