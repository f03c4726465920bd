//! The `hyperband` command-line tool.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod bench;
mod cli_error;
mod demo;
mod lab;
mod plot;
mod progress;
mod runner;
mod schedule;
mod synthetic;

/// Hyperparameter optimization with Hyperband, successive halving, ASHA and model-based samplers.
#[derive(Debug, Parser)]
#[command(name = "hyperband", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the bracket plan of Hyperband for a budget range.
    Schedule(schedule::ScheduleArgs),
    /// Built-in benchmarks.
    Bench(bench::BenchArgs),
    /// Demonstrations on the embedded store.
    Demo(demo::DemoArgs),
    /// Run one of the talk's optimization experiments.
    Lab(lab::LabArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Schedule(args) => schedule::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Lab(args) => lab::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(cli_error::exit_status(&err))
        }
    }
}
