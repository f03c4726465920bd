//! One synchronous successive-halving bracket: rung by rung, the best `n_(i+1)` of rung `i`
//! go on once every job of rung `i` has reported.

use super::{rank_key, Assignment, BracketPlan, TrialSource};
use crate::job::TrialId;
use std::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct Bracket {
    id: u64,
    plan: BracketPlan,
    rung: usize,
    /// Promoted trials waiting to be issued at the current rung, with the budget they reached.
    queue: VecDeque<(TrialId, f64)>,
    /// New trials the current (first) rung still has to create.
    fresh: u64,
    in_flight: u64,
    results: Vec<(TrialId, Option<f64>)>,
    done: bool,
}

impl Bracket {
    pub fn new(id: u64, plan: BracketPlan) -> Self {
        let fresh = plan.rungs[0].n;
        Self {
            id,
            plan,
            rung: 0,
            queue: VecDeque::new(),
            fresh,
            in_flight: 0,
            results: Vec::new(),
            done: false,
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next job of the current rung, or `None` if the rung has handed out all of them.
    pub fn ask(&mut self, trials: &mut dyn TrialSource) -> Option<Assignment> {
        if self.done {
            return None;
        }
        let (trial, resume_from) = match self.queue.pop_front() {
            Some(next) => next,
            None if self.fresh > 0 => match trials.new_trial() {
                Some(t) => {
                    self.fresh -= 1;
                    (t, 0.0)
                }
                None => {
                    // The study allows no more trials: the rung runs with what it has.
                    self.fresh = 0;
                    self.advance_if_complete();
                    return self.ask(trials);
                }
            },
            None => return None,
        };
        self.in_flight += 1;
        Some(Assignment {
            trial,
            budget: self.plan.rungs[self.rung].budget,
            resume_from,
            bracket: self.id,
            rung: self.rung as u32,
        })
    }

    pub fn tell(&mut self, assignment: &Assignment, loss: Option<f64>) {
        debug_assert_eq!(assignment.rung as usize, self.rung);
        self.in_flight -= 1;
        self.results.push((assignment.trial, loss));
        self.advance_if_complete();
    }

    fn advance_if_complete(&mut self) {
        if self.done || self.in_flight > 0 || self.fresh > 0 || !self.queue.is_empty() {
            return;
        }
        if self.rung + 1 == self.plan.rungs.len() {
            self.done = true;
            return;
        }
        // Failures rank last and never go on, so a rung with failures promotes fewer.
        self.results
            .sort_by(|a, b| rank_key(a.1).total_cmp(&rank_key(b.1)).then(a.0.cmp(&b.0)));
        let successes = self.results.iter().filter(|r| r.1.is_some()).count() as u64;
        let keep = self.plan.rungs[self.rung + 1].n.min(successes) as usize;
        let reached = self.plan.rungs[self.rung].budget;
        self.queue = self.results[..keep]
            .iter()
            .map(|&(t, _)| (t, reached))
            .collect();
        self.results.clear();
        self.rung += 1;
        if keep == 0 {
            self.done = true;
        }
    }
}
