//! Successive halving: one bracket, `n` configurations from the minimum budget up.

use super::bracket::Bracket;
use super::{
    Assignment, BracketPlan, Budgets, Decision, PlanError, Ruling, Scheduler, TrialSource,
};

/// Starts `n` configurations at `max / eta^s_max` and keeps the best `1/eta` at each rung
/// until the maximum budget.
#[derive(Debug)]
pub struct SuccessiveHalving {
    bracket: Bracket,
}

impl SuccessiveHalving {
    pub fn new(budgets: Budgets, n: u64) -> Result<Self, PlanError> {
        if n == 0 {
            return Err(PlanError::NoConfigs);
        }
        let plan = BracketPlan::successive_halving(&budgets, budgets.s_max, n);
        Ok(Self {
            bracket: Bracket::new(0, plan),
        })
    }
}

impl Scheduler for SuccessiveHalving {
    fn name(&self) -> &'static str {
        "sha"
    }

    fn ask(&mut self, trials: &mut dyn TrialSource) -> Decision<Assignment> {
        match self.bracket.ask(trials) {
            Some(a) => Decision::Run(a),
            None if self.bracket.is_done() => Decision::Done,
            None => Decision::Wait,
        }
    }

    fn tell(&mut self, assignment: &Assignment, loss: Option<f64>) -> Ruling {
        self.bracket.tell(assignment, loss);
        Ruling::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testing::{run_serial, Counter};

    #[test]
    fn keeps_the_best_third_each_rung() {
        let mut sha = SuccessiveHalving::new(Budgets::new(1.0, 9.0, 3).unwrap(), 9).unwrap();
        // Loss = trial id: the lowest ids win.
        let jobs = run_serial(&mut sha, &mut Counter::default(), 100, |a| {
            Some(a.trial.0 as f64)
        });
        let rungs: Vec<(u64, f64, f64)> = jobs
            .iter()
            .map(|a| (a.trial.0, a.budget, a.resume_from))
            .collect();
        let mut want: Vec<(u64, f64, f64)> = (0..9).map(|t| (t, 1.0, 0.0)).collect();
        want.extend([(0, 3.0, 1.0), (1, 3.0, 1.0), (2, 3.0, 1.0), (0, 9.0, 3.0)]);
        assert_eq!(rungs, want);
    }

    #[test]
    fn one_config_runs_every_rung() {
        let mut sha = SuccessiveHalving::new(Budgets::new(1.0, 9.0, 3).unwrap(), 1).unwrap();
        let jobs = run_serial(&mut sha, &mut Counter::default(), 100, |_| Some(1.0));
        let budgets: Vec<f64> = jobs.iter().map(|a| a.budget).collect();
        assert_eq!(budgets, vec![1.0, 3.0, 9.0]);
        assert!(jobs.iter().all(|a| a.trial.0 == 0));
    }

    #[test]
    fn zero_configs_is_refused() {
        assert!(SuccessiveHalving::new(Budgets::new(1.0, 9.0, 3).unwrap(), 0).is_err());
    }

    #[test]
    fn failures_are_never_promoted() {
        let mut sha = SuccessiveHalving::new(Budgets::new(1.0, 9.0, 3).unwrap(), 9).unwrap();
        // The three best trials (0, 1, 2) fail at the first rung.
        let jobs = run_serial(&mut sha, &mut Counter::default(), 100, |a| {
            (a.trial.0 >= 3).then_some(a.trial.0 as f64)
        });
        let promoted: Vec<u64> = jobs
            .iter()
            .filter(|a| a.rung == 1)
            .map(|a| a.trial.0)
            .collect();
        assert_eq!(promoted, vec![3, 4, 5]);
    }

    #[test]
    fn a_rung_of_only_failures_ends_the_bracket() {
        let mut sha = SuccessiveHalving::new(Budgets::new(1.0, 9.0, 3).unwrap(), 9).unwrap();
        let jobs = run_serial(&mut sha, &mut Counter::default(), 100, |_| None);
        assert_eq!(jobs.len(), 9);
        assert_eq!(sha.ask(&mut Counter::default()), Decision::Done);
    }

    #[test]
    fn waits_while_a_rung_is_incomplete() {
        let mut sha = SuccessiveHalving::new(Budgets::new(1.0, 3.0, 3).unwrap(), 3).unwrap();
        let mut trials = Counter::default();
        let jobs: Vec<Assignment> = (0..3)
            .map(|_| match sha.ask(&mut trials) {
                Decision::Run(a) => a,
                d => panic!("expected a job, got {d:?}"),
            })
            .collect();
        assert_eq!(sha.ask(&mut trials), Decision::Wait);
        sha.tell(&jobs[0], Some(3.0));
        sha.tell(&jobs[2], Some(1.0));
        assert_eq!(sha.ask(&mut trials), Decision::Wait);
        sha.tell(&jobs[1], Some(2.0));
        match sha.ask(&mut trials) {
            Decision::Run(a) => {
                assert_eq!((a.trial.0, a.budget, a.resume_from), (2, 3.0, 1.0));
            }
            d => panic!("expected the promotion, got {d:?}"),
        }
    }

    #[test]
    fn trial_limit_shrinks_the_first_rung() {
        let mut sha = SuccessiveHalving::new(Budgets::new(1.0, 9.0, 3).unwrap(), 9).unwrap();
        let mut trials = Counter {
            limit: Some(4),
            ..Counter::default()
        };
        let jobs = run_serial(&mut sha, &mut trials, 100, |a| Some(a.trial.0 as f64));
        let per_rung: Vec<usize> = (0..3)
            .map(|r| jobs.iter().filter(|a| a.rung == r).count())
            .collect();
        assert_eq!(per_rung, vec![4, 3, 1]);
    }
}
