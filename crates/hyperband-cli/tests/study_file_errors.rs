//! A study file with several mistakes, through the binary: every command that reads it
//! lists them all, one `FILE:LINE:` line each, and exits with status 2.

mod common;

use common::{output_of, run_ok};

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
        let out = output_of(&args);
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
    let out = output_of(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {}:7: [space.x] unknown key `lg`, expected one of `type`, `low`, `high`, \
             `log`, `step`, `choices`, `when`, `value`\n",
            path.display()
        )
    );
}

/// A study that is valid as written; the cases below each put one hole in it.
const VALID: &str = r#"name = "holes"

[objective]
command = ["python3", "-c", "print(1)", "{x}", "{act}", "{budget}"]

[space]
x = { type = "float", low = 0.0, high = 1.0 }
act = { type = "categorical", choices = ["relu", "tanh"] }
batch = { value = "b128" }

[algorithm]
scheduler = "full-budget"
max_budget = 1

[run]
workers = 2
max_trials = 2
"#;

/// Runs `run` on VALID with `from` replaced by `to`: it must exit 2 at once, with one
/// located error, `FILE:LINE: MESSAGE`, the message starting with `message`.
fn refused(from: &str, to: &str, line: usize, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.toml");
    assert!(VALID.contains(from), "{from}");
    std::fs::write(&path, VALID.replace(from, to)).unwrap();
    let file = path.to_str().unwrap();
    let started = std::time::Instant::now();
    let out = output_of(&["run", file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{to}: {stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{to}: slow"
    );
    let one = stderr.strip_prefix("error: ").unwrap_or(&stderr);
    let lines = located_lines(one, file);
    assert_eq!(lines.len(), 1, "{to}: {stderr}");
    assert_eq!(lines[0].0, line, "{to}: {stderr}");
    assert!(lines[0].1.starts_with(message), "{to}: {stderr}");
    assert!(
        !dir.path().join("hyperband.db").exists(),
        "{to}: a study was stored"
    );
}

#[test]
fn a_million_workers_is_refused_naming_the_limit() {
    refused(
        "workers = 2",
        "workers = 1000000",
        16,
        "[run] workers: 1000000 is too many worker threads for one process (at most 1024",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.toml");
    std::fs::write(&path, VALID).unwrap();
    let out = output_of(&["run", path.to_str().unwrap(), "--workers", "5000"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("workers: 5000 is too many worker threads"),
        "{stderr}"
    );
}

#[test]
fn a_float_range_too_wide_to_sample_is_refused_naming_the_parameter() {
    refused(
        "x = { type = \"float\", low = 0.0, high = 1.0 }",
        "x = { type = \"float\", low = -1.797e308, high = 1.797e308 }",
        7,
        "[space.x] the range [-1.797e308, 1.797e308] is too wide: high - low is not a finite number",
    );
    refused(
        "x = { type = \"float\", low = 0.0, high = 1.0 }",
        "x = { type = \"float\", low = -1.0, high = 1.0, log = true }",
        7,
        "[space.x] a log scale needs low > 0, got low = -1",
    );
}

#[test]
fn a_nul_byte_that_would_reach_the_program_is_refused_naming_where() {
    refused(
        "[\"relu\", \"tanh\"]",
        "[\"relu\", \"ta\\u0000nh\"]",
        8,
        "[space.act] choices: choice \"ta\\0nh\" contains a NUL byte, which no command-line \
         argument or environment variable can hold",
    );
    refused(
        "{ value = \"b128\" }",
        "{ value = \"b\\u0000\" }",
        9,
        "[space.batch] value: value \"b\\0\" contains a NUL byte",
    );
    refused(
        "\"print(1)\"",
        "\"print(1)\\u0000\"",
        4,
        "[objective] command: argument \"print(1)\\0\" contains a NUL byte",
    );
}

#[test]
fn a_worker_given_an_edited_study_file_refuses_in_the_words_of_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.toml");
    let file = path.to_str().unwrap();
    let study = VALID.replace(
        "[\"python3\", \"-c\", \"print(1)\", \"{x}\", \"{act}\", \"{budget}\"]",
        "[\"sh\", \"-c\", \"echo 1\", \"{x}\", \"{act}\", \"{budget}\"]",
    );
    std::fs::write(&path, &study).unwrap();
    run_ok(&["run", file, "--json"]);
    std::fs::write(&path, study.replace("high = 1.0", "high = 2.0")).unwrap();
    let run = output_of(&["run", file]);
    let worker = output_of(&["worker", file]);
    let (run_err, worker_err) = (
        String::from_utf8_lossy(&run.stderr),
        String::from_utf8_lossy(&worker.stderr),
    );
    assert_eq!(run.status.code(), Some(2), "{run_err}");
    assert!(
        run_err.contains("was created with a different definition"),
        "{run_err}"
    );
    assert_eq!(worker.status.code(), Some(2), "{worker_err}");
    assert_eq!(worker_err, run_err);
}
