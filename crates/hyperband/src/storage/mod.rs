//! Storage: each study is an append-only event log; workers coordinate only through it.
//!
//! To decide, a worker takes the study lock, applies the events it has not seen to its
//! in-memory [`Study`](crate::Study), asks for the next job, appends `JobIssued` and
//! releases the lock. Results are written in their own short transaction, durably: a
//! result is the one thing that cannot be recomputed. Leases live beside the log in a small
//! mutable table: renewing one every few seconds as an event would bloat the log with
//! nothing a replay needs.
//!
//! A store may make decisions durable lazily (PostgreSQL does, so that the study lock is
//! not held across a disk flush): a server crash can then take back the last decisions,
//! never a result. Two rules make that safe. A worker checks, under the lock, that the last
//! event it applied is still in the log (same sequence number, same time) and rebuilds its
//! replica when it is not ([`StorageError::Diverged`]). And a result whose job the log does
//! not know, or knows as issued to another worker, is kept in the log but not counted
//! ([`Replica::orphans`]).

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod any;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod codec;
mod enqueue;
mod event;
mod limits;
#[cfg(feature = "postgres")]
mod postgres;
mod replica;
mod run_dir;
#[cfg(feature = "sqlite")]
mod sqlite;
mod stored_study;
mod url;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use any::AnyStore;
pub use enqueue::enqueue;
pub use event::{config_from_json, config_json, Event, IssuedJob, StoredEvent};
pub use limits::{last_limits, set_limits, StoredLimits};
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use replica::Replica;
pub use run_dir::{RunDir, StudyIdentity};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use stored_study::{OpenError, StoredStudy};
pub use url::{redact, StorageUrl};

/// Why the store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{path}: {problem}")]
    Foreign { path: String, problem: String },
    #[error("{path}: the database was written by a newer hyperband (schema {found}, this binary knows up to {known})")]
    NewerSchema {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("no study named `{0}` in this storage")]
    NoSuchStudy(String),
    #[error("study `{0}` already exists in this storage")]
    StudyExists(String),
    #[error("study `{name}` in the storage has a corrupt event #{seq}: {problem}")]
    CorruptEvent {
        name: String,
        seq: u64,
        problem: String,
    },
    /// The log is well formed, but this build of the study decides differently from the
    /// replica that wrote it. Not called corrupt: with an unchanged stored definition, the
    /// likely cause is another version of hyperband.
    #[error("study `{name}`: event #{seq} cannot be replayed: {problem}. The stored definition matches, so the log was probably written by another version of hyperband (or edited); open it with that version, or start a copy with `hyperband run --fork`")]
    Unreplayable {
        name: String,
        seq: u64,
        problem: String,
    },
    #[error("storage URL `{url}`: {problem}")]
    BadUrl { url: String, problem: String },
    /// A database server's error (connection, SQL), with the store shown without password.
    #[error("{store}: {problem}")]
    Server { store: String, problem: String },
    /// The log no longer holds an event this worker had applied: the database lost its
    /// last commits (a crash with lazily flushed decisions). The worker rebuilds its replica.
    #[error("study #{study}: the log no longer holds event #{seq} that this worker had seen (the database lost its last decisions); rebuilding from the log")]
    Diverged { study: i64, seq: u64 },
    /// A stored event whose checksum does not match its bytes: it was changed after it was
    /// written (an edit of the database, a disk fault). Never replayed.
    #[error("study `{name}`: event #{seq} is damaged: its checksum does not match its content, so it was changed after hyperband wrote it (an edit of the database or a disk fault); it is not used. Restore the database from a backup, or start a new study")]
    Damaged { name: String, seq: u64 },
    /// A SQLite failure; `cause` is what a user acts on (see `explain` in the SQLite store): for a
    /// failure that waiting cannot cure, a sentence saying what is wrong with the file.
    #[cfg(feature = "sqlite")]
    #[error("{context}: {cause}")]
    Sqlite {
        context: String,
        cause: String,
        /// Waiting cannot cure it: anything but SQLite's busy and locked.
        permanent: bool,
        #[source]
        source: rusqlite::Error,
    },
}

impl StorageError {
    /// Whether retrying cannot help, so that a worker reports it at once instead of
    /// retrying for its whole retry window: a file SQLite cannot write (read-only, disk
    /// full, corrupt), damage, a store or URL that is not one. Server errors and a log
    /// that moved under a worker are worth retrying (the server store has already retried
    /// a lost connection itself).
    pub fn is_permanent(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            StorageError::Sqlite { permanent, .. } => *permanent,
            StorageError::Damaged { .. }
            | StorageError::Foreign { .. }
            | StorageError::NewerSchema { .. }
            | StorageError::NoSuchStudy(_)
            | StorageError::BadUrl { .. } => true,
            StorageError::StudyExists(_)
            | StorageError::CorruptEvent { .. }
            | StorageError::Unreplayable { .. }
            | StorageError::Server { .. }
            | StorageError::Diverged { .. } => false,
        }
    }
}

/// What a read-only reader sees of a study's log ([`AnyStore::peek_events`]).
#[derive(Debug, Clone, Default)]
pub struct PeekedEvents {
    /// The log's events after the sequence number asked for.
    pub log: Vec<StoredEvent>,
    /// Results stored but not in the log yet (PostgreSQL's inbox), numbered after the
    /// log's last event as they will be: for a view of the study as it stands, not to be
    /// counted as read, since the log will hold them later.
    pub pending: Vec<StoredEvent>,
}

/// A job's lease: the worker that runs it must renew it before `expires_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub job: crate::JobId,
    pub worker: String,
    pub expires_at: f64,
}

/// What a worker may do while it holds a study's lock. A store may hold the writes back
/// until the commit (PostgreSQL sends them with it, in one round trip); a write the store
/// finds wrong then fails the commit, never half-applies.
pub trait LockedLog {
    /// Appends `event`, written at `at`; returns its sequence number.
    fn append(&mut self, event: &Event, at: f64) -> Result<u64, StorageError>;
    fn leases(&mut self) -> Result<Vec<Lease>, StorageError>;
    fn put_lease(&mut self, lease: &Lease) -> Result<(), StorageError>;
    /// Appends a `JobIssued` and its lease together (one round trip where the store can).
    fn issue(&mut self, event: &Event, at: f64, lease: &Lease) -> Result<u64, StorageError> {
        let seq = self.append(event, at)?;
        self.put_lease(lease)?;
        Ok(seq)
    }
    /// Other workers waiting for a job, in the order they asked, that this decision may
    /// serve too (stores that combine decisions; none elsewhere).
    fn waiting(&self) -> &[String] {
        &[]
    }
    /// Issues a job to a waiting worker (`lease.worker`), who picks it up from the store.
    fn serve(&mut self, event: &Event, at: f64, lease: &Lease) -> Result<u64, StorageError> {
        self.issue(event, at, lease)
    }
}

/// What a worker asking for a job got.
#[derive(Debug)]
pub enum Asked<T> {
    /// It took the lock and decided (for itself and maybe for others).
    Decided(T),
    /// Another worker's decision served it while it waited: the `JobIssued` event.
    Served(Event),
}

/// What a caller of [`EventStore::locked`] runs under the lock: it gets the log to append
/// to and the events it had not seen.
pub type UnderLock<'a, T> =
    dyn FnMut(&mut dyn LockedLog, Vec<StoredEvent>) -> Result<T, StorageError> + 'a;

/// One connection to a store holding studies.
pub trait EventStore: Send {
    /// Creates the study with `spec` or returns the existing study's id and spec.
    fn open_study(
        &mut self,
        name: &str,
        spec: &serde_json::Value,
    ) -> Result<(i64, serde_json::Value), StorageError>;
    /// The id and spec of an existing study.
    fn find_study(&mut self, name: &str) -> Result<(i64, serde_json::Value), StorageError>;
    fn study_names(&mut self) -> Result<Vec<String>, StorageError>;
    /// Runs `f` holding the study's lock, with the log's events after `after` as of the
    /// lock (results written by [`append`](Self::append) included); what it appends
    /// commits only if it returns Ok.
    fn locked<T>(
        &mut self,
        study: i64,
        after: u64,
        f: &mut UnderLock<'_, T>,
    ) -> Result<T, StorageError>;
    /// Between two jobs of `worker`: stores `report` (its last result, durably), tells the
    /// store that the worker wants a job, and returns the log after `after` without the
    /// lock, so that the worker catches up in parallel with the others. Then comes
    /// [`ask_locked`](Self::ask_locked).
    fn ask(
        &mut self,
        study: i64,
        worker: &str,
        after: u64,
        report: Option<&Event>,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        let _ = worker;
        if let Some(event) = report {
            self.append(study, event)?;
        }
        self.events_after(study, after)
    }
    /// [`locked`](Self::locked) for `worker`, who wants a job (after [`ask`](Self::ask)). A store that combines
    /// decisions (PostgreSQL) lets the worker holding the lock serve every worker waiting
    /// for it ([`LockedLog::waiting`]), so that under many workers one round of the lock
    /// serves many jobs; a worker that was served gets its job without deciding.
    fn ask_locked<T>(
        &mut self,
        study: i64,
        worker: &str,
        after: u64,
        f: &mut UnderLock<'_, T>,
    ) -> Result<Asked<T>, StorageError> {
        let _ = worker;
        self.locked(study, after, f).map(Asked::Decided)
    }
    /// Writes a result (or a worker's release of its job) durably, in its own short
    /// transaction: results need no decision. The event reaches the log, and the job's
    /// lease is dropped, at once or by the next decision or read (PostgreSQL keeps results
    /// in an inbox outside the study lock).
    fn append(&mut self, study: i64, event: &Event) -> Result<(), StorageError>;
    /// Events after `seq` (for readers and replicas catching up), results written so far
    /// included.
    fn events_after(&mut self, study: i64, seq: u64) -> Result<Vec<StoredEvent>, StorageError>;
    fn renew_lease(
        &mut self,
        study: i64,
        job: crate::JobId,
        worker: &str,
        expires_at: f64,
    ) -> Result<(), StorageError>;
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
