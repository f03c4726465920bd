//! The little dense linear algebra the labs need (matrices of a few hundred entries a side).
//!
//! Hand-written rather than pulled from a BLAS crate so the labs stay quick to build and every
//! number in a report traces back to code in this crate.

use rand::Rng;

/// A dense row-major matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Mat {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Mat {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    pub fn identity(n: usize) -> Self {
        let mut m = Mat::zeros(n, n);
        for i in 0..n {
            m[(i, i)] = 1.0;
        }
        m
    }

    /// Independent N(0, scale^2) entries.
    pub fn gaussian(rows: usize, cols: usize, scale: f64, rng: &mut impl Rng) -> Self {
        Mat {
            rows,
            cols,
            data: crate::rng::gaussian_vec(rng, rows * cols, scale),
        }
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// `A x`.
    pub fn mul_vec(&self, x: &[f64]) -> Vec<f64> {
        assert_eq!(x.len(), self.cols);
        (0..self.rows).map(|i| dot(self.row(i), x)).collect()
    }

    /// `A' y`, without forming the transpose.
    pub fn t_mul_vec(&self, y: &[f64]) -> Vec<f64> {
        assert_eq!(y.len(), self.rows);
        let mut out = vec![0.0; self.cols];
        for (i, &yi) in y.iter().enumerate() {
            axpy(yi, self.row(i), &mut out);
        }
        out
    }

    /// `A A'` (rows x rows): the kernel matrix of an under-determined system.
    pub fn gram_rows(&self) -> Mat {
        let mut g = Mat::zeros(self.rows, self.rows);
        for i in 0..self.rows {
            for j in 0..=i {
                let v = dot(self.row(i), self.row(j));
                g[(i, j)] = v;
                g[(j, i)] = v;
            }
        }
        g
    }

    /// `A + c I` for a square matrix.
    pub fn plus_identity(&self, c: f64) -> Mat {
        let mut m = self.clone();
        for i in 0..self.rows.min(self.cols) {
            m[(i, i)] += c;
        }
        m
    }

    /// `x' A x`.
    pub fn quad_form(&self, x: &[f64]) -> f64 {
        dot(x, &self.mul_vec(x))
    }
}

impl std::ops::Index<(usize, usize)> for Mat {
    type Output = f64;
    fn index(&self, (i, j): (usize, usize)) -> &f64 {
        &self.data[i * self.cols + j]
    }
}

impl std::ops::IndexMut<(usize, usize)> for Mat {
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut f64 {
        &mut self.data[i * self.cols + j]
    }
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `y += a x`.
pub fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

pub fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// Solves `A x = b` by Gaussian elimination with partial pivoting; `None` when a pivot falls
/// below `1e-12` times the largest entry, i.e. when the system is (numerically) singular.
pub fn solve(a: &Mat, b: &[f64]) -> Option<Vec<f64>> {
    let n = a.rows;
    assert_eq!(a.cols, n);
    assert_eq!(b.len(), n);
    let scale = a
        .data
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-300);
    let mut m = a.clone();
    let mut x = b.to_vec();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| m[(i, col)].abs().total_cmp(&m[(j, col)].abs()))
            .expect("non-empty range");
        if m[(pivot, col)].abs() <= 1e-12 * scale {
            return None;
        }
        if pivot != col {
            for j in 0..n {
                m.data.swap(pivot * n + j, col * n + j);
            }
            x.swap(pivot, col);
        }
        for i in col + 1..n {
            let f = m[(i, col)] / m[(col, col)];
            if f != 0.0 {
                for j in col..n {
                    m[(i, j)] -= f * m[(col, j)];
                }
                x[i] -= f * x[col];
            }
        }
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|j| m[(i, j)] * x[j]).sum();
        x[i] = (x[i] - s) / m[(i, i)];
    }
    Some(x)
}

/// Eigenvalues of a symmetric matrix, ascending (cyclic Jacobi rotations).
///
/// Jacobi is slow for big matrices but unconditionally accurate for the small kernels here,
/// whose extreme eigenvalues set step sizes and predicted rates.
pub fn sym_eigenvalues(a: &Mat) -> Vec<f64> {
    let n = a.rows;
    assert_eq!(a.cols, n);
    let mut m = a.clone();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[(i, j)].powi(2))
            .sum();
        let total: f64 = m.data.iter().map(|v| v * v).sum();
        if off <= 1e-30 * total.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[(p, q)];
                if apq == 0.0 {
                    continue;
                }
                let theta = (m[(q, q)] - m[(p, p)]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = m[(k, p)];
                    let akq = m[(k, q)];
                    m[(k, p)] = c * akp - s * akq;
                    m[(k, q)] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = m[(p, k)];
                    let aqk = m[(q, k)];
                    m[(p, k)] = c * apk - s * aqk;
                    m[(q, k)] = s * apk + c * aqk;
                }
            }
        }
    }
    let mut ev: Vec<f64> = (0..n).map(|i| m[(i, i)]).collect();
    ev.sort_by(f64::total_cmp);
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_inverts_a_random_system() {
        let mut rng = crate::rng::seeded(1);
        let a = Mat::gaussian(8, 8, 1.0, &mut rng);
        let x = crate::rng::gaussian_vec(&mut rng, 8, 1.0);
        let b = a.mul_vec(&x);
        let got = solve(&a, &b).unwrap();
        assert!(norm(&sub(&got, &x)) < 1e-9);
    }

    #[test]
    fn solve_refuses_a_singular_system() {
        let mut a = Mat::zeros(2, 2);
        a[(0, 0)] = 1.0;
        a[(0, 1)] = 2.0;
        a[(1, 0)] = 2.0;
        a[(1, 1)] = 4.0;
        assert!(solve(&a, &[1.0, 2.0]).is_none());
    }

    #[test]
    fn jacobi_eigenvalues_match_trace_and_known_spectrum() {
        // Path graph on 4 vertices: eigenvalues 2 cos(k pi / 5).
        let mut a = Mat::zeros(4, 4);
        for i in 0..3 {
            a[(i, i + 1)] = 1.0;
            a[(i + 1, i)] = 1.0;
        }
        let ev = sym_eigenvalues(&a);
        let mut want: Vec<f64> = (1..=4)
            .map(|k| 2.0 * (k as f64 * std::f64::consts::PI / 5.0).cos())
            .collect();
        want.sort_by(f64::total_cmp);
        for (g, w) in ev.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{ev:?} vs {want:?}");
        }
    }
}
