//! Runs a study on a store with N local workers, a progress display and graceful stop.
//!
//! Every worker, whether a thread here or a `hyperband worker` process elsewhere, is an
//! ordinary store worker with its own connection and replica; this process adds nothing
//! but threads and a display, so killing it at any moment loses nothing that was stored.

use crate::cli_error::{bad_input, opening_error};
use crate::fail_fast::FailFast;
use crate::progress::Progress;
use anyhow::Context;
use hyperband::executor::{StopReason, StoreWorker};
use hyperband::objective::Monitor;
use hyperband::storage::{
    set_limits, AnyStore, EventStore, Replica, StorageUrl, StoredLimits, StoredStudy,
};
use hyperband::{Config, Evaluation, Job, StudySpec};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

/// The most worker threads one process runs. Each holds a store connection and, while its
/// job runs, the program's pipes and log files: far beyond this, a process meets the usual
/// limit of 1024 open files and the threads' stacks exhaust memory, and fails after minutes
/// without saying why. More parallelism comes from more processes (`hyperband worker`).
pub const MAX_WORKERS: usize = 1024;

/// Whether `n` worker threads may run in one process; the message says why not.
pub fn check_workers(n: usize) -> Result<(), String> {
    match n {
        0 => Err("must be at least 1".to_string()),
        n if n > MAX_WORKERS => Err(format!(
            "{n} is too many worker threads for one process (at most {MAX_WORKERS}: each \
             holds a database connection and its job's open files); for more, start \
             `hyperband worker` in more processes or on more machines"
        )),
        _ => Ok(()),
    }
}

/// Evaluates one job.
pub type Objective = Arc<dyn Fn(&Job) -> Result<Evaluation, String> + Send + Sync>;
/// Evaluates a trial in stop mode, reporting its values as it trains.
pub type StoppingObjective =
    Arc<dyn Fn(&Job, &mut dyn Monitor) -> Result<Evaluation, String> + Send + Sync>;

/// What runs a study's jobs: an objective for promotion mode, or one that reports as it
/// goes for a stopping rule (`mode = "stop"`).
#[derive(Clone)]
pub enum Evaluator {
    Plain(Objective),
    Stopping(StoppingObjective),
}

/// Everything a run needs.
pub struct RunPlan {
    /// The study, opened in its store ([`open_study`], [`find_study`]).
    pub study: StoredStudy,
    pub storage: StorageUrl,
    pub workers: usize,
    /// The stop criteria this run sets for the study (`run`, from its file), or `None` to
    /// work within the stored ones (`worker`).
    pub limits: Option<StoredLimits>,
    /// This process's own time limit, besides the study's.
    pub max_time: Option<Duration>,
    /// Print a line per job instead of a progress bar (also chosen when stdout is no tty).
    pub plain: bool,
    /// No progress output at all (for `--json`).
    pub quiet: bool,
    /// Configurations to evaluate first (`[[enqueue]]`); those the log holds already are
    /// not enqueued again.
    pub enqueue: Vec<Config>,
}

/// How a run ended, with the study as the store has it.
pub struct RunOutcome {
    pub replica: Replica,
    pub stopped: StopReason,
    pub interrupted: bool,
    pub elapsed: Duration,
    /// The run gave up: its first jobs all failed alike ([`crate::fail_fast`]).
    pub gave_up: Option<String>,
    /// Which limit ended the study, if one did ([`crate::inspect::ended_by`]).
    pub ended_by: Option<&'static str>,
}

/// Opens the store a URL names; problems with it are the user's input (exit status 2).
pub fn open_store(url: &StorageUrl) -> anyhow::Result<AnyStore> {
    if let StorageUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create folder {}", dir.display()))?;
        }
    }
    AnyStore::open(url).map_err(bad_input)
}

/// Opens study `name` in the store `url` names, creating it with `spec`; a stored study
/// with another definition is refused (`run`, the demos).
pub fn open_study(url: &StorageUrl, name: &str, spec: &StudySpec) -> anyhow::Result<StoredStudy> {
    let mut store = open_store(url)?;
    StoredStudy::open_or_create(&mut store, name, spec).map_err(|e| opening_error(url, e))
}

/// The stored study `name` (a `worker` that may have no study file).
pub fn find_study(url: &StorageUrl, name: &str) -> anyhow::Result<StoredStudy> {
    let mut store = open_store(url)?;
    StoredStudy::find(&mut store, name).map_err(|e| opening_error(url, e))
}

/// The first `NAME-fork-N` not yet in the store.
pub fn fork_name(store: &mut AnyStore, name: &str) -> anyhow::Result<String> {
    let names = store.study_names()?;
    Ok((1..)
        .map(|n| format!("{name}-fork-{n}"))
        .find(|candidate| !names.contains(candidate))
        .expect("some fork name is free"))
}

/// Runs `plan` until the study is done, time is up, or Ctrl-C / SIGTERM.
pub fn run(plan: &RunPlan, objective: Evaluator) -> anyhow::Result<RunOutcome> {
    check_workers(plan.workers).map_err(|m| bad_input(anyhow::anyhow!("workers: {m}")))?;
    let mut store = open_store(&plan.storage)?;
    let id = plan.study.id;
    if let Some(limits) = plan.limits {
        set_limits(&mut store, id, limits)?;
    }
    if !plan.enqueue.is_empty() {
        hyperband::storage::enqueue(&mut store, id, &plan.enqueue)?;
    }
    let stops = plan.study.spec.algorithm.mode() == hyperband::Mode::Stop;
    if stops != matches!(objective, Evaluator::Stopping(_)) {
        anyhow::bail!("internal: a stop-mode study needs an objective that reports as it goes");
    }
    // The study as stored before this run's workers take jobs: the display tells what was
    // there already apart from what this run does, and goes on from it.
    let stored = if plan.quiet {
        None
    } else {
        Some(plan.study.synced(&mut store)?)
    };
    // Each worker has its own connection; a server's connection slots are not to be wasted.
    drop(store);
    let stop = Arc::new(AtomicBool::new(false));
    install_stop_handler(stop.clone());
    let start = Instant::now();
    let deadline = plan.max_time.map(|t| start + t);
    let progress_done = AtomicBool::new(false);
    let fail_fast = FailFast::default();
    let results: Vec<anyhow::Result<StopReason>> = std::thread::scope(|scope| {
        let progress = stored.map(|mut replica| {
            let mut display = Progress::new(plan.plain, start, &replica);
            let url = plan.storage.clone();
            let done = &progress_done;
            scope.spawn(move || -> anyhow::Result<()> {
                let mut store = open_store(&url)?;
                while !done.load(Ordering::Relaxed) {
                    replica.sync(&mut store, id)?;
                    display.update(&replica);
                    std::thread::sleep(Duration::from_millis(200));
                }
                replica.sync(&mut store, id)?;
                display.update(&replica);
                display.finish(&replica);
                Ok(())
            })
        });
        let handles: Vec<_> = (0..plan.workers.max(1))
            .map(|_| {
                let (objective, stop) = (objective.clone(), stop.clone());
                let fail_fast = &fail_fast;
                scope.spawn(move || -> anyhow::Result<StopReason> {
                    let mut observe =
                        |replica: &Replica, job: &Job, outcome: &hyperband::Outcome| {
                            let has_results = replica.study().stats().finished > 0;
                            if fail_fast.observe(job.trial.0, outcome, has_results) {
                                stop.store(true, Ordering::Relaxed);
                            }
                        };
                    let store = open_store(&plan.storage)?;
                    let url = plan.storage.clone();
                    let beat = move || AnyStore::open(&url);
                    let mut worker = StoreWorker::new(store, id, plan.study.replicas());
                    let report = match &objective {
                        Evaluator::Plain(f) => {
                            worker.run(beat, |job| f(job), deadline, &stop, &mut observe)?
                        }
                        Evaluator::Stopping(f) => worker.run_stopping(
                            beat,
                            |job, monitor| f(job, monitor),
                            deadline,
                            &stop,
                            &mut observe,
                        )?,
                    };
                    Ok(report.stopped)
                })
            })
            .collect();
        let results = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a worker thread panicked")))
            })
            .collect();
        progress_done.store(true, Ordering::Relaxed);
        if let Some(p) = progress {
            if let Ok(Err(e)) = p.join() {
                eprintln!("warning: progress display stopped: {e:#}");
            }
        }
        results
    });
    let mut stopped = StopReason::Done;
    for r in results {
        if r? == StopReason::Time {
            stopped = StopReason::Time;
        }
    }
    let mut store = open_store(&plan.storage)?;
    let replica = plan.study.synced(&mut store)?;
    let gave_up = fail_fast.verdict();
    let ended_by = crate::inspect::ended_by(
        &replica,
        || Ok(plan.study.synced(&mut store)?),
        hyperband::storage::now(),
    )?;
    Ok(RunOutcome {
        replica,
        stopped,
        interrupted: stop.load(Ordering::Relaxed) && gave_up.is_none(),
        elapsed: start.elapsed(),
        gave_up,
        ended_by,
    })
}

/// The flag that Ctrl-C sets: the latest run's. The process has one handler (ctrlc takes
/// one per process), and the library's `run` can be called more than once in a process
/// (the Python package's `_cli`), so each run points it at its own flag.
static STOP: Mutex<Option<Arc<AtomicBool>>> = Mutex::new(None);

/// First Ctrl-C or SIGTERM: finish the running jobs and stop. Second: exit at once (the
/// running jobs are declared lost and re-run when the study resumes).
fn install_stop_handler(stop: Arc<AtomicBool>) {
    *STOP.lock().unwrap_or_else(|e| e.into_inner()) = Some(stop);
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            let stop = STOP.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if stop.is_none_or(|stop| stop.swap(true, Ordering::Relaxed)) {
                eprintln!("\nstopping now; running jobs will be re-run on resume");
                std::process::exit(130);
            }
            eprintln!("\nstopping after the running jobs finish (Ctrl-C again to stop now)");
        });
    });
}
