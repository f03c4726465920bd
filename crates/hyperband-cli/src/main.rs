//! The `hyperband` command-line tool.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod lab;

/// Hyperparameter optimization with Hyperband, successive halving, ASHA and model-based samplers.
#[derive(Debug, Parser)]
#[command(name = "hyperband", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one of the talk's optimization experiments.
    Lab(lab::LabArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Lab(args) => lab::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
