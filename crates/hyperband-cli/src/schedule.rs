//! `hyperband schedule`: the bracket plan for a budget range, as the paper's Table 1 lays
//! it out.

use crate::cli_error::bad_input;
use hyperband::{hyperband_brackets, BracketSizes, Budgets};
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    /// A study file: its `[algorithm]` budgets, eta, bracket sizes and `integer_budgets`
    /// instead of the flags below.
    pub study_file: Option<std::path::PathBuf>,
    /// Smallest budget a configuration is evaluated with.
    #[arg(long, default_value_t = 1.0)]
    pub min_budget: f64,
    /// Largest budget (R in units of the minimum).
    #[arg(long, default_value_t = 81.0)]
    pub max_budget: f64,
    /// Halving rate: each rung keeps the best 1/eta.
    #[arg(long, default_value_t = 3)]
    pub eta: u32,
    /// `algorithm` (the paper's Algorithm 1) or `table` (its printed Table 1).
    #[arg(long, default_value = "algorithm")]
    pub bracket_sizes: BracketSizes,
    /// Round every rung's budget to a whole number (for programs that count epochs).
    #[arg(long)]
    pub integer_budgets: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ScheduleArgs) -> anyhow::Result<()> {
    let (budgets, sizes) = match &args.study_file {
        Some(file) => {
            let parsed = crate::study_file::StudyFile::load(file).map_err(bad_input)?;
            let spec = parsed.spec();
            let budgets = spec.budgets();
            (budgets, spec.algorithm.bracket_sizes())
        }
        None => {
            let budgets =
                Budgets::new(args.min_budget, args.max_budget, args.eta).map_err(bad_input)?;
            let budgets = if args.integer_budgets {
                budgets.whole().map_err(bad_input)?
            } else {
                budgets
            };
            (budgets, args.bracket_sizes)
        }
    };
    let brackets = hyperband_brackets(&budgets, sizes);
    let scratch: f64 = brackets.iter().map(|b| b.cost_scratch()).sum();
    let resume: f64 = brackets.iter().map(|b| b.cost_resume()).sum();
    if args.json {
        let brackets: Vec<_> = brackets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                json!({
                    "bracket": i,
                    "s": b.s,
                    "rungs": b.rungs,
                    "cost_scratch": b.cost_scratch(),
                    "cost_resume": b.cost_resume(),
                })
            })
            .collect();
        let out = json!({
            "min_budget": budgets.min,
            "max_budget": budgets.max,
            "eta": budgets.eta,
            "s_max": budgets.s_max,
            "integer_budgets": budgets.whole,
            "bracket_sizes": sizes,
            "brackets": brackets,
            "cost_scratch": scratch,
            "cost_resume": resume,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "Hyperband plan: min budget {}, max budget {}, eta {}, s_max {}, bracket sizes `{}`{}",
        budgets.min,
        budgets.max,
        budgets.eta,
        budgets.s_max,
        match sizes {
            BracketSizes::Algorithm => "algorithm",
            BracketSizes::Table => "table",
        },
        if budgets.whole { ", whole budgets" } else { "" }
    );
    println!(
        "Each cell is n_i (configurations) and r_i (budget) of rung i; brackets are numbered \
         as they run (export and report use these numbers), s is the paper's index.\n"
    );
    let cell = 16;
    let mut header = format!("{:>3} ", "i");
    for (i, b) in brackets.iter().enumerate() {
        header += &format!("{:>cell$}", format!("bracket {i} s={}", b.s));
    }
    println!("{header}");
    for i in 0..=budgets.s_max as usize {
        let mut line = format!("{i:>3} ");
        for b in &brackets {
            line += &match b.rungs.get(i) {
                Some(r) => format!("{:>cell$}", format!("{} @ {}", r.n, fmt_budget(r.budget))),
                None => " ".repeat(cell),
            };
        }
        println!("{}", line.trim_end());
    }
    let mut scratch_line = format!("{:>3} ", "");
    let mut resume_line = scratch_line.clone();
    for b in &brackets {
        scratch_line += &format!("{:>cell$}", fmt_budget(b.cost_scratch()));
        resume_line += &format!("{:>cell$}", fmt_budget(b.cost_resume()));
    }
    println!(
        "\ncost, retraining every rung from scratch:\n{scratch_line}   total {}",
        fmt_budget(scratch)
    );
    println!(
        "cost, resuming promoted configurations:\n{resume_line}   total {}",
        fmt_budget(resume)
    );
    Ok(())
}

/// Budgets as people write them: `27`, `4.69`.
pub fn fmt_budget(b: f64) -> String {
    if b.fract() == 0.0 && b.abs() < 1e15 {
        format!("{b:.0}")
    } else {
        format!("{b:.2}")
    }
}
