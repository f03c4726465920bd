//! `hyperband demo`: one command that shows the whole system working on the embedded store.

use crate::cli_error::bad_input;
use crate::runner::{self, RunPlan};
use crate::schedule::fmt_budget;
use crate::synthetic;
use hyperband::storage::StorageUrl;
use hyperband::{
    AlgorithmSpec, BracketSizes, CostModel, Limits, SamplerKind, SchedulerKind, StudySpec,
};
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[command(subcommand)]
    pub which: DemoCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DemoCommand {
    /// Hyperband on a synthetic multi-fidelity function with a known optimum.
    Synthetic(SyntheticDemoArgs),
}

#[derive(Debug, clap::Args)]
pub struct SyntheticDemoArgs {
    #[arg(long, default_value = "mf-hartmann6")]
    pub problem: String,
    /// Total budget in full-budget evaluations (multiples of R).
    #[arg(long, default_value_t = 30.0)]
    pub budget: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Where the study is stored; rerunning resumes it.
    #[arg(long, default_value = "sqlite:hyperband-demo.db")]
    pub storage: String,
    /// One line per job instead of a progress bar.
    #[arg(long)]
    pub plain: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    match &args.which {
        DemoCommand::Synthetic(a) => synthetic_demo(a),
    }
}

fn synthetic_demo(args: &SyntheticDemoArgs) -> anyhow::Result<()> {
    let problem: Arc<dyn workloads::synthetic::Problem> =
        workloads::synthetic::by_name(&args.problem)
            .map_err(bad_input)?
            .into();
    let spec = StudySpec {
        seed: args.seed,
        space: synthetic::space(problem.as_ref()).params().to_vec(),
        algorithm: AlgorithmSpec {
            scheduler: SchedulerKind::Hyperband,
            sampler: SamplerKind::Random,
            min_budget: problem.min_budget(),
            max_budget: problem.max_budget(),
            eta: problem.eta(),
            bracket_sizes: BracketSizes::Algorithm,
            n_configs: None,
            max_brackets: None,
        },
        cost: CostModel::Scratch,
        max_retries: 0,
        objective: json!({ "builtin": problem.name() }),
    };
    spec.validate().map_err(bad_input)?;
    let limits = Limits {
        max_total_budget: Some(args.budget * problem.max_budget()),
        max_trials: None,
    };
    let cwd = std::env::current_dir()?;
    let build_spec = spec.clone();
    let plan = RunPlan {
        name: format!("demo-{}-seed{}", problem.name(), args.seed),
        spec: spec.to_json(),
        build: Arc::new(move || build_spec.build(limits).expect("validated above")),
        storage: StorageUrl::parse(&args.storage, &cwd).map_err(bad_input)?,
        workers: args.workers,
        max_time: None,
        plain: args.plain,
        quiet: args.json,
    };
    let seed = args.seed;
    let objective_problem = problem.clone();
    let outcome = runner::run(
        &plan,
        Arc::new(move |job| Ok(synthetic::evaluate(objective_problem.as_ref(), job, seed).into())),
    )?;
    let study = outcome.replica.study();
    let stats = study.stats();
    let best = study
        .incumbent()
        .ok_or_else(|| anyhow::anyhow!("the study finished no job"))?;
    let best_config = &study.history().trial(best.trial).config;
    let regret = problem.regret(&synthetic::point(best_config));
    // The ten best configurations at the highest budget each reached.
    let mut top: Vec<_> = study
        .history()
        .observations()
        .iter()
        .filter(|o| o.budget >= problem.max_budget())
        .collect();
    top.sort_by(|a, b| a.loss.total_cmp(&b.loss));
    top.truncate(10);
    if args.json {
        let top: Vec<_> = top
            .iter()
            .map(|o| json!({"trial": o.trial.0, "config": study.history().trial(o.trial).config, "loss": o.loss}))
            .collect();
        println!(
            "{}",
            json!({
                "study": plan.name,
                "storage": plan.storage.redacted(),
                "best": {"trial": best.trial.0, "config": best_config, "budget": best.budget,
                         "loss": best.loss, "regret": regret},
                "top": top,
                "trials": stats.trials,
                "jobs": stats.finished,
                "budget_spent": stats.budget_spent,
                "seconds": outcome.elapsed.as_secs_f64(),
            })
        );
        return Ok(());
    }
    println!(
        "\n{}: Hyperband (R = {}, eta = {}) with {} workers, stored in {}",
        problem.name(),
        fmt_budget(problem.max_budget()),
        problem.eta(),
        args.workers,
        plan.storage.redacted()
    );
    println!(
        "{} trials, {} jobs, {} budget units ({:.1} full evaluations) in {:.1} s",
        stats.trials,
        stats.finished,
        fmt_budget(stats.budget_spent),
        stats.budget_spent / problem.max_budget(),
        outcome.elapsed.as_secs_f64()
    );
    println!("\nbest configurations at the full budget:");
    println!("{:>6}  {:>10}  config", "trial", "loss");
    for o in &top {
        println!(
            "{:>6}  {:>10.5}  {}",
            o.trial.0,
            o.loss,
            study.history().trial(o.trial).config
        );
    }
    println!(
        "\nbest: loss {:.5}, regret {:.2e} (optimum {:.6})",
        best.loss,
        regret,
        problem.optimum()
    );
    Ok(())
}
