//! Exact minimum of a quadratic form over the standard simplex, by trying every support.
//!
//! This is the "certify by exhaustive search" half of the clique lab: Q is copositive exactly
//! when min over the simplex of y'Qy is >= 0, and that minimum is found here without using
//! Motzkin-Straus, so it can check the theorem instead of assuming it.
//!
//! Why enumerating supports is exact: take a minimizer y* with the smallest support S. It lies
//! in the relative interior of the face S, so Lagrange gives Q_S y* = lambda 1 with 1'y* = 1.
//! If that bordered system were singular there would be d != 0 with 1'd = 0 and Q_S d = c 1;
//! then f(y* + r d) = f(y*) + 2 r c, so c = 0 (y* is a minimum) and f is constant along d,
//! and moving along d to the face's boundary gives a minimizer with smaller support, a
//! contradiction. So y* is the unique solution of a nonsingular bordered system for some S.
//! Every candidate is evaluated as y'Qy at a genuine simplex point, so none can undercut the
//! true minimum, and the minimum over candidates is the exact value.

use crate::linalg::{solve, Mat};

/// Largest dimension accepted: 2^n supports.
pub const MAX_DIM: usize = 22;

/// `(min over the simplex of y'My, a minimizer)`.
pub fn simplex_min(m: &Mat) -> (f64, Vec<f64>) {
    let n = m.rows;
    assert!(
        (1..=MAX_DIM).contains(&n),
        "simplex_min is exhaustive: n = {n}"
    );
    let mut best = (f64::INFINITY, vec![0.0; n]);
    for mask in 1u32..1 << n {
        let support: Vec<usize> = (0..n).filter(|&i| mask >> i & 1 == 1).collect();
        let k = support.len();
        let mut b = Mat::zeros(k + 1, k + 1);
        for (r, &i) in support.iter().enumerate() {
            for (c, &j) in support.iter().enumerate() {
                b[(r, c)] = m[(i, j)];
            }
            b[(r, k)] = -1.0;
            b[(k, r)] = 1.0;
        }
        let mut rhs = vec![0.0; k + 1];
        rhs[k] = 1.0;
        let Some(sol) = solve(&b, &rhs) else { continue };
        if sol[..k].iter().any(|&v| v < -1e-12) {
            continue;
        }
        let total: f64 = sol[..k].iter().map(|v| v.max(0.0)).sum();
        if total <= 0.0 {
            continue;
        }
        let mut y = vec![0.0; n];
        for (r, &i) in support.iter().enumerate() {
            y[i] = sol[r].max(0.0) / total;
        }
        let value = m.quad_form(&y);
        if value < best.0 {
            best = (value, y);
        }
    }
    best
}

/// `max over the simplex of y'My`.
pub fn simplex_max(m: &Mat) -> (f64, Vec<f64>) {
    let mut neg = m.clone();
    neg.data.iter_mut().for_each(|v| *v = -*v);
    let (v, y) = simplex_min(&neg);
    (-v, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn identity_minimum_is_uniform() {
        let (v, y) = simplex_min(&Mat::identity(5));
        assert!((v - 0.2).abs() < 1e-12);
        assert!(y.iter().all(|&yi| (yi - 0.2).abs() < 1e-12));
    }

    #[test]
    fn no_random_simplex_point_beats_the_exhaustive_minimum() {
        let mut rng = crate::rng::seeded(3);
        for _ in 0..5 {
            let g = Mat::gaussian(6, 6, 1.0, &mut rng);
            let mut m = Mat::zeros(6, 6);
            for i in 0..6 {
                for j in 0..6 {
                    m[(i, j)] = g[(i, j)] + g[(j, i)];
                }
            }
            let (best, y) = simplex_min(&m);
            assert!((m.quad_form(&y) - best).abs() < 1e-12);
            for _ in 0..2000 {
                let mut z: Vec<f64> = (0..6).map(|_| -rng.random::<f64>().ln()).collect();
                let s: f64 = z.iter().sum();
                z.iter_mut().for_each(|v| *v /= s);
                assert!(m.quad_form(&z) >= best - 1e-12);
            }
        }
    }
}
