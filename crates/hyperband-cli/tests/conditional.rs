//! Conditional and fixed parameters end to end (issue 13): a script that refuses to run
//! when it gets `--momentum` for adam, misses it for sgd, or gets a batch other than the
//! fixed one; the study runs through `hyperband run` and a `hyperband worker` beside it,
//! and the export leaves momentum out exactly where the optimizer is not sgd.

mod common;

use common::{hyperband, run_ok};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Exits 1 with the reason on stderr for any wrong input; prints a loss otherwise.
const SCRIPT: &str = r#"import json, os, sys, time
args = sys.argv[1:]
def fail(why):
    print(why, file=sys.stderr)
    sys.exit(1)
opts = dict(zip(args[0::2], args[1::2]))
if len(args) % 2 or len(opts) * 2 != len(args):
    fail("odd arguments: %r" % args)
opt = opts["--opt"]
if opt == "sgd":
    if "--momentum" not in opts or "HYPERBAND_PARAM_MOMENTUM" not in os.environ:
        fail("sgd without momentum: %r" % args)
elif "--momentum" in opts or "HYPERBAND_PARAM_MOMENTUM" in os.environ:
    fail("momentum for %s: %r" % (opt, args))
if opts["--batch"] != "128" or os.environ.get("HYPERBAND_PARAM_BATCH") != "128":
    fail("wrong batch: %r" % args)
config = json.loads(os.environ["HYPERBAND_CONFIG"])
if config.get("batch") != 128 or ("momentum" in config) != (opt == "sgd"):
    fail("wrong HYPERBAND_CONFIG: %r" % config)
time.sleep(0.15)
lr = float(opts["--lr"])
m = float(opts.get("--momentum", "0.5"))
print((lr - 0.3) ** 2 + (m - 0.9) ** 2 + (0.1 if opt == "adam" else 0.0) + 1.0 / float(opts["--epochs"]))
"#;

fn write_study(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("train.py"), SCRIPT).unwrap();
    let path = dir.join("study.toml");
    std::fs::write(
        &path,
        r#"name = "conditional"
seed = 3

[objective]
command = ["python3", "train.py", "--opt", "{optimizer}", "--momentum", "{momentum}",
           "--lr", "{lr}", "--batch", "{batch}", "--epochs", "{budget}"]

[space]
optimizer = { type = "categorical", choices = ["sgd", "adam", "rmsprop"] }
momentum  = { type = "float", low = 0.0, high = 0.99, when = "optimizer == 'sgd'" }
lr        = { type = "float", low = 0.01, high = 1.0, log = true }
batch     = { value = 128 }

[algorithm]
scheduler = "hyperband"
sampler = "tpe"
min_budget = 1
max_budget = 9
eta = 3

[run]
workers = 1
max_trials = 40

[[enqueue]]
optimizer = "adam"
lr = 0.3

[[enqueue]]
optimizer = "sgd"
momentum = 0.9
lr = 0.3
batch = 128
"#,
    )
    .unwrap();
    path
}

#[test]
fn conditional_and_fixed_parameters_reach_the_script_through_run_and_worker() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path());
    let s = study.to_str().unwrap();
    let mut run = hyperband()
        .args(["run", s, "--plain"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A worker that only knows the stored study: the fixed batch must come from there.
    // It joins once the run has created the study.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.path().join("hyperband.db").exists() {
        assert!(Instant::now() < deadline, "the run never created its store");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let db = format!("sqlite:{}", dir.path().join("hyperband.db").display());
    let worker = hyperband()
        .current_dir(dir.path())
        .args([
            "worker",
            "--storage",
            &db,
            "--study",
            "conditional",
            "--plain",
        ])
        .output()
        .unwrap();
    let status = run.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(run.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "run failed:\n{stderr}");
    assert!(
        worker.status.success(),
        "worker failed:\n{}",
        String::from_utf8_lossy(&worker.stderr)
    );

    let out = run_ok(&["export", s, "--format", "json"]);
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 40, "only {} jobs", rows.len());
    let mut optimizers = std::collections::BTreeSet::new();
    for row in rows {
        // The script fails every job that got a wrong argument, so all finished means
        // every command line and environment was right.
        assert_eq!(row["state"], "finished", "{row}");
        let config = row["config"].as_object().unwrap();
        let opt = config["optimizer"].as_str().unwrap();
        optimizers.insert(opt.to_string());
        assert_eq!(config.contains_key("momentum"), opt == "sgd", "{row}");
        assert!(
            !config.contains_key("batch"),
            "fixed values are not searched: {row}"
        );
    }
    assert_eq!(optimizers.len(), 3, "{optimizers:?}");
    // The enqueued configurations ran first, the adam one without momentum.
    assert_eq!(
        rows[0]["config"],
        serde_json::json!({"optimizer": "adam", "lr": 0.3})
    );
    assert_eq!(rows[1]["config"]["momentum"], 0.9);
    let workers: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r["worker"].as_str()).collect();
    assert!(
        workers.len() >= 2,
        "the worker took no job (workers: {workers:?}); the fixed value through the stored study went untested"
    );
}

/// `step` in a study file: the command only ever gets grid values, both ends reachable,
/// and a step that does not divide the range is refused at its key.
#[test]
fn stepped_parameters_reach_the_command_only_on_their_grid() {
    let dir = tempfile::tempdir().unwrap();
    let study = common::study_toml(
        dir.path(),
        r#"name = "stepped"
seed = 1

[objective]
command = ["python3", "-c", "import sys; b, d = int(sys.argv[1]), float(sys.argv[2]); assert b % 16 == 0 and 16 <= b <= 256, b; assert abs(d * 10 - round(d * 10)) < 1e-9 and 0 <= d <= 0.5, d; print(abs(b - 128) / 128 + d)", "{batch}", "{dropout}"]

[space]
batch   = { type = "int", low = 16, high = 256, step = 16 }
dropout = { type = "float", low = 0.0, high = 0.5, step = 0.1 }

[algorithm]
scheduler = "full-budget"
sampler = "tpe"
max_budget = 1

[run]
workers = 2
max_trials = 60
"#,
    );
    run_ok(&["run", &study, "--plain"]);
    let out = run_ok(&["export", &study, "--format", "json"]);
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 60);
    let mut batches = std::collections::BTreeSet::new();
    for row in rows {
        assert_eq!(row["state"], "finished", "{row}");
        batches.insert(row["config"]["batch"].as_i64().unwrap());
    }
    assert!(batches.len() >= 8, "{batches:?}");

    let bad = common::study_toml(
        dir.path(),
        &std::fs::read_to_string(&study)
            .unwrap()
            .replace("high = 256, step = 16", "high = 250, step = 16"),
    );
    let out = common::output_of(&["check", &bad]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("step 16 does not divide high - low = 234")
            && stderr.contains("study.toml:8: [space.batch]"),
        "{stderr}"
    );
}
