//! `hyperband._hyperband._cli`: the `hyperband` command line (crates/hyperband-cli) run in
//! this process, for the package's `hyperband` command (`python/hyperband/_cli.py`), so
//! that installing the wheel brings the command without a second build.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::ffi::OsString;
use std::io::Write;
use std::panic::AssertUnwindSafe;

/// Runs the command line `argv` (the program's name first) as the `hyperband` binary does
/// and returns its exit status, with the interpreter released. `relaunch` is how to start
/// the command in a child process (`[sys.executable, "-m", "hyperband"]`). A panic is
/// status 101, as the binary's, after the panic message on stderr.
#[pyfunction]
#[pyo3(name = "_cli")]
pub fn cli(py: Python<'_>, argv: Vec<OsString>, relaunch: Vec<OsString>) -> PyResult<u8> {
    let mut relaunch = relaunch.into_iter();
    let program = relaunch
        .next()
        .ok_or_else(|| PyValueError::new_err("relaunch needs at least the program"))?;
    let this = hyperband_cli::Invocation::Program {
        program: program.into(),
        args: relaunch.collect(),
    };
    Ok(py.detach(|| {
        let status = std::panic::catch_unwind(AssertUnwindSafe(|| hyperband_cli::run(argv, &this)))
            .unwrap_or(101);
        // A binary's stdout is flushed when it exits; this library's is not, so a last
        // line without its newline would be lost.
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        status
    }))
}
