//! `hyperband.Job`: what to evaluate, and which study it belongs to.

use crate::errors;
use hyperband::objective::Verdict;
use hyperband::storage::{RunDir, StudyIdentity};
use hyperband::{Direction, Job, Value};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Where a study keeps its trials' checkpoints, and what tells it apart from others.
pub enum Home {
    /// A study in memory lives only in this process: its checkpoints go to a private
    /// temporary folder, removed once the study and its jobs are gone, so that two studies
    /// (or two runs of one script) never hand out the same `trial-N` folder.
    Memory {
        name: String,
        dir: tempfile::TempDir,
    },
    /// A stored study's folder is its identity's, shared with every process that opens it
    /// (the command line's workers included), so that a promoted trial finds its checkpoint.
    Stored {
        identity: StudyIdentity,
        /// The storage URL with the password hidden, for messages.
        storage: String,
        dir: RunDir,
    },
}

/// What a job carries of the study that issued it, shared by the study and its jobs.
pub struct StudyTag {
    pub home: Home,
    /// Which way the function's values are better.
    pub direction: Direction,
    /// The fixed parameters, added to every configuration the function is given.
    pub fixed: Vec<(String, Value)>,
}

impl StudyTag {
    pub fn name(&self) -> &str {
        match &self.home {
            Home::Memory { name, .. } => name,
            Home::Stored { identity, .. } => identity.name(),
        }
    }

    /// The study's folder: checkpoints under `checkpoints/trial-N`.
    pub fn dir(&self) -> &Path {
        match &self.home {
            Home::Memory { dir, .. } => dir.path(),
            Home::Stored { dir, .. } => dir.path(),
        }
    }

    fn checkpoints(&self) -> std::path::PathBuf {
        self.dir().join("checkpoints")
    }

    /// Two objects of one stored study are one study; each study in memory is its own.
    pub fn same_study(&self, other: &StudyTag) -> bool {
        match (&self.home, &other.home) {
            (Home::Stored { identity: a, .. }, Home::Stored { identity: b, .. }) => a == b,
            (Home::Memory { dir: a, .. }, Home::Memory { dir: b, .. }) => a.path() == b.path(),
            _ => false,
        }
    }

    /// For messages: `mlp` in sqlite:/x/s.db, or `study` in memory with its folder (two
    /// studies in memory may share a name).
    /// A configuration as the function sees it: its fixed parameters added.
    pub fn config_dict<'py>(
        &self,
        py: Python<'py>,
        config: &hyperband::Config,
    ) -> PyResult<Bound<'py, PyDict>> {
        let dict = crate::convert::config_to_dict(py, config)?;
        for (name, value) in &self.fixed {
            dict.set_item(name, crate::convert::value_to_py(py, value)?)?;
        }
        Ok(dict)
    }

    /// A result's metrics as the user reads them: a stop-mode segment's `curve` holds
    /// losses, turned back into values when the study maximizes.
    pub fn metrics_dict<'py>(
        &self,
        py: Python<'py>,
        metrics: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> PyResult<Bound<'py, PyDict>> {
        if self.direction.is_minimize() || !metrics.contains_key("curve") {
            return crate::convert::metrics_to_dict(py, metrics);
        }
        let mut metrics = metrics.clone();
        if let Some(serde_json::Value::Array(points)) = metrics.get_mut("curve") {
            for point in points {
                if let Some(v) = point.get_mut(1) {
                    if let Some(x) = v.as_f64() {
                        *v = serde_json::json!(self.direction.value(x));
                    }
                }
            }
        }
        crate::convert::metrics_to_dict(py, &metrics)
    }

    pub fn describe(&self) -> String {
        match &self.home {
            Home::Memory { name, dir } => {
                format!("`{name}` (in memory, folder {})", dir.path().display())
            }
            Home::Stored {
                identity, storage, ..
            } => format!("`{}` in {storage}", identity.name()),
        }
    }
}

/// One evaluation to run: train configuration `config` up to `budget`, continuing from a
/// checkpoint at `resume_from` (0 for a trial's first job) where the objective can.
#[pyclass(name = "Job", module = "hyperband", frozen)]
pub struct PyJob {
    pub job: Job,
    config: Py<PyDict>,
    /// The study that issued the job: its checkpoints, and whom it may be told to.
    pub study: Arc<StudyTag>,
    /// When the job was issued, for the seconds the log records.
    pub issued: Instant,
    /// Where `report` goes.
    reports: Reports,
    /// The function `optimize` called with it has returned: reports are refused.
    over: AtomicBool,
}

/// A value reported by a running program, and where its verdict goes back.
pub struct Report {
    pub budget: f64,
    pub loss: f64,
    pub verdict: SyncSender<Verdict>,
}

/// What `report` and `should_stop` mean for a job.
enum Reports {
    /// Promote mode (or a stop-mode job asked by hand): the job trains to its budget; the
    /// values are kept so that `should_stop` says when it is there.
    Local(Mutex<Option<(f64, f64)>>),
    /// Stop mode in `optimize`: the program's values go to the thread that runs it, which
    /// tells each rung to the study; `stopped` once it says stop.
    Program {
        to: SyncSender<Report>,
        stopped: AtomicBool,
        last: Mutex<Option<(f64, f64)>>,
    },
}

impl PyJob {
    pub fn new(py: Python<'_>, job: Job, study: Arc<StudyTag>) -> PyResult<Self> {
        Self::with_reports(py, job, study, Reports::Local(Mutex::new(None)))
    }

    /// A stop-mode program's job (its budget the largest) whose reports go to `to`.
    pub fn program(
        py: Python<'_>,
        job: Job,
        study: Arc<StudyTag>,
        to: SyncSender<Report>,
    ) -> PyResult<Self> {
        let reports = Reports::Program {
            to,
            stopped: AtomicBool::new(false),
            last: Mutex::new(None),
        };
        Self::with_reports(py, job, study, reports)
    }

    fn with_reports(
        py: Python<'_>,
        job: Job,
        study: Arc<StudyTag>,
        reports: Reports,
    ) -> PyResult<Self> {
        let config = study.config_dict(py, &job.config)?;
        Ok(Self {
            job,
            config: config.unbind(),
            study,
            issued: Instant::now(),
            reports,
            over: AtomicBool::new(false),
        })
    }

    /// The function given this job has returned.
    pub fn end(&self) {
        self.over.store(true, Ordering::Relaxed);
    }

    /// The last value reported, with its budget, as the user gave it.
    pub fn last_report(&self) -> Option<(f64, f64)> {
        let last = match &self.reports {
            Reports::Local(last) | Reports::Program { last, .. } => last,
        };
        *last.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl PyJob {
    /// The job's number in the study's log.
    #[getter]
    fn id(&self) -> u64 {
        self.job.id.0
    }

    /// The trial (configuration) this job evaluates; its later jobs continue it.
    #[getter]
    fn trial(&self) -> u64 {
        self.job.trial.0
    }

    /// The hyperparameters, by name.
    #[getter]
    fn config(&self, py: Python<'_>) -> Py<PyDict> {
        self.config.clone_ref(py)
    }

    /// Train up to this budget (epochs, steps, samples: the study's unit).
    #[getter]
    fn budget(&self) -> f64 {
        self.job.budget
    }

    /// The budget the trial reached in its previous job (0 for its first): continue from
    /// that checkpoint when there is one.
    #[getter]
    fn resume_from(&self) -> f64 {
        self.job.resume_from
    }

    #[getter]
    fn bracket(&self) -> u64 {
        self.job.bracket
    }

    #[getter]
    fn rung(&self) -> u32 {
        self.job.rung
    }

    /// 0 for the first try; retries after a failure or a lost worker count up.
    #[getter]
    fn attempt(&self) -> u32 {
        self.job.attempt
    }

    /// The folder where this trial keeps its checkpoints, the same for each of its jobs
    /// (created on first access): save here, and load from here when `resume_from > 0`.
    #[getter]
    fn checkpoint_dir(&self) -> PyResult<String> {
        let dir = self
            .study
            .checkpoints()
            .join(format!("trial-{}", self.job.trial));
        std::fs::create_dir_all(&dir).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!(
                "cannot create the checkpoint folder {}: {e}",
                dir.display()
            ))
        })?;
        Ok(dir.to_string_lossy().into_owned())
    }

    /// The objective's value (in the study's direction) after training to budget `step`
    /// (epochs, rounds: the study's unit). In stop mode, inside `optimize`, each rung's
    /// value is told to the study as it comes, which decides whether the trial trains on
    /// (`should_stop`).
    fn report(&self, py: Python<'_>, value: f64, step: f64) -> PyResult<()> {
        if !step.is_finite() || step < 0.0 {
            return Err(errors::value(format!(
                "step must be a budget >= 0 (epochs, rounds: the study's unit), got {step}"
            )));
        }
        if self.over.load(Ordering::Relaxed) {
            return Err(errors::value(format!(
                "job {} is over: report values from inside the function optimize called \
                 with it, while it runs",
                self.job.id
            )));
        }
        match &self.reports {
            Reports::Local(last) => {
                *last.lock().unwrap_or_else(|e| e.into_inner()) = Some((step, value));
                Ok(())
            }
            Reports::Program { to, stopped, last } => {
                *last.lock().unwrap_or_else(|e| e.into_inner()) = Some((step, value));
                if stopped.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let loss = self.study.direction.loss(value);
                let (verdict, answer) = sync_channel(1);
                let report = Report {
                    budget: step,
                    loss,
                    verdict,
                };
                let verdict =
                    py.detach(move || to.send(report).ok().and_then(|_| answer.recv().ok()));
                match verdict {
                    Some(Verdict::Continue) => Ok(()),
                    Some(Verdict::Stop) => {
                        stopped.store(true, Ordering::Relaxed);
                        Ok(())
                    }
                    None => Err(errors::value(format!(
                        "job {} is over: report values from inside the function optimize \
                         called with it, while it runs",
                        self.job.id
                    ))),
                }
            }
        }
    }

    /// Whether to stop training now: in stop mode, the study stopped the trial (it was
    /// not promoted at a rung, or it was ranked out after going on); otherwise, once a
    /// value was reported at the job's budget. Then return (the value, or nothing) or
    /// raise `hyperband.Stopped`.
    fn should_stop(&self) -> bool {
        match &self.reports {
            Reports::Program { stopped, .. } => stopped.load(Ordering::Relaxed),
            Reports::Local(_) => self
                .last_report()
                .is_some_and(|(step, _)| step >= self.job.budget * (1.0 - 1e-9)),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "Job(id={}, trial={}, budget={}, resume_from={}, config={})",
            self.job.id.0, self.job.trial.0, self.job.budget, self.job.resume_from, self.job.config
        )
    }
}
