//! Executors run jobs on workers and feed the outcomes back to the study.

mod threads;

pub use threads::{RunReport, StopReason, ThreadExecutor};
