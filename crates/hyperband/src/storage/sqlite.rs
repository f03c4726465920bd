//! The embedded store: one SQLite file in WAL mode, shared by any number of local processes.
//!
//! `BEGIN IMMEDIATE` takes SQLite's write lock at the start of a decision, which is the
//! study lock: a plain `BEGIN` would upgrade to a write lock mid-transaction and fail with
//! "database is locked" under contention instead of waiting.

use super::codec::{checksum, decode, name_study};
use super::{Event, EventStore, Lease, LockedLog, StorageError, StoredEvent, UnderLock};
use crate::job::JobId;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Marks a SQLite file as ours ('HYBD'), so that we never write into someone else's.
const APPLICATION_ID: i64 = 0x4859_4244;
/// The schema this binary writes; a file with a newer one is refused.
/// 1: studies, events, leases. 2: each event's checksum (`events.crc`; a schema 1 file is
/// upgraded in place by the first writer, and its events, which have none, are read as
/// they are).
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hyperband_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    spec TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    study INTEGER NOT NULL REFERENCES studies(id),
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- Schema 2: `event::checksum(payload)`; NULL for an event a schema 1 binary wrote.
    crc INTEGER,
    PRIMARY KEY (study, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    study INTEGER NOT NULL,
    job INTEGER NOT NULL,
    worker TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (study, job)
) WITHOUT ROWID;
";

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Whether the file's events have a checksum column: a schema 1 file opened read-only
    /// is not upgraded.
    has_crc: bool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqliteStore({})", self.path.display())
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`. A file that is not a SQLite database, or
    /// a SQLite database of another program, is an error and is left untouched.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let shown = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| sql(&shown, "cannot open", e))?;
        let store = Self {
            conn,
            path: path.to_path_buf(),
            has_crc: true,
        };
        store.check_and_init()?;
        Ok(store)
    }

    /// The study's leases, read without the study lock (for readers: a read-only store
    /// can take no lock).
    pub fn read_leases(&self, study: i64) -> Result<Vec<Lease>, StorageError> {
        let shown = self.shown();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT job, worker, expires_at FROM leases WHERE study = ?1")
            .map_err(|e| sql(&shown, "cannot read leases", e))?;
        let rows = stmt
            .query_map([study], |r| {
                Ok(Lease {
                    job: JobId(r.get::<_, i64>(0)? as u64),
                    worker: r.get(1)?,
                    expires_at: r.get(2)?,
                })
            })
            .map_err(|e| sql(&shown, "cannot read leases", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| sql(&shown, "cannot read leases", e))
    }

    /// Opens an existing database for reading only (`status`, `export`, `best`, `report`,
    /// the dashboard): SQLite refuses every write through this connection, no file is
    /// created or initialised, and a study being run is read through its WAL as it commits,
    /// without taking its write lock. A missing or empty file, or one of another program,
    /// is an error that leaves everything as it was.
    ///
    /// A WAL database's readers share an index file (`-shm`) beside it. In a folder we
    /// cannot write, with no `-shm` there to open, SQLite cannot read the file at all;
    /// then, if no write-ahead log (`-wal`) holds changes the file lacks, the file is read
    /// as immutable (a snapshot as of opening, which sees no later run), and otherwise the
    /// error names the files needed.
    pub fn open_read_only(path: &Path) -> Result<Self, StorageError> {
        let shown = path.display().to_string();
        let refuse = |problem: String| StorageError::Foreign {
            path: shown.clone(),
            problem,
        };
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(refuse(
                    "no such database (has the study been run yet?); nothing was created".into(),
                ))
            }
            Err(e) => return Err(refuse(format!("cannot read the database file: {e}"))),
            Ok(m) if m.is_dir() => return Err(refuse("a folder, not a database file".into())),
            Ok(m) if m.len() == 0 => {
                return Err(refuse(
                    "an empty file, not a hyperband database (no study was run in it yet); it was left as it is"
                        .into(),
                ))
            }
            Ok(_) => {}
        }
        let mut conn = connect_read_only(path, false)?;
        let app_id = match read_application_id(&conn) {
            // What SQLite says when it cannot create the index (older versions: cannot
            // open; newer: read-only directory).
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly
                ) =>
            {
                let wal = sibling(path, "-wal");
                if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                    return Err(refuse(format!(
                        "cannot read this WAL-mode database: its folder is read-only to us, so SQLite cannot create {}, which it needs to read the changes still in {}; make the folder writable, or have its owner open the database once (which moves those changes into it)",
                        sibling(path, "-shm").display(),
                        wal.display()
                    )));
                }
                conn = connect_read_only(path, true)?;
                read_application_id(&conn)
            }
            other => other,
        }
        .map_err(|e| sql(&shown, "cannot read the database header", e))?;
        if app_id != APPLICATION_ID {
            return Err(StorageError::Foreign {
                path: shown,
                problem: "not a hyperband database (or not one yet: no study was run in it)".into(),
            });
        }
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
            has_crc: false,
        };
        store.has_crc = store.check_version()? >= 2;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    fn check_and_init(&self) -> Result<(), StorageError> {
        let shown = self.shown();
        let foreign = |problem: &str| StorageError::Foreign {
            path: shown.clone(),
            problem: problem.to_string(),
        };
        self.conn
            .busy_timeout(Duration::from_secs(60))
            .map_err(|e| sql(&shown, "cannot set busy timeout", e))?;
        // Reading the header is the first touch of the file: it fails on anything that is
        // not a SQLite database, before we write a byte.
        let app_id: i64 = match self
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
        {
            Ok(id) => id,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(foreign(
                    "not a hyperband database: the file is not SQLite (another kind of file, or corrupt); it was left untouched",
                ))
            }
            Err(e) => return Err(sql(&shown, "cannot read the database header", e)),
        };
        if app_id != APPLICATION_ID {
            self.create_schema(&foreign)?;
        }
        self.ensure_wal()?;
        // NORMAL in WAL mode: a power cut may lose the last commits but never corrupts;
        // a killed process loses nothing.
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| sql(&shown, "cannot set synchronous mode", e))?;
        if self.check_version()? < SCHEMA_VERSION {
            self.upgrade()?;
        }
        Ok(())
    }

    /// Brings a file of an older schema to this one, under the write lock (several
    /// workers may open it at once: the version is read again under the lock). Schema 1
    /// to 2 adds the checksum column; the events already there keep none and are read as
    /// they are.
    fn upgrade(&self) -> Result<(), StorageError> {
        let shown = self.shown();
        let fail = |what: &str, e: rusqlite::Error| {
            let _ = self.conn.execute_batch("ROLLBACK");
            sql(&shown, what, e)
        };
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| sql(&shown, "cannot lock the database to upgrade it", e))?;
        let version = match self.check_version() {
            Ok(v) => v,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        if version < 2 {
            self.conn
                .execute_batch("ALTER TABLE events ADD COLUMN crc INTEGER")
                .map_err(|e| fail("cannot upgrade the schema", e))?;
        }
        self.conn
            .execute_batch(&format!(
                "UPDATE hyperband_meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version';
                 COMMIT;"
            ))
            .map_err(|e| fail("cannot upgrade the schema", e))
    }

    /// Switches the file to WAL (which lasts: later opens find it so). Changing the journal
    /// mode needs the file to itself, and SQLite answers "locked" at once rather than wait
    /// while workers that opened the new file together read it, so this retries.
    fn ensure_wal(&self) -> Result<(), StorageError> {
        let shown = self.shown();
        let start = std::time::Instant::now();
        loop {
            let mode: String = self
                .conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .map_err(|e| sql(&shown, "cannot read the journal mode", e))?;
            if mode.eq_ignore_ascii_case("wal") {
                return Ok(());
            }
            match self.conn.pragma_update(None, "journal_mode", "WAL") {
                Ok(()) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) && start.elapsed() < Duration::from_secs(60) =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(sql(&shown, "cannot switch to WAL mode", e)),
            }
        }
    }

    /// Makes a new file a hyperband database. Several workers may open a new file at once,
    /// so the header is read again under the write lock: a file another worker has just
    /// made ours is taken as it is, and only a file with someone else's tables is foreign.
    fn create_schema(&self, foreign: &dyn Fn(&str) -> StorageError) -> Result<(), StorageError> {
        let shown = self.shown();
        let fail = |what: &str, e: rusqlite::Error| {
            let _ = self.conn.execute_batch("ROLLBACK");
            sql(&shown, what, e)
        };
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| sql(&shown, "cannot lock the database to create it", e))?;
        let app_id: i64 = self
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| fail("cannot read the database header", e))?;
        let tables: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| fail("cannot read the schema (corrupt database?)", e))?;
        if app_id == APPLICATION_ID {
            return self
                .conn
                .execute_batch("COMMIT")
                .map_err(|e| sql(&shown, "cannot read the database", e));
        }
        if tables > 0 {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(foreign(
                "not a hyperband database: a SQLite database of another program; it was left untouched",
            ));
        }
        self.conn
            .execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; {SCHEMA}
                 INSERT OR IGNORE INTO hyperband_meta VALUES ('schema_version', '{SCHEMA_VERSION}');
                 COMMIT;"
            ))
            .map_err(|e| fail("cannot create the schema", e))
    }

    /// The file's schema version; a database that a newer hyperband wrote is refused.
    fn check_version(&self) -> Result<i64, StorageError> {
        let shown = self.shown();
        let foreign = |problem: &str| StorageError::Foreign {
            path: shown.clone(),
            problem: problem.to_string(),
        };
        let version: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM hyperband_meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| {
                sql(
                    &shown,
                    "cannot read the schema version (corrupt database?)",
                    e,
                )
            })?;
        let version: i64 = version
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| foreign("hyperband database without a schema version (corrupt?)"))?;
        if version > SCHEMA_VERSION {
            return Err(StorageError::NewerSchema {
                path: shown,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        Ok(version)
    }

    fn study_by_name(&self, name: &str) -> Result<Option<(i64, serde_json::Value)>, StorageError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, spec FROM studies WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| sql(&self.shown(), "cannot read studies", e))?;
        row.map(|(id, spec)| {
            let spec = serde_json::from_str(&spec).map_err(|e| StorageError::CorruptEvent {
                name: name.to_string(),
                seq: 0,
                problem: format!("unreadable study spec: {e}"),
            })?;
            Ok((id, spec))
        })
        .transpose()
    }
}

fn read_application_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA application_id", [], |r| r.get(0))
}

/// `path` with `suffix` appended to its file name (SQLite's `-wal` and `-shm` files).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A read-only connection to `path`; `immutable`: told that nobody changes the file, so
/// that SQLite reads it without its WAL index (see [`SqliteStore::open_read_only`]).
fn connect_read_only(path: &Path, immutable: bool) -> Result<Connection, StorageError> {
    use std::os::unix::ffi::OsStrExt;
    let shown = path.display().to_string();
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        // A URI's path is percent-encoded where it would be read as syntax.
        let mut uri = String::from("file:");
        for &b in path.as_os_str().as_bytes() {
            match b {
                b'%' | b'?' | b'#' => uri.push_str(&format!("%{b:02x}")),
                b if b.is_ascii() => uri.push(b as char),
                b => uri.push_str(&format!("%{b:02x}")),
            }
        }
        uri.push_str("?immutable=1");
        Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
    } else {
        Connection::open_with_flags(path, flags)
    }
    .map_err(|e| sql(&shown, "cannot open", e))?;
    conn.busy_timeout(Duration::from_secs(60))
        .map_err(|e| sql(&shown, "cannot set busy timeout", e))?;
    Ok(conn)
}

/// Every SQLite failure becomes a [`StorageError`] here, classified by [`explain`].
fn sql(path: &str, context: &str, source: rusqlite::Error) -> StorageError {
    let (cause, permanent) = explain(path, &source);
    StorageError::Sqlite {
        context: format!("{path}: {context}"),
        cause,
        permanent,
        source,
    }
}

const DISK_FULL: &str =
    "the disk is full: nothing more can be stored until space is freed (what was stored is intact)";

/// What a SQLite failure on the database at `path` means, in a sentence a user can act
/// on, and whether it is permanent. Only busy and locked pass with time (another process
/// holds the file); a read-only or unopenable file, a full disk and a damaged file stay
/// as they are however long a worker retries, so they are reported at once.
fn explain(path: &str, e: &rusqlite::Error) -> (String, bool) {
    use rusqlite::ErrorCode as C;
    let rusqlite::Error::SqliteFailure(failure, _) = e else {
        return (e.to_string(), true);
    };
    let sentence = match failure.code {
        C::DatabaseBusy | C::DatabaseLocked => return (e.to_string(), false),
        C::ReadOnly => "the database file is read-only (or its folder, or its file system, is): nothing can be stored in it; make it writable and run again",
        C::CannotOpen => "the database file cannot be opened: it is missing, or its folder cannot be read (or written, to create it)",
        C::DiskFull => DISK_FULL,
        // SQLite says "disk I/O error" when a full disk fails a write other than the
        // log's own (growing the shared-memory file, a checkpoint): ask the file system.
        C::SystemIoFailure if disk_full(Path::new(path)) => DISK_FULL,
        C::DatabaseCorrupt => "the database file is damaged (corrupt): restore it from a backup",
        C::NotADatabase => "the file is not a SQLite database",
        _ => return (e.to_string(), true),
    };
    // SQLite's own words follow as the error's source.
    (sentence.to_string(), true)
}

/// Whether the file system holding `path` (or its folder) has fewer than 16 blocks free
/// for us: too few for SQLite to write a page, its log's header and a checkpoint.
fn disk_full(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let probe = if path.exists() {
        path
    } else {
        match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    };
    let Ok(c_path) = std::ffi::CString::new(probe.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statvfs writes only into the zeroed struct we pass, from a NUL-terminated path.
    unsafe {
        let mut stats: libc::statvfs = std::mem::zeroed();
        libc::statvfs(c_path.as_ptr(), &mut stats) == 0 && stats.f_bavail < 16
    }
}

/// The log of `study` after `after`. `has_crc`: the file has the checksum column.
fn read_events(
    conn: &Connection,
    path: &str,
    study: i64,
    after: u64,
    has_crc: bool,
) -> Result<Vec<StoredEvent>, StorageError> {
    let crc = if has_crc { "crc" } else { "NULL" };
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT seq, at, payload, {crc} FROM events WHERE study = ?1 AND seq > ?2 ORDER BY seq"
        ))
        .map_err(|e| sql(path, "cannot read events", e))?;
    let rows = stmt
        .query_map(params![study, after as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, f64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })
        .map_err(|e| sql(path, "cannot read events", e))?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, payload, crc) = row.map_err(|e| sql(path, "cannot read events", e))?;
        let event = decode(&payload, crc, &format!("#{study}"), seq as u64).map_err(|e| {
            name_study(e, study, || {
                conn.query_row("SELECT name FROM studies WHERE id = ?1", [study], |r| {
                    r.get(0)
                })
                .ok()
            })
        })?;
        out.push(StoredEvent {
            seq: seq as u64,
            at,
            event,
        });
    }
    Ok(out)
}

fn insert_event(
    conn: &Connection,
    path: &str,
    study: i64,
    event: &Event,
    at: f64,
) -> Result<u64, StorageError> {
    let last: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events WHERE study = ?1")
        .and_then(|mut s| s.query_row([study], |r| r.get(0)))
        .map_err(|e| sql(path, "cannot append an event", e))?;
    let seq = last + 1;
    let payload = serde_json::to_string(event).expect("events serialize");
    conn.prepare_cached(
        "INSERT INTO events (study, seq, at, kind, payload, crc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            study,
            seq,
            at,
            event.kind(),
            payload,
            checksum(&payload)
        ])
    })
    .map_err(|e| sql(path, "cannot append an event", e))?;
    if let Some(job) = event.ends_job() {
        conn.prepare_cached("DELETE FROM leases WHERE study = ?1 AND job = ?2")
            .and_then(|mut s| s.execute(params![study, job.0 as i64]))
            .map_err(|e| sql(path, "cannot drop a lease", e))?;
    }
    Ok(seq as u64)
}

struct Locked<'a> {
    conn: &'a Connection,
    path: &'a str,
    study: i64,
}

impl LockedLog for Locked<'_> {
    fn append(&mut self, event: &Event, at: f64) -> Result<u64, StorageError> {
        insert_event(self.conn, self.path, self.study, event, at)
    }

    fn leases(&mut self) -> Result<Vec<Lease>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT job, worker, expires_at FROM leases WHERE study = ?1")
            .map_err(|e| sql(self.path, "cannot read leases", e))?;
        let rows = stmt
            .query_map([self.study], |r| {
                Ok(Lease {
                    job: JobId(r.get::<_, i64>(0)? as u64),
                    worker: r.get(1)?,
                    expires_at: r.get(2)?,
                })
            })
            .map_err(|e| sql(self.path, "cannot read leases", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| sql(self.path, "cannot read leases", e))
    }

    fn put_lease(&mut self, lease: &Lease) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO leases (study, job, worker, expires_at) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| {
                s.execute(params![self.study, lease.job.0 as i64, lease.worker, lease.expires_at])
            })
            .map_err(|e| sql(self.path, "cannot write a lease", e))?;
        Ok(())
    }
}

impl EventStore for SqliteStore {
    fn open_study(
        &mut self,
        name: &str,
        spec: &serde_json::Value,
    ) -> Result<(i64, serde_json::Value), StorageError> {
        let shown = self.shown();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql(&shown, "cannot lock the database", e))?;
        let existing: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, spec FROM studies WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| sql(&shown, "cannot read studies", e))?;
        if let Some((id, stored)) = existing {
            drop(tx);
            let stored = serde_json::from_str(&stored).map_err(|e| StorageError::CorruptEvent {
                name: name.to_string(),
                seq: 0,
                problem: format!("unreadable study spec: {e}"),
            })?;
            return Ok((id, stored));
        }
        tx.execute(
            "INSERT INTO studies (name, spec, created_at) VALUES (?1, ?2, ?3)",
            params![name, spec.to_string(), super::now()],
        )
        .map_err(|e| sql(&shown, "cannot create the study", e))?;
        let id = tx.last_insert_rowid();
        let created = Event::StudyCreated {
            spec: spec.clone(),
            rules: crate::study::RULES,
        };
        insert_event(&tx, &shown, id, &created, super::now())?;
        tx.commit()
            .map_err(|e| sql(&shown, "cannot create the study", e))?;
        Ok((id, spec.clone()))
    }

    fn find_study(&mut self, name: &str) -> Result<(i64, serde_json::Value), StorageError> {
        self.study_by_name(name)?
            .ok_or_else(|| StorageError::NoSuchStudy(name.to_string()))
    }

    fn study_names(&mut self) -> Result<Vec<String>, StorageError> {
        let shown = self.shown();
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM studies ORDER BY id")
            .map_err(|e| sql(&shown, "cannot read studies", e))?;
        let names = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| sql(&shown, "cannot read studies", e))?
            .collect::<Result<_, _>>()
            .map_err(|e| sql(&shown, "cannot read studies", e))?;
        Ok(names)
    }

    fn locked<T>(
        &mut self,
        study: i64,
        after: u64,
        f: &mut UnderLock<'_, T>,
    ) -> Result<T, StorageError> {
        let shown = self.shown();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql(&shown, "cannot lock the study", e))?;
        let events = read_events(&tx, &shown, study, after.min(i64::MAX as u64), true)?;
        let value = f(
            &mut Locked {
                conn: &tx,
                path: &shown,
                study,
            },
            events,
        )?;
        tx.commit()
            .map_err(|e| sql(&shown, "cannot commit a decision", e))?;
        Ok(value)
    }

    fn append(&mut self, study: i64, event: &Event) -> Result<(), StorageError> {
        let shown = self.shown();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql(&shown, "cannot lock the study", e))?;
        insert_event(&tx, &shown, study, event, super::now())?;
        tx.commit()
            .map_err(|e| sql(&shown, "cannot commit a result", e))?;
        Ok(())
    }

    fn events_after(&mut self, study: i64, seq: u64) -> Result<Vec<StoredEvent>, StorageError> {
        read_events(&self.conn, &self.shown(), study, seq, self.has_crc)
    }

    fn renew_lease(
        &mut self,
        study: i64,
        job: JobId,
        worker: &str,
        expires_at: f64,
    ) -> Result<(), StorageError> {
        let shown = self.shown();
        self.conn
            .prepare_cached(
                "UPDATE leases SET expires_at = ?4 WHERE study = ?1 AND job = ?2 AND worker = ?3",
            )
            .and_then(|mut s| s.execute(params![study, job.0 as i64, worker, expires_at]))
            .map_err(|e| sql(&shown, "cannot renew a lease", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn only_busy_and_locked_are_worth_retrying() {
        use rusqlite::ffi;
        for (code, says) in [
            (ffi::SQLITE_READONLY, "the database file is read-only"),
            (ffi::SQLITE_FULL, "the disk is full"),
            (ffi::SQLITE_CANTOPEN, "cannot be opened"),
            (ffi::SQLITE_CORRUPT, "damaged (corrupt)"),
            (ffi::SQLITE_NOTADB, "not a SQLite database"),
        ] {
            let err = sql("/data/hb.db", "cannot commit a result", failure(code));
            assert!(err.is_permanent(), "{err}");
            let text = err.to_string();
            assert!(
                text.starts_with("/data/hb.db: cannot commit a result: ") && text.contains(says),
                "{text}"
            );
        }
        for code in [rusqlite::ffi::SQLITE_BUSY, rusqlite::ffi::SQLITE_LOCKED] {
            assert!(!sql("/data/hb.db", "x", failure(code)).is_permanent());
        }
    }
}
