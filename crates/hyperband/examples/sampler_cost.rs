//! Proposal cost of the model-based samplers on a 6-dimensional space, release mode:
//!
//! ```text
//! cargo run --release -p hyperband --example sampler_cost
//! ```
//!
//! Histories are built by random search through the ask/tell API on a smooth function, then
//! each sampler proposes from stream k of a fixed seed. The figures are medians of wall
//! time and of the thread's CPU time per proposal (the latter is what to read on a machine
//! shared with other work), and the slowest wall time.

use hyperband::{Decision, FullBudget, Limits, Outcome, Param, Random, Sampler, Settings, Space};
use hyperband::{Gp, Study, Tpe};
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

/// CPU time of this thread, which other processes sharing the machine do not inflate.
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 * 1e-6
}

/// Medians of wall and CPU time per proposal, and the slowest wall time, in milliseconds.
fn time(sampler: &dyn Sampler, study: &Study, reps: u64) -> (f64, f64, f64) {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for k in 0..reps {
        let mut rng = hyperband::rng::stream(7, k);
        let (start, cpu_start) = (Instant::now(), thread_cpu_ms());
        let config = sampler.propose(study.space(), study.history(), &mut rng);
        cpu.push(thread_cpu_ms() - cpu_start);
        wall.push(start.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(config);
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let mid = wall.len() / 2;
    (wall[mid], cpu[mid], wall[wall.len() - 1])
}

fn report(name: &str, n: u64, (wall, cpu, worst): (f64, f64, f64)) {
    println!(
        "{name:<4} n = {n:>6}, d = 6: median {wall:7.3} ms wall, {cpu:7.3} ms CPU; slowest {worst:7.3} ms wall"
    );
}

fn main() {
    // The model path only: the random share of proposals costs nothing.
    let tpe = Tpe::new(hyperband::TpeConfig {
        random_fraction: 0.0,
        ..Default::default()
    });
    for n in [1_000, 10_000] {
        let study = random_study(n);
        report("tpe", n, time(&tpe, &study, 200));
    }
    let gp = Gp::default();
    for n in [100, 500] {
        let study = random_study(n);
        report("gp", n, time(&gp, &study, 15));
    }
}
