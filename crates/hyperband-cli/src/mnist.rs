//! The built-in `mnist-mlp` workload: the talk's network and search space, trained with
//! checkpoints so that a promoted configuration pays only for its new iterations.

use hyperband::{
    AlgorithmFields, Config, CostModel, Evaluation, Job, Param, SamplerKind, SchedulerKind, Space,
    StudySpec,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use workloads::mnist::{MlpParams, MnistSplits, TrainSettings, Trainer};

pub const NAME: &str = "mnist-mlp";

/// The talk's space: learning rate, L2 penalty and hidden units, all on log scales.
pub fn space() -> Space {
    Space::new(vec![
        Param::log_float("lr", 1e-3, 1e-1),
        Param::log_float("l2", 1e-6, 1e-1),
        Param::log_int("hidden", 10, 1000),
    ])
    .expect("the talk's space is valid")
}

/// The talk's study: its space, R = 81, eta = 3, charged as continued from checkpoints.
/// The demo and the benchmarks change only the algorithm's choices and the seed.
pub fn spec(seed: u64, scheduler: SchedulerKind, sampler: SamplerKind) -> StudySpec {
    StudySpec {
        cost: CostModel::Resume,
        objective: Some(hyperband::ObjectiveSpec::Builtin {
            builtin: NAME.to_string(),
        }),
        ..StudySpec::new(
            seed,
            space().params().to_vec(),
            AlgorithmFields::new(scheduler, sampler, 1.0, 81.0)
                .try_into()
                .expect("a valid algorithm"),
        )
    }
}

/// Trains jobs on `data`, keeping one checkpoint per trial and budget under `dir`.
pub struct MnistObjective {
    data: Arc<MnistSplits>,
    dir: PathBuf,
    settings: TrainSettings,
}

impl MnistObjective {
    pub fn new(data: Arc<MnistSplits>, dir: &Path, seed: u64) -> Self {
        Self {
            data,
            dir: dir.to_path_buf(),
            settings: TrainSettings {
                seed,
                ..TrainSettings::default()
            },
        }
    }

    fn params(config: &Config) -> Result<MlpParams, String> {
        let get = |name: &str| {
            config
                .f64(name)
                .ok_or_else(|| format!("the configuration has no parameter `{name}`"))
        };
        Ok(MlpParams {
            lr: get("lr")?,
            l2: get("l2")?,
            hidden: get("hidden")?.round() as usize,
        })
    }

    pub fn checkpoint_path(&self, trial: u64, budget: f64) -> PathBuf {
        self.dir
            .join(format!("trial-{trial}"))
            .join(format!("budget-{budget}.ckpt"))
    }

    /// Continues the trial's checkpoint at `resume_from` when there is one, else trains from
    /// scratch and says so (`resumed: false`, so the study charges the full budget).
    pub fn run(&self, job: &Job) -> Result<Evaluation, String> {
        let params = Self::params(&job.config)?;
        let from = self.checkpoint_path(job.trial.0, job.resume_from);
        let mut resumed = false;
        let mut trainer = None;
        if job.resume_from > 0.0 && from.exists() {
            match Trainer::load_file(&from, params, self.settings) {
                Ok(t) => {
                    trainer = Some(t);
                    resumed = true;
                }
                // A damaged checkpoint costs a retrain, not the result.
                Err(_) => trainer = None,
            }
        }
        let mut trainer = match trainer {
            Some(t) => t,
            None => Trainer::new(params, self.settings).map_err(|e| e.to_string())?,
        };
        trainer
            .train_to(&self.data.train, job.budget)
            .map_err(|e| e.to_string())?;
        let to = self.checkpoint_path(job.trial.0, job.budget);
        std::fs::create_dir_all(to.parent().expect("checkpoint paths have a folder"))
            .map_err(|e| format!("cannot create the checkpoint folder: {e}"))?;
        trainer.save_file(&to).map_err(|e| e.to_string())?;
        let val = trainer.evaluate(&self.data.val);
        Ok(Evaluation::new(val.loss)
            .with_metric("val_error", val.error_rate)
            .with_resumed(resumed || job.resume_from == 0.0))
    }

    /// Test error of a trial's checkpoint at `budget` (for the final report only: the test
    /// digits never influence a decision).
    pub fn test_error(&self, trial: u64, budget: f64, config: &Config) -> Result<f64, String> {
        let params = Self::params(config)?;
        let mut trainer =
            Trainer::load_file(&self.checkpoint_path(trial, budget), params, self.settings)
                .map_err(|e| e.to_string())?;
        Ok(trainer.evaluate(&self.data.test).error_rate)
    }
}
