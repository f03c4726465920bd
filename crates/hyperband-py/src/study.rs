//! `hyperband.Study`: an ask/tell study in memory or in a SQLite / PostgreSQL store.

use crate::errors;
use crate::job::{Home, PyJob, StudyTag};
use crate::leases::Leases;
use crate::space::PySpace;
use hyperband::executor::StoreWorker;
use hyperband::storage::{
    AnyStore, OpenError, Replica, RunDir, StorageError, StorageUrl, StoredStudy, StudyIdentity,
};
use hyperband::{
    AlgorithmFields, BracketSizes, CostModel, Decision, Direction, Job, JobState, Limits, Mode,
    ObjectiveSpec, SamplerKind, SchedulerKind, Study, StudySpec,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Where the study lives. One per study object, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Backend {
    Memory {
        study: Study,
        /// Jobs that `optimize`'s threads are running: when the study must wait and none
        /// is, only jobs asked by hand are out, and waiting for them would never end.
        in_optimize: usize,
    },
    Stored {
        /// This object's own worker (connection and replica) for ask/tell; `optimize`
        /// starts one per thread.
        worker: StoreWorker<AnyStore>,
        url: StorageUrl,
        id: i64,
        leases: Leases,
    },
}

/// A study: its space, sampler and scheduler decide which job comes next; you evaluate
/// it and tell the result.
#[pyclass(name = "Study", module = "hyperband")]
pub struct PyStudy {
    pub backend: Mutex<Backend>,
    /// Signalled when a result is told, for `optimize` threads waiting on a rung.
    pub told: Condvar,
    pub name: String,
    pub spec: StudySpec,
    /// Where its checkpoints go and what tells it apart; each job it issues carries it.
    pub tag: Arc<StudyTag>,
    /// The last decision was that the study is done.
    pub done: std::sync::atomic::AtomicBool,
    /// `optimize` is to end: `Study.stop()`, Ctrl-C or an exception asked.
    pub stopping: std::sync::atomic::AtomicBool,
}

/// What the Python objective is charged under: in-process training keeps its own
/// checkpoints, so `resumable=True` says that promoted jobs pay only their new budget.
fn cost(resumable: bool) -> CostModel {
    if resumable {
        CostModel::Resume
    } else {
        CostModel::Scratch
    }
}

fn by_name<T: serde::de::DeserializeOwned>(what: &str, name: &str, names: &str) -> PyResult<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| errors::value(format!("unknown {what} `{name}`; expected one of: {names}")))
}

/// `catch` as a tuple of exception classes: a class, a tuple or list of them, or nothing.
fn exception_classes(py: Python<'_>, catch: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyTuple>> {
    let classes: Vec<Bound<'_, PyAny>> = match catch {
        None => Vec::new(),
        Some(c) if c.is_instance_of::<pyo3::types::PyType>() => vec![c.clone()],
        Some(c) => c
            .try_iter()
            .and_then(|items| items.collect::<PyResult<Vec<_>>>())
            .map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(
                    "catch is an exception class or a tuple of them",
                )
            })?,
    };
    let base = py.get_type::<pyo3::exceptions::PyBaseException>();
    for class in &classes {
        let is_exception = class
            .cast::<pyo3::types::PyType>()
            .is_ok_and(|t| t.is_subclass(&base).unwrap_or(false));
        if !is_exception {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "catch lists exception classes; {} is not one",
                class.repr()?
            )));
        }
    }
    Ok(PyTuple::new(py, classes)?.unbind())
}

fn open_store(url: &StorageUrl) -> PyResult<AnyStore> {
    if let StorageUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                errors::storage(format!("cannot create folder {}: {e}", dir.display()))
            })?;
        }
    }
    AnyStore::open(url).map_err(errors::storage)
}

fn parse_url(storage: &str) -> PyResult<StorageUrl> {
    let cwd = std::env::current_dir().map_err(errors::storage)?;
    StorageUrl::parse(storage, &cwd).map_err(errors::value)
}

impl PyStudy {
    /// One entry of `best`, or the error Optuna users know when there is no result yet.
    fn best_item<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.best(py)? {
            Some(best) => best
                .get_item(key)?
                .ok_or_else(|| errors::value(format!("no `{key}` in the best result"))),
            None => Err(errors::value(
                "the study has no result yet: no best configuration or loss",
            )),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Backend> {
        self.backend.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Empty replicas of stored study `id`, for store workers to rebuild from the log.
    pub fn fresh_replica(&self, id: i64) -> Box<dyn Fn() -> Replica + Send> {
        StoredStudy {
            name: self.name.clone(),
            id,
            spec: self.spec.clone(),
        }
        .replicas()
    }

    fn open(name: String, spec: StudySpec, url: Option<StorageUrl>) -> PyResult<Self> {
        let study = spec.build(Limits::default()).map_err(errors::value)?;
        let cwd = std::env::current_dir().map_err(errors::storage)?;
        let (backend, home) = match url {
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("hyperband-")
                    .tempdir()
                    .map_err(|e| {
                        pyo3::exceptions::PyOSError::new_err(format!(
                            "cannot create the study's checkpoint folder in {}: {e}",
                            std::env::temp_dir().display()
                        ))
                    })?;
                (
                    Backend::Memory {
                        study,
                        in_optimize: 0,
                    },
                    Home::Memory {
                        name: name.clone(),
                        dir,
                    },
                )
            }
            Some(url) => {
                let mut store = open_store(&url)?;
                let stored =
                    StoredStudy::open_or_create(&mut store, &name, &spec).map_err(|e| match e {
                        OpenError::Changed { changed, .. } => errors::storage(format!(
                            "study `{name}` in {} was created with a different definition \
                             (changed: {}); give this study a new name, or open the stored \
                             one with Study.load(name, storage)",
                            url.redacted(),
                            changed.join(", ")
                        )),
                        e @ OpenError::Unbuildable { .. } => errors::value(e),
                        e => errors::storage(e),
                    })?;
                let id = stored.id;
                let home = Home::Stored {
                    identity: StudyIdentity::new(&url, &name),
                    storage: url.redacted(),
                    dir: RunDir::of_study(&url, &name, &cwd),
                };
                let mut worker = StoreWorker::new(store, id, stored.replicas());
                worker.sync().map_err(errors::storage)?;
                let leases = Leases::start(url.clone(), id, worker.name().to_string());
                (
                    Backend::Stored {
                        worker,
                        url,
                        id,
                        leases,
                    },
                    home,
                )
            }
        };
        let (direction, fixed) = match &spec.objective {
            Some(ObjectiveSpec::InProcess {
                direction, fixed, ..
            }) => (*direction, fixed.clone()),
            _ => (Direction::Minimize, Vec::new()),
        };
        Ok(Self {
            backend: Mutex::new(backend),
            told: Condvar::new(),
            name,
            spec,
            tag: Arc::new(StudyTag {
                home,
                direction,
                fixed,
            }),
            done: Default::default(),
            stopping: Default::default(),
        })
    }

    /// The next job, or `None` when the study is done or waits for jobs this object holds.
    /// A stored study waiting only on other workers' jobs is polled, with the interpreter
    /// released and Ctrl-C honoured.
    fn decide(&self) -> PyResult<Option<Job>> {
        let mut pause = Duration::from_millis(5);
        loop {
            let decision = match &mut *self.lock() {
                Backend::Memory { study, .. } => study.ask(),
                Backend::Stored { worker, leases, .. } => {
                    let decision = worker.next_job().map_err(errors::storage)?;
                    match &decision {
                        Decision::Run(job) => leases.hold(job.id),
                        Decision::Wait if leases.count() > 0 => return Ok(None),
                        _ => {}
                    }
                    decision
                }
            };
            match decision {
                Decision::Run(job) => return Ok(Some(job)),
                Decision::Done => {
                    self.done.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Ok(None);
                }
                Decision::Wait => {
                    if matches!(&*self.lock(), Backend::Memory { .. }) {
                        return Ok(None);
                    }
                    Python::attach(|py| py.check_signals())?;
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
            }
        }
    }

    /// The core's study, brought up to date with the store first.
    pub fn with_study<T>(&self, f: impl FnOnce(&Study) -> T) -> PyResult<T> {
        let mut backend = self.lock();
        Ok(match &mut *backend {
            Backend::Memory { study, .. } => f(study),
            Backend::Stored { worker, .. } => {
                worker.sync().map_err(errors::storage)?;
                f(worker.replica().study())
            }
        })
    }
}

/// Per-trial summary for `trials()`.
struct TrialRow {
    jobs: u64,
    running: bool,
    /// Budget, loss and metrics of its result at the largest budget.
    best: Option<(f64, f64, BTreeMap<String, serde_json::Value>)>,
    failure: Option<String>,
    /// Its last job failed for good: a promoted job that failed ends its trial.
    failed_last: bool,
}

#[pymethods]
impl PyStudy {
    /// A new study, or the stored one of the same name and definition (it resumes).
    ///
    /// `storage`: `None` (in memory), `"sqlite:PATH"` or `"postgres://USER@HOST/DB"`.
    #[new]
    #[pyo3(signature = (
        space, *, scheduler = "hyperband", sampler = "random", min_budget = 1.0,
        max_budget = 81.0, eta = 3, seed = 0, storage = None, name = None, n_configs = None,
        max_brackets = None, bracket_sizes = "algorithm", resumable = false, max_retries = 0,
        mode = "promote", direction = "minimize"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        space: &Bound<'_, PySpace>,
        scheduler: &str,
        sampler: &str,
        min_budget: f64,
        max_budget: f64,
        eta: u32,
        seed: u64,
        storage: Option<&str>,
        name: Option<String>,
        n_configs: Option<u64>,
        max_brackets: Option<u64>,
        bracket_sizes: &str,
        resumable: bool,
        max_retries: u32,
        mode: &str,
        direction: &str,
    ) -> PyResult<Self> {
        let params = space.get().space()?.params().to_vec();
        let mode: Mode = by_name("mode", mode, "promote, stop")?;
        let direction: Direction = by_name("direction", direction, Direction::NAMES)?;
        let spec = StudySpec {
            // A stopped trial's program never restarts: each rung pays what it adds.
            cost: cost(resumable || mode == Mode::Stop),
            max_retries,
            objective: Some(ObjectiveSpec::InProcess {
                python: "in-process".to_string(),
                direction,
                fixed: space.get().fixed.clone(),
            }),
            ..StudySpec::new(
                seed,
                params,
                AlgorithmFields {
                    eta,
                    bracket_sizes: by_name::<BracketSizes>(
                        "bracket_sizes",
                        bracket_sizes,
                        "algorithm, table",
                    )?,
                    n_configs,
                    max_brackets,
                    mode,
                    ..AlgorithmFields::new(
                        by_name("scheduler", scheduler, SchedulerKind::NAMES)?,
                        by_name("sampler", sampler, SamplerKind::NAMES)?,
                        min_budget,
                        max_budget,
                    )
                }
                .try_into()
                .map_err(errors::value)?,
            )
        };
        spec.validate().map_err(errors::value)?;
        // SQLAlchemy's in-memory SQLite (`sqlite://`, `sqlite:///:memory:`) is a study
        // in memory, as it is to an Optuna user.
        let storage = storage.filter(|s| !StorageUrl::is_memory(s));
        let url = storage.map(parse_url).transpose()?;
        let name = match (name, &url) {
            (Some(name), _) => name,
            (None, None) => "study".to_string(),
            (None, Some(_)) => {
                return Err(errors::value(
                    "a stored study needs a name (name=...), to be found again",
                ))
            }
        };
        if name.is_empty() {
            return Err(errors::value("the study name is empty"));
        }
        Self::open(name, spec, url)
    }

    /// Opens a stored study by name, whatever created it (a study file, another program):
    /// its definition comes from the store. The store is first read without writing, so a
    /// study that is not there is a `StorageError` naming it and the store, and nothing
    /// (no file, no schema) is created.
    #[staticmethod]
    fn load(py: Python<'_>, name: String, storage: &str) -> PyResult<Self> {
        let url = parse_url(storage)?;
        py.detach(|| {
            let not_loaded = |e: StorageError| {
                errors::storage(format!(
                    "cannot load study `{name}` from {}: {e}",
                    url.redacted()
                ))
            };
            let mut store = AnyStore::open_read_only(&url).map_err(not_loaded)?;
            let stored = StoredStudy::find(&mut store, &name).map_err(|e| match e {
                OpenError::Storage(e) => not_loaded(e),
                e => errors::storage(format!("{e} (in {})", url.redacted())),
            })?;
            drop(store);
            Self::open(name, stored.spec, Some(url))
        })
    }

    /// The next job to evaluate, or `None`: the study is done (`is_done`), or it must wait
    /// for results of jobs this object handed out and that are not told yet.
    fn ask(&self, py: Python<'_>) -> PyResult<Option<PyJob>> {
        match py.detach(|| self.decide())? {
            Some(job) => Ok(Some(PyJob::new(py, job, self.tag.clone())?)),
            None => Ok(None),
        }
    }

    /// Evaluates `config` (a dict with every parameter) as the next new trial, before
    /// the sampler's; checked against the space (ValueError naming the parameter). In a
    /// stored study the configuration goes into the log, so that any worker starts it,
    /// and a configuration already enqueued there is not enqueued again (a script that
    /// enqueues on every start evaluates it once).
    fn enqueue(&self, py: Python<'_>, config: &Bound<'_, PyDict>) -> PyResult<()> {
        let space = self.spec.space().map_err(errors::value)?;
        let config = crate::convert::dict_to_config(config, &space, &self.tag.fixed)?;
        py.detach(|| match &mut *self.lock() {
            Backend::Memory { study, .. } => study.enqueue(config).map_err(errors::value),
            Backend::Stored { url, id, .. } => {
                let mut store = open_store(url)?;
                hyperband::storage::enqueue(&mut store, *id, &[config])
                    .map(|_| ())
                    .map_err(errors::storage)
            }
        })
    }

    /// Records a job's result: a number (the loss, lower is better), a dict with a `loss`
    /// key and other metrics, or `Failed(reason)`. A NaN or infinite loss counts as a
    /// failure. `resumed=False` says a job asked to resume trained from scratch, so it is
    /// charged its whole budget.
    ///
    /// In stop mode (`mode="stop"`) a job is one rung of a trial that trains on: tell it
    /// when training reaches `job.budget`, and it returns the trial's next rung (train on
    /// to its budget) or `None` (stop training this trial). Otherwise it returns `None`.
    #[pyo3(signature = (job, result, *, resumed = None))]
    fn tell(
        &self,
        py: Python<'_>,
        job: &Bound<'_, PyJob>,
        result: &Bound<'_, PyAny>,
        resumed: Option<bool>,
    ) -> PyResult<Option<PyJob>> {
        let job = job.get();
        // Job ids count from 0 in every study, so another study's job would pass for one
        // of this study's and record its result against the wrong configuration.
        if !job.study.same_study(&self.tag) {
            return Err(errors::value(format!(
                "job {} belongs to study {}, not to study {}; tell it to the study that asked it",
                job.job.id,
                job.study.describe(),
                self.tag.describe()
            )));
        }
        let outcome = crate::convert::outcome(result, resumed, self.tag.direction)?;
        let seconds = job.issued.elapsed().as_secs_f64();
        let stops = self.spec.algorithm.mode() == Mode::Stop;
        let next = py.detach(|| {
            let mut backend = self.lock();
            let next = match &mut *backend {
                Backend::Memory { study, .. } if stops => {
                    study
                        .tell_and_continue(job.job.id, outcome)
                        .map_err(errors::value)?
                        .1
                }
                Backend::Memory { study, .. } => {
                    study.tell(job.job.id, outcome).map_err(errors::value)?;
                    None
                }
                Backend::Stored { worker, leases, .. } => {
                    if !leases.release(job.job.id) {
                        return Err(errors::value(format!(
                            "job {} was not asked from this Study object, or was told already",
                            job.job.id
                        )));
                    }
                    let told = if stops {
                        worker.tell_and_continue(&job.job, outcome, seconds)
                    } else {
                        worker.report(&job.job, outcome, seconds).map(|_| None)
                    };
                    match told {
                        Ok(next) => {
                            if let Some(next) = &next {
                                leases.hold(next.id);
                            }
                            next
                        }
                        Err(e) => {
                            leases.hold(job.job.id);
                            return Err(errors::storage(e));
                        }
                    }
                }
            };
            self.told.notify_all();
            Ok(next)
        })?;
        next.map(|j| PyJob::new(py, j, self.tag.clone()))
            .transpose()
    }

    /// Runs `func(job)` on `n_workers` threads until the study is done or a limit is
    /// reached. `func` returns what `tell` takes. As in Optuna, an exception from `func`
    /// ends `optimize` and is raised (its job is recorded as failed, with the traceback),
    /// unless its class is in `catch`: then that job fails and the study goes on. Each
    /// callback is called as `callback(study, result)` after each result is recorded
    /// (`result`: a dict with `id`, `trial`, `config`, `budget`, `state`, `value`, `loss`,
    /// `metrics`, `failure`); `study.stop()` from one ends the run once the running jobs
    /// are done. The limits are the study's own (stored with a stored study, so every
    /// worker honours them): at most `max_trials` trials, no new job once
    /// `max_total_budget` is spent, none after `timeout` seconds. Ctrl-C lets the running
    /// jobs finish, records them, and raises KeyboardInterrupt.
    ///
    /// In stop mode `func` is a trial's training run to `job.budget` (the largest): it
    /// reports its value with `job.report(value, step)` as it trains and stops when
    /// `job.should_stop()` says so.
    #[pyo3(signature = (
        func, *, n_workers = 1, max_total_budget = None, max_trials = None, timeout = None,
        catch = None, callbacks = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn optimize(
        slf: &Bound<'_, Self>,
        func: Py<PyAny>,
        n_workers: usize,
        max_total_budget: Option<f64>,
        max_trials: Option<u64>,
        timeout: Option<f64>,
        catch: Option<&Bound<'_, PyAny>>,
        callbacks: Option<Vec<Py<PyAny>>>,
    ) -> PyResult<()> {
        let py = slf.py();
        if n_workers == 0 {
            return Err(errors::value("n_workers must be at least 1"));
        }
        if !func.bind(py).is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "optimize takes a function of a job, got {}",
                func.bind(py).get_type().name()?
            )));
        }
        let callbacks = callbacks.unwrap_or_default();
        if let Some(bad) = callbacks.iter().find(|c| !c.bind(py).is_callable()) {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "callbacks are functions of (study, result), got {}",
                bad.bind(py).get_type().name()?
            )));
        }
        let catch = exception_classes(py, catch)?;
        if timeout.is_some_and(|t| !(t.is_finite() && t >= 0.0)) {
            return Err(errors::value("timeout must be a number of seconds >= 0"));
        }
        let limits = Limits {
            max_total_budget,
            max_trials,
        };
        let run = crate::optimize::Run {
            func,
            catch,
            callbacks,
            study: slf.clone().unbind(),
            workers: n_workers,
            timeout,
        };
        slf.borrow().run_optimize(py, run, limits)
    }

    /// Ends a running `optimize` once its running jobs are done (Optuna's `study.stop()`,
    /// for callbacks).
    fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The best result at the largest budget reached so far: a dict with `trial`,
    /// `config`, `budget`, `value` (in the study's direction), `loss` (what the core
    /// minimizes: `value`, or its negative when maximizing) and `metrics`, or `None` before
    /// the first result.
    #[getter]
    fn best<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let best = py.detach(|| {
            self.with_study(|s| {
                s.incumbent().map(|o| {
                    let metrics = s
                        .jobs()
                        .iter()
                        .rev()
                        .find(|j| {
                            j.assignment.trial == o.trial
                                && j.assignment.budget == o.budget
                                && j.loss == Some(o.loss)
                        })
                        .map(|j| j.metrics.clone())
                        .unwrap_or_default();
                    (o, s.history().trial(o.trial).config.clone(), metrics)
                })
            })
        })?;
        let Some((obs, config, metrics)) = best else {
            return Ok(None);
        };
        let dict = PyDict::new(py);
        dict.set_item("trial", obs.trial.0)?;
        dict.set_item("config", self.tag.config_dict(py, &config)?)?;
        dict.set_item("budget", obs.budget)?;
        dict.set_item("value", self.tag.direction.value(obs.loss))?;
        dict.set_item("loss", obs.loss)?;
        dict.set_item("metrics", self.tag.metrics_dict(py, &metrics)?)?;
        Ok(Some(dict))
    }

    /// Optuna's name for the best result's configuration: `best["config"]`. A
    /// `ValueError` before the first result, as in Optuna.
    #[getter]
    fn best_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.best_item(py, "config")
    }

    /// Optuna's name for the best result's value: `best["value"]`, in the study's
    /// direction. A `ValueError` before the first result, as in Optuna.
    #[getter]
    fn best_value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.best_item(py, "value")
    }

    /// One dict per trial: `trial`, its parameters, `state`, `budget`, `value`, `loss`
    /// and `metrics` of its result at the largest budget it reached, `jobs`, and `failure`
    /// (the last failure's reason). `state` is running, finished, failed (its last job
    /// failed), or (stop mode) stopped: the study stopped its training before the largest
    /// budget. A parameter
    /// named like one of those keys is given as `param_NAME`.
    fn trials<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let (configs, rows, program_budget) = py.detach(|| {
            self.with_study(|s| {
                let mut rows: Vec<TrialRow> = (0..s.history().trials().len())
                    .map(|_| TrialRow {
                        jobs: 0,
                        running: false,
                        best: None,
                        failure: None,
                        failed_last: false,
                    })
                    .collect();
                for job in s.jobs() {
                    let row = &mut rows[job.assignment.trial.0 as usize];
                    row.jobs += 1;
                    row.failed_last = job.state == JobState::Failed;
                    match (job.state, job.loss) {
                        (JobState::Running, _) => row.running = true,
                        (JobState::Finished, Some(loss)) => {
                            let budget = job.assignment.budget;
                            let best = row.best.as_ref().map(|(b, l, _)| (*b, *l));
                            if hyperband::history::improves(budget, loss, best) {
                                row.best = Some((budget, loss, job.metrics.clone()));
                            }
                        }
                        (JobState::Failed, _) => row.failure = job.failure.clone(),
                        _ => {}
                    }
                }
                let configs: Vec<_> = s
                    .history()
                    .trials()
                    .iter()
                    .map(|t| t.config.clone())
                    .collect();
                (configs, rows, s.program_budget())
            })
        })?;
        const KEYS: [&str; 8] = [
            "trial", "state", "budget", "value", "loss", "metrics", "jobs", "failure",
        ];
        let list = PyList::empty(py);
        for (i, (config, row)) in configs.iter().zip(rows).enumerate() {
            let dict = PyDict::new(py);
            dict.set_item("trial", i)?;
            for (name, value) in self.tag.config_dict(py, config)?.iter() {
                let name: String = name.extract()?;
                let key = if KEYS.contains(&name.as_str()) {
                    format!("param_{name}")
                } else {
                    name
                };
                dict.set_item(key, value)?;
            }
            let state = match (&row.best, program_budget) {
                _ if row.running => "running",
                _ if row.failed_last => "failed",
                (Some((budget, _, _)), Some(top)) if *budget < top * (1.0 - 1e-9) => "stopped",
                (Some(_), _) => "finished",
                (None, _) => "failed",
            };
            let (budget, loss, metrics) = match row.best {
                Some((b, l, m)) => (Some(b), Some(l), m),
                None => (None, None, BTreeMap::new()),
            };
            dict.set_item("state", state)?;
            dict.set_item("budget", budget)?;
            dict.set_item("value", loss.map(|l| self.tag.direction.value(l)))?;
            dict.set_item("loss", loss)?;
            dict.set_item("metrics", self.tag.metrics_dict(py, &metrics)?)?;
            dict.set_item("jobs", row.jobs)?;
            dict.set_item("failure", row.failure)?;
            list.append(dict)?;
        }
        Ok(list)
    }

    /// One dict per job, in the order they were issued: `id`, `trial`, `budget`,
    /// `resume_from`, `bracket`, `rung`, `attempt`, `state` (running, finished, failed,
    /// lost, stopped), `value`, `loss`, `metrics`, `cost` (budget charged) and `failure`:
    /// the learning curves.
    fn jobs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let jobs = py.detach(|| self.with_study(|s| s.jobs().to_vec()))?;
        let list = PyList::empty(py);
        for (id, job) in jobs.into_iter().enumerate() {
            let a = &job.assignment;
            let dict = PyDict::new(py);
            dict.set_item("id", id)?;
            dict.set_item("trial", a.trial.0)?;
            dict.set_item("budget", a.budget)?;
            dict.set_item("resume_from", a.resume_from)?;
            dict.set_item("bracket", a.bracket)?;
            dict.set_item("rung", a.rung)?;
            dict.set_item("attempt", job.attempt)?;
            dict.set_item("state", job.state.name())?;
            dict.set_item("value", job.loss.map(|l| self.tag.direction.value(l)))?;
            dict.set_item("loss", job.loss)?;
            dict.set_item("metrics", self.tag.metrics_dict(py, &job.metrics)?)?;
            dict.set_item("cost", job.cost)?;
            dict.set_item("failure", job.failure)?;
            list.append(dict)?;
        }
        Ok(list)
    }

    /// Counts: trials, jobs, running, finished, failed, lost, stopped (stop mode: segments
    /// stopped while they ran), budget_spent.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = py.detach(|| self.with_study(|s| s.stats()))?;
        let dict = PyDict::new(py);
        dict.set_item("trials", s.trials)?;
        dict.set_item("jobs", s.jobs)?;
        dict.set_item("running", s.running)?;
        dict.set_item("finished", s.finished)?;
        dict.set_item("failed", s.failed)?;
        dict.set_item("lost", s.lost)?;
        dict.set_item("stopped", s.stopped)?;
        dict.set_item("budget_spent", s.budget_spent)?;
        Ok(dict)
    }

    /// True once `ask` (or `optimize`) found that the study has nothing more to run.
    #[getter]
    fn is_done(&self) -> bool {
        self.done.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The study's own folder (checkpoints under `checkpoints/trial-N`): a stored study's
    /// is the one the command line uses too; a study in memory has a private temporary one,
    /// removed when the study and its jobs are gone.
    #[getter]
    fn run_dir(&self) -> String {
        self.tag.dir().to_string_lossy().into_owned()
    }

    /// The storage URL (password hidden), or `None` for a study in memory.
    #[getter]
    fn storage(&self) -> Option<String> {
        match &*self.lock() {
            Backend::Memory { .. } => None,
            Backend::Stored { url, .. } => Some(url.redacted()),
        }
    }

    fn __repr__(&self) -> String {
        let a = &self.spec.algorithm;
        format!(
            "Study(name={:?}, scheduler={:?}, sampler={:?}, budgets={}..{}, eta={})",
            self.name,
            serde_json::to_value(a.scheduler()).unwrap_or_default(),
            serde_json::to_value(a.sampler()).unwrap_or_default(),
            a.min_budget(),
            a.max_budget(),
            a.eta()
        )
    }
}
