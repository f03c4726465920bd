//! `Study.optimize`: a Python function on N threads. The threads run with the interpreter
//! released while the core decides and attach only to call the function, so that N
//! workers keep N jobs running; the calling thread watches for Ctrl-C.

use crate::errors;
use crate::job::{PyJob, StudyTag};
use crate::study::{Backend, PyStudy};
use hyperband::executor::StoreWorker;
use hyperband::storage::{set_limits, AnyStore, StorageUrl, StoredLimits};
use hyperband::{Decision, Evaluation, Job, Limits, Outcome};
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How much of a traceback a failure keeps: its end says what went wrong.
const MAX_REASON: usize = 4000;

impl PyStudy {
    /// The body of `Study.optimize`, its arguments checked: `func` on `workers` threads
    /// within `limits` and `timeout` seconds.
    pub(crate) fn run_optimize(
        &self,
        py: Python<'_>,
        func: Py<PyAny>,
        workers: usize,
        limits: Limits,
        timeout: Option<f64>,
    ) -> PyResult<()> {
        run(py, self, func, workers, limits, timeout)
    }
}

fn run(
    py: Python<'_>,
    study: &PyStudy,
    func: Py<PyAny>,
    workers: usize,
    limits: Limits,
    timeout: Option<f64>,
) -> PyResult<()> {
    let deadline = timeout.map(|t| Instant::now() + Duration::from_secs_f64(t));
    let stored = py.detach(|| apply_limits(study, limits, timeout))?;
    let stop = AtomicBool::new(false);
    let finished = AtomicUsize::new(0);
    let failures: Mutex<Vec<PyErr>> = Mutex::new(Vec::new());
    let interrupted = py.detach(|| {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    let result = match &stored {
                        None => memory_worker(study, &func, &stop, deadline),
                        Some((url, id)) => stored_worker(study, url, *id, &func, &stop, deadline),
                    };
                    if let Err(e) = result {
                        // One worker's store error ends the run: the others finish their
                        // jobs and stop, and the error is raised.
                        stop.store(true, Ordering::Relaxed);
                        failures.lock().unwrap_or_else(|e| e.into_inner()).push(e);
                    }
                    finished.fetch_add(1, Ordering::Relaxed);
                });
            }
            let mut interrupted = None;
            while finished.load(Ordering::Relaxed) < workers {
                std::thread::sleep(Duration::from_millis(10));
                if interrupted.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        stop.store(true, Ordering::Relaxed);
                        interrupted = Some(e);
                    }
                }
            }
            interrupted
        })
    });
    if let Some(e) = interrupted {
        return Err(e);
    }
    match failures.into_inner().unwrap_or_default().into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Sets the limits; for a stored study, in its log (as `hyperband run` does), and returns
/// where it is stored.
fn apply_limits(
    study: &PyStudy,
    limits: Limits,
    timeout: Option<f64>,
) -> PyResult<Option<(StorageUrl, i64)>> {
    match &mut *study.lock() {
        Backend::Memory { study, .. } => {
            study.set_limits(limits);
            Ok(None)
        }
        Backend::Stored { url, id, .. } => {
            let mut store = AnyStore::open(url).map_err(errors::storage)?;
            let stored = StoredLimits {
                limits,
                max_seconds: timeout,
            };
            set_limits(&mut store, *id, stored).map_err(errors::storage)?;
            Ok(Some((url.clone(), *id)))
        }
    }
}

fn memory_worker(
    study: &PyStudy,
    func: &Py<PyAny>,
    stop: &AtomicBool,
    deadline: Option<Instant>,
) -> PyResult<()> {
    let mut backend = study.lock();
    loop {
        if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(());
        }
        let Backend::Memory {
            study: core,
            in_optimize,
        } = &mut *backend
        else {
            unreachable!("a memory worker on a stored study");
        };
        match core.ask() {
            Decision::Run(job) => {
                *in_optimize += 1;
                drop(backend);
                let outcome = evaluate(func, &job, &study.tag);
                backend = study.lock();
                let Backend::Memory {
                    study: core,
                    in_optimize,
                } = &mut *backend
                else {
                    unreachable!();
                };
                *in_optimize -= 1;
                core.tell(job.id, outcome).map_err(errors::value)?;
                study.told.notify_all();
            }
            Decision::Wait if *in_optimize == 0 => {
                // Only jobs asked by hand and never told hold the study up.
                return Ok(());
            }
            Decision::Wait => {
                backend = study
                    .told
                    .wait_timeout(backend, Duration::from_millis(50))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            Decision::Done => {
                study.done.store(true, Ordering::Relaxed);
                return Ok(());
            }
        }
    }
}

fn stored_worker(
    study: &PyStudy,
    url: &StorageUrl,
    id: i64,
    func: &Py<PyAny>,
    stop: &AtomicBool,
    deadline: Option<Instant>,
) -> PyResult<()> {
    let store = AnyStore::open(url).map_err(errors::storage)?;
    let mut worker = StoreWorker::new(store, id, study.fresh_replica(id));
    let beat = url.clone();
    let report = worker
        .run(
            move || AnyStore::open(&beat),
            |job| match evaluate(func, job, &study.tag) {
                Outcome::Finished(evaluation) => Ok::<Evaluation, String>(evaluation),
                Outcome::Failed { reason, .. } => Err(reason),
                Outcome::Lost => Err("lost".to_string()),
                Outcome::Stopped { .. } => Err("stopped".to_string()),
            },
            deadline,
            stop,
            &mut |_, _, _| {},
        )
        .map_err(errors::storage)?;
    if report.stopped == hyperband::executor::StopReason::Done {
        study.done.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// Calls the Python function on one job; whatever goes wrong is that job's failure.
fn evaluate(func: &Py<PyAny>, job: &Job, study: &Arc<StudyTag>) -> Outcome {
    Python::attach(|py| {
        let call = PyJob::new(py, job.clone(), study.clone())
            .and_then(|job| Py::new(py, job))
            .and_then(|job| func.call1(py, (job,)));
        match call {
            Ok(result) => crate::convert::outcome(result.bind(py), None).unwrap_or_else(|e| {
                Outcome::failed(format!("the objective returned an unusable result: {e}"))
            }),
            Err(e) => Outcome::failed(traceback_text(py, &e)),
        }
    })
}

fn traceback_text(py: Python<'_>, e: &PyErr) -> String {
    let formatted = py
        .import("traceback")
        .and_then(|tb| {
            tb.call_method1(
                "format_exception",
                (e.get_type(py), e.value(py), e.traceback(py)),
            )
        })
        .and_then(|lines| lines.extract::<Vec<String>>());
    let text = match formatted {
        Ok(lines) => lines.concat().trim_end().to_string(),
        Err(_) => e.to_string(),
    };
    match text.char_indices().rev().nth(MAX_REASON) {
        Some((cut, _)) => format!("...{}", &text[cut..]),
        None => text,
    }
}
