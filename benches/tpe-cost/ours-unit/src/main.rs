//! Our `Tpe` on six floats in [0, 1]: exactly crates/hyperband/examples/sampler_cost.rs
//! (history by random search through ask/tell, loss sum_i (u_i - 0.1 i)^2, the model path
//! only, proposals from stream k of seed 7) with the space swapped.
//!
//! ```text
//! cargo run --release -- --observations 1000 --reps 200
//! ```

use hyperband::{Decision, FullBudget, Limits, Outcome, Param, Random, Sampler, Settings, Space};
use hyperband::{Study, Tpe};
use std::time::Instant;

fn space() -> Space {
    Space::new(
        ["x0", "x1", "x2", "x3", "x4", "x5"]
            .iter()
            .map(|n| Param::float(n, 0.0, 1.0))
            .collect(),
    )
    .unwrap()
}

fn random_study(n: u64) -> Study {
    let settings = Settings {
        seed: 1,
        limits: Limits {
            max_trials: Some(n),
            ..Limits::default()
        },
        ..Settings::default()
    };
    let mut study = Study::new(
        space(),
        Box::new(Random),
        Box::new(FullBudget::new(1.0)),
        settings,
    );
    while let Decision::Run(job) = study.ask() {
        let u = study.space().to_unit(&job.config).unwrap();
        let loss = u
            .iter()
            .enumerate()
            .map(|(i, x)| (x - 0.1 * i as f64).powi(2))
            .sum::<f64>();
        study.tell(job.id, Outcome::loss(loss)).unwrap();
    }
    study
}

fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 * 1e-6
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = arg(&args, "--observations", "1000").parse().unwrap();
    let reps: u64 = arg(&args, "--reps", "200").parse().unwrap();
    let tpe = Tpe::new(hyperband::TpeConfig {
        random_fraction: 0.0,
        ..Default::default()
    });
    let study = random_study(n);
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for k in 0..reps {
        let mut rng = hyperband::rng::stream(7, k);
        let (start, cpu_start) = (Instant::now(), thread_cpu_ms());
        let config = tpe.propose(study.space(), study.history(), &mut rng);
        cpu.push(thread_cpu_ms() - cpu_start);
        wall.push(start.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(config);
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    println!(
        "{{\"sampler\":\"ours-tpe\",\"observations\":{n},\"space\":\"unit\",\"reps\":{reps},\"median_ms\":{},\"median_cpu_ms\":{},\"max_ms\":{}}}",
        wall[wall.len() / 2],
        cpu[cpu.len() / 2],
        wall[wall.len() - 1]
    );
}
