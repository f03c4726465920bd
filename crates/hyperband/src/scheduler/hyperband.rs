//! Synchronous Hyperband: successive-halving brackets from the most exploratory
//! (`s = s_max`, many configurations at the minimum budget) to plain random search
//! (`s = 0`), then around again.

use super::bracket::Bracket;
use super::{
    hyperband_brackets, Assignment, BracketPlan, BracketSizes, Budgets, Decision, Ruling,
    Scheduler, TrialSource,
};

/// Several brackets may run at once: when every running bracket waits for its rung to
/// complete, a worker asking for work starts the next bracket rather than idling (as
/// HpBandSter does). With one worker, brackets run strictly one after another.
#[derive(Debug)]
pub struct Hyperband {
    plans: Vec<BracketPlan>,
    started: u64,
    max_brackets: Option<u64>,
    active: Vec<Bracket>,
}

impl Hyperband {
    pub fn new(budgets: Budgets, sizes: BracketSizes) -> Self {
        Self {
            plans: hyperband_brackets(&budgets, sizes),
            started: 0,
            max_brackets: None,
            active: Vec::new(),
        }
    }

    /// Stops after `n` brackets (a full iteration is `s_max + 1` brackets); unbounded by
    /// default, so that the study's budget, trial or time limit decides.
    pub fn with_max_brackets(mut self, n: u64) -> Self {
        self.max_brackets = Some(n);
        self
    }

    /// The brackets of one iteration, in the order they run.
    pub fn plans(&self) -> &[BracketPlan] {
        &self.plans
    }

    fn may_start(&self) -> bool {
        self.max_brackets.is_none_or(|m| self.started < m)
    }
}

impl Scheduler for Hyperband {
    fn name(&self) -> &'static str {
        "hyperband"
    }

    fn ask(&mut self, trials: &mut dyn TrialSource) -> Decision<Assignment> {
        for bracket in &mut self.active {
            if let Some(a) = bracket.ask(trials) {
                return Decision::Run(a);
            }
        }
        self.active.retain(|b| !b.is_done());
        if self.may_start() {
            let plan = self.plans[(self.started % self.plans.len() as u64) as usize].clone();
            let mut bracket = Bracket::new(self.started, plan);
            // A fresh bracket always wants a new trial first. When the source refuses, the
            // bracket is dropped as if never started, and nothing is remembered of the
            // refusal: a refusal during a decision that issues nothing is not in the log, so
            // a replica replaying the log must arrive at the same state without it.
            if let Some(a) = bracket.ask(trials) {
                self.started += 1;
                self.active.push(bracket);
                return Decision::Run(a);
            }
        }
        if self.active.is_empty() {
            Decision::Done
        } else {
            Decision::Wait
        }
    }

    fn tell(&mut self, assignment: &Assignment, loss: Option<f64>) -> Ruling {
        if let Some(b) = self
            .active
            .iter_mut()
            .find(|b| b.id() == assignment.bracket)
        {
            b.tell(assignment, loss);
        }
        self.active.retain(|b| !b.is_done());
        Ruling::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testing::{run_serial, Counter};

    fn hb(min: f64, max: f64, eta: u32, sizes: BracketSizes) -> Hyperband {
        Hyperband::new(Budgets::new(min, max, eta).unwrap(), sizes)
    }

    /// (bracket, rung) -> (jobs, budget) as a serial run produced them.
    fn rung_counts(jobs: &[Assignment]) -> Vec<Vec<(usize, f64)>> {
        let brackets = jobs.iter().map(|a| a.bracket).max().unwrap() + 1;
        (0..brackets)
            .map(|b| {
                let in_b: Vec<&Assignment> = jobs.iter().filter(|a| a.bracket == b).collect();
                let rungs = in_b.iter().map(|a| a.rung).max().unwrap() + 1;
                (0..rungs)
                    .map(|r| {
                        let at: Vec<&&Assignment> = in_b.iter().filter(|a| a.rung == r).collect();
                        (at.len(), at[0].budget)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn serial_run_follows_the_plan_exactly() {
        for sizes in [BracketSizes::Algorithm, BracketSizes::Table] {
            for (min, max, eta) in [
                (1.0, 81.0, 3),
                (1.0, 27.0, 3),
                (1.0, 16.0, 2),
                (1.0, 300.0, 4),
            ] {
                let plans = hb(min, max, eta, sizes).plans().to_vec();
                let mut s = hb(min, max, eta, sizes).with_max_brackets(plans.len() as u64);
                let jobs = run_serial(&mut s, &mut Counter::default(), 100_000, |a| {
                    Some((a.trial.0 * 7919 % 1000) as f64)
                });
                let got = rung_counts(&jobs);
                let want: Vec<Vec<(usize, f64)>> = plans
                    .iter()
                    .map(|p| p.rungs.iter().map(|r| (r.n as usize, r.budget)).collect())
                    .collect();
                assert_eq!(got, want, "R={max} eta={eta} {sizes:?}");
                assert_eq!(s.ask(&mut Counter::default()), Decision::Done);
            }
        }
    }

    #[test]
    fn promotions_resume_from_the_previous_rung_and_keep_the_best() {
        let mut s = hb(1.0, 9.0, 3, BracketSizes::Algorithm).with_max_brackets(1);
        let jobs = run_serial(&mut s, &mut Counter::default(), 100, |a| {
            Some(100.0 - a.trial.0 as f64 - a.budget)
        });
        let rung1: Vec<(u64, f64)> = jobs
            .iter()
            .filter(|a| a.rung == 1)
            .map(|a| (a.trial.0, a.resume_from))
            .collect();
        // Losses fall with the trial id, so the last three trials go on.
        assert_eq!(rung1, vec![(8, 1.0), (7, 1.0), (6, 1.0)]);
        let top: Vec<u64> = jobs
            .iter()
            .filter(|a| a.rung == 2)
            .map(|a| a.trial.0)
            .collect();
        assert_eq!(top, vec![8]);
    }

    #[test]
    fn cycles_through_brackets_without_a_limit() {
        let mut s = hb(1.0, 9.0, 3, BracketSizes::Algorithm);
        let plans = s.plans().len() as u64;
        let jobs = run_serial(&mut s, &mut Counter::default(), 1000, |a| {
            Some(a.trial.0 as f64)
        });
        assert_eq!(jobs.len(), 1000);
        assert!(jobs.last().unwrap().bracket > 3 * plans);
    }

    #[test]
    fn idle_workers_start_the_next_bracket() {
        let mut s = hb(1.0, 9.0, 3, BracketSizes::Algorithm);
        let mut trials = Counter::default();
        let mut issued = Vec::new();
        // Take all of bracket 0's first rung (9 jobs) and one more.
        for _ in 0..10 {
            match s.ask(&mut trials) {
                Decision::Run(a) => issued.push(a),
                d => panic!("expected work, got {d:?}"),
            }
        }
        assert_eq!(issued[8].bracket, 0);
        assert_eq!(issued[9].bracket, 1);
        assert_eq!(issued[9].budget, 3.0);
        // Finishing bracket 0's rung makes its promotions the next jobs handed out.
        for a in &issued[..9] {
            s.tell(a, Some(a.trial.0 as f64));
        }
        match s.ask(&mut trials) {
            Decision::Run(a) => assert_eq!((a.bracket, a.rung, a.trial.0), (0, 1, 0)),
            d => panic!("expected the promotion, got {d:?}"),
        }
    }

    #[test]
    fn exhausted_trials_end_the_run() {
        let mut s = hb(1.0, 9.0, 3, BracketSizes::Algorithm);
        let mut trials = Counter {
            limit: Some(20),
            ..Counter::default()
        };
        let jobs = run_serial(&mut s, &mut trials, 10_000, |a| Some(a.trial.0 as f64));
        assert_eq!(trials.next, 20);
        assert_eq!(s.ask(&mut trials), Decision::Done);
        assert!(jobs.iter().filter(|a| a.rung == 0).count() == 20);
    }
}
