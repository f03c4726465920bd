//! The results of one asynchronous rung, answering "which result is in the top `1/eta`
//! and not yet promoted?" in `O(log n)`.
//!
//! ASHA asks this on every request for work, so a scan of the rung would make each
//! request cost `O(n)` and a long study quadratic. Two ordered sets and one cursor suffice:
//! the best unpromoted result is promotable exactly when it is no worse than the `k`-th
//! best result overall (`k = floor(n / eta)`), and that `k`-th result moves by at most one
//! position per insertion.

use crate::job::TrialId;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::ops::Bound;

/// A result ordered by loss, then by trial id so that ties break the same way every run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    pub loss: f64,
    pub trial: TrialId,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.loss
            .total_cmp(&other.loss)
            .then(self.trial.cmp(&other.trial))
    }
}

#[derive(Debug)]
pub(crate) struct RankedRung {
    eta: u64,
    all: BTreeSet<Key>,
    /// Results that may still be promoted: not yet promoted and not failures.
    open: BTreeSet<Key>,
    /// The `k`-th best result, `k = floor(all.len() / eta)`; `None` while `k = 0`.
    boundary: Option<Key>,
}

impl RankedRung {
    pub fn new(eta: u32) -> Self {
        Self {
            eta: eta as u64,
            all: BTreeSet::new(),
            open: BTreeSet::new(),
            boundary: None,
        }
    }

    /// Adds a result; `None` is a failure, ranked last and never promotable.
    pub fn insert(&mut self, trial: TrialId, loss: Option<f64>) {
        let key = Key {
            loss: super::rank_key(loss),
            trial,
        };
        let k_before = self.all.len() as u64 / self.eta;
        if !self.all.insert(key) {
            return;
        }
        if loss.is_some() {
            self.open.insert(key);
        }
        if let Some(b) = self.boundary {
            if key < b {
                // `key` joins the top k and pushes the old k-th result out.
                self.boundary = self.all.range(..b).next_back().copied();
            }
        }
        if self.all.len() as u64 / self.eta > k_before {
            self.boundary = match self.boundary {
                None => self.all.first().copied(),
                Some(b) => self
                    .all
                    .range((Bound::Excluded(b), Bound::Unbounded))
                    .next()
                    .copied(),
            };
        }
    }

    /// The best result in the top `1/eta` that has not been promoted yet.
    pub fn candidate(&self) -> Option<Key> {
        let best = *self.open.first()?;
        (best <= self.boundary?).then_some(best)
    }

    pub fn promote(&mut self, key: &Key) {
        self.open.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// The definition, computed the slow way.
    fn naive(results: &[(u64, Option<f64>)], promoted: &HashSet<u64>, eta: u64) -> Option<u64> {
        let mut keys: Vec<Key> = results
            .iter()
            .map(|&(t, l)| Key {
                loss: l.unwrap_or(f64::INFINITY),
                trial: TrialId(t),
            })
            .collect();
        keys.sort();
        let k = keys.len() / eta as usize;
        keys[..k]
            .iter()
            .find(|key| key.loss.is_finite() && !promoted.contains(&key.trial.0))
            .map(|key| key.trial.0)
    }

    proptest! {
        #[test]
        fn matches_the_definition(
            eta in 2u32..5,
            ops in proptest::collection::vec((0u8..4, proptest::option::weighted(0.85, 0u8..20)), 1..200),
        ) {
            let mut rung = RankedRung::new(eta);
            let mut results = Vec::new();
            let mut promoted = HashSet::new();
            for (i, (op, loss)) in ops.into_iter().enumerate() {
                if op == 0 {
                    // Promote whatever is promotable.
                    let got = rung.candidate();
                    prop_assert_eq!(got.map(|k| k.trial.0), naive(&results, &promoted, eta as u64));
                    if let Some(k) = got {
                        rung.promote(&k);
                        promoted.insert(k.trial.0);
                    }
                } else {
                    let loss = loss.map(f64::from);
                    rung.insert(TrialId(i as u64), loss);
                    results.push((i as u64, loss));
                }
                prop_assert_eq!(
                    rung.candidate().map(|k| k.trial.0),
                    naive(&results, &promoted, eta as u64)
                );
            }
        }
    }

    #[test]
    fn needs_eta_results_before_promoting() {
        let mut rung = RankedRung::new(3);
        rung.insert(TrialId(0), Some(1.0));
        rung.insert(TrialId(1), Some(2.0));
        assert!(rung.candidate().is_none());
        rung.insert(TrialId(2), Some(0.5));
        assert_eq!(rung.candidate().unwrap().trial, TrialId(2));
    }
}
