//! Programs that count whole epochs: with min 1, max 14, eta 3 the first rung is 1.5556,
//! and a script whose `--epochs` is an argparse `type=int` fails on every job. The study
//! file warns of it, and `integer_budgets = true` rounds every rung.

mod common;

use common::{output_of, study_toml};
use serde_json::Value;
use std::path::Path;

const SCRIPT: &str = r#"
import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--epochs", type=int, required=True)
a = p.parse_args()
for epoch in range(1, a.epochs + 1):
    print(f"Epoch {epoch}/{a.epochs} - val_loss: {abs(a.lr - 0.1) + 1.0 / epoch:.6f}")
"#;

fn study(dir: &Path, integer: bool) -> String {
    std::fs::write(dir.join("train.py"), SCRIPT).unwrap();
    let integer = if integer {
        "integer_budgets = true\n"
    } else {
        ""
    };
    let text = format!(
        r#"name = "epochs"
seed = 1
storage = "sqlite:studies.db"

[objective]
command = ["python3", "train.py", "--lr", "{{lr}}", "--epochs", "{{budget}}"]
metric = {{ format = "keras" }}

[space]
lr = {{ type = "float", low = 0.01, high = 1.0, log = true }}

[algorithm]
scheduler = "hyperband"
min_budget = 1
max_budget = 14
eta = 3
{integer}
[run]
max_trials = 17
"#
    );
    study_toml(dir, &text)
}

#[test]
fn fractional_rungs_for_an_epochs_flag_are_warned_of_and_integer_budgets_fixes_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = study(dir.path(), false);
    let out = output_of(&["run", &file, "--plain"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`--epochs` gets the budget, and rungs 1.5556, 4.6667 are not whole")
            && stderr.contains("integer_budgets = true"),
        "{stderr}"
    );
    // Argparse refuses `--epochs 1.5555555555555556`: every job fails (as users met it).
    let status: Value =
        serde_json::from_slice(&output_of(&["status", &file, "--json"]).stdout).unwrap();
    assert!(status["failed"].as_u64().unwrap() > 0, "{status:#}");

    let dir = tempfile::tempdir().unwrap();
    let file = study(dir.path(), true);
    let out = output_of(&["run", &file, "--plain"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("not whole"), "{stderr}");
    let rows: Value =
        serde_json::from_slice(&output_of(&["export", &file, "--format", "json"]).stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row["state"], "finished", "{row}");
        let budget = row["budget"].as_f64().unwrap();
        assert!([2.0, 5.0, 14.0].contains(&budget), "{row}");
    }
    let plan: Value =
        serde_json::from_slice(&output_of(&["schedule", &file, "--json"]).stdout).unwrap();
    assert_eq!(plan["brackets"][0]["rungs"][0]["budget"], 2.0, "{plan:#}");
}

#[test]
fn integer_budgets_need_whole_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let file = study(dir.path(), true);
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("max_budget = 14", "max_budget = 14.5");
    std::fs::write(&file, text).unwrap();
    let out = output_of(&["run", &file]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[algorithm] integer_budgets: whole budgets need a whole min_budget"),
        "{stderr}"
    );
}
