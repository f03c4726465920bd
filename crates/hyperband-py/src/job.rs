//! `hyperband.Job` (what to evaluate) and `hyperband.Failed` (a result that is a failure).

use hyperband::Job;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use std::time::Instant;

/// One evaluation to run: train configuration `config` up to `budget`, continuing from a
/// checkpoint at `resume_from` (0 for a trial's first job) where the objective can.
#[pyclass(name = "Job", module = "hyperband", frozen)]
pub struct PyJob {
    pub job: Job,
    config: Py<PyDict>,
    checkpoint_root: PathBuf,
    /// When the job was issued, for the seconds the log records.
    pub issued: Instant,
}

impl PyJob {
    pub fn new(py: Python<'_>, job: Job, checkpoint_root: PathBuf) -> PyResult<Self> {
        let config = crate::convert::config_to_dict(py, &job.config)?.unbind();
        Ok(Self {
            job,
            config,
            checkpoint_root,
            issued: Instant::now(),
        })
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
            .checkpoint_root
            .join(format!("trial-{}", self.job.trial));
        std::fs::create_dir_all(&dir).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!(
                "cannot create the checkpoint folder {}: {e}",
                dir.display()
            ))
        })?;
        Ok(dir.to_string_lossy().into_owned())
    }

    fn __repr__(&self) -> String {
        format!(
            "Job(id={}, trial={}, budget={}, resume_from={}, config={})",
            self.job.id.0, self.job.trial.0, self.job.budget, self.job.resume_from, self.job.config
        )
    }
}

/// A result that is a failure: return it from an objective or pass it to `tell`. The
/// study records the reason and goes on (retrying the job if `max_retries` allows).
#[pyclass(name = "Failed", module = "hyperband", frozen)]
pub struct Failed {
    #[pyo3(get)]
    pub reason: String,
}

#[pymethods]
impl Failed {
    #[new]
    fn new(reason: String) -> Self {
        Self { reason }
    }

    fn __repr__(&self) -> String {
        format!("Failed({:?})", self.reason)
    }
}
