//! Under-determined least squares: which of the infinitely many minimizers gradient descent
//! picks, and what ridge regularization buys.
//!
//! With n < p, Phi x = y has an affine space of solutions x_dagger + null(Phi). Every gradient
//! Phi'(Phi x - y) lies in the row space of Phi, so gradient descent from 0 never leaves it,
//! and the only minimizer in the row space is the minimum-norm one,
//! x_dagger = Phi'(Phi Phi')^{-1} y. From any other start x_0 the null-space part of x_0 is
//! never touched: the limit is x_dagger + P_null x_0.
//!
//! The implicit choice is a structural assumption (small norm); ridge,
//! x_lambda = Phi'(Phi Phi' + lambda I)^{-1} y, makes it explicit and tunable. The data have
//! the structure ridge can exploit: feature j has scale (1 + j)^-decay and the truth lives on
//! the few strongest features, so shrinking the many weak directions (where x_dagger spends
//! its norm fitting label noise) helps. With noisy labels a moderate lambda then predicts
//! clearly better than the interpolating x_dagger (lambda -> 0) or the null model
//! (lambda -> infinity). The same decay makes Phi Phi' ill conditioned, which is why gradient
//! descent needs ~10^5 steps here.

use crate::linalg::{axpy, dot, norm, solve, sub, sym_eigenvalues, Mat};
use crate::plot::{Chart, Series};
use crate::rng::{gaussian_vec, seeded};
use crate::LabError;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct LstsqConfig {
    pub seed: u64,
    /// Observations (n < p).
    pub n: usize,
    /// Parameters.
    pub p: usize,
    /// Label noise standard deviation.
    pub noise: f64,
    pub validation: usize,
    /// Feature j has scale (1 + j)^-decay: a few strong directions, many weak ones.
    pub decay: f64,
    /// The true coefficients live on the first `signal_dims` (strongest) features.
    pub signal_dims: usize,
    pub max_iterations: usize,
    /// Ridge lambdas: `lambdas` points log-spaced over [10^lo, 10^hi].
    pub log_lambda_range: (f64, f64),
    pub lambdas: usize,
}

impl Default for LstsqConfig {
    fn default() -> Self {
        LstsqConfig {
            seed: 7,
            n: 30,
            p: 120,
            noise: 0.5,
            validation: 500,
            decay: 1.0,
            signal_dims: 5,
            max_iterations: 100_000,
            log_lambda_range: (-4.0, 3.0),
            lambdas: 36,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GradientDescent {
    pub step: f64,
    pub iterations: usize,
    /// |x_K - x_dagger| / |x_dagger| for the run from 0.
    pub distance_to_min_norm: f64,
    /// |P_null x_K| / |x_K|: the iterates from 0 stay in the row space.
    pub null_space_component: f64,
    pub final_residual: f64,
    /// From a random start: |x_K - x_dagger| / |x_dagger|, and the prediction |P_null x_0| / |x_dagger|.
    pub from_random_start_distance: f64,
    pub from_random_start_predicted: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OtherMinimizer {
    /// |Phi x - y| / |y| for x = x_dagger + a null-space vector: also a minimizer.
    pub residual: f64,
    pub norm: f64,
    pub min_norm: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RidgePoint {
    pub lambda: f64,
    pub norm: f64,
    pub train_mse: f64,
    pub validation_mse: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ridge {
    pub path: Vec<RidgePoint>,
    pub best_lambda: f64,
    pub best_validation_mse: f64,
    /// Validation error of x_dagger (the lambda -> 0 limit, which interpolates the noise).
    pub min_norm_validation_mse: f64,
    /// Validation error of x = 0 (the lambda -> infinity limit).
    pub zero_validation_mse: f64,
    /// |x_lambda - x_dagger| / |x_dagger| at the smallest lambda.
    pub smallest_lambda_distance_to_min_norm: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LstsqReport {
    pub n: usize,
    pub p: usize,
    pub noise: f64,
    pub gradient_descent: GradientDescent,
    pub other_minimizer: OtherMinimizer,
    pub ridge: Ridge,
    pub figures: Vec<String>,
}

struct Problem {
    phi: Mat,
    y: Vec<f64>,
    gram: Mat,
}

impl Problem {
    /// Phi'(Phi Phi' + lambda I)^{-1} y.
    fn kernel_solution(&self, lambda: f64) -> Vec<f64> {
        let alpha =
            solve(&self.gram.plus_identity(lambda), &self.y).expect("Phi has full row rank");
        self.phi.t_mul_vec(&alpha)
    }

    fn null_projection(&self, v: &[f64]) -> Vec<f64> {
        let alpha = solve(&self.gram, &self.phi.mul_vec(v)).expect("Phi has full row rank");
        sub(v, &self.phi.t_mul_vec(&alpha))
    }

    /// Gradient descent on 1/2 |y - Phi x|^2 until the gradient is tiny; returns the limit and
    /// the iterates' distance to `target` per step.
    fn descend(
        &self,
        x0: &[f64],
        step: f64,
        max_iter: usize,
        target: &[f64],
    ) -> (Vec<f64>, Vec<f64>, usize) {
        let mut x = x0.to_vec();
        let g0 = norm(&self.phi.t_mul_vec(&self.y)).max(1e-300);
        let mut dist = vec![norm(&sub(&x, target))];
        for k in 0..max_iter {
            let r = sub(&self.phi.mul_vec(&x), &self.y);
            let g = self.phi.t_mul_vec(&r);
            if norm(&g) < 1e-13 * g0 {
                return (x, dist, k);
            }
            axpy(-step, &g, &mut x);
            dist.push(norm(&sub(&x, target)));
        }
        (x, dist, max_iter)
    }
}

fn mse(phi: &Mat, y: &[f64], x: &[f64]) -> f64 {
    let r = sub(&phi.mul_vec(x), y);
    dot(&r, &r) / y.len() as f64
}

pub fn run(cfg: &LstsqConfig, figures: Option<&Path>) -> Result<LstsqReport, LabError> {
    if cfg.n == 0 || cfg.n >= cfg.p {
        return Err(LabError::Invalid(format!(
            "need 0 < n < p, got n = {}, p = {}",
            cfg.n, cfg.p
        )));
    }
    let mut rng = seeded(cfg.seed);
    let scales: Vec<f64> = (0..cfg.p)
        .map(|j| (1.0 + j as f64).powf(-cfg.decay))
        .collect();
    let features = |rows: usize, rng: &mut rand_chacha::ChaCha8Rng| {
        let mut m = Mat::gaussian(rows, cfg.p, 1.0, rng);
        for i in 0..rows {
            for (j, sc) in scales.iter().enumerate() {
                m[(i, j)] *= sc;
            }
        }
        m
    };
    let phi = features(cfg.n, &mut rng);
    let k = cfg.signal_dims.clamp(1, cfg.p);
    let mut x_true = gaussian_vec(&mut rng, k, 1.0 / (k as f64).sqrt());
    x_true.resize(cfg.p, 0.0);
    // Unit signal variance per label, whatever the decay: the noise level means the same thing.
    let signal: f64 = x_true
        .iter()
        .zip(&scales)
        .map(|(x, s)| (x * s).powi(2))
        .sum();
    x_true.iter_mut().for_each(|x| *x /= signal.sqrt());
    let labels = |phi: &Mat, rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f64> {
        let clean = phi.mul_vec(&x_true);
        clean
            .iter()
            .map(|v| v + cfg.noise * crate::rng::gaussian(rng))
            .collect()
    };
    let y = labels(&phi, &mut rng);
    let phi_val = features(cfg.validation, &mut rng);
    let y_val = labels(&phi_val, &mut rng);
    let prob = Problem {
        gram: phi.gram_rows(),
        phi,
        y,
    };

    let x_dagger = prob.kernel_solution(0.0);
    let md = norm(&x_dagger);
    let eig = sym_eigenvalues(&prob.gram);
    let step = 1.0 / eig[eig.len() - 1];
    let zero = vec![0.0; cfg.p];
    let (x_gd, dist0, iterations) = prob.descend(&zero, step, cfg.max_iterations, &x_dagger);
    let x0 = gaussian_vec(&mut rng, cfg.p, 1.0 / (cfg.p as f64).sqrt());
    let (x_rs, dist_rs, _) = prob.descend(&x0, step, cfg.max_iterations, &x_dagger);
    let ynorm = norm(&prob.y);
    let gradient_descent = GradientDescent {
        step,
        iterations,
        distance_to_min_norm: norm(&sub(&x_gd, &x_dagger)) / md,
        null_space_component: norm(&prob.null_projection(&x_gd)) / norm(&x_gd),
        final_residual: norm(&sub(&prob.phi.mul_vec(&x_gd), &prob.y)) / ynorm,
        from_random_start_distance: norm(&sub(&x_rs, &x_dagger)) / md,
        from_random_start_predicted: norm(&prob.null_projection(&x0)) / md,
    };
    let mut other = x_dagger.clone();
    axpy(
        1.0,
        &prob.null_projection(&gaussian_vec(&mut rng, cfg.p, 1.0)),
        &mut other,
    );
    let other_minimizer = OtherMinimizer {
        residual: norm(&sub(&prob.phi.mul_vec(&other), &prob.y)) / ynorm,
        norm: norm(&other),
        min_norm: md,
    };

    let (lo, hi) = cfg.log_lambda_range;
    let count = cfg.lambdas.max(2);
    let path: Vec<RidgePoint> = (0..count)
        .map(|i| {
            let lambda = 10f64.powf(lo + (hi - lo) * i as f64 / (count - 1) as f64);
            let x = prob.kernel_solution(lambda);
            RidgePoint {
                lambda,
                norm: norm(&x),
                train_mse: mse(&prob.phi, &prob.y, &x),
                validation_mse: mse(&phi_val, &y_val, &x),
            }
        })
        .collect();
    let best = path
        .iter()
        .min_by(|a, b| a.validation_mse.total_cmp(&b.validation_mse))
        .expect("at least two lambdas");
    let ridge = Ridge {
        best_lambda: best.lambda,
        best_validation_mse: best.validation_mse,
        min_norm_validation_mse: mse(&phi_val, &y_val, &x_dagger),
        zero_validation_mse: mse(&phi_val, &y_val, &zero),
        smallest_lambda_distance_to_min_norm: norm(&sub(
            &prob.kernel_solution(path[0].lambda),
            &x_dagger,
        )) / md,
        path,
    };
    let mut report = LstsqReport {
        n: cfg.n,
        p: cfg.p,
        noise: cfg.noise,
        gradient_descent,
        other_minimizer,
        ridge,
        figures: Vec::new(),
    };
    if let Some(dir) = figures {
        let p = dir.join("lstsq_gd.svg");
        let mut c = Chart::new(
            &format!(
                "Least squares, n = {} < p = {}: GD distance to the minimum-norm solution",
                cfg.n, cfg.p
            ),
            "iteration",
            "|x_k - x_dagger| / |x_dagger|",
        );
        c.log_y = true;
        let series = |d: &[f64]| {
            d.iter()
                .enumerate()
                .map(|(k, v)| (k as f64, v / md))
                .collect()
        };
        c.series
            .push(Series::line("from x_0 = 0", 0, series(&dist0)));
        c.series.push(Series::line(
            "from a random x_0 (keeps P_null x_0)",
            1,
            series(&dist_rs),
        ));
        c.write_svg(&p)?;
        report.figures.push(p.display().to_string());

        let p = dir.join("lstsq_ridge.svg");
        let mut c = Chart::new(
            "Ridge path: error against lambda",
            "lambda",
            "mean squared error",
        );
        c.log_x = true;
        let pts = |f: fn(&RidgePoint) -> f64| {
            report.ridge.path.iter().map(|r| (r.lambda, f(r))).collect()
        };
        c.series
            .push(Series::line("validation", 0, pts(|r| r.validation_mse)));
        c.series
            .push(Series::line("training", 1, pts(|r| r.train_mse)));
        let (l0, l1) = (
            report.ridge.path[0].lambda,
            report.ridge.path[count - 1].lambda,
        );
        let mn = report.ridge.min_norm_validation_mse;
        c.series.push(Series::line(
            "validation of x_dagger (lambda -> 0)",
            2,
            vec![(l0, mn), (l1, mn)],
        ));
        c.write_svg(&p)?;
        report.figures.push(p.display().to_string());
    }
    Ok(report)
}

impl LstsqReport {
    pub fn table(&self) -> String {
        let gd = &self.gradient_descent;
        let mut s = format!(
            "Least squares with n = {} observations < p = {} parameters (label noise {})\n\n",
            self.n, self.p, self.noise
        );
        s += &format!(
            "GD from 0 (step 1/lambda_max = {:.3e}, {} iterations): |x - x_dagger|/|x_dagger| = {:.2e}, \
             null-space part {:.2e}, residual {:.2e}\n",
            gd.step, gd.iterations, gd.distance_to_min_norm, gd.null_space_component, gd.final_residual
        );
        s += &format!(
            "GD from a random start: distance to x_dagger {:.6} (predicted |P_null x_0| = {:.6})\n",
            gd.from_random_start_distance, gd.from_random_start_predicted
        );
        let o = &self.other_minimizer;
        s += &format!(
            "another minimizer x_dagger + null vector: residual {:.2e}, norm {:.4} > min norm {:.4}\n\n",
            o.residual, o.norm, o.min_norm
        );
        let r = &self.ridge;
        s += &format!(
            "{:>10} {:>9} {:>10} {:>10}\n",
            "lambda", "|x|", "train mse", "val mse"
        );
        for p in &r.path {
            s += &format!(
                "{:>10.3e} {:>9.4} {:>10.4} {:>10.4}\n",
                p.lambda, p.norm, p.train_mse, p.validation_mse
            );
        }
        s += &format!(
            "\nbest lambda {:.3e}: validation mse {:.4}; min-norm interpolant {:.4}; x = 0 {:.4}\n",
            r.best_lambda, r.best_validation_mse, r.min_norm_validation_mse, r.zero_validation_mse
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

    /// Isotropic features keep Phi Phi' well conditioned, so GD converges in a few hundred
    /// steps; the default decaying spectrum needs ~10^5 (the CLI default budget).
    fn isotropic() -> LstsqConfig {
        LstsqConfig {
            decay: 0.0,
            max_iterations: 5000,
            ..LstsqConfig::default()
        }
    }

    #[test]
    fn gradient_descent_from_zero_finds_the_minimum_norm_solution() {
        let r = run(&isotropic(), None).unwrap();
        let gd = &r.gradient_descent;
        assert!(
            gd.distance_to_min_norm < 1e-9,
            "{}",
            gd.distance_to_min_norm
        );
        assert!(gd.null_space_component < 1e-9);
        assert!(gd.final_residual < 1e-9);
        assert!(gd.iterations < 5000);
    }

    #[test]
    fn minimizers_are_not_unique_and_the_start_decides() {
        let r = run(&isotropic(), None).unwrap();
        let o = &r.other_minimizer;
        assert!(o.residual < 1e-9 && o.norm > 1.2 * o.min_norm);
        let gd = &r.gradient_descent;
        assert!(gd.from_random_start_predicted > 0.1);
        assert!((gd.from_random_start_distance - gd.from_random_start_predicted).abs() < 1e-8);
    }

    #[test]
    fn ridge_beats_both_ends_of_its_path() {
        for seed in [1, 2, 3, 4] {
            let r = run(
                &LstsqConfig {
                    seed,
                    // The ridge path is closed form; GD is checked above.
                    max_iterations: 10,
                    ..LstsqConfig::default()
                },
                None,
            )
            .unwrap();
            let rd = &r.ridge;
            assert!(rd.smallest_lambda_distance_to_min_norm < 1e-2);
            assert!(
                rd.best_validation_mse < 0.8 * rd.min_norm_validation_mse,
                "seed {seed}"
            );
            assert!(
                rd.best_validation_mse < 0.5 * rd.zero_validation_mse,
                "seed {seed}"
            );
            let (first, last) = (&rd.path[0], rd.path.last().unwrap());
            assert!(first.train_mse < 1e-3 && last.train_mse > 100.0 * first.train_mse);
            assert!(rd.path.windows(2).all(|w| w[1].norm < w[0].norm));
        }
    }
}
