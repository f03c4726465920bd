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
