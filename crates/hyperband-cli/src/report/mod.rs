//! `hyperband report`: one self-contained HTML file (no network needed to open it) with
//! the study's progress, its brackets and rungs, learning curves and the parameters'
//! effect. Rust serialises the data (data.rs); the page (assets/report.html) draws it with
//! Apache ECharts, vendored in assets/echarts and inlined. `hyperband dashboard` serves
//! the same page, which then polls for the same data.

pub mod data;

use crate::inspect::StudyRef;
use anyhow::Context;
use hyperband::storage::{Replica, StorageUrl};
use hyperband::StudySpec;
use serde_json::Value;
use std::path::{Path, PathBuf};

const TEMPLATE: &str = include_str!("../../assets/report.html");
/// Apache ECharts 5.6.0 (npm `echarts`, dist/echarts.min.js; Apache-2.0, see assets/echarts).
const ECHARTS: &str = include_str!("../../assets/echarts/echarts.min.js");

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub study: StudyRef,
    /// Where to write the report (default: STUDY-report.html in the current folder).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let (replica, spec, url) = args.study.open()?;
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-report.html", replica.name())));
    write(&replica, &spec, &url, &path)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The report's page for a study as it stands.
pub fn html(replica: &Replica, spec: &StudySpec, url: &StorageUrl) -> String {
    page(&data::page_json(replica, spec, url), &Value::Null)
}

/// The page with `data` ([`data::page_json`]) drawn at load. `live` is null for a report;
/// the dashboard passes `{"url", "interval_ms", "seq"}`: where the page asks for newer data,
/// how often, and the event number `data` is as of.
pub fn page(data: &Value, live: &Value) -> String {
    let (head, rest) = TEMPLATE
        .split_once("/*ECHARTS*/")
        .expect("the template has the library's place");
    let (middle, rest) = rest
        .split_once("/*DATA*/")
        .expect("the template has the data's place");
    let (between, tail) = rest
        .split_once("/*LIVE*/")
        .expect("the template has the live settings' place");
    [
        head,
        ECHARTS,
        middle,
        &script_json(data),
        between,
        &script_json(live),
        tail,
    ]
    .concat()
}

/// `value` as JSON text that can sit inside a `<script>` element whatever strings it
/// holds: every `<`, `>` and `&` is written as a JSON escape (`\u003c`, `\u003e`,
/// `\u0026`), which `JSON.parse` reads back as the same character. Escaping only `</` is
/// not enough: `<!--` followed by `<script` puts the HTML parser in the "script data double
/// escaped" state, where the element's own `</script>` no longer ends it and the rest of
/// the page is swallowed. Outside strings JSON has none of these characters, so replacing
/// them everywhere only ever touches string contents.
pub fn script_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

pub fn write(
    replica: &Replica,
    spec: &StudySpec,
    url: &StorageUrl,
    path: &Path,
) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    std::fs::write(path, html(replica, spec, url))
        .with_context(|| format!("cannot write {}", path.display()))
}
