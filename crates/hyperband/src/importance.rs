//! Hyperparameter importance: which parameters a good result depends on, by PED-ANOVA
//! (Watanabe, Bansal and Hutter, IJCAI 2023), the cheap alternative to fANOVA that Optuna
//! offers as `PedAnovaImportanceEvaluator`.
//!
//! # The method
//!
//! Call a result *top* when its loss is among the best `quantile` of the results (10% by
//! default, at least [`MIN_TOP`] of them). A parameter matters when knowing its value
//! tells whether a result is top: when the distribution of the parameter among the top
//! results, `p_top`, differs from its distribution among all of them, `p_all`. PED-ANOVA
//! measures the difference by the Pearson divergence
//!
//! ```text
//! D = ∫ p_all(x) (p_top(x) / p_all(x) - 1)² dx
//! ```
//!
//! and the paper shows that `γ² D` (`γ` the top share) is exactly fANOVA's variance of the
//! parameter's marginal for the function "is this result top?", so that the shares
//! `γ² D / Σ γ² D` are fANOVA importances of that function, with no forest to fit: one
//! pass over the results per parameter.
//!
//! The densities are one-dimensional Parzen estimators on the parameter's unit axis
//! ([`Space::to_unit`], so log scales are searched as they were sampled), evaluated on a
//! grid:
//!
//! - a float, or an integer with more than [`GRID`] values: Gaussian kernels with Scott's
//!   bandwidth (`1.059 σ n^(-1/5)`, at least one grid cell), reflected at the ends of the
//!   axis so that a uniform sample does not look thin near its bounds, on a grid of
//!   [`GRID`] cells;
//! - an integer with at most [`GRID`] values: the same kernels evaluated at the values
//!   themselves, so that each value gets a probability (none falls between integers),
//!   and neighbouring values, being ordered, share some evidence; as the bandwidth
//!   shrinks this tends to each value's share of the results;
//! - a categorical: each choice's share of the results (its choices have no order, so
//!   there is nothing to smooth over).
//!
//! `p_top` is estimated from the top results and `p_all` as the mixture of it with the
//! estimate from the others, weighted by their numbers, rather than from all results with
//! a bandwidth of their own: the top results are part of all results, and the mixture
//! keeps `p_top / p_all` below `1 / γ` where kernels of different widths would make it
//! unbounded in the tails.
//!
//! # Which results
//!
//! One result per trial at one budget: the largest budget at which at least
//! `min_results` trials have a result ([`History::largest_budget_where`], the budget BOHB
//! fits its model on). The largest, because the question is what makes a configuration
//! good and the most-trained results answer it best; at least `min_results`, because
//! the top tenth of a handful of results is one or two trials, and a density estimated
//! from them describes those trials rather than the parameters. A multi-fidelity study
//! has few results at its top budget, so this falls back to the largest budget with
//! enough ([`Importances::budget`] says which was used). Budgets are not pooled: losses at
//! different budgets are not on one scale (the same configuration scores worse after
//! less training), so in a pool "top" would mostly mean "trained longest", and which
//! trials were trained longest is the scheduler's choice, made on the very parameters
//! being scored. A trial with several results at the chosen budget counts once, with
//! its lowest loss.
//!
//! Above the lowest budget, the results are the trials the scheduler promoted (and those
//! of brackets that start there): the importances then say what mattered among the
//! configurations that got that far, not over the whole space. That is what PED-ANOVA's
//! "local" importance, Optuna's default, means too.
//!
//! # Conditional parameters
//!
//! A parameter absent from a configuration (its `when` condition false) has no value
//! there; [`Space::to_unit`] puts it at [`crate::space::INACTIVE_UNIT`] only so that samplers
//! see full vectors, and counting it there would heap a spike of non-values on the
//! middle of the axis. Instead a conditional parameter is scored on the results where it
//! is active: `γ_a² D_a`, with `p_top` and `p_all` and the top share `γ_a` taken among
//! those, weighted by the share of results where it is active (the law of total
//! variance: the variance it explains inside the region where it exists, counted for the
//! part of the results that lie there). Whether a parameter is active at all depends on
//! the parameters its condition reads, and that effect is theirs. A conditional parameter
//! that is never active among the top results scores 0: where it exists, no value of it
//! led to a top result.
//!
//! # Limits
//!
//! - One parameter at a time: an effect that only shows in a combination of two
//!   parameters (an interaction) is missed, or split between them.
//! - With few top results the estimates are noisy, and noise only adds divergence: an
//!   irrelevant parameter scores about `(k - 1) / n_top` before normalising (`k` its
//!   number of choices; about 2 to 3 for a float), so many-valued categoricals are
//!   flattered in small studies. Optuna advises at least 5 top results.
//! - Model-based samplers (TPE, GP) sample where the loss was low, so `p_all` is already
//!   concentrated on good values of the important parameters, which lowers their
//!   divergence; the importances then describe the region searched, not the whole space.
//! - It is a statement about the results, not a causal one: a parameter correlated with
//!   an important one by the sampler shares its score.

use crate::config::Value;
use crate::history::{History, TrialRecord};
use crate::space::{Domain, Param, Space};
use crate::study::Study;
use std::collections::BTreeMap;

/// Grid cells of a continuous parameter's axis, and the most values an integer may have to
/// get a probability per value.
pub const GRID: usize = 50;

/// The fewest results in the top set: one result is a point, not a distribution.
pub const MIN_TOP: usize = 2;

/// Scott's rule for a Gaussian kernel: `(4/3)^(1/5)`.
const SCOTT: f64 = 1.059;

/// How importances are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImportanceOptions {
    /// The share of results, best first, that are *top* (Optuna's `target_quantile`);
    /// strictly between 0 and 1. The top set has at least [`MIN_TOP`] results, leaves at
    /// least one out, and has every result tied with the last of them.
    pub quantile: f64,
    /// The fewest results a budget needs to be used.
    pub min_results: usize,
}

impl Default for ImportanceOptions {
    fn default() -> Self {
        Self {
            quantile: 0.1,
            min_results: 20,
        }
    }
}

/// Each parameter's importance, and which results they were computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Importances {
    /// The budget whose results were used.
    pub budget: f64,
    /// How many results (trials) at that budget.
    pub results: usize,
    /// How many of them were top.
    pub top: usize,
    /// The loss at or below which a result was top.
    pub cutoff: f64,
    /// Every parameter of the space with its share of the importance, largest first
    /// (parameters with equal shares in the space's order). The shares sum to 1, unless
    /// no parameter's distribution among the top results differs from that among all
    /// results at all: then every share is 0.
    pub params: Vec<(String, f64)>,
}

/// Why importances could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportanceError {
    #[error("the quantile must be strictly between 0 and 1, got {0}")]
    Quantile(f64),
    #[error("parameter importance needs at least {needed} results at one budget; {}", match .most {
        None => "the study has no result yet".to_string(),
        Some((budget, n)) => format!("the most at any budget is {n} (at budget {budget})"),
    })]
    TooFewResults {
        needed: usize,
        /// The budget with the most results, and their number.
        most: Option<(f64, usize)>,
    },
    #[error("the {results} results at budget {budget} do not single out a top set: the best {top} of them tie at loss {loss} with all the others")]
    NoTopSet {
        budget: f64,
        results: usize,
        top: usize,
        loss: f64,
    },
}

/// [`param_importances`] of a study's results so far.
pub fn of_study(
    study: &Study,
    options: &ImportanceOptions,
) -> Result<Importances, ImportanceError> {
    param_importances(study.space(), study.history(), options)
}

/// Each parameter's importance by PED-ANOVA (see the module's documentation for the
/// method, the results it uses and its limits). Deterministic: the same history gives the
/// same numbers.
pub fn param_importances(
    space: &Space,
    history: &History,
    options: &ImportanceOptions,
) -> Result<Importances, ImportanceError> {
    let q = options.quantile;
    if !(q > 0.0 && q < 1.0) {
        return Err(ImportanceError::Quantile(q));
    }
    // One loss per trial at each budget (its lowest, should it have several).
    let mut by_budget: BTreeMap<u64, BTreeMap<u64, f64>> = BTreeMap::new();
    for obs in history.observations() {
        // Budgets are positive, where the bit patterns of floats sort as the floats do.
        let losses = by_budget.entry(obs.budget.to_bits()).or_default();
        let loss = losses.entry(obs.trial.0).or_insert(obs.loss);
        *loss = loss.min(obs.loss);
    }
    let needed = options.min_results.max(MIN_TOP + 1);
    let Some((&bits, losses)) = by_budget.iter().rev().find(|(_, l)| l.len() >= needed) else {
        // The largest of the budgets with the most results (`max_by_key` keeps the last).
        let most = by_budget
            .iter()
            .max_by_key(|(_, l)| l.len())
            .map(|(&b, l)| (f64::from_bits(b), l.len()));
        return Err(ImportanceError::TooFewResults { needed, most });
    };
    let budget = f64::from_bits(bits);
    let results: Vec<(&TrialRecord, f64)> = losses
        .iter()
        .map(|(&t, &loss)| (&history.trials()[t as usize], loss))
        .collect();
    let split = TopSet::new(&results, q);
    if split.top == results.len() {
        return Err(ImportanceError::NoTopSet {
            budget,
            results: results.len(),
            top: split.wanted,
            loss: split.cutoff,
        });
    }
    let scores: Vec<f64> = space
        .params()
        .iter()
        .enumerate()
        .map(|(i, p)| variance_explained(p, i, &results, split.cutoff))
        .collect();
    let total: f64 = scores.iter().sum();
    let mut params: Vec<(String, f64)> = space
        .names()
        .iter()
        .zip(&scores)
        .map(|(n, &s)| (n.clone(), if total > 0.0 { s / total } else { 0.0 }))
        .collect();
    // A stable sort: equal shares stay in the space's order.
    params.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(Importances {
        budget,
        results: results.len(),
        top: split.top,
        cutoff: split.cutoff,
        params,
    })
}

/// Which results are top: the best `max(MIN_TOP, ⌈quantile · n⌉)`, at most `n - 1` (a
/// quantile near 1 still leaves a result out), and every result tied with the last of
/// them (ties cannot be told apart, so they are in or out together).
struct TopSet {
    /// How many the quantile asks for.
    wanted: usize,
    /// How many are top, ties included.
    top: usize,
    cutoff: f64,
}

impl TopSet {
    fn new(results: &[(&TrialRecord, f64)], quantile: f64) -> Self {
        let mut losses: Vec<f64> = results.iter().map(|r| r.1).collect();
        losses.sort_by(f64::total_cmp);
        let n = losses.len();
        let wanted = ((quantile * n as f64).ceil() as usize).clamp(MIN_TOP, n - 1);
        let cutoff = losses[wanted - 1];
        let top = losses.iter().take_while(|&&l| l <= cutoff).count();
        Self {
            wanted,
            top,
            cutoff,
        }
    }
}

/// `π γ² D` for parameter `i`: the share `π` of results where it is active, times the
/// variance of "is this result top?" that its value explains among those (`γ` the top
/// share there, `D` the Pearson divergence of its top distribution from its overall one).
fn variance_explained(
    param: &Param,
    i: usize,
    results: &[(&TrialRecord, f64)],
    cutoff: f64,
) -> f64 {
    let (mut top, mut rest) = (Vec::new(), Vec::new());
    for (trial, loss) in results {
        if trial.config.at(i).is_none() {
            continue;
        }
        let x = trial.unit[i];
        if *loss <= cutoff {
            top.push(x);
        } else {
            rest.push(x);
        }
    }
    let active = top.len() + rest.len();
    if top.is_empty() || rest.is_empty() {
        // Inactive everywhere, or its value never decided anything where it is active.
        return 0.0;
    }
    let axis = Axis::of(param);
    let p_top = axis.distribution(&top);
    let p_rest = axis.distribution(&rest);
    let gamma = top.len() as f64 / active as f64;
    let divergence: f64 = p_top
        .iter()
        .zip(&p_rest)
        .map(|(&t, &r)| {
            let all = gamma * t + (1.0 - gamma) * r;
            if all > 0.0 {
                let ratio = t / all - 1.0;
                all * ratio * ratio
            } else {
                0.0
            }
        })
        .sum();
    let share_active = active as f64 / results.len() as f64;
    share_active * gamma * gamma * divergence.max(0.0)
}

/// Where a parameter's distribution is estimated.
enum Axis {
    /// Kernels evaluated at the centres of `count` equal cells of the unit axis, `(k +
    /// 0.5) / count`: [`GRID`] cells for a float or an integer with many values, or one
    /// cell per value of an integer on a linear scale with few values.
    Cells { count: usize, min_bandwidth: f64 },
    /// Kernels evaluated at these unit coordinates: the values of an integer on a log
    /// scale with few values, whose cells are not equal.
    Values { at: Vec<f64>, min_bandwidth: f64 },
    /// A categorical with this many choices: each choice's share.
    Choices(usize),
}

/// The least bandwidth for an integer with few values: down to each value's own share
/// (its kernel at the other values vanishes, at its own position it is 1).
const VALUE_BANDWIDTH: f64 = 1e-6;

impl Axis {
    fn of(param: &Param) -> Self {
        let cells = Axis::Cells {
            count: GRID,
            min_bandwidth: 1.0 / GRID as f64,
        };
        // A stepped parameter's values sit at the centres of equal cells, one per value
        // ([`Param::to_unit`]), as a plain integer's do.
        let grid = |count: f64| {
            if count <= GRID as f64 {
                Axis::Cells {
                    count: count as usize,
                    min_bandwidth: VALUE_BANDWIDTH,
                }
            } else {
                Axis::Cells {
                    count: GRID,
                    min_bandwidth: 1.0 / GRID as f64,
                }
            }
        };
        match &param.domain {
            Domain::Float {
                low,
                high,
                step: Some(step),
                ..
            } => grid(((high - low) / step).round() + 1.0),
            Domain::Float { .. } => cells,
            Domain::Int {
                low,
                high,
                step: Some(step),
                ..
            } if *step > 1 => grid(((*high as i128 - *low as i128) / *step as i128 + 1) as f64),
            Domain::Int { low, high, log, .. } => {
                let count = *high as i128 - *low as i128 + 1;
                if count > GRID as i128 {
                    cells
                } else if *log && *low > 0 {
                    let at = (*low..=*high)
                        .map(|v| param.to_unit(&Value::Int(v)).expect("a value of its range"))
                        .collect();
                    Axis::Values {
                        at,
                        min_bandwidth: VALUE_BANDWIDTH,
                    }
                } else {
                    // Value `low + k` sits at the centre of cell k ([`Param::to_unit`]).
                    Axis::Cells {
                        count: count as usize,
                        min_bandwidth: VALUE_BANDWIDTH,
                    }
                }
            }
            Domain::Categorical { choices } => Axis::Choices(choices.len()),
        }
    }

    /// The estimated distribution of points `xs` (unit coordinates, at least one) over
    /// the cells, values or choices; sums to 1.
    fn distribution(&self, xs: &[f64]) -> Vec<f64> {
        let mut p = match self {
            Axis::Choices(k) => {
                let mut counts = vec![0.0; *k];
                for &x in xs {
                    // A choice's unit coordinate is the centre of its cell, (i + 0.5) / k.
                    let i = ((x * *k as f64).floor() as usize).min(k - 1);
                    counts[i] += 1.0;
                }
                counts
            }
            Axis::Cells {
                count,
                min_bandwidth,
            } => {
                let h = scott_bandwidth(xs).max(*min_bandwidth);
                let mut density = vec![0.0; *count];
                for &x in xs {
                    for y in images(x, h) {
                        add_kernel_on_cells(&mut density, y, h);
                    }
                }
                density
            }
            Axis::Values { at, min_bandwidth } => {
                let h = scott_bandwidth(xs).max(*min_bandwidth);
                let mut density = vec![0.0; at.len()];
                for &x in xs {
                    for y in images(x, h) {
                        for (d, &c) in density.iter_mut().zip(at) {
                            let t = (c - y) / h;
                            *d += (-0.5 * t * t).exp();
                        }
                    }
                }
                density
            }
        };
        let total: f64 = p.iter().sum();
        for v in &mut p {
            *v /= total;
        }
        p
    }
}

/// Scott's rule, `1.059 σ n^(-1/5)` (σ the sample standard deviation); 0 for one point.
fn scott_bandwidth(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    if xs.len() < 2 {
        return 0.0;
    }
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    SCOTT * var.sqrt() * n.powf(-0.2)
}

/// Beyond this many bandwidths a Gaussian kernel is below 1e-14 of its peak: a mirror
/// image that far outside the axis adds nothing to it.
const REACH: f64 = 8.0;

/// Where the kernel of a point at `x` is centred: at `x`, and at its mirror images across
/// both ends of the unit axis (`-x`, `2 - x`) where they reach into it, so that the mass a
/// kernel would put outside `[0, 1]` folds back in and a uniform sample does not look
/// thin near the bounds.
fn images(x: f64, h: f64) -> impl Iterator<Item = f64> {
    let left = (x < REACH * h).then_some(-x);
    let right = (1.0 - x < REACH * h).then_some(2.0 - x);
    std::iter::once(x).chain(left).chain(right)
}

/// Adds `exp(-t² / 2)`, `t = (c_k - y) / h`, at the centre `c_k = (k + 0.5) / n` of each
/// of the `n` cells of `density`. Walking outward from the cell nearest `y`, each value is
/// the one before times a ratio, and each ratio the one before times `exp(-s²)`, `s = 1 /
/// (n h)`: two exponentials a point instead of one a cell, exact up to rounding (a few
/// units in the last place after 50 cells), and no overflow, the ratios being at most 1
/// away from `y`.
fn add_kernel_on_cells(density: &mut [f64], y: f64, h: f64) {
    let n = density.len();
    let s = 1.0 / (n as f64 * h);
    let step = (-s * s).exp();
    let nearest = ((y * n as f64 - 0.5).round().max(0.0) as usize).min(n - 1);
    let t0 = ((nearest as f64 + 0.5) / n as f64 - y) / h;
    let g0 = (-0.5 * t0 * t0).exp();
    density[nearest] += g0;
    // Upward, t grows by s a cell: g(t + s) = g(t) exp(-(t s + s² / 2)).
    let (mut g, mut ratio) = (g0, (-(t0 * s + 0.5 * s * s)).exp());
    for d in &mut density[nearest + 1..] {
        g *= ratio;
        ratio *= step;
        *d += g;
    }
    // Downward, t shrinks by s a cell: g(t - s) = g(t) exp(t s - s² / 2).
    let (mut g, mut ratio) = (g0, (t0 * s - 0.5 * s * s).exp());
    for d in density[..nearest].iter_mut().rev() {
        g *= ratio;
        ratio *= step;
        *d += g;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FullBudget, Random, Settings};

    fn space(params: Vec<Param>) -> Space {
        Space::new(params).unwrap()
    }

    /// A study of `n` uniformly random configurations, each evaluated once at budget 1.
    fn random_study(space: Space, n: u64, seed: u64, f: impl Fn(&crate::Config) -> f64) -> Study {
        let settings = Settings {
            seed,
            limits: crate::Limits {
                max_trials: Some(n),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut study = Study::new(
            space,
            Box::new(Random),
            Box::new(FullBudget::new(1.0)),
            settings,
        );
        while let crate::Decision::Run(job) = study.ask() {
            let loss = f(&job.config);
            study.tell(job.id, crate::Outcome::loss(loss)).unwrap();
        }
        assert_eq!(study.history().observations().len() as u64, n);
        study
    }

    fn share(imp: &Importances, name: &str) -> f64 {
        imp.params.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn importance_orders_a_strong_a_weak_and_an_irrelevant_parameter() {
        let xyz = || {
            space(vec![
                Param::float("x", 0.0, 1.0),
                Param::float("y", 0.0, 1.0),
                Param::float("z", 0.0, 1.0),
            ])
        };
        for seed in 0..8 {
            let study = random_study(xyz(), 300, seed, |c| {
                let (x, y) = (c.f64("x").unwrap(), c.f64("y").unwrap());
                10.0 * (x - 0.3).powi(2) + (y - 0.6).powi(2)
            });
            let imp = of_study(&study, &ImportanceOptions::default()).unwrap();
            let (x, y, z) = (share(&imp, "x"), share(&imp, "y"), share(&imp, "z"));
            assert!(x > y && y > z, "seed {seed}: x {x}, y {y}, z {z}");
            assert!(z < 0.05, "seed {seed}: z should be near 0, got {z}");
            assert_eq!(imp.params[0].0, "x");
            assert_eq!((imp.results, imp.top, imp.budget), (300, 30, 1.0));
            let sum: f64 = imp.params.iter().map(|p| p.1).sum();
            assert!((sum - 1.0).abs() < 1e-12, "shares sum to {sum}");
            // The same history gives the same numbers, bit for bit.
            assert_eq!(
                of_study(&study, &ImportanceOptions::default()).unwrap(),
                imp
            );
        }
    }
    #[test]
    fn discrete_parameters_get_per_value_probabilities() {
        let s = space(vec![
            Param::categorical("opt", &["sgd", "adam", "rmsprop"]),
            Param::int("layers", 1, 5),
            Param::log_float("noise", 1e-4, 1.0),
            Param::int("wide", 0, 999),
        ]);
        for seed in 0..4 {
            let study = random_study(s.clone(), 400, seed, |c| {
                let opt = c.get("opt").unwrap().as_str().unwrap();
                let layers = c.get("layers").unwrap().as_i64().unwrap();
                (if opt == "adam" { 0.0 } else { 3.0 }) + 0.3 * (layers - 3).abs() as f64
            });
            let imp = of_study(&study, &ImportanceOptions::default()).unwrap();
            let names: Vec<&str> = imp.params.iter().map(|p| p.0.as_str()).collect();
            assert_eq!(&names[..2], ["opt", "layers"], "seed {seed}: {imp:?}");
            assert!(share(&imp, "noise") < 0.05, "seed {seed}: {imp:?}");
            assert!(share(&imp, "wide") < 0.05, "seed {seed}: {imp:?}");
        }
    }

    /// A history of the given `(unit point, budget, loss)` results, one trial each.
    fn history_of(space: &Space, results: &[(Vec<f64>, f64, f64)]) -> History {
        let mut h = History::default();
        for (u, budget, loss) in results {
            let config = space.from_unit(u);
            let unit = space.to_unit(&config).unwrap();
            let trial = h.add_trial(config, unit);
            h.add_observation(crate::Observation {
                trial,
                budget: *budget,
                loss: *loss,
            });
        }
        h
    }

    /// `n` points of a 2-d halton-like grid, deterministic and spread out.
    fn points(n: usize) -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| {
                let a = (i as f64 * 0.618_033_988_749_895).fract();
                let b = (i as f64 * 0.754_877_666_246_693).fract();
                vec![a, b]
            })
            .collect()
    }

    #[test]
    fn the_largest_budget_with_enough_results_is_used() {
        let s = space(vec![
            Param::float("a", 0.0, 1.0),
            Param::float("b", 0.0, 1.0),
        ]);
        let loss = |u: &[f64]| (u[0] - 0.5).abs();
        let mut results: Vec<(Vec<f64>, f64, f64)> = points(60)
            .into_iter()
            .map(|u| {
                let l = loss(&u);
                (u, 1.0, l)
            })
            .collect();
        // 19 results at budget 9: one short of the default minimum.
        for u in points(19) {
            let l = loss(&u) / 2.0;
            results.push((u, 9.0, l));
        }
        let opts = ImportanceOptions::default();
        let imp = param_importances(&s, &history_of(&s, &results), &opts).unwrap();
        assert_eq!((imp.budget, imp.results, imp.top), (1.0, 60, 6));
        assert_eq!(imp.params[0].0, "a");
        results.push((vec![0.5, 0.5], 9.0, 0.0));
        let imp = param_importances(&s, &history_of(&s, &results), &opts).unwrap();
        assert_eq!((imp.budget, imp.results, imp.top), (9.0, 20, 2));
        let mut at_9: Vec<f64> = results[60..].iter().map(|r| r.2).collect();
        at_9.sort_by(f64::total_cmp);
        assert_eq!(imp.cutoff, at_9[1]);
    }

    #[test]
    fn kernels_on_cells_match_direct_evaluation() {
        for (n, y, h) in [
            (50, 0.37, 0.02),
            (50, 0.0, 0.3),
            (50, -0.2, 0.15),
            (50, 1.7, 0.5),
            (7, 0.5, 1e-6),
            (7, 3.5 / 7.0, 0.01),
            (1, 0.5, 0.1),
        ] {
            let mut walked = vec![0.0; n];
            add_kernel_on_cells(&mut walked, y, h);
            for (k, w) in walked.iter().enumerate() {
                let t = ((k as f64 + 0.5) / n as f64 - y) / h;
                let direct = (-0.5 * t * t).exp();
                assert!(
                    (w - direct).abs() <= 1e-12 * direct.max(1e-300) || (w - direct).abs() < 1e-300,
                    "n {n}, y {y}, h {h}, cell {k}: {w} against {direct}"
                );
            }
        }
    }

    #[test]
    fn too_few_results_is_an_error_that_says_how_many() {
        let s = space(vec![Param::float("a", 0.0, 1.0)]);
        let opts = ImportanceOptions::default();
        let err = param_importances(&s, &History::default(), &opts).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter importance needs at least 20 results at one budget; the study has no result yet"
        );
        let results: Vec<_> = (0..12)
            .map(|i| {
                (
                    vec![i as f64 / 12.0],
                    if i < 7 { 1.0 } else { 3.0 },
                    i as f64,
                )
            })
            .collect();
        let err = param_importances(&s, &history_of(&s, &results), &opts).unwrap_err();
        assert_eq!(
            err,
            ImportanceError::TooFewResults {
                needed: 20,
                most: Some((1.0, 7))
            }
        );
        assert!(err
            .to_string()
            .ends_with("the most at any budget is 7 (at budget 1)"));
        // Equal numbers at two budgets: the larger is named.
        let even: Vec<_> = (0..14)
            .map(|i| {
                (
                    vec![i as f64 / 14.0],
                    if i < 7 { 1.0 } else { 3.0 },
                    i as f64,
                )
            })
            .collect();
        let err = param_importances(&s, &history_of(&s, &even), &opts).unwrap_err();
        assert!(err
            .to_string()
            .ends_with("the most at any budget is 7 (at budget 3)"));
        for q in [0.0, 1.0, -0.1, f64::NAN] {
            let err = param_importances(
                &s,
                &History::default(),
                &ImportanceOptions {
                    quantile: q,
                    ..opts
                },
            )
            .unwrap_err();
            assert!(matches!(err, ImportanceError::Quantile(_)), "{q}: {err}");
        }
    }

    #[test]
    fn tied_losses_are_top_together_and_a_constant_loss_has_no_top_set() {
        let s = space(vec![
            Param::float("a", 0.0, 1.0),
            Param::float("b", 0.0, 1.0),
        ]);
        // A plateau: a third of the results share the best loss.
        let results: Vec<_> = points(30)
            .into_iter()
            .map(|u| {
                let l = if u[0] < 1.0 / 3.0 { 0.0 } else { u[0] };
                (u, 1.0, l)
            })
            .collect();
        let plateau = results.iter().filter(|r| r.2 == 0.0).count();
        let imp = param_importances(&s, &history_of(&s, &results), &Default::default()).unwrap();
        assert_eq!((imp.top, imp.cutoff), (plateau, 0.0));
        assert_eq!(imp.params[0].0, "a");
        // A quantile near 1 still leaves the worst result out.
        let distinct: Vec<_> = points(30)
            .into_iter()
            .map(|u| (u.clone(), 1.0, u[0]))
            .collect();
        let all_but_one = ImportanceOptions {
            quantile: 0.999,
            ..Default::default()
        };
        let imp = param_importances(&s, &history_of(&s, &distinct), &all_but_one).unwrap();
        assert_eq!(imp.top, 29);
        let flat: Vec<_> = points(30).into_iter().map(|u| (u, 1.0, 7.0)).collect();
        let err = param_importances(&s, &history_of(&s, &flat), &Default::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the 30 results at budget 1 do not single out a top set: the best 3 of them tie at loss 7 with all the others"
        );
    }

    #[test]
    fn a_conditional_parameter_is_scored_where_it_is_active() {
        let s = space(vec![
            Param::categorical("opt", &["sgd", "adam"]),
            Param::float("momentum", 0.0, 1.0)
                .when("opt == 'sgd'")
                .unwrap(),
            Param::float("lr", 0.0, 1.0),
        ]);
        // Adam is better and momentum does nothing: momentum is never active at the top
        // (the adam results, tied), and scores 0 rather than sharing the optimizer's
        // importance.
        let study = random_study(s.clone(), 300, 1, |c| {
            let adam = c.get("opt").unwrap().as_str() == Some("adam");
            if adam {
                0.0
            } else {
                1.0
            }
        });
        let imp = of_study(&study, &ImportanceOptions::default()).unwrap();
        assert_eq!(imp.params[0].0, "opt", "{imp:?}");
        assert!(share(&imp, "lr") < 0.01, "{imp:?}");
        assert_eq!(share(&imp, "momentum"), 0.0, "{imp:?}");
        // Both optimizers alike, momentum decides among sgd's results: it matters, and
        // more than the optimizer (an inactive value is no value at 0.5: were it counted
        // there, the adam half would sit on the optimum).
        let study = random_study(s, 400, 2, |c| match c.f64("momentum") {
            Some(m) => 4.0 * (m - 0.5).abs(),
            None => 1.0,
        });
        let imp = of_study(&study, &ImportanceOptions::default()).unwrap();
        assert_eq!(imp.params[0].0, "momentum", "{imp:?}");
        assert!(share(&imp, "lr") < 0.05, "{imp:?}");
    }
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Whatever the results (ties, one-choice and two-value parameters, conditional
        /// ones rarely active), the shares are finite, in [0, 1], largest first, one per
        /// parameter, and sum to 1 or are all 0.
        #[test]
        fn shares_are_a_distribution_over_the_parameters(
            rows in proptest::collection::vec(
                (proptest::collection::vec(0.0f64..1.0, 7), 0u8..6, proptest::bool::ANY),
                20..90,
            ),
            quantile in 0.01f64..0.99,
        ) {
            let s = space(vec![
                Param::float("f", -1.0, 1.0),
                Param::log_float("lf", 1e-6, 1.0),
                Param::int("two", 0, 1),
                Param::log_int("li", 1, 30),
                Param::categorical("one", &["only"]),
                Param::categorical("mode", &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]),
                Param::float("rare", 0.0, 1.0).when("mode == 'a'").unwrap(),
            ]);
            // Losses on a coarse scale tie often; `smooth` spreads some of them out.
            let results: Vec<_> = rows
                .into_iter()
                .map(|(u, level, smooth)| {
                    let loss = level as f64 + if smooth { u[0] } else { 0.0 };
                    (u, 1.0, loss)
                })
                .collect();
            let options = ImportanceOptions { quantile, ..Default::default() };
            match param_importances(&s, &history_of(&s, &results), &options) {
                Ok(imp) => {
                    let mut names: Vec<&str> = imp.params.iter().map(|p| p.0.as_str()).collect();
                    names.sort();
                    let mut want: Vec<&str> = s.names().iter().map(|n| n.as_str()).collect();
                    want.sort();
                    proptest::prop_assert_eq!(names, want);
                    for w in imp.params.windows(2) {
                        proptest::prop_assert!(w[0].1 >= w[1].1, "{:?}", imp);
                    }
                    for (_, share) in &imp.params {
                        proptest::prop_assert!(share.is_finite() && (0.0..=1.0).contains(share), "{:?}", imp);
                    }
                    let sum: f64 = imp.params.iter().map(|p| p.1).sum();
                    proptest::prop_assert!((sum - 1.0).abs() < 1e-9 || sum == 0.0, "{:?}", imp);
                    proptest::prop_assert_eq!(share(&imp, "one"), 0.0);
                    proptest::prop_assert!(imp.top >= MIN_TOP && imp.top < imp.results);
                }
                Err(ImportanceError::NoTopSet { .. }) => {}
                Err(e) => proptest::prop_assert!(false, "{e}"),
            }
        }
    }
}
