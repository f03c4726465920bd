//! The one way to open a stored study: create it or find it in a store, read its stored
//! definition, and make replicas of it. `run`, `worker`, the read commands, the dashboard
//! and the Python package all come through here, so a rule about opening (a changed
//! definition is refused, an unreadable one is named) is written once.

use super::{EventStore, Replica, StorageError};
use crate::spec::{changed_keys, SpecError, StudySpec};
use crate::study::Limits;

/// Why a stored study cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The stored definition does not read as a study definition (a newer version wrote
    /// it, or it was edited).
    #[error("study `{name}`: the stored definition is unreadable: {problem}")]
    Unreadable { name: String, problem: String },
    /// The stored definition reads but cannot become a study.
    #[error("study `{name}`: the stored definition cannot be built: {source}")]
    Unbuildable {
        name: String,
        #[source]
        source: SpecError,
    },
    /// The store holds a study of that name with another definition: its results would
    /// not mean the same thing under this one. Each front end says what to do instead.
    #[error("study `{name}` was created with a different definition (changed: {})", changed.join(", "))]
    Changed { name: String, changed: Vec<String> },
}

/// A study as its store keeps it: its name, its id in the store, and its definition.
#[derive(Debug, Clone)]
pub struct StoredStudy {
    pub name: String,
    pub id: i64,
    pub spec: StudySpec,
}

impl StoredStudy {
    /// Creates study `name` with `spec`, or opens the stored one if its definition is the
    /// same; a stored study with another definition is refused ([`OpenError::Changed`]).
    pub fn open_or_create<S: EventStore>(
        store: &mut S,
        name: &str,
        spec: &StudySpec,
    ) -> Result<Self, OpenError> {
        spec.validate().map_err(|source| OpenError::Unbuildable {
            name: name.to_string(),
            source,
        })?;
        let (id, stored) = store.open_study(name, &spec.to_json())?;
        let found = Self::read(name, id, stored)?;
        found.same_definition(spec)?;
        Ok(found)
    }

    /// The stored study `name`, its definition read and checked.
    pub fn find<S: EventStore>(store: &mut S, name: &str) -> Result<Self, OpenError> {
        let (id, stored) = store.find_study(name)?;
        Self::read(name, id, stored)
    }

    /// Whether `spec` defines this study: the same decisions from the same log. Compared
    /// as the store writes definitions, after reading the stored one, so that a key a
    /// later version writes with its default value is no change.
    pub fn same_definition(&self, spec: &StudySpec) -> Result<(), OpenError> {
        let (stored, wanted) = (self.spec.to_json(), spec.to_json());
        if stored == wanted {
            return Ok(());
        }
        Err(OpenError::Changed {
            name: self.name.clone(),
            changed: changed_keys(&stored, &wanted),
        })
    }

    fn read(name: &str, id: i64, stored: serde_json::Value) -> Result<Self, OpenError> {
        let spec: StudySpec =
            serde_json::from_value(stored).map_err(|e| OpenError::Unreadable {
                name: name.to_string(),
                problem: e.to_string(),
            })?;
        spec.validate().map_err(|source| OpenError::Unbuildable {
            name: name.to_string(),
            source,
        })?;
        Ok(Self {
            name: name.to_string(),
            id,
            spec,
        })
    }

    /// An empty replica of the study. Its limits come from the log as it replays
    /// (`LimitsSet`), as every replica's do.
    pub fn replica(&self) -> Replica {
        Replica::new(&self.name, self.build())
    }

    /// Makes empty replicas, for a store worker that rebuilds its own.
    pub fn replicas(&self) -> Box<dyn Fn() -> Replica + Send> {
        let this = self.clone();
        Box::new(move || this.replica())
    }

    /// A replica brought up to the store's log.
    pub fn synced<S: EventStore>(&self, store: &mut S) -> Result<Replica, StorageError> {
        let mut replica = self.replica();
        replica.sync(store, self.id)?;
        Ok(replica)
    }

    fn build(&self) -> crate::Study {
        self.spec
            .build(Limits::default())
            .expect("the definition was checked when the study was opened")
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::spec::{AlgorithmFields, SamplerKind, SchedulerKind};
    use crate::storage::SqliteStore;
    use crate::Param;

    fn spec(seed: u64) -> StudySpec {
        StudySpec::new(
            seed,
            vec![Param::log_float("lr", 1e-3, 1e-1)],
            AlgorithmFields::new(SchedulerKind::Hyperband, SamplerKind::Random, 1.0, 9.0)
                .try_into()
                .unwrap(),
        )
    }

    #[test]
    fn opens_what_it_created_and_refuses_another_definition() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let made = StoredStudy::open_or_create(&mut store, "s", &spec(1)).unwrap();
        let again = StoredStudy::open_or_create(&mut store, "s", &spec(1)).unwrap();
        assert_eq!(made.id, again.id);
        match StoredStudy::open_or_create(&mut store, "s", &spec(2)) {
            Err(OpenError::Changed { name, changed }) => {
                assert_eq!((name.as_str(), changed), ("s", vec!["seed".to_string()]));
            }
            other => panic!("{other:?}"),
        }
        let found = StoredStudy::find(&mut store, "s").unwrap();
        assert_eq!((found.id, &found.spec), (made.id, &spec(1)));
        assert_eq!(found.replica().study().stats().jobs, 0);
        assert!(matches!(
            StoredStudy::find(&mut store, "nope"),
            Err(OpenError::Storage(StorageError::NoSuchStudy(_)))
        ));
    }
}
