//! The `hyperband` command-line tool as a library: [`run`] takes a command line and
//! returns the exit status. The `hyperband` binary (`src/main.rs`) calls it with its own
//! arguments; the Python package's `hyperband` command (`crates/hyperband-py`) calls it in
//! the interpreter's process, so that `pip install` brings the same command.

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

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

/// How to start this command again as a child process: `bench storage` starts its workers
/// so. The binary runs itself; the Python package's command runs `python -m hyperband`.
#[derive(Clone, Debug)]
pub enum Invocation {
    /// This process's executable (`std::env::current_exe`).
    CurrentExe,
    /// A program and the arguments that come before the subcommand's
    /// (`python`, `["-m", "hyperband"]`).
    Program {
        program: PathBuf,
        args: Vec<OsString>,
    },
}

impl Invocation {
    /// A command that runs `args` (a subcommand and its arguments) through this invocation.
    pub(crate) fn command<I, S>(&self, args: I) -> std::io::Result<std::process::Command>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = match self {
            Invocation::CurrentExe => std::process::Command::new(std::env::current_exe()?),
            Invocation::Program { program, args } => {
                let mut command = std::process::Command::new(program);
                command.args(args);
                command
            }
        };
        command.args(args);
        Ok(command)
    }
}

/// Runs the command line `args` (the program's name first, as `std::env::args_os` gives
/// it; usage messages name the program by it) and returns the exit status: 0 success
/// (`--help` and `--version` included), 1 a run that failed, 2 bad input (usage, study
/// file, storage URL); 130 comes from the process exiting at a second Ctrl-C during `run`,
/// not from here. Errors are printed to stderr as `error: ...`. `this` is how to start the
/// command again in a child process.
pub fn run<I, T>(args: I, this: &Invocation) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // What `Cli::parse` does, without leaving the process: help and version on
            // stdout with status 0, usage errors on stderr with status 2.
            let _ = err.print();
            return u8::try_from(err.exit_code()).unwrap_or(2);
        }
    };
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
        Command::Bench(args) => bench::run(args, this),
        Command::Demo(args) => demo::run(args),
        Command::Lab(args) => lab::run(args),
    };
    match result {
        Ok(()) => 0,
        Err(err) => {
            if !cli_error::is_told(&err) {
                eprintln!("error: {err:#}");
            }
            cli_error::exit_status(&err)
        }
    }
}
