//! Metric rules on what real frameworks print: each fixture in `tests/fixtures/output/` is
//! the captured output of a real run (`benches/framework-output/capture.sh`), byte for
//! byte, with `\r` redraws and colours, beside the values the framework itself recorded
//! (Keras's `History`, the Trainer's `log_history`, `evals_result()`...). Every value and
//! budget the rule reads is checked against those records, to the precision printed.

use hyperband::objective::command::{CurvePoint, MetricSpec};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/output")
}

/// The framework's own record: `[budget as the framework numbers it, value]`.
fn expected(name: &str) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    record["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect()
}

/// The curve `spec` reads from fixture `file`.
fn read(file: &str, spec: Value) -> Vec<CurvePoint> {
    let spec: MetricSpec = serde_json::from_value(spec).unwrap();
    let rule = spec.rule().unwrap();
    let bytes = std::fs::File::open(fixtures().join(file)).unwrap();
    rule.curve(bytes).unwrap().unwrap()
}

/// One fixture read with one rule.
struct Case {
    file: &'static str,
    expected: &'static str,
    spec: Value,
    /// Our budget minus the framework's number (1 where it counts from 0).
    shift: f64,
    /// How far a printed value may be from the recorded one: absolute, relative.
    tolerance: (f64, f64),
}

fn check(case: &Case) {
    let points = read(case.file, case.spec.clone());
    let want = expected(case.expected);
    let read: Vec<(Option<f64>, f64)> = points.iter().map(|p| (p.budget, p.value)).collect();
    assert_eq!(
        points.len(),
        want.len(),
        "{}: read {read:?}, the framework recorded {want:?}",
        case.file
    );
    for (p, (budget, value)) in points.iter().zip(&want) {
        assert_eq!(
            p.budget,
            Some(budget + case.shift),
            "{}: read {read:?}, recorded {want:?}",
            case.file
        );
        let (abs, rel) = case.tolerance;
        assert!(
            (p.value - value).abs() <= abs.max(rel * value.abs()),
            "{}: value {} at budget {budget}, recorded {value}",
            case.file,
            p.value
        );
    }
}

/// Keras prints 4 decimals.
const KERAS: (f64, f64) = (5.1e-5, 0.0);

#[test]
fn keras_fit_verbose_1_and_2_in_a_file_and_under_a_terminal() {
    for run in ["verbose1-file", "verbose2-file"] {
        for (name, record) in [("val_loss", ""), ("val_accuracy", ".val_accuracy")] {
            check(&Case {
                file: leak(format!("keras-{run}.stdout")),
                expected: leak(format!("keras-{run}{record}.expected.json")),
                spec: json!({"format": "keras", "name": name}),
                shift: 0.0,
                tolerance: KERAS,
            });
        }
    }
    for run in ["verbose1-pty", "verbose2-pty"] {
        for (name, record) in [("val_loss", ""), ("val_accuracy", ".val_accuracy")] {
            check(&Case {
                file: leak(format!("keras-{run}.pty")),
                expected: leak(format!("keras-{run}{record}.expected.json")),
                spec: json!({"format": "keras", "name": name}),
                shift: 0.0,
                tolerance: KERAS,
            });
        }
    }
}

#[test]
fn keras_accuracy_is_maximized_by_its_name_unless_told() {
    let spec: MetricSpec =
        serde_json::from_value(json!({"format": "keras", "name": "val_accuracy"})).unwrap();
    assert!(spec.rule().unwrap().maximizes());
    let spec: MetricSpec = serde_json::from_value(
        json!({"format": "keras", "name": "val_accuracy", "maximize": false}),
    )
    .unwrap();
    assert!(!spec.rule().unwrap().maximizes());
}

#[test]
fn the_pytorch_examples_structure_test_loss_and_accuracy() {
    check(&Case {
        file: "pytorch-examples.stdout",
        expected: "pytorch-examples.expected.json",
        spec: json!({"format": "pytorch-examples"}),
        shift: 0.0,
        tolerance: (5.1e-5, 0.0),
    });
    check(&Case {
        file: "pytorch-examples.stdout",
        expected: "pytorch-examples.test_accuracy.expected.json",
        spec: json!({"format": "pytorch-examples", "name": "accuracy"}),
        shift: 0.0,
        tolerance: (0.51, 0.0),
    });
    // The issue's own rule, as a user writes it: the epoch is on other lines.
    check(&Case {
        file: "pytorch-examples.stdout",
        expected: "pytorch-examples.expected.json",
        spec: json!({"regex": r"Test set: Average loss: ([0-9.]+)",
                     "budget_regex": r"Train Epoch: (\d+)"}),
        shift: 0.0,
        tolerance: (5.1e-5, 0.0),
    });
}

#[test]
fn lightnings_tqdm_bar_counts_epochs_from_zero_and_redraws_stale_values() {
    // Lightning prints 3 significant digits padded to 5 characters (1.0428 as `1.040`).
    for (file, record) in [
        ("lightning-tqdm-file.stdout", "lightning-tqdm-file"),
        ("lightning-tqdm-pty.pty", "lightning-tqdm-pty"),
    ] {
        check(&Case {
            file,
            expected: leak(format!("{record}.expected.json")),
            spec: json!({"format": "lightning"}),
            shift: 1.0,
            tolerance: (0.0051, 0.0),
        });
        check(&Case {
            file,
            expected: leak(format!("{record}.val_acc.expected.json")),
            spec: json!({"format": "lightning", "name": "val_acc"}),
            shift: 1.0,
            tolerance: (0.0051, 0.0),
        });
    }
    // A callback that prints `epoch N: val_loss=...` reads as key=value lines.
    check(&Case {
        file: "lightning-print-file.stdout",
        expected: "lightning-print-file.expected.json",
        spec: json!({"regex": r"val_loss=([0-9.]+)", "budget_regex": r"^epoch (\d+):"}),
        shift: 0.0,
        tolerance: (5.1e-7, 0.0),
    });
}

#[test]
fn lightnings_rich_bar_in_a_file_shows_only_the_last_epoch() {
    // Rich draws nothing into a file until the program exits, and then only the last
    // frame: no rule can follow it epoch by epoch (the README says to use the tqdm bar or
    // a printing callback). What it does show is read right.
    let points = read(
        "lightning-default-file.stdout",
        json!({"format": "lightning"}),
    );
    let want = expected("lightning-default-file.expected.json");
    let last = want.last().unwrap();
    assert_eq!(points.len(), 1, "{points:?}");
    assert!((points[0].value - last.1).abs() < 0.0051, "{points:?}");
}

#[test]
fn the_hugging_face_trainer_logs_quoted_numbers_with_their_epoch() {
    for (file, record) in [
        ("hf-trainer-file.stdout", "hf-trainer-file"),
        ("hf-trainer-pty.pty", "hf-trainer-pty"),
    ] {
        check(&Case {
            file,
            expected: leak(format!("{record}.expected.json")),
            spec: json!({"format": "hf-trainer"}),
            shift: 0.0,
            tolerance: (0.0, 5.1e-4),
        });
        check(&Case {
            file,
            expected: leak(format!("{record}.loss.expected.json")),
            spec: json!({"format": "hf-trainer", "name": "loss"}),
            shift: 0.0,
            tolerance: (0.0, 5.1e-4),
        });
    }
}

#[test]
fn xgboost_rounds_count_from_zero_in_both_apis() {
    check(&Case {
        file: "xgboost-sklearn.stdout",
        expected: "xgboost-sklearn.expected.json",
        spec: json!({"format": "xgboost", "name": "validation_0-logloss"}),
        shift: 1.0,
        tolerance: (5.1e-6, 0.0),
    });
    for (name, record) in [
        ("eval-mlogloss", ""),
        ("eval-merror", ".eval-merror"),
        ("train-mlogloss", ".train-mlogloss"),
    ] {
        check(&Case {
            file: "xgboost-native.stdout",
            expected: leak(format!("xgboost-native{record}.expected.json")),
            spec: json!({"format": "xgboost", "name": name}),
            shift: 1.0,
            tolerance: (5.1e-6, 0.0),
        });
    }
}

#[test]
fn lightgbm_rounds_count_from_one_and_names_have_apostrophes() {
    check(&Case {
        file: "lightgbm-default.stdout",
        expected: "lightgbm-default.expected.json",
        spec: json!({"format": "lightgbm", "name": "valid_0's l2"}),
        shift: 0.0,
        tolerance: (0.0, 5.1e-6),
    });
    check(&Case {
        file: "lightgbm-named.stdout",
        expected: "lightgbm-named.expected.json",
        spec: json!({"format": "lightgbm", "name": "val's binary_logloss"}),
        shift: 0.0,
        tolerance: (0.0, 5.1e-6),
    });
    check(&Case {
        file: "lightgbm-named.stdout",
        expected: "lightgbm-named.auc.expected.json",
        spec: json!({"format": "lightgbm", "name": "val's auc"}),
        shift: 0.0,
        tolerance: (0.0, 5.1e-6),
    });
}

#[test]
fn a_python_logging_file_with_the_epoch_before_the_value() {
    check(&Case {
        file: "logging-file.log",
        expected: "logging-file.expected.json",
        spec: json!({"regex": r"val_loss=([0-9.]+)", "budget_regex": r"INFO epoch (\d+) "}),
        shift: 0.0,
        tolerance: (5.1e-5, 0.0),
    });
    // `epoch 2` is no key=value pair: key=value reads the values, not their budgets.
    check_values_only(&Case {
        file: "logging-file.log",
        expected: "logging-file.expected.json",
        spec: json!({"format": "key=value", "name": "val_loss", "budget_key": "epoch"}),
        shift: 0.0,
        tolerance: (5.1e-5, 0.0),
    });
}

#[test]
fn a_tqdm_postfix_gives_values_whose_epoch_the_bar_does_not_say() {
    // The postfix set in epoch k is drawn first beside the count of epoch k - 1, so a bar
    // alone cannot place a value; key=value reads the values (each redraw is one).
    for file in ["tqdm-file.stderr", "tqdm-pty.pty"] {
        let points = read(file, json!({"format": "key=value", "name": "val_loss"}));
        let mut distinct: Vec<f64> = points.iter().map(|p| p.value).collect();
        distinct.dedup();
        let want = expected("tqdm-file.expected.json");
        assert_eq!(distinct.len(), want.len(), "{file}: {distinct:?}");
        for (v, (_, w)) in distinct.iter().zip(&want) {
            assert!(
                (v - w).abs() <= 0.0051 * w.abs().max(1.0),
                "{file}: {v} vs {w}"
            );
        }
    }
}

/// Checks the values in order, read without budgets.
fn check_values_only(case: &Case) {
    let points = read(case.file, case.spec.clone());
    let want = expected(case.expected);
    assert_eq!(points.len(), want.len(), "{}: {points:?}", case.file);
    for (p, (_, w)) in points.iter().zip(&want) {
        assert!((p.value - w).abs() <= case.tolerance.0, "{}", case.file);
        assert_eq!(p.budget, None, "{}", case.file);
    }
}

/// A fixture name built at run time, for the `&'static str` fields.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
