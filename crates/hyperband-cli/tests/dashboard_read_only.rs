//! `hyperband dashboard` never writes to the store it shows: a SQLite file is the same
//! bytes (and modification time) after the dashboard served every page of it, and a
//! PostgreSQL schema has the same rows, its results inbox included, whose waiting result
//! the dashboard shows all the same (and so does `status`). A store that is not there is
//! not created. Needs the PostgreSQL server (`.ci/run` starts it); without it the
//! PostgreSQL test fails.

mod common;

use common::dashboard::{get, spec, Dashboard, Writer};
use common::{hyperband, pg_admin, pg_url, stdout_in, unique, unique_schema, wait_at_most};
use hyperband::storage::{EventStore, PgStore, SqliteStore, StorageUrl};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Every page and endpoint of the dashboard for `study`: the data it served.
fn visit_everything(dashboard: &Dashboard, studies: &[&str], study: &str) -> Value {
    let (status, list) = get(&format!("{}/studies", dashboard.base));
    assert_eq!(status, 200);
    for name in studies {
        assert!(
            list.contains(&format!(">{name}</a>")),
            "{name} not listed: {list}"
        );
    }
    let (status, names) = get(&format!("{}/api/studies", dashboard.base));
    assert_eq!(status, 200);
    let names: Vec<String> = serde_json::from_str(&names).unwrap();
    assert_eq!(names, studies);
    let (status, page) = get(&format!("{}/study/{study}", dashboard.base));
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"id="live">{"url":"/api/study/"#),
        "the page polls"
    );
    let (status, data) = get(&format!("{}/api/study/{study}", dashboard.base));
    assert_eq!(status, 200);
    let data: Value = serde_json::from_str(&data).unwrap();
    let (status, _) = get(&format!(
        "{}/api/study/{study}?since={}",
        dashboard.base, data["seq"]
    ));
    assert_eq!(status, 204, "nothing new since the event number it gave");
    data
}

/// Each file of the folder: name, contents, modification time.
fn files(dir: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_sqlite_store_is_the_same_file_after_the_dashboard_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = StorageUrl::parse("sqlite:store.db", dir.path()).unwrap();
    let mut done = Writer::create(&url, "done");
    while done.step().is_some() {}
    let mut begun = Writer::create(&url, "begun");
    begun.step().unwrap();
    drop((done, begun));
    let db = dir.path().join("store.db");
    let before = files(dir.path());
    // Let a write, if there were one, show in the modification time.
    std::thread::sleep(std::time::Duration::from_millis(20));

    let dashboard = Dashboard::start(&["--storage", "sqlite:store.db"], dir.path());
    assert!(dashboard.printed.ends_with('/'), "no study named: the list");
    let data = visit_everything(&dashboard, &["done", "begun"], "done");
    assert_eq!(data["data"]["finished"], 22);
    drop(dashboard);

    // Every file as it was, but SQLite's shared-memory index (`-shm`), which every reader
    // of a WAL database uses to coordinate; a WAL file the reader opened must be empty.
    let after = files(dir.path());
    for file in &after {
        match before.iter().find(|f| f.0 == file.0) {
            _ if file.0.ends_with("-shm") => {}
            Some(old) => assert!(old == file, "the dashboard changed {}", file.0),
            None => assert!(
                file.0.ends_with("-wal") && file.1.is_empty(),
                "the dashboard wrote {}",
                file.0
            ),
        }
    }
    assert!(after.iter().any(|f| f.0 == "store.db"));
    // And the connection it reads through refuses writes.
    let mut store = SqliteStore::open_read_only(&db).unwrap();
    assert!(store.open_study("new", &spec()).is_err());
    assert_eq!(store.study_names().unwrap(), ["done", "begun"]);
}

/// Rows of the study's events, inbox, leases and requests.
fn rows(client: &mut postgres::Client, schema: &str, study: i64) -> Vec<i64> {
    ["events", "inbox", "leases", "requests"]
        .iter()
        .map(|table| {
            let sql = format!("SELECT count(*) FROM {schema}.{table} WHERE study = $1");
            client.query_one(&sql, &[&study]).unwrap().get(0)
        })
        .collect()
}

#[test]
fn a_postgres_store_keeps_its_rows_and_inbox_while_the_dashboard_shows_them() {
    let url_text = pg_url("hbdash");
    let url = StorageUrl::parse(&url_text, Path::new(".")).unwrap();
    let name = unique("read-only");
    let mut writer = Writer::create(&url, &name);
    for _ in 0..10 {
        writer.step().unwrap();
    }
    // The tenth result waits in the inbox: only the next decision would move it.
    let mut client = pg_admin();
    let before = rows(&mut client, "hbdash", writer.id);
    assert_eq!(before[1], 1, "one result in the inbox: {before:?}");

    let dir = tempfile::tempdir().unwrap();
    let dashboard = Dashboard::start(&["--storage", &url_text, "--study", &name], dir.path());
    let data = visit_everything_of_one(&dashboard, &name);
    drop(dashboard);
    assert_eq!(
        rows(&mut client, "hbdash", writer.id),
        before,
        "the dashboard wrote"
    );
    assert_eq!(data["data"]["finished"], 10, "the waiting result is shown");
    let last: i64 = client
        .query_one(
            "SELECT max(seq) FROM hbdash.events WHERE study = $1",
            &[&writer.id],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        data["seq"],
        last + 1,
        "the waiting result counts as the next event"
    );

    // `status` reads the same way: it shows the waiting result and leaves it waiting.
    let status: Value = serde_json::from_str(&stdout_in(
        &["status", "--storage", &url_text, "--study", &name, "--json"],
        dir.path(),
    ))
    .unwrap();
    assert_eq!(status["finished"], 10);
    assert_eq!(
        rows(&mut client, "hbdash", writer.id),
        before,
        "status wrote"
    );

    // The dashboard's session refuses writes.
    let mut store = PgStore::connect_read_only(&url_text).unwrap();
    assert!(store.open_study(&unique("new"), &spec()).is_err());
}

/// [`visit_everything`] where the store holds other tests' studies too.
fn visit_everything_of_one(dashboard: &Dashboard, study: &str) -> Value {
    assert!(
        dashboard.printed.contains("/study/"),
        "{}",
        dashboard.printed
    );
    let (status, list) = get(&format!("{}/", dashboard.base));
    assert_eq!(status, 302, "`/` opens the named study: {list}");
    let (status, list) = get(&format!("{}/studies", dashboard.base));
    assert_eq!(status, 200);
    assert!(list.contains(&format!(">{study}</a>")));
    let path = dashboard.printed.split_once("/study/").unwrap().1;
    let (status, data) = get(&format!("{}/api/study/{path}", dashboard.base));
    assert_eq!(status, 200);
    let data: Value = serde_json::from_str(&data).unwrap();
    let (status, page) = get(&dashboard.printed);
    assert_eq!(status, 200);
    assert!(page.contains(&format!(r#""seq":{}"#, data["seq"])));
    let (status, _) = get(&format!(
        "{}/api/study/{path}?since={}",
        dashboard.base, data["seq"]
    ));
    assert_eq!(status, 204);
    data
}

/// Runs a dashboard that should refuse to start: one still serving after 20 s fails.
fn refused(command: &mut Command) -> std::process::Output {
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_at_most(child, Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("the dashboard started on a store that is not there"))
}

#[test]
fn a_store_that_is_not_there_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let out = refused(
        hyperband()
            .args(["dashboard", "--storage", "sqlite:absent.db", "--port", "0"])
            .current_dir(dir.path()),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("absent.db").exists());

    let schema = unique_schema("hbabsent");
    let out =
        refused(hyperband().args(["dashboard", "--storage", &pg_url(&schema), "--port", "0"]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut client = pg_admin();
    let found: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
            &[&schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(found, 0, "the dashboard created schema {schema}");
}
