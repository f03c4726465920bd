//! Tree-structured Parzen estimator with BOHB's budget rule.
//!
//! Falkner, Klein & Hutter, "BOHB: Robust and Efficient Hyperparameter Optimization at
//! Scale" (ICML 2018), after Bergstra et al. (NeurIPS 2011): rank the observations of one
//! budget, fit a kernel density `l` to the best `top_fraction` and `g` to the rest, and
//! propose the candidate drawn from a widened `l` that maximizes `l(x) / g(x)`, a monotone
//! transform of expected improvement under the TPE model. The model uses the largest budget
//! with enough observations because it is the most faithful to the full-budget loss, and a
//! fixed share of random proposals keeps the convergence guarantees of Hyperband.
//!
//! Where we differ from HpBandSter, and why:
//! - Each density is fit on at most `max_kde_points` points, a systematic sample (every
//!   k-th in the order they were observed) of its set. BOHB evaluates both densities on all
//!   points, which at 10,000 observations costs tens of milliseconds per proposal. A
//!   systematic sample is an unbiased thinning of the set, so the estimated density keeps
//!   its shape; a most-recent window would forget regions found bad early and re-propose
//!   them. Bandwidths are computed from the sample, as for any KDE of that many points.
//! - The categorical bandwidth (the Aitchison-Aitken `lambda`) is Scott's factor times the
//!   spread of the one-hot vector, `sqrt(1 - sum p_k^2)`, capped at `(c-1)/c` where the
//!   kernel stops preferring the point's own category. statsmodels, which BOHB uses,
//!   applies the continuous rule to category codes, which depends on the order of choices.
//! - Densities are evaluated in log space, so that narrow kernels far from a candidate
//!   cannot underflow both `l` and `g` to zero (BOHB clamps at 1e-32 instead).

use super::Sampler;
use crate::config::Config;
use crate::history::History;
use crate::space::{Domain, Space};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Settings of [`Tpe`]; the defaults are BOHB's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TpeConfig {
    /// Observations each density needs before a budget's model is used; `None` means
    /// `d + 1`, the fewest for which a product KDE's bandwidths are all informed.
    pub min_points: Option<usize>,
    /// Share of a budget's observations that form the good density.
    pub top_fraction: f64,
    /// Candidates drawn from the good density per proposal.
    pub num_samples: usize,
    /// Share of proposals drawn uniformly at random, whatever the model says.
    pub random_fraction: f64,
    /// Widening of the good density's continuous bandwidths when drawing candidates, so
    /// that proposals explore around the good points rather than repeat them.
    pub bandwidth_factor: f64,
    /// Floor on every bandwidth, so that a dimension where all points agree still has a
    /// density.
    pub min_bandwidth: f64,
    /// Cap on the points of each density (see the module documentation).
    pub max_kde_points: usize,
}

impl Default for TpeConfig {
    fn default() -> Self {
        Self {
            min_points: None,
            top_fraction: 0.15,
            num_samples: 64,
            random_fraction: 1.0 / 3.0,
            bandwidth_factor: 3.0,
            min_bandwidth: 1e-3,
            max_kde_points: 256,
        }
    }
}

/// BOHB's sampler: with `Hyperband` this is BOHB, with `Asha` its asynchronous variant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tpe {
    config: TpeConfig,
}

impl Tpe {
    pub fn new(config: TpeConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &TpeConfig {
        &self.config
    }

    fn min_points(&self, d: usize) -> usize {
        self.config.min_points.unwrap_or(d + 1).max(1)
    }

    fn n_good(&self, n: usize, min_points: usize) -> usize {
        let top = (self.config.top_fraction * n as f64).floor() as usize;
        top.max(min_points)
    }

    /// The good and bad densities of the largest budget where both have enough points, or
    /// `None` while no budget has.
    fn fit(&self, space: &Space, history: &History) -> Option<(Kde, Kde)> {
        let d = space.len();
        let min_points = self.min_points(d);
        let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
        for obs in history.observations() {
            // Budgets are positive, where the bit patterns of floats sort as the floats do.
            *counts.entry(obs.budget.to_bits()).or_default() += 1;
        }
        let (&budget, &n) = counts
            .iter()
            .rev()
            .find(|(_, &n)| n >= self.n_good(n, min_points) + min_points)?;
        let mut at_budget: Vec<(f64, u32)> = Vec::with_capacity(n);
        for (i, obs) in history.observations().iter().enumerate() {
            if obs.budget.to_bits() == budget {
                at_budget.push((obs.loss, i as u32));
            }
        }
        let n_good = self.n_good(n, min_points);
        // Ties in loss go to the earlier observation, so the split is a function of the
        // history alone.
        let key = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        let mut ranked = at_budget.clone();
        let (_, &mut first_bad, _) = ranked.select_nth_unstable_by(n_good, key);
        // Both sets in the order observed, without sorting: O(n).
        let (good, bad): (Vec<_>, Vec<_>) = at_budget
            .iter()
            .partition(|o| key(o, &first_bad) == std::cmp::Ordering::Less);
        let kinds = kinds(space);
        let fit = |set: &[&(f64, u32)]| {
            let m = set.len().min(self.config.max_kde_points.max(1));
            let points = (0..m).map(|k| {
                // The middle of the k-th of m equal strata of the set.
                let (_, i) = *set[(2 * k + 1) * set.len() / (2 * m)];
                let obs = &history.observations()[i as usize];
                history.trial(obs.trial).unit.as_slice()
            });
            Kde::fit(&kinds, points, m, self.config.min_bandwidth)
        };
        Some((fit(&good), fit(&bad)))
    }

    /// A candidate drawn from `l` with continuous bandwidths widened, snapped to a value
    /// of the space.
    fn draw(&self, l: &Kde, space: &Space, rng: &mut ChaCha8Rng, out: &mut [f64]) {
        let d = l.kinds.len();
        let i = rng.random_range(0..l.n);
        let datum = &l.points[i * d..(i + 1) * d];
        for (j, kind) in l.kinds.iter().enumerate() {
            out[j] = match *kind {
                Kind::Continuous => {
                    let bw = l.bandwidth[j] * self.config.bandwidth_factor;
                    truncated_normal(rng, datum[j], bw)
                }
                Kind::Categorical(c) => {
                    let own = datum[j] as usize;
                    let lambda = l.bandwidth[j];
                    let k = if c > 1 && rng.random::<f64>() < lambda {
                        // Uniform over the other categories, as the kernel weighs them.
                        let other = rng.random_range(0..c - 1);
                        if other >= own {
                            other + 1
                        } else {
                            other
                        }
                    } else {
                        own
                    };
                    (k as f64 + 0.5) / c as f64
                }
            };
        }
        snap(space, out);
    }
}

impl Sampler for Tpe {
    fn name(&self) -> &'static str {
        "tpe"
    }

    fn propose(&self, space: &Space, history: &History, rng: &mut ChaCha8Rng) -> Config {
        // The coin comes first so that the random share does not depend on the history.
        if rng.random::<f64>() < self.config.random_fraction {
            return space.sample(rng);
        }
        let Some((l, g)) = self.fit(space, history) else {
            return space.sample(rng);
        };
        let d = space.len();
        let mut candidate = vec![0.0; d];
        let mut best = vec![0.0; d];
        let mut best_score = f64::NEG_INFINITY;
        let mut scratch = Vec::new();
        for _ in 0..self.config.num_samples.max(1) {
            self.draw(&l, space, rng, &mut candidate);
            let score = l.log_pdf(&candidate, &mut scratch) - g.log_pdf(&candidate, &mut scratch);
            // NaN never wins; the first of equal scores does.
            if score > best_score {
                best_score = score;
                best.copy_from_slice(&candidate);
            }
        }
        if best_score == f64::NEG_INFINITY {
            // Every candidate scored -inf or NaN: the model is useless here.
            return space.sample(rng);
        }
        space.from_unit(&best)
    }
}

/// How a dimension is modelled: Gaussian kernels on the unit axis (floats, integers, either
/// scale) or an Aitchison-Aitken kernel over `c` categories.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Continuous,
    Categorical(usize),
}

fn kinds(space: &Space) -> Vec<Kind> {
    space
        .params()
        .iter()
        .map(|p| match &p.domain {
            Domain::Categorical { choices } => Kind::Categorical(choices.len()),
            _ => Kind::Continuous,
        })
        .collect()
}

/// Moves `u` to the unit point of the configuration it stands for (the centre of an
/// integer's or category's cell), so that models score the point that will be evaluated.
pub(super) fn snap(space: &Space, u: &mut [f64]) {
    for (p, x) in space.params().iter().zip(u.iter_mut()) {
        *x = match &p.domain {
            Domain::Float { .. } => x.clamp(0.0, 1.0),
            _ => p
                .to_unit(&p.from_unit(*x))
                .expect("from_unit returns a value of the parameter"),
        };
    }
}

/// A product kernel density on the unit cube.
#[derive(Debug, Clone)]
struct Kde {
    kinds: Vec<Kind>,
    /// `n` points of `d` coordinates, row after row; categorical coordinates hold the
    /// category index.
    points: Vec<f64>,
    n: usize,
    /// Gaussian standard deviation, or the Aitchison-Aitken `lambda` for categoricals.
    bandwidth: Vec<f64>,
    /// Per dimension, the log kernel terms that do not depend on the point: for Gaussians
    /// `-ln(bw) - ln(2 pi)/2`; for categoricals, the log weight of the same category and of
    /// a different one.
    log_same: Vec<f64>,
    log_other: Vec<f64>,
    /// The continuous and the categorical dimensions.
    cont: Vec<usize>,
    cats: Vec<usize>,
    /// The points' continuous coordinates divided by their bandwidths, and their
    /// categories, each row after row: the layout the evaluation loop streams through.
    scaled: Vec<f64>,
    codes: Vec<usize>,
}

impl Kde {
    fn fit<'a>(
        kinds: &[Kind],
        units: impl Iterator<Item = &'a [f64]>,
        n: usize,
        min_bandwidth: f64,
    ) -> Self {
        let d = kinds.len();
        let mut points = Vec::with_capacity(n * d);
        for u in units {
            for (x, kind) in u.iter().zip(kinds) {
                points.push(match *kind {
                    Kind::Continuous => *x,
                    Kind::Categorical(c) => ((x * c as f64).floor() as usize).min(c - 1) as f64,
                });
            }
        }
        debug_assert_eq!(points.len(), n * d);
        // Scott's rule for a d-dimensional product kernel (statsmodels' normal_reference).
        let scott = 1.06 * (n as f64).powf(-1.0 / (4.0 + d as f64));
        let mut bandwidth = Vec::with_capacity(d);
        let mut log_same = Vec::with_capacity(d);
        let mut log_other = Vec::with_capacity(d);
        for (j, kind) in kinds.iter().enumerate() {
            let column = (0..n).map(|i| points[i * d + j]);
            match *kind {
                Kind::Continuous => {
                    let mean = column.clone().sum::<f64>() / n as f64;
                    let var = column.map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
                    let bw = (scott * var.sqrt()).max(min_bandwidth);
                    bandwidth.push(bw);
                    log_same.push(-bw.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln());
                    log_other.push(0.0);
                }
                Kind::Categorical(c) => {
                    let mut counts = vec![0usize; c];
                    for x in column {
                        counts[x as usize] += 1;
                    }
                    let gini: f64 = counts.iter().map(|&k| (k as f64 / n as f64).powi(2)).sum();
                    let cap = (c as f64 - 1.0) / c as f64;
                    let lambda = (scott * (1.0 - gini).max(0.0).sqrt())
                        .max(min_bandwidth)
                        .min(cap);
                    bandwidth.push(lambda);
                    log_same.push((1.0 - lambda).ln());
                    log_other.push(if c > 1 {
                        (lambda / (c as f64 - 1.0)).ln()
                    } else {
                        f64::NEG_INFINITY
                    });
                }
            }
        }
        let cont: Vec<usize> = (0..d).filter(|&j| kinds[j] == Kind::Continuous).collect();
        let cats: Vec<usize> = (0..d).filter(|&j| kinds[j] != Kind::Continuous).collect();
        let mut scaled = Vec::with_capacity(n * cont.len());
        let mut codes = Vec::with_capacity(n * cats.len());
        for point in points.chunks_exact(d) {
            scaled.extend(cont.iter().map(|&j| point[j] / bandwidth[j]));
            codes.extend(cats.iter().map(|&j| point[j] as usize));
        }
        Self {
            kinds: kinds.to_vec(),
            points,
            n,
            bandwidth,
            log_same,
            log_other,
            cont,
            cats,
            scaled,
            codes,
        }
    }

    /// `ln` of the density at unit point `x`; `scratch` avoids an allocation per call.
    fn log_pdf(&self, x: &[f64], scratch: &mut Vec<f64>) -> f64 {
        let constant: f64 = self.cont.iter().map(|&j| self.log_same[j]).sum();
        let xs: Vec<f64> = self
            .cont
            .iter()
            .map(|&j| x[j] / self.bandwidth[j])
            .collect();
        let xk: Vec<usize> = self
            .cats
            .iter()
            .map(|&j| match self.kinds[j] {
                Kind::Categorical(c) => ((x[j] * c as f64).floor() as usize).min(c - 1),
                Kind::Continuous => unreachable!("cats holds categorical dimensions"),
            })
            .collect();
        scratch.clear();
        let mut max = f64::NEG_INFINITY;
        let (dc, dk) = (xs.len(), xk.len());
        for i in 0..self.n {
            let row = &self.scaled[i * dc..(i + 1) * dc];
            let q: f64 = row.iter().zip(&xs).map(|(p, x)| (x - p) * (x - p)).sum();
            let mut v = -0.5 * q;
            for (t, &j) in self.cats.iter().enumerate() {
                v += if self.codes[i * dk + t] == xk[t] {
                    self.log_same[j]
                } else {
                    self.log_other[j]
                };
            }
            max = max.max(v);
            scratch.push(v);
        }
        if max == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        // Terms 40 below the largest change the sum by less than 1e-17 of it.
        let sum: f64 = scratch
            .iter()
            .filter(|&&v| v - max > -40.0)
            .map(|v| (v - max).exp())
            .sum();
        constant + max + sum.ln() - (self.n as f64).ln()
    }
}

/// A normal draw with mean `mean` and deviation `sd`, conditioned on `[0, 1]` (mean in
/// `[0, 1]` and bandwidths at most about 1.6, so a fifth of the mass or more is inside and
/// rejection ends quickly).
fn truncated_normal(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    for _ in 0..100 {
        let x = mean + sd * standard_normal(rng);
        if (0.0..=1.0).contains(&x) {
            return x;
        }
    }
    rng.random::<f64>()
}

/// Box-Muller; rand 0.9 has no normal distribution without rand_distr.
pub(super) fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Observation;
    use crate::rng::stream;
    use crate::space::Param;

    /// A history where each unit point was evaluated once at `budget` with loss `f(u)`.
    fn history(space: &Space, points: &[(Vec<f64>, f64)], f: impl Fn(&[f64]) -> f64) -> History {
        let mut h = History::default();
        for (u, budget) in points {
            let config = space.from_unit(u);
            let unit = space.to_unit(&config).unwrap();
            let loss = f(&unit);
            let trial = h.add_trial(config, unit);
            h.add_observation(Observation {
                trial,
                budget: *budget,
                loss,
            });
        }
        h
    }

    fn uniform(space: &Space, n: usize, budget: f64, seed: u64) -> Vec<(Vec<f64>, f64)> {
        let mut rng = stream(seed, 0);
        (0..n)
            .map(|_| {
                let u = (0..space.len()).map(|_| rng.random::<f64>()).collect();
                (u, budget)
            })
            .collect()
    }

    fn model_only() -> Tpe {
        Tpe::new(TpeConfig {
            random_fraction: 0.0,
            ..TpeConfig::default()
        })
    }

    fn floats(d: usize) -> Space {
        Space::new(
            (0..d)
                .map(|i| Param::float(&format!("x{i}"), 0.0, 1.0))
                .collect(),
        )
        .unwrap()
    }

    fn proposals(tpe: &Tpe, space: &Space, h: &History, n: u64) -> Vec<Vec<f64>> {
        (0..n)
            .map(|k| {
                space
                    .to_unit(&tpe.propose(space, h, &mut stream(99, k)))
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn no_model_until_both_densities_have_enough_points() {
        let space = floats(2);
        let tpe = Tpe::default();
        // d + 1 = 3 good and 3 bad points are needed.
        let h = history(&space, &uniform(&space, 5, 1.0, 1), |u| u[0]);
        assert!(tpe.fit(&space, &h).is_none());
        let h = history(&space, &uniform(&space, 6, 1.0, 1), |u| u[0]);
        let (l, g) = tpe.fit(&space, &h).unwrap();
        assert_eq!((l.n, g.n), (3, 3));
    }

    #[test]
    fn split_follows_bohb_counts_and_caps_each_density() {
        let space = floats(2);
        let h = history(&space, &uniform(&space, 100, 1.0, 2), |u| u[0]);
        let (l, g) = Tpe::default().fit(&space, &h).unwrap();
        assert_eq!((l.n, g.n), (15, 85));
        // The good points are the 15 lowest losses.
        let mut losses: Vec<f64> = h.observations().iter().map(|o| o.loss).collect();
        losses.sort_by(f64::total_cmp);
        for p in l.points.chunks(2) {
            assert!(p[0] <= losses[14]);
        }
        let capped = Tpe::new(TpeConfig {
            max_kde_points: 10,
            ..TpeConfig::default()
        });
        let (l, g) = capped.fit(&space, &h).unwrap();
        assert_eq!((l.n, g.n), (10, 10));
        // The bad sample spreads over the bad set rather than taking its first points.
        assert!(g.points.chunks(2).any(|p| p[0] > 0.8));
    }

    #[test]
    fn fits_on_the_largest_budget_with_enough_points() {
        let space = floats(1);
        let mut points = uniform(&space, 40, 1.0, 3);
        points.extend(uniform(&space, 40, 9.0, 4));
        points.extend(uniform(&space, 3, 27.0, 5));
        // Budget 1 prefers x near 0.2, budget 9 near 0.8; budget 27 has too few points.
        let h = history(&space, &points, |u| u[0]);
        let mut h2 = History::default();
        for (i, obs) in h.observations().iter().enumerate() {
            let u = &h.trial(obs.trial).unit;
            let target = if obs.budget == 1.0 { 0.2 } else { 0.8 };
            let trial = h2.add_trial(h.trial(obs.trial).config.clone(), u.clone());
            h2.add_observation(Observation {
                trial,
                budget: obs.budget,
                loss: (u[0] - target).abs() + i as f64 * 1e-9,
            });
        }
        let props = proposals(&model_only(), &space, &h2, 50);
        let near = |t: f64| props.iter().filter(|u| (u[0] - t).abs() < 0.15).count();
        assert!(near(0.8) >= 40, "near 0.8: {}", near(0.8));
        assert!(near(0.2) <= 3, "near 0.2: {}", near(0.2));
    }

    #[test]
    fn concentrates_near_the_optimum_of_a_quadratic() {
        let space = floats(2);
        let opt = [0.3, 0.7];
        let dist = |u: &[f64]| ((u[0] - opt[0]).powi(2) + (u[1] - opt[1]).powi(2)).sqrt();
        let h = history(&space, &uniform(&space, 200, 1.0, 6), |u| dist(u).powi(2));
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let tpe = median(
            proposals(&model_only(), &space, &h, 101)
                .iter()
                .map(|u| dist(u))
                .collect(),
        );
        let random = median(
            uniform(&space, 101, 1.0, 7)
                .iter()
                .map(|(u, _)| dist(u))
                .collect(),
        );
        assert!(tpe < random / 3.0, "tpe {tpe}, random {random}");
    }

    #[test]
    fn categorical_kernel_prefers_the_good_category() {
        let space = Space::new(vec![
            Param::categorical("c", &["a", "b", "c", "d"]),
            Param::float("x", 0.0, 1.0),
        ])
        .unwrap();
        let h = history(&space, &uniform(&space, 200, 1.0, 8), |u| {
            // Category "c" (index 2) is best, x does not matter much.
            let cat = (u[0] * 4.0).floor();
            (cat - 2.0).abs() + 0.1 * u[1]
        });
        let props = proposals(&model_only(), &space, &h, 100);
        let good = props.iter().filter(|u| (u[0] * 4.0).floor() == 2.0).count();
        assert!(good >= 80, "category c proposed {good} times of 100");
    }

    #[test]
    fn same_inputs_same_proposal_and_always_inside_the_space() {
        let space = Space::new(vec![
            Param::log_float("lr", 1e-4, 1e-1),
            Param::float("m", -1.0, 1.0),
            Param::int("layers", 1, 4),
            Param::log_int("hidden", 8, 1024),
            Param::categorical("act", &["relu", "tanh", "gelu"]),
            Param::categorical("single", &["only"]),
        ])
        .unwrap();
        let h = history(&space, &uniform(&space, 60, 3.0, 9), |u| {
            u.iter().map(|x| (x - 0.4).powi(2)).sum()
        });
        for tpe in [Tpe::default(), model_only()] {
            for k in 0..50 {
                let a = tpe.propose(&space, &h, &mut stream(5, k));
                let b = tpe.propose(&space, &h, &mut stream(5, k));
                assert_eq!(a, b);
                space.check(&a).unwrap();
            }
        }
    }

    #[test]
    fn log_density_is_a_normalized_gaussian_for_one_point() {
        let kinds = [Kind::Continuous];
        let kde = Kde::fit(&kinds, [[0.5].as_slice()].into_iter(), 1, 0.1);
        let mut s = Vec::new();
        let expected = -0.5 * (2.0 * std::f64::consts::PI).ln() - 0.1f64.ln() - 0.5 * 4.0;
        assert!((kde.log_pdf(&[0.7], &mut s) - expected).abs() < 1e-12);
        // Far away, the log density is still finite where a plain density underflows.
        assert!(kde.log_pdf(&[0.0], &mut s).is_finite());
    }
}
