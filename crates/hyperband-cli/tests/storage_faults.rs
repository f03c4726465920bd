//! Stores in trouble, as a user meets them through the binary: read commands (`status`,
//! `export`, `best`, `report`) write nothing and work on a read-only folder; a store,
//! schema or study that is not there is an error (exit status 2) that creates nothing; a
//! damaged event is reported as damage, naming it; a database that cannot be written fails
//! a run at once, saying so; and passwords never show, whatever they hold.
//!
//! Read-only files mean nothing to root, so when this process can write a file it may not
//! (root, or any holder of CAP_DAC_OVERRIDE), the binary runs without those capabilities
//! where a test needs the permissions to hold (`setpriv`). Needs the PostgreSQL test server
//! (`.ci/run` starts it) for the PostgreSQL cases.

mod common;

use common::{output_of, pg_admin, pg_base, pg_url, unique_schema, wait_at_most, wait_until};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hyperband");

/// The read commands, each with what it needs to run (a report goes to `out`).
fn read_commands(out: &Path) -> Vec<Vec<String>> {
    let report = out.join("report.html").display().to_string();
    vec![
        vec!["status".into(), "--json".into()],
        vec!["export".into(), "--format".into(), "json".into()],
        vec!["best".into(), "--json".into()],
        vec!["report".into(), "-o".into(), report],
    ]
}

/// The binary, under the file permissions a plain user meets (see the module comment).
fn hyperband() -> Command {
    if permissions_bind_us() {
        return Command::new(BIN);
    }
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--bounding-set=-dac_override,-dac_read_search,-fowner",
        "--",
        BIN,
    ]);
    cmd
}

/// Whether this process is refused a write to a read-only file.
fn permissions_bind_us() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    std::fs::write(&probe, b"").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&probe)
        .is_err()
}

fn run(cmd: &mut Command, dir: &Path) -> Output {
    cmd.current_dir(dir).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A study of 22 quick jobs (Hyperband, R = 9, eta = 3, three brackets) whose loss is `x`,
/// stored at `storage`; each job first sleeps `sleep` seconds.
fn write_study(dir: &Path, name: &str, storage: &str, sleep: f64) -> PathBuf {
    let text = format!(
        r#"name = "{name}"
seed = 5
storage = "{storage}"

[objective]
command = ["sh", "-c", "sleep {sleep}; echo $0", "{{x}}"]
timeout = "30s"

[space]
x = {{ type = "float", low = 0.1, high = 1.0 }}

[algorithm]
scheduler = "hyperband"
min_budget = 1
max_budget = 9
eta = 3
max_brackets = 3

[run]
workers = 1
"#
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Names and sizes of the files in `dir`.
fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    out.sort();
    out
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Gives a folder (and its files) back their write permission when the test ends, so that
/// it can be removed.
struct Writable(Vec<PathBuf>);

impl Drop for Writable {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
        }
    }
}

/// Runs read command `command` on study `study` of `storage` in `dir`: it must fail with
/// exit status 2. What it said on stderr.
fn refused(command: &[String], storage: &str, study: &str, dir: &Path) -> String {
    let out = run(
        hyperband()
            .args(command)
            .args(["--storage", storage, "--study", study]),
        dir,
    );
    assert_eq!(out.status.code(), Some(2), "{command:?} {}", text(&out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn read_commands_on_a_missing_or_empty_sqlite_file_fail_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.db"), b"").unwrap();
    let before = listing(dir.path());
    for (file, problem) in [
        ("missing.db", "no such database"),
        ("empty.db", "an empty file"),
    ] {
        for command in read_commands(dir.path()) {
            let err = refused(&command, &format!("sqlite:{file}"), "s", dir.path());
            assert!(
                err.contains(file) && err.contains(problem),
                "{command:?}: {err}"
            );
        }
    }
    assert_eq!(
        listing(dir.path()),
        before,
        "a read command created or changed a file"
    );

    // The empty file is still a blank page for `run`, which makes it a store.
    let study = write_study(dir.path(), "s", "sqlite:empty.db", 0.0);
    let out = run(
        hyperband().args(["run", study.to_str().unwrap(), "--json"]),
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn read_commands_on_a_fresh_postgres_schema_or_a_missing_study_fail_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut admin = pg_admin();
    let schema = unique_schema("hbfaults_fresh");
    let count_schemas = |admin: &mut postgres::Client| -> i64 {
        admin
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                &[&schema],
            )
            .unwrap()
            .get(0)
    };
    for command in read_commands(dir.path()) {
        let err = refused(&command, &pg_url(&schema), "s", dir.path());
        assert!(
            err.contains(&format!("no hyperband schema `{schema}`")),
            "{command:?}: {err}"
        );
        assert_eq!(
            count_schemas(&mut admin),
            0,
            "{command:?} created the schema"
        );
    }

    // A schema of ours without the study.
    let schema = unique_schema("hbfaults_nostudy");
    drop(hyperband::storage::PgStore::connect_in(&pg_base(), &schema).unwrap());
    for command in read_commands(dir.path()) {
        let err = refused(&command, &pg_url(&schema), "absent", dir.path());
        assert!(
            err.contains("no study named `absent`") && err.contains(&schema),
            "{command:?}: {err}"
        );
    }
    let studies: i64 = admin
        .query_one(&format!("SELECT count(*) FROM \"{schema}\".studies"), &[])
        .unwrap()
        .get(0);
    assert_eq!(studies, 0);
    admin
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .unwrap();
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

/// Runs study `name` (see [`write_study`]) to its end in `dir/store/studies.db`: its
/// study file, the store's folder and the database.
fn run_in_store_folder(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let store = dir.join("store");
    std::fs::create_dir(&store).unwrap();
    let study = write_study(dir, name, "sqlite:store/studies.db", 0.0);
    let out = run(
        hyperband().args(["run", study.to_str().unwrap(), "--json"]),
        dir,
    );
    assert!(out.status.success(), "{}", text(&out));
    let db = store.join("studies.db");
    (study, store, db)
}

#[test]
fn read_commands_work_in_a_read_only_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (study, store, db) = run_in_store_folder(dir.path(), "ro");
    let _restore = Writable(vec![store.clone(), db.clone()]);
    chmod(&db, 0o444);
    chmod(&store, 0o555);
    let before = listing(&store);

    let study = study.to_str().unwrap();
    for command in read_commands(dir.path()) {
        let out = run(hyperband().args(&command).arg(study), dir.path());
        assert!(out.status.success(), "{command:?} {}", text(&out));
    }
    let out = run(hyperband().args(["status", study, "--json"]), dir.path());
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["finished"], 22, "{status}");
    let rows: Value = serde_json::from_slice(
        &run(
            hyperband().args(["export", study, "--format", "json"]),
            dir.path(),
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 22);
    assert!(dir.path().join("report.html").exists());
    assert_eq!(listing(&store), before);
}

#[test]
fn a_read_only_folder_with_a_live_write_ahead_log_is_read_or_refused_naming_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (study, store, db) = run_in_store_folder(dir.path(), "wal");

    // A writer that keeps its connection (and so its WAL) open, as a run in progress does,
    // has just stored a limit that only its write-ahead log holds.
    let mut writer = hyperband::storage::SqliteStore::open(&db).unwrap();
    let id = {
        use hyperband::storage::EventStore;
        let (id, _) = writer.find_study("wal").unwrap();
        writer
            .append(
                id,
                &hyperband::storage::Event::LimitsSet {
                    limits: hyperband::Limits {
                        max_trials: Some(4),
                        ..Default::default()
                    },
                    max_seconds: None,
                },
            )
            .unwrap();
        id
    };
    assert!(id > 0);
    let wal = store.join("studies.db-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    // A copy of the database and its log, without the index (`-shm`) that a reader needs.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(&db, copy.join("studies.db")).unwrap();
    std::fs::copy(&wal, copy.join("studies.db-wal")).unwrap();

    let _restore = Writable(vec![store.clone(), copy.clone()]);
    chmod(&store, 0o555);
    chmod(&copy, 0o555);
    let out = run(
        hyperband().args(["status", study.to_str().unwrap(), "--json"]),
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        status["limits"]["max_trials"], 4,
        "the log's change is read: {status}"
    );

    let out = run(
        hyperband().args([
            "status",
            "--storage",
            "sqlite:copy/studies.db",
            "--study",
            "wal",
        ]),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("studies.db-shm")
            && err.contains("studies.db-wal")
            && err.contains("read-only"),
        "{err}"
    );
    assert_eq!(listing(&copy).len(), 2, "{:?}", listing(&copy));
    drop(writer);
}

/// Changes the first digit after `"loss":` in the payload of the first finished job in
/// the SQLite file `db`; its sequence number.
fn damage_a_loss(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    let (seq, payload): (i64, String) = conn
        .query_row(
            "SELECT seq, payload FROM events WHERE kind = 'job_finished' ORDER BY seq LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let at = payload.find("\"loss\":").unwrap() + "\"loss\":".len();
    let digit = payload[at..].find(|c: char| c.is_ascii_digit()).unwrap() + at;
    let mut bytes = payload.into_bytes();
    bytes[digit] = if bytes[digit] == b'9' {
        b'1'
    } else {
        bytes[digit] + 1
    };
    conn.execute(
        "UPDATE events SET payload = ?1 WHERE seq = ?2",
        rusqlite::params![String::from_utf8(bytes).unwrap(), seq],
    )
    .unwrap();
    seq
}

#[test]
fn a_damaged_event_is_reported_as_damage_naming_the_study_and_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path(), "dmg", "sqlite:studies.db", 0.0);
    let study = study.to_str().unwrap();
    let out = run(hyperband().args(["run", study, "--json"]), dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let seq = damage_a_loss(&dir.path().join("studies.db"));
    let expected = format!("study `dmg`: event #{seq} is damaged");
    for command in read_commands(dir.path()) {
        let out = run(hyperband().args(&command).arg(study), dir.path());
        assert_eq!(out.status.code(), Some(1), "{command:?} {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&expected), "{command:?}: {err}");
    }
    // A run refuses to go on from it, at once.
    let start = Instant::now();
    let out = run(hyperband().args(["run", study, "--json"]), dir.path());
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&expected),
        "{}",
        text(&out)
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_run_on_a_read_only_database_fails_at_once_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let study = write_study(dir.path(), "rodb", "sqlite:studies.db", 0.1);
    let study = study.to_str().unwrap();
    let spawn_run = || {
        hyperband()
            .args(["run", study, "--json"])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // A first run stopped after some results, to be resumed.
    let mut child = spawn_run();
    let db = dir.path().join("studies.db");
    wait_until(Duration::from_secs(30), "no results", || {
        let finished =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row(
                        "SELECT count(*) FROM events WHERE kind = 'job_finished'",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                })
                .unwrap_or(0);
        finished >= 3
    });
    child.kill().unwrap();
    child.wait().unwrap();

    let _restore = Writable(vec![db.clone()]);
    chmod(&db, 0o444);
    let start = Instant::now();
    let child = spawn_run();
    // Killed after 40 s if it hangs: what it printed until then.
    let out = wait_at_most(child, Duration::from_secs(40)).unwrap_or_else(|killed| killed);
    let took = start.elapsed();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}: {}",
        text(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("studies.db") && err.contains("the database file is read-only"),
        "{err}"
    );
}

#[test]
fn passwords_are_hidden_whatever_they_hold() {
    let dir = tempfile::tempdir().unwrap();
    for password in ["p@ss", "a:b@c", "x/y@z", "q@@r:s/t"] {
        // Nothing listens on port 1: the connection is refused, and the error names the URL.
        let url = format!("postgres://u:{password}@127.0.0.1:1/test?connect_timeout=2");
        for command in read_commands(dir.path()) {
            let out = run(
                hyperband()
                    .args(&command)
                    .args(["--storage", &url, "--study", "s"]),
                dir.path(),
            );
            assert!(!out.status.success());
            let all = text(&out);
            assert!(!all.contains(password), "{password}: {all}");
            assert!(all.contains("u:***@127.0.0.1:1/test"), "{password}: {all}");
        }
        // A URL of no known kind is shown redacted too.
        let out = run(
            hyperband().args([
                "status",
                "--storage",
                &format!("mysql://u:{password}@host/db"),
                "--study",
                "s",
            ]),
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(2));
        let all = text(&out);
        assert!(!all.contains(password), "{password}: {all}");
        assert!(all.contains("mysql://u:***@host/db"), "{password}: {all}");
    }
}

/// A full disk fails the run at once, saying so, instead of retrying or calling it an I/O
/// error. The disk is a 2 MiB tmpfs (this needs root, as CI and the developers' machines
/// run; without it the mount fails and so does the test).
#[test]
fn a_full_disk_fails_the_run_at_once_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&disk)
        .status()
        .unwrap();
    assert!(mounted.success(), "mounting a 2 MiB tmpfs needs root");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(disk.clone());
    // Each result carries 60 KB of metrics: the store fills the disk within a few dozen jobs.
    std::fs::write(
        disk.join("study.toml"),
        r#"name = "full"
storage = "sqlite:full.db"

[objective]
command = ["python3", "-c", "import json, sys; print(json.dumps({{'loss': float(sys.argv[1]), 'pad': 'x' * 60000}}))", "{x}"]

[space]
x = { type = "float", low = 0.0, high = 1.0 }

[algorithm]
scheduler = "full-budget"
max_budget = 1

[run]
workers = 1
max_trials = 500
"#,
    )
    .unwrap();
    let start = std::time::Instant::now();
    let out = output_of(&["run", disk.join("study.toml").to_str().unwrap(), "--plain"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert!(!out.status.success(), "{stderr}");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        stderr.contains("the disk is full") || stderr.contains("No space left on device"),
        "{stderr}"
    );
    assert!(!stderr.contains("disk I/O error"), "{stderr}");
}
