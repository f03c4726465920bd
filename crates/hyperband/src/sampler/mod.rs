//! Samplers answer *what to try*: a new configuration, given the history.

mod gp;
mod linalg;
mod mf_gp;
mod normal;
mod random;
mod tpe;

pub use gp::{Gp, GpConfig};
pub use mf_gp::{MfGp, MfGpConfig};
pub use random::Random;
pub use tpe::{Bandwidth, Tpe, TpeConfig};

use crate::config::Config;
use crate::history::History;
use crate::space::Space;
use rand_chacha::ChaCha8Rng;

/// Proposes configurations.
///
/// A proposal must be a pure function of its inputs (the same history, space and random
/// stream give the same configuration), so that studies replay and parallel runs decide the
/// same way whatever the thread timing.
pub trait Sampler: Send {
    fn name(&self) -> &'static str;
    fn propose(&self, space: &Space, history: &History, rng: &mut ChaCha8Rng) -> Config;
}
