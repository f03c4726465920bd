//! The multi-fidelity GP sampler end to end (issue 14): a study file naming
//! `sampler = "mf-gp"` runs a command through `hyperband run`, finds a bowl's minimum far
//! closer than random search does with the same schedule and seed, and a second run of the
//! same file in another folder makes the same decisions.

mod common;

use common::stdout_in;
use serde_json::Value;

const STUDY: &str = r#"name = "bowl"
seed = 5

[objective]
command = ["python3", "-c", "import sys; x, y, b = map(float, sys.argv[1:]); print((x - 0.3) ** 2 + (y - 0.6) ** 2 + 1 / b)", "{x}", "{y}", "{budget}"]

[space]
x = { type = "float", low = 0.0, high = 1.0 }
y = { type = "float", low = 0.0, high = 1.0 }

[algorithm]
scheduler = "hyperband"
sampler = "SAMPLER"
min_budget = 1
max_budget = 9
eta = 3

[run]
workers = 1
max_trials = 45
"#;

/// Runs the study with `sampler` in a fresh folder; returns `best --json`.
fn best(sampler: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("study.toml"),
        STUDY.replace("SAMPLER", sampler),
    )
    .unwrap();
    stdout_in(&["run", "study.toml", "--plain"], dir.path());
    let status: Value =
        serde_json::from_str(&stdout_in(&["status", "study.toml", "--json"], dir.path())).unwrap();
    assert_eq!(status["sampler"], sampler, "{status}");
    serde_json::from_str(&stdout_in(&["best", "study.toml", "--json"], dir.path())).unwrap()
}

#[test]
fn mf_gp_runs_from_a_study_file_beats_random_search_and_reproduces() {
    let regret = |b: &Value| b["loss"].as_f64().unwrap() - 1.0 / 9.0;
    let (gp, again, random) = (best("mf-gp"), best("mf-gp"), best("random"));
    assert_eq!(gp["budget"], 9.0, "{gp}");
    assert!(
        regret(&gp) < regret(&random) / 10.0,
        "mf-gp regret {} against random search's {}",
        regret(&gp),
        regret(&random)
    );
    assert_eq!(gp, again, "the same file and seed must give the same study");
}
