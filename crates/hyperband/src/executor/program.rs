//! Stop mode's one program per trial: the program trains once to the largest budget and
//! reports its values as it goes; each rung it reaches ends one segment (job) of the
//! trial, told with the decision (the next segment, or stop) at once. [`Program`] turns a
//! program's reports into those segments for any [`SegmentLog`]: a store shared by many
//! workers ([`crate::executor::StoreWorker::run_stopping`]) or a study in memory (the
//! Python package's `optimize`), so the rules that cut a curve into segments, and what a
//! stopped or short program is charged, live in this one place.

use crate::job::{Evaluation, Job, Outcome};
use crate::objective::{Monitor, Verdict};
use crate::study::Study;
use std::time::Instant;

/// Relative slack when comparing a reported budget with a rung's, as the plan does.
const BUDGET_TOLERANCE: f64 = 1e-9;

/// Where a program's segments are recorded.
pub trait SegmentLog {
    /// Records `job`'s result (the program reached its budget) and returns the trial's
    /// next segment when the trial goes on, `Ok(None)` when it stops here, and `Err(())`
    /// when the result could not be recorded (the program is stopped; whoever records
    /// the segment's loss later re-runs it).
    #[allow(clippy::result_unit_err)]
    fn finish(&mut self, job: &Job, outcome: Outcome, seconds: f64) -> Result<Option<Job>, ()>;

    /// Whether the study asks for running segment `job` to stop (its trial was ranked out
    /// after it went on). It may look only now and then.
    fn stop_requested(&mut self, job: &Job) -> bool;

    /// Records that `job` was stopped as asked, having trained `used` past its start.
    fn stopped(&mut self, job: &Job, used: f64, seconds: f64);
}

/// A study in memory records segments directly.
impl SegmentLog for Study {
    fn finish(&mut self, job: &Job, outcome: Outcome, _seconds: f64) -> Result<Option<Job>, ()> {
        self.tell_and_continue(job.id, outcome)
            .map(|(_, next)| next)
            .map_err(|_| ())
    }

    fn stop_requested(&mut self, job: &Job) -> bool {
        Study::stop_requested(self, job.id)
    }

    fn stopped(&mut self, job: &Job, used: f64, _seconds: f64) {
        let _ = self.tell(job.id, Outcome::Stopped { used });
    }
}

/// The job a stop-mode program for segment `first` is started with: from scratch, to
/// `target` (the study's [`Study::program_budget`]), whichever rung `first` is (a lost
/// segment is re-run by a new program).
pub fn program_job(first: &Job, target: f64) -> Job {
    Job {
        budget: target,
        resume_from: 0.0,
        ..first.clone()
    }
}

/// The monitor of one running program: the segment it is in, and the values reported
/// since that segment began.
pub struct Program<L: SegmentLog> {
    log: L,
    /// The segment whose budget the program has not reached yet; `None` once stopped.
    open: Option<Job>,
    /// Still in the program's first segment (which it ran from scratch).
    fresh: bool,
    curve: Vec<(f64, f64)>,
    last_budget: Option<f64>,
    /// The furthest budget the program is known to have trained to, value or not.
    reached: Option<f64>,
    /// When the open segment began.
    start: Instant,
}

impl<L: SegmentLog> Program<L> {
    /// A program started for segment `first` (a trial's first, or a lost segment re-run:
    /// either way the program trains from scratch).
    pub fn new(log: L, first: Job) -> Self {
        Self {
            log,
            open: Some(first),
            fresh: true,
            curve: Vec::new(),
            last_budget: None,
            reached: None,
            start: Instant::now(),
        }
    }

    /// Where the segments are recorded.
    pub fn log(&self) -> &L {
        &self.log
    }

    /// Whether the program has been told to stop (or every segment is told).
    pub fn is_stopped(&self) -> bool {
        self.open.is_none()
    }

    /// The segment still open when the program ended with `outcome`, and what it is
    /// recorded as: a program that ends before reporting the open segment's budget fails
    /// that segment, charged the budget it reached, unless it reported nothing at all and
    /// the segment is its last (`target`): then its outcome is the segment's. `None` when
    /// every segment was told or the program was stopped.
    pub fn end(self, outcome: Outcome, target: f64) -> Option<(Job, Outcome, f64)> {
        let open = self.open?;
        let seconds = self.start.elapsed().as_secs_f64();
        let reached = self.last_budget;
        // What a failing segment is charged: the budget its program reached past the
        // segment's start (from scratch for a program's first segment); when nothing says
        // how far it got, the segment's expected cost, as for any failed job.
        let start = if self.fresh { 0.0 } else { open.resume_from };
        let used = self.reached.map(|r| (r - start).max(0.0));
        let outcome = match outcome {
            // It trained to its budget without saying so in a way we could read. A program
            // that did report, and whose last report is short of the budget, stopped
            // early (a framework's own early stopping): its final value is no value at
            // this budget, so it falls to the failure below rather than being credited.
            Outcome::Finished(eval)
                if open.budget >= target * (1.0 - BUDGET_TOLERANCE) && reached.is_none() =>
            {
                Outcome::Finished(segment_evaluation(eval, &open, self.fresh, self.curve))
            }
            Outcome::Finished(_) => Outcome::Failed {
                reason: format!(
                    "the program ended {} before reaching budget {} (in stop mode it is \
                     started once with budget {target} and must report its values as it \
                     trains)",
                    match reached {
                        Some(b) => format!("after reporting budget {b}"),
                        None => "without reporting a value with its budget".to_string(),
                    },
                    open.budget,
                ),
                used,
            },
            Outcome::Failed { reason, used: None } => Outcome::Failed { reason, used },
            other => other,
        };
        Some((open, outcome, seconds))
    }

    /// Stops `open`'s program as the study asked, charging it the budget it reached in
    /// the segment.
    fn stop(&mut self, open: &Job) -> Verdict {
        let start = if self.fresh { 0.0 } else { open.resume_from };
        let used = self.reached.map_or(0.0, |r| (r - start).max(0.0));
        let seconds = self.start.elapsed().as_secs_f64();
        self.log.stopped(open, used, seconds);
        Verdict::Stop
    }
}

/// A segment's evaluation: the value at its budget, the curve since the last rung, and
/// whether it continued a program (a first segment above rung 0 started from scratch, so
/// it is charged its whole budget).
fn segment_evaluation(
    eval: Evaluation,
    job: &Job,
    fresh: bool,
    curve: Vec<(f64, f64)>,
) -> Evaluation {
    let mut eval = eval;
    if !curve.is_empty() {
        let points: Vec<serde_json::Value> = curve
            .iter()
            .map(|(b, v)| serde_json::json!([b, v]))
            .collect();
        eval = eval.with_metric("curve", points);
    }
    if fresh && job.resume_from > 0.0 {
        eval = eval.with_resumed(false);
    }
    eval
}

impl<L: SegmentLog> Monitor for Program<L> {
    fn awaiting(&self) -> Option<f64> {
        self.open.as_ref().map(|j| j.budget)
    }

    fn reached(&mut self, budget: f64) {
        self.reached = Some(self.reached.map_or(budget, |r| r.max(budget)));
    }

    fn report(&mut self, budget: f64, loss: f64) -> Verdict {
        self.last_budget = Some(budget);
        self.reached(budget);
        // One value may complete several segments (a program that reports rarely).
        loop {
            let Some(open) = self.open.take() else {
                return Verdict::Stop;
            };
            if budget < open.budget * (1.0 - BUDGET_TOLERANCE) {
                self.curve.push((budget, loss));
                if self.log.stop_requested(&open) {
                    return self.stop(&open);
                }
                self.open = Some(open);
                return Verdict::Continue;
            }
            let mut curve = std::mem::take(&mut self.curve);
            curve.push((budget, loss));
            let eval = segment_evaluation(Evaluation::new(loss), &open, self.fresh, curve);
            let seconds = self.start.elapsed().as_secs_f64();
            match self.log.finish(&open, Outcome::Finished(eval), seconds) {
                Ok(Some(next)) => {
                    let within = budget < next.budget * (1.0 - BUDGET_TOLERANCE);
                    self.open = Some(next);
                    self.fresh = false;
                    self.start = Instant::now();
                    if within {
                        // The value belongs to the rung just told, not to the next curve.
                        return Verdict::Continue;
                    }
                }
                Ok(None) | Err(()) => return Verdict::Stop,
            }
        }
    }
}
