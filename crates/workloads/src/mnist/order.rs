//! Which training digit goes into which minibatch.
//!
//! The order is a pure function of (seed, sample position): position `p` (counted over the
//! whole run, `step * batch_size + i`) lies in epoch `p / n`, whose digits are visited in a
//! permutation drawn from that epoch's own random stream. Nothing depends on where a run was
//! stopped and resumed, which is what makes a resumed run bitwise equal to an uninterrupted
//! one.

use super::rng::{shuffle, stream, Purpose};

/// The permutation of the current epoch, regenerated in place when a batch crosses into the
/// next one (no allocation after the first epoch).
#[derive(Clone, Debug, Default)]
pub(crate) struct EpochOrder {
    epoch: Option<u64>,
    perm: Vec<u32>,
}

impl EpochOrder {
    /// Index of the training digit at sample position `pos` of a run with `seed` over `n`
    /// digits.
    pub(crate) fn index(&mut self, seed: u64, n: usize, pos: u64) -> usize {
        let epoch = pos / n as u64;
        if self.epoch != Some(epoch) || self.perm.len() != n {
            self.perm.clear();
            self.perm.extend(0..n as u32);
            shuffle(&mut stream(seed, Purpose::Epoch(epoch)), &mut self.perm);
            self.epoch = Some(epoch);
        }
        self.perm[(pos % n as u64) as usize] as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_epoch_visits_every_digit_once_in_a_fresh_order() {
        let mut o = EpochOrder::default();
        let epoch = |o: &mut EpochOrder, e: u64| {
            (0..10)
                .map(|i| o.index(5, 10, e * 10 + i))
                .collect::<Vec<_>>()
        };
        let (e0, e1) = (epoch(&mut o, 0), epoch(&mut o, 1));
        let mut s = e0.clone();
        s.sort_unstable();
        assert_eq!(s, (0..10).collect::<Vec<_>>());
        assert_ne!(e0, e1);
        // Random access gives what sequential access gave: no hidden state.
        let mut fresh = EpochOrder::default();
        assert_eq!(fresh.index(5, 10, 13), e1[3]);
        assert_eq!(fresh.index(5, 10, 4), e0[4]);
    }
}
