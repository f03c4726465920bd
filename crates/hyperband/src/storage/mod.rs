//! Storage: each study is an append-only event log; workers coordinate only through it.
//!
//! To decide, a worker takes the study lock, applies the events it has not seen to its
//! in-memory [`Study`](crate::Study), asks for the next job, appends `JobIssued` and
//! releases the lock. Results are appended in their own short transaction. Leases live
//! beside the log in a small mutable table: renewing one every few seconds as an event
//! would bloat the log with nothing a replay needs.

mod any;
mod event;
mod postgres;
mod replica;
mod sqlite;
mod url;

pub use any::AnyStore;
pub use event::{Event, IssuedJob, StoredEvent};
pub use postgres::PgStore;
pub use replica::Replica;
pub use sqlite::SqliteStore;
pub use url::StorageUrl;

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
    #[error("storage URL `{url}`: {problem}")]
    BadUrl { url: String, problem: String },
    /// A database server's error (connection, SQL), with the store shown without password.
    #[error("{store}: {problem}")]
    Server { store: String, problem: String },
    #[error("{context}: {source}")]
    Sqlite {
        context: String,
        #[source]
        source: rusqlite::Error,
    },
}

/// A job's lease: the worker that runs it must renew it before `expires_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub job: crate::JobId,
    pub worker: String,
    pub expires_at: f64,
}

/// What a worker may do while it holds a study's lock.
pub trait LockedLog {
    /// Events after `seq`, in order.
    fn events_after(&mut self, seq: u64) -> Result<Vec<StoredEvent>, StorageError>;
    /// Appends `event`; returns its sequence number.
    fn append(&mut self, event: &Event) -> Result<u64, StorageError>;
    fn leases(&mut self) -> Result<Vec<Lease>, StorageError>;
    fn put_lease(&mut self, lease: &Lease) -> Result<(), StorageError>;
}

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
    /// Runs `f` holding the study's lock; what it appends commits only if it returns Ok.
    fn locked<T>(
        &mut self,
        study: i64,
        f: &mut dyn FnMut(&mut dyn LockedLog) -> Result<T, StorageError>,
    ) -> Result<T, StorageError>;
    /// Appends one event in its own short transaction (results need no decision). A job's
    /// result or loss also removes its lease, in the same transaction.
    fn append(&mut self, study: i64, event: &Event) -> Result<u64, StorageError>;
    /// Events after `seq`, without the lock (for readers and replicas catching up).
    fn events_after(&mut self, study: i64, seq: u64) -> Result<Vec<StoredEvent>, StorageError>;
    fn renew_lease(
        &mut self,
        study: i64,
        job: crate::JobId,
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
