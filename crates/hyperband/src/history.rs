//! What samplers learn from: every trial's configuration and every finished evaluation.

use crate::config::Config;
use crate::job::TrialId;
use std::collections::BTreeMap;

/// A trial as samplers see it.
#[derive(Debug, Clone)]
pub struct TrialRecord {
    pub config: Config,
    /// The configuration's point in the unit cube, computed once for model-based samplers.
    pub unit: Vec<f64>,
}

/// One finished evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub trial: TrialId,
    pub budget: f64,
    pub loss: f64,
}

/// The incumbent rule, the one place it is written: whether a result at `budget` with
/// `loss` beats the best so far, `current` as `(budget, loss)`. A result at a larger
/// budget beats any at a smaller one, however low that loss (a cheap rung's loss is not
/// comparable with a full training's: BOHB's rule); at equal budgets the lower loss wins,
/// and a tie keeps the earlier result. The study's incumbent, a trial's own result and the
/// report's best-so-far lines all use it.
pub fn improves(budget: f64, loss: f64, current: Option<(f64, f64)>) -> bool {
    match current {
        None => true,
        Some((b, l)) => budget > b || (budget == b && loss < l),
    }
}

impl Observation {
    /// Whether this result beats `current` by the incumbent rule ([`improves`]).
    pub fn improves_on(&self, current: Option<&Observation>) -> bool {
        improves(self.budget, self.loss, current.map(|c| (c.budget, c.loss)))
    }
}

/// All trials and finished evaluations of a study, in the order they happened.
#[derive(Debug, Clone, Default)]
pub struct History {
    trials: Vec<TrialRecord>,
    observations: Vec<Observation>,
}

impl History {
    pub fn trials(&self) -> &[TrialRecord] {
        &self.trials
    }

    pub fn trial(&self, id: TrialId) -> &TrialRecord {
        &self.trials[id.0 as usize]
    }

    pub fn observations(&self) -> &[Observation] {
        &self.observations
    }

    /// The largest budget whose number of observations `enough` accepts, and that number:
    /// the budget a model-based sampler fits on (BOHB's rule).
    pub fn largest_budget_where(&self, enough: impl Fn(usize) -> bool) -> Option<(f64, usize)> {
        let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
        for obs in &self.observations {
            // Budgets are positive, where the bit patterns of floats sort as the floats do.
            *counts.entry(obs.budget.to_bits()).or_default() += 1;
        }
        counts
            .into_iter()
            .rev()
            .find(|&(_, n)| enough(n))
            .map(|(bits, n)| (f64::from_bits(bits), n))
    }

    pub(crate) fn add_trial(&mut self, config: Config, unit: Vec<f64>) -> TrialId {
        self.trials.push(TrialRecord { config, unit });
        TrialId(self.trials.len() as u64 - 1)
    }

    pub(crate) fn add_observation(&mut self, obs: Observation) {
        self.observations.push(obs);
    }
}
