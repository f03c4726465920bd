//! How both stores turn an event's stored text back into an event: the checksum kept
//! beside each payload, the check and the parse, and the name of the study in their errors.

use super::event::Event;
use super::StorageError;

/// The checksum both stores keep beside each event: CRC-32 (IEEE, as `crc32fast` and zlib
/// compute it, fixed for good) of the payload's bytes, the event's JSON as written. It
/// covers the payload only, because that is all a writer knows: PostgreSQL numbers a
/// result when the inbox is drained, after its worker wrote it. A digit changed in a
/// stored loss changes the payload, so the event reads as damaged instead of being believed.
pub fn checksum(payload: &str) -> i64 {
    i64::from(crc32fast::hash(payload.as_bytes()))
}

/// The event stored as `payload` beside `crc` (`None` for an event written before
/// checksums existed, which is taken as it is), checked and parsed: the one place where
/// both stores turn stored text back into an event. `name` and `seq` name the event in
/// the error.
pub(crate) fn decode(
    payload: &str,
    crc: Option<i64>,
    name: &str,
    seq: u64,
) -> Result<Event, StorageError> {
    if crc.is_some_and(|crc| crc != checksum(payload)) {
        return Err(StorageError::Damaged {
            name: name.to_string(),
            seq,
        });
    }
    serde_json::from_str(payload).map_err(|e| StorageError::CorruptEvent {
        name: name.to_string(),
        seq,
        problem: e.to_string(),
    })
}

/// The study of an error about one of its events, named `name` instead of by the `#id`
/// the store's read path knew it by (a store reads events by study id).
pub(crate) fn name_study(
    error: StorageError,
    id: i64,
    name: impl FnOnce() -> Option<String>,
) -> StorageError {
    let by_id = format!("#{id}");
    match error {
        StorageError::Damaged { name: n, seq } if n == by_id => StorageError::Damaged {
            name: name().unwrap_or(n),
            seq,
        },
        StorageError::CorruptEvent {
            name: n,
            seq,
            problem,
        } if n == by_id => StorageError::CorruptEvent {
            name: name().unwrap_or(n),
            seq,
            problem,
        },
        other => other,
    }
}
