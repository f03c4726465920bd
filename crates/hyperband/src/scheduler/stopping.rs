//! Stopping rules: ASHA and Hyperband for programs that cannot resume from a checkpoint.
//!
//! A trial is started once, to the largest budget, and its run is cut into segments, one
//! per rung: the job of rung `k` covers the budget from `r_(k-1)` to `r_k` and ends when
//! the running program reports a value at `r_k`. That value is the trial's result at the
//! rung, and the decision is made there and then, never waiting for the rung to fill (the
//! program keeps training meanwhile): the trial goes on ([`Ruling::next`] names its next
//! segment) or is stopped.
//!
//! The rule is the one of Optuna's `SuccessiveHalvingPruner` and Ray Tune's ASHA: a trial
//! goes on when fewer than `max(1, floor(m / eta))` of the `m` results at its rung so far
//! (its own included) are better than it.
//!
//! The `max(1, ...)` lets the first `eta - 1` trials at a rung go on with nothing, or too
//! little, to compare them with: they go on *on credit*. Unlike those pruners, the credit
//! is settled: when the rung's `eta`-th result comes in, every trial that went on on credit
//! and is still in its next segment (it has not reported at the next rung) is ruled on
//! again by the same rule, now that it binds, and stopped where it fails
//! ([`Ruling::revoked`]). With several workers this stops early starters that later
//! results outrank while they train on; with one worker a trial's program ends before the
//! next trial starts, so there is nothing in flight to stop and the rule is theirs. Hyperband runs its brackets as Optuna's
//! `HyperbandPruner` does: each bracket starts its plan's number of trials at its own
//! lowest rung and applies the rule among its own trials only. Capping each rung at the
//! plan's `n_(k+1)` as well was tried and measured worse (MF-Hartmann-6 median regret 1.39
//! against 0.78, 10 seeds): decided on arrival, the cap goes to the earliest trials of a
//! bracket, not the best, and stops the good ones that come later.

use super::{
    hyperband_brackets, Assignment, BracketPlan, BracketSizes, Budgets, Decision, Ruling,
    Scheduler, TrialSource,
};
use crate::job::TrialId;
use std::collections::BTreeSet;

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
    /// Results reported at each rung so far (failures as +inf: they rank last).
    results: Vec<Vec<(TrialId, f64)>>,
    /// At each rung, the trials that went on from it on credit (while it had fewer than
    /// `eta` results) and have not reported at the next rung yet.
    on_credit: Vec<Vec<TrialId>>,
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
            on_credit: vec![Vec::new(); n],
            started: 0,
        }
    }

    fn accepts_trials(&self) -> bool {
        self.trials.is_none_or(|n| self.started < n)
    }

    /// Records `trial`'s `loss` at `rung` and rules: whether the trial goes past it (never,
    /// unless `may_go_on`), and which trials on credit at this rung its result settles
    /// against.
    fn rule(
        &mut self,
        rung: usize,
        trial: TrialId,
        loss: f64,
        may_go_on: bool,
        eta: u32,
    ) -> (bool, Vec<TrialId>) {
        if rung > 0 {
            // It reached this rung: its credit at the one below is spent.
            self.on_credit[rung - 1].retain(|&t| t != trial);
        }
        let results = &mut self.results[rung];
        results.push((trial, loss));
        let goes_on = may_go_on
            && rung + 1 < self.budgets.len()
            && loss.is_finite()
            && Self::in_top(results, loss, eta);
        let m = results.len();
        if goes_on && m < eta as usize {
            self.on_credit[rung].push(trial);
        }
        let mut revoked = Vec::new();
        if m == eta as usize {
            for t in std::mem::take(&mut self.on_credit[rung]) {
                let own = results
                    .iter()
                    .find(|r| r.0 == t)
                    .map_or(f64::INFINITY, |r| r.1);
                if !Self::in_top(results, own, eta) {
                    revoked.push(t);
                }
            }
        }
        (goes_on, revoked)
    }

    /// Whether fewer than `max(1, floor(m / eta))` of the rung's `m` results beat `loss`.
    fn in_top(results: &[(TrialId, f64)], loss: f64, eta: u32) -> bool {
        let better = results.iter().filter(|r| r.1 < loss).count() as u64;
        better < (results.len() as u64 / eta as u64).max(1)
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
    /// Trials whose credit was revoked: a result they still report (before their worker
    /// learns they are stopped) is recorded at its rung, but they go no further.
    revoked: BTreeSet<TrialId>,
    /// Whether credit is settled (rules 1 and later); logs written under rules 0 decided
    /// on arrival only, and replay the same.
    settle_credit: bool,
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
            revoked: BTreeSet::new(),
            settle_credit: true,
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
            revoked: BTreeSet::new(),
            settle_credit: true,
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

    fn tell(&mut self, assignment: &Assignment, loss: Option<f64>) -> Ruling {
        let eta = self.budgets.eta;
        let Some(bracket) = self.brackets.get_mut(assignment.bracket as usize) else {
            return Ruling::default();
        };
        let rung = assignment.rung as usize;
        let loss = loss.unwrap_or(f64::INFINITY);
        let may_go_on = !self.revoked.contains(&assignment.trial);
        let (goes_on, mut revoked) = bracket.rule(rung, assignment.trial, loss, may_go_on, eta);
        if !self.settle_credit {
            revoked.clear();
        }
        let next = goes_on.then(|| Assignment {
            trial: assignment.trial,
            budget: bracket.budgets[rung + 1],
            resume_from: bracket.budgets[rung],
            bracket: assignment.bracket,
            rung: assignment.rung + 1,
        });
        self.revoked.extend(revoked.iter().copied());
        Ruling { next, revoked }
    }

    fn follow_rules(&mut self, rules: u32) {
        self.settle_credit = rules >= 1;
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
                match s.tell(&a, Some(loss(a.trial.0, a.budget))).next {
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

    /// Asks for `n` new trials at once, as `n` workers would.
    fn start(s: &mut Stopping, source: &mut Counter, n: usize) -> Vec<Assignment> {
        (0..n)
            .map(|_| match s.ask(source) {
                Decision::Run(a) => a,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn credit_is_settled_at_the_rungs_eta_th_result() {
        let mut s = Stopping::asha(budgets());
        let mut source = Counter::default();
        let a = start(&mut s, &mut source, 4);
        // Trials 0 and 1 arrive first: nothing to beat, they go on on credit.
        let next0 = s.tell(&a[0], Some(5.0)).next.expect("on credit");
        let next1 = s.tell(&a[1], Some(4.0)).next.expect("best so far");
        // The third result beats both: with three results only the best goes on.
        let ruling = s.tell(&a[2], Some(3.0));
        assert_eq!(ruling.next.map(|n| n.trial), Some(TrialId(2)));
        assert_eq!(ruling.revoked, vec![TrialId(0), TrialId(1)]);
        // A result a revoked trial reports before hearing of it is kept, and ends it.
        let told = s.tell(&next0, Some(2.0));
        assert_eq!(told, Ruling::default());
        assert_eq!(s.brackets[0].results[1], vec![(TrialId(0), 2.0)]);
        // Credit is settled once: later results rule on their own trial only.
        let ruling = s.tell(&a[3], Some(1.0));
        assert!(ruling.revoked.is_empty() && ruling.next.is_some());
        assert_eq!(s.tell(&next1, Some(0.5)).next, None);
    }

    #[test]
    fn under_rules_0_credit_is_never_settled_as_older_logs_were_decided() {
        let mut s = Stopping::asha(budgets());
        s.follow_rules(0);
        let mut source = Counter::default();
        let a = start(&mut s, &mut source, 3);
        let next0 = s.tell(&a[0], Some(5.0)).next.unwrap();
        s.tell(&a[1], Some(4.0));
        assert_eq!(s.tell(&a[2], Some(3.0)).revoked, vec![]);
        // The trial that would have been revoked goes on from its next rung.
        assert!(s.tell(&next0, Some(0.1)).next.is_some());
    }

    #[test]
    fn a_trial_that_reached_its_next_rung_has_spent_its_credit() {
        let mut s = Stopping::asha(budgets());
        let mut source = Counter::default();
        let a = start(&mut s, &mut source, 3);
        let next0 = s.tell(&a[0], Some(5.0)).next.unwrap();
        // Trial 0 reports at rung 1 before rung 0 has three results: decided there now.
        assert!(s.tell(&next0, Some(4.0)).next.is_some());
        s.tell(&a[1], Some(1.0));
        assert!(s.tell(&a[2], Some(2.0)).revoked.is_empty());
    }

    #[test]
    fn a_credit_trial_still_in_the_top_keeps_going() {
        let mut s = Stopping::hyperband(budgets(), BracketSizes::Algorithm);
        let mut source = Counter::default();
        let a = start(&mut s, &mut source, 3);
        s.tell(&a[0], Some(1.0)).next.unwrap();
        assert_eq!(s.tell(&a[1], Some(2.0)).next, None);
        let ruling = s.tell(&a[2], Some(3.0));
        assert_eq!(ruling, Ruling::default());
    }

    #[test]
    fn failures_and_the_top_rung_stop() {
        let mut s = Stopping::asha(budgets());
        let mut source = Counter::default();
        let Decision::Run(a) = s.ask(&mut source) else {
            panic!()
        };
        assert_eq!(s.tell(&a, None), Ruling::default());
        let Decision::Run(b) = s.ask(&mut source) else {
            panic!()
        };
        let next = s.tell(&b, Some(1.0)).next.unwrap();
        let last = Assignment {
            budget: 9.0,
            rung: 2,
            ..next
        };
        assert_eq!(s.tell(&last, Some(0.5)).next, None);
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
