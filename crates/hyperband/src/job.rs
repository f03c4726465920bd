//! Trials, jobs and what comes back from evaluating them.

use crate::config::Config;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One configuration followed over budgets (its learning curve), numbered from 0 in the
/// order the study created them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrialId(pub u64);

/// One evaluation request, numbered from 0 in the order the study issued them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl fmt::Display for TrialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// "Evaluate trial `trial` (configuration `config`) at `budget`, continuing from
/// `resume_from` where a checkpoint of that trial at that budget exists."
///
/// `resume_from` is 0 for a trial's first job. An objective that cannot resume simply
/// trains from scratch; the study's cost model decides what the job is charged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: JobId,
    pub trial: TrialId,
    pub config: Config,
    pub budget: f64,
    pub resume_from: f64,
    /// Which bracket of the scheduler the job belongs to (0 for single-bracket schedulers).
    pub bracket: u64,
    /// Which rung of its bracket (0 = the lowest budget).
    pub rung: u32,
    /// 0 for the first attempt; retries after failures or lost leases count up.
    pub attempt: u32,
}

/// A successful evaluation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evaluation {
    /// Lower is better. Must be finite: the study turns NaN and infinities into failures.
    pub loss: f64,
    /// Other figures the objective reported (accuracy, wall time, ...), kept for reports.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// `Some(false)` when an objective asked to resume started from scratch instead, so
    /// that the job is charged its full budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed: Option<bool>,
}

impl Evaluation {
    pub fn new(loss: f64) -> Self {
        Self {
            loss,
            ..Self::default()
        }
    }

    pub fn with_metric(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.metrics.insert(name.to_string(), value.into());
        self
    }

    pub fn with_resumed(mut self, resumed: bool) -> Self {
        self.resumed = Some(resumed);
        self
    }
}

impl From<f64> for Evaluation {
    fn from(loss: f64) -> Self {
        Self::new(loss)
    }
}

/// What became of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Outcome {
    Finished(Evaluation),
    /// The objective ran and failed (crash, bad output, timeout, non-finite loss).
    Failed {
        reason: String,
        /// The budget the objective trained before it failed, when it knows (a program in
        /// stop mode that announced its epochs): the job is charged that instead of its
        /// expected cost, so that a trial that ran to the end and failed pays for it.
        used: Option<f64>,
    },
    /// The worker vanished (its lease expired): the job is issued again.
    Lost,
    /// Stop mode: the study asked for this running segment to stop ([`crate::Study::stop_requested`])
    /// and its program was stopped after training `used` of the segment's budget.
    Stopped {
        used: f64,
    },
}

impl Outcome {
    pub fn loss(loss: f64) -> Self {
        Outcome::Finished(Evaluation::new(loss))
    }

    pub fn failed(reason: impl Into<String>) -> Self {
        Outcome::Failed {
            reason: reason.into(),
            used: None,
        }
    }
}
