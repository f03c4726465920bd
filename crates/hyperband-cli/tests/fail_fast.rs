//! A study that cannot work stops early and says why: its first jobs all fail the same way.

mod common;

use common::{output_of, study_toml};
use serde_json::Value;

fn study(dir: &std::path::Path, script: &str) -> String {
    std::fs::write(dir.join("train.py"), script).unwrap();
    let text = r#"name = "ff"
seed = 1
storage = "sqlite:studies.db"

[objective]
command = ["python3", "train.py", "--lr", "{lr}", "--epochs", "{budget}"]

[space]
lr = { type = "float", low = 0.01, high = 1.0, log = true }

[algorithm]
scheduler = "hyperband"
min_budget = 1
max_budget = 9
eta = 3

[run]
workers = 1
max_trials = 20
"#;
    study_toml(dir, text)
}

/// A script in the pytorch/examples style, whose last line is no number.
const NO_NUMBER: &str = r#"
import sys
print("Train Epoch: 1 [0/60000 (0%)]\tLoss: 2.3")
print("Test set: Average loss: 0.5, Accuracy: 9000/10000 (90%)")
print("done")
"#;

#[test]
fn a_script_that_prints_no_loss_stops_the_study_after_five_trials_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let file = study(dir.path(), NO_NUMBER);
    let out = output_of(&["run", &file, "--plain"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stopped early: the first 5 trials of this run all failed the same way"),
        "{stderr}"
    );
    assert!(
        stderr.contains("last line of stdout is not a number"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fix: ") && stderr.contains("metric = { format"),
        "{stderr}"
    );
    let status: Value =
        serde_json::from_slice(&output_of(&["status", &file, "--json"]).stdout).unwrap();
    // One worker: five jobs ran, not the 20 trials' dozens.
    assert_eq!(status["failed"], 5, "{status:#}");
    assert_eq!(status["jobs"], 5, "{status:#}");
}

#[test]
fn failures_that_depend_on_the_configuration_do_not_stop_it() {
    let dir = tempfile::tempdir().unwrap();
    // Diverges (NaN) for large learning rates only; always NaN would still not stop it.
    let file = study(
        dir.path(),
        "import sys\nlr = float(sys.argv[2])\nprint('nan' if lr > 0.05 else 0.5)\n",
    );
    let out = output_of(&["run", &file, "--plain"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("stopped early"), "{stderr}");
    let status: Value =
        serde_json::from_slice(&output_of(&["status", &file, "--json"]).stdout).unwrap();
    assert!(status["jobs"].as_u64().unwrap() > 3, "{status:#}");
}
