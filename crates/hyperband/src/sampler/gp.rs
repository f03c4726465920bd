//! Gaussian-process Bayesian optimization with expected improvement.
//!
//! The classic recipe (Jones, Schonlau & Welch 1998; Snoek, Larochelle & Adams 2012): model
//! the loss on the unit cube with a GP, Matern 5/2 kernel with one length scale per
//! dimension (ARD), and evaluate where the expected improvement over the best predicted
//! loss is largest. Categorical parameters are modelled by their unit coordinate (the
//! centre of their cell), an ordering the kernel does not know is arbitrary; acceptable for
//! the few-choice categoricals of tuning problems, and the price of one kernel for all.
//!
//! Choices that keep a proposal a pure function of the history, and cheap:
//! - Targets are standardized (the constant mean is the observed mean); the signal variance
//!   is profiled out of the likelihood in closed form, leaving `d` log length scales and
//!   the log noise-to-signal ratio, fit by L-BFGS with analytic gradients from the prior
//!   centre and `restarts - 1` random starts. Weak log-normal priors on both (MAP rather
//!   than maximum likelihood, as Spearmint and BoTorch do) keep the fit well posed with few
//!   points.
//! - Hyperparameters are fit on at most `max_fit_points` observations, a systematic sample in
//!   the order observed (subset of data, Rasmussen & Williams 2006, sect. 8.3): each
//!   likelihood evaluation is cubic in the points used, while the posterior itself uses all
//!   of them.
//! - Expected improvement is maximized over `candidates` uniform points, then refined from
//!   the best few by a (1+1) evolution strategy. The posterior variance given the few
//!   training points most correlated with a candidate bounds the variance given all of them
//!   (conditioning never adds variance), so the linear-cost mean plus that bound screens
//!   candidates without approximation: the quadratic exact variance is computed only where
//!   the bound could still beat the best expected improvement found.
//! - The factorization adds growing jitter when it fails; if it keeps failing the proposal
//!   is random.

use super::linalg::{cholesky, dot, inverse_from_cholesky, solve_lower, solve_upper_t};
use super::normal::normal_cdf;
use super::tpe::{snap, standard_normal};
use super::Sampler;
use crate::config::Config;
use crate::history::History;
use crate::space::Space;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Settings of [`Gp`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpConfig {
    /// Observations at a budget before the GP models it; `None` means `d + 1`. Below this
    /// at every budget, proposals are random (the initial design).
    pub min_points: Option<usize>,
    /// Uniform candidates screened for expected improvement.
    pub candidates: usize,
    /// Best candidates refined locally, and the steps of each refinement.
    pub refine_starts: usize,
    pub refine_steps: usize,
    /// Starts of the hyperparameter optimization (the first at the prior centre).
    pub restarts: usize,
    /// L-BFGS iterations per start.
    pub max_iterations: usize,
    /// Cap on the observations the hyperparameters are fit on.
    pub max_fit_points: usize,
    /// Cap on the observations the posterior is conditioned on: the best half of the cap
    /// by loss, where expected improvement needs the model to be sharp, and a systematic
    /// sample of the others. Exact GP inference is cubic in the points, so without a cap a
    /// long full-budget study would slow down without bound.
    pub max_points: usize,
    /// Floor on the noise variance relative to the signal variance: the nugget that keeps
    /// the kernel matrix well conditioned for noise-free objectives.
    pub min_noise: f64,
}

impl Default for GpConfig {
    fn default() -> Self {
        Self {
            min_points: None,
            candidates: 1000,
            refine_starts: 3,
            refine_steps: 20,
            restarts: 2,
            max_iterations: 30,
            max_fit_points: 64,
            max_points: 1000,
            min_noise: 1e-6,
        }
    }
}

/// Bayesian optimization: with `FullBudget` this is the classic GP-EI loop.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Gp {
    config: GpConfig,
}

/// Prior on each log length scale: centred on 0.5 (the unit cube's half width; BoTorch's
/// former Gamma(3, 6) prior has the same mean), one e-fold of deviation.
const LOG_LS_MEAN: f64 = -std::f64::consts::LN_2;
const LOG_LS_SD: f64 = 1.0;
/// Prior on the log noise-to-signal ratio: centred on 1%, wide.
const LOG_NOISE_MEAN: f64 = -4.605_170_185_988_091;
const LOG_NOISE_SD: f64 = 2.0;
/// Training points conditioned on for the cheap variance bound.
const NEIGHBOURS: usize = 8;
/// Box for the log length scales: below 0.01 the GP interpolates noise, above 20 the
/// dimension is already irrelevant.
const LOG_LS_BOUNDS: (f64, f64) = (-4.605_170_185_988_091, 2.995_732_273_553_991);

impl Gp {
    pub fn new(config: GpConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &GpConfig {
        &self.config
    }

    /// The observations of the largest budget with enough of them, unit points row after
    /// row and standardized losses, in the order observed.
    fn data(&self, space: &Space, history: &History) -> Option<Data> {
        let d = space.len();
        let min_points = self.config.min_points.unwrap_or(d + 1).max(1);
        let (budget, n) = history.largest_budget_where(|n| n >= min_points)?;
        let mut at_budget: Vec<(f64, usize)> = Vec::with_capacity(n);
        for (i, obs) in history.observations().iter().enumerate() {
            if obs.budget.to_bits() == budget.to_bits() {
                at_budget.push((obs.loss, i));
            }
        }
        let cap = self.config.max_points.max(min_points).max(2);
        at_budget = cap_points(at_budget, cap);
        let n = at_budget.len();
        let mut x = Vec::with_capacity(n * d);
        let mut y = Vec::with_capacity(n);
        for &(loss, i) in &at_budget {
            let obs = &history.observations()[i];
            x.extend_from_slice(&history.trial(obs.trial).unit);
            y.push(loss);
        }
        standardize(&mut y);
        Some(Data {
            x,
            y,
            n,
            d,
            noise_mix: None,
        })
    }

    /// MAP hyperparameters `[ln l_1, .., ln l_d, ln g (, ln g_2)]`.
    pub(super) fn fit_hyperparameters(&self, data: &Data, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let d = data.d;
        let k = data.n_theta();
        let sample = data.systematic_sample(self.config.max_fit_points.max(2));
        let min_noise = self.config.min_noise.max(1e-12);
        let mut lo = vec![LOG_LS_BOUNDS.0; k];
        let mut hi = vec![LOG_LS_BOUNDS.1; k];
        lo[d..].fill(min_noise.ln());
        hi[d..].fill(0.0);
        let mut best: Option<(f64, Vec<f64>)> = None;
        for start in 0..self.config.restarts.max(1) {
            let mut theta = vec![LOG_LS_MEAN; k];
            theta[d..].fill(LOG_NOISE_MEAN);
            if start > 0 {
                for t in &mut theta[..d] {
                    *t += LOG_LS_SD * standard_normal(rng);
                }
                for t in &mut theta[d..] {
                    *t += LOG_NOISE_SD * standard_normal(rng);
                }
            }
            let (theta, value) = minimize(
                |t| neg_log_posterior(&sample, t),
                theta,
                &lo,
                &hi,
                self.config.max_iterations,
            );
            if best.as_ref().is_none_or(|(v, _)| value < *v) {
                best = Some((value, theta));
            }
        }
        let (_, mut theta) = best.expect("at least one start");
        for (t, (l, h)) in theta.iter_mut().zip(lo.iter().zip(&hi)) {
            *t = t.clamp(*l, *h);
        }
        theta
    }

    /// The point of `space` (unit coordinates) where expected improvement is largest, with
    /// the model's remaining coordinates held at `tail` (the multi-fidelity model's target
    /// budget; empty for a model of the space alone).
    pub(super) fn maximize_ei(
        &self,
        space: &Space,
        post: &Posterior,
        tail: &[f64],
        rng: &mut ChaCha8Rng,
    ) -> Vec<f64> {
        let free = space.len();
        let d = free + tail.len();
        let mut r = vec![0.0; post.n];
        let m = self.config.candidates.max(1);
        let mut points = vec![0.0; m * d];
        // (upper bound of EI, mean, candidate).
        let mut screened: Vec<(f64, f64, usize)> = Vec::with_capacity(m);
        for (c, u) in points.chunks_exact_mut(d).enumerate() {
            u[..free].iter_mut().for_each(|x| *x = rng.random::<f64>());
            u[free..].copy_from_slice(tail);
            snap(space, u);
            let (mu, var_bound) = post.mean_and_variance_bound(u, &mut r);
            let bound = expected_improvement(post.best, mu, var_bound.sqrt());
            screened.push((bound, mu, c));
        }
        screened.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
        let starts = self.config.refine_starts.max(1);
        // The best `starts` exact values, best first.
        let mut top: Vec<(f64, usize)> = Vec::with_capacity(starts + 1);
        for &(bound, mu, c) in &screened {
            if top.len() == starts && bound <= top[starts - 1].0 {
                break;
            }
            post.correlations(&points[c * d..(c + 1) * d], &mut r);
            let ei = post.ei_given(mu, &mut r);
            let at = top.partition_point(|&(v, i)| v > ei || v == ei && i < c);
            top.insert(at, (ei, c));
            top.truncate(starts);
        }
        let mut best_u = points[top[0].1 * d..(top[0].1 + 1) * d].to_vec();
        let mut best_ei = top[0].0;
        let mut trial = vec![0.0; d];
        trial[free..].copy_from_slice(tail);
        for &(ei, c) in &top {
            let mut u = points[c * d..(c + 1) * d].to_vec();
            let mut value = ei;
            let mut step = 0.05;
            for _ in 0..self.config.refine_steps {
                for (t, x) in trial[..free].iter_mut().zip(&u) {
                    *t = x + step * standard_normal(rng);
                }
                snap(space, &mut trial);
                let (mu, var_bound) = post.mean_and_variance_bound(&trial, &mut r);
                // The bound settles most rejections without the quadratic solve.
                let ei = if expected_improvement(post.best, mu, var_bound.sqrt()) > value {
                    post.ei_given(mu, &mut r)
                } else {
                    f64::NEG_INFINITY
                };
                if ei > value {
                    value = ei;
                    u.copy_from_slice(&trial);
                    step = (step * 2.0).min(0.5);
                } else {
                    step = (step * 0.7).max(1e-4);
                }
            }
            if value > best_ei {
                best_ei = value;
                best_u.copy_from_slice(&u);
            }
        }
        best_u.truncate(free);
        best_u
    }
}

impl Sampler for Gp {
    fn name(&self) -> &'static str {
        "gp"
    }

    fn propose(&self, space: &Space, history: &History, rng: &mut ChaCha8Rng) -> Config {
        let Some(data) = self.data(space, history) else {
            return space.sample(rng);
        };
        let theta = self.fit_hyperparameters(&data, rng);
        let Some(post) = Posterior::new(&data, &theta) else {
            return space.sample(rng);
        };
        space.from_unit(&self.maximize_ei(space, &post, &[], rng))
    }
}

/// At most `cap` of `points` (loss, observation index): the best half of the cap by loss,
/// where expected improvement needs the model to be sharp, and a systematic sample of the
/// others; in index order, as the systematic sample of the fit expects.
pub(super) fn cap_points(points: Vec<(f64, usize)>, cap: usize) -> Vec<(f64, usize)> {
    if points.len() <= cap {
        return points;
    }
    let key = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    let mut ranked = points.clone();
    let (_, &mut first_rest, _) = ranked.select_nth_unstable_by(cap / 2, key);
    let (best, rest): (Vec<_>, Vec<_>) = points
        .iter()
        .partition(|o| key(o, &first_rest) == std::cmp::Ordering::Less);
    let m = cap - best.len();
    let mut kept: Vec<(f64, usize)> = best;
    kept.extend((0..m).map(|k| rest[(2 * k + 1) * rest.len() / (2 * m)]));
    kept.sort_by_key(|&(_, i)| i);
    kept
}

/// Centres and scales `y` to mean 0 and variance 1 (scale 1 when constant).
pub(super) fn standardize(y: &mut [f64]) {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let sd = if var.sqrt() > 1e-12 * (1.0 + mean.abs()) {
        var.sqrt()
    } else {
        1.0
    };
    y.iter_mut().for_each(|v| *v = (*v - mean) / sd);
}

/// Training data: `n` unit points of `d` coordinates, and standardized losses.
#[derive(Debug, Clone)]
pub(super) struct Data {
    pub(super) x: Vec<f64>,
    pub(super) y: Vec<f64>,
    pub(super) n: usize,
    pub(super) d: usize,
    /// Where the noise of each point lies between two levels (0: the first, 1: the second),
    /// each level a hyperparameter: the multi-fidelity model's distance below the top budget,
    /// since cheap evaluations are noisier. `None`: one noise level for all points.
    pub(super) noise_mix: Option<Vec<f64>>,
}

impl Data {
    /// Hyperparameters: one log length scale per coordinate, then one log noise ratio per
    /// noise level.
    pub(super) fn n_theta(&self) -> usize {
        self.d + 1 + usize::from(self.noise_mix.is_some())
    }

    /// The noise ratio of each point at `theta`: log-linear between the levels.
    fn noise(&self, theta: &[f64]) -> Vec<f64> {
        let d = self.d;
        match &self.noise_mix {
            None => vec![theta[d].exp(); self.n],
            Some(s) => s
                .iter()
                .map(|w| ((1.0 - w) * theta[d] + w * theta[d + 1]).exp())
                .collect(),
        }
    }

    /// At most `m` points, the middles of `m` equal strata of the observation order.
    pub(super) fn systematic_sample(&self, m: usize) -> Data {
        if self.n <= m {
            return self.clone();
        }
        let d = self.d;
        let mut x = Vec::with_capacity(m * d);
        let mut y = Vec::with_capacity(m);
        for k in 0..m {
            let i = (2 * k + 1) * self.n / (2 * m);
            x.extend_from_slice(&self.x[i * d..(i + 1) * d]);
            y.push(self.y[i]);
        }
        let noise_mix = self
            .noise_mix
            .as_ref()
            .map(|s| (0..m).map(|k| s[(2 * k + 1) * self.n / (2 * m)]).collect());
        Data {
            x,
            y,
            n: m,
            d,
            noise_mix,
        }
    }
}

/// Matern 5/2 correlation at scaled distance `r`.
fn matern52(r: f64) -> f64 {
    let s = 5f64.sqrt() * r;
    (1.0 + s + s * s / 3.0) * (-s).exp()
}

/// `sum_j ((a_j - b_j) / l_j)^2`.
fn scaled_sq_dist(a: &[f64], b: &[f64], inv_ls: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .zip(inv_ls)
        .map(|((x, y), w)| ((x - y) * w).powi(2))
        .sum()
}

/// Correlation matrix plus `diag` on the diagonal.
fn kernel_matrix(data: &Data, inv_ls: &[f64], diag: &[f64]) -> Vec<f64> {
    let (n, d) = (data.n, data.d);
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        let xi = &data.x[i * d..(i + 1) * d];
        for j in 0..i {
            let r2 = scaled_sq_dist(xi, &data.x[j * d..(j + 1) * d], inv_ls);
            let k = matern52(r2.sqrt());
            a[i * n + j] = k;
            a[j * n + i] = k;
        }
        a[i * n + i] = 1.0 + diag[i];
    }
    a
}

/// Negative log marginal likelihood (signal variance profiled out) minus the log prior,
/// and its gradient, at `theta = [ln l_1, .., ln l_d, ln g]`; `None` if the kernel matrix
/// cannot be factored.
pub(super) fn neg_log_posterior(data: &Data, theta: &[f64]) -> Option<(f64, Vec<f64>)> {
    let (n, d) = (data.n, data.d);
    let inv_ls: Vec<f64> = theta[..d].iter().map(|t| (-t).exp()).collect();
    let g = data.noise(theta);
    let mut l = kernel_matrix(data, &inv_ls, &g);
    if !cholesky(&mut l, n) {
        return None;
    }
    let mut alpha = data.y.clone();
    solve_lower(&l, n, &mut alpha);
    let quad = dot(&alpha, &alpha); // y^T A^{-1} y
    solve_upper_t(&l, n, &mut alpha);
    let sigma2 = (quad / n as f64).max(1e-300);
    let half_log_det: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
    let log_lik = -0.5 * n as f64 * sigma2.ln() - half_log_det;
    // d ll / d theta = tr(W dA/dtheta) / 2, W = alpha alpha^T / sigma2 - A^{-1}.
    let inv = inverse_from_cholesky(&l, n);
    let mut grad = vec![0.0; theta.len()];
    let mut s = vec![0.0; d];
    for a in 0..n {
        let xa = &data.x[a * d..(a + 1) * d];
        for b in 0..a {
            let xb = &data.x[b * d..(b + 1) * d];
            let w = alpha[a] * alpha[b] / sigma2 - inv[a * n + b];
            let mut r2 = 0.0;
            for j in 0..d {
                s[j] = ((xa[j] - xb[j]) * inv_ls[j]).powi(2);
                r2 += s[j];
            }
            // dk/d ln l_j = 5/3 (1 + sqrt5 r) exp(-sqrt5 r) s_j; each pair counts twice in
            // the trace, which cancels the 1/2.
            let r5 = 5f64.sqrt() * r2.sqrt();
            let common = w * 5.0 / 3.0 * (1.0 + r5) * (-r5).exp();
            for j in 0..d {
                grad[j] += common * s[j];
            }
        }
        let w = 0.5 * g[a] * (alpha[a] * alpha[a] / sigma2 - inv[a * n + a]);
        match &data.noise_mix {
            None => grad[d] += w,
            Some(mix) => {
                grad[d] += (1.0 - mix[a]) * w;
                grad[d + 1] += mix[a] * w;
            }
        }
    }
    let mut value = -log_lik;
    for g in grad.iter_mut() {
        *g = -*g;
    }
    for j in 0..d {
        let z = (theta[j] - LOG_LS_MEAN) / LOG_LS_SD;
        value += 0.5 * z * z;
        grad[j] += z / LOG_LS_SD;
    }
    for j in d..theta.len() {
        let z = (theta[j] - LOG_NOISE_MEAN) / LOG_NOISE_SD;
        value += 0.5 * z * z;
        grad[j] += z / LOG_NOISE_SD;
    }
    value.is_finite().then_some((value, grad))
}

/// L-BFGS (memory 5) with a backtracking Armijo line search, projected onto the box
/// `[lo, hi]`. Returns the best point found and its value (infinite if `f` never could be
/// evaluated).
fn minimize(
    mut f: impl FnMut(&[f64]) -> Option<(f64, Vec<f64>)>,
    x0: Vec<f64>,
    lo: &[f64],
    hi: &[f64],
    max_iterations: usize,
) -> (Vec<f64>, f64) {
    let project = |x: &mut [f64]| {
        for ((v, l), h) in x.iter_mut().zip(lo).zip(hi) {
            *v = v.clamp(*l, *h);
        }
    };
    let mut x = x0;
    project(&mut x);
    let Some((mut fx, mut gx)) = f(&x) else {
        return (x, f64::INFINITY);
    };
    let mut memory: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    for _ in 0..max_iterations {
        // Two-loop recursion: direction = -H g.
        let mut q = gx.clone();
        let mut alphas = Vec::with_capacity(memory.len());
        for (s, y, rho) in memory.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = memory
            .last()
            .map_or(1.0 / (1.0 + norm_inf(&gx)), |(s, y, _)| {
                dot(s, y) / dot(y, y)
            });
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in memory.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        if dot(&dir, &gx) >= 0.0 {
            memory.clear();
            dir = gx.iter().map(|v| -v / (1.0 + norm_inf(&gx))).collect();
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..20 {
            let mut xn: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a + step * b).collect();
            project(&mut xn);
            let moved: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
            let decrease = dot(&gx, &moved).min(0.0);
            if let Some((fnew, gnew)) = f(&xn) {
                if fnew <= fx + 1e-4 * decrease && fnew < fx {
                    accepted = Some((xn, fnew, gnew, moved));
                    break;
                }
            }
            step *= 0.5;
        }
        let Some((xn, fnew, gnew, s)) = accepted else {
            break;
        };
        let y: Vec<f64> = gnew.iter().zip(&gx).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            memory.push((s, y, 1.0 / sy));
            if memory.len() > 5 {
                memory.remove(0);
            }
        }
        let converged = fx - fnew < 1e-6 * (1.0 + fx.abs());
        x = xn;
        fx = fnew;
        gx = gnew;
        if converged || norm_inf(&gx) < 1e-6 {
            break;
        }
    }
    (x, fx)
}

fn norm_inf(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// The GP given all training data, in standardized units.
#[derive(Debug, Clone)]
pub(super) struct Posterior {
    x: Vec<f64>,
    pub(super) n: usize,
    d: usize,
    inv_ls: Vec<f64>,
    chol: Vec<f64>,
    alpha: Vec<f64>,
    /// Profiled signal variance.
    sigma2: f64,
    /// Each point's noise ratio plus any jitter the factorization needed.
    diag: Vec<f64>,
    /// The lowest posterior mean at an incumbent training point: what EI improves on.
    best: f64,
}

impl Posterior {
    /// The incumbent is the lowest posterior mean over every training point.
    pub(super) fn new(data: &Data, theta: &[f64]) -> Option<Self> {
        Self::with_incumbents(data, theta, |_| true)
    }

    /// The incumbent is the lowest posterior mean over the training points `incumbent`
    /// accepts (the multi-fidelity model's points at its target budget).
    pub(super) fn with_incumbents(
        data: &Data,
        theta: &[f64],
        incumbent: impl Fn(usize) -> bool,
    ) -> Option<Self> {
        let (n, d) = (data.n, data.d);
        let inv_ls: Vec<f64> = theta[..d].iter().map(|t| (-t).exp()).collect();
        let g = data.noise(theta);
        let mut a = kernel_matrix(data, &inv_ls, &vec![0.0; n]);
        let mut chol = a.clone();
        let mut diag = g.clone();
        let mut factored = false;
        for jitter in [0.0, 1e-8, 1e-6, 1e-4, 1e-2] {
            diag.iter_mut().zip(&g).for_each(|(v, g)| *v = g + jitter);
            chol.copy_from_slice(&a);
            for i in 0..n {
                chol[i * n + i] += diag[i];
            }
            if cholesky(&mut chol, n) {
                factored = true;
                break;
            }
        }
        if !factored {
            return None;
        }
        a.clear();
        let mut alpha = data.y.clone();
        solve_lower(&chol, n, &mut alpha);
        let sigma2 = (dot(&alpha, &alpha) / n as f64).max(1e-12);
        solve_upper_t(&chol, n, &mut alpha);
        // Posterior mean at the training points: y - diag * alpha.
        let best = (0..n)
            .filter(|&i| incumbent(i))
            .map(|i| data.y[i] - diag[i] * alpha[i])
            .fold(f64::INFINITY, f64::min);
        if !best.is_finite() {
            return None;
        }
        Some(Self {
            x: data.x.clone(),
            n,
            d,
            inv_ls,
            chol,
            alpha,
            sigma2,
            diag,
            best,
        })
    }

    /// Fills `r` with the correlations of `u` to the training points; returns the largest.
    fn correlations(&self, u: &[f64], r: &mut [f64]) -> f64 {
        let d = self.d;
        let mut max: f64 = 0.0;
        for (i, ri) in r.iter_mut().enumerate() {
            let r2 = scaled_sq_dist(u, &self.x[i * d..(i + 1) * d], &self.inv_ls);
            *ri = matern52(r2.sqrt());
            max = max.max(*ri);
        }
        max
    }

    /// The mean at `u`, and the variance given only the training points most correlated
    /// with `u`: an upper bound of the posterior variance (conditioning on more points never
    /// adds any), in O(n d) rather than the exact O(n^2). Leaves the correlations in `r`.
    fn mean_and_variance_bound(&self, u: &[f64], r: &mut [f64]) -> (f64, f64) {
        self.correlations(u, r);
        let mu = dot(r, &self.alpha);
        let k = NEIGHBOURS.min(self.n);
        let mut idx = [0usize; NEIGHBOURS];
        let mut val = [f64::NEG_INFINITY; NEIGHBOURS];
        for (i, &ri) in r.iter().enumerate() {
            if ri <= val[k - 1] {
                continue;
            }
            let mut p = k - 1;
            while p > 0 && val[p - 1] < ri {
                val[p] = val[p - 1];
                idx[p] = idx[p - 1];
                p -= 1;
            }
            val[p] = ri;
            idx[p] = i;
        }
        let d = self.d;
        let mut m = [0.0; NEIGHBOURS * NEIGHBOURS];
        for a in 0..k {
            let xa = &self.x[idx[a] * d..(idx[a] + 1) * d];
            for b in 0..a {
                let xb = &self.x[idx[b] * d..(idx[b] + 1) * d];
                let c = matern52(scaled_sq_dist(xa, xb, &self.inv_ls).sqrt());
                m[a * k + b] = c;
                m[b * k + a] = c;
            }
            m[a * k + a] = 1.0 + self.diag[idx[a]];
        }
        let explained = if cholesky(&mut m[..k * k], k) {
            let v = &mut val[..k];
            solve_lower(&m[..k * k], k, v);
            dot(v, v)
        } else {
            // The single most correlated point, which always factors.
            val[0] * val[0] / (1.0 + self.diag[idx[0]])
        };
        (mu, self.sigma2 * (1.0 - explained).max(0.0))
    }

    /// Expected improvement at the point whose mean is `mu` and correlations are `r`
    /// (overwritten).
    fn ei_given(&self, mu: f64, r: &mut [f64]) -> f64 {
        solve_lower(&self.chol, self.n, r);
        let var = self.sigma2 * (1.0 - dot(r, r)).max(0.0);
        expected_improvement(self.best, mu, var.sqrt())
    }

    /// Mean and variance of the latent function at `u`.
    #[cfg(test)]
    fn predict(&self, u: &[f64], r: &mut [f64]) -> (f64, f64) {
        self.correlations(u, r);
        let mu = dot(r, &self.alpha);
        solve_lower(&self.chol, self.n, r);
        let var = self.sigma2 * (1.0 - dot(r, r)).max(0.0);
        (mu, var)
    }

    #[cfg(test)]
    fn ei(&self, u: &[f64], r: &mut [f64]) -> f64 {
        let (mu, var) = self.predict(u, r);
        expected_improvement(self.best, mu, var.sqrt())
    }
}

/// `E[max(best - f, 0)]` for `f ~ N(mu, sd^2)`.
fn expected_improvement(best: f64, mu: f64, sd: f64) -> f64 {
    if sd <= 1e-12 {
        return (best - mu).max(0.0);
    }
    let z = (best - mu) / sd;
    let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    ((best - mu) * normal_cdf(z) + sd * pdf).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Observation;
    use crate::rng::stream;
    use crate::space::Param;

    fn data_1d(xs: &[f64], f: impl Fn(f64) -> f64) -> Data {
        let y: Vec<f64> = xs.iter().map(|&x| f(x)).collect();
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
        Data {
            x: xs.to_vec(),
            y: y.iter().map(|v| (v - mean) / sd).collect(),
            n: xs.len(),
            d: 1,
            noise_mix: None,
        }
    }

    fn history(space: &Space, units: &[Vec<f64>], f: impl Fn(&[f64]) -> f64) -> History {
        let mut h = History::default();
        for u in units {
            let config = space.from_unit(u);
            let unit = space.to_unit(&config).unwrap();
            let loss = f(&unit);
            let trial = h.add_trial(config, unit);
            h.add_observation(Observation {
                trial,
                budget: 1.0,
                loss,
            });
        }
        h
    }

    fn argmax(v: &[f64]) -> usize {
        (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
    }

    #[test]
    fn posterior_interpolates_training_points() {
        let xs = [0.05, 0.2, 0.33, 0.5, 0.61, 0.8, 0.95];
        let data = data_1d(&xs, |x| (6.0 * x).sin() + x);
        let post = Posterior::new(&data, &[(0.2f64).ln(), (1e-8f64).ln()]).unwrap();
        let mut r = vec![0.0; data.n];
        for (i, &x) in xs.iter().enumerate() {
            let (mu, var) = post.predict(&[x], &mut r);
            assert!(
                (mu - data.y[i]).abs() < 1e-4,
                "at {x}: {mu} vs {}",
                data.y[i]
            );
            assert!(var < 1e-4 * post.sigma2);
        }
        // Between points the GP is uncertain, and far from them it reverts to the prior.
        let (_, between) = post.predict(&[0.42], &mut r);
        assert!(between > 1e-3 * post.sigma2);
    }

    #[test]
    fn duplicated_points_do_not_break_the_factorization() {
        let data = data_1d(&[0.3, 0.3, 0.3, 0.7], |x| x);
        let mut noisy = data.clone();
        noisy.y[1] += 0.5;
        for d in [data, noisy] {
            // Without noise the matrix is singular; jitter must rescue it.
            let post = Posterior::new(&d, &[(0.3f64).ln(), f64::NEG_INFINITY]).unwrap();
            assert!(post.diag.iter().all(|&g| g > 0.0));
            let mut r = vec![0.0; d.n];
            assert!(post.ei(&[0.5], &mut r).is_finite());
        }
        let space = Space::new(vec![Param::float("x", 0.0, 1.0), Param::int("k", 1, 3)]).unwrap();
        let units = vec![vec![0.25, 0.5]; 6];
        let h = history(&space, &units, |u| u[0]);
        let config = Gp::default().propose(&space, &h, &mut stream(1, 0));
        space.check(&config).unwrap();
    }

    #[test]
    fn expected_improvement_peaks_near_the_predicted_minimum() {
        let xs: Vec<f64> = (0..15).map(|i| (i as f64 + 0.5) / 15.0).collect();
        let data = data_1d(&xs, |x| (x - 0.37).powi(2));
        let gp = Gp::default();
        let theta = gp.fit_hyperparameters(&data, &mut stream(2, 0));
        let post = Posterior::new(&data, &theta).unwrap();
        let mut r = vec![0.0; data.n];
        let grid: Vec<f64> = (0..=400).map(|i| i as f64 / 400.0).collect();
        let ei: Vec<f64> = grid.iter().map(|&x| post.ei(&[x], &mut r)).collect();
        let neg_mean: Vec<f64> = grid
            .iter()
            .map(|&x| -post.predict(&[x], &mut r).0)
            .collect();
        let (x_ei, x_mean) = (grid[argmax(&ei)], grid[argmax(&neg_mean)]);
        assert!((x_mean - 0.37).abs() < 0.03, "mean minimum at {x_mean}");
        assert!(
            (x_ei - x_mean).abs() < 0.05,
            "EI peaks at {x_ei}, mean at {x_mean}"
        );
        // And the sampler's optimizer finds that peak.
        let space = Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap();
        let u = gp.maximize_ei(&space, &post, &[], &mut stream(3, 0));
        assert!(
            (u[0] - x_ei).abs() < 0.02,
            "proposed {}, EI peak {x_ei}",
            u[0]
        );
    }

    #[test]
    fn likelihood_gradient_matches_finite_differences() {
        let mut rng = stream(4, 0);
        let d = 3;
        let n = 20;
        let x: Vec<f64> = (0..n * d).map(|_| rng.random::<f64>()).collect();
        let y: Vec<f64> = x
            .chunks(d)
            .map(|u| (3.0 * u[0]).sin() + u[1] * u[1] - 0.3 * u[2])
            .collect();
        let data = Data {
            x,
            y,
            n,
            d,
            noise_mix: None,
        };
        let theta = [-1.0, -0.3, 0.4, -5.0];
        let (_, grad) = neg_log_posterior(&data, &theta).unwrap();
        for j in 0..=d {
            let h = 1e-5;
            let (mut up, mut down) = (theta, theta);
            up[j] += h;
            down[j] -= h;
            let fd = (neg_log_posterior(&data, &up).unwrap().0
                - neg_log_posterior(&data, &down).unwrap().0)
                / (2.0 * h);
            assert!(
                (fd - grad[j]).abs() < 1e-4 * (1.0 + fd.abs()),
                "{j}: {fd} vs {}",
                grad[j]
            );
        }
    }

    #[test]
    fn fitting_finds_short_and_long_length_scales() {
        // y varies fast along x0 and not at all along x1.
        let mut rng = stream(5, 0);
        let n = 40;
        let x: Vec<f64> = (0..2 * n).map(|_| rng.random::<f64>()).collect();
        let y: Vec<f64> = x.chunks(2).map(|u| (8.0 * u[0]).sin()).collect();
        let data = Data {
            x,
            y,
            n,
            d: 2,
            noise_mix: None,
        };
        let theta = Gp::default().fit_hyperparameters(&data, &mut stream(5, 1));
        let (l0, l1) = (theta[0].exp(), theta[1].exp());
        assert!(l0 < 0.5 && l1 > 2.0 * l0, "length scales {l0}, {l1}");
        assert!(theta[2].exp() < 1e-2, "noise ratio {}", theta[2].exp());
    }

    #[test]
    fn posterior_keeps_the_best_half_of_its_cap_and_a_sample_of_the_rest() {
        let space = Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap();
        let units: Vec<Vec<f64>> = (0..100).map(|i| vec![i as f64 / 100.0]).collect();
        // Loss grows with x, so the best 10 are x < 0.1.
        let h = history(&space, &units, |u| u[0]);
        let gp = Gp::new(GpConfig {
            max_points: 20,
            ..GpConfig::default()
        });
        let data = gp.data(&space, &h).unwrap();
        assert_eq!(data.n, 20);
        assert_eq!(data.x.iter().filter(|&&x| x < 0.1).count(), 10);
        assert!(data.x.iter().any(|&x| x > 0.9), "the sample spans the rest");
        // In observation order, as the systematic sample of the fit expects.
        assert!(data.x.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn random_until_enough_points_then_deterministic_and_inside_the_space() {
        let space = Space::new(vec![
            Param::log_float("lr", 1e-4, 1e-1),
            Param::float("m", -1.0, 1.0),
            Param::int("layers", 1, 4),
            Param::log_int("hidden", 8, 1024),
            Param::categorical("act", &["relu", "tanh", "gelu"]),
        ])
        .unwrap();
        let mut rng = stream(6, 0);
        let units: Vec<Vec<f64>> = (0..12)
            .map(|_| (0..5).map(|_| rng.random::<f64>()).collect())
            .collect();
        let f = |u: &[f64]| u.iter().map(|x| (x - 0.4).powi(2)).sum::<f64>();
        let gp = Gp::default();
        let few = history(&space, &units[..5], f);
        assert!(gp.data(&space, &few).is_none());
        let enough = history(&space, &units, f);
        assert_eq!(gp.data(&space, &enough).unwrap().n, 12);
        for k in 0..5 {
            let a = gp.propose(&space, &enough, &mut stream(7, k));
            assert_eq!(a, gp.propose(&space, &enough, &mut stream(7, k)));
            space.check(&a).unwrap();
        }
    }
}
