//! Studies whose names collide on disk, run at once through the binary, each keep their
//! own results: every stored loss is the one its own study's program printed. The folder a
//! study's jobs write to belongs to the study's identity (store and name), not to a
//! sanitized name that two studies can share.
//!
//! The PostgreSQL cases need the server CI starts on 127.0.0.1:5432 (override the URL with
//! `HYPERBAND_TEST_POSTGRES`); without it they fail.

mod common;

use common::{hyperband, json_of, pg_url, unique};
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// One study of a colliding pair: its program prints `x + offset`, so a loss stored with
/// the other study's offset is a result that crossed over.
struct Side {
    file: PathBuf,
    storage: String,
    name: String,
    offset: f64,
}

/// Writes the study file `file_name` in `dir`. The program sleeps first, so that the two
/// studies' jobs of the same number overlap.
fn side(dir: &Path, file_name: &str, name: &str, storage: &str, offset: f64) -> Side {
    let file = dir.join(file_name);
    let text = format!(
        r#"name = {name:?}
seed = 5
storage = {storage:?}

[objective]
command = ["python3", "-c", "import sys, time; time.sleep(0.1); print(float(sys.argv[1]) + {offset})", "{{x}}", "{{budget}}"]

[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}

[algorithm]
scheduler = "full-budget"
max_budget = 1

[run]
workers = 3
max_trials = 12
"#
    );
    std::fs::write(&file, text).unwrap();
    Side {
        file,
        storage: storage.to_string(),
        name: name.to_string(),
        offset,
    }
}

fn run_together(sides: &[&Side]) -> Vec<Output> {
    let children: Vec<_> = sides
        .iter()
        .map(|s| {
            hyperband()
                .args(["run", s.file.to_str().unwrap(), "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

fn export(side: &Side) -> Vec<Value> {
    json_of(&[
        "export",
        "--storage",
        &side.storage,
        "--study",
        &side.name,
        "--format",
        "json",
    ])
    .as_array()
    .unwrap()
    .clone()
}

/// Runs the sides at once; each finishes its twelve trials, and every loss it stored is
/// `x + offset` of its own program, for the configuration the loss is stored with.
fn each_keeps_its_own_losses(sides: &[&Side]) -> Result<(), TestCaseError> {
    for (side, out) in sides.iter().zip(run_together(sides)) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(out.status.success(), "{}: {stderr}", side.name);
        let rows = export(side);
        let finished: Vec<&Value> = rows.iter().filter(|r| r["state"] == "finished").collect();
        prop_assert_eq!(finished.len(), 12, "{}: {:?}", side.name, rows);
        for row in finished {
            let x = row["config"]["x"].as_f64().unwrap();
            let loss = row["loss"].as_f64().unwrap();
            prop_assert!(
                (loss - (x + side.offset)).abs() < 1e-9,
                "study `{}` stored loss {loss} for x = {x}: not its own program's {}",
                side.name,
                x + side.offset
            );
        }
    }
    Ok(())
}

/// The folders under `base`, sorted.
fn folders(base: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(base)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn names_that_differ_only_in_punctuation_keep_their_own_results() {
    let dir = tempfile::tempdir().unwrap();
    let storage = format!("sqlite:{}", dir.path().join("shared.db").display());
    let a = side(dir.path(), "a.toml", "p17 shared", &storage, 0.0);
    let b = side(dir.path(), "b.toml", "p17_shared", &storage, 1000.0);
    each_keeps_its_own_losses(&[&a, &b]).unwrap();
    let runs = folders(&dir.path().join("shared-runs"));
    assert_eq!(runs.len(), 2, "{runs:?}");
    for name in &runs {
        assert!(
            name.starts_with("p17_shared-") && name.len() == "p17_shared-".len() + 8,
            "{runs:?}"
        );
    }
}

#[test]
fn one_name_in_two_postgres_schemas_run_from_one_folder_keeps_its_own_results() {
    let dir = tempfile::tempdir().unwrap();
    let name = unique("twin");
    let a = side(dir.path(), "a.toml", &name, &pg_url("hbident_a"), 0.0);
    let b = side(dir.path(), "b.toml", &name, &pg_url("hbident_b"), 1000.0);
    each_keeps_its_own_losses(&[&a, &b]).unwrap();
    assert_eq!(folders(&dir.path().join("hyperband-runs")).len(), 2);
}

#[test]
fn a_study_named_dot_dot_writes_inside_its_run_base() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    let storage = format!("sqlite:{}", store.join("s.db").display());
    for (i, name) in ["..", ".", "/"].into_iter().enumerate() {
        let s = side(dir.path(), &format!("{i}.toml"), name, &storage, 0.0);
        each_keeps_its_own_losses(&[&s]).unwrap();
    }
    // Nothing but the database and its run base beside it, and the run base holds one
    // folder per study, none of them hidden.
    let beside: Vec<String> = folders(&store)
        .into_iter()
        .filter(|n| !n.starts_with("s.db"))
        .collect();
    assert_eq!(beside, ["s-runs"]);
    let runs = folders(&store.join("s-runs"));
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs.iter().all(|n| !n.starts_with('.')), "{runs:?}");
    assert!(!dir.path().join("logs").exists() && !dir.path().join("checkpoints").exists());
}

#[test]
fn a_study_keeps_the_folder_an_earlier_version_gave_it() {
    let dir = tempfile::tempdir().unwrap();
    // What an earlier version left: the study's folder under its plain name, with a
    // checkpoint of trial 0 in flight.
    let old = dir.path().join("s-runs/mlp/checkpoints/trial-0");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("weights"), "w").unwrap();
    let storage = format!("sqlite:{}", dir.path().join("s.db").display());
    let s = side(dir.path(), "mlp.toml", "mlp", &storage, 0.0);
    each_keeps_its_own_losses(&[&s]).unwrap();
    let runs = folders(&dir.path().join("s-runs"));
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].starts_with("mlp-"), "{runs:?}");
    let moved = dir.path().join("s-runs").join(&runs[0]);
    assert_eq!(
        std::fs::read_to_string(moved.join("checkpoints/trial-0/weights")).unwrap(),
        "w"
    );
    assert!(moved.join("logs/job-0.stdout").exists());
}

proptest! {
    // Each case runs two studies through the binary for about a second: a few cases.
    #![proptest_config(ProptestConfig {
        cases: 4,
        max_shrink_iters: 4,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Two studies whose names become the same folder name under the old rule (the same
    /// letters, a different punctuation mark where the old rule wrote `_`), in one SQLite
    /// store, or one name in two PostgreSQL schemas; each run from the same folder, at once.
    #[test]
    fn colliding_studies_run_at_once_keep_their_own_losses(
        stem in "[a-z]{1,6}",
        marks in proptest::sample::subsequence(vec![" ", "_", "!", "+", "/", ":", "é"], 2),
        tail in "[a-z0-9]{1,3}",
        on_postgres in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = if on_postgres {
            let name = unique(&stem);
            (
                side(dir.path(), "a.toml", &name, &pg_url("hbident_a"), 0.0),
                side(dir.path(), "b.toml", &name, &pg_url("hbident_b"), 1000.0),
            )
        } else {
            let storage = format!("sqlite:{}", dir.path().join("hyperband.db").display());
            (
                side(dir.path(), "a.toml", &format!("{stem}{}{tail}", marks[0]), &storage, 0.0),
                side(dir.path(), "b.toml", &format!("{stem}{}{tail}", marks[1]), &storage, 1000.0),
            )
        };
        each_keeps_its_own_losses(&[&a, &b])?;
    }
}
