//! Lease renewal for jobs handed out by `ask`. A store worker renews the lease of the one
//! job it runs; an ask/tell caller may hold several jobs for as long as its training takes,
//! so a thread renews all of them until they are told, and stops with the study object.
//! If the process dies, renewal stops and the jobs are re-issued (at once on this host).

use hyperband::executor::DEFAULT_LEASE;
use hyperband::storage::{now, AnyStore, EventStore, StorageUrl};
use hyperband::JobId;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Leases {
    held: Arc<Mutex<BTreeSet<u64>>>,
    quit: Arc<AtomicBool>,
}

impl Leases {
    pub fn start(url: StorageUrl, study: i64, worker: String) -> Self {
        let held = Arc::new(Mutex::new(BTreeSet::new()));
        let quit = Arc::new(AtomicBool::new(false));
        let (h, q) = (held.clone(), quit.clone());
        std::thread::spawn(move || renew(&url, study, &worker, &h, &q));
        Self { held, quit }
    }

    pub fn hold(&self, job: JobId) {
        self.held.lock().expect("lease set").insert(job.0);
    }

    /// False when the job was not held (never asked here, or already told).
    pub fn release(&self, job: JobId) -> bool {
        self.held.lock().expect("lease set").remove(&job.0)
    }

    pub fn holds(&self, job: JobId) -> bool {
        self.held.lock().expect("lease set").contains(&job.0)
    }

    pub fn count(&self) -> usize {
        self.held.lock().expect("lease set").len()
    }
}

impl Drop for Leases {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::Relaxed);
    }
}

fn renew(
    url: &StorageUrl,
    study: i64,
    worker: &str,
    held: &Mutex<BTreeSet<u64>>,
    quit: &AtomicBool,
) {
    let tick = Duration::from_millis(100);
    let every = DEFAULT_LEASE / 3;
    let mut since = Duration::ZERO;
    let mut store: Option<AnyStore> = None;
    while !quit.load(Ordering::Relaxed) {
        std::thread::sleep(tick);
        since += tick;
        if since < every {
            continue;
        }
        since = Duration::ZERO;
        let jobs: Vec<u64> = held.lock().expect("lease set").iter().copied().collect();
        if jobs.is_empty() {
            continue;
        }
        if store.is_none() {
            store = AnyStore::open(url).ok();
        }
        let Some(s) = store.as_mut() else { continue };
        let until = now() + DEFAULT_LEASE.as_secs_f64();
        // A failed renewal is tried again on the next round; the lease outlasts two.
        if jobs
            .into_iter()
            .any(|job| s.renew_lease(study, JobId(job), worker, until).is_err())
        {
            store = None;
        }
    }
}
