//! Hyperparameter optimization: search spaces, samplers (what to try), schedulers (how much
//! budget to spend on whom: random search, successive halving, Hyperband, ASHA), and the
//! ask/tell [`Study`] that joins them.
//!
//! ```
//! use hyperband::{Budgets, BracketSizes, Hyperband, Param, Random, Settings, Space, Study};
//! use hyperband::executor::ThreadExecutor;
//!
//! let space = Space::new(vec![Param::log_float("lr", 1e-3, 1e-1)]).unwrap();
//! let budgets = Budgets::new(1.0, 27.0, 3).unwrap();
//! let scheduler = Hyperband::new(budgets, BracketSizes::Algorithm).with_max_brackets(4);
//! let mut study = Study::new(space, Box::new(Random), Box::new(scheduler), Settings::default());
//! ThreadExecutor::new(2).run(
//!     &mut study,
//!     |job| {
//!         let lr = job.config.f64("lr").unwrap();
//!         Ok((lr.log10() + 2.0).powi(2) + 1.0 / job.budget).map(Into::into)
//!     },
//!     &mut |_, _, _| {},
//! );
//! assert!(study.incumbent().unwrap().budget == 27.0);
//! ```

pub mod config;
pub mod executor;
pub mod history;
pub mod importance;
pub mod job;
pub mod objective;
pub mod pareto;
pub mod rng;
pub mod sampler;
pub mod scheduler;
pub mod space;
pub mod spec;
pub mod storage;
pub mod study;

pub use config::{Config, Value};
pub use history::{History, Observation};
pub use importance::{ImportanceError, ImportanceOptions, Importances};
pub use job::{Evaluation, Job, JobId, Outcome, TrialId};
pub use sampler::{Gp, GpConfig, MfGp, MfGpConfig, Random, Sampler, Tpe, TpeConfig};
pub use scheduler::{
    hyperband_brackets, Asha, BracketPlan, BracketSizes, Budgets, Decision, FullBudget, Hyperband,
    PlanError, Ruling, Scheduler, Stopping, SuccessiveHalving,
};
pub use space::{Domain, Param, Space, SpaceError};
pub use spec::{
    AlgorithmFields, AlgorithmSpec, CommandSpec, Direction, Mode, ObjectiveSpec, SamplerKind,
    SchedulerKind, SpecError, StudySpec,
};
pub use study::{
    CostModel, JobRecord, JobState, Limits, ReplayError, Settings, Stats, Study, TellError, Told,
};
