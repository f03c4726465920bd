//! `Study.optimize`: a Python function on N threads. The threads run with the interpreter
//! released while the core decides and attach only to call the function, so that N
//! workers keep N jobs running; the calling thread watches for Ctrl-C.
//!
//! As in Optuna, an exception from the function ends `optimize` (the job is recorded as
//! failed, the other workers finish their jobs, and the exception is raised) unless its
//! class is listed in `catch`: then only that job fails. Callbacks see each result.
//!
//! In stop mode the function is a trial's whole program: it trains to the largest budget
//! and reports its values with `job.report(value, step)`. It runs on a thread of its own
//! while the worker's thread takes its reports to a [`Program`], which tells each rung to
//! the study and passes the verdict back (`job.should_stop()`).

use crate::errors;
use crate::job::{PyJob, Report, StudyTag};
use crate::study::{Backend, PyStudy};
use hyperband::executor::{program_job, Program, SegmentLog, StoreWorker};
use hyperband::objective::{Monitor, Verdict};
use hyperband::storage::{set_limits, AnyStore, StorageUrl, StoredLimits};
use hyperband::{Decision, Evaluation, Job, Limits, Outcome, Study};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much of a traceback a failure keeps: its end says what went wrong.
const MAX_REASON: usize = 4000;

/// What `optimize` was asked to do, beyond the limits.
pub struct Run {
    pub func: Py<PyAny>,
    /// Exception classes that fail a job instead of ending `optimize`.
    pub catch: Py<PyTuple>,
    /// Called as `callback(study, result)` after each result is recorded.
    pub callbacks: Vec<Py<PyAny>>,
    /// The study object itself, for the callbacks.
    pub study: Py<PyStudy>,
    pub workers: usize,
    pub timeout: Option<f64>,
}

/// What the workers share: the run, its deadline, and the error it ends with. Whether it
/// must end is the study's `stopping` flag, which `Study.stop()` raises too.
struct Shared<'a> {
    study: &'a PyStudy,
    run: &'a Run,
    deadline: Option<Instant>,
    /// The first exception to raise (from the function, a callback or the store).
    raised: Mutex<Option<PyErr>>,
}

impl Shared<'_> {
    fn stop(&self) -> &AtomicBool {
        &self.study.stopping
    }

    fn ending(&self) -> bool {
        self.stop().load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Ends the run with `e`, unless an earlier error already does.
    fn raise(&self, e: PyErr) {
        self.stop().store(true, Ordering::Relaxed);
        self.raised
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(e);
    }

    /// Calls each callback with the study and `job`'s result; an exception ends the run.
    fn callbacks(&self, job: &Job, outcome: &Outcome) {
        if self.run.callbacks.is_empty() {
            return;
        }
        Python::attach(|py| {
            let called = result_dict(py, job, outcome, &self.study.tag).and_then(|result| {
                self.run.callbacks.iter().try_for_each(|f| {
                    f.call1(py, (self.run.study.clone_ref(py), &result))
                        .map(drop)
                })
            });
            if let Err(e) = called {
                self.raise(e);
            }
        });
    }
}

impl PyStudy {
    /// The body of `Study.optimize`, its arguments checked.
    pub(crate) fn run_optimize(&self, py: Python<'_>, run: Run, limits: Limits) -> PyResult<()> {
        let deadline = run
            .timeout
            .map(|t| Instant::now() + Duration::from_secs_f64(t));
        let stored = py.detach(|| apply_limits(self, limits, run.timeout))?;
        self.stopping.store(false, Ordering::Relaxed);
        let shared = Shared {
            study: self,
            run: &run,
            deadline,
            raised: Mutex::new(None),
        };
        let finished = AtomicUsize::new(0);
        let interrupted = py.detach(|| {
            std::thread::scope(|scope| {
                for _ in 0..run.workers {
                    scope.spawn(|| {
                        // Attached once, then detached for the whole run: the thread keeps
                        // one Python thread state, which each call of the function reuses,
                        // instead of Python creating and freeing one per job (measured:
                        // an mmap and munmap per job, most of optimize's cost per job).
                        let result = Python::attach(|py| {
                            py.detach(|| {
                                catch_unwind(AssertUnwindSafe(|| match &stored {
                                    None => memory_worker(&shared),
                                    Some((url, id)) => stored_worker(&shared, url, *id),
                                }))
                            })
                        });
                        match result {
                            Ok(Ok(())) => {}
                            // One worker's store error ends the run: the others finish
                            // their jobs and stop, and the error is raised.
                            Ok(Err(e)) => shared.raise(e),
                            // A bug of ours: said as one, not a run that never ends.
                            Err(panic) => shared.raise(PyRuntimeError::new_err(format!(
                                "an optimize worker failed: {}",
                                panic_text(&panic)
                            ))),
                        }
                        finished.fetch_add(1, Ordering::Relaxed);
                    });
                }
                let mut interrupted = None;
                while finished.load(Ordering::Relaxed) < run.workers {
                    std::thread::sleep(Duration::from_millis(10));
                    if interrupted.is_none() {
                        if let Err(e) = Python::attach(|py| py.check_signals()) {
                            shared.stop().store(true, Ordering::Relaxed);
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
        match shared
            .raised
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
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

/// The core's study in memory, under the study object's lock.
fn with_memory<T>(study: &PyStudy, f: impl FnOnce(&mut Study, &mut usize) -> T) -> T {
    let mut backend = study.lock();
    let Backend::Memory {
        study: core,
        in_optimize,
    } = &mut *backend
    else {
        unreachable!("a memory worker on a stored study");
    };
    f(core, in_optimize)
}

fn memory_worker(shared: &Shared<'_>) -> PyResult<()> {
    let study = shared.study;
    loop {
        if shared.ending() {
            return Ok(());
        }
        let decision = with_memory(study, |core, in_optimize| {
            let decision = core.ask();
            match &decision {
                Decision::Run(_) => *in_optimize += 1,
                // Only jobs asked by hand and never told hold the study up.
                Decision::Wait if *in_optimize == 0 => return None,
                _ => {}
            }
            Some((decision, core.program_budget()))
        });
        match decision {
            None => return Ok(()),
            Some((Decision::Run(job), target)) => {
                let told = match target {
                    Some(target) => {
                        let log = LockedStudy { study, last: None };
                        let mut program = Program::new(log, job.clone());
                        let run = program_job(&job, target);
                        let outcome = run_program(shared, &run, &mut program);
                        let last = program.log().last.clone();
                        match program.end(outcome, target) {
                            Some(open) => Some(open),
                            None => {
                                // Every segment was recorded as the program reported: the
                                // callbacks see its last, once per program (as Optuna's
                                // see each trial).
                                with_memory(study, |_, in_optimize| *in_optimize -= 1);
                                if let Some((job, outcome)) = last {
                                    shared.callbacks(&job, &outcome);
                                }
                                continue;
                            }
                        }
                    }
                    None => Some((job.clone(), call(shared, &job, None), 0.0)),
                };
                let recorded = with_memory(study, |core, in_optimize| {
                    *in_optimize -= 1;
                    told.map(|(job, outcome, _)| {
                        core.tell(job.id, outcome.clone())
                            .map(|_| (job, outcome))
                            .map_err(errors::value)
                    })
                });
                study.told.notify_all();
                if let Some((job, outcome)) = recorded.transpose()? {
                    shared.callbacks(&job, &outcome);
                }
            }
            Some((Decision::Wait, _)) => {
                let backend = study.lock();
                drop(
                    study
                        .told
                        .wait_timeout(backend, Duration::from_millis(50))
                        .unwrap_or_else(|e| e.into_inner()),
                );
            }
            Some((Decision::Done, _)) => {
                study.done.store(true, Ordering::Relaxed);
                return Ok(());
            }
        }
    }
}

/// A study in memory as a program's segment log, locked for each call.
struct LockedStudy<'a> {
    study: &'a PyStudy,
    /// The last segment recorded, for the callbacks.
    last: Option<(Job, Outcome)>,
}

impl SegmentLog for LockedStudy<'_> {
    fn finish(&mut self, job: &Job, outcome: Outcome, seconds: f64) -> Result<Option<Job>, ()> {
        self.last = Some((job.clone(), outcome.clone()));
        let next = with_memory(self.study, |core, _| {
            SegmentLog::finish(core, job, outcome, seconds)
        });
        self.study.told.notify_all();
        next
    }

    fn stop_requested(&mut self, job: &Job) -> bool {
        with_memory(self.study, |core, _| SegmentLog::stop_requested(core, job))
    }

    fn stopped(&mut self, job: &Job, used: f64, seconds: f64) {
        self.last = Some((job.clone(), Outcome::Stopped { used }));
        with_memory(self.study, |core, _| {
            SegmentLog::stopped(core, job, used, seconds)
        });
        self.study.told.notify_all();
    }
}

fn stored_worker(shared: &Shared<'_>, url: &StorageUrl, id: i64) -> PyResult<()> {
    let study = shared.study;
    let store = AnyStore::open(url).map_err(errors::storage)?;
    let mut worker = StoreWorker::new(store, id, study.fresh_replica(id));
    let beat = url.clone();
    let mut observer = |_: &_, job: &Job, outcome: &Outcome| shared.callbacks(job, outcome);
    let evaluation = |outcome: Outcome| match outcome {
        Outcome::Finished(evaluation) => Ok::<Evaluation, String>(evaluation),
        Outcome::Failed { reason, .. } => Err(reason),
        Outcome::Lost => Err("lost".to_string()),
        Outcome::Stopped { .. } => Err("stopped".to_string()),
    };
    let report = if worker.replica().study().stops() {
        worker.run_stopping(
            move || AnyStore::open(&beat),
            |program: &Job, monitor: &mut dyn Monitor| {
                evaluation(run_program(shared, program, monitor))
            },
            shared.deadline,
            shared.stop(),
            &mut observer,
        )
    } else {
        worker.run(
            move || AnyStore::open(&beat),
            |job| evaluation(call(shared, job, None)),
            shared.deadline,
            shared.stop(),
            &mut observer,
        )
    }
    .map_err(errors::storage)?;
    if report.stopped == hyperband::executor::StopReason::Done {
        study.done.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// Runs the function as the stop-mode program `program` (a trial's first segment, from
/// scratch to the largest budget) on a thread of its own, feeding its reports to
/// `monitor` on this one; returns the function's outcome.
///
/// Once the run is asked to end (Ctrl-C, `study.stop()`, an exception elsewhere), the
/// program's next report is answered "stop" without being told, and its open segment
/// fails as interrupted: a trial does not train on to the largest budget after Ctrl-C.
fn run_program(shared: &Shared<'_>, program: &Job, monitor: &mut dyn Monitor) -> Outcome {
    let (to, reports) = sync_channel::<Report>(0);
    let (outcome, interrupted) = std::thread::scope(|scope| {
        let running = scope.spawn(|| call(shared, program, Some(to)));
        let interrupted = serve(shared, monitor, &reports, || running.is_finished());
        let outcome = running
            .join()
            .unwrap_or_else(|_| Outcome::failed("the objective's thread panicked"));
        (outcome, interrupted)
    });
    match interrupted {
        Some(budget) => Outcome::failed(format!(
            "interrupted (Ctrl-C, study.stop() or an error elsewhere) after training to \
             budget {budget}"
        )),
        None => outcome,
    }
}

/// Answers the program's reports until it ends; returns the budget it was interrupted at,
/// if the run's end interrupted it.
fn serve(
    shared: &Shared<'_>,
    monitor: &mut dyn Monitor,
    reports: &Receiver<Report>,
    ended: impl Fn() -> bool,
) -> Option<f64> {
    let mut interrupted = None;
    let mut answer = |report: Report, interrupted: &mut Option<f64>| {
        let verdict = if interrupted.is_some() || shared.stop().load(Ordering::Relaxed) {
            monitor.reached(report.budget);
            *interrupted = Some(report.budget);
            Verdict::Stop
        } else {
            monitor.report(report.budget, report.loss)
        };
        let _ = report.verdict.send(verdict);
    };
    loop {
        match reports.recv_timeout(Duration::from_millis(20)) {
            Ok(report) => answer(report, &mut interrupted),
            Err(RecvTimeoutError::Timeout) if !ended() => {}
            Err(_) => {
                // The function may have sent a last report while it ended.
                while let Ok(report) = reports.try_recv() {
                    answer(report, &mut interrupted);
                }
                return interrupted;
            }
        }
    }
}

/// Calls the function on one job. An exception listed in `catch` is the job's failure; any
/// other ends the run (the job is recorded as failed, with the traceback, first). A
/// stop-mode program's reports go to `reports`.
fn call(
    shared: &Shared<'_>,
    job: &Job,
    reports: Option<std::sync::mpsc::SyncSender<Report>>,
) -> Outcome {
    let tag = &shared.study.tag;
    Python::attach(|py| {
        let pyjob = match reports {
            Some(to) => PyJob::program(py, job.clone(), tag.clone(), to),
            None => PyJob::new(py, job.clone(), tag.clone()),
        }
        .and_then(|j| Py::new(py, j));
        let pyjob = match pyjob {
            Ok(j) => j,
            Err(e) => return Outcome::failed(traceback_text(py, &e)),
        };
        let returned = shared.run.func.call1(py, (pyjob.clone_ref(py),));
        pyjob.get().end();
        let last = pyjob.get().last_report();
        match returned {
            Ok(result) if result.is_none(py) => match last {
                // A training loop that reported its values need not return one.
                Some((_, value)) => Outcome::Finished(Evaluation::new(tag.direction.loss(value))),
                None => Outcome::failed(
                    "the objective returned None: return its value (or a dict with `loss`), \
                     or report it with job.report(value, step)",
                ),
            },
            Ok(result) => crate::convert::outcome(result.bind(py), None, tag.direction)
                .unwrap_or_else(|e| {
                    Outcome::failed(format!("the objective returned an unusable result: {e}"))
                }),
            Err(e) if e.is_instance_of::<errors::Stopped>(py) => match last {
                Some((_, value)) => Outcome::Finished(Evaluation::new(tag.direction.loss(value))),
                None => Outcome::failed("the objective raised Stopped before reporting a value"),
            },
            Err(e) => {
                let reason = traceback_text(py, &e);
                if !e.matches(py, shared.run.catch.bind(py)).unwrap_or(false) {
                    shared.raise(e);
                }
                Outcome::failed(reason)
            }
        }
    })
}

/// One result as the callbacks see it: the job, its configuration, state and value.
fn result_dict<'py>(
    py: Python<'py>,
    job: &Job,
    outcome: &Outcome,
    tag: &StudyTag,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("id", job.id.0)?;
    dict.set_item("trial", job.trial.0)?;
    dict.set_item("config", tag.config_dict(py, &job.config)?)?;
    dict.set_item("budget", job.budget)?;
    let none = Default::default();
    let (state, loss, metrics, failure) = match outcome {
        Outcome::Finished(e) if e.loss.is_finite() => ("finished", Some(e.loss), &e.metrics, None),
        Outcome::Finished(e) => (
            "failed",
            None,
            &none,
            Some(format!(
                "the objective's value was {}",
                tag.direction.value(e.loss)
            )),
        ),
        Outcome::Failed { reason, .. } => ("failed", None, &none, Some(reason.clone())),
        Outcome::Lost => ("lost", None, &none, None),
        Outcome::Stopped { .. } => ("stopped", None, &none, None),
    };
    dict.set_item("state", state)?;
    dict.set_item("value", loss.map(|l| tag.direction.value(l)))?;
    dict.set_item("loss", loss)?;
    dict.set_item("metrics", tag.metrics_dict(py, metrics)?)?;
    dict.set_item("failure", failure)?;
    Ok(dict)
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
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
