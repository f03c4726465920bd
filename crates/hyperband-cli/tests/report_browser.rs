//! `hyperband report` in a real browser: headless Chromium loads the file with no network,
//! runs its script, and the DOM shows what `hyperband best --json` says, one row per
//! bracket of the plan, and the bars of parameter importance that the core computes for
//! the stored study (or why there are none). Screenshots are kept in target/tmp. A machine
//! without Chromium fails this test (`.ci/run` installs Debian's `chromium`).

mod common;

use common::{assert_shows, headless_chromium, schedule_json, stdout_in};
use hyperband::importance::{of_study, ImportanceOptions};
use hyperband::storage::{AnyStore, StorageUrl, StoredStudy};
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
    // A few results at each budget: no importance yet, and the page says why.
    assert!(
        dom.contains(r#"<p id="importance-note" class="muted">Not shown: parameter importance needs at least 20 results at one budget; the most at any budget is "#),
        "the page should say why it shows no importance"
    );
    assert!(!dom.contains("data-bars="), "no bars without importances");

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

/// Random search at one budget: x decides the loss, n a little and c not at all.
const RANDOM: &str = r#"
name = "importance"
seed = 11
[objective]
command = ["python3", "-c", "import sys; x, n = float(sys.argv[1]), int(sys.argv[2]); print(10 * (x - 0.3) ** 2 + 0.05 * abs(n - 2))", "{x}", "{n}", "{c}"]
[space]
x = { type = "float", low = 0.0, high = 1.0 }
n = { type = "int", low = 1, high = 4 }
c = { type = "categorical", choices = ["a", "b", "c"] }
[algorithm]
scheduler = "full-budget"
sampler = "random"
max_budget = 1
[run]
workers = 2
max_trials = 60
"#;

/// The study in the store `status --json` names, as the core replays it.
fn stored_study(dir: &Path, name: &str) -> hyperband::storage::Replica {
    let status: Value =
        serde_json::from_str(&stdout_in(&["status", "study.toml", "--json"], dir)).unwrap();
    let url = StorageUrl::parse(status["storage"].as_str().unwrap(), dir).unwrap();
    let mut store = AnyStore::open_read_only(&url).unwrap();
    StoredStudy::find(&mut store, name)
        .unwrap()
        .synced(&mut store)
        .unwrap()
}

/// The `data-bars` attribute of the importance chart: `[{name, importance}]`, top bar first.
fn bars(dom: &str) -> Vec<(String, f64)> {
    let marker = r#"id="importance" class="chart""#;
    let at = dom
        .find(marker)
        .expect("the importance chart is on the page");
    let tag_end = at + dom[at..].find('>').unwrap();
    let tag = &dom[at..tag_end];
    let start = tag.find(r#"data-bars=""#).expect("the chart has its bars") + 11;
    let text = &tag[start..];
    let text = &text[..text.find('"').unwrap()];
    let json: Value = serde_json::from_str(&text.replace("&quot;", "\"").replace("&amp;", "&"))
        .expect("data-bars is JSON");
    json.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["name"].as_str().unwrap().to_string(),
                b["importance"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_report_draws_the_importances_the_core_computes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("study.toml"), RANDOM).unwrap();
    stdout_in(&["run", "study.toml", "--plain"], dir.path());
    let replica = stored_study(dir.path(), "importance");
    assert_eq!(replica.study().history().observations().len(), 60);
    let core = of_study(replica.study(), &ImportanceOptions::default()).unwrap();
    assert_eq!(core.params[0].0, "x", "{core:?}");

    stdout_in(&["report", "study.toml", "-o", "report.html"], dir.path());
    let page = dir.path().join("report.html");
    let dom = String::from_utf8(headless(&page, &["--dump-dom"]).stdout).unwrap();
    assert!(
        dom.contains(r#"data-rendered="true""#),
        "the page's script did not finish"
    );
    let shown = bars(&dom);
    let names: Vec<&str> = shown.iter().map(|b| b.0.as_str()).collect();
    let want: Vec<&str> = core.params.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, want, "the bars, top first, in the core's order");
    for ((name, bar), (_, share)) in shown.iter().zip(&core.params) {
        // JSON carries f64s exactly (serde_json writes the shortest text that reads back).
        assert_eq!(bar, share, "the bar of `{name}`");
    }
    let note = format!("the {} results with a loss of at most ", core.top);
    assert!(
        dom.contains(&note),
        "the note should name the top set: {note:?}"
    );
    assert!(dom.contains(&format!("against all {} at budget 1", core.results)));

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-importance.png");
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
