//! In the interpolation regime (more parameters than data, a zero-loss solution exists),
//! gradient descent with a constant step converges linearly: the loss falls by a fixed factor
//! per step, all the way to machine precision.
//!
//! Linear model: with n < p and L(w) = 1/(2n) |Phi w - y|^2, the residual obeys
//! r_k = (I - t K)^k r_0 with K = Phi Phi' / n, which is positive definite when Phi has full
//! row rank. With t = 1/lambda_max(K) every factor lies in [0, 1 - t lambda_min], so
//! L_k <= (1 - t lambda_min)^{2k} L_0 and the asymptotic rate is exactly that factor; the lab
//! checks the bound at every step and compares the fitted rate with it.
//!
//! Two contrasts make the point sharper. Constant-step SGD also converges linearly here
//! (every per-sample loss is zero at the same w, so the gradient noise vanishes at the
//! solution), but with noisy labels and n > p (no interpolation) it stalls at a noise floor.
//! And a nonlinear over-parameterized model, a two-layer tanh network trained in both layers,
//! still converges linearly; its rate is predicted by its tangent kernel (see [`network`]).

pub mod linear;
pub mod network;

use crate::linalg::{solve, sym_eigenvalues, Mat};
use crate::plot::{Chart, Series};
use crate::rng::{gaussian_vec, seeded};
use crate::stats::geometric_rate;
use crate::LabError;
use network::Network;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct InterpolationConfig {
    pub seed: u64,
    /// Linear model: n observations < p parameters.
    pub n: usize,
    pub p: usize,
    pub max_iterations: usize,
    pub sgd_epochs: usize,
    /// The non-interpolating contrast: n > p with label noise.
    pub noisy_n: usize,
    pub noisy_p: usize,
    pub noise: f64,
    /// Two-layer network: n points in d dimensions, m hidden units.
    pub net_n: usize,
    pub net_d: usize,
    pub net_width: usize,
    pub net_max_iterations: usize,
}

impl Default for InterpolationConfig {
    fn default() -> Self {
        InterpolationConfig {
            seed: 7,
            n: 40,
            p: 200,
            max_iterations: 5000,
            sgd_epochs: 400,
            noisy_n: 200,
            noisy_p: 40,
            noise: 0.5,
            net_n: 20,
            net_d: 5,
            net_width: 200,
            net_max_iterations: 20_000,
        }
    }
}

/// Runs stop once the loss falls below this fraction of the initial loss (near the precision
/// of the residual), and rates are fitted from where the loss has fallen by `FIT_FROM`.
pub const FLOOR: f64 = 1e-26;
pub const FIT_FROM: f64 = 1e-6;

#[derive(Debug, Clone, Serialize)]
pub struct LinearGd {
    pub n: usize,
    pub p: usize,
    pub step: f64,
    pub iterations: usize,
    pub initial_loss: f64,
    pub final_loss: f64,
    /// Fitted per-step factor of the loss.
    pub measured_rate: f64,
    pub fit_r2: f64,
    /// (1 - t lambda_min(K))^2.
    pub predicted_rate: f64,
    /// L_k <= predicted_rate^k L_0 at every step.
    pub bound_holds: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sgd {
    pub step: f64,
    pub epochs: usize,
    pub initial_loss: f64,
    pub final_loss: f64,
    pub measured_rate_per_epoch: f64,
    pub fit_r2: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoInterpolation {
    pub n: usize,
    pub p: usize,
    pub noise: f64,
    /// The least-squares minimum, > 0: no interpolation.
    pub min_loss: f64,
    /// L - min_loss for constant-step SGD, averaged over the last 50 epochs: the noise floor.
    pub sgd_final_excess_loss: f64,
    /// The same for full-batch GD, which still converges (the problem is strongly convex).
    pub gd_final_excess_loss: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NetworkRun {
    pub n: usize,
    pub d: usize,
    pub width: usize,
    pub parameters: usize,
    pub step: f64,
    pub iterations: usize,
    pub initial_loss: f64,
    pub final_loss: f64,
    pub measured_rate: f64,
    pub fit_r2: f64,
    /// (1 - t lambda_min(K))^2 with the tangent kernel at initialization and at the end.
    pub predicted_rate_at_init: f64,
    pub predicted_rate_at_end: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct InterpolationReport {
    pub gd: LinearGd,
    pub sgd: Sgd,
    pub no_interpolation: NoInterpolation,
    pub network: NetworkRun,
    pub figures: Vec<String>,
}

fn fit(losses: &[f64]) -> (f64, f64) {
    let l0 = losses[0];
    let from = losses
        .iter()
        .position(|&l| l < FIT_FROM * l0)
        .unwrap_or(losses.len() / 2);
    geometric_rate(losses, from, losses.len())
}

fn kernel(phi: &Mat) -> Vec<f64> {
    let mut k = phi.gram_rows();
    let n = phi.rows as f64;
    k.data.iter_mut().for_each(|v| *v /= n);
    sym_eigenvalues(&k)
}

pub fn run(
    cfg: &InterpolationConfig,
    figures: Option<&Path>,
) -> Result<InterpolationReport, LabError> {
    if cfg.n == 0 || cfg.n >= cfg.p {
        return Err(LabError::Invalid(format!(
            "interpolation needs 0 < n < p, got n = {}, p = {}",
            cfg.n, cfg.p
        )));
    }
    if cfg.noisy_p == 0 || cfg.noisy_n <= cfg.noisy_p {
        return Err(LabError::Invalid(
            "the contrast needs noisy_n > noisy_p".into(),
        ));
    }
    let mut rng = seeded(cfg.seed);

    // Linear interpolation: labels from a planted w, though any labels could be fitted.
    let phi = Mat::gaussian(cfg.n, cfg.p, 1.0, &mut rng);
    let w_star = gaussian_vec(&mut rng, cfg.p, 1.0 / (cfg.p as f64).sqrt());
    let y = phi.mul_vec(&w_star);
    let eig = kernel(&phi);
    let step = 1.0 / eig[eig.len() - 1];
    let predicted = (1.0 - step * eig[0]).powi(2);
    let l0 = linear::loss(&phi, &y, &vec![0.0; cfg.p]);
    let (gd_losses, _) = linear::gd(&phi, &y, step, cfg.max_iterations, FLOOR * l0);
    let (rate, r2) = fit(&gd_losses);
    let gd = LinearGd {
        n: cfg.n,
        p: cfg.p,
        step,
        iterations: gd_losses.len() - 1,
        initial_loss: l0,
        final_loss: *gd_losses.last().expect("non-empty"),
        measured_rate: rate,
        fit_r2: r2,
        predicted_rate: predicted,
        bound_holds: gd_losses
            .iter()
            .enumerate()
            .all(|(k, &l)| l <= predicted.powi(k as i32) * l0 * (1.0 + 1e-9) + 1e-300),
    };

    // Per-sample step 1/max |phi_i|^2 keeps every single-sample update a non-expansive
    // projection-like step.
    let sgd_step = 1.0
        / (0..cfg.n)
            .map(|i| crate::linalg::dot(phi.row(i), phi.row(i)))
            .fold(0.0, f64::max);
    let (sgd_losses, _) = linear::sgd(&phi, &y, sgd_step, cfg.sgd_epochs, FLOOR * l0, &mut rng);
    let (sgd_rate, sgd_r2) = fit(&sgd_losses);
    let sgd = Sgd {
        step: sgd_step,
        epochs: sgd_losses.len() - 1,
        initial_loss: l0,
        final_loss: *sgd_losses.last().expect("non-empty"),
        measured_rate_per_epoch: sgd_rate,
        fit_r2: sgd_r2,
    };

    // No interpolation: more data than parameters and noisy labels.
    let phi_n = Mat::gaussian(cfg.noisy_n, cfg.noisy_p, 1.0, &mut rng);
    let w_n = gaussian_vec(&mut rng, cfg.noisy_p, 1.0 / (cfg.noisy_p as f64).sqrt());
    let y_n: Vec<f64> = phi_n
        .mul_vec(&w_n)
        .iter()
        .map(|v| v + cfg.noise * crate::rng::gaussian(&mut rng))
        .collect();
    let mut normal = Mat::zeros(cfg.noisy_p, cfg.noisy_p);
    for i in 0..cfg.noisy_n {
        let row = phi_n.row(i);
        for a in 0..cfg.noisy_p {
            for b in 0..cfg.noisy_p {
                normal[(a, b)] += row[a] * row[b];
            }
        }
    }
    let w_ls = solve(&normal, &phi_n.t_mul_vec(&y_n)).expect("n > p Gaussian design");
    let min_loss = linear::loss(&phi_n, &y_n, &w_ls);
    let sgd_step_n = 1.0
        / (0..cfg.noisy_n)
            .map(|i| crate::linalg::dot(phi_n.row(i), phi_n.row(i)))
            .fold(0.0, f64::max);
    let (noisy_sgd, _) = linear::sgd(&phi_n, &y_n, sgd_step_n, cfg.sgd_epochs, 0.0, &mut rng);
    let tail = &noisy_sgd[noisy_sgd.len().saturating_sub(50)..];
    let eig_n = {
        let mut ev = sym_eigenvalues(&normal);
        ev.iter_mut().for_each(|v| *v /= cfg.noisy_n as f64);
        ev
    };
    let (noisy_gd, _) = linear::gd(
        &phi_n,
        &y_n,
        1.0 / eig_n[eig_n.len() - 1],
        cfg.max_iterations,
        0.0,
    );
    let no_interpolation = NoInterpolation {
        n: cfg.noisy_n,
        p: cfg.noisy_p,
        noise: cfg.noise,
        min_loss,
        sgd_final_excess_loss: tail.iter().map(|l| l - min_loss).sum::<f64>() / tail.len() as f64,
        gd_final_excess_loss: noisy_gd.last().expect("non-empty") - min_loss,
    };

    // Two-layer network on random labels, inputs on the unit sphere.
    let mut xs = Mat::gaussian(cfg.net_n, cfg.net_d, 1.0, &mut rng);
    for i in 0..cfg.net_n {
        let r = crate::linalg::norm(xs.row(i));
        for k in 0..cfg.net_d {
            xs[(i, k)] /= r;
        }
    }
    let ys = gaussian_vec(&mut rng, cfg.net_n, 1.0);
    let mut net = Network::init(cfg.net_d, cfg.net_width, &mut rng);
    let k0 = net.kernel_eigenvalues(&xs);
    let net_step = 1.0 / k0[k0.len() - 1];
    let net_l0 = net.loss(&xs, &ys);
    let mut net_losses = vec![net_l0];
    for _ in 0..cfg.net_max_iterations {
        net.step(&xs, &ys, net_step);
        let l = net.loss(&xs, &ys);
        net_losses.push(l);
        if l < FLOOR * net_l0 {
            break;
        }
    }
    let k1 = net.kernel_eigenvalues(&xs);
    let (net_rate, net_r2) = fit(&net_losses);
    let network = NetworkRun {
        n: cfg.net_n,
        d: cfg.net_d,
        width: cfg.net_width,
        parameters: cfg.net_width * (cfg.net_d + 1),
        step: net_step,
        iterations: net_losses.len() - 1,
        initial_loss: net_l0,
        final_loss: *net_losses.last().expect("non-empty"),
        measured_rate: net_rate,
        fit_r2: net_r2,
        predicted_rate_at_init: (1.0 - net_step * k0[0]).powi(2),
        predicted_rate_at_end: (1.0 - net_step * k1[0]).powi(2),
    };

    let mut report = InterpolationReport {
        gd,
        sgd,
        no_interpolation,
        network,
        figures: Vec::new(),
    };
    if let Some(dir) = figures {
        let rel = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .map(|(k, l)| (k as f64, l / v[0]))
                .collect()
        };
        let p = dir.join("interpolation_gd.svg");
        let mut c = Chart::new(
            "Constant-step GD with a zero-loss solution: loss falls linearly (on a log scale)",
            "iteration",
            "L_k / L_0",
        );
        c.log_y = true;
        c.series.push(Series::line(
            format!("linear, n = {} < p = {}", cfg.n, cfg.p),
            0,
            rel(&gd_losses),
        ));
        let bound: Vec<(f64, f64)> = (0..gd_losses.len())
            .map(|k| (k as f64, predicted.powi(k as i32)))
            .collect();
        c.series
            .push(Series::line("bound (1 - t lambda_min)^(2k)", 2, bound));
        c.series.push(Series::line(
            format!(
                "two-layer tanh net, {} params, n = {}",
                report.network.parameters, cfg.net_n
            ),
            1,
            rel(&net_losses),
        ));
        c.write_svg(&p)?;
        report.figures.push(p.display().to_string());

        let p = dir.join("interpolation_sgd.svg");
        let mut c = Chart::new(
            "Constant-step SGD: linear with interpolation, a noise floor without",
            "epoch",
            "excess loss / initial excess",
        );
        c.log_y = true;
        c.series.push(Series::line(
            format!("interpolating, n = {} < p = {}", cfg.n, cfg.p),
            0,
            rel(&sgd_losses),
        ));
        let excess: Vec<f64> = noisy_sgd.iter().map(|l| l - min_loss).collect();
        c.series.push(Series::line(
            format!(
                "noisy, n = {} > p = {} (no interpolation)",
                cfg.noisy_n, cfg.noisy_p
            ),
            1,
            rel(&excess),
        ));
        c.write_svg(&p)?;
        report.figures.push(p.display().to_string());
    }
    Ok(report)
}

impl InterpolationReport {
    pub fn table(&self) -> String {
        let g = &self.gd;
        let mut s = format!(
            "Linear least squares, n = {} < p = {}, GD step 1/lambda_max = {:.4e}:\n  \
             loss {:.3e} -> {:.3e} in {} steps; rate per step measured {:.6} (r^2 {:.6}), \
             predicted (1 - t lambda_min)^2 = {:.6}; bound held at every step: {}\n",
            g.n,
            g.p,
            g.step,
            g.initial_loss,
            g.final_loss,
            g.iterations,
            g.measured_rate,
            g.fit_r2,
            g.predicted_rate,
            g.bound_holds
        );
        let q = &self.sgd;
        s += &format!(
            "Constant-step SGD (step {:.4e}): loss {:.3e} -> {:.3e} in {} epochs, rate per epoch {:.6} (r^2 {:.6})\n",
            q.step, q.initial_loss, q.final_loss, q.epochs, q.measured_rate_per_epoch, q.fit_r2
        );
        let o = &self.no_interpolation;
        s += &format!(
            "No interpolation (n = {} > p = {}, noise {}): min loss {:.4}; excess loss of SGD {:.3e} (floor), of GD {:.3e}\n",
            o.n, o.p, o.noise, o.min_loss, o.sgd_final_excess_loss, o.gd_final_excess_loss
        );
        let nw = &self.network;
        s += &format!(
            "Two-layer tanh network ({} params, n = {}, d = {}), step {:.4}:\n  \
             loss {:.3e} -> {:.3e} in {} steps; rate measured {:.6} (r^2 {:.6}); \
             tangent-kernel prediction {:.6} at init, {:.6} at the end\n",
            nw.parameters,
            nw.n,
            nw.d,
            nw.step,
            nw.initial_loss,
            nw.final_loss,
            nw.iterations,
            nw.measured_rate,
            nw.fit_r2,
            nw.predicted_rate_at_init,
            nw.predicted_rate_at_end
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
    use std::sync::OnceLock;

    /// One shared run, with a smaller network so the suite stays fast.
    fn report() -> &'static InterpolationReport {
        static R: OnceLock<InterpolationReport> = OnceLock::new();
        R.get_or_init(|| {
            let cfg = InterpolationConfig {
                net_n: 12,
                net_width: 120,
                net_max_iterations: 8000,
                ..InterpolationConfig::default()
            };
            run(&cfg, None).unwrap()
        })
    }

    #[test]
    fn linear_gd_converges_linearly_at_the_predicted_rate() {
        let g = &report().gd;
        assert!(g.final_loss < 1e-20 * g.initial_loss);
        assert!(g.bound_holds);
        assert!(g.fit_r2 > 0.999, "{}", g.fit_r2);
        // The fitted rate is at most the worst-case factor, and close to it.
        assert!(g.measured_rate <= g.predicted_rate + 1e-9);
        let gap = ((1.0 - g.measured_rate) - (1.0 - g.predicted_rate)).abs();
        assert!(gap < 0.1 * (1.0 - g.predicted_rate), "{g:?}");
    }

    #[test]
    fn constant_step_sgd_needs_interpolation_to_converge() {
        let r = report();
        assert!(r.sgd.final_loss < 1e-20 * r.sgd.initial_loss);
        assert!(r.sgd.measured_rate_per_epoch < 0.9 && r.sgd.fit_r2 > 0.99);
        let o = &r.no_interpolation;
        assert!(o.min_loss > 0.01);
        // SGD stalls at a floor many orders above where it gets with interpolation ...
        assert!(o.sgd_final_excess_loss > 1e-4 * o.min_loss);
        // ... while full-batch GD on the same data still reaches the minimum.
        assert!(o.gd_final_excess_loss.abs() < 1e-12);
    }

    #[test]
    fn overparameterized_network_converges_linearly_at_its_kernel_rate() {
        let nw = &report().network;
        assert!(nw.parameters > 10 * nw.n);
        assert!(nw.final_loss < 1e-20 * nw.initial_loss, "{nw:?}");
        assert!(nw.fit_r2 > 0.999 && nw.measured_rate < 1.0, "{nw:?}");
        assert!(
            (nw.measured_rate - nw.predicted_rate_at_end).abs() < 2e-3,
            "{nw:?}"
        );
    }

    #[test]
    fn rejects_a_non_interpolating_linear_setup() {
        let cfg = InterpolationConfig {
            n: 50,
            p: 40,
            ..InterpolationConfig::default()
        };
        assert!(run(&cfg, None).is_err());
    }
}
