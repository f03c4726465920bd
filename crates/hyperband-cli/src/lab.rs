//! `hyperband lab NAME`: the talk's optimization experiments.

/// Arguments of `hyperband lab`.
#[derive(Debug, clap::Args)]
pub struct LabArgs {
    /// Which experiment to run.
    pub name: String,
}

/// Runs one lab.
pub fn run(args: &LabArgs) -> anyhow::Result<()> {
    anyhow::bail!("lab {:?} is not implemented yet", args.name)
}
