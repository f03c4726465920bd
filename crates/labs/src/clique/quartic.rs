//! The flat quartic f(x) = sum_ij Q_ij x_i^2 x_j^2 = y'Qy with y = x o x, and the two ways of
//! building Q from a graph.
//!
//! f is a homogeneous quartic, so its gradient and Hessian vanish at 0 and second-order
//! conditions say nothing there. Homogeneity settles it instead: f(r x) = r^4 f(x), so 0 is a
//! local minimizer iff f >= 0 everywhere iff y'Qy >= 0 for all y >= 0 (Q copositive), and when
//! Q is not copositive any y >= 0 with y'Qy < 0 gives the descent direction x = sqrt(y).

use crate::linalg::{norm, Mat};
use crate::rng::gaussian_vec;
use rand::Rng;
use serde::Serialize;

/// Which matrix the graph's adjacency A is turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// Q = s 11' - A: threshold exactly omega > 1/(1 - s) (Motzkin-Straus).
    MotzkinStraus,
    /// Q = I - A + s 11', as the slide's text reads: threshold not a function of omega.
    Slide,
}

pub fn build_q(a: &Mat, s: f64, form: Form) -> Mat {
    let n = a.rows;
    let mut q = Mat::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            q[(i, j)] = s - a[(i, j)];
        }
        if form == Form::Slide {
            q[(i, i)] += 1.0;
        }
    }
    q
}

pub fn value(q: &Mat, x: &[f64]) -> f64 {
    let y: Vec<f64> = x.iter().map(|v| v * v).collect();
    q.quad_form(&y)
}

/// grad f = 4 x o (Q y).
pub fn gradient(q: &Mat, x: &[f64]) -> Vec<f64> {
    let y: Vec<f64> = x.iter().map(|v| v * v).collect();
    let qy = q.mul_vec(&y);
    x.iter().zip(&qy).map(|(xi, qi)| 4.0 * xi * qi).collect()
}

/// The unit vector spread evenly over a clique: y is uniform on the clique, so
/// f = s - (k - 1)/k for Q = s 11' - A, negative exactly when k > 1/(1 - s).
pub fn clique_direction(n: usize, clique: &[usize]) -> Vec<f64> {
    let mut x = vec![0.0; n];
    let w = 1.0 / (clique.len() as f64).sqrt();
    for &v in clique {
        x[v] = w;
    }
    x
}

/// Lowest f found by projected gradient descent on the unit sphere (enough, by homogeneity)
/// from random starts; stops early once f < `stop_below`. Finding nothing negative is the
/// "local search finds no descent" evidence; it is not a proof, the exhaustive search is.
pub fn sphere_search(
    q: &Mat,
    starts: usize,
    iterations: usize,
    stop_below: f64,
    rng: &mut impl Rng,
) -> f64 {
    let n = q.rows;
    let scale = (0..n)
        .map(|i| q.row(i).iter().map(|v| v.abs()).sum::<f64>())
        .fold(1e-12, f64::max);
    let step = 0.1 / scale;
    let mut best = f64::INFINITY;
    for _ in 0..starts {
        let mut x = gaussian_vec(rng, n, 1.0);
        let r = norm(&x);
        x.iter_mut().for_each(|v| *v /= r);
        for _ in 0..iterations {
            let g = gradient(q, &x);
            x.iter_mut().zip(&g).for_each(|(xi, gi)| *xi -= step * gi);
            let r = norm(&x);
            x.iter_mut().for_each(|v| *v /= r);
        }
        best = best.min(value(q, &x));
        if best < stop_below {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_and_hessian_vanish_at_zero() {
        let g = super::super::graph::Graph::random(6, 0.5, 1);
        let q = build_q(&g.adjacency(), 0.3, Form::MotzkinStraus);
        let zero = vec![0.0; 6];
        assert!(gradient(&q, &zero).iter().all(|&v| v == 0.0));
        // Central second differences of f at 0 along every pair of axes: O(h^2) -> 0.
        let h = 1e-3;
        for i in 0..6 {
            for j in 0..6 {
                let at = |si: f64, sj: f64| {
                    let mut x = zero.clone();
                    x[i] += si * h;
                    x[j] += sj * h;
                    value(&q, &x)
                };
                let hij =
                    (at(1.0, 1.0) - at(1.0, -1.0) - at(-1.0, 1.0) + at(-1.0, -1.0)) / (4.0 * h * h);
                assert!(hij.abs() < 1e-5, "H[{i}][{j}] = {hij}");
            }
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let g = super::super::graph::Graph::random(5, 0.6, 2);
        let q = build_q(&g.adjacency(), 0.4, Form::Slide);
        let x = [0.3, -0.7, 0.2, 0.9, -0.1];
        let grad = gradient(&q, &x);
        for i in 0..5 {
            let mut p = x;
            let mut m = x;
            p[i] += 1e-6;
            m[i] -= 1e-6;
            let fd = (value(&q, &p) - value(&q, &m)) / 2e-6;
            assert!((fd - grad[i]).abs() < 1e-6);
        }
    }
}
