//! What `run` and `status` say about a study's history (issue 22): a resumed run tells what
//! was stored apart from what it does, both say which limit ended the study, and `status`
//! shows a job whose runner died as such without writing to the store; the report's
//! best-so-far lines run to where the study ended.

mod common;

use common::{hyperband, json_of, json_or_null, run_ok, stdout_of, wait_until};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A study of a POSIX sh objective (loss = x) with the given `[algorithm]` extra keys and
/// `[run]` stop criteria.
fn write_study(dir: &Path, algorithm: &str, run: &str, command: &str) -> PathBuf {
    let text = format!(
        r#"name = "s"
seed = 3
storage = "sqlite:studies.db"

[objective]
command = {command}

[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}

[algorithm]
min_budget = 1
max_budget = 9
eta = 3
{algorithm}

[run]
workers = 1
{run}
"#
    );
    let path = dir.join("study.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const ECHO_X: &str = r#"["sh", "-c", "echo {x}"]"#;

fn job_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.contains("] job ")).collect()
}

#[test]
fn a_resumed_run_sums_up_the_stored_jobs_and_prints_only_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(
        dir.path(),
        "scheduler = \"hyperband\"",
        "max_trials = 4",
        ECHO_X,
    );
    let path = study.to_str().unwrap();
    let first = stdout_of(&["run", path, "--plain"]);
    assert!(!first.contains("resuming"), "{first}");
    let stored = json_of(&["status", path, "--json"]);
    let n = stored["jobs"].as_u64().unwrap();
    assert!(n >= 4, "{stored}");
    assert_eq!(job_lines(&first).len() as u64, n, "{first}");

    // The same finished study again: one summary line, no job replayed as new.
    let again = stdout_of(&["run", path, "--plain"]);
    let expected = format!(
        "resuming: {n} jobs stored ({} finished, {} failed), budget {} spent",
        stored["finished"],
        stored["failed"],
        stored["budget_spent"].as_f64().unwrap()
    );
    assert!(again.contains(&expected), "{again}\nexpected: {expected}");
    assert!(job_lines(&again).is_empty(), "{again}");

    // A larger limit: the summary, then exactly this run's jobs, numbered after the stored.
    write_study(
        dir.path(),
        "scheduler = \"hyperband\"",
        "max_trials = 8",
        ECHO_X,
    );
    let more = stdout_of(&["run", path, "--plain"]);
    assert!(
        more.contains(&format!("resuming: {n} jobs stored")),
        "{more}"
    );
    let total = json_of(&["status", path, "--json"])["jobs"]
        .as_u64()
        .unwrap();
    let lines = job_lines(&more);
    assert_eq!(lines.len() as u64, total - n, "{more}");
    for line in lines {
        let id: u64 = line
            .split("] job ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(id >= n, "job {id} was stored before this run: {more}");
    }
}

/// `run`'s summary, `run --json`, `status` and `status --json` on a study ended by each
/// stop criterion.
fn assert_ended_by(algorithm: &str, run: &str, command: &str, key: &str, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path(), algorithm, run, command);
    let path = study.to_str().unwrap();
    let out = stdout_of(&["run", path, "--plain"]);
    let summary = out.lines().find(|l| l.starts_with("study `s`")).unwrap();
    assert!(
        summary.contains(&format!("(ended: {text}")),
        "{key}: {summary}"
    );
    let status = json_of(&["status", path, "--json"]);
    assert_eq!(status["ended_by"], key, "{status}");
    let shown = stdout_of(&["status", path]);
    assert!(
        shown.contains(&format!("ended      {text}")),
        "{key}: {shown}"
    );
    // Run again: the stored study is still ended, by the same limit.
    let again = json_of(&["run", path, "--json"]);
    assert_eq!(again["ended_by"], key, "{again}");
}

#[test]
fn run_and_status_say_which_limit_ended_the_study() {
    assert_ended_by(
        "scheduler = \"hyperband\"",
        "max_trials = 4",
        ECHO_X,
        "max_trials",
        "max_trials = 4 reached",
    );
    assert_ended_by(
        "scheduler = \"hyperband\"",
        "max_total_budget = 20",
        ECHO_X,
        "max_total_budget",
        "max_total_budget = 20 reached",
    );
    assert_ended_by(
        "scheduler = \"sha\"\nn_configs = 3",
        "",
        ECHO_X,
        "plan",
        "the plan is complete",
    );
    // The plan ends first even though a trial limit is set.
    assert_ended_by(
        "scheduler = \"hyperband\"\nmax_brackets = 1",
        "max_trials = 100",
        ECHO_X,
        "plan",
        "the plan is complete",
    );
    assert_ended_by(
        "scheduler = \"hyperband\"",
        "max_time = \"1s\"",
        r#"["sh", "-c", "sleep 0.2; echo {x}"]"#,
        "max_time",
        "max_time reached",
    );
}

/// The store's data: the database and its write-ahead log (SQLite may leave an empty one
/// behind a reader, which holds nothing).
fn store_bytes(dir: &Path) -> Vec<Vec<u8>> {
    ["studies.db", "studies.db-wal"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap_or_default())
        .collect()
}

/// The data the report of the study file `path` embeds (written to `dir/report.html`).
fn report_data(path: &str, dir: &Path) -> Value {
    let page = dir.join("report.html");
    run_ok(&["report", path, "-o", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    let marker = r#"<script type="application/json" id="data">"#;
    let data = &html[html.find(marker).unwrap() + marker.len()..];
    serde_json::from_str(&data[..data.find("</script>").unwrap()]).unwrap()
}

#[test]
fn status_shows_a_killed_runners_job_as_stale_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(
        dir.path(),
        "scheduler = \"hyperband\"",
        "max_trials = 2",
        r#"["sh", "-c", "sleep 3; echo {x}"]"#,
    );
    let path = study.to_str().unwrap();
    let mut runner = hyperband()
        .args(["run", path, "--plain"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        Duration::from_secs(30),
        "the runner never took a job",
        || json_or_null(&["status", path, "--json"])["running"] == 1,
    );
    runner.kill().unwrap(); // SIGKILL
    runner.wait().unwrap();

    // The lease is still good (30 s): running, not stale, and the study can go on.
    let status = json_of(&["status", path, "--json"]);
    assert_eq!(
        (status["running"].as_u64(), status["stale"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(status["ended_by"], Value::Null, "{status}");

    // Its worker renews it no more: let it expire, as 30 s without the worker would.
    let db = rusqlite::Connection::open(dir.path().join("studies.db")).unwrap();
    assert_eq!(
        db.execute("UPDATE leases SET expires_at = 1", []).unwrap(),
        1
    );
    drop(db);
    let before = store_bytes(dir.path());

    let status = json_of(&["status", path, "--json"]);
    assert_eq!(
        (status["running"].as_u64(), status["stale"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(status["ended_by"], Value::Null, "{status}");
    let text = stdout_of(&["status", path]);
    let stale = text
        .lines()
        .find(|l| l.starts_with("stale"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(stale.contains("1 of the running jobs (job 0)"), "{stale}");
    let rows = json_of(&["export", path, "--format", "json"]);
    let flags: Vec<(&str, bool)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["state"].as_str().unwrap(),
                r["lease_expired"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(flags, [("running", true)], "{rows}");
    assert_eq!(
        store_bytes(dir.path()),
        before,
        "a read command wrote to the store"
    );

    // The next run declares it lost and runs it again; the report names both.
    run_ok(&["run", path, "--plain"]);
    let data = report_data(path, dir.path());
    let lost = data["lost"].as_array().unwrap();
    assert_eq!(lost.len(), 1, "{}", data["lost"]);
    assert_eq!(lost[0]["job"], 0, "{}", data["lost"]);
    let rerun = lost[0]["rerun_as"].as_u64().expect("run again");
    let rows = json_of(&["export", path, "--format", "json"]);
    let again = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["job"] == rerun)
        .unwrap();
    assert_eq!(again["state"], "finished", "{again}");
    assert_eq!(again["trial"], lost[0]["trial"], "{again}");
}

#[test]
fn the_reports_best_so_far_lines_end_where_the_study_did() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(
        dir.path(),
        "scheduler = \"hyperband\"\nmax_brackets = 3",
        "",
        ECHO_X,
    );
    let path = study.to_str().unwrap();
    run_ok(&["run", path, "--plain"]);
    let data = report_data(path, dir.path());
    let curve = &data["best_curve"];
    let spent = json_of(&["status", path, "--json"])["budget_spent"]
        .as_f64()
        .unwrap();
    let last = |key: &str| {
        curve[key]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_f64()
            .unwrap()
    };
    let end = &curve["end"];
    assert_eq!(end["budget"].as_f64(), Some(spent), "{curve}");
    assert!(end["budget"].as_f64().unwrap() >= last("budget"), "{curve}");
    assert!(end["time"].as_f64().unwrap() >= last("time"), "{curve}");
}
