//! `hyperband demo`: one command that shows the whole system working on the embedded store.

use crate::cli_error::bad_input;
use crate::runner::{self, RunPlan};
use crate::schedule::fmt_budget;
use crate::synthetic;
use hyperband::storage::{RunDir, StorageUrl, StoredLimits};
use hyperband::{AlgorithmFields, Limits, SamplerKind, SchedulerKind, StudySpec};
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
    /// The talk's experiment: Hyperband (R = 81, eta = 3) tunes an MLP on MNIST.
    Mnist(MnistDemoArgs),
}

#[derive(Debug, clap::Args)]
pub struct MnistDemoArgs {
    /// Seeds the search, the data split, weight initialisation and data order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Hyperband passes over its five brackets (one pass is 1,581 budget units).
    #[arg(long, default_value_t = 1)]
    pub passes: u64,
    /// A folder with the full MNIST files (train-images-idx3-ubyte[.gz] and friends)
    /// instead of the 10,000 bundled digits.
    #[arg(long)]
    pub mnist_dir: Option<std::path::PathBuf>,
    /// Where the study is stored; rerunning resumes it.
    #[arg(long, default_value = "sqlite:hyperband-demo.db")]
    pub storage: String,
    /// The plot of best validation loss against budget spent.
    #[arg(long, default_value = "out/demo/mnist-best-loss.svg")]
    pub plot: std::path::PathBuf,
    /// The study's HTML report (`hyperband report`), written when the run ends.
    #[arg(long, default_value = "out/demo/report.html")]
    pub report: std::path::PathBuf,
    #[arg(long)]
    pub plain: bool,
    #[arg(long)]
    pub json: bool,
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
        DemoCommand::Mnist(a) => mnist_demo(a),
    }
}

fn synthetic_demo(args: &SyntheticDemoArgs) -> anyhow::Result<()> {
    let problem: Arc<dyn workloads::synthetic::Problem> =
        workloads::synthetic::by_name(&args.problem)
            .map_err(bad_input)?
            .into();
    let spec = StudySpec {
        objective: Some(hyperband::ObjectiveSpec::Builtin {
            builtin: problem.name().to_string(),
        }),
        ..StudySpec::new(
            args.seed,
            synthetic::space(problem.as_ref()).params().to_vec(),
            AlgorithmFields {
                eta: problem.eta(),
                ..AlgorithmFields::new(
                    SchedulerKind::Hyperband,
                    SamplerKind::Random,
                    problem.min_budget(),
                    problem.max_budget(),
                )
            }
            .try_into()
            .expect("a valid algorithm"),
        )
    };
    spec.validate().map_err(bad_input)?;
    let limits = Limits {
        max_total_budget: Some(args.budget * problem.max_budget()),
        max_trials: None,
    };
    let cwd = std::env::current_dir()?;
    let storage = StorageUrl::parse(&args.storage, &cwd).map_err(bad_input)?;
    let plan = RunPlan {
        study: runner::open_study(
            &storage,
            &format!("demo-{}-seed{}", problem.name(), args.seed),
            &spec,
        )?,
        storage,
        workers: args.workers,
        limits: Some(StoredLimits {
            limits,
            max_seconds: None,
        }),
        max_time: None,
        plain: args.plain,
        quiet: args.json,
        enqueue: Vec::new(),
    };
    let seed = args.seed;
    let objective_problem = problem.clone();
    let outcome = runner::run(
        &plan,
        runner::Evaluator::Plain(Arc::new(move |job| {
            Ok(synthetic::evaluate(objective_problem.as_ref(), job, seed).into())
        })),
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
                "study": plan.study.name,
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

/// `10^-1.6` for 0.025: the talk's table writes hyperparameters as powers of ten.
fn pow10(x: f64) -> String {
    format!("10^{:.1}", x.log10())
}

fn mnist_demo(args: &MnistDemoArgs) -> anyhow::Result<()> {
    let mut spec = crate::mnist::spec(args.seed, SchedulerKind::Hyperband, SamplerKind::Random);
    let mut fields = spec.algorithm.fields();
    fields.max_brackets = Some(5 * args.passes.max(1));
    spec.algorithm = fields.try_into().map_err(bad_input)?;
    spec.validate().map_err(bad_input)?;
    let data = match &args.mnist_dir {
        Some(dir) => workloads::mnist::splits_from_dir(dir, args.seed),
        None => workloads::mnist::bundled_splits(args.seed),
    }
    .map_err(bad_input)?;
    let cwd = std::env::current_dir()?;
    let storage = StorageUrl::parse(&args.storage, &cwd).map_err(bad_input)?;
    let name = format!(
        "demo-mnist-seed{}{}",
        args.seed,
        if args.mnist_dir.is_some() {
            "-full"
        } else {
            ""
        }
    );
    let run_dir = RunDir::of_study(&storage, &name, &cwd);
    let objective = Arc::new(crate::mnist::MnistObjective::new(
        Arc::new(data),
        &run_dir.checkpoints(),
        args.seed,
    ));
    let plan = RunPlan {
        study: runner::open_study(&storage, &name, &spec)?,
        storage,
        workers: args.workers,
        limits: Some(StoredLimits::default()),
        max_time: None,
        plain: args.plain,
        quiet: args.json,
        enqueue: Vec::new(),
    };
    let job_objective = objective.clone();
    let outcome = runner::run(
        &plan,
        runner::Evaluator::Plain(Arc::new(move |job| job_objective.run(job))),
    )?;
    let replica = &outcome.replica;
    let study = replica.study();
    let history = study.history();
    let best = study
        .incumbent()
        .ok_or_else(|| anyhow::anyhow!("the study finished no job"))?;
    let best_config = &history.trial(best.trial).config;
    let test_error = objective
        .test_error(best.trial.0, best.budget, best_config)
        .map_err(|e| {
            anyhow::anyhow!("cannot evaluate the best configuration on the test digits: {e}")
        })?;
    let mut top: Vec<_> = history
        .observations()
        .iter()
        .filter(|o| o.budget >= 81.0)
        .collect();
    top.sort_by(|a, b| a.loss.total_cmp(&b.loss));
    top.truncate(10);

    // Best validation loss so far against budget spent, jobs in the order they finished.
    let mut finished: Vec<usize> = (0..study.jobs().len())
        .filter(|&i| study.jobs()[i].loss.is_some())
        .collect();
    finished.sort_by(|&a, &b| {
        let end = |i: usize| replica.meta()[i].ended_at.unwrap_or(f64::INFINITY);
        end(a).total_cmp(&end(b))
    });
    let (mut spent, mut best_so_far, mut curve) = (0.0, f64::INFINITY, Vec::new());
    for i in finished {
        let job = &study.jobs()[i];
        spent += job.cost;
        best_so_far = best_so_far.min(job.loss.unwrap_or(f64::INFINITY));
        curve.push((spent, best_so_far));
    }
    crate::plot::lines(
        &args.plot,
        "MNIST MLP: best validation loss so far (Hyperband, R = 81, eta = 3)",
        "budget spent (units of 100 SGD steps, new iterations only)",
        "validation cross-entropy",
        &[crate::plot::Series {
            name: "hyperband".into(),
            points: curve,
        }],
        true,
    )?;
    crate::report::write(replica, &spec, &plan.storage, &args.report)?;
    let stats = study.stats();
    let cfg = |c: &hyperband::Config| {
        json!({
            "lr": c.f64("lr"),
            "l2": c.f64("l2"),
            "hidden": c.get("hidden").and_then(|v| v.as_i64()),
        })
    };
    if args.json {
        let top: Vec<_> = top
            .iter()
            .map(|o| json!({"trial": o.trial.0, "config": cfg(&history.trial(o.trial).config), "val_loss": o.loss}))
            .collect();
        println!(
            "{}",
            json!({
                "best": {"trial": best.trial.0, "config": cfg(best_config), "budget": best.budget,
                         "val_loss": best.loss, "test_error": test_error},
                "top": top,
                "trials": stats.trials,
                "jobs": stats.finished,
                "failed": stats.failed,
                "budget_spent": stats.budget_spent,
                "seconds": outcome.elapsed.as_secs_f64(),
                "plot": args.plot,
                "report": args.report,
                "storage": plan.storage.redacted(),
            })
        );
        return Ok(());
    }
    println!(
        "\nMNIST MLP, Hyperband (R = 81, eta = 3), {} workers: {} trials, {} jobs ({} failed), \
         {} budget units of new iterations, {:.1} s",
        args.workers,
        stats.trials,
        stats.finished,
        stats.failed,
        fmt_budget(stats.budget_spent),
        outcome.elapsed.as_secs_f64()
    );
    println!(
        "\n{:>4}  {:<30}  {:>9}",
        "rank", "(lr, l2, hidden)", "eval loss"
    );
    for (rank, o) in top.iter().enumerate() {
        let c = &history.trial(o.trial).config;
        let triple = format!(
            "({}, {}, {})",
            pow10(c.f64("lr").unwrap_or(f64::NAN)),
            pow10(c.f64("l2").unwrap_or(f64::NAN)),
            pow10(c.f64("hidden").unwrap_or(f64::NAN))
        );
        println!("{:>4}  {triple:<30}  {:>9.4}", rank + 1, o.loss);
    }
    println!(
        "\nbest: lr = {:.4}, l2 = {:.2e}, hidden = {}: validation loss {:.4}, test error {:.2}%",
        best_config.f64("lr").unwrap_or(f64::NAN),
        best_config.f64("l2").unwrap_or(f64::NAN),
        best_config
            .get("hidden")
            .map(|v| v.to_string())
            .unwrap_or_default(),
        best.loss,
        100.0 * test_error
    );
    println!("plot: {}", args.plot.display());
    println!("report: {}", args.report.display());
    Ok(())
}
