//! In-process executor: N threads calling a Rust closure.

use crate::job::{Evaluation, Job, Outcome};
use crate::scheduler::Decision;
use crate::study::Study;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The study has nothing more to do (scheduler done, or a budget or trial limit reached).
    Done,
    /// The wall-clock limit passed; running jobs were allowed to finish.
    Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub jobs: u64,
    pub elapsed: Duration,
    pub stopped: StopReason,
}

/// Runs a study on `workers` threads.
///
/// With one worker the run is exactly reproducible. With more, each trial's configuration
/// is still fixed by the seed, but which trials a scheduler promotes can depend on which
/// results arrive first.
#[derive(Debug, Clone, Copy)]
pub struct ThreadExecutor {
    pub workers: usize,
    pub max_time: Option<Duration>,
}

struct Shared<'a> {
    study: &'a mut Study,
    observer: &'a mut (dyn FnMut(&Study, &Job, &Outcome) + Send),
    jobs: u64,
    timed_out: bool,
}

impl ThreadExecutor {
    pub fn new(workers: usize) -> Self {
        Self {
            workers: workers.max(1),
            max_time: None,
        }
    }

    pub fn with_max_time(mut self, limit: Duration) -> Self {
        self.max_time = Some(limit);
        self
    }

    /// Evaluates jobs with `objective` until the study is done or time is up. An objective
    /// that returns `Err` or panics fails its job (the study carries on); `observer` sees
    /// every outcome, under the study lock, in the order the study records them.
    ///
    /// # Panics
    /// On a stop-mode study ([`Study::stops`]), whose objectives must report as they train:
    /// run those with [`crate::executor::StoreWorker::run_stopping`] or drive them with
    /// [`Study::tell_and_continue`] (here every trial would silently stop at its first rung).
    pub fn run<F>(
        &self,
        study: &mut Study,
        objective: F,
        observer: &mut (dyn FnMut(&Study, &Job, &Outcome) + Send),
    ) -> RunReport
    where
        F: Fn(&Job) -> Result<Evaluation, String> + Sync,
    {
        assert!(
            !study.stops(),
            "ThreadExecutor runs jobs to their budget; a stop-mode study needs \
             StoreWorker::run_stopping or Study::tell_and_continue"
        );
        let start = Instant::now();
        let deadline = self.max_time.map(|t| start + t);
        let shared = Mutex::new(Shared {
            study,
            observer,
            jobs: 0,
            timed_out: false,
        });
        let wake = Condvar::new();
        std::thread::scope(|scope| {
            for _ in 0..self.workers {
                scope.spawn(|| worker(&shared, &wake, deadline, &objective));
            }
        });
        let shared = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        RunReport {
            jobs: shared.jobs,
            elapsed: start.elapsed(),
            stopped: if shared.timed_out {
                StopReason::Time
            } else {
                StopReason::Done
            },
        }
    }
}

fn worker<F>(shared: &Mutex<Shared<'_>>, wake: &Condvar, deadline: Option<Instant>, objective: &F)
where
    F: Fn(&Job) -> Result<Evaluation, String> + Sync,
{
    loop {
        let job = {
            let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    guard.timed_out = true;
                    wake.notify_all();
                    return;
                }
                match guard.study.ask() {
                    Decision::Run(job) => break job,
                    Decision::Done => {
                        wake.notify_all();
                        return;
                    }
                    Decision::Wait => {
                        // Woken by every tell; the timeout only re-checks the deadline.
                        let (g, _) = wake
                            .wait_timeout(guard, Duration::from_millis(100))
                            .unwrap_or_else(|e| e.into_inner());
                        guard = g;
                    }
                }
            }
        };
        let outcome = match catch_unwind(AssertUnwindSafe(|| objective(&job))) {
            Ok(Ok(eval)) => Outcome::Finished(eval),
            Ok(Err(reason)) => Outcome::failed(reason),
            Err(panic) => {
                Outcome::failed(format!("the objective panicked: {}", panic_text(&panic)))
            }
        };
        let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
        let g = &mut *guard;
        g.study
            .tell(job.id, outcome.clone())
            .expect("the executor reports each job it was given exactly once");
        g.jobs += 1;
        (g.observer)(g.study, &job, &outcome);
        wake.notify_all();
    }
}

pub(crate) fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}
