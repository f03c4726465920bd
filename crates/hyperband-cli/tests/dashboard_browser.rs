//! `hyperband dashboard` in a real browser, on SQLite and on PostgreSQL: headless Chromium,
//! driven over the DevTools protocol, shows each new result within 2 s of its being
//! stored (measured here, from the moment the store took the result to the moment the
//! page's DOM shows it), then the best configuration `hyperband best --json` names and one
//! row per bracket of the plan. A screenshot of each is kept in target/tmp. A machine
//! without Chromium, or without the PostgreSQL server, fails these tests.

mod common;

use common::dashboard::{Dashboard, Writer};
use common::{assert_shows, headless_chromium, pg_url, schedule_json, stdout_in, unique};
use hyperband::storage::StorageUrl;
use serde_json::{json, Value};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// The promise of issue 12.
const WITHIN: Duration = Duration::from_secs(2);
/// Results whose latency is measured (the rest of the study is written at once).
const MEASURED: usize = 12;

/// One headless Chromium with one page, over the DevTools protocol.
struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    profile: tempfile::TempDir,
}

impl Browser {
    fn open(url: &str) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(profile.path().join("chromium.log")).unwrap();
        let child = headless_chromium()
            .args(["--window-size=1280,2600", "--remote-debugging-port=0"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("Chromium starts");
        // Chromium writes the port it chose into the profile.
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let (port, path) = loop {
            let text = std::fs::read_to_string(&port_file).unwrap_or_default();
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                break (port.to_string(), path.to_string());
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not open its DevTools port: {}",
                std::fs::read_to_string(profile.path().join("chromium.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream).unwrap();
        let mut browser = Self {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            profile,
        };
        let targets = browser.call("Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("Chromium has a page")["targetId"]
            .clone();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": page, "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        browser
    }

    /// Sends one command (to the page once attached) and returns its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|error| panic!("{method}: {error}"))
    }

    /// [`call`](Self::call), with Chromium's error as an error.
    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.ws.send(Message::text(message.to_string())).unwrap();
        loop {
            let reply = self.ws.read().expect("Chromium answers");
            let Ok(text) = reply.into_text() else {
                continue;
            };
            let reply: Value = serde_json::from_str(text.as_str()).unwrap();
            if reply["id"] == json!(id) {
                return match reply.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(reply["result"].clone()),
                };
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Waits up to `limit` for `expression` to be true; how long it took, if it became so.
    /// (Before the page has loaded there is nothing to evaluate in: that is not true yet.)
    fn wait_for(&mut self, expression: &str, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        loop {
            let params = json!({"expression": expression, "returnByValue": true});
            if let Ok(result) = self.try_call("Runtime.evaluate", params) {
                if result["result"]["value"] == json!(true) {
                    return Some(start.elapsed());
                }
            }
            if start.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn screenshot(&mut self, path: &Path) {
        use base64::Engine;
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, &png).unwrap();
        assert!(png.len() > 10_000, "the screenshot is empty");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.profile;
    }
}

/// Writes a study through the library while the dashboard shows it in Chromium.
fn live_study_in_chromium(url_text: &str, label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let url = StorageUrl::parse(url_text, dir.path()).unwrap();
    let name = unique(&format!("dashboard-{label}"));
    let mut writer = Writer::create(&url, &name);
    for _ in 0..3 {
        writer.step().unwrap();
    }
    let dashboard = Dashboard::start(&["--storage", url_text, "--study", &name], dir.path());
    let mut browser = Browser::open(&dashboard.printed);
    browser
        .wait_for(
            "document.body.dataset.rendered === 'true'",
            Duration::from_secs(30),
        )
        .expect("the page's script finished");
    assert_eq!(
        browser.eval("document.querySelectorAll('#latest tr.result').length"),
        json!(3),
        "the page shows the three results stored before it opened"
    );

    // Each new result: stored, then looked for in the page.
    let mut latencies = Vec::new();
    while let Some(job) = writer.step() {
        if latencies.len() == MEASURED {
            continue;
        }
        let shown = browser.wait_for(
            &format!("document.querySelector('#latest tr.result[data-job=\"{job}\"]') !== null"),
            WITHIN,
        );
        let took = shown.unwrap_or_else(|| {
            panic!("{label}: job {job}'s result was not shown within {WITHIN:?} of being stored")
        });
        latencies.push(took);
    }
    let max = latencies.iter().max().unwrap();
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    println!(
        "{label}: {} new results shown after {:.0} ms on average, {:.0} ms at most (stored -> in the DOM)",
        latencies.len(),
        mean.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );

    // The study is done: the page comes to say what `best` and `status` say.
    let args = ["--storage", url_text, "--study", name.as_str(), "--json"];
    let best: Value =
        serde_json::from_str(&stdout_in(&[&["best"][..], &args[..]].concat(), dir.path())).unwrap();
    let status: Value = serde_json::from_str(&stdout_in(
        &[&["status"][..], &args[..]].concat(),
        dir.path(),
    ))
    .unwrap();
    let counts = format!(": {} trials, {} jobs,", status["trials"], status["jobs"]);
    browser
        .wait_for(
            &format!(
                "document.getElementById('summary').textContent.includes({})",
                json!(counts)
            ),
            WITHIN,
        )
        .unwrap_or_else(|| panic!("the summary should come to say {counts:?}"));
    let loss = browser.eval("document.querySelector('#best-loss .value').dataset.value");
    assert_eq!(
        loss.as_str().unwrap().parse::<f64>().unwrap(),
        best["loss"].as_f64().unwrap()
    );
    for (param, value) in best["config"].as_object().unwrap() {
        let shown = browser.eval(&format!(
            "document.querySelector('tr.best-param[data-param=\"{param}\"] .value').dataset.value"
        ));
        assert_shows(shown.as_str().unwrap(), value, param);
    }
    let plan = schedule_json(&["--min-budget", "1", "--max-budget", "9", "--eta", "3"]);
    assert_eq!(
        browser.eval("document.querySelectorAll('#brackets tr.bracket').length"),
        json!(plan["brackets"].as_array().unwrap().len())
    );
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    browser.screenshot(&shots.join(format!("dashboard-{label}.png")));
}

#[test]
fn new_results_appear_within_two_seconds_on_sqlite() {
    live_study_in_chromium("sqlite:live.db", "sqlite");
}

#[test]
fn new_results_appear_within_two_seconds_on_postgres() {
    live_study_in_chromium(&pg_url("hbdash"), "postgres");
}
