//! Things to tune: synthetic multi-fidelity benchmark functions with known optima, and the
//! MNIST multilayer perceptron of the talk.

pub mod mnist;
pub mod synthetic;
