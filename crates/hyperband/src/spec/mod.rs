//! A study's definition as data: what the store keeps, so that any worker (or `status`, or
//! `export`) can rebuild the study from the database alone, and so that resuming with a
//! changed definition can be refused.

mod objective;

pub use objective::{CommandSpec, MetricSpec, ObjectiveSpec};

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

/// The `[algorithm]` of a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlgorithmSpec {
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

/// Everything that decides which jobs a study issues. Stop limits are not part of it: a
/// finished study may be resumed with a larger budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    #[error("scheduler `sha` needs `n_configs`, the number of configurations to start")]
    MissingNConfigs,
    #[error("mode `stop` applies to schedulers `asha` and `hyperband`, not `{0}`")]
    StopMode(&'static str),
}

impl StudySpec {
    pub fn space(&self) -> Result<Space, SpecError> {
        Ok(Space::new(self.space.clone())?)
    }

    pub fn budgets(&self) -> Result<Budgets, SpecError> {
        let a = &self.algorithm;
        let budgets = Budgets::new(a.min_budget, a.max_budget, a.eta)?;
        Ok(if a.integer_budgets {
            budgets.whole()?
        } else {
            budgets
        })
    }

    pub fn scheduler(&self) -> Result<Box<dyn Scheduler>, SpecError> {
        let a = &self.algorithm;
        let budgets = self.budgets()?;
        if a.mode == Mode::Stop {
            return Ok(match a.scheduler {
                SchedulerKind::Asha => Box::new(Stopping::asha(budgets)),
                SchedulerKind::Hyperband => {
                    let hb = Stopping::hyperband(budgets, a.bracket_sizes);
                    Box::new(match a.max_brackets {
                        Some(n) => hb.with_max_brackets(n),
                        None => hb,
                    })
                }
                other => return Err(SpecError::StopMode(other.name())),
            });
        }
        Ok(match a.scheduler {
            SchedulerKind::FullBudget => Box::new(FullBudget::new(a.max_budget)),
            SchedulerKind::Sha => {
                let n = a.n_configs.ok_or(SpecError::MissingNConfigs)?;
                Box::new(SuccessiveHalving::new(budgets, n)?)
            }
            SchedulerKind::Hyperband => {
                let hb = Hyperband::new(budgets, a.bracket_sizes);
                Box::new(match a.max_brackets {
                    Some(n) => hb.with_max_brackets(n),
                    None => hb,
                })
            }
            SchedulerKind::Asha => Box::new(Asha::new(budgets)),
            SchedulerKind::AsyncHyperband => {
                Box::new(Asha::async_hyperband(budgets, a.bracket_sizes))
            }
        })
    }

    pub fn sampler(&self) -> Result<Box<dyn Sampler>, SpecError> {
        match self.algorithm.sampler {
            SamplerKind::Random => Ok(Box::new(Random)),
            SamplerKind::Tpe => Ok(Box::new(Tpe::default())),
            SamplerKind::Gp => Ok(Box::new(Gp::default())),
            SamplerKind::MfGp => Ok(Box::new(MfGp::default())),
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
            self.sampler()?,
            self.scheduler()?,
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

    fn spec() -> StudySpec {
        StudySpec {
            seed: 7,
            space: vec![
                Param::log_float("lr", 1e-3, 1e-1),
                Param::log_int("hidden", 10, 1000),
                Param::categorical("act", &["relu", "tanh"]),
            ],
            algorithm: AlgorithmSpec {
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
            },
            cost: CostModel::Resume,
            max_retries: 1,
            objective: Some(ObjectiveSpec::Builtin {
                builtin: "mnist-mlp".to_string(),
            }),
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
    fn unbuildable_specs_say_why() {
        let mut s = spec();
        s.algorithm.scheduler = SchedulerKind::Sha;
        assert_eq!(s.validate().unwrap_err(), SpecError::MissingNConfigs);
        s.algorithm.n_configs = Some(9);
        assert!(s.validate().is_ok());
        s.algorithm.eta = 1;
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "eta must be at least 2, got 1"
        );
    }
}
