//! The SQLite event log: the store contract (`common/store_contract.rs`: replay equals the
//! live study, resume equals an uninterrupted run, workers share a study without double
//! work, dead workers' jobs come back, ...) on a file of each test's own, and what is
//! SQLite's alone: files that are not ours are refused untouched, an older file is read as
//! it is and upgraded by its first writer, a write SQLite refuses is permanent, and
//! reading a missing or empty file creates nothing.

mod common;

use common::store_contract::{
    in_memory, open, replay, results, run_worker, store_contract_tests, study, Place, Stores,
};
use hyperband::storage::{Event, EventStore, Replica, SqliteStore, StorageError, StoredEvent};
use std::path::Path;

/// Each test's store is a file in a folder of its own, holding study `demo`.
struct Sqlite;

fn path(place: &Place) -> &Path {
    Path::new(&place.at)
}

impl Stores for Sqlite {
    type Store = SqliteStore;
    const WORKERS: usize = 8;

    fn place(&self, _prefix: &str) -> Place {
        self.new_store("")
    }

    fn new_store(&self, _prefix: &str) -> Place {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hb.db");
        Place::new("demo", path.to_str().unwrap(), dir)
    }

    fn connect(&self, place: &Place) -> Result<SqliteStore, StorageError> {
        SqliteStore::open(path(place))
    }

    fn read_only_events(&self, place: &Place, id: i64) -> Result<Vec<StoredEvent>, StorageError> {
        SqliteStore::open_read_only(path(place))?.events_after(id, 0)
    }

    fn set_schema_version(&self, place: &Place, version: u32) {
        let conn = rusqlite::Connection::open(path(place)).unwrap();
        conn.execute(
            "UPDATE hyperband_meta SET value = ?1 WHERE key = 'schema_version'",
            [version.to_string()],
        )
        .unwrap();
    }

    fn edit_first_result(&self, place: &Place, edit: &dyn Fn(&str) -> String) -> u64 {
        let conn = rusqlite::Connection::open(path(place)).unwrap();
        let (seq, payload): (i64, String) = conn
            .query_row(
                "SELECT seq, payload FROM events WHERE kind = 'job_finished' ORDER BY seq LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        conn.execute(
            "UPDATE events SET payload = ?1 WHERE seq = ?2",
            rusqlite::params![edit(&payload), seq],
        )
        .unwrap();
        seq as u64
    }
}

store_contract_tests!(Sqlite);

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
    let place = Sqlite.place("v1");
    let path = path(&place);
    run_worker(&Sqlite, &place, 7, Some(10));
    // What hyperband wrote before event checksums: the same tables, no `events.crc`.
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "ALTER TABLE events DROP COLUMN crc;
         UPDATE hyperband_meta SET value = '1' WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(conn);

    // A reader takes it as it is, and leaves it so.
    let mut reader = SqliteStore::open_read_only(path).unwrap();
    let (id, _) = reader.find_study("demo").unwrap();
    let mut replica = Replica::new("demo", study(7));
    replica.sync(&mut reader, id).unwrap();
    assert_eq!(replica.study().stats().finished, 10);
    drop(reader);
    assert_eq!(schema_version(path), "1");

    // A writer upgrades it, and the study goes on to the uninterrupted history.
    run_worker(&Sqlite, &place, 7, None);
    assert_eq!(schema_version(path), "2");
    let conn = rusqlite::Connection::open(path).unwrap();
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
    assert_eq!(
        results(replay(&Sqlite, &place, 7).study()),
        results(&in_memory(7))
    );
}

#[test]
fn a_write_sqlite_refuses_is_permanent_and_says_why() {
    let place = Sqlite.place("read-only");
    let (_, id) = open(&Sqlite, &place);
    // A connection SQLite will not write through fails as a read-only file does.
    let mut store = SqliteStore::open_read_only(path(&place)).unwrap();
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
