//! The `hyperband` command-line tool.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod bench;
mod check;
mod cli_error;
mod dashboard;
mod demo;
mod fail_fast;
mod init;
mod inspect;
mod lab;
mod mnist;
mod objectives;
mod plot;
mod progress;
mod report;
mod run;
mod runner;
mod schedule;
mod study_file;
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
    /// Write a commented study file for a training command: `init -- python3 train.py --lr 0.01`.
    Init(init::InitArgs),
    /// Run the study's command once at the smallest budget and show what its metric rule reads.
    Check(check::CheckArgs),
    /// Create or resume a study from its file and run it.
    Run(run::RunArgs),
    /// Join a stored study as a worker (from this or any other machine).
    Worker(run::WorkerArgs),
    /// Progress, budget, best result and failures of a study.
    Status(inspect::StatusArgs),
    /// The best configuration: the best loss at the highest budget reached.
    Best(inspect::BestArgs),
    /// Every job as CSV or JSON.
    Export(inspect::ExportArgs),
    /// A self-contained HTML report: progress, brackets and rungs, curves, parameters.
    Report(report::ReportArgs),
    /// The report's views, live, for a running study (read-only; 127.0.0.1 by default).
    Dashboard(dashboard::DashboardArgs),
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
        Command::Init(args) => init::run(args),
        Command::Check(args) => check::run(args),
        Command::Run(args) => run::run(args),
        Command::Worker(args) => run::worker(args),
        Command::Status(args) => inspect::status(args),
        Command::Best(args) => inspect::best(args),
        Command::Export(args) => inspect::export(args),
        Command::Report(args) => report::run(args),
        Command::Dashboard(args) => dashboard::run(args),
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
