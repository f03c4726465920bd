//! Where a stored study's job logs and checkpoints go: one folder per study *identity*
//! (the store it lives in and its name), `BASE/READABLE-HASH`.
//!
//! BASE is `STEM-runs/` beside a SQLite file, or `hyperband-runs/` in the given folder for a
//! server store. READABLE is the name with anything but ASCII letters, digits, `-`, `_` and
//! `.` replaced by `_` (no leading dots, at most [`READABLE_MAX`] characters, `study` if
//! nothing is left): a name for people, not the identity. HASH is 8 hex digits of a hash of
//! the identity, so that studies whose names differ only in punctuation (`p17 shared` and
//! `p17_shared`), or one name in two PostgreSQL schemas or databases run from one folder,
//! never share `logs/job-N.stdout` or `checkpoints/trial-N`: a job's output is its own,
//! so a result cannot be read off another study's job. The folder name always ends in the
//! hash, so no name (`..`, `.`, `/`, empty) reaches outside BASE.
//!
//! The CLI and the Python package both take their folder from here, so either one finds
//! the checkpoints the other wrote.

use super::url::{split_schema, DEFAULT_SCHEMA};
use super::StorageUrl;
use std::path::{Path, PathBuf};

/// The readable part is cut here, so that a long name still leaves room for the hash in
/// the 255 bytes most file systems allow a file name.
pub const READABLE_MAX: usize = 64;

/// Which study: the store that holds it and its name there. Two studies are the same
/// exactly when their identities are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StudyIdentity {
    /// The store as a canonical text: what tells stores apart, nothing that does not
    /// (a password, the user a server is reached as when the database is named).
    store: String,
    name: String,
}

impl StudyIdentity {
    pub fn new(url: &StorageUrl, name: &str) -> Self {
        let store = match url {
            // The run folder sits beside the database file, so the file's name is all that
            // tells two stores with one run base apart (`a.db` and `a.sqlite`). Leaving the
            // folder out keeps the hash when the whole project folder is moved.
            StorageUrl::Sqlite(path) => format!(
                "sqlite:{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            ),
            StorageUrl::Postgres(url) => postgres_identity(url),
        };
        Self {
            store,
            name: name.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `READABLE-HASH`, the study's folder under its run base.
    pub fn folder_name(&self) -> String {
        format!("{}-{:08x}", readable(&self.name), self.hash())
    }

    /// FNV-1a (64 bits, folded to 32) over the length-prefixed parts: written out rather
    /// than taken from `std`, whose hashers may change between Rust releases, because the
    /// folder must stay the same for every build that opens the study.
    fn hash(&self) -> u32 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [&self.store, &self.name] {
            let bytes = (part.len() as u64)
                .to_le_bytes()
                .into_iter()
                .chain(part.bytes());
            for b in bytes {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        (h ^ (h >> 32)) as u32
    }
}

/// A study's run folder, found only through [`RunDir::of_study`], so that nothing builds
/// one from a bare name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// The run folder of study `name` in `url`; `local` is where a server store's runs go
    /// (the study file's folder, or the current one).
    ///
    /// A folder that an earlier version used for this study (`BASE/NAME`) is moved to the
    /// new place when the new one does not exist yet, so that the checkpoints of trials in
    /// flight carry over. Only when NAME needed no sanitizing (and starts with no dot):
    /// then the old folder is the study's own by name, while `p17 shared`'s old folder
    /// `p17_shared` cannot be told apart from the study `p17_shared`'s and is left where it
    /// is. Results are in the store; only unfinished trials' checkpoints are at stake. The
    /// move is one rename, so workers that start together cannot split the folder.
    pub fn of_study(url: &StorageUrl, name: &str, local: &Path) -> Self {
        let base = match url {
            StorageUrl::Sqlite(path) => {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "hyperband".into());
                path.parent()
                    .unwrap_or(Path::new("."))
                    .join(format!("{stem}-runs"))
            }
            StorageUrl::Postgres(_) => local.join("hyperband-runs"),
        };
        let path = base.join(StudyIdentity::new(url, name).folder_name());
        let owned_by_name = !name.is_empty() && !name.starts_with('.') && legacy_name(name) == name;
        let legacy = base.join(name);
        if owned_by_name && legacy.is_dir() && !path.exists() {
            // Losing the race to another worker leaves `legacy` gone and `path` in place.
            let _ = std::fs::rename(&legacy, &path);
        }
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Each job's `job-N.stdout` and `job-N.stderr`.
    pub fn logs(&self) -> PathBuf {
        self.path.join("logs")
    }

    /// Each trial's `trial-N` checkpoint folder.
    pub fn checkpoints(&self) -> PathBuf {
        self.path.join("checkpoints")
    }
}

/// The name as a file name, readable: see the module's documentation.
fn readable(name: &str) -> String {
    let text: String = legacy_name(name)
        .trim_start_matches('.')
        .chars()
        .take(READABLE_MAX)
        .collect();
    if text.is_empty() {
        "study".to_string()
    } else {
        text
    }
}

/// How earlier versions named a study's folder (the whole name, sanitized).
fn legacy_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `postgres://[USER[:PASSWORD]@]HOST[:PORT][/DB][?PARAMS]` as the server, database and
/// schema it names: the password is dropped (changing it moves no folder), the schema made
/// explicit and the other parameters sorted. The user stays, since a URL without a
/// database means the user's database.
fn postgres_identity(url: &str) -> String {
    let (base, schema) = split_schema(url);
    let rest = base.split_once("://").map_or(base.as_str(), |(_, r)| r);
    let (target, query) = rest.split_once('?').unwrap_or((rest, ""));
    let target = match target.rsplit_once('@') {
        Some((auth, host)) => {
            let user = auth.split_once(':').map_or(auth, |(u, _)| u);
            format!("{user}@{host}")
        }
        None => target.to_string(),
    };
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.to_ascii_lowercase().starts_with("password="))
        .collect();
    params.sort_unstable();
    params.push("");
    format!(
        "postgres://{target}?{}schema={}",
        params.join("&"),
        schema.as_deref().unwrap_or(DEFAULT_SCHEMA)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(url: &str) -> StorageUrl {
        StorageUrl::Postgres(url.to_string())
    }

    fn folder(url: &StorageUrl, name: &str) -> String {
        StudyIdentity::new(url, name).folder_name()
    }

    #[test]
    fn names_that_sanitize_alike_get_their_own_folders() {
        let db = StorageUrl::Sqlite("/x/hyperband.db".into());
        let (a, b) = (folder(&db, "p17 shared"), folder(&db, "p17_shared"));
        assert_ne!(a, b);
        assert!(a.starts_with("p17_shared-") && b.starts_with("p17_shared-"));
        assert_eq!(a.len(), "p17_shared-".len() + 8);
    }

    #[test]
    fn the_same_name_in_two_schemas_or_databases_is_two_studies() {
        let names = [
            folder(&pg("postgres://u@h/test?schema=a"), "mlp"),
            folder(&pg("postgres://u@h/test?schema=b"), "mlp"),
            folder(&pg("postgres://u@h/test"), "mlp"),
            folder(&pg("postgres://u@h/other"), "mlp"),
            folder(&pg("postgres://u@h:5433/test"), "mlp"),
        ];
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn what_does_not_tell_stores_apart_does_not_move_the_folder() {
        let plain = folder(&pg("postgres://u@h/test"), "mlp");
        assert_eq!(plain, folder(&pg("postgres://u:secret@h/test"), "mlp"));
        assert_eq!(
            plain,
            folder(&pg("postgresql://u@h/test?schema=hyperband"), "mlp")
        );
        assert_eq!(
            folder(
                &pg("postgres://u@h/test?sslmode=disable&schema=s&application_name=x"),
                "m"
            ),
            folder(
                &pg("postgres://u:pw@h/test?application_name=x&sslmode=disable&schema=s"),
                "m"
            ),
        );
        assert_eq!(
            folder(&StorageUrl::Sqlite("/a/hb.db".into()), "mlp"),
            folder(&StorageUrl::Sqlite("/b/hb.db".into()), "mlp"),
        );
        assert_ne!(
            folder(&StorageUrl::Sqlite("/a/hb.db".into()), "mlp"),
            folder(&StorageUrl::Sqlite("/a/hb.sqlite".into()), "mlp"),
        );
    }

    #[test]
    fn no_name_leaves_its_run_base() {
        let db = StorageUrl::Sqlite("/x/s.db".into());
        for name in ["..", ".", "/", "", "../../etc", "a/../..", "...", "\0"] {
            let dir = RunDir::of_study(&db, name, Path::new("/"));
            let last = dir.path().file_name().unwrap().to_string_lossy();
            assert_eq!(
                dir.path().parent(),
                Some(Path::new("/x/s-runs")),
                "{name:?}"
            );
            assert!(
                !last.starts_with('.') && !last.contains('/'),
                "{name:?}: {last}"
            );
        }
        assert!(folder(&db, "..").starts_with("study-"));
        let long = "n".repeat(300);
        assert_eq!(folder(&db, &long).len(), READABLE_MAX + 9);
    }

    #[test]
    fn an_old_folder_moves_only_to_the_study_it_was_named_after() {
        let tmp = tempfile::tempdir().unwrap();
        let db = StorageUrl::Sqlite(tmp.path().join("s.db"));
        let base = tmp.path().join("s-runs");
        std::fs::create_dir_all(base.join("p17_shared/checkpoints/trial-0")).unwrap();
        let punctuated = RunDir::of_study(&db, "p17 shared", tmp.path());
        assert!(!punctuated.checkpoints().exists());
        assert!(base.join("p17_shared").exists());
        let exact = RunDir::of_study(&db, "p17_shared", tmp.path());
        assert!(exact.checkpoints().join("trial-0").is_dir());
        assert!(!base.join("p17_shared").exists());
        // Once moved, the study keeps its folder.
        assert_eq!(RunDir::of_study(&db, "p17_shared", tmp.path()), exact);
    }
}
