//! What the core's integration tests share: the contract every event store keeps
//! ([`store_contract`], run on SQLite by `sqlite_store.rs` and on PostgreSQL by
//! `postgres_store.rs`), the PostgreSQL test server, names no other test uses, and the
//! search space of the study tests. Each test file that needs it says `mod common;` (a
//! folder, so that cargo does not build it as a test of its own); a file uses what it
//! needs, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod store_contract;

use hyperband::{Param, Space};

/// The PostgreSQL test server: `postgres://postgres@127.0.0.1:5432/test`, or
/// `$HYPERBAND_TEST_POSTGRES`. The tests that need it fail, never skip, without it.
pub fn postgres_url() -> String {
    std::env::var("HYPERBAND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A name no other test or earlier run has used (`PREFIX_PID_NANOS`, a valid schema name
/// when the prefix is one), so that tests sharing a server run in parallel and again
/// without cleanup.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// A log-scale float, a log-scale integer and a choice: the space the study tests search.
pub fn space() -> Space {
    Space::new(vec![
        Param::log_float("lr", 1e-3, 1e-1),
        Param::log_int("hidden", 10, 1000),
        Param::categorical("act", &["relu", "tanh"]),
    ])
    .unwrap()
}
