//! Hostile metric sources and outputs, through the binary (issue 21): nothing a program
//! prints, and no file a rule names, can grow the runner without bound, hang it past a
//! job's timeout, or land in the store beyond a few KiB or from outside the program.

mod common;

use common::{output_of, study_toml};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A study of one trial at one budget whose program is `script` and whose metric is
/// `metric`.
fn study(dir: &Path, script: &str, metric: &str, mode: &str) -> String {
    std::fs::write(dir.join("train.sh"), script).unwrap();
    let text = format!(
        r#"name = "sources"
seed = 1
storage = "sqlite:studies.db"

[objective]
command = ["sh", "train.sh", "{{x}}", "{{budget}}"]
{metric}
timeout = "5s"

[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}

[algorithm]
scheduler = "asha"
min_budget = 1
max_budget = 3
mode = "{mode}"

[run]
workers = 1
max_trials = 1
"#
    );
    study_toml(dir, &text)
}

/// Runs the study, bounded in time, and returns the stored failure reasons.
fn run_and_reasons(file: &str, limit: Duration) -> Vec<String> {
    let start = Instant::now();
    let _ = output_of(&["run", file, "--plain"]);
    assert!(
        start.elapsed() < limit,
        "the run took {:?}",
        start.elapsed()
    );
    let rows: Value =
        serde_json::from_slice(&output_of(&["export", file, "--format", "json"]).stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["failure"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn dev_zero_and_a_fifo_as_metric_files_fail_fast_with_a_reason() {
    for mode in ["promote", "stop"] {
        let dir = tempfile::tempdir().unwrap();
        let metric =
            "metric = { regex = 'loss=([0-9.]+)', source = 'file:/dev/zero', step_budget = 1 }";
        let file = study(dir.path(), "echo started\n", metric, mode);
        let reasons = run_and_reasons(&file, Duration::from_secs(30));
        assert!(!reasons.is_empty(), "{mode}");
        assert!(
            reasons[0].contains("not a regular file"),
            "{mode}: {reasons:?}"
        );

        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("metrics.fifo");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let metric =
            "metric = { regex = 'loss=([0-9.]+)', source = 'file:metrics.fifo', step_budget = 1 }";
        // The program sleeps past nothing: a reader blocked on the FIFO would hang the run.
        let file = study(dir.path(), "echo started\n", metric, mode);
        let reasons = run_and_reasons(&file, Duration::from_secs(30));
        assert!(
            reasons.iter().any(|r| r.contains("not a regular file")),
            "{mode}: {reasons:?}"
        );
    }
}

#[test]
fn a_metric_file_outside_the_program_never_reaches_the_stored_reason() {
    let dir = tempfile::tempdir().unwrap();
    // A file that is not the program's, with a line the regex half-matches.
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "password=hunter2-topsecret\nloss=abc\n").unwrap();
    let metric = format!(
        "metric = {{ regex = '(?:loss|password)=(\\S+)', source = 'file:{}' }}",
        secret.display()
    );
    let file = study(dir.path(), "echo 'loss=0.5'\n", &metric, "promote");
    let reasons = run_and_reasons(&file, Duration::from_secs(30));
    assert!(!reasons.is_empty());
    for r in &reasons {
        assert!(!r.contains("hunter2") && !r.contains("topsecret"), "{r}");
    }
    // A relative path may not climb out of the job's folder at all.
    let metric = "metric = { regex = 'loss=(\\S+)', source = 'file:../../etc/passwd' }";
    let file = study(dir.path(), "echo 'loss=0.5'\n", metric, "promote");
    let out = output_of(&["run", &file]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("climbs out of the job's working directory"),
        "{stderr}"
    );
}

#[test]
fn a_megabyte_line_is_not_stored_whole() {
    let dir = tempfile::tempdir().unwrap();
    let script = "head -c 1048576 /dev/zero | tr '\\0' 'x'\necho\nhead -c 1048576 /dev/zero | tr '\\0' 'y' >&2\nexit 1\n";
    let file = study(dir.path(), script, "", "promote");
    let reasons = run_and_reasons(&file, Duration::from_secs(30));
    assert!(!reasons.is_empty());
    for r in &reasons {
        assert!(r.len() <= 5 << 10, "a {}-byte reason was stored", r.len());
        assert!(r.contains("exit status 1"), "{r}");
    }
    let dir = tempfile::tempdir().unwrap();
    let script = "head -c 1048576 /dev/zero | tr '\\0' 'z'\necho\n";
    let file = study(dir.path(), script, "", "promote");
    for r in run_and_reasons(&file, Duration::from_secs(30)) {
        assert!(r.len() <= 5 << 10, "a {}-byte reason was stored", r.len());
    }
}
