//! The talk's optimization-landscape claims as small, tested experiments ("labs").
//!
//! Each lab module owns one claim: a config with the talk's defaults, a `run` that performs the
//! experiment and returns a serializable report carrying the measured quantity the claim is
//! about, and a `table` rendering for humans. Figures are SVG, written only when asked for, so
//! tests can run the real computation without touching the file system.

pub mod clique;
pub mod error;
pub mod interpolation;
pub mod linalg;
pub mod lstsq;
pub mod plot;
pub mod quadratic;
pub mod rng;
pub mod saddle;
pub mod stats;

pub use error::LabError;
