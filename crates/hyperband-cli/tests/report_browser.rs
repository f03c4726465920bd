//! `hyperband report` in a real browser: headless Chromium loads the file with no network,
//! runs its script, and the DOM shows what `hyperband best --json` says and one row per
//! bracket of the plan. A screenshot is kept in target/tmp. A machine without Chromium
//! fails this test (`.ci/run` installs Debian's `chromium`).

mod common;

use common::{assert_shows, headless_chromium, schedule_json, stdout_in};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn headless(page: &Path, extra: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let out = headless_chromium()
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Chromium starts");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

const STUDY: &str = r#"
name = "browser"
seed = 3
[objective]
command = ["python3", "-c", "import sys; x, c, b = float(sys.argv[1]), sys.argv[2], float(sys.argv[3]); print((x - 0.01) ** 2 * 1e4 + (c == 'b') + 1 / b)", "{x}", "{c}", "{budget}"]
[space]
x = { type = "float", low = 1e-4, high = 1.0, log = true }
c = { type = "categorical", choices = ["a", "b"] }
[algorithm]
scheduler = "hyperband"
sampler = "random"
min_budget = 1
max_budget = 9
eta = 3
max_brackets = 3
[run]
workers = 2
"#;

#[test]
fn the_report_shows_the_best_configuration_and_every_bracket_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("study.toml"), STUDY).unwrap();
    stdout_in(&["run", "study.toml", "--plain"], dir.path());
    let best: Value =
        serde_json::from_str(&stdout_in(&["best", "study.toml", "--json"], dir.path())).unwrap();
    let plan = schedule_json(&["--min-budget", "1", "--max-budget", "9", "--eta", "3"]);
    let page = dir.path().join("out").join("report.html");
    let printed = stdout_in(
        &["report", "study.toml", "-o", "out/report.html"],
        dir.path(),
    );
    assert!(printed.contains("report.html"), "{printed}");

    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<script src"),
        "the report must not load scripts"
    );
    assert!(
        !html.contains("<link"),
        "the report must not load stylesheets"
    );

    let dom = String::from_utf8(headless(&page, &["--dump-dom"]).stdout).unwrap();
    assert!(
        dom.contains(r#"data-rendered="true""#),
        "the page's script did not finish"
    );
    for (name, value) in best["config"].as_object().unwrap() {
        let marker = format!(
            r#"data-param="{name}" class="best-param"><td>{name}</td><td class="value" data-value=""#
        );
        let at = dom
            .find(&marker)
            .unwrap_or_else(|| panic!("no best row for `{name}`"));
        let shown: String = dom[at + marker.len()..]
            .chars()
            .take_while(|&c| c != '"')
            .collect();
        assert_shows(&shown, value, name);
    }
    let loss_marker = r#"<tr id="best-loss"><td>loss</td><td class="value" data-value=""#;
    let at = dom.find(loss_marker).expect("the best loss is shown");
    let shown: String = dom[at + loss_marker.len()..]
        .chars()
        .take_while(|&c| c != '"')
        .collect();
    assert_eq!(
        shown.parse::<f64>().unwrap(),
        best["loss"].as_f64().unwrap()
    );
    let status: Value =
        serde_json::from_str(&stdout_in(&["status", "study.toml", "--json"], dir.path())).unwrap();
    let counts = format!(": {} trials, {} jobs,", status["trials"], status["jobs"]);
    assert!(dom.contains(&counts), "the summary should say {counts:?}");
    let rows = dom.matches(r#"<tr class="bracket""#).count();
    assert_eq!(rows, plan["brackets"].as_array().unwrap().len());

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let shot = shots.join("report.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &page,
        &[
            "--window-size=1280,3000",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "the screenshot is empty"
    );
}
