//! Worker processes on one PostgreSQL study, killed with SIGKILL at random moments and
//! replaced: the study completes with nothing lost and nothing done twice.
//!
//! Needs the PostgreSQL server CI starts on 127.0.0.1:5432 (override the URL with
//! `HYPERBAND_TEST_POSTGRES`); without it this test fails.

mod common;

use common::{
    assert_finished_once_or_lost, hyperband, json_of, json_or_null, output_of, pg_url, slow_study,
    spawn_quiet, unique, wait_at_most, wait_until,
};
use rand::{Rng, SeedableRng};
use std::process::{Child, Stdio};
use std::time::Duration;

/// The test server, schema `hbcli`.
fn url() -> String {
    pg_url("hbcli")
}

#[test]
fn killed_worker_processes_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("objective.py"),
        "import sys, time\ntime.sleep(0.05)\nx, y, b = map(float, sys.argv[1:4])\nprint((x - 0.3) ** 2 + (y - 0.7) ** 2 + 1 / b)\n",
    )
    .unwrap();
    let name = unique("killed-workers");
    let study = dir.path().join("study.toml");
    std::fs::write(
        &study,
        format!(
            r#"name = "{name}"
seed = 3
storage = "{}"

[objective]
command = ["python3", "objective.py", "{{x}}", "{{y}}", "{{budget}}"]

[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}
y = {{ type = "float", low = 0.0, high = 1.0 }}

[algorithm]
scheduler = "hyperband"
min_budget = 1
max_budget = 27
eta = 3
max_brackets = 4
"#,
            url()
        ),
    )
    .unwrap();
    let s = study.to_str().unwrap();
    // The first run creates the study; then worker processes join it.
    let mut first = hyperband()
        .args(["run", s, "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    if let Some(status) = first.try_wait().unwrap() {
        let mut err = String::new();
        use std::io::Read;
        first
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        panic!("the first run ended early ({status}): {err}");
    }
    let mut workers: Vec<Child> = vec![first];
    for _ in 0..3 {
        workers.push(spawn_quiet(&["worker", s, "--plain"]));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut kills = 0;
    for _ in 0..12 {
        std::thread::sleep(Duration::from_millis(rng.random_range(100..400)));
        let i = rng.random_range(0..workers.len());
        if workers[i].try_wait().unwrap().is_none() {
            workers[i].kill().unwrap();
            workers[i].wait().unwrap();
            kills += 1;
        }
        workers[i] = spawn_quiet(&["worker", s, "--plain"]);
    }
    for mut w in workers {
        w.wait().unwrap();
    }
    assert!(
        kills >= 3,
        "only {kills} workers were still running to be killed"
    );
    // Whatever the last kills left running is declared lost and re-run here.
    let status = json_of(&["run", s, "--json"]);
    // Four brackets of R = 27, eta = 3: 40 + 17 + 8 + 4 jobs.
    assert_eq!(status["finished"], 69, "{status}");
    assert_eq!(status["running"], 0);
    let out = output_of(&["export", s, "--format", "json"]);
    assert_finished_once_or_lost(&serde_json::from_slice(&out.stdout).unwrap());
}

/// Workers given only the URL and the study's name work within the limits `run` stored
/// (issue 15: they used none): three of them finish a trial-limited study at exactly its
/// limit.
#[test]
fn workers_without_the_study_file_honour_the_stored_limits() {
    let dir = tempfile::tempdir().unwrap();
    let name = unique("stored-limits");
    let url = url();
    let study = slow_study(dir.path(), &name, &url, "max_trials = 14");
    let s = study.to_str().unwrap();
    let status = || json_or_null(&["status", s, "--json"]);
    let mut first = spawn_quiet(&["run", s, "--json"]);
    wait_until(Duration::from_secs(30), "the run never started", || {
        status()["finished"].as_u64().unwrap_or(0) >= 2
    });
    first.kill().unwrap();
    first.wait().unwrap();
    let workers: Vec<Child> = (0..3)
        .map(|_| spawn_quiet(&["worker", "--storage", &url, "--study", &name]))
        .collect();
    for w in workers {
        if wait_at_most(w, Duration::from_secs(60)).is_err() {
            panic!(
                "a worker without the study file never stopped: {}",
                status()
            );
        }
    }
    let status = status();
    assert_eq!(status["trials"], 14, "{status}");
    assert_eq!(status["running"], 0, "{status}");
    assert_eq!(status["limits"]["max_trials"], 14, "{status}");
}
