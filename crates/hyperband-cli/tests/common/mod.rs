//! What the CLI's end-to-end tests share: running the binary and reading what it prints.
//! Each test file that needs it says `mod common;` (a folder, so that cargo does not build
//! it as a test of its own); a file uses what it needs, hence the `dead_code` allowance.
#![allow(dead_code)]

use serde_json::Value;
use std::process::{Command, Output};

/// The `hyperband` binary under test.
pub fn hyperband() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hyperband"))
}

/// Runs `hyperband ARGS` and fails the test, with everything it printed, unless it
/// succeeds.
pub fn run_ok(args: &[&str]) -> Output {
    let out = hyperband().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "hyperband {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The stdout of a successful `hyperband ARGS`.
pub fn stdout_of(args: &[&str]) -> String {
    String::from_utf8(run_ok(args).stdout).unwrap()
}

/// The stdout of a successful `hyperband ARGS`, parsed as JSON.
pub fn json_of(args: &[&str]) -> Value {
    serde_json::from_slice(&run_ok(args).stdout).unwrap()
}
