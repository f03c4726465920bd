//! Worker processes on one PostgreSQL study, killed with SIGKILL at random moments and
//! replaced: the study completes with nothing lost and nothing done twice.
//!
//! Needs the PostgreSQL server CI starts on 127.0.0.1:5432 (override the URL with
//! `HYPERBAND_TEST_POSTGRES`); without it this test fails.

use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn url() -> String {
    let base = std::env::var("HYPERBAND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}schema=hbcli")
}

fn hyperband() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hyperband"))
}

fn spawn(args: &[&str]) -> Child {
    hyperband()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn killed_worker_processes_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("objective.py"),
        "import sys, time\ntime.sleep(0.05)\nx, y, b = map(float, sys.argv[1:4])\nprint((x - 0.3) ** 2 + (y - 0.7) ** 2 + 1 / b)\n",
    )
    .unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("killed-workers-{}-{nanos}", std::process::id());
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
        workers.push(spawn(&["worker", s, "--plain"]));
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
        workers[i] = spawn(&["worker", s, "--plain"]);
    }
    for mut w in workers {
        w.wait().unwrap();
    }
    assert!(
        kills >= 3,
        "only {kills} workers were still running to be killed"
    );
    // Whatever the last kills left running is declared lost and re-run here.
    let out = hyperband().args(["run", s, "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Four brackets of R = 27, eta = 3: 40 + 17 + 8 + 4 jobs.
    assert_eq!(status["finished"], 69, "{status}");
    assert_eq!(status["running"], 0);
    let out = hyperband()
        .args(["export", s, "--format", "json"])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut done = HashSet::new();
    for r in rows.as_array().unwrap() {
        match r["state"].as_str().unwrap() {
            "finished" => assert!(
                done.insert((r["trial"].as_u64(), r["rung"].as_u64())),
                "finished twice: {r}"
            ),
            "lost" => {}
            other => panic!("job left {other}: {r}"),
        }
    }
}

/// Workers given only the URL and the study's name work within the limits `run` stored
/// (issue 15: they used none): three of them finish a trial-limited study at exactly its
/// limit.
#[test]
fn workers_without_the_study_file_honour_the_stored_limits() {
    let dir = tempfile::tempdir().unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("stored-limits-{}-{nanos}", std::process::id());
    let study = dir.path().join("study.toml");
    std::fs::write(
        &study,
        format!(
            r#"name = "{name}"
seed = 4
storage = "{}"

[objective]
command = ["sh", "-c", 'sleep 0.05; echo "$1"', "sh", "{{x}}"]

[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}

[algorithm]
scheduler = "hyperband"
min_budget = 1
max_budget = 9
eta = 3

[run]
max_trials = 14
"#,
            url()
        ),
    )
    .unwrap();
    let s = study.to_str().unwrap();
    let status = || -> Value {
        let out = hyperband().args(["status", s, "--json"]).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    let mut first = spawn(&["run", s, "--json"]);
    let start = std::time::Instant::now();
    while status()["finished"].as_u64().unwrap_or(0) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let url = url();
    let workers: Vec<Child> = (0..3)
        .map(|_| spawn(&["worker", "--storage", &url, "--study", &name]))
        .collect();
    for mut w in workers {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while w.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                w.kill().ok();
                panic!(
                    "a worker without the study file never stopped: {}",
                    status()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let status = status();
    assert_eq!(status["trials"], 14, "{status}");
    assert_eq!(status["running"], 0, "{status}");
    assert_eq!(status["limits"]["max_trials"], 14, "{status}");
}
