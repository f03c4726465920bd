//! A two-layer tanh network f(x) = m^{-1/2} sum_j v_j tanh(w_j . x), both layers trained by
//! full-batch gradient descent on L = 1/(2n) sum_i (f(x_i) - y_i)^2.
//!
//! With m (d + 1) parameters far above n, the network can fit any labels, and near
//! initialization GD on the residual behaves like r <- (I - t K) r with the neural tangent
//! kernel K = J J' / n: the loss contracts by about (1 - t lambda_min(K))^2 per step. The
//! kernel moves a little during training, so the lab reports the prediction at the start and
//! at the end and the measured rate between them.

use crate::linalg::{sym_eigenvalues, Mat};
use crate::rng::gaussian_vec;
use rand::Rng;

pub struct Network {
    pub d: usize,
    pub m: usize,
    /// m x d first-layer weights, row j is w_j.
    pub w: Vec<f64>,
    pub v: Vec<f64>,
}

impl Network {
    pub fn init(d: usize, m: usize, rng: &mut impl Rng) -> Self {
        Network {
            d,
            m,
            w: gaussian_vec(rng, m * d, 1.0),
            v: gaussian_vec(rng, m, 1.0),
        }
    }

    fn hidden(&self, x: &[f64]) -> Vec<f64> {
        (0..self.m)
            .map(|j| {
                let wj = &self.w[j * self.d..(j + 1) * self.d];
                wj.iter().zip(x).map(|(a, b)| a * b).sum::<f64>().tanh()
            })
            .collect()
    }

    pub fn predict(&self, x: &[f64]) -> f64 {
        let h = self.hidden(x);
        h.iter().zip(&self.v).map(|(a, b)| a * b).sum::<f64>() / (self.m as f64).sqrt()
    }

    pub fn loss(&self, xs: &Mat, y: &[f64]) -> f64 {
        let n = y.len();
        (0..n)
            .map(|i| (self.predict(xs.row(i)) - y[i]).powi(2))
            .sum::<f64>()
            / (2.0 * n as f64)
    }

    /// The Jacobian of the outputs with respect to (v, W), one row per input.
    pub fn jacobian(&self, xs: &Mat) -> Mat {
        let p = self.m * (self.d + 1);
        let scale = 1.0 / (self.m as f64).sqrt();
        let mut jac = Mat::zeros(xs.rows, p);
        for i in 0..xs.rows {
            let x = xs.row(i);
            let h = self.hidden(x);
            for j in 0..self.m {
                jac[(i, j)] = h[j] * scale;
                let dh = (1.0 - h[j] * h[j]) * self.v[j] * scale;
                for k in 0..self.d {
                    jac[(i, self.m + j * self.d + k)] = dh * x[k];
                }
            }
        }
        jac
    }

    /// Eigenvalues (ascending) of the tangent kernel J J' / n at the current weights.
    pub fn kernel_eigenvalues(&self, xs: &Mat) -> Vec<f64> {
        let mut k = self.jacobian(xs).gram_rows();
        let n = xs.rows as f64;
        k.data.iter_mut().for_each(|v| *v /= n);
        sym_eigenvalues(&k)
    }

    /// One gradient step of size `step`.
    pub fn step(&mut self, xs: &Mat, y: &[f64], step: f64) {
        let n = y.len() as f64;
        let scale = 1.0 / (self.m as f64).sqrt();
        let mut gv = vec![0.0; self.m];
        let mut gw = vec![0.0; self.m * self.d];
        for (i, yi) in y.iter().enumerate() {
            let x = xs.row(i);
            let h = self.hidden(x);
            let f: f64 = h.iter().zip(&self.v).map(|(a, b)| a * b).sum::<f64>() * scale;
            let r = (f - yi) / n;
            for j in 0..self.m {
                gv[j] += r * h[j] * scale;
                let dh = r * (1.0 - h[j] * h[j]) * self.v[j] * scale;
                for k in 0..self.d {
                    gw[j * self.d + k] += dh * x[k];
                }
            }
        }
        self.v.iter_mut().zip(&gv).for_each(|(a, g)| *a -= step * g);
        self.w.iter_mut().zip(&gw).for_each(|(a, g)| *a -= step * g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_step_matches_the_jacobian() {
        // The step direction must be J' r / n: compare one small step with it.
        let mut rng = crate::rng::seeded(5);
        let xs = Mat::gaussian(4, 3, 1.0, &mut rng);
        let y = gaussian_vec(&mut rng, 4, 1.0);
        let mut net = Network::init(3, 7, &mut rng);
        let jac = net.jacobian(&xs);
        let r: Vec<f64> = (0..4)
            .map(|i| (net.predict(xs.row(i)) - y[i]) / 4.0)
            .collect();
        let g = jac.t_mul_vec(&r);
        let before: Vec<f64> = net.v.iter().chain(&net.w).cloned().collect();
        net.step(&xs, &y, 1e-3);
        let after: Vec<f64> = net.v.iter().chain(&net.w).cloned().collect();
        for k in 0..g.len() {
            assert!(((before[k] - after[k]) / 1e-3 - g[k]).abs() < 1e-12);
        }
    }
}
