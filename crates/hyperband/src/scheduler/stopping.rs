//! Stopping rules: ASHA and Hyperband for programs that cannot resume from a checkpoint.
//!
//! A trial is started once, to the largest budget, and its run is cut into segments, one
//! per rung: the job of rung `k` covers the budget from `r_(k-1)` to `r_k` and ends when
//! the running program reports a value at `r_k`. That value is the trial's result at the
//! rung, and the decision is made there and then, never waiting for the rung to fill (the
//! program keeps training meanwhile): the trial goes on ([`Scheduler::continuation`]
//! names its next segment) or is stopped.
//!
//! The rule is the one of Optuna's `SuccessiveHalvingPruner` and Ray Tune's ASHA: a trial
//! goes on when fewer than `max(1, floor(m / eta))` of the `m` results at its rung so far
//! (its own included) are better than it. Hyperband runs its brackets as Optuna's
//! `HyperbandPruner` does: each bracket starts its plan's number of trials at its own
//! lowest rung and applies the rule among its own trials only. Capping each rung at the
//! plan's `n_(k+1)` as well was tried and measured worse (MF-Hartmann-6 median regret 1.39
//! against 0.78, 10 seeds): decided on arrival, the cap goes to the earliest trials of a
//! bracket, not the best, and stops the good ones that come later.

use super::{
    hyperband_brackets, Assignment, BracketPlan, BracketSizes, Budgets, Decision, Scheduler,
    TrialSource,
};

/// Which stopping rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// One bracket from the minimum budget; as many trials as the study allows.
    Asha,
    /// Hyperband's brackets, each with its plan's number of trials per rung.
    Hyperband,
}

#[derive(Debug)]
struct StopBracket {
    id: u64,
    budgets: Vec<f64>,
    /// Trials the bracket starts (`None`: unbounded, ASHA).
    trials: Option<u64>,
    /// Losses reported at each rung so far (failures as +inf: they rank last).
    results: Vec<Vec<f64>>,
    started: u64,
}

impl StopBracket {
    fn asha(budgets: &Budgets) -> Self {
        let s = budgets.s_max;
        Self::with(0, (0..=s).map(|i| budgets.below_max(s - i)).collect(), None)
    }

    fn planned(id: u64, plan: &BracketPlan) -> Self {
        Self::with(
            id,
            plan.rungs.iter().map(|r| r.budget).collect(),
            Some(plan.rungs[0].n),
        )
    }

    fn with(id: u64, budgets: Vec<f64>, trials: Option<u64>) -> Self {
        let n = budgets.len();
        Self {
            id,
            budgets,
            trials,
            results: vec![Vec::new(); n],
            started: 0,
        }
    }

    fn accepts_trials(&self) -> bool {
        self.trials.is_none_or(|n| self.started < n)
    }

    /// Records `loss` at `rung` and decides whether the trial goes past it.
    fn goes_on(&mut self, rung: usize, loss: f64, eta: u32) -> bool {
        let results = &mut self.results[rung];
        results.push(loss);
        if rung + 1 >= self.budgets.len() || !loss.is_finite() {
            return false;
        }
        let better = results.iter().filter(|&&l| l < loss).count() as u64;
        let keep = (results.len() as u64 / eta as u64).max(1);
        better < keep
    }
}

/// ASHA or Hyperband as stopping rules (`mode = "stop"`).
#[derive(Debug)]
pub struct Stopping {
    name: &'static str,
    rule: Rule,
    budgets: Budgets,
    plans: Vec<BracketPlan>,
    brackets: Vec<StopBracket>,
    max_brackets: Option<u64>,
    /// The next segment of the trial last told, when it goes on.
    pending: Option<Assignment>,
}

impl Stopping {
    pub fn asha(budgets: Budgets) -> Self {
        Self {
            name: "asha-stop",
            rule: Rule::Asha,
            budgets,
            plans: Vec::new(),
            brackets: vec![StopBracket::asha(&budgets)],
            max_brackets: None,
            pending: None,
        }
    }

    pub fn hyperband(budgets: Budgets, sizes: BracketSizes) -> Self {
        Self {
            name: "hyperband-stop",
            rule: Rule::Hyperband,
            budgets,
            plans: hyperband_brackets(&budgets, sizes),
            brackets: Vec::new(),
            max_brackets: None,
            pending: None,
        }
    }

    /// Stops after `n` brackets (Hyperband only).
    pub fn with_max_brackets(mut self, n: u64) -> Self {
        self.max_brackets = Some(n);
        self
    }

    /// The bracket a new trial joins, made if needed (and kept only if the trial comes).
    fn bracket_for_new_trial(&self) -> Option<StopBracket> {
        if self
            .brackets
            .last()
            .is_some_and(StopBracket::accepts_trials)
        {
            return None;
        }
        let id = self.brackets.len() as u64;
        if self.rule == Rule::Asha || self.max_brackets.is_some_and(|m| id >= m) {
            return None;
        }
        let plan = &self.plans[(id % self.plans.len() as u64) as usize];
        Some(StopBracket::planned(id, plan))
    }
}

impl Scheduler for Stopping {
    fn name(&self) -> &'static str {
        self.name
    }

    fn ask(&mut self, trials: &mut dyn TrialSource) -> Decision<Assignment> {
        let fresh = self.bracket_for_new_trial();
        let accepting = fresh.is_some()
            || self
                .brackets
                .last()
                .is_some_and(StopBracket::accepts_trials);
        if !accepting {
            return Decision::Done;
        }
        // A refused trial leaves no state: the refusal is not in the log a replica replays.
        let Some(trial) = trials.new_trial() else {
            return Decision::Done;
        };
        if let Some(b) = fresh {
            self.brackets.push(b);
        }
        let bracket = self
            .brackets
            .last_mut()
            .expect("a bracket accepts the trial");
        bracket.started += 1;
        Decision::Run(Assignment {
            trial,
            budget: bracket.budgets[0],
            resume_from: 0.0,
            bracket: bracket.id,
            rung: 0,
        })
    }

    fn tell(&mut self, assignment: &Assignment, loss: Option<f64>) {
        // A continuation nobody took is a stopped trial.
        self.pending = None;
        let eta = self.budgets.eta;
        let Some(bracket) = self.brackets.get_mut(assignment.bracket as usize) else {
            return;
        };
        let rung = assignment.rung as usize;
        if bracket.goes_on(rung, loss.unwrap_or(f64::INFINITY), eta) {
            self.pending = Some(Assignment {
                trial: assignment.trial,
                budget: bracket.budgets[rung + 1],
                resume_from: bracket.budgets[rung],
                bracket: assignment.bracket,
                rung: assignment.rung + 1,
            });
        }
    }

    fn continuation(&mut self) -> Option<Assignment> {
        self.pending.take()
    }

    fn program_budget(&self) -> Option<f64> {
        Some(self.budgets.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testing::Counter;
    use crate::TrialId;

    fn budgets() -> Budgets {
        Budgets::new(1.0, 9.0, 3).unwrap()
    }

    /// Runs trials one after another to their end: each segment's loss from `loss`.
    fn serial(s: &mut Stopping, trials: u64, loss: impl Fn(u64, f64) -> f64) -> Vec<Assignment> {
        let mut source = Counter {
            limit: Some(trials),
            ..Counter::default()
        };
        let mut out = Vec::new();
        while let Decision::Run(mut a) = s.ask(&mut source) {
            loop {
                out.push(a);
                s.tell(&a, Some(loss(a.trial.0, a.budget)));
                match s.continuation() {
                    Some(next) => a = next,
                    None => break,
                }
            }
        }
        out
    }

    #[test]
    fn asha_stops_a_trial_outside_the_top_third_of_its_rung_so_far() {
        let mut s = Stopping::asha(budgets());
        // Losses rise with the trial id: each later trial is worse than all before it.
        let jobs = serial(&mut s, 9, |t, b| t as f64 - b);
        let reached = |t: u64| {
            jobs.iter()
                .filter(|a| a.trial == TrialId(t))
                .map(|a| a.budget)
                .fold(0.0, f64::max)
        };
        // Trial 0 is first everywhere; 1 and 2 are outside the best max(1, m/3) at rung 0.
        assert_eq!(reached(0), 9.0);
        assert_eq!(reached(1), 1.0);
        assert_eq!(reached(2), 1.0);
        // Trial 3 is 4th of 4 at rung 0, keep = 1: stopped.
        assert_eq!(reached(3), 1.0);
        for a in &jobs {
            if a.rung > 0 {
                assert_eq!(a.resume_from, [1.0, 3.0][a.rung as usize - 1]);
            }
        }
    }

    #[test]
    fn asha_lets_the_best_so_far_go_on() {
        let mut s = Stopping::asha(budgets());
        // Losses fall with the trial id: every trial is the best yet, so every one goes on.
        let jobs = serial(&mut s, 6, |t, b| 100.0 - t as f64 - b);
        assert_eq!(jobs.iter().filter(|a| a.budget == 9.0).count(), 6);
    }

    #[test]
    fn hyperband_brackets_start_their_plans_trials_at_their_lowest_rung() {
        let plans = hyperband_brackets(&budgets(), BracketSizes::Algorithm);
        let mut s = Stopping::hyperband(budgets(), BracketSizes::Algorithm)
            .with_max_brackets(plans.len() as u64);
        // Losses rise with the trial id: within each bracket only its first trial goes on.
        let jobs = serial(&mut s, 1000, |t, b| t as f64 - b);
        for (b, plan) in plans.iter().enumerate() {
            let at = |k: u32| {
                jobs.iter()
                    .filter(|a| a.bracket == b as u64 && a.rung == k)
                    .collect::<Vec<_>>()
            };
            assert_eq!(at(0).len() as u64, plan.rungs[0].n, "bracket {b}");
            assert!(at(0).iter().all(|a| a.budget == plan.rungs[0].budget));
            for k in 1..plan.rungs.len() as u32 {
                assert_eq!(at(k).len(), 1, "bracket {b} rung {k}: only the best so far");
            }
        }
        assert_eq!(s.ask(&mut Counter::default()), Decision::Done);
    }

    #[test]
    fn failures_and_the_top_rung_stop() {
        let mut s = Stopping::asha(budgets());
        let mut source = Counter::default();
        let Decision::Run(a) = s.ask(&mut source) else {
            panic!()
        };
        s.tell(&a, None);
        assert_eq!(s.continuation(), None);
        let Decision::Run(b) = s.ask(&mut source) else {
            panic!()
        };
        s.tell(&b, Some(1.0));
        let next = s.continuation().unwrap();
        let last = Assignment {
            budget: 9.0,
            rung: 2,
            ..next
        };
        s.tell(&last, Some(0.5));
        assert_eq!(s.continuation(), None);
    }

    #[test]
    fn a_refused_trial_changes_nothing() {
        let mut s = Stopping::hyperband(budgets(), BracketSizes::Algorithm);
        let mut none = Counter {
            limit: Some(0),
            ..Counter::default()
        };
        assert_eq!(s.ask(&mut none), Decision::Done);
        assert!(s.brackets.is_empty());
    }
}
