//! What the CLI's end-to-end tests share: running the binary and reading what it prints,
//! waiting for the processes a test starts, the PostgreSQL test server, names no other
//! test uses, Chromium, and ([`dashboard`]) what the dashboard tests need. Each test file
//! that needs it says `mod common;` (a folder, so that cargo does not build it as a test
//! of its own); a file uses what it needs, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod dashboard;

use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `hyperband` binary under test.
pub fn hyperband() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hyperband"))
}

/// `hyperband ARGS`, whatever it does: its output.
pub fn output_of(args: &[&str]) -> Output {
    hyperband().args(args).output().unwrap()
}

/// Fails the test, with everything `hyperband ARGS` printed, unless it succeeded.
fn succeeded(args: &[&str], out: Output) -> Output {
    assert!(
        out.status.success(),
        "hyperband {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `hyperband ARGS` and fails the test, with everything it printed, unless it
/// succeeds.
pub fn run_ok(args: &[&str]) -> Output {
    succeeded(args, output_of(args))
}

/// [`run_ok`] in the folder `dir`.
pub fn run_ok_in(args: &[&str], dir: &Path) -> Output {
    succeeded(
        args,
        hyperband().args(args).current_dir(dir).output().unwrap(),
    )
}

/// The stdout of a successful `hyperband ARGS`.
pub fn stdout_of(args: &[&str]) -> String {
    String::from_utf8(run_ok(args).stdout).unwrap()
}

/// The stdout of a successful `hyperband ARGS` run in the folder `dir`.
pub fn stdout_in(args: &[&str], dir: &Path) -> String {
    String::from_utf8(run_ok_in(args, dir).stdout).unwrap()
}

/// The stdout of a successful `hyperband ARGS`, parsed as JSON.
pub fn json_of(args: &[&str]) -> Value {
    serde_json::from_slice(&run_ok(args).stdout).unwrap()
}

/// The stdout of `hyperband ARGS` as JSON, or null where it printed none (a study not
/// there yet, a store busy being created): for polling a study that a run is writing.
pub fn json_or_null(args: &[&str]) -> Value {
    serde_json::from_slice(&output_of(args).stdout).unwrap_or(Value::Null)
}

/// Starts `hyperband ARGS` with its output thrown away.
pub fn spawn_quiet(args: &[&str]) -> Child {
    hyperband()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Writes `text` as `dir/study.toml`; its path.
pub fn study_toml(dir: &Path, text: &str) -> String {
    let path = dir.join("study.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The plan `hyperband schedule ARGS --json` prints.
pub fn schedule_json(args: &[&str]) -> Value {
    json_of(&[&["schedule"], args, &["--json"]].concat())
}

/// Checks the jobs `hyperband export --format json` printed (`rows`): no (trial, rung)
/// finished twice, and every job that did not finish was declared lost.
pub fn assert_finished_once_or_lost(rows: &Value) {
    let mut finished = HashSet::new();
    for r in rows.as_array().unwrap() {
        match r["state"].as_str().unwrap() {
            "finished" => assert!(
                finished.insert((r["trial"].as_u64(), r["rung"].as_u64())),
                "finished twice: {r}"
            ),
            "lost" => {}
            other => panic!("job left {other}: {r}"),
        }
    }
}

/// Waits at most `limit` for `child` to end: its output (what was piped) if it did, or
/// as `Err` its output once killed if it did not.
pub fn wait_at_most(mut child: Child, limit: Duration) -> Result<Output, Output> {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(child.wait_with_output().unwrap())
}

/// Checks `done` every 20 ms until it holds; after `limit`, fails the test saying
/// `never` (what did not happen).
pub fn wait_until(limit: Duration, never: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{never} (waited {limit:?})");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The PostgreSQL test server (`postgres://postgres@127.0.0.1:5432/test`; override it with
/// `HYPERBAND_TEST_POSTGRES`). A test that needs it fails when it is not there.
pub fn pg_base() -> String {
    std::env::var("HYPERBAND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// The test server's URL with our tables in `schema`.
pub fn pg_url(schema: &str) -> String {
    let base = pg_base();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}schema={schema}")
}

/// A plain client of the test server, for looking behind the binary's back.
pub fn pg_admin() -> postgres::Client {
    postgres::Client::connect(&pg_base(), postgres::NoTls)
        .expect("the PostgreSQL test server is needed (postgres://postgres@127.0.0.1:5432/test)")
}

fn unique_joined(prefix: &str, sep: char) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{sep}{}{sep}{nanos}", std::process::id())
}

/// A name no other test (or run of this one) uses: `PREFIX-PID-NANOS`.
pub fn unique(prefix: &str) -> String {
    unique_joined(prefix, '-')
}

/// A schema name no other test (or run of this one) uses: `PREFIX_PID_NANOS`.
pub fn unique_schema(prefix: &str) -> String {
    unique_joined(prefix, '_')
}

/// A study file `remote.toml` in `dir` for `storage` whose jobs take a little while, so
/// that a run can be killed early; unbounded Hyperband, so that only the `[run]` limits
/// (`run`) end it.
pub fn slow_study(dir: &Path, name: &str, storage: &str, run: &str) -> PathBuf {
    let text = format!(
        r#"name = "{name}"
seed = 9
storage = "{storage}"

[objective]
command = ["sh", "-c", 'sleep 0.05; echo "$1"', "sh", "{{x}}"]

[space]
x = {{ type = "float", low = 0.0, high = 1.0 }}

[algorithm]
scheduler = "hyperband"
min_budget = 1
max_budget = 9
eta = 3

[run]
{run}
"#
    );
    let path = dir.join("remote.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Debian's Chromium (or `$CHROMIUM`); a machine without it fails the browser tests.
pub fn chromium() -> PathBuf {
    [
        std::env::var("CHROMIUM").unwrap_or_default(),
        "/usr/bin/chromium".into(),
    ]
    .iter()
    .filter(|c| !c.is_empty())
    .map(PathBuf::from)
    .find(|p| p.exists())
    .expect("Chromium is needed for the browser tests: apt-get install chromium (or set CHROMIUM)")
}

/// Chromium without a window, a sandbox, a GPU or a first-run dialog; the caller adds its
/// own profile folder (`--user-data-dir`).
pub fn headless_chromium() -> Command {
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
    ]);
    command
}

/// Whether what a page shows (a `data-value`) is `value`: the same text, or the same number.
pub fn assert_shows(shown: &str, value: &Value, what: &str) {
    match value {
        Value::String(s) => assert_eq!(shown, s, "`{what}`"),
        v => assert_eq!(
            shown.parse::<f64>().unwrap(),
            v.as_f64().unwrap(),
            "`{what}`"
        ),
    }
}
