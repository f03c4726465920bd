//! `mode = "stop"` end to end: a training script that knows nothing of us (its own epoch
//! lines, `--epochs`, no checkpoints) tuned with ASHA and Hyperband as stopping rules.
//! The script logs every epoch it completes, so the tests can hold the study's budget to
//! the epochs actually run, and see that a stopped run stopped at its rung.

mod common;

use common::{hyperband, json_of, json_or_null, output_of, run_ok, spawn_quiet, wait_at_most};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A training script in one of the output styles below; each epoch takes EPOCH_SECONDS,
/// and is logged to `--log` (pid, epoch) once complete, before its value is printed.
/// `--style`: `line` (epoch and value on one line), `keras1` (Keras `fit(verbose=1)`:
/// `Epoch k/N` on its own line, then a progress bar redrawn with `\r`, colours and
/// backspaces, the epoch's `val_loss` on its last frame), `keras2` (`verbose=2`: `Epoch
/// k/N`, then one summary line) and `pytorch` (pytorch/examples `mnist/main.py`: `Train
/// Epoch: k [...]` lines, then `Test set: Average loss: ...` on a line of its own). Keras
/// and PyTorch print 4 decimals. `--grandchild PIDFILE` starts a helper process that
/// lives as long as it is let (a data-loader worker), its pid appended to PIDFILE.
const SCRIPT: &str = r#"
import argparse, math, os, subprocess, sys, time
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--epochs", type=int, required=True)
p.add_argument("--log", required=True)
p.add_argument("--style", default="line")
p.add_argument("--grandchild")
a = p.parse_args()
if a.grandchild:
    worker = subprocess.Popen(["sleep", "300"])
    with open(a.grandchild, "a") as f:
        f.write(f"{worker.pid}\n")
print(f"training with lr={a.lr} for {a.epochs} epochs")
for epoch in range(1, a.epochs + 1):
    if a.style.startswith("keras"):
        print(f"Epoch {epoch}/{a.epochs}")
    if a.style == "keras1":
        for step in range(1, 4):
            sys.stdout.write(f"\r\x1b[1m{step}/5\x1b[0m \x1b[32m" + "\u2501" * step + f"\x1b[0m - loss: {0.9 / step:.4f}" + "\b" * 8)
            sys.stdout.flush()
    if a.style == "pytorch":
        for batch in range(0, 3):
            print(f"Train Epoch: {epoch} [{batch * 640}/1920 ({batch * 33:.0f}%)]\tLoss: {2.0 / (batch + 1):.6f}")
    time.sleep(float(os.environ.get("EPOCH_SECONDS", "0.15")))
    val = (math.log10(a.lr) + 2.0) ** 2 / 4.0 + 1.0 / epoch
    with open(a.log, "a") as f:
        f.write(f"{os.getpid()} {epoch} {time.time()!r} {a.lr!r}\n")
    if a.style == "line":
        print(f"Epoch {epoch}/{a.epochs} - loss: {val * 1.1:.4f} - val_loss: {val:.6f}")
    elif a.style == "keras1":
        print(f"\r\x1b[1m5/5\x1b[0m \x1b[32m" + "\u2501" * 5 + f"\x1b[0m \x1b[1m0s\x1b[0m 5ms/step - loss: {val * 1.1:.4f} - val_loss: {val:.4f}")
    elif a.style == "keras2":
        print(f"5/5 - 0s - 5ms/step - loss: {val * 1.1:.4f} - val_loss: {val:.4f}")
    elif a.style == "pytorch":
        print(f"\nTest set: Average loss: {val:.4f}, Accuracy: {9000 + epoch}/10000 ({90 + epoch / 10:.0f}%)\n")
print("done")
"#;

const EPOCH_SECONDS: f64 = 0.15;

/// How the script prints, and the study file's `metric` that reads it.
#[derive(Clone, Copy)]
struct Style {
    name: &'static str,
    metric: &'static str,
    /// Decimals printed (`None`: six, read as exact).
    decimals: Option<i32>,
}

/// Epoch and value on one line, read with the README's regex rule.
const LINE: Style = Style {
    name: "line",
    metric: r"{ regex = 'val_loss: ([0-9.]+)', budget_regex = 'Epoch (\d+)/' }",
    decimals: None,
};

fn write_study(dir: &Path, scheduler: &str, workers: usize, max_trials: u64) -> PathBuf {
    write_styled_study(dir, scheduler, workers, max_trials, LINE, "")
}

fn write_styled_study(
    dir: &Path,
    scheduler: &str,
    workers: usize,
    max_trials: u64,
    style: Style,
    extra_args: &str,
) -> PathBuf {
    std::fs::write(dir.join("train.py"), SCRIPT).unwrap();
    let (style_name, metric) = (style.name, style.metric);
    let text = format!(
        r#"name = "stop-{scheduler}"
seed = 5
storage = "sqlite:studies.db"

[objective]
command = ["python3", "train.py", "--lr", "{{lr}}", "--epochs", "{{budget}}", "--log", "epochs.log", "--style", "{style_name}"{extra_args}]
metric = {metric}
timeout = "60s"

[space]
lr = {{ type = "float", low = 1e-4, high = 1.0, log = true }}

[algorithm]
scheduler = "{scheduler}"
mode = "stop"
min_budget = 1
max_budget = 9
eta = 3

[run]
workers = {workers}
max_trials = {max_trials}
"#
    );
    let path = dir.join(format!("{scheduler}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Epochs completed by each program (by pid), from the script's own log.
fn epochs_run(dir: &Path) -> BTreeMap<u32, Vec<u32>> {
    let mut runs: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let text = std::fs::read_to_string(dir.join("epochs.log")).unwrap_or_default();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let pid = parts.next().unwrap().parse().unwrap();
        let epoch = parts.next().unwrap().parse().unwrap();
        runs.entry(pid).or_default().push(epoch);
    }
    runs
}

fn check_stopped_at_rungs(dir: &Path, study: &Path, trials: u64) {
    check_styled_run(dir, study, trials, LINE)
}

fn check_styled_run(dir: &Path, study: &Path, trials: u64, style: Style) {
    let status = json_of(&["status", study.to_str().unwrap(), "--json"]);
    assert_eq!(status["trials"], trials, "{status:#}");
    assert_eq!(status["failed"], 0, "{status:#}");
    let runs = epochs_run(dir);
    assert_eq!(runs.len() as u64, trials, "one program per trial: {runs:?}");
    let total: usize = runs.values().map(Vec::len).sum();
    // Cost counts only the budget each run reached: one unit per epoch actually run.
    assert_eq!(status["budget_spent"], total as f64, "{status:#}");
    let rows = json_of(&["export", study.to_str().unwrap(), "--format", "json"]);
    // A segment stopped while it trained (its trial ranked out of the rung below once that
    // rung had eta results) ends between rungs; every other program ends at a rung.
    let stopped = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "stopped")
        .count();
    let mut reached = Vec::new();
    let mut between_rungs = 0;
    for (pid, epochs) in &runs {
        let expected: Vec<u32> = (1..=epochs.len() as u32).collect();
        assert_eq!(epochs, &expected, "program {pid} ran every epoch once");
        let last = *epochs.last().unwrap();
        // Stopped within one epoch (0.15 s) of crossing its rung: no epoch beyond it.
        if ![1, 3, 9].contains(&last) {
            between_rungs += 1;
        }
        reached.push(last);
    }
    assert!(
        between_rungs <= stopped,
        "{between_rungs} programs ended between rungs (1, 3, 9), {stopped} stopped while training: {reached:?}"
    );
    assert!(
        reached.contains(&1),
        "some run is stopped at the first rung: {reached:?}"
    );
    assert!(
        reached.contains(&9),
        "some run trains to the end: {reached:?}"
    );
    // Each rung's job holds the value the script printed at that epoch.
    for row in rows.as_array().unwrap() {
        if row["state"] == "stopped" {
            continue;
        }
        assert_eq!(row["state"], "finished", "{row}");
        let budget = row["budget"].as_f64().unwrap();
        let lr = row["config"]["lr"].as_f64().unwrap();
        let mut want = (lr.log10() + 2.0).powi(2) / 4.0 + 1.0 / budget;
        if let Some(d) = style.decimals {
            // The value as printed, to the script's decimals.
            want = format!("{want:.*}", d as usize).parse().unwrap();
        }
        let loss = row["loss"].as_f64().unwrap();
        assert!(
            (loss - want).abs()
                < if style.decimals.is_some() {
                    1e-12
                } else {
                    1e-5
                },
            "{row}: loss {loss}, printed {want}"
        );
    }
}

#[test]
fn asha_stops_an_unmodified_script_at_its_rungs_and_charges_the_epochs_it_ran() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path(), "asha", 2, 12);
    let out = run_ok(&["run", study.to_str().unwrap(), "--plain"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("best: loss"), "{stdout}");
    check_stopped_at_rungs(dir.path(), &study, 12);
    // Each rung's result is stored within a second of the script printing it.
    let log = std::fs::read_to_string(dir.path().join("epochs.log")).unwrap();
    let rows = json_of(&["export", study.to_str().unwrap(), "--format", "json"]);
    let mut worst: f64 = 0.0;
    for row in rows.as_array().unwrap() {
        let lr = row["config"]["lr"].as_f64().unwrap();
        let budget = row["budget"].as_f64().unwrap() as u32;
        let printed: f64 = log
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|p| p[1].parse::<u32>() == Ok(budget) && p[3].parse::<f64>() == Ok(lr))
            .map(|p| p[2].parse().unwrap())
            .unwrap_or_else(|| panic!("no epoch {budget} logged for lr {lr}"));
        let stored = row["ended_at"].as_f64().unwrap();
        worst = worst.max(stored - printed);
    }
    eprintln!(
        "slowest rung decision: {:.3} s after the line was printed",
        worst
    );
    assert!(worst < 1.0, "a rung decision took {worst:.3} s");
}

#[test]
fn hyperband_stops_within_each_bracket_and_starts_each_brackets_plan() {
    let dir = tempfile::tempdir().unwrap();
    // Brackets of R = 9, eta = 3: 9 trials from budget 1, 5 from 3, 3 at 9 (17 in all).
    let study = write_study(dir.path(), "hyperband", 2, 17);
    run_ok(&["run", study.to_str().unwrap(), "--plain"]);
    let rows = json_of(&["export", study.to_str().unwrap(), "--format", "json"]);
    let count = |bracket: u64, rung: u64| {
        rows.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["bracket"] == bracket && r["rung"] == rung)
            .count()
    };
    // Each bracket starts its plan's trials; the rule then stops some at every rung.
    assert_eq!(count(0, 0), 9);
    assert_eq!(count(1, 0), 5);
    assert_eq!(count(2, 0), 3);
    assert!(
        count(0, 1) < 9 && count(0, 1) > 0,
        "bracket 0 stops some at rung 0"
    );
    let status = json_of(&["status", study.to_str().unwrap(), "--json"]);
    let total: usize = epochs_run(dir.path()).values().map(Vec::len).sum();
    assert_eq!(status["budget_spent"], total as f64, "{status:#}");
}

#[test]
fn a_runner_killed_with_sigkill_loses_no_finished_result() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path(), "asha", 2, 12);
    let mut child = spawn_quiet(&["run", study.to_str().unwrap(), "--plain"]);
    // Kill it once some rungs are stored and trials are mid-run.
    let start = Instant::now();
    let finished_before = loop {
        std::thread::sleep(Duration::from_millis(100));
        let rows = json_or_null(&["export", study.to_str().unwrap(), "--format", "json"]);
        let finished: Vec<Value> = rows
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["state"] == "finished")
            .cloned()
            .collect();
        if finished.len() >= 6 {
            break finished;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no progress");
    };
    child.kill().unwrap();
    child.wait().unwrap();
    // Its programs die with it (no epoch is logged after the kill).
    std::thread::sleep(Duration::from_secs_f64(EPOCH_SECONDS * 3.0));
    let after_kill: usize = epochs_run(dir.path()).values().map(Vec::len).sum();
    std::thread::sleep(Duration::from_secs_f64(EPOCH_SECONDS * 3.0));
    let later: usize = epochs_run(dir.path()).values().map(Vec::len).sum();
    assert_eq!(
        after_kill, later,
        "a killed runner's programs went on training"
    );

    let resumed = hyperband()
        .args(["run", study.to_str().unwrap(), "--plain"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let resumed = wait_at_most(resumed, Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("the run did not finish within 120 s"));
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let rows = json_of(&["export", study.to_str().unwrap(), "--format", "json"]);
    let rows = rows.as_array().unwrap();
    for before in &finished_before {
        let now = rows.iter().find(|r| r["job"] == before["job"]).unwrap();
        assert_eq!(now["state"], "finished", "{now}");
        assert_eq!(now["loss"], before["loss"], "{now}");
        assert_eq!(now["trial"], before["trial"], "{now}");
    }
    let status = json_of(&["status", study.to_str().unwrap(), "--json"]);
    assert_eq!(status["trials"], 12, "{status:#}");
    assert_eq!(status["running"], 0, "{status:#}");
}

/// Keras `fit(verbose=1)`: the epoch on a line of its own, the value on the last frame of a
/// redrawn progress bar, read by `format = "keras"`.
const KERAS1: Style = Style {
    name: "keras1",
    metric: r#"{ format = "keras", name = "val_loss" }"#,
    decimals: Some(4),
};

/// Keras `fit(verbose=2)`, read by the README's regex (the epoch on an earlier line).
const KERAS2: Style = Style {
    name: "keras2",
    metric: r"{ regex = 'val_loss: ([0-9.]+)', budget_regex = 'Epoch (\d+)/' }",
    decimals: Some(4),
};

/// pytorch/examples `mnist/main.py`, read by `format = "pytorch-examples"`.
const PYTORCH: Style = Style {
    name: "pytorch",
    metric: r#"{ format = "pytorch-examples" }"#,
    decimals: Some(4),
};

/// pytorch/examples read by the rule a user writes from its output (the issue's).
const PYTORCH_REGEX: Style = Style {
    name: "pytorch",
    metric: r"{ regex = 'Test set: Average loss: ([0-9.]+)', budget_regex = 'Train Epoch: (\d+)' }",
    decimals: Some(4),
};

#[test]
fn asha_and_hyperband_follow_scripts_that_print_like_pytorch_examples_and_keras() {
    for (scheduler, trials, style) in [
        ("asha", 12, PYTORCH),
        ("asha", 12, PYTORCH_REGEX),
        ("hyperband", 17, KERAS1),
        ("asha", 12, KERAS2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let study = write_styled_study(dir.path(), scheduler, 2, trials, style, "");
        run_ok(&["run", study.to_str().unwrap(), "--plain"]);
        check_styled_run(dir.path(), &study, trials, style);
    }
}

/// Whether process `pid` is gone (or a zombie nobody has reaped yet).
fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_runner_killed_with_sigkill_takes_its_trials_grandchildren_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_styled_study(
        dir.path(),
        "asha",
        2,
        12,
        LINE,
        r#", "--grandchild", "grandchildren.pids""#,
    );
    let mut child = spawn_quiet(&["run", study.to_str().unwrap(), "--plain"]);
    let pids_file = dir.path().join("grandchildren.pids");
    let start = Instant::now();
    let pids: Vec<u32> = loop {
        std::thread::sleep(Duration::from_millis(50));
        let text = std::fs::read_to_string(&pids_file).unwrap_or_default();
        let pids: Vec<u32> = text.lines().filter_map(|l| l.parse().ok()).collect();
        if pids.len() >= 2 {
            break pids;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no trial started"
        );
    };
    let alive: Vec<u32> = pids.iter().copied().filter(|p| !is_dead(*p)).collect();
    assert!(!alive.is_empty(), "the helpers are running before the kill");
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    while alive.iter().any(|p| !is_dead(*p)) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survivors: Vec<u32> = alive.into_iter().filter(|p| !is_dead(*p)).collect();
    for pid in &survivors {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert!(
        survivors.is_empty(),
        "grandchildren {survivors:?} outlived the killed runner"
    );
}

#[test]
fn a_rule_whose_value_never_matches_stops_each_program_early_and_charges_its_epochs() {
    // Keras verbose=2 output, but the rule asks for a metric it never prints.
    let style = Style {
        name: "keras2",
        metric: r"{ regex = 'val_acc: ([0-9.]+)', budget_regex = 'Epoch (\d+)/' }",
        decimals: Some(4),
    };
    let dir = tempfile::tempdir().unwrap();
    let study = write_styled_study(dir.path(), "asha", 2, 4, style, "");
    let out = output_of(&["run", study.to_str().unwrap(), "--plain"]);
    assert!(!out.status.success());
    let status = json_of(&["status", study.to_str().unwrap(), "--json"]);
    assert_eq!(status["finished"], 0, "{status:#}");
    let reason = status["failures"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("without printing a value for budget 1"),
        "{status:#}"
    );
    let runs = epochs_run(dir.path());
    assert!(!runs.is_empty());
    for (pid, epochs) in &runs {
        // Stopped as it announced epoch 3 (two past the rung at 1), not run to 9.
        assert!(epochs.len() <= 3, "program {pid} ran {epochs:?}");
    }
    // Charged what each program reached: the epochs it completed and the one it started.
    let completed: usize = runs.values().map(Vec::len).sum();
    let spent = status["budget_spent"].as_f64().unwrap();
    assert!(
        spent >= completed as f64 && spent <= (completed + runs.len()) as f64,
        "spent {spent} for {completed} epochs completed by {} programs",
        runs.len()
    );
}

/// Keras verbose=2 output, each epoch's pace set by the learning rate, so that the three
/// reach rung 0 in a known order a second apart: lr = 1 (the worst) prints epoch 1 at once
/// and then takes 2.5 s an epoch; lr = 0.01 (the best) takes 0.5 s for epoch 1, lr = 0.001
/// 1.5 s, and both 0.05 s an epoch after.
const PACED_SCRIPT: &str = r#"
import argparse, math, os, time
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--epochs", type=int, required=True)
a = p.parse_args()
for epoch in range(1, a.epochs + 1):
    print(f"Epoch {epoch}/{a.epochs}")
    if a.lr == 1.0:
        time.sleep(0.0 if epoch == 1 else 2.5)
    elif a.lr == 0.01:
        time.sleep(0.5 if epoch == 1 else 0.05)
    else:
        time.sleep(1.5 if epoch == 1 else 0.05)
    val = (math.log10(a.lr) + 2.0) ** 2 / 4.0 + 1.0 / epoch
    with open("epochs.log", "a") as f:
        f.write(f"{os.getpid()} {epoch} {a.lr!r}\n")
    print(f"5/5 - 0s - 5ms/step - loss: {val * 1.1:.4f} - val_loss: {val:.4f}")
"#;

/// Three workers, three trials at once: the worst reaches rung 0 first and goes on on
/// credit, the best second (on credit too), and the third result ranks the worst out while
/// it trains towards rung 1 (the best stays in the top third). Its program is stopped after
/// the epoch it is in, and the study charges exactly the epochs the programs ran.
#[test]
fn a_trial_that_went_on_on_credit_is_stopped_once_the_rung_ranks_it_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("train.py"), PACED_SCRIPT).unwrap();
    let study = dir.path().join("credit.toml");
    std::fs::write(
        &study,
        r#"name = "credit"
seed = 1
storage = "sqlite:studies.db"

[objective]
command = ["python3", "train.py", "--lr", "{lr}", "--epochs", "{budget}"]
metric = { format = "keras", name = "val_loss" }
timeout = "60s"

[space]
lr = { type = "float", low = 1e-4, high = 1.0, log = true }

[algorithm]
scheduler = "asha"
sampler = "random"
mode = "stop"
min_budget = 1
max_budget = 9
eta = 3

[run]
workers = 3
max_trials = 3

[[enqueue]]
lr = 1.0
[[enqueue]]
lr = 0.01
[[enqueue]]
lr = 0.001
"#,
    )
    .unwrap();
    run_ok(&["run", study.to_str().unwrap(), "--plain"]);
    let runs = epochs_run(dir.path());
    let log = std::fs::read_to_string(dir.path().join("epochs.log")).unwrap();
    let worst_pid: u32 = log
        .lines()
        .find(|l| l.ends_with(" 1.0"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        runs[&worst_pid],
        vec![1, 2],
        "lr = 1 stopped after epoch 2: {runs:?}"
    );
    let rows = json_of(&["export", study.to_str().unwrap(), "--format", "json"]);
    let worst: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["config"]["lr"] == 1.0)
        .collect();
    assert_eq!(worst.len(), 2, "{rows:#}");
    assert_eq!(worst[0]["state"], "finished");
    assert_eq!(worst[1]["state"], "stopped");
    assert_eq!(worst[1]["cost"], 1.0, "charged epoch 2, past rung 0");
    let status = json_of(&["status", study.to_str().unwrap(), "--json"]);
    assert_eq!(status["stopped"], 1, "{status:#}");
    let total: usize = runs.values().map(Vec::len).sum();
    assert_eq!(status["budget_spent"], total as f64, "{status:#}");
    let plain = run_ok(&["status", study.to_str().unwrap()]);
    let plain = String::from_utf8_lossy(&plain.stdout);
    assert!(plain.contains("1 stopped while training"), "{plain}");
}
