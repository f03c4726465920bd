//! Stop mode on a store: a trial's program runs once, and each rung it reaches is one job
//! of the log, reported the moment the program's value at that budget comes in, together
//! with the decision (the next segment's `JobIssued`, or nothing: stop), in one
//! transaction. A replica replaying the log therefore takes the same decisions, and a
//! runner killed mid-trial loses only the segment that was running (re-run from scratch).

use super::{catch_up, evaluate, with_retries, StoreWorker, WorkerReport, NO_JOB};
use crate::job::{Evaluation, Job, Outcome};
use crate::objective::{Monitor, Verdict};
use crate::storage::{now, EventStore, Lease, Replica, StorageError, StoredEvent};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Relative slack when comparing a reported budget with a rung's, as the plan does.
const BUDGET_TOLERANCE: f64 = 1e-9;

/// How often a running program's reports look in the log for a request to stop its
/// segment ([`crate::Study::stop_requested`]): often enough that a revoked trial stops
/// within about an epoch, rarely enough that a program reporting every step does not read
/// the store each time.
const STOP_CHECK_INTERVAL: Duration = Duration::from_millis(500);

impl<S: EventStore + 'static> StoreWorker<S> {
    /// [`run`](Self::run) for a study whose scheduler is a stopping rule
    /// ([`crate::Study::stops`]): `objective` trains the job's trial to the job's budget
    /// (the largest), reporting its values to the [`Monitor`] as it goes, and stops when
    /// told. A program that ends before its last rung's budget fails that rung's job.
    pub fn run_stopping<F>(
        &mut self,
        heartbeat_store: impl FnMut() -> Result<S, StorageError> + Send,
        objective: F,
        deadline: Option<Instant>,
        stop: &AtomicBool,
        observer: &mut dyn FnMut(&Replica, &Job, &Outcome),
    ) -> Result<WorkerReport, StorageError>
    where
        F: Fn(&Job, &mut dyn Monitor) -> Result<Evaluation, String>,
    {
        let mut run_job = |worker: &mut Self, job: Job, current: &AtomicU64| {
            worker.run_segments(job, &objective, current)
        };
        self.run_with(heartbeat_store, &mut run_job, deadline, stop, observer)
    }

    fn run_segments<F>(
        &mut self,
        job: Job,
        objective: &F,
        current: &AtomicU64,
    ) -> Option<(Job, Outcome, f64)>
    where
        F: Fn(&Job, &mut dyn Monitor) -> Result<Evaluation, String>,
    {
        let target = self.replica.study().program_budget().unwrap_or(job.budget);
        // The program starts from scratch, whichever rung its first segment is (a lost
        // segment is re-run by a new program).
        let program = Job {
            budget: target,
            resume_from: 0.0,
            ..job.clone()
        };
        let mut segments = Segments {
            worker: self,
            open: Some(job),
            fresh: true,
            curve: Vec::new(),
            last_budget: None,
            reached: None,
            start: Instant::now(),
            checked: Instant::now(),
            current,
        };
        let outcome = evaluate(|| objective(&program, &mut segments));
        let (open, fresh, curve) = (segments.open.take()?, segments.fresh, segments.curve);
        let seconds = segments.start.elapsed().as_secs_f64();
        let reached = segments.last_budget;
        // What a failing segment is charged: the budget its program reached past the
        // segment's start (from scratch for a program's first segment); when nothing says
        // how far it got, the segment's expected cost, as for any failed job.
        let start = if fresh { 0.0 } else { open.resume_from };
        let used = segments.reached.map(|r| (r - start).max(0.0));
        let outcome = match outcome {
            Outcome::Finished(eval) if open.budget >= target * (1.0 - BUDGET_TOLERANCE) => {
                // It trained to its budget without saying so in a way we could read.
                Outcome::Finished(segment_evaluation(eval, &open, fresh, curve))
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

    /// Under the study lock: stores `job`'s result and, when its trial goes on, issues
    /// the trial's next segment to this worker; returns that segment (for callers that
    /// drive a stop-mode study themselves, as the Python package's ask/tell does).
    pub fn tell_and_continue(
        &mut self,
        job: &Job,
        outcome: Outcome,
        seconds: f64,
    ) -> Result<Option<Job>, StorageError> {
        if self.stale {
            self.sync()?;
        }
        let event = self.result_event(job, outcome, seconds);
        let (study_id, lease) = (self.study_id, self.lease);
        let name = &self.name;
        let replica = &mut self.replica;
        let cursor = replica.cursor();
        let result = self
            .store
            .locked(study_id, cursor.saturating_sub(1), &mut |log, events| {
                catch_up(replica, events, cursor, study_id)?;
                let t = now();
                let seq = log.append(&event, t)?;
                replica.apply(&StoredEvent {
                    seq,
                    at: t,
                    event: event.clone(),
                })?;
                let Some(next) = replica.study_mut().continue_trial(job.trial) else {
                    return Ok(None);
                };
                let issued = Replica::issued_event(&next, name);
                let lease = Lease {
                    job: next.id,
                    worker: name.clone(),
                    expires_at: t + lease.as_secs_f64(),
                };
                let seq = log.issue(&issued, t, &lease)?;
                replica.record_issue(seq, t, name);
                Ok(Some(next))
            });
        if result.is_err() {
            self.stale = true;
        }
        result
    }
}

/// The monitor of one program: the segment (job) it is in, and the values reported since
/// that segment began.
struct Segments<'a, S: EventStore> {
    worker: &'a mut StoreWorker<S>,
    /// The job whose budget the program has not reached yet; `None` once it is stopped.
    open: Option<Job>,
    /// Still in the program's first segment (which it ran from scratch).
    fresh: bool,
    curve: Vec<(f64, f64)>,
    last_budget: Option<f64>,
    /// The furthest budget the program is known to have trained to, value or not.
    reached: Option<f64>,
    /// When the open segment began.
    start: Instant,
    /// When the log was last read for a request to stop the open segment.
    checked: Instant,
    current: &'a AtomicU64,
}

impl<S: EventStore + 'static> Segments<'_, S> {
    /// Whether the study asks for `open` to stop, reading the log at most every
    /// [`STOP_CHECK_INTERVAL`]. A log that cannot be read now asks nothing: the next
    /// report looks again.
    fn stop_requested(&mut self, open: &Job) -> bool {
        if self.checked.elapsed() < STOP_CHECK_INTERVAL {
            return false;
        }
        self.checked = Instant::now();
        self.worker.sync().is_ok() && self.worker.replica.study().stop_requested(open.id)
    }

    /// Stops `open`'s program as the study asked, charging it the budget it reached in
    /// the segment. Should the report not be stored, the segment's lease lapses and it is
    /// declared lost, which ends a revoked segment all the same.
    fn stop(&mut self, open: &Job) -> Verdict {
        let start = if self.fresh { 0.0 } else { open.resume_from };
        let used = self.reached.map_or(0.0, |r| (r - start).max(0.0));
        let seconds = self.start.elapsed().as_secs_f64();
        let window = self.worker.retry_window.min(self.worker.lease / 2);
        let _ = with_retries(window, || {
            self.worker.report(open, Outcome::Stopped { used }, seconds)
        });
        self.current.store(NO_JOB, Ordering::Relaxed);
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

impl<S: EventStore + 'static> Monitor for Segments<'_, S> {
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
                if self.stop_requested(&open) {
                    return self.stop(&open);
                }
                self.open = Some(open);
                return Verdict::Continue;
            }
            let mut curve = std::mem::take(&mut self.curve);
            curve.push((budget, loss));
            let eval = segment_evaluation(Evaluation::new(loss), &open, self.fresh, curve);
            let seconds = self.start.elapsed().as_secs_f64();
            let window = self.worker.retry_window.min(self.worker.lease / 2);
            let told = with_retries(window, || {
                self.worker
                    .tell_and_continue(&open, Outcome::Finished(eval.clone()), seconds)
            });
            match told {
                Ok(Some(next)) => {
                    self.current.store(next.id.0, Ordering::Relaxed);
                    let within = budget < next.budget * (1.0 - BUDGET_TOLERANCE);
                    self.open = Some(next);
                    self.fresh = false;
                    self.start = Instant::now();
                    if within {
                        // The value belongs to the rung just told, not to the next curve.
                        return Verdict::Continue;
                    }
                }
                Ok(None) => return Verdict::Stop,
                Err(_) => {
                    // Not stored: the segment stays running in the log until its lease
                    // expires, and is then re-run by whoever takes it.
                    self.current.store(NO_JOB, Ordering::Relaxed);
                    return Verdict::Stop;
                }
            }
        }
    }
}
