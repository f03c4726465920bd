//! Studies stored before the study definition was typed (`ObjectiveSpec`, issue 23) open,
//! report and resume unchanged. `fixtures/stored-definitions/studies.db` was written by the
//! binary of commit cd705c9 (`make.sh`): a stop-mode command study with a named metric
//! format, a fixed and a conditional parameter; a promote-mode command study with a regex
//! rule and retries; a built-in workload.

mod common;

use common::{json_of, run_ok, stdout_of};
use std::path::Path;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/stored-definitions"
);

/// A copy of the fixture folder, so that resuming writes nowhere in the source tree.
fn copy_fixture(to: &Path) {
    for entry in std::fs::read_dir(FIXTURE).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn studies_stored_before_the_typed_definition_report_and_resume_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path());
    for (name, trials) in [("command", 5), ("regex", 4), ("builtin", 9)] {
        let file = dir.path().join(format!("{name}.toml"));
        let file = file.to_str().unwrap();
        let before = json_of(&["status", file, "--json"]);
        assert_eq!(before["trials"], trials, "{name}: {before:#}");
        assert!(before["best"]["loss"].is_number(), "{name}: {before:#}");
        // The file still defines the stored study: resuming is not refused as changed,
        // and the finished study replays to the same state.
        let out = stdout_of(&["run", file, "--plain"]);
        assert!(!out.contains("different definition"), "{name}: {out}");
        let after = json_of(&["status", file, "--json"]);
        assert_eq!(after["best"], before["best"], "{name}");
        assert_eq!(after["budget_spent"], before["budget_spent"], "{name}");
        // Every stored job exports, with its configuration.
        let rows = json_of(&["export", file, "--format", "json"]);
        assert_eq!(
            rows.as_array().unwrap().len() as u64,
            after["jobs"].as_u64().unwrap(),
            "{name}"
        );
    }
    // Raising the trial limit runs new jobs of the stop-mode study, whose command
    // objective (format rule, fixed batch) comes from today's typed definition.
    let more = dir.path().join("command.toml");
    let text = std::fs::read_to_string(&more)
        .unwrap()
        .replace("max_trials = 5", "max_trials = 7");
    std::fs::write(&more, text).unwrap();
    run_ok(&["run", more.to_str().unwrap(), "--plain"]);
    let status = json_of(&["status", more.to_str().unwrap(), "--json"]);
    assert_eq!(status["trials"], 7, "{status:#}");
    assert_eq!(status["failed"], 0, "{status:#}");
}
