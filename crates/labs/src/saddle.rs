//! Gradient descent on f(x) = x1^4 - 2 x1^2 + x2^2 does not converge to its strict saddle.
//!
//! f has a strict saddle at 0 (Hessian diag(-4, 2)) and minima at (+-1, 0) (Hessian
//! diag(8, 2)). Lee et al. (2016): with a step below 1/L, the set of starts from which gradient
//! descent converges to a strict saddle has measure zero. Here that set is exactly the stable
//! manifold {x1 = 0} (plus its preimages, also of measure zero): on it x1 stays 0 and x2
//! contracts by (1 - 2t), while any x1 != 0 near 0 grows by (1 + 4t) per step. The lab draws
//! random starts from several distributions, including ones concentrated within 1e-8 of the
//! manifold, for several steps, and counts where each run ends; separately, starts placed
//! exactly on x1 = 0 show the saddle *is* reachable from a measure-zero set.

use crate::plot::{Chart, Series, Shade};
use crate::rng::{gaussian, seeded};
use crate::LabError;
use rand::Rng;
use serde::Serialize;
use std::path::Path;

/// The largest curvature at the minima; steps must stay below 2 / L for them to be stable.
pub const LIPSCHITZ_AT_MINIMA: f64 = 8.0;

/// Starts stay in |x_i| <= BOX: for t < 0.25 the map x1 -> x1 - t (4 x1^3 - 4 x1) keeps
/// |x1| <= 1.8 bounded (its 2-cycle sits at |x1| = sqrt((2 + 4t) / 4t) > 1.87), so every
/// run that does not reach a critical point would be a genuine failure, not a blow-up.
pub const BOX: f64 = 1.8;

pub fn f(x: [f64; 2]) -> f64 {
    x[0].powi(4) - 2.0 * x[0] * x[0] + x[1] * x[1]
}

pub fn grad(x: [f64; 2]) -> [f64; 2] {
    [4.0 * x[0].powi(3) - 4.0 * x[0], 2.0 * x[1]]
}

/// Where a start's run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Saddle,
    Minimum,
    /// Neither within the iteration budget (never observed; counted so it could be).
    Other,
}

/// How random starts are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartDistribution {
    /// Uniform on the box [-1.8, 1.8]^2.
    Box,
    /// N(0, 0.5^2 I) restricted to the box.
    Gaussian,
    /// Uniform on [-1e-3, 1e-3]^2: right next to the saddle.
    NearSaddle,
    /// x1 uniform on [-1e-8, 1e-8], x2 on [-1.8, 1.8]: hugging the stable manifold.
    StableStrip,
}

impl StartDistribution {
    pub const ALL: [StartDistribution; 4] = [
        StartDistribution::Box,
        StartDistribution::Gaussian,
        StartDistribution::NearSaddle,
        StartDistribution::StableStrip,
    ];

    pub fn sample(self, rng: &mut impl Rng) -> [f64; 2] {
        let mut u = |r: f64| rng.random_range(-r..r);
        match self {
            StartDistribution::Box => [u(BOX), u(BOX)],
            StartDistribution::NearSaddle => [u(1e-3), u(1e-3)],
            StartDistribution::StableStrip => [u(1e-8), u(BOX)],
            StartDistribution::Gaussian => loop {
                let x = [0.5 * gaussian(rng), 0.5 * gaussian(rng)];
                if x[0].abs() <= BOX && x[1].abs() <= BOX {
                    break x;
                }
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct SaddleConfig {
    pub seed: u64,
    /// Random starts in total, spread round-robin over distributions x steps.
    pub starts: usize,
    pub steps: Vec<f64>,
    pub max_iterations: usize,
    /// Starts placed exactly on the stable manifold x1 = 0.
    pub manifold_starts: usize,
}

impl Default for SaddleConfig {
    fn default() -> Self {
        SaddleConfig {
            seed: 7,
            starts: 100_000,
            steps: vec![0.05, 0.1, 0.2],
            max_iterations: 10_000,
            manifold_starts: 1000,
        }
    }
}

/// Runs gradient descent from `x` until it is within 1e-10 of a minimum (stable, so it stays),
/// or sits exactly on the stable manifold within 1e-12 of the saddle (x1 = 0 is invariant, so
/// it stays), or the budget runs out. Returns the outcome, iterations and the path if asked.
pub fn descend(
    mut x: [f64; 2],
    step: f64,
    max_iterations: usize,
    mut path: Option<&mut Vec<[f64; 2]>>,
) -> (Outcome, usize) {
    for k in 0..=max_iterations {
        if let Some(p) = path.as_deref_mut() {
            p.push(x);
        }
        let to_min = (x[0].abs() - 1.0).hypot(x[1]);
        if to_min < 1e-10 {
            return (Outcome::Minimum, k);
        }
        if x[0] == 0.0 && x[1].abs() < 1e-12 {
            return (Outcome::Saddle, k);
        }
        if k == max_iterations {
            break;
        }
        let g = grad(x);
        x = [x[0] - step * g[0], x[1] - step * g[1]];
    }
    // Out of budget: still at the saddle counts as converging to it.
    let outcome = if x[0].hypot(x[1]) < 1e-6 {
        Outcome::Saddle
    } else {
        Outcome::Other
    };
    (outcome, max_iterations)
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigResult {
    pub distribution: StartDistribution,
    pub step: f64,
    pub starts: usize,
    pub converged_to_saddle: usize,
    pub converged_to_minima: usize,
    pub other: usize,
    pub mean_iterations: f64,
    pub max_iterations_used: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifoldResult {
    pub starts: usize,
    pub converged_to_saddle: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SaddleReport {
    pub starts: usize,
    pub converged_to_saddle: usize,
    pub converged_to_minima: usize,
    pub other: usize,
    /// 2 / L: every step used is below it.
    pub stability_limit: f64,
    pub steps: Vec<f64>,
    pub configs: Vec<ConfigResult>,
    pub stable_manifold: ManifoldResult,
    pub figures: Vec<String>,
}

pub fn run(cfg: &SaddleConfig, figures: Option<&Path>) -> Result<SaddleReport, LabError> {
    let limit = 2.0 / LIPSCHITZ_AT_MINIMA;
    if cfg.steps.is_empty() || cfg.steps.iter().any(|&t| !(t > 0.0 && t < limit)) {
        return Err(LabError::Invalid(format!(
            "steps must lie in (0, {limit}), got {:?}",
            cfg.steps
        )));
    }
    let mut rng = seeded(cfg.seed);
    let mut configs: Vec<ConfigResult> = StartDistribution::ALL
        .iter()
        .flat_map(|&d| {
            cfg.steps.iter().map(move |&step| ConfigResult {
                distribution: d,
                step,
                starts: 0,
                converged_to_saddle: 0,
                converged_to_minima: 0,
                other: 0,
                mean_iterations: 0.0,
                max_iterations_used: 0,
            })
        })
        .collect();
    let n_configs = configs.len();
    for i in 0..cfg.starts {
        let c = &mut configs[i % n_configs];
        let x0 = c.distribution.sample(&mut rng);
        let (outcome, iters) = descend(x0, c.step, cfg.max_iterations, None);
        c.starts += 1;
        c.mean_iterations += iters as f64;
        c.max_iterations_used = c.max_iterations_used.max(iters);
        match outcome {
            Outcome::Saddle => c.converged_to_saddle += 1,
            Outcome::Minimum => c.converged_to_minima += 1,
            Outcome::Other => c.other += 1,
        }
    }
    for c in &mut configs {
        c.mean_iterations /= c.starts.max(1) as f64;
    }
    let mut manifold = ManifoldResult {
        starts: cfg.manifold_starts,
        converged_to_saddle: 0,
    };
    for i in 0..cfg.manifold_starts {
        let x0 = [0.0, rng.random_range(-BOX..BOX)];
        let step = cfg.steps[i % cfg.steps.len()];
        if descend(x0, step, cfg.max_iterations, None).0 == Outcome::Saddle {
            manifold.converged_to_saddle += 1;
        }
    }
    let mut report = SaddleReport {
        starts: cfg.starts,
        converged_to_saddle: configs.iter().map(|c| c.converged_to_saddle).sum(),
        converged_to_minima: configs.iter().map(|c| c.converged_to_minima).sum(),
        other: configs.iter().map(|c| c.other).sum(),
        stability_limit: limit,
        steps: cfg.steps.clone(),
        configs,
        stable_manifold: manifold,
        figures: Vec::new(),
    };
    if let Some(dir) = figures {
        let p = dir.join("saddle_trajectories.svg");
        write_figure(&p, cfg, &mut rng)?;
        report.figures.push(p.display().to_string());
    }
    Ok(report)
}

fn write_figure(path: &Path, cfg: &SaddleConfig, rng: &mut impl Rng) -> Result<(), LabError> {
    let step = cfg.steps[cfg.steps.len() / 2];
    let mut c = Chart::new(
        &format!("GD on x1^4 - 2 x1^2 + x2^2 (step {step}): starts near x1 = 0 leave the saddle"),
        "x1",
        "x2",
    );
    c.shade = Some(Shade::sample((-BOX, BOX), (-BOX, BOX), 40, |x, y| {
        f([x, y])
    }));
    let mut draw = |x0: [f64; 2], color: usize, label: &str| {
        let mut path = Vec::new();
        descend(x0, step, cfg.max_iterations, Some(&mut path));
        c.series.push(Series::line(
            label,
            color,
            path.iter().map(|x| (x[0], x[1])).collect(),
        ));
    };
    for i in 0..8 {
        let label = if i == 0 { "random start" } else { "" };
        draw(StartDistribution::Box.sample(rng), 0, label);
    }
    for (i, x1) in [1e-8, -1e-6, 1e-4, -1e-2].into_iter().enumerate() {
        let x2 = if i % 2 == 0 { 1.6 } else { -1.6 };
        let label = if i == 0 {
            "start within 1e-8..1e-2 of x1 = 0"
        } else {
            ""
        };
        draw([x1, x2], 1, label);
    }
    draw([0.0, 1.6], 2, "start on x1 = 0 (reaches the saddle)");
    draw([0.0, -1.6], 2, "");
    c.series.push(Series::dots(
        "critical points",
        3,
        vec![(-1.0, 0.0), (0.0, 0.0), (1.0, 0.0)],
    ));
    c.write_svg(path)
}

impl SaddleReport {
    pub fn table(&self) -> String {
        let mut s = format!(
            "Gradient descent on x1^4 - 2 x1^2 + x2^2 from {} random starts (steps {:?}, stability limit {}):\n\
             converged to the saddle: {}, to the minima: {}, other: {}\n\n",
            self.starts,
            self.steps,
            self.stability_limit,
            self.converged_to_saddle,
            self.converged_to_minima,
            self.other
        );
        s += &format!(
            "{:<14} {:>5} {:>7} {:>7} {:>7} {:>6} {:>10} {:>9}\n",
            "distribution", "step", "starts", "saddle", "minima", "other", "mean iter", "max iter"
        );
        for c in &self.configs {
            let d = serde_json::to_value(c.distribution).expect("enum serializes");
            s += &format!(
                "{:<14} {:>5} {:>7} {:>7} {:>7} {:>6} {:>10.1} {:>9}\n",
                d.as_str().unwrap_or("?"),
                c.step,
                c.starts,
                c.converged_to_saddle,
                c.converged_to_minima,
                c.other,
                c.mean_iterations,
                c.max_iterations_used
            );
        }
        s += &format!(
            "\nstarts exactly on the stable manifold x1 = 0: {} / {} converged to the saddle\n",
            self.stable_manifold.converged_to_saddle, self.stable_manifold.starts
        );
        for f in &self.figures {
            s += &format!("figure: {f}\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_starts_never_converge_to_the_saddle() {
        let cfg = SaddleConfig {
            starts: 12_000,
            manifold_starts: 60,
            ..SaddleConfig::default()
        };
        let r = run(&cfg, None).unwrap();
        assert_eq!(r.starts, 12_000);
        assert_eq!(r.converged_to_saddle, 0);
        assert_eq!(r.converged_to_minima, r.starts);
        assert_eq!(r.other, 0);
        // Every distribution x step was exercised.
        assert_eq!(r.configs.len(), 12);
        assert!(r.configs.iter().all(|c| c.starts == 1000));
        // Starts within 1e-8 of the manifold take longer (they must escape first) yet leave.
        let strip = r
            .configs
            .iter()
            .find(|c| c.distribution == StartDistribution::StableStrip)
            .unwrap();
        assert_eq!(strip.converged_to_minima, strip.starts);
    }

    #[test]
    fn starts_on_the_stable_manifold_do_converge_to_the_saddle() {
        let cfg = SaddleConfig {
            starts: 0,
            manifold_starts: 90,
            ..SaddleConfig::default()
        };
        let r = run(&cfg, None).unwrap();
        assert_eq!(r.stable_manifold.converged_to_saddle, 90);
    }

    #[test]
    fn escape_from_just_off_the_manifold_takes_log_many_steps() {
        // x1 grows by (1 + 4t) per step near 0: from 1e-300 that is ~ln(1e300)/ln(1.4) steps.
        let (outcome, iters) = descend([1e-300, 0.5], 0.1, 10_000, None);
        assert_eq!(outcome, Outcome::Minimum);
        let escape = (1e300f64).ln() / 1.4f64.ln();
        assert!(
            (iters as f64) > escape && (iters as f64) < escape + 200.0,
            "{iters}"
        );
    }

    #[test]
    fn rejects_steps_at_or_above_the_stability_limit() {
        let cfg = SaddleConfig {
            steps: vec![0.25],
            ..SaddleConfig::default()
        };
        assert!(run(&cfg, None).is_err());
    }
}
