//! The events a study's log is made of. The log is the truth: a study's state is what
//! replaying its events in order produces.

use crate::config::{Config, Value};
use crate::job::{Evaluation, Job, JobId, TrialId};
use crate::space::Space;
use crate::study::Limits;
use serde::{Deserialize, Serialize};

/// A job as the log records it: everything needed to check a replayed decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedJob {
    pub id: JobId,
    pub trial: TrialId,
    /// Parameter name to value, in the space's order.
    pub config: serde_json::Map<String, serde_json::Value>,
    pub budget: f64,
    pub resume_from: f64,
    pub bracket: u64,
    pub rung: u32,
    pub attempt: u32,
}

/// A configuration as the log records it: parameter name to value.
pub fn config_json(config: &Config) -> serde_json::Map<String, serde_json::Value> {
    config
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::to_value(v).expect("values are JSON")))
        .collect()
}

/// A logged configuration, checked against `space`.
pub fn config_from_json(
    config: &serde_json::Map<String, serde_json::Value>,
    space: &Space,
) -> Result<Config, String> {
    let pairs = config
        .iter()
        .map(|(n, v)| {
            serde_json::from_value::<Value>(v.clone())
                .map(|v| (n.clone(), v))
                .map_err(|e| format!("parameter `{n}`: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    space.config(pairs).map_err(|e| e.to_string())
}

impl IssuedJob {
    pub fn from_job(job: &Job) -> Self {
        Self {
            id: job.id,
            trial: job.trial,
            config: config_json(&job.config),
            budget: job.budget,
            resume_from: job.resume_from,
            bracket: job.bracket,
            rung: job.rung,
            attempt: job.attempt,
        }
    }

    /// The job, its configuration checked against `space`.
    pub fn to_job(&self, space: &Space) -> Result<Job, String> {
        let config =
            config_from_json(&self.config, space).map_err(|e| format!("job {}: {e}", self.id))?;
        Ok(Job {
            id: self.id,
            trial: self.trial,
            config,
            budget: self.budget,
            resume_from: self.resume_from,
            bracket: self.bracket,
            rung: self.rung,
            attempt: self.attempt,
        })
    }
}

/// One entry of a study's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Always the first event: the study's full specification, as JSON.
    StudyCreated {
        spec: serde_json::Value,
        /// The version of the decision rules the log was written under
        /// ([`crate::Study::follow_rules`]); 0 in logs written before it was recorded.
        #[serde(default)]
        rules: u32,
    },
    JobIssued {
        job: IssuedJob,
        worker: String,
    },
    JobFinished {
        job: JobId,
        evaluation: Evaluation,
        worker: String,
        /// Seconds the objective ran.
        seconds: f64,
    },
    JobFailed {
        job: JobId,
        reason: String,
        worker: String,
        seconds: f64,
        /// The budget the job trained before failing, when known ([`Outcome::Failed`]);
        /// absent in logs written before stop mode charged failures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        used: Option<f64>,
    },
    /// Stop mode: the worker stopped the job's program because the study asked it to
    /// ([`crate::Study::stop_requested`]: a later result at an earlier rung ranked the
    /// trial out), after it trained `used` of the segment's budget. Logs written before
    /// stop mode settled credit never hold one.
    JobStopped {
        job: JobId,
        worker: String,
        seconds: f64,
        used: f64,
    },
    /// The job's lease expired or its worker is known dead: it goes back to the scheduler.
    JobLost {
        job: JobId,
        reason: String,
    },
    /// The stop criteria from here on, written by `run` when they change, so that every
    /// replica (a worker given no study file, `status`, the progress display) applies the
    /// same ones. They never change a replayed decision.
    LimitsSet {
        limits: Limits,
        /// Workers take no new job once this many seconds have passed since the event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_seconds: Option<f64>,
    },
    /// A configuration to evaluate as the next new trial, before the sampler's (the study
    /// file's `[[enqueue]]`, the library's `enqueue`). In the log so that whichever
    /// replica decides next starts it, and replay knows the queue.
    Enqueued {
        /// Parameter name to value.
        config: serde_json::Map<String, serde_json::Value>,
    },
}

/// An event with its place in the log and the time it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: u64,
    /// Seconds since the Unix epoch.
    pub at: f64,
    pub event: Event,
}

impl Event {
    /// The event's name in the stores' `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::StudyCreated { .. } => "study_created",
            Event::JobIssued { .. } => "job_issued",
            Event::JobFinished { .. } => "job_finished",
            Event::JobFailed { .. } => "job_failed",
            Event::JobStopped { .. } => "job_stopped",
            Event::JobLost { .. } => "job_lost",
            Event::LimitsSet { .. } => "limits_set",
            Event::Enqueued { .. } => "enqueued",
        }
    }

    /// The job this event ends (a result or a loss), whose lease it therefore drops.
    pub fn ends_job(&self) -> Option<JobId> {
        match self {
            Event::JobFinished { job, .. }
            | Event::JobFailed { job, .. }
            | Event::JobStopped { job, .. }
            | Event::JobLost { job, .. } => Some(*job),
            _ => None,
        }
    }

    /// The worker that reported a result or issued a job.
    pub fn worker(&self) -> Option<&str> {
        match self {
            Event::JobIssued { worker, .. }
            | Event::JobFinished { worker, .. }
            | Event::JobFailed { worker, .. }
            | Event::JobStopped { worker, .. } => Some(worker),
            _ => None,
        }
    }
}
