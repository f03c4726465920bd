//! One error type for all labs, so the CLI can report any of them the same way.

use std::path::PathBuf;

/// What can go wrong in a lab: only input files and figure output; the math itself is total.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("writing figure {path}: {message}")]
    Figure { path: PathBuf, message: String },
    #[error("invalid setting: {0}")]
    Invalid(String),
}
