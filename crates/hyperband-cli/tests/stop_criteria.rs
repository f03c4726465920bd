//! Every stop criterion with every scheduler and sampler, through `hyperband run` on SQLite,
//! on generated study files: the run ends cleanly, the log replays to the same state, the
//! limits hold exactly, and a run killed with SIGKILL and resumed agrees with one that was
//! not (issue 15: a trial limit reached mid-bracket made replicas disagree and the run
//! blame the database).
//!
//! `PROPTEST_CASES` sets the number of generated studies (default 40).

mod common;

use common::{hyperband, json_or_null, output_of, slow_study, wait_at_most, wait_until};
use hyperband::storage::{Event, EventStore, Replica, SqliteStore};
use hyperband::{Decision, JobState, Limits, StudySpec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

const SCHEDULERS: [&str; 5] = ["full-budget", "sha", "hyperband", "asha", "async-hyperband"];
const SAMPLERS: [&str; 3] = ["random", "tpe", "gp"];

/// The loss is `x` itself; `x` in [0.1, 0.2) exits non-zero, [0.2, 0.3) prints NaN and
/// [0.3, 0.35) prints garbage, so about a quarter of the jobs fail, deterministically per
/// configuration. POSIX sh, so that a job costs a fork, not an interpreter.
const OBJECTIVE: &str = r#"case "$1" in 0.1*) echo "crashed" >&2; exit 3;; 0.2*) echo nan;; 0.30*|0.31*|0.32*|0.33*|0.34*) echo "loss: n/a";; *) echo "$1";; esac"#;

#[derive(Debug, Clone)]
struct Case {
    scheduler: &'static str,
    sampler: &'static str,
    max_budget: u32,
    eta: u32,
    n_configs: u64,
    max_brackets: Option<u64>,
    retries: u32,
    workers: usize,
    seed: u64,
    max_trials: Option<u64>,
    max_total_budget: Option<u32>,
    max_time: bool,
    /// Kill the first run after this fraction of an uninterrupted run's time, then resume.
    kill_at: f64,
}

impl Case {
    /// The schedulers that never finish by themselves need a limit.
    fn bounded_by_itself(&self) -> bool {
        self.scheduler == "sha" || (self.scheduler == "hyperband" && self.max_brackets.is_some())
    }

    fn study_file(&self) -> String {
        let mut algorithm = format!(
            "scheduler = \"{}\"\nsampler = \"{}\"\nmin_budget = 1\nmax_budget = {}\neta = {}\n",
            self.scheduler, self.sampler, self.max_budget, self.eta
        );
        if self.scheduler == "sha" {
            algorithm += &format!("n_configs = {}\n", self.n_configs);
        }
        if let (Some(n), "hyperband") = (self.max_brackets, self.scheduler) {
            algorithm += &format!("max_brackets = {n}\n");
        }
        let mut run = format!("workers = {}\n", self.workers);
        if let Some(t) = self.max_trials {
            run += &format!("max_trials = {t}\n");
        }
        if let Some(b) = self.max_total_budget {
            run += &format!("max_total_budget = {b}\n");
        }
        if self.max_time {
            run += "max_time = \"1s\"\n";
        }
        format!(
            r#"name = "prop"
seed = {seed}
storage = "sqlite:study.db"

[objective]
command = ["sh", "-c", '{OBJECTIVE}', "sh", "{{x}}", "{{y}}", "{{budget}}"]
retries = {retries}

[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}
y = {{ type = "float", low = 1e-3, high = 1.0, log = true }}
k = {{ type = "categorical", choices = ["a", "b", "c"] }}

[algorithm]
{algorithm}
[run]
{run}"#,
            seed = self.seed,
            retries = self.retries,
        )
    }
}

fn studies() -> impl Strategy<Value = Case> {
    (
        (0..SCHEDULERS.len(), 0..SAMPLERS.len(), 0..3usize, 2..=3u32),
        (1..=20u64, prop::option::of(1..=4u64), 0..=1u32, 1..=3usize),
        any::<u64>(),
        (
            prop::option::of(1..=70u64),
            prop::option::of(5..=400u32),
            prop::bool::weighted(0.1),
        ),
        0.05..0.9f64,
    )
        .prop_map(
            |(
                (scheduler, sampler, r, eta),
                (n_configs, max_brackets, retries, workers),
                seed,
                (max_trials, max_total_budget, max_time),
                kill_at,
            )| Case {
                scheduler: SCHEDULERS[scheduler],
                sampler: SAMPLERS[sampler],
                max_budget: [4, 9, 27][r],
                eta,
                n_configs,
                max_brackets,
                retries,
                workers,
                seed: seed % 1000,
                max_trials,
                max_total_budget,
                max_time,
                kill_at,
            },
        )
        .prop_filter("a study that can end", |c| {
            c.bounded_by_itself()
                || c.max_trials.is_some()
                || c.max_total_budget.is_some()
                || c.max_time
        })
}

fn spawn_run(file: &Path) -> Child {
    hyperband()
        .args(["run", file.to_str().unwrap(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a run, killing it (and failing) if it hangs.
fn finish(child: Child, limit: Duration) -> Result<Output, TestCaseError> {
    wait_at_most(child, limit).map_err(|out| {
        TestCaseError::fail(format!(
            "the run did not end within {limit:?}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    })
}

struct Dir {
    _tmp: tempfile::TempDir,
    file: PathBuf,
    db: PathBuf,
}

fn study_dir(case: &Case) -> Dir {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("study.toml");
    std::fs::write(&file, case.study_file()).unwrap();
    let db = tmp.path().join("study.db");
    Dir {
        _tmp: tmp,
        file,
        db,
    }
}

/// Runs to the end; the JSON summary. A run in which every job failed exits 1 by design.
fn run_to_end(dir: &Dir) -> Result<(Value, Duration), TestCaseError> {
    let start = Instant::now();
    let out = finish(spawn_run(&dir.file), Duration::from_secs(120))?;
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    prop_assert!(
        !stderr.contains("corrupt") && !stderr.contains("cannot be replayed"),
        "{stderr}"
    );
    let summary: Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(_) => {
            return Err(TestCaseError::fail(format!(
                "no summary; stderr:\n{stderr}"
            )))
        }
    };
    let all_failed = summary["finished"] == 0 && summary["failed"].as_u64() > Some(0);
    prop_assert!(
        out.status.success() || (all_failed && out.status.code() == Some(1)),
        "exit {:?}:\n{stderr}",
        out.status
    );
    Ok((summary, elapsed))
}

/// What a job came to, without its attempt number or times.
#[derive(Debug, Clone, PartialEq)]
struct JobSummary {
    trial: u64,
    budget: f64,
    bracket: u64,
    rung: u32,
    state: JobState,
    loss: Option<f64>,
    config: String,
}

/// Replays the log from scratch, checking every decision against the limits in force when
/// it was made; the replayed study and its jobs.
fn replay(dir: &Dir, case: &Case) -> Result<(Replica, Vec<JobSummary>), TestCaseError> {
    let mut store = SqliteStore::open(&dir.db).unwrap();
    let (id, stored) = store.find_study("prop").unwrap();
    let spec: StudySpec = serde_json::from_value(stored).unwrap();
    let mut replica = Replica::new("prop", spec.build(Limits::default()).unwrap());
    let mut limits_seen = 0;
    for event in store.events_after(id, 0).unwrap() {
        if let Event::LimitsSet { limits, .. } = &event.event {
            limits_seen += 1;
            prop_assert_eq!(limits.max_trials, case.max_trials);
            prop_assert_eq!(
                limits.max_total_budget,
                case.max_total_budget.map(f64::from)
            );
        }
        if let Event::JobIssued { job, .. } = &event.event {
            let study = replica.study();
            let stats = study.stats();
            let new_trial = job.trial.0 == stats.trials && job.attempt == 0;
            if let (Some(max), true) = (case.max_trials, new_trial) {
                prop_assert!(
                    stats.trials < max,
                    "trial {} started past max_trials",
                    job.trial
                );
            }
            if let Some(max) = case.max_total_budget {
                let committed: f64 = study
                    .jobs()
                    .iter()
                    .filter(|j| j.state == JobState::Running)
                    .map(|j| j.assignment.budget)
                    .sum();
                prop_assert!(
                    stats.budget_spent + committed < f64::from(max),
                    "job {} issued with {} spent and {committed} running of {max}",
                    job.id,
                    stats.budget_spent
                );
            }
        }
        if let Err(e) = replica.apply(&event) {
            return Err(TestCaseError::fail(format!("replay failed: {e}")));
        }
    }
    let limited = case.max_trials.is_some() || case.max_total_budget.is_some() || case.max_time;
    // A study without limits needs no event saying so.
    prop_assert_eq!(limits_seen >= 1, limited, "the run stored its limits");
    let study = replica.study();
    let jobs = study
        .jobs()
        .iter()
        .filter(|j| j.state != JobState::Lost)
        .map(|j| JobSummary {
            trial: j.assignment.trial.0,
            budget: j.assignment.budget,
            bracket: j.assignment.bracket,
            rung: j.assignment.rung,
            state: j.state,
            loss: j.loss,
            config: format!("{:?}", study.history().trial(j.assignment.trial).config),
        })
        .collect();
    Ok((replica, jobs))
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let dir = study_dir(case);
    let (summary, elapsed) = run_to_end(&dir)?;
    let (mut replica, jobs) = replay(&dir, case)?;
    let stats = replica.study().stats();

    // The summary the run printed is the replayed state.
    prop_assert_eq!(summary["trials"].as_u64(), Some(stats.trials));
    prop_assert_eq!(summary["jobs"].as_u64(), Some(stats.jobs));
    prop_assert_eq!(summary["finished"].as_u64(), Some(stats.finished));
    prop_assert_eq!(summary["failed"].as_u64(), Some(stats.failed));
    prop_assert_eq!(summary["budget_spent"].as_f64(), Some(stats.budget_spent));
    prop_assert_eq!(stats.running, 0, "every job issued was reported");

    // The limits hold exactly: a study that stopped by itself is done, and one that
    // stopped at a limit reached it.
    if let Some(max) = case.max_trials {
        prop_assert!(stats.trials <= max);
    }
    if let Some(max) = case.max_total_budget {
        // Beyond the limit by at most the jobs in flight when it was reached.
        let slack = (case.workers as f64) * f64::from(case.max_budget);
        prop_assert!(stats.budget_spent < f64::from(max) + slack);
    }
    let stopped = summary["stopped"].as_str().unwrap_or_default().to_string();
    if case.max_time {
        prop_assert!(
            elapsed < Duration::from_secs(20),
            "a 1 s time limit took {elapsed:?}"
        );
    }
    if stopped == "done" {
        prop_assert_eq!(replica.study_mut().ask(), Decision::Done);
        if !case.bounded_by_itself() {
            let at_trials = case.max_trials.is_some_and(|m| stats.trials == m);
            let at_budget = case
                .max_total_budget
                .is_some_and(|m| stats.budget_spent >= f64::from(m));
            prop_assert!(
                at_trials || at_budget,
                "stopped with {} trials and {} budget of {:?} / {:?}",
                stats.trials,
                stats.budget_spent,
                case.max_trials,
                case.max_total_budget
            );
        }
    } else {
        prop_assert!(
            case.max_time,
            "stopped for {stopped:?} without a time limit"
        );
    }

    // Killed at a random moment and resumed, a one-worker run makes the same decisions.
    if case.workers == 1 && !case.max_time {
        let killed = study_dir(case);
        let mut child = spawn_run(&killed.file);
        std::thread::sleep(elapsed.mul_f64(case.kill_at));
        child.kill().unwrap();
        child.wait().unwrap();
        let (resumed_summary, _) = run_to_end(&killed)?;
        let (resumed, resumed_jobs) = replay(&killed, case)?;
        prop_assert_eq!(&resumed_jobs, &jobs);
        let r = resumed.study().stats();
        prop_assert_eq!(
            (r.trials, r.finished, r.failed, r.budget_spent),
            (
                stats.trials,
                stats.finished,
                stats.failed,
                stats.budget_spent
            )
        );
        prop_assert_eq!(&resumed_summary["best"], &summary["best"]);
    }
    Ok(())
}

#[test]
fn every_stop_criterion_with_every_scheduler_replays_and_holds() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(40);
    let config = Config {
        cases,
        // Each case runs the CLI two or three times: shrinking is slow, the first
        // failure's study file is what matters.
        max_shrink_iters: 8,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&studies(), |case| {
        check(&case)
            .map_err(|e| TestCaseError::fail(format!("{e}\nstudy file:\n{}", case.study_file())))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The study file of the report, exactly, with both of its trial limits, one and two
/// workers, and every scheduler.
#[test]
fn the_reported_study_runs_to_its_end() {
    for scheduler in SCHEDULERS {
        for (max_trials, workers) in [(60, 1), (200, 2)] {
            let case = Case {
                scheduler,
                sampler: "random",
                max_budget: 27,
                eta: 3,
                n_configs: 81,
                max_brackets: None,
                retries: 0,
                workers,
                seed: 5,
                max_trials: Some(max_trials),
                max_total_budget: None,
                max_time: false,
                kill_at: 0.5,
            };
            let dir = study_dir(&case);
            let (summary, _) = run_to_end(&dir).unwrap();
            let (_, jobs) = replay(&dir, &case).unwrap();
            let trials = summary["trials"].as_u64().unwrap();
            if scheduler == "sha" {
                assert!(trials <= max_trials, "{scheduler}: {trials}");
            } else {
                assert_eq!(trials, max_trials, "{scheduler} with {workers} workers");
            }
            assert!(!jobs.is_empty());
        }
    }
}

fn status(file: &Path) -> Value {
    json_or_null(&["status", file.to_str().unwrap(), "--json"])
}

/// A worker that was given only the storage URL and the study's name works within the
/// limits `run` stored: it finishes at exactly the trial limit, and takes no job past the
/// time limit.
#[test]
fn a_worker_without_the_study_file_honours_the_stored_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("remote.db");
    let url = format!("sqlite:{}", db.display());
    let file = slow_study(tmp.path(), "remote", &url, "max_trials = 12");
    let mut run = spawn_run(&file);
    wait_until(Duration::from_secs(30), "the run never started", || {
        status(&file)["finished"].as_u64().unwrap_or(0) >= 2
    });
    run.kill().unwrap();
    run.wait().unwrap();
    assert!(status(&file)["trials"].as_u64().unwrap() < 12);
    let worker = hyperband()
        .args(["worker", "--storage", &url, "--study", "remote", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = finish(worker, Duration::from_secs(60)).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["trials"], 12);
    assert_eq!(summary["running"], 0);
    assert_eq!(summary["limits"]["max_trials"], 12);

    // A time limit counts from the run that set it; a worker joining later takes nothing.
    let file = slow_study(tmp.path(), "remote", &url, "max_time = \"1s\"");
    let out = finish(spawn_run(&file), Duration::from_secs(30)).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after_run = status(&file)["jobs"].as_u64().unwrap();
    let out = output_of(&["worker", "--storage", &url, "--study", "remote", "--json"]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["stopped"], "time");
    assert_eq!(summary["jobs"].as_u64(), Some(after_run));
}
