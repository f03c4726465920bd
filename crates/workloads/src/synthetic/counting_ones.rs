//! `counting-ones`: the mixed categorical/continuous toy problem of Falkner et al., "BOHB:
//! Robust and Efficient Hyperparameter Optimization at Scale" (ICML 2018), per docs/problems.md:
//!
//! ```text
//! N_cat binary x_cat in {0, 1}, N_cont continuous x_cont in [0, 1] (default 8 + 8)
//! f(x, b) = -(sum_i x_cat_i + sum_j (1/b) sum_{k=1..b} Bernoulli(x_cont_j))
//! ```
//!
//! The budget is the number of Bernoulli samples (default 9 to 729, eta 3), so low budgets are
//! unbiased but noisy, the opposite failure mode to [`super::mfh`]. The draws are seeded by
//! `(run seed, job)` (words `[TAG_COUNTING_ONES, run, job]`, see [`super`]); sample `k` of
//! continuous parameter `j` is the `(j * b + k)`-th uniform `u` of that stream and succeeds
//! when `u < x_cont_j`. Dimensions are ordered categorical first, then continuous.

use super::{check_budget, check_point, seeded_rng, Dim, NoiseSeed, Problem, TAG_COUNTING_ONES};
use rand::Rng;

#[derive(Debug, Clone)]
pub struct CountingOnes {
    n_cat: usize,
    n_cont: usize,
    name: String,
    dims: Vec<Dim>,
}

impl Default for CountingOnes {
    /// The paper's 8 categorical + 8 continuous parameters.
    fn default() -> Self {
        Self::new(8, 8)
    }
}

impl CountingOnes {
    /// Panics if there are no parameters at all.
    pub fn new(n_cat: usize, n_cont: usize) -> Self {
        assert!(
            n_cat + n_cont > 0,
            "counting-ones needs at least one parameter"
        );
        let name = if (n_cat, n_cont) == (8, 8) {
            "counting-ones".to_string()
        } else {
            format!("counting-ones-{n_cat}-{n_cont}")
        };
        let dims = (1..=n_cat)
            .map(|i| Dim::binary(format!("cat{i}")))
            .chain((1..=n_cont).map(|j| Dim::continuous(format!("cont{j}"), 0.0, 1.0)))
            .collect();
        CountingOnes {
            n_cat,
            n_cont,
            name,
            dims,
        }
    }

    pub fn n_cat(&self) -> usize {
        self.n_cat
    }

    pub fn n_cont(&self) -> usize {
        self.n_cont
    }

    /// Number of Bernoulli samples for a budget; budgets are sample counts, so a fractional
    /// budget (e.g. from a scheduler that does not round) is rounded to the nearest integer.
    pub fn samples(budget: f64) -> usize {
        budget.round().max(1.0) as usize
    }
}

impl Problem for CountingOnes {
    fn name(&self) -> &str {
        &self.name
    }
    fn dims(&self) -> &[Dim] {
        &self.dims
    }
    fn min_budget(&self) -> f64 {
        9.0
    }
    fn max_budget(&self) -> f64 {
        729.0
    }
    fn evaluate(&self, x: &[f64], budget: f64, seed: NoiseSeed) -> f64 {
        check_point(&self.name, &self.dims, x);
        check_budget(&self.name, budget, self.min_budget(), self.max_budget());
        let b = Self::samples(budget);
        let (cat, cont) = x.split_at(self.n_cat);
        let mut rng = seeded_rng(&[TAG_COUNTING_ONES, seed.run, seed.job]);
        let mut total: f64 = cat.iter().sum();
        for &p in cont {
            let hits = (0..b).filter(|_| rng.random::<f64>() < p).count();
            total += hits as f64 / b as f64;
        }
        -total
    }
    fn true_value(&self, x: &[f64]) -> f64 {
        check_point(&self.name, &self.dims, x);
        // The sample mean's expectation replaces the sample mean (docs/problems.md).
        -x.iter().sum::<f64>()
    }
    fn optimum(&self) -> f64 {
        -((self.n_cat + self.n_cont) as f64)
    }
    fn minimizer(&self) -> Vec<f64> {
        vec![1.0; self.n_cat + self.n_cont]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimum_is_minus_the_dimension_at_all_ones() {
        let p = CountingOnes::default();
        let ones = p.minimizer();
        assert_eq!(p.optimum(), -16.0);
        assert_eq!(p.true_value(&ones), -16.0);
        // Bernoulli(1) always succeeds (uniforms are < 1), so every budget and seed agrees.
        for (b, job) in [(9.0, 0), (81.0, 5), (729.0, 7)] {
            assert_eq!(p.evaluate(&ones, b, NoiseSeed::new(3, job)), -16.0);
        }
        assert_eq!(p.regret(&ones), 0.0);
    }

    #[test]
    fn low_fidelity_point_matches_hand_computation() {
        // b = 9, cat = (1,1,1,1,0,0,0,0) contributes 4; cont = (1,1,0,0,1,0,1,0): Bernoulli(1)
        // always succeeds and Bernoulli(0) never does, so each sample mean is exactly 1 or 0
        // and contributes 4. f = -(4 + 4) = -8 for every seed.
        let p = CountingOnes::default();
        let mut x = vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        x.extend([1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        for run in 0..5 {
            assert_eq!(p.evaluate(&x, 9.0, NoiseSeed::new(run, 1)), -8.0);
        }
        // With x_cont = 0.5 everywhere and no categorical ones, 9 f is minus an integer
        // count of successes out of 8 * 9 = 72 draws; it must equal a recount of the stream.
        let mut y = vec![0.0; 8];
        y.extend([0.5; 8]);
        let v = p.evaluate(&y, 9.0, NoiseSeed::new(11, 2));
        let mut rng = seeded_rng(&[TAG_COUNTING_ONES, 11, 2]);
        let hits = (0..72).filter(|_| rng.random::<f64>() < 0.5).count();
        assert!((v * 9.0 + hits as f64).abs() < 1e-12, "{v} vs {hits}/9");
        assert_eq!(p.true_value(&y), -4.0);
    }

    #[test]
    fn draws_are_seeded_by_run_and_job_and_concentrate_with_budget() {
        let p = CountingOnes::new(2, 4);
        let x = [1.0, 0.0, 0.3, 0.5, 0.7, 0.9];
        let ev = |b, run, job| p.evaluate(&x, b, NoiseSeed::new(run, job));
        assert_eq!(ev(27.0, 1, 1), ev(27.0, 1, 1));
        assert_ne!(ev(27.0, 1, 1), ev(27.0, 1, 2));
        assert_ne!(ev(27.0, 1, 1), ev(27.0, 2, 1));
        // Unbiased at every budget; the spread shrinks like 1/sqrt(b).
        let stats = |b| {
            let vs: Vec<f64> = (0..300).map(|j| ev(b, 9, j)).collect();
            let m = vs.iter().sum::<f64>() / vs.len() as f64;
            let sd = (vs.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / vs.len() as f64).sqrt();
            (m, sd)
        };
        let truth = p.true_value(&x);
        assert_eq!(truth, -3.4);
        let (m9, sd9) = stats(9.0);
        let (m729, sd729) = stats(729.0);
        // sd at b: sqrt(sum p(1-p) / b) = sqrt(0.76 / b): 0.2906 at 9, 0.0323 at 729.
        assert!(
            (m9 - truth).abs() < 0.06 && (m729 - truth).abs() < 0.01,
            "{m9} {m729}"
        );
        assert!(
            (sd9 - 0.2906).abs() < 0.05 && (sd729 - 0.0323).abs() < 0.006,
            "{sd9} {sd729}"
        );
    }

    #[test]
    fn budgets_are_rounded_sample_counts() {
        assert_eq!(CountingOnes::samples(9.0), 9);
        assert_eq!(CountingOnes::samples(80.6), 81);
        let p = CountingOnes::new(0, 3);
        let x = [0.2, 0.4, 0.6];
        let s = NoiseSeed::new(1, 1);
        assert_eq!(p.evaluate(&x, 80.6, s), p.evaluate(&x, 81.0, s));
        assert_eq!(p.name(), "counting-ones-0-3");
    }

    #[test]
    #[should_panic(expected = "cat1")]
    fn non_binary_categorical_panics() {
        let p = CountingOnes::new(1, 1);
        p.evaluate(&[0.5, 0.5], 9.0, NoiseSeed::default());
    }
}
