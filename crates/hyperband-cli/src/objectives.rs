//! What evaluates a study's jobs: a user's command or a built-in workload, as the stored
//! definition names it.

use crate::cli_error::bad_input;
use crate::runner::Objective;
use crate::synthetic;
use hyperband::objective::CommandObjective;
use hyperband::storage::StorageUrl;
use hyperband::StudySpec;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where a study's job logs and checkpoints go: beside its SQLite file, or under the
/// current folder for a server store.
pub fn run_dir(storage: &StorageUrl, study: &str, fallback: &Path) -> PathBuf {
    let base = match storage {
        StorageUrl::Sqlite(path) => {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "hyperband".into());
            path.parent()
                .unwrap_or(Path::new("."))
                .join(format!("{stem}-runs"))
        }
        StorageUrl::Postgres(_) => fallback.join("hyperband-runs"),
    };
    base.join(sanitize(study))
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Names of the built-in workloads.
pub fn builtin_names() -> Vec<String> {
    workloads::synthetic::names()
}

/// The objective a stored definition names. `workdir` is where a relative command runs.
pub fn from_spec(
    spec: &StudySpec,
    workdir: &Path,
    run_dir: &Path,
    timeout: Option<Duration>,
) -> anyhow::Result<Objective> {
    if let Some(argv) = spec.objective.get("command").and_then(|c| c.as_array()) {
        let argv: Vec<String> = argv
            .iter()
            .map(|a| a.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| anyhow::anyhow!("the stored command is not a list of strings"))?;
        let command = CommandObjective::new(argv)
            .map_err(|e| bad_input(anyhow::anyhow!("command: {e}")))?
            .with_timeout(timeout)
            .with_workdir(workdir)
            .with_log_dir(run_dir.join("logs"))
            .with_checkpoint_root(run_dir.join("checkpoints"));
        return Ok(command_objective(command));
    }
    let name = spec
        .objective
        .get("builtin")
        .and_then(|b| b.as_str())
        .ok_or_else(|| anyhow::anyhow!("the study names neither a command nor a built-in"))?;
    builtin(name, spec)
}

pub fn command_objective(command: CommandObjective) -> Objective {
    Arc::new(move |job| command.run(job))
}

/// A built-in workload; the study's space must name the workload's parameters.
pub fn builtin(name: &str, spec: &StudySpec) -> anyhow::Result<Objective> {
    let problem = workloads::synthetic::by_name(name).map_err(|_| {
        bad_input(anyhow::anyhow!(
            "unknown built-in workload `{name}` (available: {})",
            builtin_names().join(", ")
        ))
    })?;
    let expected = synthetic::space(problem.as_ref());
    let given: Vec<&str> = spec.space.iter().map(|p| p.name.as_str()).collect();
    let wanted: Vec<&str> = expected.names().iter().map(String::as_str).collect();
    if given != wanted {
        return Err(bad_input(anyhow::anyhow!(
            "built-in `{name}` takes the parameters {} (in this order), the study defines {}",
            wanted.join(", "),
            given.join(", ")
        )));
    }
    let problem: Arc<dyn workloads::synthetic::Problem> = problem.into();
    let seed = spec.seed;
    Ok(Arc::new(move |job| {
        Ok(synthetic::evaluate(problem.as_ref(), job, seed).into())
    }))
}
