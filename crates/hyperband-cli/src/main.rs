//! The `hyperband` command-line tool: the library's [`hyperband_cli::run`] with this
//! process's arguments.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(hyperband_cli::run(
        std::env::args_os(),
        &hyperband_cli::Invocation::CurrentExe,
    ))
}
