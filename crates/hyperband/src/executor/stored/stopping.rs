//! Stop mode on a store: a trial's program runs once, and each rung it reaches is one job
//! of the log, reported the moment the program's value at that budget comes in, together
//! with the decision (the next segment's `JobIssued`, or nothing: stop), in one
//! transaction. A replica replaying the log therefore takes the same decisions, and a
//! runner killed mid-trial loses only the segment that was running (re-run from scratch).

use super::{catch_up, evaluate, with_retries, Ended, StoreWorker, WorkerReport, NO_JOB};
use crate::executor::program::{program_job, Program, SegmentLog};
use crate::job::{Evaluation, Job, Outcome};
use crate::objective::Monitor;
use crate::storage::{now, EventStore, Lease, Replica, StorageError, StoredEvent};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

    fn run_segments<F>(&mut self, job: Job, objective: &F, current: &AtomicU64) -> Ended
    where
        F: Fn(&Job, &mut dyn Monitor) -> Result<Evaluation, String>,
    {
        let target = self.replica.study().program_budget().unwrap_or(job.budget);
        let program = program_job(&job, target);
        let log = StoreLog {
            worker: self,
            checked: Instant::now(),
            current,
            last: None,
        };
        let mut segments = Program::new(log, job);
        let outcome = evaluate(|| objective(&program, &mut segments));
        let last = segments.log().last.clone();
        match (segments.end(outcome, target), last) {
            (Some((job, outcome, seconds)), _) => Ended::Pending(job, outcome, seconds),
            (None, Some((job, outcome))) => Ended::Recorded(job, outcome),
            (None, None) => Ended::Nothing,
        }
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

/// A store as the log of a program's segments: each is told with its decision in one
/// transaction, retried for a while; the heartbeat follows the open segment.
struct StoreLog<'a, S: EventStore> {
    worker: &'a mut StoreWorker<S>,
    /// When the log was last read for a request to stop the open segment.
    checked: Instant,
    current: &'a AtomicU64,
    /// The last segment stored, for the observer.
    last: Option<(Job, Outcome)>,
}

impl<S: EventStore + 'static> SegmentLog for StoreLog<'_, S> {
    fn finish(&mut self, job: &Job, outcome: Outcome, seconds: f64) -> Result<Option<Job>, ()> {
        let window = self.worker.retry_window.min(self.worker.lease / 2);
        let told = with_retries(window, || {
            self.worker.tell_and_continue(job, outcome.clone(), seconds)
        });
        if told.is_ok() {
            self.last = Some((job.clone(), outcome));
        }
        match told {
            Ok(Some(next)) => {
                self.current.store(next.id.0, Ordering::Relaxed);
                Ok(Some(next))
            }
            Ok(None) => Ok(None),
            Err(_) => {
                // Not stored: the segment stays running in the log until its lease
                // expires, and is then re-run by whoever takes it.
                self.current.store(NO_JOB, Ordering::Relaxed);
                Err(())
            }
        }
    }

    /// Reads the log at most every [`STOP_CHECK_INTERVAL`]. A log that cannot be read now
    /// asks nothing: the next report looks again.
    fn stop_requested(&mut self, job: &Job) -> bool {
        if self.checked.elapsed() < STOP_CHECK_INTERVAL {
            return false;
        }
        self.checked = Instant::now();
        self.worker.sync().is_ok() && self.worker.replica.study().stop_requested(job.id)
    }

    /// Should the report not be stored, the segment's lease lapses and it is declared
    /// lost, which ends a revoked segment all the same.
    fn stopped(&mut self, job: &Job, used: f64, seconds: f64) {
        let window = self.worker.retry_window.min(self.worker.lease / 2);
        let stopped = with_retries(window, || {
            self.worker.report(job, Outcome::Stopped { used }, seconds)
        });
        if stopped.is_ok() {
            self.last = Some((job.clone(), Outcome::Stopped { used }));
        }
        self.current.store(NO_JOB, Ordering::Relaxed);
    }
}
