//! `hyperband dashboard`: the report's views, live, for a study that is running.
//!
//! A small HTTP server (server.rs: hyper on a one-thread tokio runtime, every client served
//! on its own and bounded in size and time) hands out the report's page, which then polls
//! for the same data as the study's log grows. It only reads: the store is opened read-only
//! (SQLite refuses writes on the connection; the PostgreSQL session is read-only and the
//! results inbox is peeked at, not drained), and the study lock is never taken, so that a
//! dashboard cannot slow down or disturb the workers.

mod live;
mod routes;
mod server;

use crate::cli_error::bad_input;
use anyhow::Context;
use hyperband::storage::{AnyStore, StorageUrl};
use std::net::IpAddr;
use std::path::PathBuf;

/// How often the page asks whether the log moved on (a 204 when it did not).
const POLL_MS: u64 = 500;

#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    /// The study file (TOML).
    pub study_file: Option<PathBuf>,
    /// Storage URL (`sqlite:PATH` or `postgres://...`), instead of a study file; without
    /// `--study` the dashboard lists the studies stored there.
    #[arg(long, conflicts_with = "study_file")]
    pub storage: Option<String>,
    /// Study name in that storage.
    #[arg(long, requires = "storage")]
    pub study: Option<String>,
    /// Port to listen on (0: any free one; the address is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on: this machine only unless told otherwise. On a loopback
    /// address only requests for 127.0.0.1, localhost or [::1] (any port) are answered,
    /// which keeps web pages from reaching it through a name that resolves here (DNS
    /// rebinding); on any other address every Host name is accepted.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
}

impl DashboardArgs {
    /// The store, and the study to open at `/` if one was named.
    fn locate(&self) -> anyhow::Result<(StorageUrl, Option<String>)> {
        match (&self.study_file, &self.storage) {
            (Some(file), None) => {
                let parsed = crate::study_file::StudyFile::load(file).map_err(bad_input)?;
                Ok((parsed.storage.clone(), Some(parsed.name.clone())))
            }
            (None, Some(url)) => {
                let url = StorageUrl::parse(url, &std::env::current_dir()?).map_err(bad_input)?;
                Ok((url, self.study.clone()))
            }
            _ => Err(bad_input(anyhow::anyhow!(
                "name the study by its file (`hyperband dashboard study.toml`) or the store by \
                 `--storage URL` (and a study in it by `--study NAME`)"
            ))),
        }
    }
}

pub fn run(args: &DashboardArgs) -> anyhow::Result<()> {
    let (url, study) = args.locate()?;
    let mut store = AnyStore::open_read_only(&url).map_err(bad_input)?;
    if let Some(name) = &study {
        // Refused now, with why, rather than on every page load.
        hyperband::storage::StoredStudy::find(&mut store, name)
            .map_err(|e| crate::cli_error::opening_error(&url, e))?;
    }
    let listener = std::net::TcpListener::bind((args.bind, args.port)).map_err(|e| {
        bad_input(anyhow::anyhow!(
            "cannot listen on {}:{}: {e}",
            args.bind,
            args.port
        ))
    })?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    // The first line says where to point a browser (tests read it too).
    match &study {
        Some(name) => println!("dashboard: http://{addr}{}", routes::study_path(name)),
        None => println!("dashboard: http://{addr}/"),
    }
    println!("read-only; Ctrl-C stops it");
    let app = server::App::new(routes::Routes::new(store, url), study, args.bind);
    // One thread serves every connection; the store is read on the blocking threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(server::BLOCKING_THREADS)
        .build()
        .context("cannot start the dashboard's event loop")?;
    runtime
        .block_on(server::serve(listener, std::sync::Arc::new(app)))
        .context("the dashboard stopped listening")
}
