//! The cluster store: one PostgreSQL database shared by workers on any number of machines.
//!
//! The same event log as [`SqliteStore`](super::SqliteStore), in tables of a dedicated
//! PostgreSQL schema (`hyperband` unless the URL says `?schema=NAME`), so that a shared
//! database gets one namespace and nothing else: `meta` (our marker and the schema
//! version), `studies`, `events(study, seq, at, kind, payload)`, `leases`, `inbox`,
//! `requests` and a few PL/pgSQL functions. All integers are BIGINT; payloads are the
//! events' JSON as TEXT (JSONB would reorder keys and reformat numbers).
//!
//! The study lock is a session-level advisory lock on (schema, study), taken by
//! `begin_round` and released by `end_round`, so that `seq = MAX + 1` is race-free and
//! decisions on one study are serialized while other studies proceed.
//!
//! With many workers the lock is the bottleneck, so a job costs as little of it as we can
//! make it (schema 2; `bench storage` measures it):
//! - Results do not take it. A worker's result goes into `inbox`, durably (the call waits
//!   for the WAL flush; concurrent results share flushes), in the same round trip as its
//!   request for the next job (`ask`, a row in `requests`) and its catch-up read of the log.
//!   The next decision (or a reader) moves the inbox into the log with `drain_inbox`,
//!   atomically, in the order the results were written.
//! - Decisions are combined. Whoever gets the lock decides for itself and then, while the
//!   scheduler has work, for every worker whose request is waiting, in the order they
//!   asked: the scheduler sees the same asks as if each had taken the lock in turn. A
//!   served worker finds its job in `requests` when it reaches the lock and leaves at once,
//!   inside the server. One round of the lock serves about a dozen jobs at 32 workers.
//! - A round is two round trips (lock + drain + read; the writes, commit and unlock) and
//!   commits with `synchronous_commit = off`: the lock is not held across a disk flush. A
//!   server crash can take back the last decisions, never a result (results are flushed
//!   before their call returns, and a drain that is taken back leaves them in the inbox).
//!   The storage module says how workers stay consistent when that happens.
//! - The writes of a round travel as one batch of SQL literals (strings with `'` doubled,
//!   floats in their shortest exact form, read back with `extra_float_digits = 3`), so
//!   the lock is held for one round trip after the decision, not one per statement.
//!
//! Schema creation and upgrades take another advisory lock so that many workers may start
//! at once. A schema with tables but without our marker is refused and left untouched; a
//! newer schema version is refused; an older one of ours is upgraded in place.
//!
//! Connection loss (a database restart, a killed backend, a network cut) marks the client
//! broken; the next call reconnects, retrying with backoff for [`DEFAULT_RETRY_WINDOW`].
//! Calls that cannot have changed anything (reads, taking the lock) are retried
//! transparently; a commit whose reply was lost is checked against the log after
//! reconnecting, so it is neither lost nor written twice. A session that dies releases the
//! study lock with it. The password never appears in
//! messages: they name the URL with `***` in its place.

use super::codec::{checksum, decode, name_study};
use super::url::{redact, split_schema, DEFAULT_SCHEMA};
use super::{
    Asked, Event, EventStore, Lease, LockedLog, PeekedEvents, StorageError, StoredEvent, UnderLock,
};
use crate::job::JobId;
use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};
use std::time::{Duration, Instant};

/// The schema this binary writes; a database with a newer one is refused.
/// 1: events, leases, a row lock. 2: the results inbox, combined requests and an advisory
/// lock. 3: each event's checksum (`events.crc`, `inbox.crc`; events written before have
/// none and are read as they are). An older database is upgraded in place by the first
/// writer; a read-only reader reads schemas 1 to 3 as they are.
const SCHEMA_VERSION: i64 = 3;
/// Marks a PostgreSQL schema as ours.
const APPLICATION: &str = "hyperband";
/// The advisory lock key that serializes schema creation ('HYBD').
const INIT_LOCK: i64 = 0x4859_4244;
/// How long a call keeps reconnecting after the connection was lost.
pub const DEFAULT_RETRY_WINDOW: Duration = Duration::from_secs(15);

/// The schema's statements; `s` is its quoted name, `raw` the name itself.
fn schema_sql(s: &str, raw: &str) -> String {
    // The study lock: a session-level advisory lock on (schema, study), so that a worker
    // whose job another worker's decision already served can release it inside the
    // server, without a round trip to its client. Keys of two schemas may collide; that
    // only serializes two studies, never breaks one.
    let key = format!("hashtext('{raw}'), p_study::int4");
    format!(
        "
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.studies (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    spec TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.events (
    study BIGINT NOT NULL REFERENCES {s}.studies(id),
    seq BIGINT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (study, seq)
);
-- Schema 3: `event::checksum(payload)`, computed by the writer; NULL for older events.
ALTER TABLE {s}.events ADD COLUMN IF NOT EXISTS crc BIGINT;
CREATE TABLE IF NOT EXISTS {s}.leases (
    study BIGINT NOT NULL,
    job BIGINT NOT NULL,
    worker TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (study, job)
);
-- Schema 2: results wait here, outside the study lock, until a decision (or a reader) moves
-- them into the log. No foreign key: checking one would share-lock the study row.
CREATE TABLE IF NOT EXISTS {s}.inbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study BIGINT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    job BIGINT NOT NULL,
    worker TEXT
);
ALTER TABLE {s}.inbox ADD COLUMN IF NOT EXISTS crc BIGINT;
CREATE INDEX IF NOT EXISTS inbox_by_study ON {s}.inbox (study, id);
-- Moves a study's waiting results into its log, in the order they were written, and drops
-- the leases they end (only the reporting worker's own: a job re-issued to another worker
-- keeps its new lease). Takes the study lock (a no-op for a decision that holds it). Each
-- statement of a volatile function takes a fresh snapshot, so MAX(seq) is read after the
-- lock is held, and a result committed after the DELETE's snapshot simply waits for the
-- next call: the DELETE is what consumes, so none is skipped or moved twice.
CREATE OR REPLACE FUNCTION {s}.drain_inbox(p_study BIGINT) RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    last_seq BIGINT;
    moved BIGINT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {s}.inbox WHERE study = p_study) THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock({key});
    SELECT COALESCE(MAX(seq), 0) INTO last_seq FROM {s}.events WHERE study = p_study;
    WITH taken AS (
        DELETE FROM {s}.inbox WHERE study = p_study
        RETURNING id, at, kind, payload, job, worker, crc
    ), numbered AS (
        SELECT last_seq + row_number() OVER (ORDER BY id) AS seq, * FROM taken
    ), dropped AS (
        DELETE FROM {s}.leases l USING numbered n
        WHERE l.study = p_study AND l.job = n.job AND (n.worker IS NULL OR l.worker = n.worker)
    ), inserted AS (
        INSERT INTO {s}.events (study, seq, at, kind, payload, crc)
        SELECT p_study, seq, at, kind, payload, crc FROM numbered
        RETURNING 1
    )
    SELECT count(*) INTO moved FROM inserted;
    RETURN moved;
END
$fn$;
-- Workers asking for a job. A worker registers here before it waits for the study lock,
-- so that whoever holds the lock decides for it too: one decision round serves every
-- worker that was waiting, and each of them only passes through the lock to pick up its
-- job. One row per worker, updated in place.
CREATE TABLE IF NOT EXISTS {s}.requests (
    study BIGINT NOT NULL,
    worker TEXT NOT NULL,
    asked_at DOUBLE PRECISION NOT NULL,
    waiting BOOLEAN NOT NULL,
    -- The `JobIssued` payload a decision gave this worker, until it asks again.
    assigned TEXT,
    PRIMARY KEY (study, worker)
);
-- A worker's one round trip between two jobs: store its last result (durably, so that
-- the call waits for the flush), ask for a job, and read the log after p_after. (Schema 3
-- added the checksum to its arguments and rows: the old one goes.)
DROP FUNCTION IF EXISTS {s}.ask(BIGINT, TEXT, DOUBLE PRECISION, BIGINT, TEXT, TEXT, BIGINT);
CREATE OR REPLACE FUNCTION {s}.ask(
    p_study BIGINT, p_worker TEXT, p_at DOUBLE PRECISION, p_after BIGINT,
    p_kind TEXT, p_payload TEXT, p_job BIGINT, p_crc BIGINT
) RETURNS TABLE (seq BIGINT, at DOUBLE PRECISION, payload TEXT, crc BIGINT)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
BEGIN
    IF p_payload IS NULL THEN
        -- Nothing else here needs to survive a crash: a lost request is asked again.
        PERFORM set_config('synchronous_commit', 'off', true);
    ELSE
        INSERT INTO {s}.inbox (study, at, kind, payload, job, worker, crc)
            VALUES (p_study, p_at, p_kind, p_payload, p_job, p_worker, p_crc);
    END IF;
    INSERT INTO {s}.requests (study, worker, asked_at, waiting, assigned)
        VALUES (p_study, p_worker, p_at, true, NULL)
        ON CONFLICT (study, worker)
        DO UPDATE SET asked_at = EXCLUDED.asked_at, waiting = true, assigned = NULL;
    RETURN QUERY SELECT e.seq, e.at, e.payload, e.crc FROM {s}.events e
        WHERE e.study = p_study AND e.seq > p_after ORDER BY e.seq;
END
$fn$;
-- A decision round's first round trip, outside any transaction block (the lock belongs to
-- the session): commit lazily (module doc); if p_worker asked and a decision already
-- served it, return ('assigned', its JobIssued) and leave the lock alone. Otherwise take
-- the study lock (held until end_round), move the waiting results into the log and return the events after p_after ('event'), the other workers waiting
-- for a job in the order they asked ('waiting', worker in payload), then ('last',
-- MAX(seq)) so that the caller numbers its appends without asking again.
DROP FUNCTION IF EXISTS {s}.begin_round(BIGINT, BIGINT, TEXT);
CREATE OR REPLACE FUNCTION {s}.begin_round(p_study BIGINT, p_after BIGINT, p_worker TEXT)
RETURNS TABLE (kind TEXT, seq BIGINT, at DOUBLE PRECISION, payload TEXT, crc BIGINT)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
    job TEXT;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    IF p_worker IS NOT NULL THEN
        SELECT r.assigned INTO job FROM {s}.requests r
            WHERE r.study = p_study AND r.worker = p_worker;
        IF job IS NOT NULL THEN
            RETURN QUERY SELECT 'assigned'::TEXT, NULL::BIGINT, NULL::DOUBLE PRECISION, job, NULL::BIGINT;
            RETURN;
        END IF;
    END IF;
    PERFORM pg_advisory_lock({key});
    IF p_worker IS NOT NULL THEN
        -- Served while we waited: each statement sees what committed before it began.
        SELECT r.assigned INTO job FROM {s}.requests r
            WHERE r.study = p_study AND r.worker = p_worker;
        IF job IS NOT NULL THEN
            PERFORM pg_advisory_unlock({key});
            RETURN QUERY SELECT 'assigned'::TEXT, NULL::BIGINT, NULL::DOUBLE PRECISION, job, NULL::BIGINT;
            RETURN;
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM {s}.studies WHERE id = p_study) THEN
        PERFORM pg_advisory_unlock({key});
        RAISE EXCEPTION 'no study with id %', p_study USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM {s}.drain_inbox(p_study);
    RETURN QUERY SELECT 'event'::TEXT, e.seq, e.at, e.payload, e.crc FROM {s}.events e
        WHERE e.study = p_study AND e.seq > p_after ORDER BY e.seq;
    RETURN QUERY SELECT 'waiting'::TEXT, NULL::BIGINT, r.asked_at, r.worker, NULL::BIGINT
        FROM {s}.requests r
        WHERE r.study = p_study AND r.waiting AND r.worker IS DISTINCT FROM p_worker
        ORDER BY r.asked_at, r.worker;
    RETURN QUERY SELECT 'last'::TEXT, COALESCE(MAX(e.seq), 0), NULL::DOUBLE PRECISION, NULL::TEXT,
        NULL::BIGINT FROM {s}.events e WHERE e.study = p_study;
END
$fn$;
CREATE OR REPLACE FUNCTION {s}.end_round(p_study BIGINT) RETURNS BOOLEAN
LANGUAGE sql VOLATILE AS $fn$ SELECT pg_advisory_unlock({key}) $fn$;
DROP FUNCTION IF EXISTS {s}.append_event(BIGINT, DOUBLE PRECISION, TEXT, TEXT, BIGINT);
INSERT INTO {s}.meta (key, value) VALUES
    ('application', '{APPLICATION}'), ('schema_version', '{SCHEMA_VERSION}')
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
    WHERE {s}.meta.key = 'schema_version';
"
    )
}

/// One connection to a PostgreSQL store (reconnected as needed).
pub struct PgStore {
    /// The URL as given, password included, without our `schema` parameter.
    url: String,
    /// The URL for messages: password hidden, schema shown.
    shown: String,
    /// The schema's name, double-quoted for SQL.
    quoted: String,
    schema: String,
    conn: Option<Conn>,
    retry_window: Duration,
    /// Opened by [`connect_read_only`](PgStore::connect_read_only): the server refuses
    /// this session's writes, and reads leave the results inbox as it is.
    read_only: bool,
    /// The schema's version: [`SCHEMA_VERSION`] once a writer has checked (and upgraded)
    /// it; as found for a read-only reader, which reads what that version has.
    version: i64,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.shown)
    }
}

/// A live client with the statements the hot paths use, prepared once per connection.
struct Conn {
    client: Client,
    read_events: Statement,
    leases: Statement,
    renew_lease: Statement,
    /// The inbox's writes: none on a read-only connection, whose schema may be older.
    writes: Option<InboxWrites>,
}

struct InboxWrites {
    post_result: Statement,
    drain_inbox: Statement,
}

/// Why one attempt failed: the database (maybe retried) or our own verdict (never retried).
enum Fail {
    Pg(postgres::Error),
    Store(StorageError),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Pg(e)
    }
}

impl From<StorageError> for Fail {
    fn from(e: StorageError) -> Self {
        Fail::Store(e)
    }
}

/// A database error as a [`StorageError`]. (`StorageError` has no PostgreSQL variant yet;
/// this is the one place to change when it gets one.)
fn pg_err(shown: &str, context: &str, e: &postgres::Error) -> StorageError {
    let text = match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text = format!("{text}: {detail}");
            }
            text
        }
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    };
    StorageError::Server {
        store: shown.to_string(),
        problem: format!("{context}: {text}"),
    }
}

/// True when `e` means the connection is gone (not that a statement was wrong).
fn connection_lost(e: &postgres::Error, client: Option<&Client>) -> bool {
    if e.is_closed() || client.is_some_and(|c| c.is_closed()) {
        return true;
    }
    match e.code() {
        Some(code) => {
            code.code().starts_with("08")
                || [
                    SqlState::ADMIN_SHUTDOWN,
                    SqlState::CRASH_SHUTDOWN,
                    SqlState::CANNOT_CONNECT_NOW,
                ]
                .contains(code)
        }
        None => {
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                if s.is::<std::io::Error>() {
                    return true;
                }
                source = s.source();
            }
            false
        }
    }
}

/// Rows of (seq, at, payload, crc) as events (the study named `#id` in errors: see
/// [`PgStore::name_study`]).
fn parse_events(study: i64, rows: Vec<postgres::Row>) -> Result<Vec<StoredEvent>, StorageError> {
    rows.into_iter()
        .map(|row| {
            let seq = row.get::<_, i64>(0) as u64;
            let event = decode(row.get(2), row.get(3), &format!("#{study}"), seq)?;
            Ok(StoredEvent {
                seq,
                at: row.get(1),
                event,
            })
        })
        .collect()
}

impl PgStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME]`),
    /// creating our schema if it does not exist yet. A schema of another program is refused
    /// untouched, and so is one written by a newer hyperband.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        let (url, schema) = split_schema(url);
        Self::connect_in(&url, schema.as_deref().unwrap_or(DEFAULT_SCHEMA))
    }

    /// Like [`connect`](Self::connect), with the tables in `schema` (letters, digits, `_`).
    pub fn connect_in(url: &str, schema: &str) -> Result<Self, StorageError> {
        let mut store = Self::unconnected(url, schema)?;
        let client = store.open_client(Instant::now() + Duration::from_secs(5), false)?;
        store.check_and_init(client)?;
        Ok(store)
    }

    /// Connects to an existing store to read it only (the read commands, the dashboard):
    /// the session is read-only on the server (`default_transaction_read_only`), the
    /// schema is neither created nor upgraded (an older one is read as it is), the study
    /// lock is never taken, and
    /// [`events_after`](EventStore::events_after) leaves the results inbox alone (see
    /// [`peek_events`](Self::peek_events) for the results still there).
    pub fn connect_read_only(url: &str) -> Result<Self, StorageError> {
        let (url, schema) = split_schema(url);
        let mut store = Self::unconnected(&url, schema.as_deref().unwrap_or(DEFAULT_SCHEMA))?;
        store.read_only = true;
        let mut client = store.open_client(Instant::now() + Duration::from_secs(5), false)?;
        let foreign = |problem: String| StorageError::Foreign {
            path: store.shown.clone(),
            problem,
        };
        match store.schema_state(&mut client)? {
            None => {
                return Err(foreign(format!(
                    "no hyperband schema `{}` here (no study was run in it)",
                    store.schema
                )))
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(StorageError::NewerSchema {
                    path: store.shown.clone(),
                    found: v,
                    known: SCHEMA_VERSION,
                })
            }
            // An older schema is read as it is: upgrading is a write, left to `run`.
            Some(v) => store.version = v,
        }
        let conn = store
            .prepare(client)
            .map_err(|e| pg_err(&store.shown, "cannot prepare statements", &e))?;
        store.conn = Some(conn);
        Ok(store)
    }

    /// The study's leases, read without the study lock and without writing (see
    /// [`AnyStore::peek_leases`](super::AnyStore::peek_leases)).
    pub fn peek_leases(&mut self, study: i64) -> Result<Vec<Lease>, StorageError> {
        let rows = self.run("cannot read leases", |c| {
            Ok(c.client.query(&c.leases, &[&study])?)
        })?;
        Ok(rows
            .iter()
            .map(|r| Lease {
                job: JobId(r.get::<_, i64>(0) as u64),
                worker: r.get(1),
                expires_at: r.get(2),
            })
            .collect())
    }

    /// The log after `seq` and, apart, the results still waiting in the inbox, from one
    /// consistent snapshot, without moving them (a read, unlike
    /// [`events_after`](EventStore::events_after) on a writable store). The waiting
    /// results are numbered after the log's last event, as the next drain would number
    /// them: the log holds them in that order once drained.
    pub fn peek_events(&mut self, study: i64, seq: u64) -> Result<PeekedEvents, StorageError> {
        let s = self.quoted.clone();
        // Schema 1 has no inbox; schema 2 no checksums.
        let crc = if self.version >= 3 {
            "crc"
        } else {
            "NULL::BIGINT"
        };
        let pending_sql = (self.version >= 2).then(|| {
            format!(
                "SELECT (SELECT COALESCE(MAX(seq), 0) FROM {s}.events WHERE study = $1)
                        + row_number() OVER (ORDER BY id), at, payload, {crc}
                 FROM {s}.inbox WHERE study = $1 ORDER BY id"
            )
        });
        let (log, pending) = self.run("cannot read events", |c| {
            let mut tx = c
                .client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let log = tx.query(
                &c.read_events,
                &[&study, &(seq.min(i64::MAX as u64) as i64)],
            )?;
            let pending = match &pending_sql {
                Some(sql) => tx.query(sql, &[&study])?,
                None => Vec::new(),
            };
            tx.commit()?;
            Ok((log, pending))
        })?;
        let peeked = parse_events(study, log).and_then(|log| {
            Ok(PeekedEvents {
                log,
                pending: parse_events(study, pending)?,
            })
        });
        peeked.map_err(|e| self.name_study(e, study))
    }

    /// `error` about an event of `study` with the study named, when the store says its name.
    fn name_study(&mut self, error: StorageError, study: i64) -> StorageError {
        let s = self.quoted.clone();
        name_study(error, study, || {
            self.run("cannot read studies", |c| {
                Ok(c.client.query_opt(
                    &format!("SELECT name FROM {s}.studies WHERE id = $1"),
                    &[&study],
                )?)
            })
            .ok()
            .flatten()
            .map(|r| r.get(0))
        })
    }

    /// The store, checked and named, not connected yet.
    fn unconnected(url: &str, schema: &str) -> Result<Self, StorageError> {
        let (url, _) = split_schema(url);
        let redacted = redact(&url);
        let shown = format!(
            "{redacted}{}schema={schema}",
            if redacted.contains('?') { '&' } else { '?' }
        );
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !schema.starts_with(|c: char| c.is_ascii_digit())
            && !schema.starts_with("pg_");
        if !valid {
            return Err(StorageError::BadUrl {
                url: shown,
                problem: "the schema name must be letters, digits and `_`, not starting with a digit or `pg_`".into(),
            });
        }
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(StorageError::BadUrl {
                url: redacted,
                problem: "expected `postgres://USER@HOST/DATABASE`".into(),
            });
        }
        Ok(Self {
            url,
            shown,
            quoted: format!("\"{schema}\""),
            schema: schema.to_string(),
            conn: None,
            retry_window: DEFAULT_RETRY_WINDOW,
            read_only: false,
            version: SCHEMA_VERSION,
        })
    }

    /// How long a call keeps reconnecting after the connection was lost.
    pub fn with_retry_window(mut self, window: Duration) -> Self {
        self.retry_window = window;
        self
    }

    /// The URL for messages: password hidden, schema named.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The server process of the current connection (`pg_backend_pid()`), connecting first
    /// if needed: for operators and fault-injection tests.
    pub fn backend_pid(&mut self) -> Result<i32, StorageError> {
        self.run("cannot query the server", |c| {
            Ok(c.client.query_one("SELECT pg_backend_pid()", &[])?.get(0))
        })
    }

    /// A client, trying until `deadline` when `persist` (after a lost connection; the
    /// server may be restarting), else only while the server says it is starting up.
    fn open_client(&self, deadline: Instant, persist: bool) -> Result<Client, StorageError> {
        let mut config: postgres::Config =
            self.url
                .parse()
                .map_err(|e: postgres::Error| StorageError::BadUrl {
                    url: self.shown.clone(),
                    problem: e.to_string(),
                })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("hyperband");
        }
        let mut backoff = Duration::from_millis(20);
        loop {
            match config.connect(NoTls) {
                Ok(client) => return Ok(client),
                Err(e) => {
                    let transient = e.code() == Some(&SqlState::CANNOT_CONNECT_NOW)
                        || (persist && connection_lost(&e, None))
                        || (persist && e.as_db_error().is_none());
                    if !transient || Instant::now() + backoff > deadline {
                        return Err(pg_err(&self.shown, "cannot connect", &e));
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
            }
        }
    }

    fn prepare(&self, mut client: Client) -> Result<Conn, postgres::Error> {
        // Decisions travel as text (simple queries, one round trip each way): floats must
        // print exactly, and literals are written for standard-conforming strings.
        client.batch_execute("SET extra_float_digits = 3; SET standard_conforming_strings = on")?;
        if self.read_only {
            client.batch_execute("SET default_transaction_read_only = on")?;
        }
        let s = &self.quoted;
        let crc = if self.version >= 3 {
            "crc"
        } else {
            "NULL::BIGINT"
        };
        let read_events = client.prepare(&format!(
            "SELECT seq, at, payload, {crc} FROM {s}.events WHERE study = $1 AND seq > $2 ORDER BY seq"
        ))?;
        let leases = client.prepare(&format!(
            "SELECT job, worker, expires_at FROM {s}.leases WHERE study = $1 ORDER BY job"
        ))?;
        let renew_lease = client.prepare(&format!(
            "UPDATE {s}.leases SET expires_at = $4 WHERE study = $1 AND job = $2 AND worker = $3"
        ))?;
        let writes = if self.read_only {
            None
        } else {
            Some(InboxWrites {
                post_result: client.prepare(&format!(
                    "INSERT INTO {s}.inbox (study, at, kind, payload, job, worker, crc)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ))?,
                drain_inbox: client.prepare(&format!("SELECT {s}.drain_inbox($1)"))?,
            })
        };
        Ok(Conn {
            client,
            read_events,
            leases,
            renew_lease,
            writes,
        })
    }

    /// Checks that the schema is ours and not newer, creating it if it does not exist.
    fn check_and_init(&mut self, mut client: Client) -> Result<(), StorageError> {
        let shown = self.shown.clone();
        let err = |context: &str| {
            let shown = shown.clone();
            let context = context.to_string();
            move |e: postgres::Error| pg_err(&shown, &context, &e)
        };
        let mut state = self.schema_state(&mut client)?;
        if state.is_none_or(|version| version < SCHEMA_VERSION) {
            // Nothing of ours or anybody's, or ours but older: create or upgrade it (every
            // statement is idempotent), one worker at a time.
            let mut tx = client
                .transaction()
                .map_err(err("cannot create the schema"))?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&INIT_LOCK])
                .map_err(err("cannot lock the schema"))?;
            let tables =
                Self::tables(&mut tx, &self.schema).map_err(err("cannot read the catalog"))?;
            // Checked again under the lock: another worker may have done it meanwhile, and
            // a foreign schema that appeared since must not be touched.
            if tables.is_empty()
                || self
                    .schema_state_in(&mut tx, &tables)?
                    .is_some_and(|v| v < SCHEMA_VERSION)
            {
                tx.batch_execute(&schema_sql(&self.quoted, &self.schema))
                    .map_err(err("cannot create the schema"))?;
            }
            tx.commit().map_err(err("cannot create the schema"))?;
            state = self.schema_state(&mut client)?;
        }
        let Some(version) = state else {
            return Err(StorageError::Foreign {
                path: shown,
                problem: "the schema vanished while it was being created".into(),
            });
        };
        if version > SCHEMA_VERSION {
            return Err(StorageError::NewerSchema {
                path: shown,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        let conn = self
            .prepare(client)
            .map_err(err("cannot prepare statements"))?;
        self.conn = Some(conn);
        Ok(())
    }

    fn tables(
        client: &mut impl postgres::GenericClient,
        schema: &str,
    ) -> Result<Vec<String>, postgres::Error> {
        Ok(client
            .query(
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
                &[&schema],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// None when the schema has no tables; the schema version when it is ours.
    fn schema_state(&self, client: &mut Client) -> Result<Option<i64>, StorageError> {
        let tables = Self::tables(client, &self.schema)
            .map_err(|e| pg_err(&self.shown, "cannot read the catalog", &e))?;
        self.schema_state_in(client, &tables)
    }

    /// [`schema_state`](Self::schema_state) of a schema holding `tables`.
    fn schema_state_in(
        &self,
        client: &mut impl postgres::GenericClient,
        tables: &[String],
    ) -> Result<Option<i64>, StorageError> {
        let shown = &self.shown;
        let foreign = |problem: String| StorageError::Foreign {
            path: shown.clone(),
            problem,
        };
        if tables.is_empty() {
            return Ok(None);
        }
        let not_ours = || {
            foreign(format!(
                "not a hyperband database: schema `{}` holds tables of another program ({}); it was left untouched",
                self.schema,
                tables.join(", ")
            ))
        };
        if !tables.iter().any(|t| t == "meta") {
            return Err(not_ours());
        }
        let rows = client
            .query(
                &format!(
                    "SELECT key::text, value::text FROM {}.meta WHERE key IN ('application', 'schema_version')",
                    self.quoted
                ),
                &[],
            )
            .map_err(|_| not_ours())?;
        let value = |key: &str| {
            rows.iter()
                .find(|r| r.get::<_, &str>(0) == key)
                .map(|r| r.get::<_, String>(1))
        };
        if value("application").as_deref() != Some(APPLICATION) {
            return Err(not_ours());
        }
        let version = value("schema_version")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                foreign("hyperband schema without a schema version (corrupt?)".into())
            })?;
        Ok(Some(version))
    }

    /// The live connection, reconnecting (with retries) if it was lost.
    fn conn(&mut self) -> Result<&mut Conn, StorageError> {
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.conn = None;
        }
        if self.conn.is_none() {
            let deadline = Instant::now() + self.retry_window;
            let mut backoff = Duration::from_millis(20);
            loop {
                let client = self.open_client(deadline, true)?;
                match self.prepare(client) {
                    Ok(conn) => {
                        self.conn = Some(conn);
                        break;
                    }
                    // Lost again while preparing: the server may still be going down.
                    Err(e) if connection_lost(&e, None) && Instant::now() + backoff < deadline => {
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_millis(500));
                    }
                    Err(e) => return Err(pg_err(&self.shown, "cannot prepare statements", &e)),
                }
            }
        }
        Ok(self.conn.as_mut().expect("just connected"))
    }

    /// Runs `op`, again on a fresh connection if the connection was lost, for up to the
    /// retry window. Only for operations that are safe to repeat.
    fn run<T>(
        &mut self,
        context: &str,
        mut op: impl FnMut(&mut Conn) -> Result<T, Fail>,
    ) -> Result<T, StorageError> {
        let deadline = Instant::now() + self.retry_window;
        let mut backoff = Duration::from_millis(20);
        loop {
            let conn = self.conn()?;
            match op(conn) {
                Ok(v) => return Ok(v),
                Err(Fail::Store(e)) => return Err(e),
                Err(Fail::Pg(e)) => {
                    let lost = connection_lost(&e, Some(&conn.client));
                    if lost {
                        self.conn = None;
                    }
                    if !lost || Instant::now() + backoff > deadline {
                        return Err(pg_err(&self.shown, context, &e));
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
            }
        }
    }

    /// After a commit whose reply was lost: whether the log holds exactly `written` (the
    /// `(seq, payload)` of each event the transaction appended).
    fn committed(&mut self, study: i64, written: &[(i64, String)]) -> Result<bool, StorageError> {
        let (Some(first), Some(last)) = (written.first(), written.last()) else {
            return Ok(false);
        };
        let s = self.quoted.clone();
        let stored: Vec<(i64, String)> = self.run("cannot check a commit", |c| {
            Ok(c.client
                .query(
                    &format!(
                        "SELECT seq, payload FROM {s}.events WHERE study = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq"
                    ),
                    &[&study, &first.0, &last.0],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect())
        })?;
        Ok(stored == written)
    }

    /// Ends the open transaction, if any; a failure means the connection is unusable.
    /// Also releases the study lock, which is held by the session, not the transaction.
    fn rollback(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            if conn
                .client
                .batch_execute("ROLLBACK; SELECT pg_advisory_unlock_all()")
                .is_err()
            {
                self.conn = None;
            }
        }
    }
}

struct Locked<'a> {
    conn: &'a mut Conn,
    shown: &'a str,
    /// The schema, quoted.
    schema: &'a str,
    study: i64,
    /// The sequence number the next append gets (the lock makes it ours).
    next_seq: i64,
    /// Other workers waiting for a job, in the order they asked.
    waiting: Vec<String>,
    /// Writes held back to travel with the next read or the commit.
    pending: String,
    /// What this transaction appended, to check a commit whose reply was lost.
    written: Vec<(i64, String)>,
}

/// `text` as an SQL string literal (standard-conforming strings: only `'` is special; JSON
/// never holds a NUL).
fn text_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A finite float as an exact SQL literal (Rust prints the shortest round-trip form).
fn float_literal(x: f64) -> String {
    format!("'{x:?}'::float8")
}

impl Locked<'_> {
    /// Sends the held-back writes now (before a read that must see them).
    fn flush(&mut self) -> Result<(), StorageError> {
        if !self.pending.is_empty() {
            let sql = std::mem::take(&mut self.pending);
            self.conn
                .client
                .batch_execute(&sql)
                .map_err(|e| pg_err(self.shown, "cannot append an event", &e))?;
        }
        Ok(())
    }

    fn push_lease(&mut self, lease: &Lease) {
        let s = self.schema;
        self.pending.push_str(&format!(
            "INSERT INTO {s}.leases (study, job, worker, expires_at) VALUES ({}, {}, {}, {})
             ON CONFLICT (study, job)
             DO UPDATE SET worker = EXCLUDED.worker, expires_at = EXCLUDED.expires_at;\n",
            self.study,
            lease.job.0 as i64,
            text_literal(&lease.worker),
            float_literal(lease.expires_at)
        ));
    }
}

impl LockedLog for Locked<'_> {
    fn append(&mut self, event: &Event, at: f64) -> Result<u64, StorageError> {
        let s = self.schema;
        let payload = serde_json::to_string(event).expect("events serialize");
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_str(&format!(
            "INSERT INTO {s}.events (study, seq, at, kind, payload, crc) VALUES ({}, {seq}, {}, '{}', {}, {});\n",
            self.study,
            float_literal(at),
            event.kind(),
            text_literal(&payload),
            checksum(&payload)
        ));
        if let Some(job) = event.ends_job() {
            self.pending.push_str(&format!(
                "DELETE FROM {s}.leases WHERE study = {} AND job = {};\n",
                self.study, job.0 as i64
            ));
        }
        self.written.push((seq, payload));
        Ok(seq as u64)
    }

    fn issue(&mut self, event: &Event, at: f64, lease: &Lease) -> Result<u64, StorageError> {
        let seq = self.append(event, at)?;
        self.push_lease(lease);
        Ok(seq)
    }

    fn leases(&mut self) -> Result<Vec<Lease>, StorageError> {
        self.flush()?;
        let rows = self
            .conn
            .client
            .query(&self.conn.leases, &[&self.study])
            .map_err(|e| pg_err(self.shown, "cannot read leases", &e))?;
        Ok(rows
            .iter()
            .map(|r| Lease {
                job: JobId(r.get::<_, i64>(0) as u64),
                worker: r.get(1),
                expires_at: r.get(2),
            })
            .collect())
    }

    fn put_lease(&mut self, lease: &Lease) -> Result<(), StorageError> {
        self.push_lease(lease);
        Ok(())
    }

    fn waiting(&self) -> &[String] {
        &self.waiting
    }

    fn serve(&mut self, event: &Event, at: f64, lease: &Lease) -> Result<u64, StorageError> {
        let seq = self.issue(event, at, lease)?;
        let payload = &self.written.last().expect("just issued").1;
        let sql = format!(
            "UPDATE {}.requests SET waiting = false, assigned = {} WHERE study = {} AND worker = {};\n",
            self.schema,
            text_literal(payload),
            self.study,
            text_literal(&lease.worker)
        );
        self.pending.push_str(&sql);
        Ok(seq)
    }
}

/// Whether a result written at `at` is in the inbox or already in the log.
fn stored(
    client: &mut Client,
    s: &str,
    study: i64,
    at: f64,
    payload: &str,
) -> Result<bool, postgres::Error> {
    Ok(client
        .query_opt(
            &format!(
                "SELECT 1 FROM {s}.inbox WHERE study = $1 AND at = $2 AND payload = $3
                 UNION ALL
                 SELECT 1 FROM {s}.events WHERE study = $1 AND at = $2 AND payload = $3
                 LIMIT 1"
            ),
            &[&study, &at, &payload],
        )?
        .is_some())
}

/// Rows of (seq, at, payload) as events.
fn event_rows(
    study: i64,
    messages: &[postgres::SimpleQueryMessage],
) -> Result<Vec<StoredEvent>, StorageError> {
    messages
        .iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(text_event(study, row, 0)),
            _ => None,
        })
        .collect()
}

/// The event in text columns `first` to `first + 3` (seq, at, payload, crc) of a
/// simple-query row.
fn text_event(
    study: i64,
    row: &postgres::SimpleQueryRow,
    first: usize,
) -> Result<StoredEvent, StorageError> {
    let corrupt = |seq: u64, problem: String| StorageError::CorruptEvent {
        name: format!("#{study}"),
        seq,
        problem,
    };
    let seq: u64 = row
        .get(first)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt(0, "an event without a sequence number".into()))?;
    let at = row
        .get(first + 1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt(seq, "an event without a time".into()))?;
    let crc = match row.get(first + 3) {
        None => None,
        Some(text) => Some(
            text.parse()
                .map_err(|_| corrupt(seq, format!("an unreadable checksum `{text}`")))?,
        ),
    };
    let event = decode(
        row.get(first + 2).unwrap_or_default(),
        crc,
        &format!("#{study}"),
        seq,
    )?;
    Ok(StoredEvent { seq, at, event })
}

/// What `begin_round` returned.
enum Round {
    /// Another worker's decision served this one: its `JobIssued`.
    Assigned(Event),
    /// This worker holds the lock: the new events, the other workers waiting for a job,
    /// and the log's last sequence number.
    Decide {
        events: Vec<StoredEvent>,
        waiting: Vec<String>,
        last: i64,
    },
}

fn round_rows(
    study: i64,
    shown: &str,
    messages: &[postgres::SimpleQueryMessage],
) -> Result<Round, StorageError> {
    let unreadable = |problem: String| StorageError::Server {
        store: shown.to_string(),
        problem: format!("cannot read the log: {problem}"),
    };
    let mut events = Vec::new();
    let mut waiting = Vec::new();
    let mut last = None;
    for message in messages {
        let postgres::SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let payload = row.get(3).unwrap_or_default();
        match row.get(0) {
            Some("assigned") => {
                let event =
                    serde_json::from_str(payload).map_err(|e| StorageError::CorruptEvent {
                        name: format!("#{study}"),
                        seq: 0,
                        problem: format!("the job assigned to this worker: {e}"),
                    })?;
                return Ok(Round::Assigned(event));
            }
            Some("event") => events.push(text_event(study, row, 1)?),
            Some("waiting") => waiting.push(payload.to_string()),
            Some("last") => {
                let seq = row.get(1).and_then(|v| v.parse().ok());
                last = Some(seq.ok_or_else(|| unreadable("a last row without a number".into()))?);
            }
            other => return Err(unreadable(format!("unexpected row kind {other:?}"))),
        }
    }
    Ok(Round::Decide {
        events,
        waiting,
        last: last.ok_or_else(|| unreadable("no last sequence number".into()))?,
    })
}

impl PgStore {
    /// One decision round, as `worker` asking for a job (`None`: a plain locked section).
    fn round<T>(
        &mut self,
        study: i64,
        worker: Option<&str>,
        after: u64,
        f: &mut UnderLock<'_, T>,
    ) -> Result<Asked<T>, StorageError> {
        let s = self.quoted.clone();
        // The lock (or the job a decision gave us), the drain of waiting results and the
        // read in one round trip, in no transaction block: the lock is the session's, so
        // a worker that was served leaves without another round trip. Nothing a retry could
        // repeat wrongly has happened if it fails (a drain is atomic).
        let after = after.min(i64::MAX as u64);
        let who = worker.map_or("NULL".to_string(), text_literal);
        let begin = format!("SELECT * FROM {s}.begin_round({study}, {after}, {who})");
        let messages = self.run("cannot lock the study", |c| {
            c.client.simple_query(&begin).map_err(|e| {
                let _ = c.client.batch_execute("SELECT pg_advisory_unlock_all()");
                if e.code() == Some(&SqlState::NO_DATA_FOUND) {
                    Fail::Store(StorageError::NoSuchStudy(format!("#{study}")))
                } else {
                    Fail::Pg(e)
                }
            })
        })?;
        let shown = self.shown.clone();
        let (events, waiting, last) =
            match round_rows(study, &shown, &messages).map_err(|e| self.name_study(e, study)) {
                Ok(Round::Decide {
                    events,
                    waiting,
                    last,
                }) => (events, waiting, last),
                // The lock was never ours, or was released in the server.
                Ok(Round::Assigned(event)) => return Ok(Asked::Served(event)),
                Err(e) => {
                    self.rollback();
                    return Err(e);
                }
            };
        let conn = self.conn.as_mut().expect("locked above");
        let mut log = Locked {
            conn,
            shown: &shown,
            schema: &s,
            study,
            next_seq: last + 1,
            waiting,
            pending: String::new(),
            written: Vec::new(),
        };
        let result = f(&mut log, events);
        let written = std::mem::take(&mut log.written);
        let mut pending = std::mem::take(&mut log.pending);
        let value = match result {
            Ok(value) => value,
            Err(e) => {
                self.rollback();
                return Err(e);
            }
        };
        if let Some(worker) = worker {
            // This round answered its own worker, whatever the answer.
            pending.push_str(&format!(
                "UPDATE {s}.requests SET waiting = false WHERE study = {study} AND worker = {};\n",
                text_literal(worker)
            ));
        }
        // The held-back writes, atomically, and the unlock in one round trip.
        let pending = format!("BEGIN;\n{pending}COMMIT; SELECT {s}.end_round({study})");
        let conn = self.conn.as_mut().expect("locked above");
        match conn.client.batch_execute(&pending) {
            Ok(()) => Ok(Asked::Decided(value)),
            Err(e) if connection_lost(&e, Some(&conn.client)) => {
                // The commit may have happened before the connection went: ask the log.
                self.conn = None;
                if !written.is_empty() && self.committed(study, &written)? {
                    Ok(Asked::Decided(value))
                } else {
                    Err(pg_err(&shown, "cannot commit a decision", &e))
                }
            }
            Err(e) => {
                self.rollback();
                Err(pg_err(&shown, "cannot commit a decision", &e))
            }
        }
    }
}

impl EventStore for PgStore {
    fn open_study(
        &mut self,
        name: &str,
        spec: &serde_json::Value,
    ) -> Result<(i64, serde_json::Value), StorageError> {
        let s = self.quoted.clone();
        let created = Event::StudyCreated {
            spec: spec.clone(),
            rules: crate::study::RULES,
        };
        let payload = serde_json::to_string(&created).expect("events serialize");
        // Safe to repeat: a study that a lost commit did create is found by name.
        let (id, stored) = self.run("cannot open the study", |c| {
            let mut tx = c.client.transaction()?;
            let inserted = tx.query_opt(
                &format!(
                    "INSERT INTO {s}.studies (name, spec, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO NOTHING RETURNING id"
                ),
                &[&name, &spec.to_string(), &super::now()],
            )?;
            if let Some(row) = inserted {
                let id: i64 = row.get(0);
                tx.execute(
                    &format!(
                        "INSERT INTO {s}.events (study, seq, at, kind, payload, crc)
                         VALUES ($1, 1, $2, $3, $4, $5)"
                    ),
                    &[
                        &id,
                        &super::now(),
                        &created.kind(),
                        &payload,
                        &checksum(&payload),
                    ],
                )?;
                tx.commit()?;
                return Ok((id, None));
            }
            drop(tx);
            let row = c.client.query_one(
                &format!("SELECT id, spec FROM {s}.studies WHERE name = $1"),
                &[&name],
            )?;
            Ok((row.get(0), Some(row.get::<_, String>(1))))
        })?;
        match stored {
            None => Ok((id, spec.clone())),
            Some(text) => {
                let stored =
                    serde_json::from_str(&text).map_err(|e| StorageError::CorruptEvent {
                        name: name.to_string(),
                        seq: 0,
                        problem: format!("unreadable study spec: {e}"),
                    })?;
                Ok((id, stored))
            }
        }
    }

    fn find_study(&mut self, name: &str) -> Result<(i64, serde_json::Value), StorageError> {
        let s = self.quoted.clone();
        let row = self.run("cannot read studies", |c| {
            Ok(c.client
                .query_opt(
                    &format!("SELECT id, spec FROM {s}.studies WHERE name = $1"),
                    &[&name],
                )?
                .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1))))
        })?;
        let (id, text) = row.ok_or_else(|| StorageError::NoSuchStudy(name.to_string()))?;
        let spec = serde_json::from_str(&text).map_err(|e| StorageError::CorruptEvent {
            name: name.to_string(),
            seq: 0,
            problem: format!("unreadable study spec: {e}"),
        })?;
        Ok((id, spec))
    }

    fn study_names(&mut self) -> Result<Vec<String>, StorageError> {
        let s = self.quoted.clone();
        self.run("cannot read studies", |c| {
            Ok(c.client
                .query(&format!("SELECT name FROM {s}.studies ORDER BY id"), &[])?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn locked<T>(
        &mut self,
        study: i64,
        after: u64,
        f: &mut UnderLock<'_, T>,
    ) -> Result<T, StorageError> {
        match self.round(study, None, after, f)? {
            Asked::Decided(value) => Ok(value),
            Asked::Served(_) => unreachable!("a round without a worker serves nobody"),
        }
    }

    fn ask(
        &mut self,
        study: i64,
        worker: &str,
        after: u64,
        report: Option<&Event>,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        let s = self.quoted.clone();
        let at = super::now();
        // Only a worker's own result rides along (a loss names no worker).
        let report = report
            .filter(|e| e.ends_job().is_some() && e.worker() == Some(worker))
            .map(|e| {
                let payload = serde_json::to_string(e).expect("events serialize");
                let job = e.ends_job().map_or(-1, |j| j.0 as i64);
                (e.kind(), payload, job)
            });
        let sql = |report: Option<&(&str, String, i64)>| {
            let result = match report {
                Some((kind, payload, job)) => format!(
                    "'{kind}', {}, {job}, {}",
                    text_literal(payload),
                    checksum(payload)
                ),
                None => "NULL, NULL, NULL, NULL".to_string(),
            };
            format!(
                "SELECT * FROM {s}.ask({study}, {}, {}, {}, {result})",
                text_literal(worker),
                float_literal(at),
                after.min(i64::MAX as u64)
            )
        };
        let mut attempt = 0;
        let messages = self.run("cannot ask for a job", |c| {
            attempt += 1;
            let mut report = report.as_ref();
            if let Some((_, payload, _)) = report {
                if attempt > 1 && stored(&mut c.client, &s, study, at, payload)? {
                    // An earlier attempt committed before its reply was lost.
                    report = None;
                }
            }
            Ok(c.client.simple_query(&sql(report))?)
        })?;
        event_rows(study, &messages).map_err(|e| self.name_study(e, study))
    }

    fn ask_locked<T>(
        &mut self,
        study: i64,
        worker: &str,
        after: u64,
        f: &mut UnderLock<'_, T>,
    ) -> Result<Asked<T>, StorageError> {
        self.round(study, Some(worker), after, f)
    }

    fn append(&mut self, study: i64, event: &Event) -> Result<(), StorageError> {
        let payload = serde_json::to_string(event).expect("events serialize");
        let at = super::now();
        let job = event.ends_job().map_or(-1, |j| j.0 as i64);
        let worker = event.worker();
        let s = self.quoted.clone();
        let shown = self.shown.clone();
        let mut attempt = 0;
        self.run("cannot write a result", |c| {
            let Some(writes) = &c.writes else {
                return Err(Fail::Store(StorageError::Server {
                    store: shown.clone(),
                    problem: "cannot write a result: the store was opened read-only".into(),
                }));
            };
            attempt += 1;
            if attempt > 1 && stored(&mut c.client, &s, study, at, &payload)? {
                // An earlier attempt committed before its reply was lost.
                return Ok(());
            }
            c.client.execute(
                &writes.post_result,
                &[
                    &study,
                    &at,
                    &event.kind(),
                    &payload,
                    &job,
                    &worker,
                    &checksum(&payload),
                ],
            )?;
            Ok(())
        })
    }

    fn events_after(&mut self, study: i64, seq: u64) -> Result<Vec<StoredEvent>, StorageError> {
        // Results still in the inbox are part of what a reader must see; a read-only
        // reader cannot move them (they are in `peek_events`).
        let rows = self.run("cannot read events", |c| {
            if let Some(writes) = &c.writes {
                c.client.execute(&writes.drain_inbox, &[&study])?;
            }
            Ok(c.client.query(&c.read_events, &[&study, &(seq as i64)])?)
        })?;
        parse_events(study, rows).map_err(|e| self.name_study(e, study))
    }

    fn renew_lease(
        &mut self,
        study: i64,
        job: JobId,
        worker: &str,
        expires_at: f64,
    ) -> Result<(), StorageError> {
        self.run("cannot renew a lease", |c| {
            c.client.execute(
                &c.renew_lease,
                &[&study, &(job.0 as i64), &worker, &expires_at],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_schema_parameter_is_split_off() {
        assert_eq!(
            split_schema("postgres://u@h/db?schema=hb1"),
            ("postgres://u@h/db".to_string(), Some("hb1".to_string()))
        );
        assert_eq!(
            split_schema("postgres://u@h/db?connect_timeout=3&schema=x&sslmode=disable"),
            (
                "postgres://u@h/db?connect_timeout=3&sslmode=disable".to_string(),
                Some("x".to_string())
            )
        );
        assert_eq!(
            split_schema("postgres://u@h/db"),
            ("postgres://u@h/db".to_string(), None)
        );
    }

    #[test]
    fn passwords_are_hidden_wherever_they_are_written() {
        for url in [
            "postgres://bob:hunter2@db:5432/hb",
            "postgres://bob@db/hb?password=hunter2&connect_timeout=2",
            "host=db user=bob password=hunter2",
        ] {
            let shown = redact(url);
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
        assert_eq!(redact("postgres://bob@db/hb"), "postgres://bob@db/hb");
    }
}
