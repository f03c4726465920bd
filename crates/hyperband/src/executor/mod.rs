//! Executors run jobs on workers and feed the outcomes back to the study.

mod program;
mod simulated;
mod stored;
mod threads;

pub use program::{program_job, Program, SegmentLog};
pub use simulated::{simulate, SimulationReport};
pub use stored::{keep_leases, worker_name, StoreWorker, WorkerReport, DEFAULT_LEASE};

pub use threads::{RunReport, StopReason, ThreadExecutor};
