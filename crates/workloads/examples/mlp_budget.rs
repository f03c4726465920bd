//! Validation and test error of a few configurations along the budget ladder 1, 3, 9, 27, 81
//! (resuming each rung from the previous one, as Hyperband's promotions do), with the time
//! each took: the evidence behind the choice of `ITERATIONS_PER_UNIT`.
//!
//! ```text
//! cargo run --release -p workloads --example mlp_budget -- [--config 0.1,1e-4,100]... [--seed 0] [--threads 1] [--ipu N] [--batch B]
//! ```

use std::time::Instant;
use workloads::mnist::{bundled_splits, MlpParams, TrainSettings, Trainer, ITERATIONS_PER_UNIT};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args[i + 1].clone())
    };
    let seed: u64 = value("--seed").map_or(0, |s| s.parse().unwrap());
    let threads: usize = value("--threads").map_or(1, |s| s.parse().unwrap());
    // Steps per unit to try instead of the crate's choice (for choosing it).
    let ipu: u64 = value("--ipu").map_or(ITERATIONS_PER_UNIT, |s| s.parse().unwrap());
    let batch_size: usize =
        value("--batch").map_or(TrainSettings::default().batch_size, |s| s.parse().unwrap());
    let mut configs: Vec<MlpParams> = args
        .windows(2)
        .filter(|w| w[0] == "--config")
        .map(|w| {
            let v: Vec<f64> = w[1].split(',').map(|x| x.parse().unwrap()).collect();
            MlpParams {
                lr: v[0],
                l2: v[1],
                hidden: v[2] as usize,
            }
        })
        .collect();
    if configs.is_empty() {
        for (lr, l2, hidden) in [
            (0.1, 1e-4, 100),
            (0.1, 1e-4, 300),
            (0.1, 1e-4, 1000),
            (0.1, 1e-3, 300),
            (0.03, 1e-5, 300),
        ] {
            configs.push(MlpParams { lr, l2, hidden });
        }
    }
    let data = bundled_splits(seed).expect("bundled digits");
    for params in configs {
        let settings = TrainSettings {
            seed,
            threads,
            batch_size,
        };
        let mut t = Trainer::new(params, settings).unwrap();
        let mut seconds = 0.0;
        for budget in [1.0, 3.0, 9.0, 27.0, 81.0] {
            let start = Instant::now();
            let outcome = t.train_to_step(&data.train, (budget * ipu as f64) as u64);
            seconds += start.elapsed().as_secs_f64();
            if let Err(e) = outcome {
                println!(
                    "{}",
                    serde_json::json!({"config": params, "budget": budget, "error": e.to_string()})
                );
                break;
            }
            let (val, test) = (t.evaluate(&data.val), t.evaluate(&data.test));
            println!(
                "{}",
                serde_json::json!({
                    "config": params,
                    "budget": budget,
                    "steps": t.steps(),
                    "iterations_per_unit": ipu,
                    "val_loss": val.loss,
                    "val_error": val.error_rate,
                    "test_error": test.error_rate,
                    "train_seconds": seconds,
                })
            );
        }
    }
}
