//! Proposal cost of the model-based samplers on a 6-dimensional space, release mode:
//!
//! ```text
//! cargo run --release -p hyperband --example sampler_cost
//! ```
//!
//! Histories are built by random search through the ask/tell API on a smooth function, then
//! each sampler proposes from stream k of a fixed seed; the figures are the median and the
//! slowest wall time per proposal.

use hyperband::{Decision, FullBudget, Limits, Outcome, Param, Random, Sampler, Settings, Space};
use hyperband::{Study, Tpe};
use std::time::Instant;

fn space() -> Space {
    Space::new(vec![
        Param::float("a", 0.0, 1.0),
        Param::float("b", -5.0, 5.0),
        Param::log_float("lr", 1e-5, 1e-1),
        Param::int("layers", 1, 8),
        Param::log_int("hidden", 8, 1024),
        Param::categorical("act", &["relu", "tanh", "gelu"]),
    ])
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

/// Median and slowest wall time per proposal, in milliseconds: the median is what a
/// proposal costs, robust to other processes sharing the machine.
fn time(sampler: &dyn Sampler, study: &Study, reps: u64) -> (f64, f64) {
    let mut times: Vec<f64> = (0..reps)
        .map(|k| {
            let mut rng = hyperband::rng::stream(7, k);
            let start = Instant::now();
            let config = sampler.propose(study.space(), study.history(), &mut rng);
            let t = start.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(config);
            t
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1])
}

fn main() {
    // The model path only: the random share of proposals costs nothing.
    let tpe = Tpe::new(hyperband::TpeConfig {
        random_fraction: 0.0,
        ..Default::default()
    });
    for n in [1_000, 10_000] {
        let study = random_study(n);
        let (median, worst) = time(&tpe, &study, 200);
        println!("tpe  n = {n:>6}: {median:.3} ms median, {worst:.3} ms slowest (d = 6)");
    }
}
