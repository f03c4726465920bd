//! What the dashboard tests share: a dashboard process, a plain HTTP GET, and a study
//! written through the library one job at a time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A `hyperband dashboard` process on a free port, stopped when dropped.
pub struct Dashboard {
    child: Child,
    /// Its standard output, kept open (it prints more after its address).
    _stdout: BufReader<std::process::ChildStdout>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// What the dashboard printed as its address.
    pub printed: String,
}

impl Dashboard {
    /// Starts `hyperband dashboard ARGS --port 0` in `dir` and waits for its address.
    pub fn start(args: &[&str], dir: &Path) -> Self {
        let mut child = super::hyperband()
            .arg("dashboard")
            .args(args)
            .args(["--port", "0"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        let printed = line
            .trim()
            .strip_prefix("dashboard: ")
            .unwrap_or_else(|| panic!("the dashboard did not say where it listens: {line:?}"))
            .to_string();
        let rest = printed.strip_prefix("http://").expect("an http address");
        let host = rest.split('/').next().unwrap();
        Self {
            child,
            _stdout: stdout,
            base: format!("http://{host}"),
            printed,
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `url` (`http://HOST:PORT/PATH`): status and body.
pub fn get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, body.to_string())
}

/// A study written through the library, one job at a time, as a worker does: so that a
/// test knows when each result was stored.
pub struct Writer {
    worker: hyperband::executor::StoreWorker<hyperband::storage::AnyStore>,
    pub id: i64,
}

/// Hyperband over R = 9, eta = 3, three brackets (22 jobs), on a float and a choice.
pub fn spec() -> serde_json::Value {
    use hyperband::Param;
    serde_json::json!({
        "seed": 3,
        "space": [Param::log_float("x", 1e-4, 1.0), Param::categorical("c", &["a", "b"])],
        "algorithm": {"scheduler": "hyperband", "sampler": "random", "min_budget": 1.0,
                      "max_budget": 9.0, "eta": 3, "max_brackets": 3},
        "cost": "scratch",
    })
}

impl Writer {
    /// Creates study `name` with [`spec`] in the store `url` names.
    pub fn create(url: &hyperband::storage::StorageUrl, name: &str) -> Self {
        use hyperband::storage::{AnyStore, EventStore, Replica};
        let mut store = AnyStore::open(url).unwrap();
        let (id, _) = store.open_study(name, &spec()).unwrap();
        let spec: hyperband::StudySpec = serde_json::from_value(spec()).unwrap();
        let name = name.to_string();
        let fresh = move || Replica::new(&name, spec.build(hyperband::Limits::default()).unwrap());
        Self {
            worker: hyperband::executor::StoreWorker::new(store, id, Box::new(fresh)),
            id,
        }
    }

    /// Issues the next job and stores its result (on PostgreSQL it waits in the inbox
    /// until the next decision). The job's number, or None when the study is done.
    pub fn step(&mut self) -> Option<u64> {
        self.step_with(|job| {
            hyperband::Outcome::loss(1.0 / job.budget + (job.trial.0 as f64 * 0.37).sin().abs())
        })
    }

    /// Issues the next job and stores `outcome(job)` as its result, as [`Writer::step`].
    pub fn step_with(
        &mut self,
        outcome: impl FnOnce(&hyperband::Job) -> hyperband::Outcome,
    ) -> Option<u64> {
        match self.worker.next_job().unwrap() {
            hyperband::Decision::Run(job) => {
                let outcome = outcome(&job);
                self.worker.report(&job, outcome, 0.01).unwrap();
                Some(job.id.0)
            }
            hyperband::Decision::Wait => panic!("one worker never waits in Hyperband"),
            hyperband::Decision::Done => None,
        }
    }
}
