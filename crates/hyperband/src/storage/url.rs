//! Storage URLs: `sqlite:PATH` (the embedded default) or `postgres://...`.

use super::StorageError;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl StorageUrl {
    /// Parses `url`; a relative SQLite path is taken relative to `base` (the study file's
    /// folder), so that a study file means the same wherever it is run from.
    pub fn parse(url: &str, base: &Path) -> Result<Self, StorageError> {
        let bad = |problem: &str| StorageError::BadUrl {
            url: url.to_string(),
            problem: problem.to_string(),
        };
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
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

    /// The URL with any password replaced, for messages and logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite:{}", p.display()),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.split_once('@') {
        Some(parts) => parts,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
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
            StorageUrl::parse("sqlite:///tmp/x.db", base).unwrap(),
            StorageUrl::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert!(StorageUrl::parse("sqlite:", base).is_err());
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
}
