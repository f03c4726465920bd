//! Proposal cost of the `optimizer` crate's TPE sampler, in the setting of
//! crates/hyperband/examples/sampler_cost.rs:
//!
//! ```text
//! cargo run --release -- --observations 1000 --reps 200 [--space mixed|unit]
//! ```
//!
//! The same 6-parameter space (float, float, log-float, int, log-int, 3-way categorical;
//! or six floats in [0, 1] with `--space unit`), N observations at uniformly random points
//! (uniform on each parameter's scale) with the loss sum_i (u_i - 0.1 i)^2 of their
//! unit-cube coordinates u. The crate has no "add a finished trial" call, so the history is
//! built through its own ask/tell API: each point is `enqueue`d, asked, its six values
//! suggested (which returns the enqueued values without calling the sampler) and told.
//! Then one proposal is `study.ask()` plus suggesting the six parameters (the crate, like
//! Optuna, samples each parameter when it is suggested). Asked trials are dropped, not
//! told, so every proposal sees the same N observations. Prints one JSON line with the
//! medians of wall time and of this thread's CPU time per proposal, in milliseconds.

use optimizer::parameter::{CategoricalParam, FloatParam, IntParam, ParamValue, Parameter};
use optimizer::sampler::tpe::TpeSampler;
use optimizer::{Direction, Study, Trial};
use std::collections::HashMap;
use std::time::Instant;

/// SplitMix64: a fixed, dependency-free stream of uniform numbers for the history.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

enum P {
    Float(FloatParam, f64, f64, bool),
    Int(IntParam, i64, i64, bool),
    Cat(CategoricalParam<&'static str>, usize),
}

impl P {
    fn id(&self) -> optimizer::parameter::ParamId {
        match self {
            P::Float(p, ..) => p.id(),
            P::Int(p, ..) => p.id(),
            P::Cat(p, _) => p.id(),
        }
    }

    /// A value uniform on the parameter's scale from u in [0, 1), and its unit coordinate
    /// as our `Space::to_unit` computes it (ints at cell centres, categoricals at i + 0.5).
    fn from_unit(&self, u: f64) -> (ParamValue, f64) {
        match *self {
            P::Float(_, lo, hi, log) => {
                if log {
                    let (a, b) = (lo.ln(), hi.ln());
                    (ParamValue::Float((a + u * (b - a)).exp().clamp(lo, hi)), u)
                } else {
                    (ParamValue::Float(lo + u * (hi - lo)), u)
                }
            }
            P::Int(_, lo, hi, log) => {
                let (a, b) = (lo as f64 - 0.5, hi as f64 + 0.5);
                if log {
                    let t = (a.ln() + u * (b.ln() - a.ln())).exp();
                    let x = (t.round() as i64).clamp(lo, hi);
                    let c = ((x as f64 - 0.5).ln() + (x as f64 + 0.5).ln()) / 2.0;
                    (ParamValue::Int(x), (c - a.ln()) / (b.ln() - a.ln()))
                } else {
                    let x = ((a + u * (b - a)).round() as i64).clamp(lo, hi);
                    (ParamValue::Int(x), (x as f64 - a) / (b - a))
                }
            }
            P::Cat(_, n) => {
                let i = ((u * n as f64) as usize).min(n - 1);
                (ParamValue::Categorical(i), (i as f64 + 0.5) / n as f64)
            }
        }
    }

    fn suggest(&self, trial: &mut Trial) -> f64 {
        match self {
            P::Float(p, ..) => p.suggest(trial).unwrap(),
            P::Int(p, ..) => p.suggest(trial).unwrap() as f64,
            P::Cat(p, _) => p.suggest(trial).unwrap().len() as f64,
        }
    }
}

fn space(kind: &str) -> Vec<P> {
    if kind == "unit" {
        return (0..6)
            .map(|_| P::Float(FloatParam::new(0.0, 1.0), 0.0, 1.0, false))
            .collect();
    }
    vec![
        P::Float(FloatParam::new(0.0, 1.0), 0.0, 1.0, false),
        P::Float(FloatParam::new(-5.0, 5.0), -5.0, 5.0, false),
        P::Float(FloatParam::new(1e-5, 1e-1).log_scale(), 1e-5, 1e-1, true),
        P::Int(IntParam::new(1, 8), 1, 8, false),
        P::Int(IntParam::new(8, 1024).log_scale(), 8, 1024, true),
        P::Cat(CategoricalParam::new(vec!["relu", "tanh", "gelu"]), 3),
    ]
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
    let n: usize = arg(&args, "--observations", "1000").parse().unwrap();
    let reps: usize = arg(&args, "--reps", "200").parse().unwrap();
    let kind = arg(&args, "--space", "mixed");
    let params = space(&kind);

    // The crate's defaults (gamma 0.25, 10 startup trials, 24 EI candidates, Scott's-rule
    // bandwidth, independent per-parameter sampling); a fixed seed so runs repeat.
    let sampler = TpeSampler::builder().seed(7).build().unwrap();
    let study: Study<f64> = Study::with_sampler(Direction::Minimize, sampler);

    let mut rng = Rng(1);
    for _ in 0..n {
        let mut fixed = HashMap::new();
        let mut loss = 0.0;
        for (i, p) in params.iter().enumerate() {
            let (v, u) = p.from_unit(rng.next_f64());
            loss += (u - 0.1 * i as f64).powi(2);
            fixed.insert(p.id(), v);
        }
        study.enqueue(fixed);
        let mut trial = study.ask();
        for p in &params {
            p.suggest(&mut trial);
        }
        study.tell(trial, Ok::<_, &str>(loss));
    }
    assert_eq!(study.n_trials(), n);

    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..reps {
        let (start, cpu_start) = (Instant::now(), thread_cpu_ms());
        let mut trial = study.ask();
        let config: Vec<f64> = params.iter().map(|p| p.suggest(&mut trial)).collect();
        cpu.push(thread_cpu_ms() - cpu_start);
        wall.push(start.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box((trial, config));
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    println!(
        "{{\"sampler\":\"optimizer-tpe\",\"observations\":{n},\"space\":\"{kind}\",\"reps\":{reps},\"median_ms\":{},\"median_cpu_ms\":{},\"max_ms\":{},\"version\":\"1.0.1\"}}",
        wall[wall.len() / 2],
        cpu[cpu.len() / 2],
        wall[wall.len() - 1]
    );
}
