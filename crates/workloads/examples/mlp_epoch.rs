//! Milliseconds per training epoch of the MNIST perceptron, for the comparison with PyTorch in
//! `benches/pytorch/` (same network, batch size, data size and thread count).
//!
//! An epoch is one pass over all 10,000 bundled digits in minibatches of 100 (100 SGD steps;
//! `--batch` changes the minibatch size).
//! Prints one JSON object per (hidden, threads) setting with the median and minimum over the
//! timed epochs.
//!
//! ```text
//! cargo run --release -p workloads --example mlp_epoch -- [--hidden 100,1000] [--threads 1,2] [--epochs 7] [--batch 100]
//! ```

use std::time::Instant;
use workloads::mnist::{bundled, MlpParams, TrainSettings, Trainer};

fn list(args: &[String], flag: &str, default: &[usize]) -> Vec<usize> {
    match args.iter().position(|a| a == flag) {
        Some(i) => args[i + 1]
            .split(',')
            .map(|v| v.parse().expect("a number"))
            .collect(),
        None => default.to_vec(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let hiddens = list(&args, "--hidden", &[100, 1000]);
    let threads = list(&args, "--threads", &[1, 2]);
    let epochs = list(&args, "--epochs", &[7])[0];
    let batch = list(&args, "--batch", &[100])[0];
    let data = bundled().expect("bundled digits");
    let steps_per_epoch = (data.len() / batch) as u64;
    for &hidden in &hiddens {
        for &t in &threads {
            let params = MlpParams {
                lr: 0.01,
                l2: 1e-4,
                hidden,
            };
            let settings = TrainSettings {
                batch_size: batch,
                seed: 1,
                threads: t,
            };
            let mut trainer = Trainer::new(params, settings).expect("valid config");
            // One untimed epoch warms caches, the rayon pool and the CPU's clock.
            trainer.train_to_step(&data, steps_per_epoch).unwrap();
            let mut ms: Vec<f64> = (0..epochs)
                .map(|_| {
                    let start = Instant::now();
                    let target = trainer.steps() + steps_per_epoch;
                    trainer.train_to_step(&data, target).unwrap();
                    start.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            ms.sort_by(f64::total_cmp);
            println!(
                "{}",
                serde_json::json!({
                    "impl": "rust-faer",
                    "hidden": hidden,
                    "threads": t,
                    "batch": batch,
                    "samples_per_epoch": data.len(),
                    "epochs": epochs,
                    "ms_per_epoch_median": ms[ms.len() / 2],
                    "ms_per_epoch_min": ms[0],
                })
            );
        }
    }
}
