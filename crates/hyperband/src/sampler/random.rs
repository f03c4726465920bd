//! Uniform random sampling on each parameter's scale.

use super::Sampler;
use crate::config::Config;
use crate::history::History;
use crate::space::Space;
use rand_chacha::ChaCha8Rng;

/// Ignores the history: random search, and plain Hyperband.
#[derive(Debug, Clone, Copy, Default)]
pub struct Random;

impl Sampler for Random {
    fn name(&self) -> &'static str {
        "random"
    }

    fn propose(&self, space: &Space, _history: &History, rng: &mut ChaCha8Rng) -> Config {
        space.sample(rng)
    }
}
