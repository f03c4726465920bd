//! A study's definition as data: what the store keeps, so that any worker (or `status`, or
//! `export`) can rebuild the study from the database alone, and so that resuming with a
//! changed definition can be refused.

mod objective;

pub use objective::{CommandSpec, Direction, MetricSpec, ObjectiveSpec};

use crate::sampler::{Gp, MfGp, Random, Sampler, Tpe};
use crate::scheduler::{
    Asha, BracketSizes, Budgets, FullBudget, Hyperband, PlanError, Scheduler, Stopping,
    SuccessiveHalving,
};
use crate::space::{Param, Space, SpaceError};
use crate::study::{CostModel, Limits, Settings, Study};
use serde::{Deserialize, Serialize};

/// Budget-allocation algorithms by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SchedulerKind {
    FullBudget,
    Sha,
    Hyperband,
    Asha,
    AsyncHyperband,
}

impl SchedulerKind {
    pub const NAMES: &'static str = "full-budget, sha, hyperband, asha, async-hyperband";

    pub fn name(&self) -> &'static str {
        match self {
            Self::FullBudget => "full-budget",
            Self::Sha => "sha",
            Self::Hyperband => "hyperband",
            Self::Asha => "asha",
            Self::AsyncHyperband => "async-hyperband",
        }
    }
}

/// Samplers by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SamplerKind {
    Random,
    Tpe,
    Gp,
    /// One GP over (configuration, budget), fit on every rung: see [`MfGp`].
    MfGp,
}

impl SamplerKind {
    pub const NAMES: &'static str = "random, tpe, gp, mf-gp";
}

/// How a multi-fidelity scheduler moves a trial up its rungs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A promoted trial runs again at the next rung's budget (from its checkpoint, if the
    /// objective resumes).
    #[default]
    Promote,
    /// A trial runs once, to the largest budget, and is stopped at a rung it does not
    /// pass: for programs that cannot resume (see [`crate::scheduler::Stopping`]).
    Stop,
}

impl Mode {
    pub fn is_promote(&self) -> bool {
        *self == Mode::Promote
    }
}

fn default_eta() -> u32 {
    3
}

/// The `[algorithm]` of a study as written: plain fields, checked by nothing. It becomes an
/// [`AlgorithmSpec`] only through [`AlgorithmSpec::try_from`], which holds every rule. A
/// key this version does not know (a newer one wrote it) is refused, not dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlgorithmFields {
    pub scheduler: SchedulerKind,
    pub sampler: SamplerKind,
    pub min_budget: f64,
    pub max_budget: f64,
    #[serde(default = "default_eta")]
    pub eta: u32,
    #[serde(default)]
    pub bracket_sizes: BracketSizes,
    /// Configurations of a successive-halving run (`sha` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_configs: Option<u64>,
    /// Stop Hyperband after this many brackets (unbounded by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_brackets: Option<u64>,
    /// Absent from stored definitions written before stopping rules (they promote).
    #[serde(default, skip_serializing_if = "Mode::is_promote")]
    pub mode: Mode,
    /// Every rung a whole number ([`Budgets::whole`]); absent when false, as in stored
    /// definitions written before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub integer_budgets: bool,
}

/// The `[algorithm]` of a study, valid by construction: its [`Budgets`] are checked once,
/// here, and kept, and the scheduler's own keys agree with the scheduler (`n_configs` for
/// `sha` only, `mode = "stop"` for `asha` and `hyperband` only). Stored as the
/// [`AlgorithmFields`] it was made from, so stored definitions read unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AlgorithmFields", into = "AlgorithmFields")]
pub struct AlgorithmSpec {
    scheduler: SchedulerKind,
    sampler: SamplerKind,
    budgets: Budgets,
    bracket_sizes: BracketSizes,
    n_configs: Option<u64>,
    max_brackets: Option<u64>,
    mode: Mode,
}

impl TryFrom<AlgorithmFields> for AlgorithmSpec {
    type Error = SpecError;

    /// Every rule of `[algorithm]`, the one place they are written; each error names its
    /// key ([`SpecError::key`]), which is how a study file points at the line.
    fn try_from(f: AlgorithmFields) -> Result<Self, SpecError> {
        if let Some(e) = f.problems().into_iter().next() {
            return Err(e);
        }
        let budgets = f.budgets()?;
        Ok(Self {
            scheduler: f.scheduler,
            sampler: f.sampler,
            budgets,
            bracket_sizes: f.bracket_sizes,
            n_configs: f.n_configs,
            max_brackets: f.max_brackets,
            mode: f.mode,
        })
    }
}

impl AlgorithmFields {
    /// Every rule these fields break, each once (a study file reports them all at once).
    pub fn problems(&self) -> Vec<SpecError> {
        let mut problems = Vec::new();
        if let Err(e) = self.budgets() {
            problems.push(e);
        }
        match (self.scheduler, self.n_configs) {
            (SchedulerKind::Sha, None) => problems.push(SpecError::MissingNConfigs),
            (SchedulerKind::Sha, Some(0)) => problems.push(PlanError::NoConfigs.into()),
            // Other schedulers ignore it (a study file refuses it as a mistake).
            _ => {}
        }
        if self.max_brackets == Some(0) {
            problems.push(SpecError::NoBrackets);
        }
        if self.mode == Mode::Stop
            && !matches!(
                self.scheduler,
                SchedulerKind::Asha | SchedulerKind::Hyperband
            )
        {
            problems.push(SpecError::StopMode(self.scheduler.name()));
        }
        problems
    }

    /// The fields of `scheduler` with `sampler` over `min_budget..max_budget`, the others at
    /// their defaults (eta 3, Hyperband's own bracket sizes, promote mode, fractional
    /// budgets): set the others by struct update, so that a key added with a default
    /// touches no caller.
    pub fn new(
        scheduler: SchedulerKind,
        sampler: SamplerKind,
        min_budget: f64,
        max_budget: f64,
    ) -> Self {
        Self {
            scheduler,
            sampler,
            min_budget,
            max_budget,
            eta: default_eta(),
            bracket_sizes: BracketSizes::default(),
            n_configs: None,
            max_brackets: None,
            mode: Mode::Promote,
            integer_budgets: false,
        }
    }

    /// The budget range and halving rate, checked: the rules that hold whatever the
    /// scheduler (a study file checks them even when it names no scheduler it knows).
    pub fn budgets(&self) -> Result<Budgets, SpecError> {
        let budgets = Budgets::new(self.min_budget, self.max_budget, self.eta)?;
        Ok(if self.integer_budgets {
            budgets.whole()?
        } else {
            budgets
        })
    }
}

impl From<AlgorithmSpec> for AlgorithmFields {
    fn from(a: AlgorithmSpec) -> Self {
        a.fields()
    }
}

impl AlgorithmSpec {
    /// The fields it was made from, to change one and check again.
    pub fn fields(&self) -> AlgorithmFields {
        AlgorithmFields {
            scheduler: self.scheduler,
            sampler: self.sampler,
            min_budget: self.budgets.min,
            max_budget: self.budgets.max,
            eta: self.budgets.eta,
            bracket_sizes: self.bracket_sizes,
            n_configs: self.n_configs,
            max_brackets: self.max_brackets,
            mode: self.mode,
            integer_budgets: self.budgets.whole,
        }
    }

    pub fn scheduler(&self) -> SchedulerKind {
        self.scheduler
    }

    pub fn sampler(&self) -> SamplerKind {
        self.sampler
    }

    /// The validated budget range and halving rate.
    pub fn budgets(&self) -> Budgets {
        self.budgets
    }

    pub fn min_budget(&self) -> f64 {
        self.budgets.min
    }

    pub fn max_budget(&self) -> f64 {
        self.budgets.max
    }

    pub fn eta(&self) -> u32 {
        self.budgets.eta
    }

    pub fn integer_budgets(&self) -> bool {
        self.budgets.whole
    }

    pub fn bracket_sizes(&self) -> BracketSizes {
        self.bracket_sizes
    }

    pub fn n_configs(&self) -> Option<u64> {
        self.n_configs
    }

    pub fn max_brackets(&self) -> Option<u64> {
        self.max_brackets
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }
}

/// Everything that decides which jobs a study issues. Stop limits are not part of it: a
/// finished study may be resumed with a larger budget. A key this version does not know
/// is refused, not dropped, so that two versions never take different definitions for one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySpec {
    pub seed: u64,
    pub space: Vec<Param>,
    pub algorithm: AlgorithmSpec,
    /// How jobs are charged: `resume` when the objective continues from checkpoints.
    pub cost: CostModel,
    #[serde(default)]
    pub max_retries: u32,
    /// What evaluates jobs (a command line, a built-in workload, an in-process function);
    /// `None` (stored as null) for a library study that names none.
    #[serde(default)]
    pub objective: Option<ObjectiveSpec>,
}

/// Why a specification cannot become a study.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error(transparent)]
    Space(#[from] SpaceError),
    #[error(transparent)]
    Budgets(#[from] PlanError),
    #[error("missing key `n_configs` (scheduler `sha` starts that many configurations)")]
    MissingNConfigs,
    #[error("max_brackets must be at least 1")]
    NoBrackets,
    #[error("mode `stop` applies to schedulers `asha` and `hyperband`, not `{0}`")]
    StopMode(&'static str),
}

impl SpecError {
    /// The key of the study definition the error is about (`space`, or a key of
    /// `[algorithm]`): how a study file points at the line to fix.
    pub fn key(&self) -> &'static str {
        match self {
            SpecError::Space(_) => "space",
            SpecError::Budgets(e) => match e {
                PlanError::MinBudget(_) => "min_budget",
                PlanError::MaxBudget { .. } | PlanError::TooManyRungs(_) => "max_budget",
                PlanError::Eta(_) => "eta",
                PlanError::NoConfigs => "n_configs",
                PlanError::NotWhole { .. } => "integer_budgets",
            },
            SpecError::MissingNConfigs => "n_configs",
            SpecError::NoBrackets => "max_brackets",
            SpecError::StopMode(_) => "mode",
        }
    }
}

impl StudySpec {
    /// A definition with everything but the seed, space and algorithm at its default
    /// (scratch costs, no retries, no objective): set the others with struct update
    /// syntax, `StudySpec { cost, ..StudySpec::new(seed, space, algorithm) }`, so that a key
    /// added to the definition with a default touches no caller.
    pub fn new(seed: u64, space: Vec<Param>, algorithm: AlgorithmSpec) -> Self {
        Self {
            seed,
            space,
            algorithm,
            cost: CostModel::Scratch,
            max_retries: 0,
            objective: None,
        }
    }

    pub fn space(&self) -> Result<Space, SpecError> {
        Ok(Space::new(self.space.clone())?)
    }

    pub fn budgets(&self) -> Budgets {
        self.algorithm.budgets()
    }

    /// The scheduler the algorithm names; it cannot fail, the algorithm being valid.
    pub fn scheduler(&self) -> Box<dyn Scheduler> {
        let a = &self.algorithm;
        let budgets = a.budgets();
        match (a.mode(), a.scheduler()) {
            (Mode::Stop, SchedulerKind::Asha) => Box::new(Stopping::asha(budgets)),
            (Mode::Stop, _) => {
                let hb = Stopping::hyperband(budgets, a.bracket_sizes());
                Box::new(match a.max_brackets() {
                    Some(n) => hb.with_max_brackets(n),
                    None => hb,
                })
            }
            (Mode::Promote, SchedulerKind::FullBudget) => Box::new(FullBudget::new(budgets.max)),
            (Mode::Promote, SchedulerKind::Sha) => {
                let n = a.n_configs().expect("sha has n_configs");
                Box::new(SuccessiveHalving::new(budgets, n).expect("n_configs is at least 1"))
            }
            (Mode::Promote, SchedulerKind::Hyperband) => {
                let hb = Hyperband::new(budgets, a.bracket_sizes());
                Box::new(match a.max_brackets() {
                    Some(n) => hb.with_max_brackets(n),
                    None => hb,
                })
            }
            (Mode::Promote, SchedulerKind::Asha) => Box::new(Asha::new(budgets)),
            (Mode::Promote, SchedulerKind::AsyncHyperband) => {
                Box::new(Asha::async_hyperband(budgets, a.bracket_sizes()))
            }
        }
    }

    pub fn sampler(&self) -> Box<dyn Sampler> {
        match self.algorithm.sampler() {
            SamplerKind::Random => Box::new(Random),
            SamplerKind::Tpe => Box::new(Tpe::default()),
            SamplerKind::Gp => Box::new(Gp::default()),
            SamplerKind::MfGp => Box::new(MfGp::default()),
        }
    }

    /// Checks that the specification can be built, without building twice later.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.build(Limits::default()).map(|_| ())
    }

    /// A fresh study with `limits`.
    pub fn build(&self, limits: Limits) -> Result<Study, SpecError> {
        Ok(Study::new(
            self.space()?,
            self.sampler(),
            self.scheduler(),
            Settings {
                seed: self.seed,
                limits,
                cost: self.cost,
                max_retries: self.max_retries,
                ..Settings::default()
            },
        ))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("specs serialize")
    }
}

/// Keys (nested ones as `a.b`) whose values differ between two stored definitions, for
/// the message that refuses to resume a study under a changed definition.
pub fn changed_keys(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return vec!["everything".to_string()];
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) if x.is_object() && y.is_object() => {
                for sub in changed_keys(x, y) {
                    out.push(format!("{k}.{sub}"));
                }
            }
            _ => out.push(k.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> AlgorithmFields {
        AlgorithmFields {
            scheduler: SchedulerKind::Hyperband,
            sampler: SamplerKind::Random,
            min_budget: 1.0,
            max_budget: 81.0,
            eta: 3,
            bracket_sizes: BracketSizes::Table,
            n_configs: None,
            max_brackets: None,
            mode: Mode::Promote,
            integer_budgets: false,
        }
    }

    fn spec() -> StudySpec {
        StudySpec {
            cost: CostModel::Resume,
            max_retries: 1,
            objective: Some(ObjectiveSpec::Builtin {
                builtin: "mnist-mlp".to_string(),
            }),
            ..StudySpec::new(
                7,
                vec![
                    Param::log_float("lr", 1e-3, 1e-1),
                    Param::log_int("hidden", 10, 1000),
                    Param::categorical("act", &["relu", "tanh"]),
                ],
                fields().try_into().unwrap(),
            )
        }
    }

    #[test]
    fn round_trips_through_json() {
        let s = spec();
        let json = s.to_json();
        assert_eq!(json["space"][0]["type"], "float");
        assert_eq!(json["algorithm"]["scheduler"], "hyperband");
        assert_eq!(json["algorithm"]["bracket_sizes"], "table");
        let back: StudySpec = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            back.build(Limits::default()).unwrap().scheduler_name(),
            "hyperband"
        );
    }

    #[test]
    fn every_algorithm_rule_is_refused_at_its_key() {
        let check = |change: &dyn Fn(&mut AlgorithmFields)| {
            let mut f = fields();
            change(&mut f);
            AlgorithmSpec::try_from(f).map(|_| ())
        };
        let refused = |change: &dyn Fn(&mut AlgorithmFields)| check(change).unwrap_err();
        let e = refused(&|f| f.scheduler = SchedulerKind::Sha);
        assert_eq!(
            (e.key(), e.clone()),
            ("n_configs", SpecError::MissingNConfigs)
        );
        assert!(check(&|f| {
            f.scheduler = SchedulerKind::Sha;
            f.n_configs = Some(9);
        })
        .is_ok());
        let e = refused(&|f| {
            f.scheduler = SchedulerKind::Sha;
            f.n_configs = Some(0);
        });
        assert_eq!(e.key(), "n_configs");
        // Ignored by the other schedulers, as stored definitions always had it.
        assert!(check(&|f| f.n_configs = Some(9)).is_ok());
        let e = refused(&|f| f.eta = 1);
        assert_eq!(
            (e.key(), e.to_string().as_str()),
            ("eta", "eta must be at least 2, got 1")
        );
        assert_eq!(refused(&|f| f.min_budget = 0.0).key(), "min_budget");
        assert_eq!(refused(&|f| f.max_budget = 0.5).key(), "max_budget");
        assert_eq!(refused(&|f| f.max_budget = 1e300).key(), "max_budget");
        let e = refused(&|f| {
            f.min_budget = 0.5;
            f.integer_budgets = true;
        });
        assert_eq!(e.key(), "integer_budgets");
        assert_eq!(refused(&|f| f.max_brackets = Some(0)).key(), "max_brackets");
        let e = refused(&|f| {
            f.scheduler = SchedulerKind::AsyncHyperband;
            f.mode = Mode::Stop;
        });
        assert_eq!(e.key(), "mode");
    }

    #[test]
    fn a_stored_algorithm_that_breaks_a_rule_does_not_read() {
        let mut json = spec().to_json();
        json["algorithm"]["eta"] = serde_json::json!(1);
        let e = serde_json::from_value::<StudySpec>(json).unwrap_err();
        assert!(e.to_string().contains("eta must be at least 2"), "{e}");
    }

    #[test]
    fn the_budgets_are_the_validated_ones() {
        let mut f = fields();
        f.min_budget = 1.0;
        f.max_budget = 14.0;
        f.integer_budgets = true;
        let a = AlgorithmSpec::try_from(f).unwrap();
        assert!(a.budgets().whole);
        assert_eq!(a.fields().max_budget, 14.0);
    }
}
