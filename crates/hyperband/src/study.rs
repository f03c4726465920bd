//! A study: space + sampler + scheduler + seed, driven by `ask` and `tell`.
//!
//! The study owns everything that is decided (which trial, which budget, which retry) and
//! nothing that is evaluated. Given the same seed and the same sequence of asks and tells
//! it makes the same decisions, which is what lets one worker reproduce a run exactly and
//! a stored event log rebuild a study.

use crate::config::Config;
use crate::history::{History, Observation};
use crate::job::{Evaluation, Job, JobId, Outcome, TrialId};
use crate::rng;
use crate::sampler::Sampler;
use crate::scheduler::{Assignment, Decision, Ruling, Scheduler, TrialSource};
use crate::space::{Space, SpaceError};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// When the study stops handing out work. Neither limit is part of the decision sequence
/// a log replays (see [`Study::replay_issued`]), so they may differ between the replicas of
/// one study and change when a study is resumed.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Stop issuing jobs once the budget spent plus the budget of running jobs reaches this.
    /// The spent budget may then exceed it by the jobs in flight at that moment (and by a
    /// checkpointed job that could not resume and was charged its whole budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_total_budget: Option<f64>,
    /// Create at most this many trials (promotions of existing trials continue: a
    /// synchronous rung cut short by the limit promotes from the trials it has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_trials: Option<u64>,
}

/// How a job is charged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostModel {
    /// Every job pays its whole budget: the objective retrains from scratch.
    #[default]
    Scratch,
    /// A promoted job pays `budget - resume_from`: the objective continues from a checkpoint
    /// (unless its evaluation says it did not, `resumed: Some(false)`).
    Resume,
}

/// Study settings besides the space, sampler and scheduler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub seed: u64,
    pub limits: Limits,
    pub cost: CostModel,
    /// How often a failed job is tried again before the scheduler hears of the failure.
    pub max_retries: u32,
    /// How often a lost job (its worker vanished) is issued again before it counts as a
    /// failure. Unbounded by default: a worker killed from outside (a user's kill -9, a
    /// preempted machine) must not cost a result. Bound it when an in-process objective
    /// might crash its worker, so that one poisoned job cannot loop forever.
    pub max_lost: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            seed: 0,
            limits: Limits::default(),
            cost: CostModel::Scratch,
            max_retries: 0,
            max_lost: u32::MAX,
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Running,
    Finished,
    Failed,
    Lost,
    /// Stop mode: stopped while it ran, when later results at an earlier rung ranked its
    /// trial out ([`Ruling::revoked`]).
    Stopped,
}

impl JobState {
    /// The state's name wherever it is shown or exported (as serde writes it).
    pub fn name(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Finished => "finished",
            JobState::Failed => "failed",
            JobState::Lost => "lost",
            JobState::Stopped => "stopped",
        }
    }
}

/// The study's record of one issued job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub assignment: Assignment,
    pub attempt: u32,
    /// Earlier attempts of this assignment that failed (lost ones do not count).
    pub failures: u32,
    pub state: JobState,
    /// Budget charged for this job (0 while running and for lost jobs).
    pub cost: f64,
    pub loss: Option<f64>,
    /// The other figures a finished job reported (accuracy, a stop-mode segment's
    /// `curve`...), as its evaluation carried them.
    pub metrics: BTreeMap<String, serde_json::Value>,
    pub failure: Option<String>,
}

/// Why a `tell` was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TellError {
    #[error("job {0} was never issued by this study")]
    UnknownJob(JobId),
    #[error("job {0} has already been reported ({1:?})")]
    AlreadyReported(JobId, JobState),
}

/// A stored log that this study cannot reproduce.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the log says job {job} was {logged}, but this study decides {decided}")]
pub struct ReplayError {
    pub job: JobId,
    pub logged: String,
    pub decided: String,
}

/// What a `tell` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// The result counts.
    Recorded,
    /// The job failed or was lost and has been queued to run again.
    Requeued,
    /// A result for a job already declared lost: kept for the record, not counted, since
    /// its re-issue stands in for it.
    Late,
}

/// The version of the decision rules this build decides by, recorded in every stored
/// study's first event. 1: stop mode settles the credit of a rung's first trials
/// ([`crate::Ruling::revoked`]); 0: logs written before, which decided on arrival only.
pub const RULES: u32 = 1;

/// Counts for progress displays and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    pub trials: u64,
    pub jobs: u64,
    pub running: u64,
    pub finished: u64,
    pub failed: u64,
    pub lost: u64,
    /// Stop mode: segments stopped while they ran ([`JobState::Stopped`]).
    pub stopped: u64,
    pub budget_spent: f64,
}

pub struct Study {
    space: Space,
    sampler: Box<dyn Sampler>,
    scheduler: Box<dyn Scheduler>,
    settings: Settings,
    history: History,
    jobs: Vec<JobRecord>,
    /// Assignments to issue again, with the attempt number and failures so far.
    retries: VecDeque<(Assignment, u32, u32)>,
    running: u64,
    /// Budget expected to be charged for the running jobs.
    committed: f64,
    stats: Stats,
    incumbent: Option<Observation>,
    /// Configurations the user asked for, taken by the next new trials before the sampler
    /// is asked.
    enqueued: VecDeque<Config>,
    /// Stop mode: the next segment of the trial last told, when the scheduler keeps it. It
    /// is issued with that result or never (see [`Study::continue_trial`]).
    continuation: Option<Assignment>,
    /// Stop mode: running segments whose trial the scheduler revoked; their workers are to
    /// stop their programs and report [`Outcome::Stopped`].
    to_stop: BTreeSet<JobId>,
}

impl std::fmt::Debug for Study {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Study")
            .field("sampler", &self.sampler.name())
            .field("scheduler", &self.scheduler.name())
            .field("settings", &self.settings)
            .field("stats", &self.stats)
            .finish()
    }
}

/// Where a decision's new trials come from.
enum Source {
    /// A live decision: sample, within the trial limit.
    Live { max_trials: Option<u64> },
    /// Replaying a logged decision. The log is the record of what the deciding replica's
    /// trial source answered, so replay answers the same: the logged job's configuration
    /// if that job started a new trial, and a refusal otherwise (the deciding replica was
    /// at its trial limit: a scheduler that gets a trial always runs it). Replay thus never
    /// depends on the limits, which may differ between replicas and change between runs.
    Logged(Option<Config>),
}

/// Creates trials for the scheduler, drawing each configuration from the trial's own
/// random stream.
struct Trials<'a> {
    space: &'a Space,
    sampler: &'a dyn Sampler,
    history: &'a mut History,
    enqueued: &'a mut VecDeque<Config>,
    seed: u64,
    source: Source,
}

impl TrialSource for Trials<'_> {
    fn new_trial(&mut self) -> Option<TrialId> {
        let next = self.history.trials().len() as u64;
        let config = match &mut self.source {
            Source::Logged(config) => {
                // The deciding replica had the same queue (it is built from the log), so
                // the logged trial used its front.
                let logged = config.take()?;
                self.enqueued.pop_front();
                logged
            }
            Source::Live { max_trials } if max_trials.is_some_and(|m| next >= m) => return None,
            Source::Live { .. } => match self.enqueued.pop_front() {
                Some(config) => config,
                None => {
                    let mut rng = rng::stream(self.seed, next);
                    self.sampler.propose(self.space, self.history, &mut rng)
                }
            },
        };
        let unit = self
            .space
            .to_unit(&config)
            .expect("a sampler proposed a configuration outside its space");
        Some(self.history.add_trial(config, unit))
    }
}

impl Study {
    pub fn new(
        space: Space,
        sampler: Box<dyn Sampler>,
        scheduler: Box<dyn Scheduler>,
        settings: Settings,
    ) -> Self {
        Self {
            space,
            sampler,
            scheduler,
            settings,
            history: History::default(),
            jobs: Vec::new(),
            retries: VecDeque::new(),
            running: 0,
            committed: 0.0,
            stats: Stats::default(),
            incumbent: None,
            enqueued: VecDeque::new(),
            continuation: None,
            to_stop: BTreeSet::new(),
        }
    }

    /// Asks for `config` to be evaluated as the next new trial (after those enqueued
    /// before it), ahead of the sampler: configurations the user already knows are good.
    /// The sampler then learns from its results like any other trial's.
    pub fn enqueue(&mut self, config: Config) -> Result<(), SpaceError> {
        self.space.check(&config)?;
        self.enqueued.push_back(config);
        Ok(())
    }

    /// Configurations enqueued and not yet started.
    pub fn enqueued(&self) -> impl Iterator<Item = &Config> {
        self.enqueued.iter()
    }

    pub fn space(&self) -> &Space {
        &self.space
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn jobs(&self) -> &[JobRecord] {
        &self.jobs
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn scheduler_name(&self) -> &'static str {
        self.scheduler.name()
    }

    pub fn sampler_name(&self) -> &'static str {
        self.sampler.name()
    }

    /// The best loss at the highest budget any trial has reached (BOHB's incumbent).
    pub fn incumbent(&self) -> Option<Observation> {
        self.incumbent
    }

    /// The next job, or why there is none.
    pub fn ask(&mut self) -> Decision<Job> {
        if let Some(max) = self.settings.limits.max_total_budget {
            if self.stats.budget_spent + self.committed >= max {
                return Decision::Done;
            }
        }
        let source = Source::Live {
            max_trials: self.settings.limits.max_trials,
        };
        self.decide(source)
    }

    /// Re-applies a job that a stored log says this study issued, without sampling (the
    /// log has the configuration) and whatever the limits now say: the budget limit only
    /// ever stops a decision from being made, and the trial limit's answers are read off
    /// the log (see [`Source::Logged`]). Fails if this study would have decided
    /// differently, which means the log was written by a different algorithm or version.
    pub fn replay_issued(&mut self, logged: &Job) -> Result<(), ReplayError> {
        let expected_id = JobId(self.jobs.len() as u64);
        let is_new = logged.trial.0 == self.history.trials().len() as u64;
        // A stopping rule's continuation is issued together with the result it follows
        // ([`Study::continue_trial`]), so it is the next job in the log unless the
        // deciding replica declined it (at the budget limit): then the trial stopped.
        let continued = self.continuation.take().filter(|next| {
            (next.trial, next.bracket, next.rung) == (logged.trial, logged.bracket, logged.rung)
        });
        let decision = match continued {
            Some(next) => Decision::Run(self.issue(next, 0, 0)),
            None => self.decide(Source::Logged(is_new.then(|| logged.config.clone()))),
        };
        match decision {
            Decision::Run(job) if job == *logged && job.id == expected_id => Ok(()),
            other => Err(ReplayError {
                job: logged.id,
                logged: format!(
                    "trial {} at budget {} (rung {}, bracket {})",
                    logged.trial, logged.budget, logged.rung, logged.bracket
                ),
                decided: match other {
                    Decision::Run(j) => format!(
                        "job {}: trial {} at budget {} (rung {}, bracket {})",
                        j.id, j.trial, j.budget, j.rung, j.bracket
                    ),
                    Decision::Wait => "to wait".to_string(),
                    Decision::Done => "that the study is done".to_string(),
                },
            }),
        }
    }

    /// Changes the limits, e.g. when a finished study is resumed with a larger budget.
    pub fn set_limits(&mut self, limits: Limits) {
        self.settings.limits = limits;
    }

    fn decide(&mut self, source: Source) -> Decision<Job> {
        // A continuation not taken with its result: its trial stopped.
        self.continuation = None;
        let (assignment, attempt, failures) = match self.retries.pop_front() {
            Some(retry) => retry,
            None => {
                let mut trials = Trials {
                    space: &self.space,
                    sampler: self.sampler.as_ref(),
                    history: &mut self.history,
                    enqueued: &mut self.enqueued,
                    seed: self.settings.seed,
                    source,
                };
                match self.scheduler.ask(&mut trials) {
                    Decision::Run(a) => (a, 0, 0),
                    Decision::Wait => return Decision::Wait,
                    // A running job may still fail and need a retry.
                    Decision::Done if self.running > 0 => return Decision::Wait,
                    Decision::Done => return Decision::Done,
                }
            }
        };
        Decision::Run(self.issue(assignment, attempt, failures))
    }

    fn issue(&mut self, assignment: Assignment, attempt: u32, failures: u32) -> Job {
        let id = JobId(self.jobs.len() as u64);
        self.jobs.push(JobRecord {
            assignment,
            attempt,
            failures,
            state: JobState::Running,
            cost: 0.0,
            loss: None,
            metrics: BTreeMap::new(),
            failure: None,
        });
        self.running += 1;
        self.committed += self.expected_cost(&assignment);
        self.stats.jobs += 1;
        self.stats.running = self.running;
        self.stats.trials = self.history.trials().len() as u64;
        Job {
            id,
            trial: assignment.trial,
            config: self.history.trial(assignment.trial).config.clone(),
            budget: assignment.budget,
            resume_from: assignment.resume_from,
            bracket: assignment.bracket,
            rung: assignment.rung,
            attempt,
        }
    }

    fn expected_cost(&self, a: &Assignment) -> f64 {
        match self.settings.cost {
            CostModel::Scratch => a.budget,
            CostModel::Resume => a.budget - a.resume_from,
        }
    }

    /// Whether the scheduler is a stopping rule (`mode = "stop"`): then a trial's program
    /// runs once, to the largest budget, and its jobs are segments of that run, one per
    /// rung, reported with [`tell_and_continue`](Self::tell_and_continue) as the program
    /// reaches each rung's budget.
    pub fn stops(&self) -> bool {
        self.program_budget().is_some()
    }

    /// In stop mode, the budget a trial's program is started with (the largest).
    pub fn program_budget(&self) -> Option<f64> {
        self.scheduler.program_budget()
    }

    /// Stopping rules: reports job `id` (the running program reached its budget) and
    /// returns the trial's next segment if the trial goes on, or `None` if the program is
    /// to be stopped. A plain [`tell`](Self::tell) stops the trial at this rung.
    pub fn tell_and_continue(
        &mut self,
        id: JobId,
        outcome: Outcome,
    ) -> Result<(Told, Option<Job>), TellError> {
        let told = self.tell(id, outcome)?;
        let trial = self.jobs[id.0 as usize].assignment.trial;
        let next = match told {
            Told::Recorded => self.continue_trial(trial),
            _ => None,
        };
        Ok((told, next))
    }

    /// The next segment of `trial`, just told, if the scheduler keeps it and the budget
    /// limit allows; it is issued at once, for the program that is still running.
    pub fn continue_trial(&mut self, trial: TrialId) -> Option<Job> {
        let next = self.continuation.take()?;
        if next.trial != trial {
            return None;
        }
        if let Some(max) = self.settings.limits.max_total_budget {
            if self.stats.budget_spent + self.committed >= max {
                return None;
            }
        }
        Some(self.issue(next, 0, 0))
    }

    /// Decide by version `rules` of the decision rules ([`RULES`]): a replica follows the
    /// version its log was written under, so that older logs replay as they were decided.
    pub fn follow_rules(&mut self, rules: u32) {
        self.scheduler.follow_rules(rules);
    }

    /// Stop mode: whether running job `id` is to stop (its trial was ranked out of the
    /// rung below after it went on): its worker stops the program and reports
    /// [`Outcome::Stopped`].
    pub fn stop_requested(&self, id: JobId) -> bool {
        self.to_stop.contains(&id)
    }

    /// Reports what became of job `id`.
    pub fn tell(&mut self, id: JobId, outcome: Outcome) -> Result<Told, TellError> {
        let record = self
            .jobs
            .get(id.0 as usize)
            .ok_or(TellError::UnknownJob(id))?;
        match record.state {
            JobState::Running => {}
            JobState::Lost if !matches!(outcome, Outcome::Lost) => return Ok(Told::Late),
            state => return Err(TellError::AlreadyReported(id, state)),
        }
        // A revoked segment's trial is over whatever it reports: no retry, no re-issue. A
        // stop nobody asked for (the log lost the result that revoked it, after its worker
        // had read it) is taken as it is: the program was stopped.
        let revoked = self.to_stop.remove(&id);
        let assignment = record.assignment;
        let (attempt, failures) = (record.attempt, record.failures);
        let expected = self.expected_cost(&assignment);
        self.running -= 1;
        self.committed -= expected;
        self.stats.running = self.running;
        let outcome = match outcome {
            Outcome::Finished(eval) if !eval.loss.is_finite() => {
                Outcome::failed(format!("the objective returned a loss of {}", eval.loss))
            }
            other => other,
        };
        let told = match outcome {
            Outcome::Finished(eval) => {
                self.finish(id, &assignment, &eval);
                Told::Recorded
            }
            Outcome::Failed { reason, used } => {
                let cost = used.map_or(expected, |u| u.max(0.0));
                let record = &mut self.jobs[id.0 as usize];
                record.state = JobState::Failed;
                record.cost = cost;
                record.failure = Some(reason);
                self.stats.failed += 1;
                self.stats.budget_spent += cost;
                // Failures, not attempts: a re-issue after a lost worker is no retry.
                if revoked {
                    Told::Recorded
                } else if failures < self.settings.max_retries {
                    self.retries
                        .push_back((assignment, attempt + 1, failures + 1));
                    Told::Requeued
                } else {
                    let ruling = self.scheduler.tell(&assignment, None);
                    self.apply(ruling);
                    Told::Recorded
                }
            }
            Outcome::Lost => {
                self.jobs[id.0 as usize].state = JobState::Lost;
                self.stats.lost += 1;
                let lost_so_far = self.lost_attempts(&assignment);
                if revoked {
                    Told::Recorded
                } else if lost_so_far <= self.settings.max_lost {
                    // First in line: the job was already due.
                    self.retries.push_front((assignment, attempt + 1, failures));
                    Told::Requeued
                } else {
                    self.jobs[id.0 as usize].failure = Some(format!("lost {lost_so_far} times"));
                    let ruling = self.scheduler.tell(&assignment, None);
                    self.apply(ruling);
                    Told::Recorded
                }
            }
            Outcome::Stopped { used } => {
                let cost = used.max(0.0);
                let record = &mut self.jobs[id.0 as usize];
                record.state = JobState::Stopped;
                record.cost = cost;
                self.stats.stopped += 1;
                self.stats.budget_spent += cost;
                Told::Recorded
            }
        };
        Ok(told)
    }

    fn lost_attempts(&self, a: &Assignment) -> u32 {
        self.jobs
            .iter()
            .rev()
            .filter(|j| j.state == JobState::Lost && j.assignment == *a)
            .count() as u32
    }

    fn finish(&mut self, id: JobId, assignment: &Assignment, eval: &Evaluation) {
        let cost = match (self.settings.cost, eval.resumed) {
            (CostModel::Resume, Some(false)) | (CostModel::Scratch, _) => assignment.budget,
            (CostModel::Resume, _) => assignment.budget - assignment.resume_from,
        };
        let record = &mut self.jobs[id.0 as usize];
        record.state = JobState::Finished;
        record.cost = cost;
        record.loss = Some(eval.loss);
        record.metrics = eval.metrics.clone();
        self.stats.finished += 1;
        self.stats.budget_spent += cost;
        let obs = Observation {
            trial: assignment.trial,
            budget: assignment.budget,
            loss: eval.loss,
        };
        self.history.add_observation(obs);
        if obs.improves_on(self.incumbent.as_ref()) {
            self.incumbent = Some(obs);
        }
        let ruling = self.scheduler.tell(assignment, Some(eval.loss));
        self.apply(ruling);
    }

    /// Takes a stopping rule's ruling: keeps the continuation for [`Study::continue_trial`]
    /// and marks the running segments of revoked trials to stop. A revoked trial whose
    /// segment waits for a re-issue (its worker was lost) is not issued again.
    fn apply(&mut self, ruling: Ruling) {
        self.continuation = ruling.next;
        for trial in ruling.revoked {
            self.retries.retain(|(a, _, _)| a.trial != trial);
            let running = self
                .jobs
                .iter()
                .rposition(|j| j.assignment.trial == trial && j.state == JobState::Running);
            if let Some(i) = running {
                self.to_stop.insert(JobId(i as u64));
            }
        }
    }
}
