//! `[[enqueue]]` end to end: the configurations a user already knows are the study's first
//! trials, and running the file again does not evaluate them twice.

mod common;

use common::{json_of, output_of, run_ok};
use serde_json::Value;
use std::path::Path;

fn write(dir: &Path, max_trials: u64) -> std::path::PathBuf {
    std::fs::write(
        dir.join("f.py"),
        "import sys\nprint((float(sys.argv[1]) - 0.3) ** 2 + len(sys.argv[2]))\n",
    )
    .unwrap();
    let path = dir.join("study.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "known"
[objective]
command = ["python3", "f.py", "{{x}}", "{{opt}}"]
[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}
opt = {{ type = "categorical", choices = ["sgd", "adam"] }}
[algorithm]
scheduler = "full-budget"
sampler = "tpe"
max_budget = 1
[run]
max_trials = {max_trials}

[[enqueue]]
x = 0.3
opt = "sgd"

[[enqueue]]
x = 1
opt = "adam"
"#
        ),
    )
    .unwrap();
    path
}

fn trials(study: &Path) -> Vec<Value> {
    let rows = json_of(&["export", study.to_str().unwrap(), "--format", "json"]);
    rows.as_array().unwrap().clone()
}

#[test]
fn enqueued_configurations_run_first_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let study = write(dir.path(), 4);
    run_ok(&["run", study.to_str().unwrap(), "--plain"]);
    let rows = trials(&study);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["config"]["x"], 0.3);
    assert_eq!(rows[0]["config"]["opt"], "sgd");
    assert_eq!(rows[0]["loss"], 3.0);
    // An integer where the space has a float is that float.
    assert_eq!(rows[1]["config"]["x"], 1.0);
    assert_eq!(rows[1]["config"]["opt"], "adam");
    // Run again with room for more trials: the known ones are not enqueued again.
    let study = write(dir.path(), 6);
    run_ok(&["run", study.to_str().unwrap(), "--plain"]);
    let rows = trials(&study);
    assert_eq!(rows.len(), 6);
    let known = rows
        .iter()
        .filter(|r| r["config"]["x"] == 0.3 && r["config"]["opt"] == "sgd")
        .count();
    assert_eq!(known, 1, "{rows:#?}");
}

#[test]
fn a_configuration_outside_the_space_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let study = write(dir.path(), 4);
    let text = std::fs::read_to_string(&study)
        .unwrap()
        .replace("opt = \"adam\"", "opt = \"rmsprop\"");
    std::fs::write(&study, text).unwrap();
    let out = output_of(&["run", study.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[enqueue] #2:"), "{stderr}");
    assert!(stderr.contains("rmsprop"), "{stderr}");
    assert!(
        !dir.path().join("hyperband.db").exists(),
        "nothing was stored"
    );
}
