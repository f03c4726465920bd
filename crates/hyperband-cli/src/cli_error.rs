//! Exit statuses: 0 success, 1 a run that failed, 2 bad input (usage, study file, storage
//! URL). Errors caused by what the user gave us are wrapped in [`BadInput`] on their way up.

use std::fmt;

/// Marks an error as the user's input being wrong (exit status 2).
#[derive(Debug)]
pub struct BadInput(pub anyhow::Error);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for BadInput {}

/// Wraps `err` as bad input: `result.map_err(bad_input)?`.
pub fn bad_input(err: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(BadInput(err.into()))
}

/// The exit status for an error that reached `main`.
pub fn exit_status(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| e.is::<BadInput>()) {
        2
    } else {
        1
    }
}
