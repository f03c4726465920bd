//! What evaluates a study's jobs: a user's command or a built-in workload, as the stored
//! definition names it.

use crate::cli_error::bad_input;
use crate::runner::{Evaluator, Objective};
use crate::synthetic;
use hyperband::objective::command::CommandRun;
use hyperband::objective::CommandObjective;
use hyperband::storage::RunDir;
use hyperband::{Mode, ObjectiveSpec, StudySpec};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Whether a built-in workload continues promoted jobs from checkpoints (the MNIST MLP
/// does; the synthetic functions are charged their full budget, as docs/problems.md counts).
pub fn builtin_resumes(name: &str) -> bool {
    name == crate::mnist::NAME
}

/// Names of the built-in workloads.
pub fn builtin_names() -> Vec<String> {
    let mut names = vec![crate::mnist::NAME.to_string()];
    names.extend(workloads::synthetic::names());
    names
}

/// The objective a stored definition names. `workdir` is where a relative command runs;
/// `timeout` and `line_buffered` are the run's settings (a study file's, when given).
pub fn from_spec(
    spec: &StudySpec,
    workdir: &Path,
    run_dir: &RunDir,
    timeout: Option<Duration>,
    line_buffered: bool,
) -> anyhow::Result<Evaluator> {
    match &spec.objective {
        Some(ObjectiveSpec::Command(command)) => {
            let run = CommandRun {
                workdir: workdir.to_path_buf(),
                logs: run_dir.logs(),
                checkpoints: run_dir.checkpoints(),
                timeout,
                line_buffered,
            };
            let command = CommandObjective::from_spec(command, &run)
                .map_err(|e| bad_input(anyhow::anyhow!("the stored {e}")))?;
            Ok(command_objective(
                command,
                spec.algorithm.mode() == Mode::Stop,
            ))
        }
        Some(ObjectiveSpec::Builtin { builtin: name }) => {
            builtin(name, spec, run_dir).map(Evaluator::Plain)
        }
        Some(ObjectiveSpec::InProcess { .. }) => Err(bad_input(anyhow::anyhow!(
            "the study's objective is a Python function in the process that created it; \
             run its workers from Python (hyperband.Study with the same storage)"
        ))),
        None => Err(bad_input(anyhow::anyhow!(
            "the study names neither a command nor a built-in"
        ))),
    }
}

/// A command's evaluator: followed as it runs under a stopping rule, else run to its end.
pub fn command_objective(command: CommandObjective, stops: bool) -> Evaluator {
    if stops {
        Evaluator::Stopping(Arc::new(move |job, monitor| {
            command.run_monitored(job, monitor)
        }))
    } else {
        Evaluator::Plain(Arc::new(move |job| command.run(job)))
    }
}

/// A built-in workload; the study's space must name the workload's parameters.
pub fn builtin(name: &str, spec: &StudySpec, run_dir: &RunDir) -> anyhow::Result<Objective> {
    if name == crate::mnist::NAME {
        check_names(name, &crate::mnist::space(), spec)?;
        let data = workloads::mnist::bundled_splits(spec.seed)?;
        let objective =
            crate::mnist::MnistObjective::new(Arc::new(data), &run_dir.checkpoints(), spec.seed);
        return Ok(Arc::new(move |job| objective.run(job)));
    }
    let problem = workloads::synthetic::by_name(name).map_err(|_| {
        bad_input(anyhow::anyhow!(
            "unknown built-in workload `{name}` (available: {})",
            builtin_names().join(", ")
        ))
    })?;
    check_names(name, &synthetic::space(problem.as_ref()), spec)?;
    let problem: Arc<dyn workloads::synthetic::Problem> = problem.into();
    let seed = spec.seed;
    Ok(Arc::new(move |job| {
        Ok(synthetic::evaluate(problem.as_ref(), job, seed).into())
    }))
}

/// The study must name the built-in's parameters, in its order.
fn check_names(name: &str, expected: &hyperband::Space, spec: &StudySpec) -> anyhow::Result<()> {
    let given: Vec<&str> = spec.space.iter().map(|p| p.name.as_str()).collect();
    let wanted: Vec<&str> = expected.names().iter().map(String::as_str).collect();
    if given != wanted {
        return Err(bad_input(anyhow::anyhow!(
            "built-in `{name}` takes the parameters {} (in this order), the study defines {}",
            wanted.join(", "),
            given.join(", ")
        )));
    }
    Ok(())
}
