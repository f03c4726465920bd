//! `hyperband bench`: built-in benchmarks.

mod mnist;
mod overhead;
mod report;
mod simulate;
mod stats;
mod storage;
mod synthetic;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Cost of the decisions alone: ask + tell per job with a free objective.
    Overhead(overhead::OverheadArgs),
    /// Random search, GP-BO, Hyperband and BOHB tuning the MNIST MLP on equal budget.
    Mnist(mnist::MnistBenchArgs),
    /// A large study's HTML report: its size and the time Chromium takes to draw it.
    Report(report::ReportBenchArgs),
    /// Schedulers on a simulated cluster: regret against simulated time, worker utilisation.
    Simulate(simulate::SimulateArgs),
    /// Jobs per second through a store with N worker processes and a near-free objective.
    Storage(storage::StorageArgs),
    /// Methods side by side on a synthetic problem: regret against budget spent.
    Synthetic(synthetic::SyntheticArgs),
}

pub fn run(args: &BenchArgs, this: &crate::Invocation) -> anyhow::Result<()> {
    match &args.which {
        BenchCommand::Overhead(a) => overhead::run(a),
        BenchCommand::Synthetic(a) => synthetic::run(a),
        BenchCommand::Storage(a) => storage::run(a, this),
        BenchCommand::Mnist(a) => mnist::run(a),
        BenchCommand::Simulate(a) => simulate::run(a),
        BenchCommand::Report(a) => report::run(a),
    }
}
