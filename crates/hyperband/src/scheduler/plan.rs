//! Bracket arithmetic: how many configurations each rung of each bracket runs, at what budget.
//!
//! With `R = max_budget / min_budget`, `s_max` is the largest `s` with `eta^s <= R`. It is
//! computed by multiplying, never as `floor(log(R) / log(eta))`: in floating point
//! `log(243) / log(3)` is 4.999..., and Optuna, SMAC3, HpBandSter and Katib lose a bracket
//! for exact powers that way.

use serde::{Deserialize, Serialize};

/// How many configurations bracket `s` starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BracketSizes {
    /// `ceil((s_max+1)/(s+1) * eta^s)`: Algorithm 1 of the Hyperband paper and the talk's
    /// pseudo-code (SMAC3 and Syne Tune agree). For R=81, eta=3: 81, 34, 15, 8, 5.
    #[default]
    Algorithm,
    /// `floor((s_max+1)/(s+1)) * eta^s`: the paper's printed Table 1, its authors' code and
    /// HpBandSter. For R=81, eta=3: 81, 27, 9, 6, 5.
    Table,
}

impl std::str::FromStr for BracketSizes {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "algorithm" => Ok(Self::Algorithm),
            "table" => Ok(Self::Table),
            _ => Err(format!(
                "unknown bracket sizes `{s}` (expected `algorithm` or `table`)"
            )),
        }
    }
}

/// Why a budget range or halving rate was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("min_budget must be a positive finite number, got {0}")]
    MinBudget(f64),
    #[error("max_budget ({max}) must be a finite number at least min_budget ({min})")]
    MaxBudget { min: f64, max: f64 },
    #[error("eta must be at least 2, got {0}")]
    Eta(u32),
    #[error("max_budget / min_budget = {0} is too large for eta (more than 64 rungs)")]
    TooManyRungs(f64),
    #[error("successive halving needs at least one configuration")]
    NoConfigs,
    #[error("whole budgets need a whole min_budget of at least 1 and a whole max_budget, got {min} and {max}")]
    NotWhole { min: f64, max: f64 },
}

/// The validated budget range and halving rate shared by all multi-fidelity schedulers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Budgets {
    pub min: f64,
    pub max: f64,
    pub eta: u32,
    /// The largest `s` with `min * eta^s <= max`.
    pub s_max: u32,
    /// Every rung's budget is rounded to a whole number, for programs that count epochs
    /// (`--epochs 1.5556` is an error to argparse's `type=int`). Rounding to the nearest
    /// keeps each rung's ratio closest to eta; rungs stay distinct, since consecutive ones
    /// are at least one apart before rounding.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub whole: bool,
}

/// Relative slack when comparing budgets, so that 0.1 * 3^4 counts as reaching 8.1.
const BUDGET_TOLERANCE: f64 = 1e-9;

impl Budgets {
    pub fn new(min: f64, max: f64, eta: u32) -> Result<Self, PlanError> {
        if !(min.is_finite() && min > 0.0) {
            return Err(PlanError::MinBudget(min));
        }
        if !(max.is_finite() && max >= min) {
            return Err(PlanError::MaxBudget { min, max });
        }
        if eta < 2 {
            return Err(PlanError::Eta(eta));
        }
        let mut s_max = 0u32;
        let mut reach = min * eta as f64;
        while reach <= max * (1.0 + BUDGET_TOLERANCE) {
            s_max += 1;
            if s_max > 64 {
                return Err(PlanError::TooManyRungs(max / min));
            }
            reach *= eta as f64;
        }
        Ok(Self {
            min,
            max,
            eta,
            s_max,
            whole: false,
        })
    }

    /// The same range with whole rung budgets (see [`Budgets::whole`]).
    pub fn whole(self) -> Result<Self, PlanError> {
        let whole = |x: f64| x >= 1.0 && x.fract() == 0.0;
        if !(whole(self.min) && whole(self.max)) {
            return Err(PlanError::NotWhole {
                min: self.min,
                max: self.max,
            });
        }
        Ok(Self {
            whole: true,
            ..self
        })
    }

    /// `eta^k` exactly (k <= 64 keeps it within u128 for every eta we accept).
    pub fn pow(&self, k: u32) -> u128 {
        (self.eta as u128).pow(k)
    }

    /// The budget of the rung `k` steps below the maximum: `max / eta^k` (rounded with
    /// whole budgets, never below 1).
    pub fn below_max(&self, k: u32) -> f64 {
        let budget = self.max / self.pow(k) as f64;
        if self.whole {
            budget.round().max(1.0)
        } else {
            budget
        }
    }
}

/// One rung of a bracket: `n` configurations evaluated at `budget`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RungPlan {
    pub n: u64,
    pub budget: f64,
}

/// One bracket of successive halving.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BracketPlan {
    /// The Hyperband bracket index: the bracket has `s + 1` rungs.
    pub s: u32,
    pub rungs: Vec<RungPlan>,
}

impl BracketPlan {
    /// Successive halving from `n` configurations at `budgets.max / eta^s` up to the maximum,
    /// keeping `floor(n / eta^i)` at rung `i` (at least one).
    pub fn successive_halving(budgets: &Budgets, s: u32, n: u64) -> Self {
        let rungs = (0..=s)
            .map(|i| RungPlan {
                n: ((n as u128 / budgets.pow(i)) as u64).max(1),
                budget: budgets.below_max(s - i),
            })
            .collect();
        Self { s, rungs }
    }

    /// The paper's cost: every rung trains its configurations from scratch, `sum n_i r_i`.
    pub fn cost_scratch(&self) -> f64 {
        self.rungs.iter().map(|r| r.n as f64 * r.budget).sum()
    }

    /// The cost when promoted configurations resume from their checkpoint:
    /// `sum n_i (r_i - r_(i-1))`.
    pub fn cost_resume(&self) -> f64 {
        let mut prev = 0.0;
        let mut cost = 0.0;
        for r in &self.rungs {
            cost += r.n as f64 * (r.budget - prev);
            prev = r.budget;
        }
        cost
    }
}

/// The brackets of one Hyperband iteration, in the order they run (`s = s_max` first).
pub fn hyperband_brackets(budgets: &Budgets, sizes: BracketSizes) -> Vec<BracketPlan> {
    let s_max = budgets.s_max as u128;
    (0..=budgets.s_max)
        .rev()
        .map(|s| {
            let pow = budgets.pow(s);
            let s1 = s as u128 + 1;
            let n = match sizes {
                BracketSizes::Algorithm => ((s_max + 1) * pow).div_ceil(s1),
                BracketSizes::Table => (s_max + 1) / s1 * pow,
            };
            BracketPlan::successive_halving(budgets, s, n as u64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(min: f64, max: f64, eta: u32, sizes: BracketSizes) -> Vec<Vec<(u64, f64)>> {
        let b = Budgets::new(min, max, eta).unwrap();
        hyperband_brackets(&b, sizes)
            .iter()
            .map(|br| br.rungs.iter().map(|r| (r.n, r.budget)).collect())
            .collect()
    }

    #[test]
    fn r81_eta3_algorithm_matches_the_paper_algorithm() {
        let p = plan(1.0, 81.0, 3, BracketSizes::Algorithm);
        assert_eq!(
            p,
            vec![
                vec![(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)],
                vec![(34, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)],
                vec![(15, 9.0), (5, 27.0), (1, 81.0)],
                vec![(8, 27.0), (2, 81.0)],
                vec![(5, 81.0)],
            ]
        );
    }

    #[test]
    fn whole_budgets_round_every_rung_and_the_plan_costs_those() {
        let b = Budgets::new(1.0, 14.0, 3).unwrap();
        assert_eq!(b.below_max(2), 14.0 / 9.0);
        let w = b.whole().unwrap();
        let brackets = hyperband_brackets(&w, BracketSizes::Algorithm);
        let rungs: Vec<Vec<f64>> = brackets
            .iter()
            .map(|br| br.rungs.iter().map(|r| r.budget).collect())
            .collect();
        assert_eq!(rungs, [vec![2.0, 5.0, 14.0], vec![5.0, 14.0], vec![14.0]]);
        assert_eq!(brackets[0].cost_resume(), 9.0 * 2.0 + 3.0 * 3.0 + 9.0);
        assert_eq!(
            Budgets::new(0.5, 14.0, 3).unwrap().whole(),
            Err(PlanError::NotWhole {
                min: 0.5,
                max: 14.0
            })
        );
        assert!(Budgets::new(1.0, 14.5, 3).unwrap().whole().is_err());
    }

    #[test]
    fn r81_eta3_table_matches_table_1() {
        let p = plan(1.0, 81.0, 3, BracketSizes::Table);
        assert_eq!(
            p,
            vec![
                vec![(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)],
                vec![(27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)],
                vec![(9, 9.0), (3, 27.0), (1, 81.0)],
                vec![(6, 27.0), (2, 81.0)],
                vec![(5, 81.0)],
            ]
        );
    }

    #[test]
    fn r81_costs_scratch_and_resume() {
        let b = Budgets::new(1.0, 81.0, 3).unwrap();
        let brackets = hyperband_brackets(&b, BracketSizes::Algorithm);
        assert_eq!(brackets[0].cost_scratch(), 405.0);
        assert_eq!(brackets[0].cost_resume(), 297.0);
        let scratch: f64 = brackets.iter().map(BracketPlan::cost_scratch).sum();
        let resume: f64 = brackets.iter().map(BracketPlan::cost_resume).sum();
        assert_eq!(scratch, 1902.0);
        assert_eq!(resume, 1581.0);
    }

    #[test]
    fn exact_powers_get_every_bracket() {
        assert_eq!(Budgets::new(1.0, 243.0, 3).unwrap().s_max, 5);
        assert_eq!(plan(1.0, 243.0, 3, BracketSizes::Algorithm).len(), 6);
        assert_eq!(Budgets::new(1.0, 1000.0, 10).unwrap().s_max, 3);
        assert_eq!(Budgets::new(0.1, 8.1, 3).unwrap().s_max, 4);
        assert_eq!(Budgets::new(1.0, 80.999, 3).unwrap().s_max, 3);
    }

    #[test]
    fn r243_eta3_both_variants() {
        let firsts = |sizes| -> Vec<(u64, f64)> {
            plan(1.0, 243.0, 3, sizes).iter().map(|b| b[0]).collect()
        };
        assert_eq!(
            firsts(BracketSizes::Algorithm),
            vec![
                (243, 1.0),
                (98, 3.0),
                (41, 9.0),
                (18, 27.0),
                (9, 81.0),
                (6, 243.0)
            ]
        );
        assert_eq!(
            firsts(BracketSizes::Table),
            vec![
                (243, 1.0),
                (81, 3.0),
                (27, 9.0),
                (18, 27.0),
                (9, 81.0),
                (6, 243.0)
            ]
        );
        let p = plan(1.0, 243.0, 3, BracketSizes::Algorithm);
        assert_eq!(
            p[1],
            vec![(98, 3.0), (32, 9.0), (10, 27.0), (3, 81.0), (1, 243.0)]
        );
    }

    #[test]
    fn r27_eta3_both_variants() {
        assert_eq!(
            plan(1.0, 27.0, 3, BracketSizes::Algorithm),
            vec![
                vec![(27, 1.0), (9, 3.0), (3, 9.0), (1, 27.0)],
                vec![(12, 3.0), (4, 9.0), (1, 27.0)],
                vec![(6, 9.0), (2, 27.0)],
                vec![(4, 27.0)],
            ]
        );
        assert_eq!(
            plan(1.0, 27.0, 3, BracketSizes::Table),
            vec![
                vec![(27, 1.0), (9, 3.0), (3, 9.0), (1, 27.0)],
                vec![(9, 3.0), (3, 9.0), (1, 27.0)],
                vec![(6, 9.0), (2, 27.0)],
                vec![(4, 27.0)],
            ]
        );
    }

    #[test]
    fn r300_eta4_fractional_budgets() {
        let p = plan(1.0, 300.0, 4, BracketSizes::Algorithm);
        let firsts: Vec<(u64, String)> = p
            .iter()
            .map(|b| (b[0].0, format!("{:.2}", b[0].1)))
            .collect();
        let want = [
            (256, "1.17"),
            (80, "4.69"),
            (27, "18.75"),
            (10, "75.00"),
            (5, "300.00"),
        ];
        let want: Vec<(u64, String)> = want.iter().map(|(n, b)| (*n, b.to_string())).collect();
        assert_eq!(firsts, want);
        assert_eq!(p[0][0].1, 300.0 / 256.0);
        let table = plan(1.0, 300.0, 4, BracketSizes::Table);
        let firsts: Vec<u64> = table.iter().map(|b| b[0].0).collect();
        assert_eq!(firsts, vec![256, 64, 16, 8, 5]);
    }

    #[test]
    fn eta2_and_degenerate_ranges() {
        let p = plan(1.0, 8.0, 2, BracketSizes::Algorithm);
        assert_eq!(p[0], vec![(8, 1.0), (4, 2.0), (2, 4.0), (1, 8.0)]);
        assert_eq!(p[1], vec![(6, 2.0), (3, 4.0), (1, 8.0)]);
        assert_eq!(
            plan(5.0, 5.0, 3, BracketSizes::Algorithm),
            vec![vec![(1, 5.0)]]
        );
        // R = 10 is no power of 3: s_max = 2, budgets are max / 3^k.
        let p = plan(1.0, 10.0, 3, BracketSizes::Algorithm);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0][0], (9, 10.0 / 9.0));
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert_eq!(Budgets::new(0.0, 81.0, 3), Err(PlanError::MinBudget(0.0)));
        assert!(matches!(
            Budgets::new(1.0, f64::NAN, 3),
            Err(PlanError::MaxBudget { .. })
        ));
        assert!(matches!(
            Budgets::new(9.0, 3.0, 3),
            Err(PlanError::MaxBudget { .. })
        ));
        assert_eq!(Budgets::new(1.0, 81.0, 1), Err(PlanError::Eta(1)));
        assert!(matches!(
            Budgets::new(1e-300, 1e300, 2),
            Err(PlanError::TooManyRungs(_))
        ));
    }
}
