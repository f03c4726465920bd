//! A stored study's stop criteria: the last `LimitsSet` event of its log.
//!
//! Limits live in the log rather than in the stored definition because they change: a
//! finished study is resumed with a larger budget. Every replica applies them as it
//! replays (a worker that was given no study file included); none of them changes a
//! replayed decision.

use super::{now, Event, EventStore, StorageError, StoredEvent};
use crate::study::Limits;

/// Stop criteria as a run sets them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StoredLimits {
    pub limits: Limits,
    /// Workers take no new job once this many seconds have passed since the limits were set.
    pub max_seconds: Option<f64>,
}

impl StoredLimits {
    fn event(&self) -> Event {
        Event::LimitsSet {
            limits: self.limits,
            max_seconds: self.max_seconds,
        }
    }
}

/// The limits the log's last `LimitsSet` holds (none for a study no run has limited).
pub fn last_limits(events: &[StoredEvent]) -> Option<StoredLimits> {
    events.iter().rev().find_map(|e| match e.event {
        Event::LimitsSet {
            limits,
            max_seconds,
        } => Some(StoredLimits {
            limits,
            max_seconds,
        }),
        _ => None,
    })
}

/// Makes `limits` the study's limits from now on; returns whether an event was written.
/// A time limit is always written again, since it counts from now.
pub fn set_limits<S: EventStore>(
    store: &mut S,
    study: i64,
    limits: StoredLimits,
) -> Result<bool, StorageError> {
    store.locked(study, 0, &mut |log, events| {
        let unchanged =
            limits.max_seconds.is_none() && last_limits(&events).unwrap_or_default() == limits;
        if unchanged {
            return Ok(false);
        }
        log.append(&limits.event(), now())?;
        Ok(true)
    })
}
