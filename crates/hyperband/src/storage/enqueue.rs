//! Configurations enqueued in a stored study: `Enqueued` events, which every replica
//! applies in log order, so that whichever worker decides next starts them.

use super::event::{config_json, Event};
use super::{now, EventStore, StorageError};
use crate::config::Config;

/// Appends an `Enqueued` event for each of `configs` that the log does not hold yet
/// (enqueued earlier, started or not), so that running a study file again, or a script
/// that enqueues on every start, does not evaluate them twice. Returns how many it added.
pub fn enqueue<S: EventStore>(
    store: &mut S,
    study: i64,
    configs: &[Config],
) -> Result<usize, StorageError> {
    store.locked(study, 0, &mut |log, events| {
        let mut known: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Enqueued { config } => Some(config.clone()),
                _ => None,
            })
            .collect();
        let mut added = 0;
        let t = now();
        for config in configs {
            let json = config_json(config);
            if known.contains(&json) {
                continue;
            }
            log.append(
                &Event::Enqueued {
                    config: json.clone(),
                },
                t,
            )?;
            known.push(json);
            added += 1;
        }
        Ok(added)
    })
}
