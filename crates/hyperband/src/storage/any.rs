//! One type for "whichever store the URL names", so that workers, runners and readers are
//! written once for the embedded and the server store.

#[cfg(feature = "postgres")]
use super::PgStore;
#[cfg(feature = "sqlite")]
use super::SqliteStore;
use super::{EventStore, PeekedEvents, StorageError, StorageUrl, StoredEvent, UnderLock};
use crate::job::JobId;

#[derive(Debug)]
pub enum AnyStore {
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteStore),
    #[cfg(feature = "postgres")]
    Postgres(Box<PgStore>),
}

/// The error for a URL whose store this build leaves out (a cargo feature of the crate).
#[allow(dead_code)]
fn not_built(url: &StorageUrl, feature: &str) -> StorageError {
    StorageError::BadUrl {
        url: url.redacted(),
        problem: format!(
            "this build of hyperband has no `{feature}` store (cargo feature `{feature}`)"
        ),
    }
}

impl AnyStore {
    /// Opens the store `url` names (creating a SQLite file, or the schema on a server).
    pub fn open(url: &StorageUrl) -> Result<Self, StorageError> {
        Ok(match url {
            #[cfg(feature = "sqlite")]
            StorageUrl::Sqlite(path) => Self::Sqlite(SqliteStore::open(path)?),
            #[cfg(feature = "postgres")]
            StorageUrl::Postgres(url) => Self::Postgres(Box::new(PgStore::connect(url)?)),
            #[cfg(not(feature = "sqlite"))]
            StorageUrl::Sqlite(_) => return Err(not_built(url, "sqlite")),
            #[cfg(not(feature = "postgres"))]
            StorageUrl::Postgres(_) => return Err(not_built(url, "postgres")),
        })
    }

    /// Opens an existing store to read only (see [`SqliteStore::open_read_only`] and
    /// [`PgStore::connect_read_only`]): nothing is created, written or locked.
    pub fn open_read_only(url: &StorageUrl) -> Result<Self, StorageError> {
        Ok(match url {
            #[cfg(feature = "sqlite")]
            StorageUrl::Sqlite(path) => Self::Sqlite(SqliteStore::open_read_only(path)?),
            #[cfg(feature = "postgres")]
            StorageUrl::Postgres(url) => Self::Postgres(Box::new(PgStore::connect_read_only(url)?)),
            #[cfg(not(feature = "sqlite"))]
            StorageUrl::Sqlite(_) => return Err(not_built(url, "sqlite")),
            #[cfg(not(feature = "postgres"))]
            StorageUrl::Postgres(_) => return Err(not_built(url, "postgres")),
        })
    }

    /// The log after `seq`, and the results stored but not in the log yet, without
    /// moving anything (SQLite writes results straight into the log: none pending).
    pub fn peek_events(&mut self, study: i64, seq: u64) -> Result<PeekedEvents, StorageError> {
        match self {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite(s) => Ok(PeekedEvents {
                log: s.events_after(study, seq)?,
                pending: Vec::new(),
            }),
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(s) => s.peek_events(study, seq),
        }
    }

    /// The study's job leases, read without writing or locking: what a reader needs to
    /// tell a job whose worker still renews its lease from one whose worker died (its
    /// lease expired) before a worker declares it lost.
    pub fn peek_leases(&mut self, study: i64) -> Result<Vec<super::Lease>, StorageError> {
        match self {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite(s) => s.read_leases(study),
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(s) => s.peek_leases(study),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite($s) => $e,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres($s) => $e,
        }
    };
}

impl EventStore for AnyStore {
    fn open_study(
        &mut self,
        name: &str,
        spec: &serde_json::Value,
    ) -> Result<(i64, serde_json::Value), StorageError> {
        delegate!(self, s => s.open_study(name, spec))
    }

    fn find_study(&mut self, name: &str) -> Result<(i64, serde_json::Value), StorageError> {
        delegate!(self, s => s.find_study(name))
    }

    fn study_names(&mut self) -> Result<Vec<String>, StorageError> {
        delegate!(self, s => s.study_names())
    }

    fn locked<T>(
        &mut self,
        study: i64,
        after: u64,
        f: &mut UnderLock<'_, T>,
    ) -> Result<T, StorageError> {
        delegate!(self, s => s.locked(study, after, f))
    }

    fn ask(
        &mut self,
        study: i64,
        worker: &str,
        after: u64,
        report: Option<&super::Event>,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        delegate!(self, s => s.ask(study, worker, after, report))
    }

    fn ask_locked<T>(
        &mut self,
        study: i64,
        worker: &str,
        after: u64,
        f: &mut UnderLock<'_, T>,
    ) -> Result<super::Asked<T>, StorageError> {
        delegate!(self, s => s.ask_locked(study, worker, after, f))
    }

    fn append(&mut self, study: i64, event: &super::Event) -> Result<(), StorageError> {
        delegate!(self, s => s.append(study, event))
    }

    fn events_after(&mut self, study: i64, seq: u64) -> Result<Vec<StoredEvent>, StorageError> {
        delegate!(self, s => s.events_after(study, seq))
    }

    fn renew_lease(
        &mut self,
        study: i64,
        job: JobId,
        worker: &str,
        expires_at: f64,
    ) -> Result<(), StorageError> {
        delegate!(self, s => s.renew_lease(study, job, worker, expires_at))
    }
}
