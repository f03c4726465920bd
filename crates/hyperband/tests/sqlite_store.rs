//! The SQLite event log: replay equals the live study, resume equals an uninterrupted run,
//! workers share a study without double work, dead workers' jobs come back, and files
//! that are not ours are refused untouched.

use hyperband::executor::StoreWorker;
use hyperband::storage::{Event, EventStore, IssuedJob, Replica, SqliteStore, StorageError};
use hyperband::{
    BracketSizes, Budgets, Decision, Evaluation, Hyperband, Job, JobState, Outcome, Param, Random,
    Settings, Space, Study,
};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

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

fn open(path: &Path) -> (SqliteStore, i64) {
    let mut store = SqliteStore::open(path).unwrap();
    let (id, _) = store
        .open_study("demo", &serde_json::json!({"seed": 7}))
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

fn run_worker(path: &Path, seed: u64, max_jobs: Option<u64>) -> u64 {
    let (store, id) = open(path);
    let mut worker = StoreWorker::new(store, id, fresh(seed));
    let path = path.to_path_buf();
    let beat = move || SqliteStore::open(&path);
    let stop = AtomicBool::new(false);
    let mut done = 0;
    let report = worker
        .run(beat, loss, None, &stop, &mut |_, _, _| {
            done += 1;
            if max_jobs.is_some_and(|m| done >= m) {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .unwrap();
    report.jobs
}

fn replay(path: &Path, seed: u64) -> Replica {
    let (mut store, id) = open(path);
    let mut replica = Replica::new("demo", study(seed));
    replica.sync(&mut store, id).unwrap();
    replica
}

#[test]
fn a_stored_run_replays_to_the_in_memory_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    assert_eq!(run_worker(&path, 7, None), 69);
    let replica = replay(&path, 7);
    let reference = in_memory(7);
    assert_eq!(results(replica.study()), results(&reference));
    assert_eq!(replica.study().incumbent(), reference.incumbent());
    assert_eq!(replica.study().stats(), reference.stats());
    assert_eq!(replica.meta().len(), 69);
    assert!(replica.meta()[0].metrics.contains_key("hidden"));
}

#[test]
fn stopping_and_resuming_gives_the_uninterrupted_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    let mut total = 0;
    for _ in 0..10 {
        total += run_worker(&path, 3, Some(9));
    }
    total += run_worker(&path, 3, None);
    assert_eq!(total, 69);
    assert_eq!(results(replay(&path, 3).study()), results(&in_memory(3)));
}

#[test]
fn workers_share_a_study_without_double_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    open(&path);
    let jobs: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| run_worker(&path, 11, None)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(jobs, 69);
    let replica = replay(&path, 11);
    let study = replica.study();
    assert_eq!(study.stats().finished, 69);
    let mut seen = HashSet::new();
    for job in study.jobs() {
        assert_eq!(job.state, JobState::Finished);
        assert!(seen.insert((job.assignment.trial, job.assignment.rung)));
    }
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

#[test]
fn jobs_of_a_dead_worker_are_reissued() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    let (mut store, id) = open(&path);
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
    assert_eq!(run_worker(&path, 5, None), 69);
    let replica = replay(&path, 5);
    let study = replica.study();
    assert_eq!(study.jobs()[0].state, JobState::Lost);
    assert_eq!(study.jobs()[1].assignment, study.jobs()[0].assignment);
    assert_eq!(study.jobs()[1].attempt, 1);
    assert_eq!(results(study), results(&in_memory(5)));
}

#[test]
fn expired_leases_are_declared_lost_and_late_results_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    let (store, id) = open(&path);
    let mut slow = StoreWorker::new(store, id, fresh(9)).with_lease(Duration::from_millis(1));
    let job = match slow.next_job().unwrap() {
        Decision::Run(job) => job,
        d => panic!("{d:?}"),
    };
    std::thread::sleep(Duration::from_millis(20));
    let (store, id) = open(&path);
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
    let replica = replay(&path, 9);
    assert_eq!(replica.study().stats().finished, 1);
    assert_eq!(replica.meta()[0].late_results, 1);
    assert_eq!(replica.study().history().observations()[0].loss, 2.0);
}

#[test]
fn foreign_files_are_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.db");
    std::fs::write(
        &text,
        b"these are my notes, not a database at all\n".repeat(100),
    )
    .unwrap();
    let before = std::fs::read(&text).unwrap();
    let err = SqliteStore::open(&text).unwrap_err();
    assert!(matches!(err, StorageError::Foreign { .. }), "{err}");
    assert!(err.to_string().contains("notes.db"), "{err}");
    assert!(
        err.to_string().contains("not a hyperband database"),
        "{err}"
    );
    assert_eq!(std::fs::read(&text).unwrap(), before);

    let other = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&other).unwrap();
    let err = SqliteStore::open(&other).unwrap_err().to_string();
    assert!(err.contains("another program"), "{err}");
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE hyperband_meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(err.contains("newer hyperband (schema 99"), "{err}");
}

#[test]
fn a_replica_refuses_a_log_from_another_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    run_worker(&path, 7, Some(10));
    let (mut store, id) = open(&path);
    // Same space, another seed: the first new trial's configuration differs, but the
    // replica takes configurations from the log; a different scheduler does not fit.
    let space = study(7).space().clone();
    let other = Study::new(
        space,
        Box::new(Random),
        Box::new(hyperband::FullBudget::new(27.0)),
        Settings::default(),
    );
    let mut replica = Replica::new("demo", other);
    let err = replica.sync(&mut store, id).unwrap_err().to_string();
    assert!(err.contains("cannot be replayed"), "{err}");
    assert!(
        !err.contains("corrupt"),
        "a well-formed log is not corrupt: {err}"
    );
    assert!(err.contains("--fork"), "the message says what to do: {err}");
}

/// Workers started together on a new file: each opens it (the first creates the schema)
/// and none takes the half-made file for another program's database.
#[test]
fn workers_opening_a_new_file_at_once_all_get_the_store() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|_| scope.spawn(|| SqliteStore::open(&path).map(|_| ())))
                .collect();
            for h in handles {
                if let Err(e) = h.join().unwrap() {
                    panic!("round {round}: {e}");
                }
            }
        });
    }
}

/// The file's schema version.
fn schema_version(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT value FROM hyperband_meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_schema_1_file_is_read_as_it_is_and_upgraded_by_its_first_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    run_worker(&path, 7, Some(10));
    // What hyperband wrote before event checksums: the same tables, no `events.crc`.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "ALTER TABLE events DROP COLUMN crc;
         UPDATE hyperband_meta SET value = '1' WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(conn);

    // A reader takes it as it is, and leaves it so.
    let mut reader = SqliteStore::open_read_only(&path).unwrap();
    let (id, _) = reader.find_study("demo").unwrap();
    let mut replica = Replica::new("demo", study(7));
    replica.sync(&mut reader, id).unwrap();
    assert_eq!(replica.study().stats().finished, 10);
    drop(reader);
    assert_eq!(schema_version(&path), "1");

    // A writer upgrades it, and the study goes on to the uninterrupted history.
    run_worker(&path, 7, None);
    assert_eq!(schema_version(&path), "2");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (old, new): (i64, i64) = conn
        .query_row(
            "SELECT count(*) FILTER (WHERE crc IS NULL), count(crc) FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        old >= 11 && new > 0,
        "{old} events without a checksum, {new} with"
    );
    assert_eq!(results(replay(&path, 7).study()), results(&in_memory(7)));
}

/// Changes the first digit after `"loss":` in the payload of event `seq`.
fn flip_loss_digit(path: &Path, seq: i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let payload: String = conn
        .query_row("SELECT payload FROM events WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .unwrap();
    let at = payload.find("\"loss\":").unwrap() + "\"loss\":".len();
    let digit = payload[at..].find(|c: char| c.is_ascii_digit()).unwrap() + at;
    let mut bytes = payload.into_bytes();
    bytes[digit] = if bytes[digit] == b'9' {
        b'1'
    } else {
        bytes[digit] + 1
    };
    conn.execute(
        "UPDATE events SET payload = ?1 WHERE seq = ?2",
        rusqlite::params![String::from_utf8(bytes).unwrap(), seq],
    )
    .unwrap();
}

#[test]
fn a_changed_digit_in_a_stored_loss_is_reported_as_damage_naming_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    run_worker(&path, 7, Some(6));
    let seq: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT min(seq) FROM events WHERE kind = 'job_finished'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    flip_loss_digit(&path, seq);
    for mut store in [
        SqliteStore::open(&path).unwrap(),
        SqliteStore::open_read_only(&path).unwrap(),
    ] {
        let (id, _) = store.find_study("demo").unwrap();
        let mut replica = Replica::new("demo", study(7));
        let err = replica.sync(&mut store, id).unwrap_err();
        assert!(
            matches!(&err, StorageError::Damaged { name, seq: s } if name == "demo" && *s == seq as u64),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("study `demo`") && text.contains(&format!("event #{seq} is damaged")),
            "{text}"
        );
        assert!(err.is_permanent());
    }
}

#[test]
fn a_write_sqlite_refuses_is_permanent_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hb.db");
    let (_, id) = open(&path);
    // A connection SQLite will not write through fails as a read-only file does.
    let mut store = SqliteStore::open_read_only(&path).unwrap();
    let event = Event::JobLost {
        job: hyperband::JobId(0),
        reason: "test".into(),
    };
    let err = store.append(id, &event).unwrap_err();
    assert!(err.is_permanent(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("hb.db") && text.contains("the database file is read-only"),
        "{text}"
    );
}

#[test]
fn reading_a_missing_or_empty_file_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let err = SqliteStore::open_read_only(&missing)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing.db") && err.contains("no such database"),
        "{err}"
    );
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = SqliteStore::open_read_only(&empty).unwrap_err().to_string();
    assert!(
        err.contains("empty.db") && err.contains("an empty file"),
        "{err}"
    );
    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["empty.db"]);
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
}
