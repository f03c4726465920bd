//! Executors run jobs on workers and feed the outcomes back to the study.

mod stored;
mod threads;

pub use stored::{worker_name, StoreWorker, WorkerReport, DEFAULT_LEASE};

pub use threads::{RunReport, StopReason, ThreadExecutor};
