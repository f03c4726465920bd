//! `hyperband.Job`: what to evaluate, and which study it belongs to.

use hyperband::storage::{RunDir, StudyIdentity};
use hyperband::Job;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::Path;
use std::sync::Arc;
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
pub struct StudyTag(pub Home);

impl StudyTag {
    pub fn name(&self) -> &str {
        match &self.0 {
            Home::Memory { name, .. } => name,
            Home::Stored { identity, .. } => identity.name(),
        }
    }

    /// The study's folder: checkpoints under `checkpoints/trial-N`.
    pub fn dir(&self) -> &Path {
        match &self.0 {
            Home::Memory { dir, .. } => dir.path(),
            Home::Stored { dir, .. } => dir.path(),
        }
    }

    fn checkpoints(&self) -> std::path::PathBuf {
        self.dir().join("checkpoints")
    }

    /// Two objects of one stored study are one study; each study in memory is its own.
    pub fn same_study(&self, other: &StudyTag) -> bool {
        match (&self.0, &other.0) {
            (Home::Stored { identity: a, .. }, Home::Stored { identity: b, .. }) => a == b,
            (Home::Memory { dir: a, .. }, Home::Memory { dir: b, .. }) => a.path() == b.path(),
            _ => false,
        }
    }

    /// For messages: `mlp` in sqlite:/x/s.db, or `study` in memory with its folder (two
    /// studies in memory may share a name).
    pub fn describe(&self) -> String {
        match &self.0 {
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
}

impl PyJob {
    pub fn new(py: Python<'_>, job: Job, study: Arc<StudyTag>) -> PyResult<Self> {
        let config = crate::convert::config_to_dict(py, &job.config)?.unbind();
        Ok(Self {
            job,
            config,
            study,
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

    fn __repr__(&self) -> String {
        format!(
            "Job(id={}, trial={}, budget={}, resume_from={}, config={})",
            self.job.id.0, self.job.trial.0, self.job.budget, self.job.resume_from, self.job.config
        )
    }
}
