//! `hyperband check`: one run of the study's command at the smallest budget, and what the
//! study reads from it.

mod common;

use common::{output_of, study_toml};
use std::path::Path;

/// A script with the output of pytorch/examples `mnist/main.py`.
const SCRIPT: &str = r#"
import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--epochs", type=int, required=True)
a = p.parse_args()
for epoch in range(1, a.epochs + 1):
    for batch in range(2):
        print(f"Train Epoch: {epoch} [{batch * 64}/128 ({batch * 50:.0f}%)]\tLoss: {2.0 / (batch + 1):.6f}")
    print(f"\nTest set: Average loss: {0.5 / epoch + a.lr:.4f}, Accuracy: 90/100 (90%)\n")
"#;

fn study(dir: &Path, metric: &str) -> String {
    std::fs::write(dir.join("main.py"), SCRIPT).unwrap();
    let text = format!(
        r#"name = "check"
storage = "sqlite:studies.db"

[objective]
command = ["python3", "main.py", "--lr", "{{lr}}", "--epochs", "{{budget}}"]
{metric}

[space]
lr = {{ type = "float", low = 0.01, high = 0.1 }}

[algorithm]
scheduler = "asha"
min_budget = 1
max_budget = 9
mode = "{mode}"
"#,
        mode = if metric.is_empty() { "promote" } else { "stop" }
    );
    study_toml(dir, &text)
}

#[test]
fn without_a_rule_it_says_why_the_job_fails_and_proposes_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = study(dir.path(), "");
    let out = output_of(&["check", &file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("the job fails: last line of stdout is not a number"),
        "{stdout}"
    );
    assert!(
        stdout.contains("metric = { format = \"pytorch-examples\", name = \"loss\" }"),
        "{stdout}"
    );
    // It created no store and left no run folder.
    assert!(!dir.path().join("studies.db").exists());
    assert!(!dir.path().join("studies-runs").exists());
}

#[test]
fn with_a_format_it_shows_each_value_and_budget_and_the_stop_mode_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let file = study(dir.path(), "metric = { format = \"pytorch-examples\" }");
    let out = output_of(&["check", &file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("running once, at budget 1"), "{stdout}");
    assert!(stdout.contains("budget 1 announced"), "{stdout}");
    assert!(stdout.contains("-> value 0."), "{stdout}");
    assert!(
        stdout.contains("stop mode can follow it: 1 values, each with its budget"),
        "{stdout}"
    );

    // A rule that reads nothing says so.
    let file = study(dir.path(), "metric = { format = \"keras\" }");
    let out = output_of(&["check", &file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("stop mode cannot follow it: no line gave a value"),
        "{stdout}"
    );
}
