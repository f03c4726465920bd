//! One study as the dashboard shows it: a replica kept in step with the stored log by
//! reading only what is new, and the page's data rebuilt only when the log moved on.

use crate::report::data::page_json;
use hyperband::storage::{AnyStore, Replica, StorageUrl, StoredEvent, StoredStudy};
use serde_json::Value;

pub struct LiveStudy {
    study: StoredStudy,
    /// The log's events read so far, to rebuild a view that includes waiting results.
    log: Vec<StoredEvent>,
    /// The study as of the log (results waiting outside it not applied).
    settled: Replica,
    /// The event number of the data last built (waiting results counted), and that data.
    seq: u64,
    data: Option<Value>,
}

impl LiveStudy {
    /// The stored study `name`, not read yet.
    pub fn open(store: &mut AnyStore, name: &str) -> anyhow::Result<Self> {
        let study = StoredStudy::find(store, name)?;
        let settled = study.replica();
        Ok(Self {
            study,
            log: Vec::new(),
            settled,
            seq: 0,
            data: None,
        })
    }

    /// Reads what is new in the store and returns the page's data as of now, with its
    /// event number: the log's last event, plus the results stored but not yet in the log
    /// (PostgreSQL's inbox), which count as the events they will become.
    pub fn refresh(
        &mut self,
        store: &mut AnyStore,
        url: &StorageUrl,
    ) -> anyhow::Result<(u64, &Value)> {
        let peeked = store.peek_events(self.study.id, self.settled.cursor())?;
        for event in peeked.log {
            self.settled.apply(&event)?;
            self.log.push(event);
        }
        let seq = peeked
            .pending
            .last()
            .map_or(self.settled.cursor(), |e| e.seq);
        if self.data.is_none() || seq != self.seq {
            let data = if peeked.pending.is_empty() {
                page_json(&self.settled, &self.study.spec, url)
            } else {
                // Waiting results are not the log's yet: they go into a copy of the study,
                // never into the replica that follows the log.
                let mut view = self.study.replica();
                for event in self.log.iter().chain(&peeked.pending) {
                    view.apply(event)?;
                }
                page_json(&view, &self.study.spec, url)
            };
            self.seq = seq;
            self.data = Some(data);
        }
        Ok((self.seq, self.data.as_ref().expect("just built")))
    }
}
