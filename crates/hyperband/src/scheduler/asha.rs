//! Asynchronous successive halving (ASHA) and asynchronous Hyperband, after Li et al.,
//! "A System for Massively Parallel Hyperparameter Tuning" (MLSys 2020).
//!
//! A worker asking for work gets the promotable configuration of the highest rung (one in
//! the top `1/eta` of its rung's results so far and not yet promoted), else a new
//! configuration at the bottom rung. Nobody ever waits for a rung to fill, at the price of
//! some promotions that a synchronous bracket would not have made.

use super::ranked_rung::RankedRung;
use super::{
    hyperband_brackets, Assignment, BracketSizes, Budgets, Decision, Ruling, Scheduler, TrialSource,
};

#[derive(Debug)]
struct AshaBracket {
    budgets: Vec<f64>,
    rungs: Vec<RankedRung>,
    /// Share of new trials this bracket receives (async Hyperband); 1 for plain ASHA.
    weight: f64,
    started: u64,
}

impl AshaBracket {
    fn new(budgets: &Budgets, s: u32, weight: f64) -> Self {
        Self {
            budgets: (0..=s).map(|i| budgets.below_max(s - i)).collect(),
            rungs: (0..=s).map(|_| RankedRung::new(budgets.eta)).collect(),
            weight,
            started: 0,
        }
    }
}

/// ASHA (one bracket from the minimum budget) or asynchronous Hyperband (one ASHA bracket
/// per Hyperband bracket, new trials shared among them in proportion to the synchronous
/// bracket sizes).
#[derive(Debug)]
pub struct Asha {
    name: &'static str,
    brackets: Vec<AshaBracket>,
    in_flight: u64,
}

impl Asha {
    pub fn new(budgets: Budgets) -> Self {
        Self {
            name: "asha",
            brackets: vec![AshaBracket::new(&budgets, budgets.s_max, 1.0)],
            in_flight: 0,
        }
    }

    pub fn async_hyperband(budgets: Budgets, sizes: BracketSizes) -> Self {
        let brackets = hyperband_brackets(&budgets, sizes)
            .iter()
            .map(|p| AshaBracket::new(&budgets, p.s, p.rungs[0].n as f64))
            .collect();
        Self {
            name: "async-hyperband",
            brackets,
            in_flight: 0,
        }
    }

    /// The promotion to the highest budget available in any bracket.
    fn promotion(&mut self) -> Option<Assignment> {
        let mut best: Option<(f64, usize, usize)> = None;
        for (b, bracket) in self.brackets.iter().enumerate() {
            let top = bracket.rungs.len() - 1;
            for r in (0..top).rev() {
                if bracket.rungs[r].candidate().is_some() {
                    let budget = bracket.budgets[r + 1];
                    if best.is_none_or(|(bb, _, _)| budget > bb) {
                        best = Some((budget, b, r));
                    }
                    break;
                }
            }
        }
        let (_, b, r) = best?;
        let bracket = &mut self.brackets[b];
        let key = bracket.rungs[r].candidate()?;
        bracket.rungs[r].promote(&key);
        Some(Assignment {
            trial: key.trial,
            budget: bracket.budgets[r + 1],
            resume_from: bracket.budgets[r],
            bracket: b as u64,
            rung: r as u32 + 1,
        })
    }

    /// Smooth weighted round robin: the bracket furthest behind its share gets the trial.
    fn bracket_for_new_trial(&self) -> usize {
        let total: f64 = self.brackets.iter().map(|b| b.weight).sum();
        let started: u64 = self.brackets.iter().map(|b| b.started).sum();
        let deficit = |b: &AshaBracket| (started + 1) as f64 * b.weight / total - b.started as f64;
        let mut best = 0;
        for (i, b) in self.brackets.iter().enumerate() {
            if deficit(b) > deficit(&self.brackets[best]) + 1e-12 {
                best = i;
            }
        }
        best
    }
}

impl Scheduler for Asha {
    fn name(&self) -> &'static str {
        self.name
    }

    fn ask(&mut self, trials: &mut dyn TrialSource) -> Decision<Assignment> {
        if let Some(a) = self.promotion() {
            self.in_flight += 1;
            return Decision::Run(a);
        }
        match trials.new_trial() {
            Some(trial) => {
                let b = self.bracket_for_new_trial();
                self.brackets[b].started += 1;
                self.in_flight += 1;
                Decision::Run(Assignment {
                    trial,
                    budget: self.brackets[b].budgets[0],
                    resume_from: 0.0,
                    bracket: b as u64,
                    rung: 0,
                })
            }
            // Results still to come may make promotions possible.
            None if self.in_flight > 0 => Decision::Wait,
            None => Decision::Done,
        }
    }

    fn tell(&mut self, assignment: &Assignment, loss: Option<f64>) -> Ruling {
        self.in_flight -= 1;
        let bracket = &mut self.brackets[assignment.bracket as usize];
        bracket.rungs[assignment.rung as usize].insert(assignment.trial, loss);
        Ruling::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testing::{run_serial, Counter};

    fn budgets() -> Budgets {
        Budgets::new(1.0, 9.0, 3).unwrap()
    }

    #[test]
    fn promotes_once_a_rung_has_eta_results() {
        let mut asha = Asha::new(budgets());
        let jobs = run_serial(&mut asha, &mut Counter::default(), 5, |a| {
            Some(10.0 - a.trial.0 as f64)
        });
        let seen: Vec<(u64, u32, f64, f64)> = jobs
            .iter()
            .map(|a| (a.trial.0, a.rung, a.budget, a.resume_from))
            .collect();
        // After three results the best of them (trial 2) is promoted before a fourth start.
        assert_eq!(
            seen,
            vec![
                (0, 0, 1.0, 0.0),
                (1, 0, 1.0, 0.0),
                (2, 0, 1.0, 0.0),
                (2, 1, 3.0, 1.0),
                (3, 0, 1.0, 0.0)
            ]
        );
    }

    #[test]
    fn highest_rung_first_and_never_twice() {
        let mut asha = Asha::new(budgets());
        let jobs = run_serial(&mut asha, &mut Counter::default(), 2000, |a| {
            Some((a.trial.0 * 7919 % 101) as f64 - a.budget)
        });
        let mut seen = std::collections::HashSet::new();
        for a in &jobs {
            assert!(seen.insert((a.trial, a.rung)), "{a:?} issued twice");
            if a.rung > 0 {
                assert!(seen.contains(&(a.trial, a.rung - 1)));
            }
        }
        // Roughly 1/eta of each rung goes on.
        let per_rung: Vec<usize> = (0..3)
            .map(|r| jobs.iter().filter(|a| a.rung == r).count())
            .collect();
        assert!(per_rung[1] * 3 <= per_rung[0] + 3 && per_rung[1] * 3 + 6 >= per_rung[0]);
        assert!(per_rung[2] * 3 <= per_rung[1] + 3);
    }

    #[test]
    fn failures_are_not_promoted() {
        let mut asha = Asha::new(budgets());
        let jobs = run_serial(&mut asha, &mut Counter::default(), 50, |_| None);
        assert!(jobs.iter().all(|a| a.rung == 0));
    }

    #[test]
    fn waits_for_results_when_no_new_trials_may_start() {
        let mut asha = Asha::new(budgets());
        let mut trials = Counter {
            limit: Some(3),
            ..Counter::default()
        };
        let jobs: Vec<Assignment> = (0..3)
            .map(|_| match asha.ask(&mut trials) {
                Decision::Run(a) => a,
                d => panic!("{d:?}"),
            })
            .collect();
        assert_eq!(asha.ask(&mut trials), Decision::Wait);
        for (i, a) in jobs.iter().enumerate() {
            asha.tell(a, Some(i as f64));
        }
        match asha.ask(&mut trials) {
            Decision::Run(a) => assert_eq!((a.trial.0, a.rung), (0, 1)),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn async_hyperband_shares_new_trials_like_the_brackets() {
        let b = Budgets::new(1.0, 81.0, 3).unwrap();
        let mut ahb = Asha::async_hyperband(b, BracketSizes::Algorithm);
        let mut trials = Counter::default();
        let mut starts = [0usize; 5];
        // Never report, so every job is a new trial.
        for _ in 0..143 {
            match ahb.ask(&mut trials) {
                Decision::Run(a) => {
                    assert_eq!(a.rung, 0);
                    starts[a.bracket as usize] += 1;
                }
                d => panic!("{d:?}"),
            }
        }
        assert_eq!(starts, [81, 34, 15, 8, 5]);
    }

    #[test]
    fn async_hyperband_base_budgets() {
        let b = Budgets::new(1.0, 81.0, 3).unwrap();
        let ahb = Asha::async_hyperband(b, BracketSizes::Algorithm);
        let bases: Vec<f64> = ahb.brackets.iter().map(|b| b.budgets[0]).collect();
        assert_eq!(bases, vec![1.0, 3.0, 9.0, 27.0, 81.0]);
    }
}
