//! Reproducible random streams.
//!
//! Decision `k` of a study draws from stream `k` of a ChaCha8 generator keyed by the study
//! seed, so any decision can be re-derived without replaying the draws before it, and the
//! numbers are the same on every platform and crate version (rand's `StdRng` promises neither).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator for decision `k` of a study seeded with `seed`.
pub fn stream(seed: u64, k: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(k);
    rng
}
