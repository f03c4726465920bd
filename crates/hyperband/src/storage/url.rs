//! Storage URLs: `sqlite:PATH` (the embedded default) or `postgres://...`. SQLAlchemy's
//! SQLite forms, which every Optuna user has, mean what SQLAlchemy means: `sqlite:///rel.db`
//! is a relative path, `sqlite:////abs.db` an absolute one.

use super::StorageError;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl StorageUrl {
    /// Parses `url`; a relative SQLite path is taken relative to `base` (the study file's
    /// folder), so that a study file means the same wherever it is run from. An in-memory
    /// SQLite URL ([`is_memory`](Self::is_memory)) is refused: such a database lives in one
    /// connection, and every worker has its own.
    pub fn parse(url: &str, base: &Path) -> Result<Self, StorageError> {
        let bad = |problem: &str| StorageError::BadUrl {
            url: redact(url),
            problem: problem.to_string(),
        };
        if Self::is_memory(url) {
            return Err(bad(
                "an in-memory SQLite database lives in one connection and every worker opens \
                 its own; give a file (`sqlite:study.db`), or no storage for a study in memory",
            ));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            // SQLAlchemy: `sqlite:///` + the path, so `sqlite:///rel.db` and `sqlite:////abs.db`.
            let path = match rest.strip_prefix("///") {
                Some(path) => path,
                None => rest.strip_prefix("//").unwrap_or(rest),
            };
            if path.is_empty() {
                return Err(bad("no file path after `sqlite:`"));
            }
            let path = Path::new(path);
            return Ok(Self::Sqlite(if path.is_absolute() {
                path.to_path_buf()
            } else {
                base.join(path)
            }));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        Err(bad(
            "expected `sqlite:PATH` or `postgres://USER@HOST/DATABASE`",
        ))
    }

    /// Whether `url` names an in-memory SQLite database as SQLAlchemy and SQLite write it:
    /// `sqlite://`, `sqlite:///:memory:`, `sqlite::memory:`.
    pub fn is_memory(url: &str) -> bool {
        matches!(
            url,
            "sqlite://" | "sqlite:///:memory:" | "sqlite::memory:" | "sqlite://:memory:"
        )
    }

    /// The URL with any password replaced, for messages and logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite:{}", p.display()),
            Self::Postgres(url) => redact(url),
        }
    }
}

/// `url` with its password hidden, wherever it is written: the one function that every
/// message, status line and page naming a storage URL goes through.
///
/// A password is everything between `://USER:` and the *last* `@` of the URL, not the
/// first: passwords may hold `@`, `:` and `/` unencoded (libpq takes them), and cutting at
/// the first `@` would print the rest. A host name never holds `@`, so the last one is
/// where the credentials end; should a path or parameter hold one, more is hidden, never
/// less. `password=` parameters (`?password=...`, or a `key=value` connection string) are
/// hidden too.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return hide_password_params(url, ' ');
    };
    let url = match rest.rsplit_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    };
    match url.split_once('?') {
        Some((base, query)) => format!("{base}?{}", hide_password_params(query, '&')),
        None => url,
    }
}

/// `key=value` pairs separated by `sep`, with the value of `password` hidden.
fn hide_password_params(text: &str, sep: char) -> String {
    text.split(sep)
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.trim().eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

/// Where a server store's tables go unless the URL says `?schema=NAME`.
pub const DEFAULT_SCHEMA: &str = "hyperband";

/// Splits our `schema=NAME` parameter off a server URL.
pub(super) fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_string());
                false
            }
            None => !kv.is_empty(),
        })
        .collect();
    if rest.is_empty() {
        (base.to_string(), schema)
    } else {
        (format!("{base}?{}", rest.join("&")), schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_relative_to_the_study_file() {
        let base = Path::new("/home/me/study");
        assert_eq!(
            StorageUrl::parse("sqlite:hyperband.db", base).unwrap(),
            StorageUrl::Sqlite(PathBuf::from("/home/me/study/hyperband.db"))
        );
        assert_eq!(
            StorageUrl::parse("sqlite:/tmp/x.db", base).unwrap(),
            StorageUrl::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        // SQLAlchemy's forms mean what they mean there, not a file at the root.
        assert_eq!(
            StorageUrl::parse("sqlite:///x.db", base).unwrap(),
            StorageUrl::Sqlite(PathBuf::from("/home/me/study/x.db"))
        );
        assert_eq!(
            StorageUrl::parse("sqlite:////tmp/x.db", base).unwrap(),
            StorageUrl::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert!(StorageUrl::parse("sqlite:", base).is_err());
        assert!(StorageUrl::parse("sqlite:///", base).is_err());
        for memory in ["sqlite://", "sqlite:///:memory:", "sqlite::memory:"] {
            assert!(StorageUrl::is_memory(memory));
            let err = StorageUrl::parse(memory, base).unwrap_err().to_string();
            assert!(err.contains("in-memory SQLite"), "{memory}: {err}");
        }
        let err = StorageUrl::parse("mysql://x", base)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mysql://x") && err.contains("sqlite:PATH"),
            "{err}"
        );
    }

    #[test]
    fn passwords_never_show() {
        let url = StorageUrl::parse("postgres://bob:hunter2@db:5432/hb", Path::new("/")).unwrap();
        assert_eq!(url.redacted(), "postgres://bob:***@db:5432/hb");
        assert!(!url.redacted().contains("hunter2"));
    }

    #[test]
    fn passwords_holding_at_colon_and_slash_are_hidden_whole() {
        for (url, shown) in [
            ("postgres://u:p@ss@host/db", "postgres://u:***@host/db"),
            (
                "postgres://u:a:b@c@host:5432/db",
                "postgres://u:***@host:5432/db",
            ),
            (
                "postgresql://u:x/y@z@host/db?schema=s",
                "postgresql://u:***@host/db?schema=s",
            ),
            ("postgres://u:@@@host/db", "postgres://u:***@host/db"),
            ("postgres://bob@db/hb", "postgres://bob@db/hb"),
            (
                "postgres://bob@db/hb?password=p@ss&connect_timeout=2",
                "postgres://bob@db/hb?password=***&connect_timeout=2",
            ),
            (
                "host=db user=bob password=p@ss:w/rd",
                "host=db user=bob password=***",
            ),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
    }

    #[test]
    fn a_bad_url_is_shown_without_its_password() {
        let err = StorageUrl::parse("mysql://u:s3cr@t@h/db", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cr") && !err.contains("t@h"), "{err}");
        assert!(err.contains("mysql://u:***@h/db"), "{err}");
    }
}
