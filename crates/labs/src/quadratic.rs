//! Gradient descent on a separable quadratic f(x) = 1/2 sum a_i x_i^2.
//!
//! The gradient step is x_i <- (1 - t a_i) x_i, so the k-th iterate is (1 - t a_i)^k x_i(0).
//! That closed form is the whole argument of the slide: with t |a_i| < 1 every factor with
//! a_i > 0 lies in (0, 1) and the iterates shrink to 0; a single a_i < 0 gives a factor
//! 1 + t |a_i| > 1, and every start with a nonzero component along that axis leaves at that
//! exponential rate. The lab checks the simulation against the closed form rather than
//! assuming it, then measures the three behaviours.

use crate::plot::{Chart, Series, Shade};
use crate::rng::{gaussian_vec, seeded};
use crate::stats::geometric_rate;
use crate::LabError;
use rand::Rng;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct QuadraticConfig {
    pub seed: u64,
    pub dim: usize,
    /// Step size t; the curvatures are drawn so that t |a_i| < 1.
    pub step: f64,
    pub iterations: usize,
    /// Random starts per case.
    pub starts: usize,
}

impl Default for QuadraticConfig {
    fn default() -> Self {
        QuadraticConfig {
            seed: 7,
            dim: 6,
            step: 0.5,
            iterations: 200,
            starts: 1000,
        }
    }
}

/// All a_i > 0: every start must converge to 0.
#[derive(Debug, Clone, Serialize)]
pub struct ConvexCase {
    pub a: Vec<f64>,
    pub starts: usize,
    pub converged: usize,
    /// max_i |1 - t a_i|: the predicted per-step contraction.
    pub contraction: f64,
    /// Largest |x_K| / |x_0| over the starts.
    pub worst_final_ratio: f64,
}

/// a_0 < 0: almost every start diverges; starts with x_0 = 0 exactly do not.
#[derive(Debug, Clone, Serialize)]
pub struct IndefiniteCase {
    pub a: Vec<f64>,
    pub starts: usize,
    pub diverged: usize,
    /// Starts placed on the stable subspace {x_0 = 0}, a set of measure zero.
    pub on_stable_subspace_starts: usize,
    pub on_stable_subspace_converged: usize,
    /// 1 + t |a_0|: the predicted per-step expansion.
    pub expansion: f64,
}

/// Leaving the saddle of 1/2 (x1^2 - x2^2) from distance epsilon off the stable line.
#[derive(Debug, Clone, Serialize)]
pub struct Escape {
    pub epsilon: f64,
    pub steps_predicted: usize,
    pub steps_measured: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Saddle2d {
    pub a: [f64; 2],
    /// ln(1 + t |a_2|) per step.
    pub escape_rate_predicted: f64,
    /// Fitted slope of ln |x2_k| along an escaping trajectory.
    pub escape_rate_measured: f64,
    pub escapes: Vec<Escape>,
    pub on_stable_line_converged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuadraticReport {
    /// Largest |simulated - closed form| over every component of every iterate of every run,
    /// relative to max(|x_i(0)|, |closed form|).
    pub max_closed_form_deviation: f64,
    pub step: f64,
    pub iterations: usize,
    pub convex: ConvexCase,
    pub indefinite: IndefiniteCase,
    pub saddle_2d: Saddle2d,
    pub figures: Vec<String>,
}

/// The gradient-descent iterates x_0..=x_K, computed by actually stepping.
pub fn simulate(a: &[f64], x0: &[f64], step: f64, iterations: usize) -> Vec<Vec<f64>> {
    let mut traj = Vec::with_capacity(iterations + 1);
    let mut x = x0.to_vec();
    traj.push(x.clone());
    for _ in 0..iterations {
        for (xi, ai) in x.iter_mut().zip(a) {
            let grad = ai * *xi;
            *xi -= step * grad;
        }
        traj.push(x.clone());
    }
    traj
}

/// (1 - t a_i)^k x_i(0).
pub fn closed_form(a: &[f64], x0: &[f64], step: f64, k: usize) -> Vec<f64> {
    a.iter()
        .zip(x0)
        .map(|(ai, xi)| (1.0 - step * ai).powi(k as i32) * xi)
        .collect()
}

/// Largest relative deviation of a trajectory from the closed form.
pub fn closed_form_deviation(a: &[f64], step: f64, traj: &[Vec<f64>]) -> f64 {
    let x0 = &traj[0];
    let mut worst = 0.0f64;
    for (k, xk) in traj.iter().enumerate() {
        let cf = closed_form(a, x0, step, k);
        for i in 0..a.len() {
            let scale = x0[i].abs().max(cf[i].abs()).max(f64::MIN_POSITIVE);
            worst = worst.max((xk[i] - cf[i]).abs() / scale);
        }
    }
    worst
}

fn norm(x: &[f64]) -> f64 {
    crate::linalg::norm(x)
}

pub fn run(cfg: &QuadraticConfig, figures: Option<&Path>) -> Result<QuadraticReport, LabError> {
    if !(cfg.step > 0.0 && cfg.step < 1.0) {
        // The 2-d saddle uses a = (1, -1), so t < 1 keeps t |a_i| < 1 there too.
        return Err(LabError::Invalid(format!(
            "step must lie in (0, 1), got {}",
            cfg.step
        )));
    }
    if cfg.dim < 2 {
        return Err(LabError::Invalid("dim must be at least 2".into()));
    }
    let t = cfg.step;
    let mut rng = seeded(cfg.seed);
    // Curvatures with t a_i in (0.1, 0.9): inside the stability region by construction.
    let a_convex: Vec<f64> = (0..cfg.dim)
        .map(|_| rng.random_range(0.1..0.9) / t)
        .collect();
    let mut a_indef = a_convex.clone();
    a_indef[0] = -0.5 / t;
    let mut max_dev = 0.0f64;

    let mut convex = ConvexCase {
        a: a_convex.clone(),
        starts: cfg.starts,
        converged: 0,
        contraction: a_convex
            .iter()
            .map(|ai| (1.0 - t * ai).abs())
            .fold(0.0, f64::max),
        worst_final_ratio: 0.0,
    };
    let mut convex_sample = Vec::new();
    for s in 0..cfg.starts {
        let x0 = gaussian_vec(&mut rng, cfg.dim, 1.0);
        let traj = simulate(&a_convex, &x0, t, cfg.iterations);
        max_dev = max_dev.max(closed_form_deviation(&a_convex, t, &traj));
        let ratio = norm(traj.last().expect("non-empty")) / norm(&x0);
        convex.worst_final_ratio = convex.worst_final_ratio.max(ratio);
        if ratio < 1e-6 {
            convex.converged += 1;
        }
        if s == 0 {
            convex_sample = traj.iter().map(|x| norm(x)).collect();
        }
    }

    let extra = 10usize;
    let mut indefinite = IndefiniteCase {
        a: a_indef.clone(),
        starts: cfg.starts,
        diverged: 0,
        on_stable_subspace_starts: extra,
        on_stable_subspace_converged: 0,
        expansion: 1.0 + t * a_indef[0].abs(),
    };
    let mut indef_sample = Vec::new();
    for s in 0..cfg.starts + extra {
        let mut x0 = gaussian_vec(&mut rng, cfg.dim, 1.0);
        let on_stable = s >= cfg.starts;
        if on_stable {
            x0[0] = 0.0;
        }
        let traj = simulate(&a_indef, &x0, t, cfg.iterations);
        max_dev = max_dev.max(closed_form_deviation(&a_indef, t, &traj));
        let ratio = norm(traj.last().expect("non-empty")) / norm(&x0);
        if on_stable {
            if ratio < 1e-6 {
                indefinite.on_stable_subspace_converged += 1;
            }
        } else if ratio > 1e6 {
            indefinite.diverged += 1;
        }
        if s == 0 {
            indef_sample = traj.iter().map(|x| norm(x)).collect();
        }
    }

    let a2: [f64; 2] = [1.0, -1.0];
    let expansion = 1.0 + t * a2[1].abs();
    let mut escapes = Vec::new();
    let mut escape_trajs = Vec::new();
    for epsilon in [1e-2, 1e-4, 1e-8, 1e-12, 1e-16] {
        let traj = simulate(&a2, &[1.0, epsilon], t, cfg.iterations);
        max_dev = max_dev.max(closed_form_deviation(&a2, t, &traj));
        let steps_measured = traj
            .iter()
            .position(|x| x[1].abs() >= 1.0)
            .unwrap_or(usize::MAX);
        escapes.push(Escape {
            epsilon,
            steps_predicted: ((1.0 / epsilon).ln() / expansion.ln()).ceil() as usize,
            steps_measured,
        });
        escape_trajs.push(traj);
    }
    let x2: Vec<f64> = escape_trajs[3].iter().map(|x| x[1].abs()).collect();
    let (rate, _) = geometric_rate(&x2, 0, escapes[3].steps_measured.min(cfg.iterations));
    let on_line = simulate(&a2, &[1.0, 0.0], t, cfg.iterations);
    let saddle_2d = Saddle2d {
        a: a2,
        escape_rate_predicted: expansion.ln(),
        escape_rate_measured: rate.ln(),
        escapes,
        on_stable_line_converged: norm(on_line.last().expect("non-empty")) < 1e-6,
    };

    let mut report = QuadraticReport {
        max_closed_form_deviation: max_dev,
        step: t,
        iterations: cfg.iterations,
        convex,
        indefinite,
        saddle_2d,
        figures: Vec::new(),
    };
    if let Some(dir) = figures {
        let p = dir.join("quadratic_norms.svg");
        let mut c = Chart::new(
            "Gradient descent on 1/2 sum a_i x_i^2: |x_k| against k",
            "iteration k",
            "|x_k|",
        );
        c.log_y = true;
        let pts = |v: &[f64]| v.iter().enumerate().map(|(k, &n)| (k as f64, n)).collect();
        c.series.push(Series::line(
            "all a_i > 0: converges",
            0,
            pts(&convex_sample),
        ));
        c.series
            .push(Series::line("one a_i < 0: diverges", 1, pts(&indef_sample)));
        c.write_svg(&p)?;
        report.figures.push(p.display().to_string());

        let p = dir.join("quadratic_saddle.svg");
        let mut c = Chart::new(
            "Saddle 1/2 (x1^2 - x2^2): starts off the stable line x2 = 0 leave",
            "x1",
            "x2",
        );
        let bx = 1.3;
        c.shade = Some(Shade::sample((-bx, bx), (-bx, bx), 48, |x, y| {
            0.5 * (x * x - y * y)
        }));
        for (i, traj) in escape_trajs.iter().enumerate() {
            for sign in [1.0, -1.0] {
                let pts: Vec<(f64, f64)> = traj
                    .iter()
                    .map(|x| (sign * x[0], sign * x[1]))
                    .take_while(|p| p.0.abs() <= bx && p.1.abs() <= bx)
                    .collect();
                let label = if sign > 0.0 {
                    format!("x2(0) = {:.0e}", traj[0][1])
                } else {
                    String::new()
                };
                c.series.push(Series::line(label, i, pts));
            }
        }
        let line: Vec<(f64, f64)> = on_line.iter().map(|x| (x[0], x[1])).collect();
        c.series.push(Series::dots("on the stable line", 7, line));
        c.write_svg(&p)?;
        report.figures.push(p.display().to_string());
    }
    Ok(report)
}

impl QuadraticReport {
    pub fn table(&self) -> String {
        let mut s = String::new();
        s += &format!(
            "Gradient descent on f(x) = 1/2 sum a_i x_i^2, step t = {}, {} iterations\n",
            self.step, self.iterations
        );
        s += &format!(
            "max |simulated - closed form (1 - t a_i)^k x_i(0)| (relative): {:.2e}\n\n",
            self.max_closed_form_deviation
        );
        s += &format!(
            "all a_i > 0     contraction {:.3}: {} / {} starts converged to 0 (worst |x_K|/|x_0| {:.1e})\n",
            self.convex.contraction,
            self.convex.converged,
            self.convex.starts,
            self.convex.worst_final_ratio
        );
        s += &format!(
            "a_0 < 0         expansion {:.3}: {} / {} random starts diverged; {} / {} starts with x_0 = 0 converged\n\n",
            self.indefinite.expansion,
            self.indefinite.diverged,
            self.indefinite.starts,
            self.indefinite.on_stable_subspace_converged,
            self.indefinite.on_stable_subspace_starts
        );
        let sd = &self.saddle_2d;
        s += &format!(
            "2-d saddle a = (1, -1): escape rate ln|x2| per step measured {:.6}, predicted ln(1 + t) = {:.6}; on the stable line converged: {}\n",
            sd.escape_rate_measured, sd.escape_rate_predicted, sd.on_stable_line_converged
        );
        s += &format!(
            "{:>10} {:>16} {:>15}\n",
            "x2(0)", "steps predicted", "steps measured"
        );
        for e in &sd.escapes {
            s += &format!(
                "{:>10.0e} {:>16} {:>15}\n",
                e.epsilon, e.steps_predicted, e.steps_measured
            );
        }
        for f in &self.figures {
            s += &format!("figure: {f}\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> QuadraticConfig {
        QuadraticConfig {
            starts: 200,
            ..QuadraticConfig::default()
        }
    }

    #[test]
    fn simulation_matches_closed_form() {
        let r = run(&small(), None).unwrap();
        assert!(
            r.max_closed_form_deviation < 1e-12,
            "{}",
            r.max_closed_form_deviation
        );
    }

    #[test]
    fn positive_curvatures_converge_from_every_start() {
        let r = run(&small(), None).unwrap();
        assert!(r.convex.contraction < 1.0);
        assert_eq!(r.convex.converged, r.convex.starts);
    }

    #[test]
    fn one_negative_curvature_diverges_except_on_the_stable_subspace() {
        let r = run(&small(), None).unwrap();
        assert_eq!(r.indefinite.diverged, r.indefinite.starts);
        assert_eq!(
            r.indefinite.on_stable_subspace_converged,
            r.indefinite.on_stable_subspace_starts
        );
    }

    #[test]
    fn saddle_escape_is_exponential() {
        let r = run(&small(), None).unwrap();
        let sd = &r.saddle_2d;
        assert!(sd.on_stable_line_converged);
        assert!((sd.escape_rate_measured - sd.escape_rate_predicted).abs() < 1e-9);
        for e in &sd.escapes {
            // The closed form gives the exact step count; allow one step for rounding at the
            // boundary |x2| = 1.
            assert!(e.steps_measured.abs_diff(e.steps_predicted) <= 1, "{e:?}");
        }
        // Steps grow like ln(1/epsilon): 1e-16 takes 8x the steps of 1e-2, not 1e14x.
        let first = sd.escapes.first().unwrap().steps_measured as f64;
        let last = sd.escapes.last().unwrap().steps_measured as f64;
        assert!(last / first < 10.0);
    }

    #[test]
    fn rejects_an_unstable_step() {
        let cfg = QuadraticConfig {
            step: 1.5,
            ..small()
        };
        assert!(run(&cfg, None).is_err());
    }
}
