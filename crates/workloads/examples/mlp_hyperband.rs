//! A rough stand-in for `hyperband demo mnist`, to size the budget unit: Hyperband with R = 81,
//! eta = 3 over the talk's space (lr log 1e-3..1e-1, L2 log 1e-6..1e-1, hidden log-int
//! 10..1000), every bracket once, two worker threads each training with one GEMM thread,
//! promoted configurations resuming from their in-memory state (only new iterations are
//! paid). Rungs are synchronous, so it is if anything slower than a real scheduler.
//!
//! ```text
//! cargo run --release -p workloads --example mlp_hyperband -- [--seed 0] [--workers 2] [--ipu N] [--batch B]
//! ```

use rand::{Rng, SeedableRng};
use std::sync::Mutex;
use std::time::Instant;
use workloads::mnist::{
    bundled_splits, Eval, MlpParams, TrainSettings, Trainer, ITERATIONS_PER_UNIT,
};

struct Trial {
    trainer: Trainer,
    val: Option<Eval>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args[i + 1].clone())
    };
    let seed: u64 = value("--seed").map_or(0, |s| s.parse().unwrap());
    let workers: usize = value("--workers").map_or(2, |s| s.parse().unwrap());
    let ipu: u64 = value("--ipu").map_or(ITERATIONS_PER_UNIT, |s| s.parse().unwrap());
    let batch_size: usize =
        value("--batch").map_or(TrainSettings::default().batch_size, |s| s.parse().unwrap());
    let (r_max, eta) = (81.0f64, 3.0f64);
    let data = bundled_splits(seed).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let log_uniform = |rng: &mut rand_chacha::ChaCha8Rng, lo: f64, hi: f64| {
        (rng.random::<f64>() * (hi.ln() - lo.ln()) + lo.ln()).exp()
    };
    let start = Instant::now();
    let mut spent = 0.0;
    let mut finished: Vec<(MlpParams, Eval, f64, Trainer)> = Vec::new();
    let s_max = 4;
    for s in (0..=s_max).rev() {
        let n = ((s_max + 1) as f64 / (s + 1) as f64 * eta.powi(s)).ceil() as usize;
        let mut trials: Vec<Trial> = (0..n)
            .map(|_| {
                let params = MlpParams {
                    lr: log_uniform(&mut rng, 1e-3, 1e-1),
                    l2: log_uniform(&mut rng, 1e-6, 1e-1),
                    hidden: log_uniform(&mut rng, 10.0, 1000.5).round() as usize,
                };
                let settings = TrainSettings {
                    batch_size,
                    seed,
                    threads: 1,
                };
                Trial {
                    trainer: Trainer::new(params, settings).unwrap(),
                    val: None,
                }
            })
            .collect();
        for i in 0..=s {
            let budget = r_max * eta.powi(i - s);
            let target = (budget * ipu as f64).round() as u64;
            for t in &trials {
                spent += (target - t.trainer.steps()) as f64 / ipu as f64;
            }
            let queue = Mutex::new(trials.iter_mut().collect::<Vec<_>>());
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(|| loop {
                        let Some(t) = queue.lock().unwrap().pop() else {
                            break;
                        };
                        t.val = match t.trainer.train_to_step(&data.train, target) {
                            Ok(()) => Some(t.trainer.evaluate(&data.val)),
                            Err(_) => None,
                        };
                    });
                }
            });
            let key = |t: &Trial| {
                t.val.map_or(f64::INFINITY, |e| {
                    if e.loss.is_finite() {
                        e.loss
                    } else {
                        f64::INFINITY
                    }
                })
            };
            trials.sort_by(|a, b| key(a).total_cmp(&key(b)));
            let keep = ((trials.len() as f64 / eta).floor() as usize).max(1);
            if i < s {
                trials.truncate(keep);
            }
        }
        for t in trials {
            if let Some(v) = t.val {
                finished.push((
                    *t.trainer.params(),
                    v,
                    t.trainer.steps() as f64 / ipu as f64,
                    t.trainer,
                ));
            }
        }
    }
    finished.retain(|f| f.1.loss.is_finite() && (f.2 - r_max).abs() < 1e-9);
    finished.sort_by(|a, b| a.1.loss.total_cmp(&b.1.loss));
    let seconds = start.elapsed().as_secs_f64();
    let best = &mut finished[0];
    let test = best.3.evaluate(&data.test);
    println!(
        "{}",
        serde_json::json!({
            "seed": seed, "workers": workers, "ipu": ipu, "batch": batch_size,
            "budget_spent": spent, "seconds": seconds,
            "best": {"config": best.0, "val_loss": best.1.loss, "val_error": best.1.error_rate, "test_error": test.error_rate},
        })
    );
}
