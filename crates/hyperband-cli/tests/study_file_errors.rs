//! A study file with several mistakes, through the binary: every command that reads it
//! lists them all, one `FILE:LINE:` line each, and exits with status 2.

use std::process::Command;

fn hyperband() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hyperband"))
}

/// Three independent mistakes in three tables: a range, a name, a type.
const STUDY: &str = r#"name = "three-mistakes"

[objective]
command = ["python3", "-c", "print(1)", "{x}", "{budget}"]

[space]
x = { type = "float", low = 1.0, high = 0.0 }

[algorithm]
scheduler = "hyperbnd"
min_budget = 1
max_budget = 9

[run]
max_trials = -3
"#;

/// The lines of `stderr` that start with `FILE:LINE: `.
fn located_lines<'a>(stderr: &'a str, file: &str) -> Vec<(usize, &'a str)> {
    stderr
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(file)?.strip_prefix(':')?;
            let (number, message) = rest.split_once(": ")?;
            Some((number.parse().ok()?, message))
        })
        .collect()
}

#[test]
fn three_mistakes_are_three_located_errors_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.toml");
    std::fs::write(&path, STUDY).unwrap();
    let file = path.to_str().unwrap();
    for args in [
        vec!["run", file],
        vec!["run", file, "--json"],
        vec!["status", file],
        vec!["best", file, "--json"],
        vec!["export", file],
    ] {
        let out = hyperband().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let lines = located_lines(&stderr, file);
        assert_eq!(
            lines,
            [
                (7, "[space.x] low (1) must be below high (0)"),
                (
                    10,
                    "[algorithm] scheduler: unknown scheduler `hyperbnd` (expected one of \
                     full-budget, sha, hyperband, asha, async-hyperband)"
                ),
                (
                    15,
                    "[run] max_trials: invalid value: integer `-3`, expected a non-negative \
                     integer"
                ),
            ],
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.starts_with(&format!("error: 3 mistakes in {file}:\n")),
            "{args:?}: {stderr}"
        );
        // Nothing ran, nothing was stored.
        assert!(!dir.path().join("hyperband.db").exists());
    }
}

#[test]
fn one_mistake_reads_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.toml");
    let text = STUDY
        .replace("\"hyperbnd\"", "\"hyperband\"")
        .replace("max_trials = -3", "max_trials = 3")
        .replace("low = 1.0, high = 0.0", "low = 0.0, high = 1.0, lg = true");
    std::fs::write(&path, text).unwrap();
    let out = hyperband()
        .args(["run", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {}:7: [space.x] unknown key `lg`, expected one of `type`, `low`, `high`, \
             `log`, `choices`, `when`, `value`\n",
            path.display()
        )
    );
}
