//! Seeded randomness: every lab is a deterministic function of its seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator all labs use; a fixed algorithm so results are reproducible across platforms.
pub fn seeded(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A standard normal draw (Box-Muller), to avoid a `rand_distr` dependency for one function.
pub fn gaussian(rng: &mut impl Rng) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A vector of independent N(0, scale^2) draws.
pub fn gaussian_vec(rng: &mut impl Rng, len: usize, scale: f64) -> Vec<f64> {
    (0..len).map(|_| scale * gaussian(rng)).collect()
}
