//! A worker that coordinates through a store: any number of them, in threads, processes or
//! on other machines, run one study together and survive each other's deaths.

mod stopping;

use super::threads::{panic_text, StopReason};
use crate::job::{Evaluation, Job, JobId, Outcome};
use crate::scheduler::Decision;
use crate::storage::{
    now, Asked, Event, EventStore, Lease, LockedLog, Replica, StorageError, StoredEvent,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a job's lease lasts without renewal; workers renew every third of it.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// A worker's name: `host:pid:nonce`. The host and pid let a worker on the same machine
/// see at once that a dead worker's jobs are lost, without waiting for the lease.
pub fn worker_name() -> String {
    static NONCE: AtomicU64 = AtomicU64::new(0);
    let n = NONCE.fetch_add(1, Ordering::Relaxed);
    format!("{}:{}:{n}", host(), std::process::id())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string())
}

/// True when `worker` ran on this host in a process that no longer exists.
fn known_dead(worker: &str) -> bool {
    let mut parts = worker.rsplitn(3, ':');
    let (_nonce, pid, host) = (parts.next(), parts.next(), parts.next());
    let (Some(pid), Some(host)) = (pid.and_then(|p| p.parse::<u32>().ok()), host) else {
        return false;
    };
    host == self::host() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

const NO_JOB: u64 = u64::MAX;

/// Evaluates one job for [`StoreWorker::job_loop`].
type RunJob<'a, S> = dyn FnMut(&mut StoreWorker<S>, Job, &AtomicU64) -> Ended + 'a;

/// What became of a job that [`RunJob`] ran.
enum Ended {
    /// Its outcome is still to be stored (with the next ask), after this many seconds.
    Pending(Job, Outcome, f64),
    /// Stored already (a stop-mode program's last segment, told as it reported): only
    /// the observer is left to call.
    Recorded(Job, Outcome),
    /// Nothing to store or observe (its result could not be stored: its lease lapses).
    Nothing,
}

/// Under the lock: checks that the log still holds the last event `replica` applied (the
/// first of `events`, read from `cursor - 1`), then applies the events after it.
fn catch_up(
    replica: &mut Replica,
    events: Vec<StoredEvent>,
    cursor: u64,
    study: i64,
) -> Result<(), StorageError> {
    let mut events = events.into_iter();
    if cursor > 0 {
        match events.next() {
            Some(e) if e.seq == cursor && e.at == replica.cursor_at() => {}
            _ => return Err(StorageError::Diverged { study, seq: cursor }),
        }
    }
    events.try_for_each(|e| replica.apply(&e))
}

/// The outcome of one call of an objective; a panic is a failure with its message.
fn evaluate(f: impl FnOnce() -> Result<Evaluation, String>) -> Outcome {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(eval)) => Outcome::Finished(eval),
        Ok(Err(reason)) => Outcome::failed(reason),
        Err(panic) => Outcome::failed(format!("the objective panicked: {}", panic_text(&panic))),
    }
}

/// Renews the leases of the jobs `held` names, every third of `lease`, until `quit`: the
/// one lease keeper, for a store worker's running job and for the jobs a Python ask/tell
/// caller holds. It has its own connection, so that a long job never blocks on, or is
/// blocked by, the worker's decisions; `open` makes it the first time a lease needs
/// renewing (workers with short jobs hold one connection, not two) and again after a
/// failure. A failed renewal is tried again on the next round; a lease outlasts two.
pub fn keep_leases<S: EventStore>(
    mut open: impl FnMut() -> Result<S, StorageError>,
    study: i64,
    worker: &str,
    lease: Duration,
    held: impl Fn() -> Vec<JobId>,
    quit: &AtomicBool,
) {
    let mut store: Option<S> = None;
    let tick = Duration::from_millis(50);
    let every = lease / 3;
    let mut since = Duration::ZERO;
    while !quit.load(Ordering::Relaxed) {
        std::thread::sleep(tick);
        since += tick;
        if since < every {
            continue;
        }
        let jobs = held();
        if jobs.is_empty() {
            continue;
        }
        since = Duration::ZERO;
        if store.is_none() {
            store = open().ok();
        }
        let Some(s) = store.as_mut() else { continue };
        let until = now() + lease.as_secs_f64();
        if jobs
            .into_iter()
            .any(|job| s.renew_lease(study, job, worker, until).is_err())
        {
            store = None;
        }
    }
}

/// How often a worker that keeps getting jobs looks for expired leases.
const LEASE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Declares lost, in the log and the replica, every running job whose lease expired or
/// whose worker is known dead; returns how many.
fn declare_lost(
    log: &mut dyn LockedLog,
    replica: &mut Replica,
    t: f64,
) -> Result<usize, StorageError> {
    let mut lost = 0;
    for Lease {
        job,
        worker,
        expires_at,
    } in log.leases()?
    {
        let running = replica
            .study()
            .jobs()
            .get(job.0 as usize)
            .is_some_and(|j| j.state == crate::JobState::Running);
        if !running {
            continue;
        }
        let reason = if expires_at < t {
            format!("lease of worker {worker} expired")
        } else if known_dead(&worker) {
            format!("worker {worker} is no longer running")
        } else {
            continue;
        };
        let event = Event::JobLost { job, reason };
        let seq = log.append(&event, t)?;
        replica.apply(&StoredEvent { seq, at: t, event })?;
        lost += 1;
    }
    Ok(lost)
}

/// One worker of a stored study.
pub struct StoreWorker<S: EventStore> {
    store: S,
    study_id: i64,
    replica: Replica,
    name: String,
    lease: Duration,
    /// Set when a transaction failed after the replica had decided: the replica is rebuilt.
    stale: bool,
    /// How long store errors are retried before the worker gives up: long enough to ride
    /// out a database restart or a dropped connection.
    retry_window: Duration,
    rebuild: Box<dyn Fn() -> Replica + Send>,
    /// When this worker last looked for expired leases.
    leases_checked: Option<Instant>,
}

/// What a worker did.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerReport {
    pub jobs: u64,
    pub stopped: StopReason,
    /// Results the store would not take within the retry window; their jobs are re-run
    /// once their leases expire, so nothing is lost, only repeated.
    pub unreported: u64,
}

/// Calls `f` until it succeeds or `window` has passed since the first failure; an error
/// that retrying cannot cure ([`StorageError::is_permanent`]) is returned at once.
fn with_retries<T>(
    window: Duration,
    mut f: impl FnMut() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if e.is_permanent() || start.elapsed() >= window => return Err(e),
            Err(_) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
}

impl<S: EventStore + 'static> StoreWorker<S> {
    /// `fresh` builds an empty replica of the study (from its stored spec); it is called
    /// now and again whenever the replica must be rebuilt from the log.
    pub fn new(store: S, study_id: i64, fresh: Box<dyn Fn() -> Replica + Send>) -> Self {
        Self {
            store,
            study_id,
            replica: fresh(),
            name: worker_name(),
            lease: DEFAULT_LEASE,
            stale: false,
            retry_window: Duration::from_secs(60),
            rebuild: fresh,
            leases_checked: None,
        }
    }

    pub fn with_retry_window(mut self, window: Duration) -> Self {
        self.retry_window = window;
        self
    }

    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// Brings the replica up to date with the log.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        if self.stale {
            self.replica = (self.rebuild)();
            self.stale = false;
        }
        self.replica.sync(&mut self.store, self.study_id)
    }

    /// Under the study lock: catch up, declare expired or orphaned jobs lost, decide.
    pub fn next_job(&mut self) -> Result<Decision<Job>, StorageError> {
        self.report_and_ask(&mut None)
    }

    /// Stores `report` (taken once it is stored), then [`next_job`](Self::next_job): one
    /// round trip less per job where the store can combine them.
    fn report_and_ask(
        &mut self,
        report: &mut Option<Event>,
    ) -> Result<Decision<Job>, StorageError> {
        if self.stale {
            if let Some(event) = report.take() {
                self.store.append(self.study_id, &event).inspect_err(|_| {
                    *report = Some(event.clone());
                })?;
            }
            self.sync()?;
        }
        // Catch up outside the lock, so that the lock is held for the few events written
        // since (with many workers, most of the log is other workers' jobs).
        let caught_up = self
            .store
            .ask(
                self.study_id,
                &self.name,
                self.replica.cursor(),
                report.as_ref(),
            )
            .and_then(|events| {
                *report = None;
                events.iter().try_for_each(|e| self.replica.apply(e))
            });
        if let Err(e) = caught_up {
            self.stale = true;
            return Err(e);
        }
        let replica = &mut self.replica;
        let name = &self.name;
        let lease = self.lease;
        let study_id = self.study_id;
        // Reading every lease on every decision would cost a round trip under the lock for
        // something that changes on the scale of the lease; a worker that would otherwise
        // wait looks at once, so a study blocked on a dead worker's job moves on.
        let leases_due = self
            .leases_checked
            .is_none_or(|t| t.elapsed() >= LEASE_CHECK_INTERVAL);
        let mut checked = false;
        // From the last event we applied, to see that the log still holds it.
        let cursor = replica.cursor();
        let lease_for = |worker: &str, job: &Job, t: f64| Lease {
            job: job.id,
            worker: worker.to_string(),
            expires_at: t + lease.as_secs_f64(),
        };
        let asked = self.store.ask_locked(
            study_id,
            name,
            cursor.saturating_sub(1),
            &mut |log, events| {
                catch_up(replica, events, cursor, study_id)?;
                let t = now();
                if leases_due {
                    checked = true;
                    declare_lost(log, replica, t)?;
                }
                let mut decision = replica.study_mut().ask();
                if matches!(decision, Decision::Wait) && !leases_due {
                    checked = true;
                    if declare_lost(log, replica, t)? > 0 {
                        decision = replica.study_mut().ask();
                    }
                }
                let Decision::Run(job) = decision else {
                    return Ok(decision);
                };
                let event = Replica::issued_event(&job, name);
                let seq = log.issue(&event, t, &lease_for(name, &job, t))?;
                replica.record_issue(seq, t, name);
                // The workers waiting behind us, as long as there is work: the scheduler
                // sees the same sequence of asks as if each had taken the lock in turn.
                for other in log.waiting().to_vec() {
                    let Decision::Run(theirs) = replica.study_mut().ask() else {
                        break;
                    };
                    let event = Replica::issued_event(&theirs, &other);
                    let seq = log.serve(&event, t, &lease_for(&other, &theirs, t))?;
                    replica.record_issue(seq, t, &other);
                }
                Ok(Decision::Run(job))
            },
        );
        if checked {
            self.leases_checked = Some(Instant::now());
        }
        let result = match asked {
            Ok(Asked::Decided(decision)) => Ok(decision),
            Ok(Asked::Served(Event::JobIssued { job, .. })) => job
                .to_job(self.replica.study().space())
                .map(Decision::Run)
                .map_err(|problem| StorageError::CorruptEvent {
                    name: self.replica.name().to_string(),
                    seq: 0,
                    problem: format!("the job another worker issued to us: {problem}"),
                }),
            Ok(Asked::Served(other)) => Err(StorageError::CorruptEvent {
                name: self.replica.name().to_string(),
                seq: 0,
                problem: format!("a job assignment that is not a job: {}", other.kind()),
            }),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.stale = true;
        }
        result
    }

    /// Records what became of `job`.
    pub fn report(
        &mut self,
        job: &Job,
        outcome: Outcome,
        seconds: f64,
    ) -> Result<(), StorageError> {
        let event = self.result_event(job, outcome, seconds);
        self.store.append(self.study_id, &event)?;
        Ok(())
    }

    fn result_event(&self, job: &Job, outcome: Outcome, seconds: f64) -> Event {
        match outcome {
            Outcome::Finished(evaluation) => Event::JobFinished {
                job: job.id,
                evaluation,
                worker: self.name.clone(),
                seconds,
            },
            Outcome::Failed { reason, used } => Event::JobFailed {
                job: job.id,
                reason,
                worker: self.name.clone(),
                seconds,
                used,
            },
            Outcome::Lost => Event::JobLost {
                job: job.id,
                reason: format!("released by worker {}", self.name),
            },
            Outcome::Stopped { used } => Event::JobStopped {
                job: job.id,
                worker: self.name.clone(),
                seconds,
                used,
            },
        }
    }

    /// Runs jobs until the study is done, `deadline` passes or `stop` is set (finishing
    /// the running job first). `heartbeat` opens a second connection for lease renewal;
    /// `observer` sees the replica after each job (in stop mode, after each program, with
    /// its last segment).
    pub fn run<F>(
        &mut self,
        heartbeat_store: impl FnMut() -> Result<S, StorageError> + Send,
        objective: F,
        deadline: Option<Instant>,
        stop: &AtomicBool,
        observer: &mut dyn FnMut(&Replica, &Job, &Outcome),
    ) -> Result<WorkerReport, StorageError>
    where
        F: Fn(&Job) -> Result<Evaluation, String>,
    {
        let mut run_job = |_: &mut Self, job: Job, _: &AtomicU64| {
            let start = Instant::now();
            let outcome = evaluate(|| objective(&job));
            Ended::Pending(job, outcome, start.elapsed().as_secs_f64())
        };
        self.run_with(heartbeat_store, &mut run_job, deadline, stop, observer)
    }

    /// The loop of [`run`](Self::run) around `run_job`, which evaluates one job it is
    /// given (updating the heartbeat's job as it goes) and returns the job whose outcome
    /// is still to be stored, if any.
    fn run_with(
        &mut self,
        heartbeat_store: impl FnMut() -> Result<S, StorageError> + Send,
        run_job: &mut RunJob<'_, S>,
        deadline: Option<Instant>,
        stop: &AtomicBool,
        observer: &mut dyn FnMut(&Replica, &Job, &Outcome),
    ) -> Result<WorkerReport, StorageError> {
        let current = AtomicU64::new(NO_JOB);
        let quit = AtomicBool::new(false);
        let (study, lease) = (self.study_id, self.lease);
        let name = self.name.clone();
        std::thread::scope(|scope| {
            let current = &current;
            let running = move || match current.load(Ordering::Relaxed) {
                NO_JOB => Vec::new(),
                job => vec![JobId(job)],
            };
            let (name, quit) = (&name, &quit);
            scope.spawn(move || keep_leases(heartbeat_store, study, name, lease, running, quit));
            let result = self.job_loop(run_job, deadline, stop, observer, current);
            quit.store(true, Ordering::Relaxed);
            result
        })
    }

    fn job_loop(
        &mut self,
        run_job: &mut RunJob<'_, S>,
        deadline: Option<Instant>,
        stop: &AtomicBool,
        observer: &mut dyn FnMut(&Replica, &Job, &Outcome),
        current: &AtomicU64,
    ) -> Result<WorkerReport, StorageError> {
        let mut jobs = 0;
        let mut unreported = 0;
        let mut backoff = Duration::from_millis(10);
        // The last job's result, stored with the next ask (one round trip for both).
        let mut pending: Option<Event> = None;
        // The log's limits before the first decision: a worker joining after the study's
        // time limit takes nothing.
        with_retries(self.retry_window, || self.sync())?;
        loop {
            // The study's own time limit (a run's `max_time`, which a worker given no study
            // file learns from the log) as well as this worker's.
            let stored_deadline = self.replica.deadline().is_some_and(|d| now() >= d);
            if deadline.is_some_and(|d| Instant::now() >= d)
                || stored_deadline
                || stop.load(Ordering::Relaxed)
            {
                if let Some(event) = pending.take() {
                    // Bounded well inside the lease, so that a result we could not store
                    // is re-run by someone else rather than waited for.
                    let window = self.retry_window.min(self.lease / 2);
                    if with_retries(window, || self.store.append(self.study_id, &event)).is_err() {
                        unreported += 1;
                    }
                }
                return Ok(WorkerReport {
                    jobs,
                    stopped: StopReason::Time,
                    unreported,
                });
            }
            let window = self.retry_window;
            let asked = with_retries(window, || self.report_and_ask(&mut pending));
            // The last result is stored (or the worker gives up): its lease may lapse.
            current.store(NO_JOB, Ordering::Relaxed);
            let job = match asked? {
                Decision::Run(job) => job,
                Decision::Wait => {
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                    continue;
                }
                Decision::Done => {
                    return Ok(WorkerReport {
                        jobs,
                        stopped: StopReason::Done,
                        unreported,
                    })
                }
            };
            backoff = Duration::from_millis(10);
            current.store(job.id.0, Ordering::Relaxed);
            let ended = run_job(self, job, current);
            jobs += 1;
            match ended {
                Ended::Pending(job, outcome, seconds) => {
                    // The lease is renewed until the result is stored, with the next ask:
                    // a store slow to take it (a loaded machine, a long lock wait) must not
                    // let a finished job's lease lapse, or another worker declares it lost,
                    // runs it again and drops this result as late (seen in the PyTorch
                    // benchmark: 26 s between the program's exit and the write).
                    current.store(job.id.0, Ordering::Relaxed);
                    pending = Some(self.result_event(&job, outcome.clone(), seconds));
                    observer(&self.replica, &job, &outcome);
                }
                Ended::Recorded(job, outcome) => {
                    current.store(NO_JOB, Ordering::Relaxed);
                    observer(&self.replica, &job, &outcome);
                }
                Ended::Nothing => current.store(NO_JOB, Ordering::Relaxed),
            }
        }
    }
}
