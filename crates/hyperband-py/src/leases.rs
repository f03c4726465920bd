//! Lease renewal for jobs handed out by `ask`. A store worker renews the lease of the one
//! job it runs; an ask/tell caller may hold several jobs for as long as its training takes,
//! so a thread renews all of them until they are told, and stops with the study object.
//! If the process dies, renewal stops and the jobs are re-issued (at once on this host).

use hyperband::executor::{keep_leases, DEFAULT_LEASE};
use hyperband::storage::{AnyStore, StorageUrl};
use hyperband::JobId;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct Leases {
    held: Arc<Mutex<BTreeSet<u64>>>,
    quit: Arc<AtomicBool>,
}

impl Leases {
    pub fn start(url: StorageUrl, study: i64, worker: String) -> Self {
        let held = Arc::new(Mutex::new(BTreeSet::new()));
        let quit = Arc::new(AtomicBool::new(false));
        let (h, q) = (held.clone(), quit.clone());
        std::thread::spawn(move || {
            let held = || {
                let held = h.lock().unwrap_or_else(|e| e.into_inner());
                held.iter().map(|&j| JobId(j)).collect()
            };
            keep_leases(
                || AnyStore::open(&url),
                study,
                &worker,
                DEFAULT_LEASE,
                held,
                &q,
            )
        });
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
