//! `hyperband init` through the binary: the file it writes runs as it is, and an existing
//! file is kept unless `--force`.

mod common;

use common::hyperband;
use serde_json::Value;
use std::process::Output;

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

/// Prints like pytorch/examples `mnist/main.py`: `Train Epoch: N [...]` progress lines,
/// then a blank line and `Test set: Average loss: X, Accuracy: ...` after each epoch.
const PYTORCH_LIKE: &str = r#"import sys
a = sys.argv
lr = float(a[a.index('--lr') + 1])
n = int(a[a.index('--epochs') + 1])
for e in range(1, n + 1):
    for b in range(4):
        print('Train Epoch: {} [{}/1280 ({:.0f}%)]\tLoss: {:.6f}'.format(e, b * 320, b * 25.0, 2.3 / e))
    loss = (lr - 0.02) ** 2 + 1.0 / e
    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/500 ({:.0f}%)\n'.format(loss, 100 * e, 20.0 * e))
"#;

/// Prints like Keras `fit(verbose=2)`: `Epoch N/M` on its own line, then the epoch's line.
const KERAS_LIKE: &str = r#"import sys
a = sys.argv
lr = float(a[a.index('--lr') + 1])
n = int(a[a.index('--epochs') + 1])
for e in range(1, n + 1):
    v = (lr - 0.02) ** 2 + 1.0 / e
    print('Epoch {}/{}'.format(e, n))
    print('20/20 - 1s - 50ms/step - accuracy: 0.9 - loss: {:.4f} - val_accuracy: 0.9 - val_loss: {:.4f}'.format(v + 0.1, v))
"#;

fn init_script(dir: &std::path::Path, script: &str) -> (Output, String) {
    std::fs::write(dir.join("train.py"), script).unwrap();
    let out = hyperband()
        .current_dir(dir)
        .args(["init", "--out", "study.toml", "--"])
        .args(["python3", "train.py", "--lr", "0.01", "--epochs", "3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let study = std::fs::read_to_string(dir.join("study.toml")).unwrap();
    (out, study)
}

#[test]
fn init_proposes_the_pytorch_examples_format_and_the_study_runs_in_stop_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (out, study) = init_script(dir.path(), PYTORCH_LIKE);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("python3 train.py --lr 0.01 --epochs 1"),
        "it runs the command once at the smallest budget:\n{stdout}"
    );
    assert!(stdout.contains("not a number"), "says why:\n{stdout}");
    assert!(
        stdout.contains("format = \"pytorch-examples\""),
        "says what it chose:\n{stdout}"
    );
    assert!(
        study.contains("\nmetric = { format = \"pytorch-examples\", name = \"loss\" }\n"),
        "{study}"
    );
    assert!(study.contains("\nmode = \"stop\""), "{study}");

    // The file runs as written: every job finished, each value the one printed.
    let study = study.replace("# max_trials = 100", "max_trials = 3");
    std::fs::write(dir.path().join("study.toml"), &study).unwrap();
    let out = hyperband()
        .current_dir(dir.path())
        .args(["run", "study.toml", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["failed"], 0, "{status}");
    assert!(status["finished"].as_u64().unwrap() >= 3, "{status}");
    let rows: Value = serde_json::from_slice(
        &hyperband()
            .current_dir(dir.path())
            .args(["export", "study.toml", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row["state"], "finished", "{row}");
        let lr = row["config"]["lr"].as_f64().unwrap();
        let want = (lr - 0.02).powi(2) + 1.0 / row["budget"].as_f64().unwrap();
        let loss = row["loss"].as_f64().unwrap();
        assert!((loss - want).abs() < 1e-4, "{row}: printed {want:.4}");
    }
}

#[test]
fn init_proposes_the_keras_format_for_verbose_2_output() {
    let dir = tempfile::tempdir().unwrap();
    let (out, study) = init_script(dir.path(), KERAS_LIKE);
    assert!(
        study.contains("\nmetric = { format = \"keras\", name = \"val_loss\" }\n"),
        "{}\n{study}",
        text(&out.stdout)
    );
    assert!(study.contains("\nmode = \"stop\""), "{study}");
}

#[test]
fn init_writes_no_metric_rule_when_the_last_line_is_the_loss() {
    let dir = tempfile::tempdir().unwrap();
    let out = init(dir.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("the last line of its stdout is the loss"),
        "{stdout}"
    );
    let study = std::fs::read_to_string(dir.path().join("study.toml")).unwrap();
    assert!(!study.contains("\nmetric ="), "{study}");
    assert!(!study.contains("\nmode = "), "{study}");
}

#[test]
fn init_leaves_a_regex_template_when_no_format_matches() {
    let dir = tempfile::tempdir().unwrap();
    let (out, study) = init_script(
        dir.path(),
        "import sys\nfor e in range(3):\n    print('round', e, 'score is good')\n",
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("no known format matches"), "{stdout}");
    assert!(study.contains("\n# metric = { regex = "), "{study}");
    assert!(!study.contains("\nmetric ="), "{study}");
}
