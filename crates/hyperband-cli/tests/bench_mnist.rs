//! `hyperband bench mnist` refuses bad input before it trains anything: an unknown method,
//! and a `--reuse` trace file that is not one, each named in the error (exit status 2).

mod common;

use common::hyperband;

fn bench(args: &[&str]) -> (i32, String) {
    let out = hyperband()
        .args(["bench", "mnist"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_method_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, err) = bench(&["--methods", "random,mfgp", "--out", out]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown method `mfgp`") && err.contains("mf-gp"),
        "{err}"
    );
}

#[test]
fn a_corrupt_trace_file_is_named_when_reused() {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    std::fs::create_dir_all(&traces).unwrap();
    std::fs::write(traces.join("random.json"), "{\"method\": \"random\"").unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, err) = bench(&[
        "--methods",
        "random",
        "--seeds",
        "1",
        "--reuse",
        "--out",
        out,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("traces/random.json: not a trace file of `bench mnist`"),
        "{err}"
    );
}
