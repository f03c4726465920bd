//! `hyperband init` through the binary: the file it writes runs as it is, and an existing
//! file is kept unless `--force`.

use serde_json::Value;
use std::process::{Command, Output};

fn hyperband() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hyperband"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A training script that knows nothing of us: flags in, a loss on its last line out.
/// Its braces must reach python3 intact, through the template's `{{` escaping.
const SCRIPT: &str = "import sys; a = sys.argv; lr = float(a[a.index('--lr') + 1]); \
                      e = float(a[a.index('--epochs') + 1]); d = {'x': 1}; \
                      print('epoch', e); print((lr - 0.02) ** 2 + d['x'] / e)";

fn init(dir: &std::path::Path, extra: &[&str]) -> Output {
    hyperband()
        .current_dir(dir)
        .args(["init", "--out", "study.toml"])
        .args(extra)
        .args([
            "--", "python3", "-c", SCRIPT, "--lr", "0.01", "--epochs", "3",
        ])
        .output()
        .unwrap()
}

#[test]
fn init_writes_a_study_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = init(dir.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("wrote study.toml"), "{stdout}");
    assert!(stdout.contains("hyperband run study.toml"), "{stdout}");
    let study = std::fs::read_to_string(dir.path().join("study.toml")).unwrap();
    assert!(study.contains("\"--lr\", \"{lr}\""), "{study}");
    assert!(study.contains("\"--epochs\", \"{budget}\""), "{study}");
    assert!(study.contains("{{'x': 1}}"), "{study}");

    let out = hyperband()
        .current_dir(dir.path())
        .args(["run", "study.toml", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "no warnings about the drafted file");
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    // min 1, max 3, eta 3: one iteration is (3 at 1, 1 at 3) + (2 at 3).
    assert_eq!(status["finished"], 6, "{status}");
    assert_eq!(status["failed"], 0, "{status}");
    assert_eq!(status["stopped"], "done", "{status}");
    let best: Value = serde_json::from_slice(
        &hyperband()
            .current_dir(dir.path())
            .args(["best", "study.toml", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let lr = best["config"]["lr"].as_f64().unwrap();
    assert!((0.001..=0.1).contains(&lr), "{best}");
    let expected = (lr - 0.02).powi(2) + 1.0 / 3.0;
    assert!(
        (best["loss"].as_f64().unwrap() - expected).abs() < 1e-9,
        "{best}"
    );
}

#[test]
fn init_keeps_an_existing_file_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.toml");
    std::fs::write(&path, "# mine\n").unwrap();
    let out = init(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");

    let out = init(dir.path(), &["--force", "--name", "forced"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let study = std::fs::read_to_string(&path).unwrap();
    assert!(study.contains("name = \"forced\""), "{study}");
}

#[test]
fn init_refuses_a_command_with_nothing_to_tune() {
    let dir = tempfile::tempdir().unwrap();
    let out = hyperband()
        .current_dir(dir.path())
        .args(["init", "--", "python3", "train.py", "--epochs", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no `--flag VALUE` to tune"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("study.toml").exists());
}
