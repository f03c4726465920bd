//! The synthetic problems of `workloads` as hyperband spaces and objectives.

use hyperband::{Config, Job, Param, Space, Value};
use workloads::synthetic::{DimKind, NoiseSeed, Problem};

/// The problem's domain as a search space: continuous dimensions become floats, binary
/// ones a two-way categorical (so that model-based samplers treat them as categories).
pub fn space(problem: &dyn Problem) -> Space {
    let params = problem
        .dims()
        .iter()
        .map(|d| match d.kind {
            DimKind::Continuous { low, high } => Param::float(&d.name, low, high),
            DimKind::Binary => Param::categorical(&d.name, &["0", "1"]),
        })
        .collect();
    Space::new(params).expect("the synthetic problems have valid domains")
}

/// The point of the problem's domain that `config` stands for.
pub fn point(config: &Config) -> Vec<f64> {
    config
        .values()
        .iter()
        .map(|v| match v {
            Value::Float(x) => *x,
            Value::Int(x) => *x as f64,
            Value::Categorical(c) => {
                if c == "1" {
                    1.0
                } else {
                    0.0
                }
            }
        })
        .collect()
}

/// The observed loss of `job`, its noise seeded by (run seed, job number).
pub fn evaluate(problem: &dyn Problem, job: &Job, run_seed: u64) -> f64 {
    let budget = job.budget.clamp(problem.min_budget(), problem.max_budget());
    problem.evaluate(
        &point(&job.config),
        budget,
        NoiseSeed::new(run_seed, job.id.0),
    )
}
