//! Cost of parameter importance (PED-ANOVA, `hyperband::importance`) for 10,000 results
//! with 10 parameters, release mode:
//!
//! ```text
//! cargo run --release -p hyperband --example importance_cost
//! ```
//!
//! The study is built by random search through the ask/tell API, one result per trial at
//! one budget, on a space of every kind of parameter (floats on linear and log scales,
//! integers with few and with many values, a categorical, a conditional float). Prints the
//! medians of wall time and of the thread's CPU time per computation (the latter is what
//! to read on a machine shared with other work), the slowest wall time, and the shares.

use hyperband::importance::{of_study, ImportanceOptions};
use hyperband::{Decision, FullBudget, Limits, Outcome, Param, Random, Settings, Space, Study};
use std::time::Instant;

fn space() -> Space {
    Space::new(vec![
        Param::log_float("lr", 1e-5, 1e-1),
        Param::float("dropout", 0.0, 0.8),
        Param::float("momentum", 0.0, 0.99),
        Param::log_float("weight_decay", 1e-6, 1e-2),
        Param::int("layers", 1, 8),
        Param::log_int("hidden", 8, 1024),
        Param::int("batch", 16, 512),
        Param::categorical("act", &["relu", "tanh", "gelu"]),
        Param::categorical("optimizer", &["sgd", "adam"]),
        Param::float("nesterov_gain", 0.0, 1.0)
            .when("optimizer == 'sgd'")
            .unwrap(),
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
        // Unit coordinates, weighted from strong (lr) to none (the last ones).
        let u = study.space().to_unit(&job.config).unwrap();
        let loss = u
            .iter()
            .enumerate()
            .map(|(i, x)| (x - 0.3).powi(2) / (1 << i) as f64)
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

fn main() {
    let n = 10_000;
    let study = random_study(n);
    let options = ImportanceOptions::default();
    let reps = 30;
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..reps {
        let (start, cpu_start) = (Instant::now(), thread_cpu_ms());
        let imp = of_study(&study, &options).unwrap();
        cpu.push(thread_cpu_ms() - cpu_start);
        wall.push(start.elapsed().as_secs_f64() * 1e3);
        last = Some(std::hint::black_box(imp));
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let imp = last.unwrap();
    println!(
        "importance, n = {n}, d = {}: median {:.2} ms wall, {:.2} ms CPU; slowest {:.2} ms wall ({reps} runs)",
        study.space().len(),
        wall[reps / 2],
        cpu[reps / 2],
        wall[reps - 1]
    );
    println!(
        "budget {}, {} results, {} top (loss <= {:.4})",
        imp.budget, imp.results, imp.top, imp.cutoff
    );
    for (name, share) in &imp.params {
        println!("  {name:<14} {share:.4}");
    }
}
