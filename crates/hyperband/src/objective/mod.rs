//! Objectives: what evaluates a job. In-process closures need nothing from here; a training
//! script in any language runs as a command.

#[cfg(feature = "command")]
pub mod command;
mod monitor;

#[cfg(feature = "command")]
pub use command::{placeholders, CommandObjective};
pub use monitor::{Monitor, Verdict};
