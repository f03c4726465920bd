//! An in-memory study kept in step with a stored log by replaying its events.

use super::{Event, EventStore, IssuedJob, StorageError, StoredEvent};
use crate::job::{Job, JobId, Outcome};
use crate::study::{Study, TellError, Told};
use std::collections::BTreeMap;

/// What the log says about a job beyond the study's own record (for status and export).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobMeta {
    pub worker: String,
    pub issued_at: f64,
    pub ended_at: Option<f64>,
    pub seconds: Option<f64>,
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// Results that arrived after the job had been declared lost.
    pub late_results: u32,
}

/// A study plus its position in the log.
#[derive(Debug)]
pub struct Replica {
    name: String,
    study: Study,
    cursor: u64,
    /// When the event at `cursor` was written: with `cursor`, what identifies it.
    cursor_at: f64,
    meta: Vec<JobMeta>,
    /// Results reported twice for one job (a worker retrying a commit), ignored.
    duplicates: u64,
    /// Results for jobs the log never issued to their reporter, ignored (see `apply`).
    orphans: u64,
    /// When workers stop taking jobs (seconds since the epoch), as the log's last
    /// `LimitsSet` says.
    deadline: Option<f64>,
}

impl Replica {
    /// `study` must be freshly built from the stored spec: nothing asked or told yet.
    pub fn new(name: &str, study: Study) -> Self {
        Self {
            name: name.to_string(),
            study,
            cursor: 0,
            cursor_at: 0.0,
            meta: Vec::new(),
            duplicates: 0,
            orphans: 0,
            deadline: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn study(&self) -> &Study {
        &self.study
    }

    pub fn study_mut(&mut self) -> &mut Study {
        &mut self.study
    }

    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// When the last applied event was written.
    pub fn cursor_at(&self) -> f64 {
        self.cursor_at
    }

    pub fn meta(&self) -> &[JobMeta] {
        &self.meta
    }

    /// When workers stop taking new jobs (seconds since the Unix epoch), if the study's run
    /// set a time limit.
    pub fn deadline(&self) -> Option<f64> {
        self.deadline
    }

    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Results kept in the log but not counted because the log does not say their job was
    /// issued to the worker that reported them: after a database crash took back a
    /// lazily flushed decision, the job number may be unknown or re-issued to another.
    pub fn orphans(&self) -> u64 {
        self.orphans
    }

    /// Applies every event the store has after our cursor.
    pub fn sync<S: EventStore>(
        &mut self,
        store: &mut S,
        study_id: i64,
    ) -> Result<(), StorageError> {
        for event in store.events_after(study_id, self.cursor)? {
            self.apply(&event)?;
        }
        Ok(())
    }

    /// Applies one event; events must come in log order.
    pub fn apply(&mut self, stored: &StoredEvent) -> Result<(), StorageError> {
        let corrupt = |problem: String| StorageError::CorruptEvent {
            name: self.name.clone(),
            seq: stored.seq,
            problem,
        };
        debug_assert!(stored.seq > self.cursor, "events out of order");
        if let Some(job) = stored.event.ends_job() {
            let issued_to = self.meta.get(job.0 as usize).map(|m| m.worker.as_str());
            let orphan = match (issued_to, stored.event.worker()) {
                (None, _) => true,
                (Some(issuer), Some(reporter)) => issuer != reporter,
                // A loss names no worker: it is about whoever holds the job.
                (Some(_), None) => false,
            };
            if orphan {
                self.orphans += 1;
                self.cursor = stored.seq;
                self.cursor_at = stored.at;
                return Ok(());
            }
        }
        match &stored.event {
            // Replayed under the rules the log was written under.
            Event::StudyCreated { rules, .. } => self.study.follow_rules(*rules),
            Event::JobIssued { job, worker } => {
                let job = job.to_job(self.study.space()).map_err(corrupt)?;
                self.study
                    .replay_issued(&job)
                    .map_err(|e| StorageError::Unreplayable {
                        name: self.name.clone(),
                        seq: stored.seq,
                        problem: e.to_string(),
                    })?;
                self.meta.push(JobMeta {
                    worker: worker.clone(),
                    issued_at: stored.at,
                    ..JobMeta::default()
                });
            }
            Event::JobFinished {
                job,
                evaluation,
                seconds,
                ..
            } => {
                let outcome = Outcome::Finished(evaluation.clone());
                if self.tell(*job, outcome, stored.at, Some(*seconds))? {
                    self.meta[job.0 as usize].metrics = evaluation.metrics.clone();
                }
            }
            Event::JobFailed {
                job,
                reason,
                seconds,
                used,
                ..
            } => {
                self.tell(
                    *job,
                    Outcome::Failed {
                        reason: reason.clone(),
                        used: *used,
                    },
                    stored.at,
                    Some(*seconds),
                )?;
            }
            Event::JobStopped {
                job, seconds, used, ..
            } => {
                let outcome = Outcome::Stopped { used: *used };
                self.tell(*job, outcome, stored.at, Some(*seconds))?;
            }
            Event::JobLost { job, .. } => {
                self.tell(*job, Outcome::Lost, stored.at, None)?;
            }
            Event::LimitsSet {
                limits,
                max_seconds,
            } => {
                self.study.set_limits(*limits);
                self.deadline = max_seconds.map(|s| stored.at + s);
            }
            Event::Enqueued { config } => {
                let config = super::event::config_from_json(config, self.study.space())
                    .map_err(|e| corrupt(format!("an enqueued configuration: {e}")))?;
                self.study
                    .enqueue(config)
                    .map_err(|e| corrupt(format!("an enqueued configuration: {e}")))?;
            }
        }
        self.cursor = stored.seq;
        self.cursor_at = stored.at;
        Ok(())
    }

    /// Tells the study; returns whether the result counted.
    fn tell(
        &mut self,
        job: JobId,
        outcome: Outcome,
        at: f64,
        seconds: Option<f64>,
    ) -> Result<bool, StorageError> {
        match self.study.tell(job, outcome) {
            Ok(Told::Late) => {
                self.meta[job.0 as usize].late_results += 1;
                Ok(false)
            }
            Ok(_) => {
                let meta = &mut self.meta[job.0 as usize];
                meta.ended_at = Some(at);
                meta.seconds = seconds;
                Ok(true)
            }
            Err(TellError::AlreadyReported(..)) => {
                self.duplicates += 1;
                Ok(false)
            }
            Err(e @ TellError::UnknownJob(_)) => Err(StorageError::CorruptEvent {
                name: self.name.clone(),
                seq: self.cursor + 1,
                problem: e.to_string(),
            }),
        }
    }

    /// Records a job this replica's own study just issued to `worker` and the log stored
    /// at `seq`.
    pub(crate) fn record_issue(&mut self, seq: u64, at: f64, worker: &str) {
        self.meta.push(JobMeta {
            worker: worker.to_string(),
            issued_at: at,
            ..JobMeta::default()
        });
        self.cursor = seq;
        self.cursor_at = at;
    }

    /// The event that records `job` as issued by `worker`.
    pub fn issued_event(job: &Job, worker: &str) -> Event {
        Event::JobIssued {
            job: IssuedJob::from_job(job),
            worker: worker.to_string(),
        }
    }
}
