//! The Python face of hyperband: `Space`, `Study` (ask/tell and `optimize`), `Job`,
//! `Failed` and `StorageError`. Every decision (which configuration, which budget, who is
//! promoted, when the study stops) is the Rust core's; this crate only converts values and
//! moves work between Python threads and the core with the interpreter released.

mod cli;
mod convert;
mod errors;
mod failed;
mod importance;
mod job;
mod leases;
mod optimize;
mod space;
mod study;

use pyo3::prelude::*;

#[pymodule]
fn _hyperband(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<space::PySpace>()?;
    m.add_class::<job::PyJob>()?;
    m.add_class::<failed::Failed>()?;
    m.add_class::<study::PyStudy>()?;
    m.add_function(wrap_pyfunction!(importance::param_importances, m)?)?;
    m.add("StorageError", m.py().get_type::<errors::StorageError>())?;
    m.add("Stopped", m.py().get_type::<errors::Stopped>())?;
    m.add_function(wrap_pyfunction!(cli::cli, m)?)?;
    Ok(())
}
