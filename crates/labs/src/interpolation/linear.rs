//! Gradient descent and SGD on linear least squares L(w) = 1/(2n) |Phi w - y|^2, recording the
//! loss so rates can be measured.

use crate::linalg::{axpy, dot, sub, Mat};
use rand::Rng;

pub fn loss(phi: &Mat, y: &[f64], w: &[f64]) -> f64 {
    let r = sub(&phi.mul_vec(w), y);
    dot(&r, &r) / (2.0 * y.len() as f64)
}

/// Full-batch GD with a constant step; stops once the loss is below `floor`. Returns the
/// losses L(w_0), L(w_1), ... and the final w.
pub fn gd(phi: &Mat, y: &[f64], step: f64, max_iter: usize, floor: f64) -> (Vec<f64>, Vec<f64>) {
    let n = y.len() as f64;
    let mut w = vec![0.0; phi.cols];
    let mut losses = vec![loss(phi, y, &w)];
    for _ in 0..max_iter {
        let r = sub(&phi.mul_vec(&w), y);
        let g = phi.t_mul_vec(&r);
        axpy(-step / n, &g, &mut w);
        let l = loss(phi, y, &w);
        losses.push(l);
        if l < floor {
            break;
        }
    }
    (losses, w)
}

/// SGD with a constant step on the per-sample loss 1/2 (phi_i'w - y_i)^2, samples drawn
/// uniformly; records the full loss after each epoch of n steps.
pub fn sgd(
    phi: &Mat,
    y: &[f64],
    step: f64,
    epochs: usize,
    floor: f64,
    rng: &mut impl Rng,
) -> (Vec<f64>, Vec<f64>) {
    let n = y.len();
    let mut w = vec![0.0; phi.cols];
    let mut losses = vec![loss(phi, y, &w)];
    for _ in 0..epochs {
        for _ in 0..n {
            let i = rng.random_range(0..n);
            let r = dot(phi.row(i), &w) - y[i];
            axpy(-step * r, phi.row(i), &mut w);
        }
        let l = loss(phi, y, &w);
        losses.push(l);
        if l < floor {
            break;
        }
    }
    (losses, w)
}
