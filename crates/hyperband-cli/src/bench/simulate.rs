//! `hyperband bench simulate`: schedulers on a simulated cluster of many workers, each job
//! taking virtual time equal to its budget, scored by regret against simulated wall-clock
//! time and by how busy the workers were.

use super::stats::median;
use super::synthetic::{spec_for, Method};
use crate::cli_error::bad_input;
use crate::synthetic;
use hyperband::executor::simulate;
use hyperband::Limits;
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    #[arg(long, default_value = "mf-hartmann6")]
    pub problem: String,
    #[arg(long, default_value_t = 256)]
    pub workers: usize,
    /// Simulated time, in budget units (a job at budget b runs for b).
    #[arg(long, default_value_t = 2000.0)]
    pub time: f64,
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "hyperband,asha,async-hyperband"
    )]
    pub methods: Vec<Method>,
    /// Report the simulated time each method needs to reach this regret.
    #[arg(long, default_value_t = 0.1)]
    pub target_regret: f64,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    let problem = workloads::synthetic::by_name(&args.problem).map_err(bad_input)?;
    let mut rows = Vec::new();
    for &method in &args.methods {
        let (mut utilisation, mut reach, mut finals) = (Vec::new(), Vec::new(), Vec::new());
        for seed in 0..args.seeds {
            let spec = spec_for(problem.as_ref(), method, 3, seed);
            let mut study = spec.build(Limits::default()).map_err(bad_input)?;
            let mut regret_of: HashMap<u64, f64> = HashMap::new();
            let (mut reached, mut last) = (f64::INFINITY, f64::INFINITY);
            let report = simulate(
                &mut study,
                args.workers,
                args.time,
                |job| {
                    let loss = synthetic::evaluate(problem.as_ref(), job, seed);
                    (loss, job.budget)
                },
                |t, study| {
                    let Some(inc) = study.incumbent() else { return };
                    let regret = *regret_of.entry(inc.trial.0).or_insert_with(|| {
                        problem.regret(&synthetic::point(&study.history().trial(inc.trial).config))
                    });
                    last = regret;
                    if regret <= args.target_regret && reached.is_infinite() {
                        reached = t;
                    }
                },
            );
            utilisation.push(report.utilisation);
            reach.push(reached);
            finals.push(last);
        }
        rows.push(json!({
            "method": method.name(),
            "utilisation": median(&utilisation),
            "time_to_target": median(&reach),
            "seeds_reaching_target": reach.iter().filter(|t| t.is_finite()).count(),
            "median_final_regret": median(&finals),
        }));
    }
    let report = json!({
        "problem": args.problem,
        "workers": args.workers,
        "time": args.time,
        "seeds": args.seeds,
        "target_regret": args.target_regret,
        "methods": rows,
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    println!(
        "{} on {} simulated workers for {} time units, {} seeds (target regret {})",
        args.problem, args.workers, args.time, args.seeds, args.target_regret
    );
    println!(
        "{:<16} {:>12} {:>16} {:>14}",
        "method", "busy", "time to target", "final regret"
    );
    for r in &rows {
        println!(
            "{:<16} {:>11.1}% {:>16.0} {:>14.3e}",
            r["method"].as_str().unwrap_or_default(),
            100.0 * r["utilisation"].as_f64().unwrap_or(f64::NAN),
            r["time_to_target"].as_f64().unwrap_or(f64::INFINITY),
            r["median_final_regret"].as_f64().unwrap_or(f64::NAN),
        );
    }
    Ok(())
}
