//! What evaluates a study's jobs: a user's command or a built-in workload, as the stored
//! definition names it.

use crate::cli_error::bad_input;
use crate::runner::{Evaluator, Objective};
use crate::synthetic;
use hyperband::objective::command::MetricSpec;
use hyperband::objective::CommandObjective;
use hyperband::storage::RunDir;
use hyperband::{Mode, StudySpec};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Whether a built-in workload continues promoted jobs from checkpoints (the MNIST MLP
/// does; the synthetic functions are charged their full budget, as PROBLEMS.md counts).
pub fn builtin_resumes(name: &str) -> bool {
    name == crate::mnist::NAME
}

/// Names of the built-in workloads.
pub fn builtin_names() -> Vec<String> {
    let mut names = vec![crate::mnist::NAME.to_string()];
    names.extend(workloads::synthetic::names());
    names
}

/// The objective a stored definition names. `workdir` is where a relative command runs.
pub fn from_spec(
    spec: &StudySpec,
    workdir: &Path,
    run_dir: &RunDir,
    timeout: Option<Duration>,
) -> anyhow::Result<Evaluator> {
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
            .with_log_dir(run_dir.logs())
            .with_checkpoint_root(run_dir.checkpoints());
        let command = match spec.objective.get("metric") {
            Some(m) => {
                let metric: MetricSpec = serde_json::from_value(m.clone())
                    .map_err(|e| anyhow::anyhow!("the stored metric rule is unreadable: {e}"))?;
                let rule = metric
                    .rule()
                    .map_err(|(key, e)| bad_input(anyhow::anyhow!("metric {key}: {e}")))?;
                command.with_metric(rule)
            }
            None => command,
        };
        // Fixed parameters (`[space] batch = { value = 128 }`), stored beside the command.
        let mut command = command;
        if let Some(fixed) = spec.objective.get("fixed") {
            let fixed = fixed
                .as_object()
                .ok_or_else(|| anyhow::anyhow!("the stored fixed parameters are not a table"))?;
            for (name, v) in fixed {
                let value: hyperband::Value = serde_json::from_value(v.clone()).map_err(|e| {
                    anyhow::anyhow!("the stored fixed parameter `{name}` is unreadable: {e}")
                })?;
                command = command.with_fixed(name.clone(), value);
            }
        }
        return Ok(command_objective(
            command,
            spec.algorithm.mode == Mode::Stop,
        ));
    }
    let name = spec
        .objective
        .get("builtin")
        .and_then(|b| b.as_str())
        .ok_or_else(|| anyhow::anyhow!("the study names neither a command nor a built-in"))?;
    builtin(name, spec, run_dir).map(Evaluator::Plain)
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
