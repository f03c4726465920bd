//! `hyperband bench mnist`: the talk's comparison on real training. Random search, Bayesian
//! optimization (GP-EI at full budget), Hyperband, BOHB and Hyperband with the
//! multi-fidelity GP tune the MNIST MLP on equal
//! total budget; the table gives the median best validation loss and how much less budget
//! each method needed to reach random search's final median loss.

use super::stats::{median, quantile};
use crate::cli_error::bad_input;
use crate::mnist::{self, MnistObjective};
use crate::plot::{self, Series};
use hyperband::executor::ThreadExecutor;
use hyperband::{Limits, SamplerKind, SchedulerKind};
use serde_json::json;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Debug, clap::Args)]
pub struct MnistBenchArgs {
    /// Seeds per method (each seed is a whole tuning run).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Total budget per run in full-budget trainings (R = 81 units of 100 SGD steps);
    /// 19.5 is one pass of Hyperband's brackets when promotions resume from checkpoints.
    #[arg(long, default_value_t = 19.5)]
    pub budget: f64,
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "random,gp,hyperband,bohb"
    )]
    pub methods: Vec<String>,
    /// Worker threads per run.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    #[arg(long, default_value = "out/bench/mnist")]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
    /// Load a method's runs from OUT/traces/METHOD.json when they were made with the same
    /// seeds, budget and workers, instead of running it again.
    #[arg(long)]
    pub reuse: bool,
}

fn algorithm(method: &str) -> anyhow::Result<(SchedulerKind, SamplerKind)> {
    Ok(match method {
        "random" => (SchedulerKind::FullBudget, SamplerKind::Random),
        "gp" => (SchedulerKind::FullBudget, SamplerKind::Gp),
        "hyperband" => (SchedulerKind::Hyperband, SamplerKind::Random),
        "bohb" => (SchedulerKind::Hyperband, SamplerKind::Tpe),
        "mf-gp" => (SchedulerKind::Hyperband, SamplerKind::MfGp),
        other => {
            return Err(bad_input(anyhow::anyhow!(
                "unknown method `{other}` (expected random, gp, hyperband, bohb or mf-gp)"
            )))
        }
    })
}

/// (budget spent, best validation loss so far) after each finished job.
fn run_one(method: &str, seed: u64, args: &MnistBenchArgs) -> anyhow::Result<Vec<(f64, f64)>> {
    let (scheduler, sampler) = algorithm(method)?;
    let spec = mnist::spec(seed, scheduler, sampler);
    let limits = Limits {
        max_total_budget: Some(args.budget * 81.0),
        max_trials: None,
    };
    let mut study = spec.build(limits).map_err(bad_input)?;
    // The data split is fixed across methods and seeds, so that only the search differs.
    let data = Arc::new(workloads::mnist::bundled_splits(0)?);
    let dir = std::env::temp_dir().join(format!(
        "hyperband-bench-mnist-{}-{method}-{seed}",
        std::process::id()
    ));
    let objective = MnistObjective::new(data, &dir, seed);
    let trace = Mutex::new((0.0, f64::INFINITY, Vec::new()));
    ThreadExecutor::new(args.workers).run(
        &mut study,
        |job| objective.run(job),
        &mut |study, job, _| {
            let record = &study.jobs()[job.id.0 as usize];
            let mut t = trace.lock().expect("no panics under the lock");
            t.0 += record.cost;
            if let Some(loss) = record.loss {
                t.1 = f64::min(t.1, loss);
            }
            let point = (t.0, t.1);
            t.2.push(point);
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(trace.into_inner().expect("no panics").2)
}

fn at(trace: &[(f64, f64)], x: f64) -> Option<f64> {
    let i = trace.partition_point(|p| p.0 <= x + 1e-9);
    (i > 0).then(|| trace[i - 1].1).filter(|v| v.is_finite())
}

/// One method's runs, kept on disk so a long comparison can be run in parts
/// (`--reuse` loads them back when they were made with the same seeds, budget and workers).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Traces {
    method: String,
    seeds: u64,
    budget: f64,
    workers: usize,
    /// The hyperband version that produced them, and the wall time of all seeds.
    version: String,
    wall_s: f64,
    runs: Vec<Vec<(f64, f64)>>,
}

fn traces(method: &str, args: &MnistBenchArgs) -> anyhow::Result<Traces> {
    let path = args.out.join("traces").join(format!("{method}.json"));
    if args.reuse {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let t: Traces = serde_json::from_str(&text).map_err(|e| {
                bad_input(anyhow::anyhow!(
                    "{}: not a trace file of `bench mnist` ({e}); delete it or run without --reuse",
                    path.display()
                ))
            })?;
            if t.seeds == args.seeds && t.budget == args.budget && t.workers == args.workers {
                eprintln!("{method}: reusing {}", path.display());
                return Ok(t);
            }
        }
    }
    let started = std::time::Instant::now();
    let runs = (0..args.seeds)
        .map(|seed| run_one(method, seed, args))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let t = Traces {
        method: method.to_string(),
        seeds: args.seeds,
        budget: args.budget,
        workers: args.workers,
        version: env!("CARGO_PKG_VERSION").to_string(),
        wall_s: started.elapsed().as_secs_f64(),
        runs,
    };
    std::fs::create_dir_all(path.parent().expect("a folder"))?;
    std::fs::write(&path, serde_json::to_string(&t)?)?;
    eprintln!("{method}: {} seeds in {:.0} s", t.seeds, t.wall_s);
    Ok(t)
}

pub fn run(args: &MnistBenchArgs) -> anyhow::Result<()> {
    for m in &args.methods {
        algorithm(m)?;
    }
    let total = args.budget * 81.0;
    let grid: Vec<f64> = (1..=200).map(|k| total * k as f64 / 200.0).collect();
    let mut rows = Vec::new();
    let mut series = Vec::new();
    let mut curves = Vec::new();
    for method in &args.methods {
        let t = traces(method, args)?;
        let finals: Vec<f64> = t
            .runs
            .iter()
            .filter_map(|r| r.last().map(|p| p.1))
            .collect();
        let curve: Vec<(f64, f64)> = grid
            .iter()
            .filter_map(|&x| {
                let at_x: Vec<f64> = t.runs.iter().filter_map(|r| at(r, x)).collect();
                (at_x.len() * 2 > t.runs.len()).then(|| (x, median(&at_x)))
            })
            .collect();
        rows.push(json!({
            "method": method,
            "median_best_val_loss": median(&finals),
            "q25": quantile(&finals, 0.25),
            "q75": quantile(&finals, 0.75),
            "wall_s": t.wall_s,
        }));
        series.push(Series {
            name: method.clone(),
            points: curve.clone(),
        });
        curves.push((method.clone(), curve));
    }
    // How much less budget each method needs to reach random search's final median loss
    // than random search itself needed (its median curve may flatten before the end, so
    // this is not the total budget).
    let reach =
        |curve: &[(f64, f64)], target: f64| curve.iter().find(|p| p.1 <= target).map(|p| p.0);
    let random = curves.iter().find(|(m, _)| m == "random").map(|(_, c)| c);
    let target = random.and_then(|c| c.last().map(|p| p.1));
    let random_reach = random.zip(target).and_then(|(c, t)| reach(c, t));
    if let (Some(target), Some(random_reach)) = (target, random_reach) {
        for (row, (_, curve)) in rows.iter_mut().zip(&curves) {
            let reached = reach(curve, target);
            row["budget_to_random_final"] = json!(reached);
            row["speedup"] = json!(reached.map(|b| random_reach / b));
        }
    }
    std::fs::create_dir_all(&args.out)?;
    let plot_path = args.out.join("best-val-loss.svg");
    plot::lines(
        &plot_path,
        &format!(
            "MNIST MLP: median best validation loss ({} seeds)",
            args.seeds
        ),
        "budget spent (units of 100 SGD steps)",
        "validation cross-entropy",
        &series,
        true,
    )?;
    let report = json!({
        "seeds": args.seeds,
        "budget": args.budget,
        "total_units": total,
        "random_final_median": target,
        "methods": rows,
        "plot": plot_path,
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    println!(
        "MNIST MLP, {} seeds, {} full trainings of budget each ({} units)",
        args.seeds, args.budget, total
    );
    for r in &rows {
        let speedup = match r["speedup"].as_f64() {
            Some(s) => format!(
                "reached random search's final median after {:.0} units: {s:.2}x",
                r["budget_to_random_final"].as_f64().unwrap_or(f64::NAN)
            ),
            None if target.is_some() => "did not reach random search's final median".into(),
            None => String::new(),
        };
        println!(
            "{:<10} median best validation loss {:.4} (q25 {:.4}, q75 {:.4})  {speedup}",
            r["method"].as_str().unwrap_or_default(),
            r["median_best_val_loss"].as_f64().unwrap_or(f64::NAN),
            r["q25"].as_f64().unwrap_or(f64::NAN),
            r["q75"].as_f64().unwrap_or(f64::NAN),
        );
    }
    println!("plot: {}", plot_path.display());
    Ok(())
}
