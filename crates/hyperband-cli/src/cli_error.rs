//! Exit statuses: 0 success, 1 a run that failed, 2 bad input (usage, study file, storage
//! URL). Errors caused by what the user gave us are wrapped in [`BadInput`] on their way up.

use hyperband::storage::{OpenError, StorageUrl};
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

/// An outcome the command has already told the user about: exit with this status and
/// print nothing more (`check` when the study's command does not work).
#[derive(Debug)]
pub struct Told(pub u8);

impl fmt::Display for Told {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Told {}

/// Whether `err` has been told already (nothing more to print).
pub fn is_told(err: &anyhow::Error) -> bool {
    err.is::<Told>()
}

/// The exit status for an error that reached `main`.
pub fn exit_status(err: &anyhow::Error) -> u8 {
    if let Some(Told(status)) = err.downcast_ref::<Told>() {
        *status
    } else if err.chain().any(|e| e.is::<BadInput>()) {
        2
    } else {
        1
    }
}

/// What a user reads when a study cannot be opened, with what to do about it.
pub fn opening_error(url: &StorageUrl, e: OpenError) -> anyhow::Error {
    match e {
        // Results judged by another definition than the one that produced them would
        // not mean the same thing.
        OpenError::Changed { name, changed } => bad_input(anyhow::anyhow!(
            "study `{name}` in {} was created with a different definition (changed: {}); \
             its stored results would not mean the same thing. Give the study a new name, or \
             run with --fork to start a copy under a new name",
            url.redacted(),
            changed.join(", ")
        )),
        // A missing, foreign or damaged store is the user's to fix; a server that did not
        // answer may answer next time.
        OpenError::Storage(e) if e.is_permanent() => {
            bad_input(anyhow::anyhow!("{}: {e}", url.redacted()))
        }
        OpenError::Storage(e) => anyhow::anyhow!("{}: {e}", url.redacted()),
        e @ OpenError::Unbuildable { .. } => bad_input(anyhow::Error::from(e)),
        e @ OpenError::Unreadable { .. } => e.into(),
    }
}
