//! Seeded random streams that stay the same across platforms and crate versions.
//!
//! Checkpoints are only useful if a resumed run sees the same shuffles and the same initial
//! weights as an uninterrupted one, today and after a dependency upgrade. ChaCha8 is portable;
//! the conversions to ranges and floats are written out here rather than taken from `rand`,
//! whose sampling algorithms have changed between versions.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is used for; each purpose gets its own ChaCha stream of the same seed, so
/// that changing how many numbers one consumer draws never shifts another's.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Purpose {
    /// Assigning the digits to training, validation and test.
    Split,
    /// Initial weights of the perceptron.
    Init,
    /// The order of the training digits in epoch `n` (counted from 0).
    Epoch(u64),
}

pub(crate) fn stream(seed: u64, purpose: Purpose) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(match purpose {
        Purpose::Split => 0,
        Purpose::Init => 1,
        Purpose::Epoch(e) => 2u64.saturating_add(e),
    });
    rng
}

/// A uniform integer in `0..n` by widening multiply; the bias (under n / 2^64) is far below
/// anything a shuffle of a few thousand items could show.
pub(crate) fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// A uniform `f32` in [0, 1) from the top 24 bits of a word.
pub(crate) fn unit_f32(rng: &mut ChaCha8Rng) -> f32 {
    (rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// Fisher-Yates shuffle in place.
pub(crate) fn shuffle<T>(rng: &mut ChaCha8Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, below(rng, i + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |p| {
            let mut r = stream(42, p);
            (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(Purpose::Epoch(3)), draw(Purpose::Epoch(3)));
        assert_ne!(draw(Purpose::Epoch(3)), draw(Purpose::Epoch(4)));
        assert_ne!(draw(Purpose::Init), draw(Purpose::Split));
    }

    #[test]
    fn shuffle_is_a_permutation_and_below_stays_in_range() {
        let mut rng = stream(7, Purpose::Split);
        let mut v: Vec<usize> = (0..1000).collect();
        shuffle(&mut rng, &mut v);
        assert_ne!(v, (0..1000).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..1000).collect::<Vec<_>>());
        for n in [1, 2, 3, 10] {
            assert!((0..200).all(|_| below(&mut rng, n) < n));
        }
        let mean = (0..10_000).map(|_| unit_f32(&mut rng)).sum::<f32>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }
}
