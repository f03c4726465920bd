//! `hyperband lab NAME`: the talk's optimization experiments (see docs/labs.md).
//!
//! The experiments live in the `labs` crate; this module only maps flags to their configs and
//! chooses between the table, JSON and figure outputs.

use crate::cli_error::bad_input;
use labs::clique::{self, CliqueConfig};
use labs::interpolation::{self, InterpolationConfig};
use labs::lstsq::{self, LstsqConfig};
use labs::quadratic::{self, QuadraticConfig};
use labs::saddle::{self, SaddleConfig};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `hyperband lab`.
#[derive(Debug, clap::Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub lab: Lab,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// Directory for the SVG figures.
    #[arg(long, global = true, default_value = "out/labs")]
    pub out: PathBuf,
    /// Skip writing figures.
    #[arg(long, global = true)]
    pub no_figures: bool,
    /// Seed of every random draw in the experiment.
    #[arg(long, global = true, default_value_t = 7)]
    pub seed: u64,
}

/// Which experiment to run.
#[derive(Debug, clap::Subcommand)]
pub enum Lab {
    /// Gradient descent on 1/2 sum a_i x_i^2: closed form, convergence, divergence, the 2-d saddle.
    Quadratic {
        /// Dimension of x.
        #[arg(long, default_value_t = 6)]
        dim: usize,
        /// Step size t (in (0, 1); curvatures are drawn with t |a_i| < 1).
        #[arg(long, default_value_t = 0.5)]
        step: f64,
        #[arg(long, default_value_t = 200)]
        iterations: usize,
        /// Random starts per case.
        #[arg(long, default_value_t = 1000)]
        starts: usize,
    },
    /// Gradient descent on x1^4 - 2 x1^2 + x2^2: random starts never converge to the saddle.
    Saddle {
        /// Random starts in total, spread over start distributions and step sizes.
        #[arg(long, default_value_t = 100_000)]
        starts: usize,
        /// Step sizes (comma-separated), each below the stability limit 2/8.
        #[arg(long, value_delimiter = ',', default_value = "0.05,0.1,0.2")]
        steps: Vec<f64>,
        #[arg(long, default_value_t = 10_000)]
        max_iterations: usize,
        /// Starts placed exactly on the stable manifold x1 = 0.
        #[arg(long, default_value_t = 1000)]
        manifold_starts: usize,
    },
    /// The flat quartic from a graph: is 0 a local minimizer? (clique threshold 1/(1 - s))
    Clique {
        /// The s of Q = s 11' - A (below 1).
        #[arg(long, default_value_t = 0.7)]
        s: f64,
        /// Edge-list files ("u v" per line, 0-based; repeatable).
        #[arg(long = "edges")]
        edges: Vec<PathBuf>,
        /// Sizes of the seeded random graphs G(n, p), each at every --density.
        #[arg(long, value_delimiter = ',', default_value = "6,8,10,12,14")]
        sizes: Vec<usize>,
        /// Edge probabilities of the random graphs.
        #[arg(long, value_delimiter = ',', default_value = "0.3,0.6")]
        density: Vec<f64>,
        /// Leave out the bundled Petersen graph and the star K(1,5).
        #[arg(long)]
        no_builtin: bool,
        /// Exhaustive copositivity search up to this many vertices (2^n supports).
        #[arg(long, default_value_t = 16)]
        exhaustive_limit: usize,
        /// Sizes n for timing exact max clique on G(n, 1/2).
        #[arg(long, value_delimiter = ',', default_value = "50,100,150,200,250,300")]
        scaling: Vec<usize>,
    },
    /// Least squares with n < p: GD finds the minimum-norm solution; the ridge path.
    Lstsq {
        /// Observations.
        #[arg(long, default_value_t = 30)]
        n: usize,
        /// Parameters (more than observations).
        #[arg(long, default_value_t = 120)]
        p: usize,
        /// Label noise standard deviation.
        #[arg(long, default_value_t = 0.5)]
        noise: f64,
        /// Feature j has scale (1 + j)^-decay.
        #[arg(long, default_value_t = 1.0)]
        decay: f64,
        /// The true coefficients live on this many strongest features.
        #[arg(long, default_value_t = 5)]
        signal_dims: usize,
        /// Gradient-descent iteration budget.
        #[arg(long, default_value_t = 100_000)]
        iterations: usize,
    },
    /// Over-parameterized models with a zero-loss solution: constant-step GD converges linearly.
    Interpolation {
        /// Observations of the linear model.
        #[arg(long, default_value_t = 40)]
        n: usize,
        /// Parameters of the linear model (more than observations).
        #[arg(long, default_value_t = 200)]
        p: usize,
        /// Hidden units of the two-layer network.
        #[arg(long, default_value_t = 200)]
        width: usize,
    },
}

/// Runs one lab.
pub fn run(args: &LabArgs) -> anyhow::Result<()> {
    print!("{}", render(args)?);
    Ok(())
}

/// Runs the lab and returns what `run` prints, so tests can read the output.
fn render(args: &LabArgs) -> anyhow::Result<String> {
    let figures = (!args.no_figures).then_some(args.out.as_path());
    match &args.lab {
        Lab::Quadratic {
            dim,
            step,
            iterations,
            starts,
        } => {
            let cfg = QuadraticConfig {
                seed: args.seed,
                dim: *dim,
                step: *step,
                iterations: *iterations,
                starts: *starts,
            };
            let report = quadratic::run(&cfg, figures).map_err(wrap)?;
            emit(args.json, &report, || report.table())
        }
        Lab::Saddle {
            starts,
            steps,
            max_iterations,
            manifold_starts,
        } => {
            let cfg = SaddleConfig {
                seed: args.seed,
                starts: *starts,
                steps: steps.clone(),
                max_iterations: *max_iterations,
                manifold_starts: *manifold_starts,
            };
            let report = saddle::run(&cfg, figures).map_err(wrap)?;
            emit(args.json, &report, || report.table())
        }
        Lab::Clique {
            s,
            edges,
            sizes,
            density,
            no_builtin,
            exhaustive_limit,
            scaling,
        } => {
            let cfg = CliqueConfig {
                seed: args.seed,
                s: *s,
                random: sizes
                    .iter()
                    .flat_map(|&n| density.iter().map(move |&p| (n, p)))
                    .collect(),
                edge_files: edges.clone(),
                builtin: !no_builtin,
                exhaustive_limit: *exhaustive_limit,
                scaling_sizes: scaling.clone(),
                ..CliqueConfig::default()
            };
            let report = clique::run(&cfg, figures).map_err(wrap)?;
            emit(args.json, &report, || report.table())
        }
        Lab::Lstsq {
            n,
            p,
            noise,
            decay,
            signal_dims,
            iterations,
        } => {
            let cfg = LstsqConfig {
                seed: args.seed,
                n: *n,
                p: *p,
                noise: *noise,
                decay: *decay,
                signal_dims: *signal_dims,
                max_iterations: *iterations,
                ..LstsqConfig::default()
            };
            let report = lstsq::run(&cfg, figures).map_err(wrap)?;
            emit(args.json, &report, || report.table())
        }
        Lab::Interpolation { n, p, width } => {
            let cfg = InterpolationConfig {
                seed: args.seed,
                n: *n,
                p: *p,
                net_width: *width,
                ..InterpolationConfig::default()
            };
            let report = interpolation::run(&cfg, figures).map_err(wrap)?;
            emit(args.json, &report, || report.table())
        }
    }
}

/// Invalid settings and unreadable inputs are the user's; a failed figure write is not.
fn wrap(err: labs::LabError) -> anyhow::Error {
    match err {
        labs::LabError::Figure { .. } => anyhow::Error::new(err),
        _ => bad_input(err),
    }
}

fn emit<T: Serialize>(
    json: bool,
    report: &T,
    table: impl Fn() -> String,
) -> anyhow::Result<String> {
    if json {
        Ok(serde_json::to_string_pretty(report)? + "\n")
    } else {
        Ok(table())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        lab: LabArgs,
    }

    fn json(args: &[&str]) -> serde_json::Value {
        let cli = Cli::try_parse_from(std::iter::once("lab").chain(args.iter().copied()))
            .expect("arguments parse");
        let out = render(&cli.lab).expect("lab runs");
        serde_json::from_str(&out).expect("JSON output")
    }

    #[test]
    fn saddle_json_reports_hits_out_of_starts() {
        let v = json(&[
            "saddle",
            "--json",
            "--no-figures",
            "--starts",
            "1200",
            "--manifold-starts",
            "6",
        ]);
        assert_eq!(v["starts"], 1200);
        assert_eq!(v["converged_to_saddle"], 0);
        assert_eq!(v["converged_to_minima"], 1200);
        assert_eq!(v["stable_manifold"]["converged_to_saddle"], 6);
    }

    #[test]
    fn clique_json_has_one_agreeing_entry_per_graph() {
        let v = json(&[
            "--json",
            "clique",
            "--no-figures",
            "--sizes",
            "5,7",
            "--density",
            "0.5",
            "--exhaustive-limit",
            "10",
            "--scaling",
            "10",
        ]);
        let graphs = v["graphs"].as_array().unwrap();
        assert_eq!(graphs.len(), 4);
        for g in graphs {
            for key in ["n", "max_clique", "threshold", "zero_is_local_min"] {
                assert!(g.get(key).is_some(), "missing {key}");
            }
            assert_eq!(g["agrees"], true);
        }
    }

    #[test]
    fn quadratic_json_reports_the_closed_form_deviation() {
        let v = json(&["quadratic", "--json", "--no-figures", "--starts", "20"]);
        assert!(v["max_closed_form_deviation"].as_f64().unwrap() < 1e-12);
    }

    #[test]
    fn figures_land_in_the_out_directory() {
        let dir = labs::plot::scratch_dir("cli-lab");
        let out = dir.to_str().unwrap();
        let v = json(&["lstsq", "--json", "--out", out, "--iterations", "50"]);
        let figs = v["figures"].as_array().unwrap();
        assert_eq!(figs.len(), 2);
        for f in figs {
            assert!(std::path::Path::new(f.as_str().unwrap()).starts_with(&dir));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_settings_are_bad_input() {
        let cli = Cli::try_parse_from(["lab", "clique", "--s", "1.5"]).unwrap();
        let err = render(&cli.lab).unwrap_err();
        assert_eq!(crate::cli_error::exit_status(&err), 2);
    }
}
