//! `hyperband run` end to end: study files, command objectives, status/best/export, refusal
//! of changed studies, and SIGKILL at random moments losing nothing.

mod common;

use common::{assert_finished_once_or_lost, hyperband, json_of, output_of, run_ok};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// A deterministic objective that takes a little while, so that kills land mid-job too.
const OBJECTIVE: &str = r#"
import os, sys, time
x, y, budget = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
time.sleep(float(os.environ.get("SLEEP", "0")))
print((x - 0.3) ** 2 + (y - 0.7) ** 2 + 1.0 / budget)
"#;

fn write_study(dir: &Path, name: &str, extra_space: &str, workers: usize) -> PathBuf {
    std::fs::write(dir.join("objective.py"), OBJECTIVE).unwrap();
    let text = format!(
        r#"name = "{name}"
seed = 11
storage = "sqlite:studies.db"

[objective]
command = ["python3", "objective.py", "{{x}}", "{{y}}", "{{budget}}"]
timeout = "30s"

[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}
y = {{ type = "float", low = 0.0, high = 1.0 }}
{extra_space}

[algorithm]
scheduler = "hyperband"
min_budget = 1
max_budget = 9
eta = 3
max_brackets = 3

[run]
workers = {workers}
"#
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// (trial, budget, loss) of every finished job, in the order they finished.
fn history(study: &Path) -> Vec<(u64, f64, f64)> {
    let rows = json_of(&["export", study.to_str().unwrap(), "--format", "json"]);
    let mut done: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "finished")
        .collect();
    done.sort_by(|a, b| {
        a["ended_at"]
            .as_f64()
            .unwrap()
            .total_cmp(&b["ended_at"].as_f64().unwrap())
    });
    done.iter()
        .map(|r| {
            (
                r["trial"].as_u64().unwrap(),
                r["budget"].as_f64().unwrap(),
                r["loss"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_command_study_runs_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path(), "quad", "", 2);
    let s = study.to_str().unwrap();
    let status = json_of(&["run", s, "--json"]);
    // Three brackets of R = 9, eta = 3: (9, 3, 1) + (5, 1) + (3).
    assert_eq!(status["finished"], 22);
    assert_eq!(status["failed"], 0);
    assert_eq!(status["stopped"], "done");
    let best = json_of(&["best", s, "--json"]);
    assert_eq!(best["budget"], 9.0);
    for key in ["trial", "config", "loss"] {
        assert!(!best[key].is_null(), "{best}");
    }
    let x = best["config"]["x"].as_f64().unwrap();
    let y = best["config"]["y"].as_f64().unwrap();
    let expected = (x - 0.3).powi(2) + (y - 0.7).powi(2) + 1.0 / 9.0;
    assert!((best["loss"].as_f64().unwrap() - expected).abs() < 1e-12);

    let rows = json_of(&["export", s, "--format", "json"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 22);
    for key in [
        "trial",
        "config",
        "budget",
        "resume_from",
        "loss",
        "state",
        "worker",
    ] {
        assert!(rows.iter().all(|r| r.get(key).is_some()), "missing {key}");
    }
    // Per-job logs are kept beside the database, in the study's own folder.
    let runs: Vec<_> = std::fs::read_dir(dir.path().join("studies-runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("quad-"));
    let logs = runs[0].join("logs");
    assert!(logs.join("job-0.stdout").exists(), "{}", logs.display());

    let csv = run_ok(&["export", s, "--format", "csv"]).stdout;
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("job,trial,budget,resume_from"));
    assert_eq!(csv.lines().count(), 23);

    // Running a finished study again resumes it and finds nothing to do.
    let again = json_of(&["run", s, "--json"]);
    assert_eq!(again["finished"], 22);
}

#[test]
fn a_changed_study_is_refused_and_can_be_forked() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path(), "quad", "", 1);
    run_ok(&["run", study.to_str().unwrap(), "--json"]);
    let changed = write_study(
        dir.path(),
        "quad",
        r#"z = { type = "int", low = 1, high = 4 }"#,
        1,
    );
    let out = output_of(&["run", changed.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("study `quad`") && err.contains("different definition"),
        "{err}"
    );
    assert!(err.contains("space") && err.contains("--fork"), "{err}");
    // The command line uses {x} {y} only, so the extra parameter is fine for a fork.
    let fork = json_of(&["run", changed.to_str().unwrap(), "--fork", "--json"]);
    assert_eq!(fork["study"], "quad-fork-1");
    assert_eq!(fork["finished"], 22);
}

#[test]
fn bad_study_files_exit_2_citing_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path(), "quad", "", 1);
    let text = std::fs::read_to_string(&study)
        .unwrap()
        .replace("high = 1.0 }\ny", "high = -1.0 }\ny");
    std::fs::write(&study, text).unwrap();
    let out = output_of(&["run", study.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("quad.toml:10:") && err.contains("[space.x]"),
        "{err}"
    );
    assert!(err.contains("must be below high"), "{err}");

    let out = output_of(&["run", "no-such-study.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-study.toml"));
}

#[test]
fn a_study_whose_every_job_fails_is_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path(), "quad", "", 1);
    std::fs::write(
        dir.path().join("objective.py"),
        "import sys\nsys.exit('out of memory')\n",
    )
    .unwrap();
    let out = output_of(&["run", study.to_str().unwrap(), "--plain"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // Its first jobs all fail alike: the run stops early instead of going through the plan.
    assert!(
        err.contains("stopped early: the first 5 trials of this run all failed the same way")
            && err.contains("out of memory"),
        "{err}"
    );
    let status = json_of(&["status", study.to_str().unwrap(), "--json"]);
    assert_eq!(status["failures"][0]["reason"], "exit status 1");
    assert_eq!(status["failed"], 5, "{status:#}");
}

#[test]
fn sigkill_at_random_moments_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The uninterrupted reference, in its own database.
    let reference_dir = dir.path().join("reference");
    std::fs::create_dir(&reference_dir).unwrap();
    let reference = write_study(&reference_dir, "quad", "", 1);
    run_ok(&["run", reference.to_str().unwrap(), "--json"]);
    let expected = history(&reference);
    assert_eq!(expected.len(), 22);

    let study = write_study(dir.path(), "quad", "", 1);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let mut kills = 0;
    for _ in 0..40 {
        let mut child = hyperband()
            .args(["run", study.to_str().unwrap(), "--plain"])
            .env("SLEEP", "0.05")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(20..400)));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    assert!(
        kills >= 3,
        "the run finished before it could be killed often enough"
    );
    run_ok(&["run", study.to_str().unwrap(), "--json"]);

    // No (trial, rung) finished twice, and every job that did not finish was declared lost.
    assert_finished_once_or_lost(&json_of(&[
        "export",
        study.to_str().unwrap(),
        "--format",
        "json",
    ]));
    // The same decisions and results as the uninterrupted run.
    assert_eq!(history(&study), expected, "after {kills} kills");
}

#[test]
fn builtins_check_their_name_and_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let write = |builtin: &str| {
        let path = dir.path().join("b.toml");
        std::fs::write(
            &path,
            format!(
                "name = \"b\"\n[objective]\nbuiltin = \"{builtin}\"\n[space]\nx = {{ type = \"float\", low = 0.0, high = 1.0 }}\n[algorithm]\nscheduler = \"hyperband\"\nmin_budget = 1\nmax_budget = 81\n"
            ),
        )
        .unwrap();
        output_of(&["run", path.to_str().unwrap()])
    };
    let out = write("resnet");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown built-in workload `resnet`") && err.contains("mnist-mlp"),
        "{err}"
    );
    let out = write("mnist-mlp");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("takes the parameters lr, l2, hidden"), "{err}");
}

#[test]
fn the_mnist_builtin_trains_resumes_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.toml");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/mnist/study.toml"),
    )
    .unwrap()
    .replace("max_budget = 81", "max_budget = 3")
    .replace("max_brackets = 5", "max_brackets = 1");
    std::fs::write(&path, text).unwrap();
    let status = json_of(&["run", path.to_str().unwrap(), "--json"]);
    // One bracket of R = 3: three configurations at 1, the best one resumed to 3.
    assert_eq!(status["finished"], 4);
    assert_eq!(status["cost_model"], "resume");
    assert_eq!(status["budget_spent"], 3.0 + 2.0);
    let rows = json_of(&["export", path.to_str().unwrap(), "--format", "json"]);
    let promoted = &rows.as_array().unwrap()[3];
    assert_eq!(promoted["resume_from"], 1.0);
    assert_eq!(promoted["cost"], 2.0);
    let error = promoted["metrics"]["val_error"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&error), "{promoted}");
}
