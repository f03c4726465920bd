//! `hyperband dashboard` against clients that are broken or hostile (issue 21): a huge
//! announced body, a client that sends requests and never reads the answers, a huge header
//! block, a client that sends half a request and waits, a foreign Host (DNS rebinding),
//! and study names and failure reasons that would end the page's embedded data early.
//! Each time the dashboard must go on serving everyone else. All traffic stays on
//! 127.0.0.1, and every wait is bounded.

mod common;

use common::dashboard::{get, Dashboard, Writer};
use common::stdout_in;
use hyperband::storage::StorageUrl;
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long the dashboard gives a client to send its request head (server.rs).
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the dashboard waits for a response to make progress (server.rs).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests a client that never reads sends at once.
const PIPELINED: usize = 12;
/// How soon another client must be answered while one misbehaves.
const PROMPTLY: Duration = Duration::from_secs(2);

/// A store with study `name`, a few results in, in `dir/store.db`, and a dashboard on it.
fn dashboard_on(dir: &Path, name: &str) -> Dashboard {
    let url = StorageUrl::parse("sqlite:store.db", dir).unwrap();
    let mut writer = Writer::create(&url, name);
    for _ in 0..5 {
        writer.step().unwrap();
    }
    drop(writer);
    Dashboard::start(&["--storage", "sqlite:store.db", "--study", name], dir)
}

/// `host:port` of the dashboard.
fn authority(dashboard: &Dashboard) -> &str {
    dashboard.base.strip_prefix("http://").unwrap()
}

/// A connection to the dashboard whose reads give up after `timeout`.
fn connect(dashboard: &Dashboard, timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect(authority(dashboard)).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
    stream
}

/// What came back on a connection: a status line's code, or the connection closed (EOF or
/// reset) before one. Panics when nothing at all happens within the read timeout.
fn status_or_closed(stream: &mut TcpStream) -> Option<u16> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") && head.len() < 200 {
        match stream.read(&mut byte) {
            Ok(0) => return None,
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("neither an answer nor a closed connection: {e}"),
        }
    }
    let line = String::from_utf8_lossy(&head);
    Some(
        line.split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not a status line: {line:?}")),
    )
}

/// One GET on a new connection that must be answered completely within `within`: status
/// and body.
fn get_within(dashboard: &Dashboard, path: &str, host: &str, within: Duration) -> (u16, String) {
    let started = Instant::now();
    let mut stream = connect(dashboard, within);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = Vec::new();
    if let Err(e) = stream.read_to_end(&mut reply) {
        panic!("GET {path} (Host {host}) not answered within {within:?}: {e}");
    }
    assert!(
        started.elapsed() < within,
        "GET {path} took {:?}",
        started.elapsed()
    );
    let reply = String::from_utf8(reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// The dashboard still answers an ordinary request, promptly.
fn assert_alive(dashboard: &Dashboard) {
    let (status, body) = get_within(dashboard, "/api/studies", authority(dashboard), PROMPTLY);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_huge_announced_body_is_refused_unread_and_the_dashboard_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let dashboard = dashboard_on(dir.path(), "small");
    for method in ["GET", "POST"] {
        let mut stream = connect(&dashboard, Duration::from_secs(10));
        write!(
            stream,
            "{method} /api/studies HTTP/1.1\r\nHost: {}\r\nContent-Length: 99999999999\r\n\r\n",
            authority(&dashboard)
        )
        .unwrap();
        // A few bytes of the body, as a client that means it would send.
        let _ = stream.write_all(&[b'x'; 100]);
        match status_or_closed(&mut stream) {
            None => {}
            Some(status) => assert!(status >= 400, "{method}: {status}"),
        }
        assert_alive(&dashboard);
    }
}

#[test]
fn a_client_that_never_reads_holds_up_nobody_else() {
    let dir = tempfile::tempdir().unwrap();
    let dashboard = dashboard_on(dir.path(), "small");
    let page = dashboard.printed.strip_prefix(&dashboard.base).unwrap();
    // Pipelined requests for the study's page (about 1 MB each, with the chart library),
    // not one byte read: more answers than the socket buffers on both sides hold (a few
    // MB), so that the server's writes to this client block.
    let mut stuck = connect(&dashboard, Duration::from_secs(10));
    let request = format!(
        "GET {page} HTTP/1.1\r\nHost: {}\r\n\r\n",
        authority(&dashboard)
    );
    stuck
        .write_all(request.repeat(PIPELINED).as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..3 {
        let (status, body) = get_within(&dashboard, page, authority(&dashboard), PROMPTLY);
        assert_eq!(status, 200);
        assert!(body.contains(r#"id="data""#));
        assert_alive(&dashboard);
    }
    // Once its answers have made no progress for a while, the dashboard drops it: what
    // the buffers held, then the end, well before all its answers were sent.
    std::thread::sleep(WRITE_TIMEOUT + Duration::from_secs(2));
    let mut received = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "the client was never dropped");
        match stuck.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the client that never read is still connected: {e}"),
        }
    }
    let answers = received
        .windows(15)
        .filter(|w| w == b"HTTP/1.1 200 OK")
        .count();
    assert!(answers < PIPELINED, "all {answers} answers were sent");
}

#[test]
fn a_megabyte_of_headers_is_refused_and_the_dashboard_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let dashboard = dashboard_on(dir.path(), "small");
    let mut stream = connect(&dashboard, Duration::from_secs(10));
    let head = format!(
        "GET /api/studies HTTP/1.1\r\nHost: {}\r\nX-Filler: {}\r\n\r\n",
        authority(&dashboard),
        "a".repeat(1 << 20)
    );
    // The dashboard may answer and close before all of it is sent.
    let _ = stream.write_all(head.as_bytes());
    match status_or_closed(&mut stream) {
        None => {}
        Some(status) => assert_eq!(status, 431, "a 1 MB header block was taken"),
    }
    assert_alive(&dashboard);
}

#[test]
fn a_client_that_sends_half_a_request_is_dropped_and_others_are_served_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let dashboard = dashboard_on(dir.path(), "small");
    let started = Instant::now();
    let mut slow = connect(&dashboard, HEAD_TIMEOUT * 2);
    slow.write_all(b"GET /api/stu").unwrap();
    // Others are answered while it waits: a request every half second, for a while.
    for _ in 0..6 {
        assert_alive(&dashboard);
        std::thread::sleep(Duration::from_millis(500));
    }
    // Then the slow one is cut off, without an answer, once its time is up.
    let mut rest = Vec::new();
    match slow.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the half-sent request's connection was still open: {e}"),
    }
    let waited = started.elapsed();
    assert!(
        waited >= HEAD_TIMEOUT - Duration::from_secs(1) && waited < HEAD_TIMEOUT * 2,
        "closed after {waited:?}"
    );
    assert!(
        rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
        "{rest:?}"
    );
    assert_alive(&dashboard);
}

#[test]
fn a_foreign_host_is_refused_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let dashboard = dashboard_on(dir.path(), "small");
    let port = authority(&dashboard)
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        format!("127.0.0.1:{port}@evil.example"),
        "".to_string(),
    ] {
        let (status, body) = get_within(&dashboard, "/api/studies", &host, PROMPTLY);
        assert_eq!(status, 421, "Host {host:?}: {body}");
        assert!(body.contains("loopback"), "{body}");
        assert_eq!(body.trim_end().lines().count(), 1, "one line: {body}");
    }
    for host in [
        format!("localhost:{port}"),
        "LocalHost".to_string(),
        format!("127.0.0.1:{port}"),
        "127.0.0.1".to_string(),
        format!("[::1]:{port}"),
        // An SSH tunnel or a proxy on another port.
        "localhost:9".to_string(),
    ] {
        let (status, body) = get_within(&dashboard, "/api/studies", &host, PROMPTLY);
        assert_eq!(status, 200, "Host {host:?}: {body}");
        let names: Vec<String> = serde_json::from_str(&body).unwrap();
        assert_eq!(names, ["small"]);
    }
}

/// The JSON text in the page's `<script type="application/json" id="ID">` element.
fn embedded<'a>(page: &'a str, id: &str) -> &'a str {
    let open = format!(r#"<script type="application/json" id="{id}">"#);
    let start = page.find(&open).unwrap_or_else(|| panic!("no #{id}")) + open.len();
    let len = page[start..].find("</script>").unwrap();
    &page[start..start + len]
}

/// Both embedded JSON texts hold no `<` (nothing the HTML parser could take for a tag or a
/// comment) and parse back to `name` and `reason`.
fn assert_embedded_intact(page: &str, name: &str, reason: &str) {
    for id in ["data", "live"] {
        let text = embedded(page, id);
        assert!(!text.contains('<'), "#{id} holds a `<`: {text}");
        serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("#{id}: {e}: {text}"));
    }
    let data: Value = serde_json::from_str(embedded(page, "data")).unwrap();
    assert_eq!(data["study"], name);
    let reasons: Vec<&str> = data["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, [reason]);
    // The page's own script after the data is still there, whole.
    assert!(page.trim_end().ends_with("</script>\n</body>\n</html>"));
}

#[test]
fn names_and_reasons_that_look_like_markup_stay_inside_the_page_data() {
    let dir = tempfile::tempdir().unwrap();
    let name = "x<!--<script>";
    let reason = "died </script><!-- <script> & <b>bold</b>";
    let url = StorageUrl::parse("sqlite:store.db", dir.path()).unwrap();
    let mut writer = Writer::create(&url, name);
    writer
        .step_with(|_| hyperband::Outcome::failed(reason))
        .unwrap();
    for _ in 0..3 {
        writer.step().unwrap();
    }
    drop(writer);

    let dashboard = Dashboard::start(
        &["--storage", "sqlite:store.db", "--study", name],
        dir.path(),
    );
    let (status, page) = get(&dashboard.printed);
    assert_eq!(status, 200);
    assert_embedded_intact(&page, name, reason);
    let live: Value = serde_json::from_str(embedded(&page, "live")).unwrap();
    assert_eq!(
        live["url"],
        dashboard
            .printed
            .strip_prefix(&dashboard.base)
            .unwrap()
            .replacen("/study/", "/api/study/", 1)
    );

    // The report is the same page, written to a file.
    stdout_in(
        &[
            "report",
            "--storage",
            "sqlite:store.db",
            "--study",
            name,
            "-o",
            "report.html",
        ],
        dir.path(),
    );
    let report = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let data = embedded(&report, "data");
    assert!(!data.contains('<'), "{data}");
    assert_eq!(embedded(&report, "live"), "null");
    let data: Value = serde_json::from_str(data).unwrap();
    assert_eq!(data["study"], name);
    assert_eq!(data["failures"][0]["reason"], reason);
}
