//! Every configuration at the maximum budget: random search, or plain Bayesian optimization
//! with a model-based sampler.

use super::{Assignment, Decision, Ruling, Scheduler, TrialSource};

#[derive(Debug, Clone)]
pub struct FullBudget {
    max_budget: f64,
}

impl FullBudget {
    pub fn new(max_budget: f64) -> Self {
        Self { max_budget }
    }
}

impl Scheduler for FullBudget {
    fn name(&self) -> &'static str {
        "full-budget"
    }

    fn ask(&mut self, trials: &mut dyn TrialSource) -> Decision<Assignment> {
        match trials.new_trial() {
            Some(trial) => Decision::Run(Assignment {
                trial,
                budget: self.max_budget,
                resume_from: 0.0,
                bracket: 0,
                rung: 0,
            }),
            None => Decision::Done,
        }
    }

    fn tell(&mut self, _assignment: &Assignment, _loss: Option<f64>) -> Ruling {
        Ruling::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testing::{run_serial, Counter};

    #[test]
    fn every_trial_at_max_budget_until_the_trial_limit() {
        let mut s = FullBudget::new(81.0);
        let mut trials = Counter {
            limit: Some(5),
            ..Counter::default()
        };
        let jobs = run_serial(&mut s, &mut trials, 100, |_| None);
        assert_eq!(jobs.len(), 5);
        assert!(jobs
            .iter()
            .all(|a| a.budget == 81.0 && a.resume_from == 0.0));
        let ids: Vec<u64> = jobs.iter().map(|a| a.trial.0).collect();
        assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    }
}
