//! Schedulers answer *how much to spend and on whom*.
//!
//! Each scheduler is a deterministic state machine: asked for work it answers
//! [`Decision::Run`], [`Decision::Wait`] or [`Decision::Done`], and it is told the result
//! of every assignment it handed out. It never sees configurations: when it wants a fresh
//! one it asks its [`TrialSource`], which the study backs with a sampler. Lost jobs and
//! retries are the study's business; a scheduler hears about an assignment once, with its
//! final loss or `None` for a failure.

mod asha;
mod bracket;
mod full_budget;
mod hyperband;
mod plan;
mod ranked_rung;
mod stopping;
mod successive_halving;

pub use asha::Asha;
pub use full_budget::FullBudget;
pub use hyperband::Hyperband;
pub use plan::{hyperband_brackets, BracketPlan, BracketSizes, Budgets, PlanError, RungPlan};
pub use stopping::Stopping;
pub use successive_halving::SuccessiveHalving;

use crate::job::TrialId;

/// One unit of work a scheduler hands out: train `trial` to `budget`, from `resume_from`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment {
    pub trial: TrialId,
    pub budget: f64,
    /// The budget this trial already reached in an earlier rung (0 for a new trial).
    pub resume_from: f64,
    pub bracket: u64,
    pub rung: u32,
}

/// What a stopping rule decides when told a result. Its trials' programs run on between
/// rungs, so the decision cannot wait for the next `ask`: it is made at the result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ruling {
    /// The next segment of the trial just told, when it goes on. Only the program still
    /// running that trial can take it: one not issued with the result is dropped (the
    /// trial stops).
    pub next: Option<Assignment>,
    /// Trials that went on past a rung before it had enough results to compare them,
    /// which this result ranks out of it: their running segments are to stop.
    pub revoked: Vec<TrialId>,
}

/// A scheduler's answer to a request for work.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<T> {
    Run(T),
    /// Nothing to do until a running job finishes (a synchronous rung is incomplete).
    Wait,
    /// Nothing left to do, ever.
    Done,
}

/// Where schedulers get fresh trials from.
pub trait TrialSource {
    /// A new trial with a freshly sampled configuration, or `None` when the study may
    /// create no more trials.
    fn new_trial(&mut self) -> Option<TrialId>;
}

/// A budget-allocation algorithm.
pub trait Scheduler: Send {
    fn name(&self) -> &'static str;

    /// The next assignment, if any.
    fn ask(&mut self, trials: &mut dyn TrialSource) -> Decision<Assignment>;

    /// The result of an assignment handed out by `ask`: `Some(loss)` (finite) or `None`
    /// for a failure, which ranks below every loss and is never promoted. Schedulers that
    /// promote decide when asked and rule nothing here; a stopping rule rules on the
    /// trial told and on trials its result ranks out (see [`Ruling`]).
    fn tell(&mut self, assignment: &Assignment, loss: Option<f64>) -> Ruling;

    /// Decide as version `rules` of the decision rules did ([`crate::study::RULES`]), so
    /// that a log written under older rules replays as it was decided. Schedulers whose
    /// rules never changed ignore it.
    fn follow_rules(&mut self, _rules: u32) {}

    /// For a stopping rule, the budget every trial's program is started with (the
    /// largest): its trials run once and are cut into one job per rung (see [`Stopping`]).
    fn program_budget(&self) -> Option<f64> {
        None
    }
}

/// A loss ordered totally, with failures (`None`) after every number.
pub(crate) fn rank_key(loss: Option<f64>) -> f64 {
    loss.unwrap_or(f64::INFINITY)
}

#[cfg(test)]
pub(crate) mod testing {
    //! A driver that runs a scheduler against an objective, for the scheduler tests.
    use super::*;

    /// Hands out trial ids 0, 1, 2, ... up to an optional limit.
    #[derive(Default)]
    pub struct Counter {
        pub next: u64,
        pub limit: Option<u64>,
    }

    impl TrialSource for Counter {
        fn new_trial(&mut self) -> Option<TrialId> {
            if self.limit.is_some_and(|l| self.next >= l) {
                return None;
            }
            self.next += 1;
            Some(TrialId(self.next - 1))
        }
    }

    /// Runs `scheduler` with one worker until Done or `max_jobs`, evaluating each
    /// assignment with `loss`; returns the assignments in order.
    pub fn run_serial(
        scheduler: &mut dyn Scheduler,
        trials: &mut Counter,
        max_jobs: usize,
        mut loss: impl FnMut(&Assignment) -> Option<f64>,
    ) -> Vec<Assignment> {
        let mut out = Vec::new();
        while out.len() < max_jobs {
            match scheduler.ask(trials) {
                Decision::Run(a) => {
                    let l = loss(&a);
                    scheduler.tell(&a, l);
                    out.push(a);
                }
                Decision::Wait => panic!("a serial run must never be told to wait"),
                Decision::Done => break,
            }
        }
        out
    }
}
