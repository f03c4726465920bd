//! Synthetic multi-fidelity problems (see shared/bench/PROBLEMS.md).
