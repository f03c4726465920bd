//! Dense symmetric positive-definite algebra for the Gaussian process: Cholesky factors,
//! triangular solves and the inverse, on row-major `n x n` slices.
//!
//! Hand-written because the GP needs only these few operations on matrices of at most a
//! few hundred rows; every inner loop is a dot product or an update of contiguous memory,
//! which is what the compiler vectorizes.

/// `sum a_i b_i`, with eight accumulators so that the additions pipeline and vectorize.
#[inline]
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    s + tail
}

/// The dot products of `x` with four rows at once: each element of `x` is loaded once for
/// four multiply-adds, the register blocking that makes the factorization compute-bound.
#[inline]
fn dot4(x: &[f64], rows: [&[f64]; 4]) -> [f64; 4] {
    let n = x.len();
    let [a, b, c, d] = rows.map(|r| &r[..n]);
    let mut acc = [0.0f64; 8];
    let mut t = 0;
    while t + 2 <= n {
        let (x0, x1) = (x[t], x[t + 1]);
        acc[0] += x0 * a[t];
        acc[1] += x1 * a[t + 1];
        acc[2] += x0 * b[t];
        acc[3] += x1 * b[t + 1];
        acc[4] += x0 * c[t];
        acc[5] += x1 * c[t + 1];
        acc[6] += x0 * d[t];
        acc[7] += x1 * d[t + 1];
        t += 2;
    }
    let mut s = [
        acc[0] + acc[1],
        acc[2] + acc[3],
        acc[4] + acc[5],
        acc[6] + acc[7],
    ];
    if t < n {
        for (sk, r) in s.iter_mut().zip([a, b, c, d]) {
            *sk += x[t] * r[t];
        }
    }
    s
}

/// Replaces the lower triangle of `a` by its Cholesky factor `L` (`a = L L^T`), zeroing the
/// upper triangle. Returns `false` when `a` is not numerically positive definite; `a` is
/// then garbage.
pub(super) fn cholesky(a: &mut [f64], n: usize) -> bool {
    assert_eq!(a.len(), n * n);
    for i in 0..n {
        let (done, rest) = a.split_at_mut(i * n);
        let row = &mut rest[..n];
        let mut j = 0;
        // Four entries of row i at a time: their dot products over columns < j are
        // independent; the small triangle among the four is finished one by one.
        while j + 4 <= i {
            let rows = [0, 1, 2, 3].map(|k| &done[(j + k) * n..(j + k) * n + j]);
            let s = dot4(&row[..j], rows);
            for k in 0..4 {
                let lk = &done[(j + k) * n..(j + k + 1) * n];
                let mut v = row[j + k] - s[k];
                for t in j..j + k {
                    v -= row[t] * lk[t];
                }
                row[j + k] = v / lk[j + k];
            }
            j += 4;
        }
        for j in j..i {
            let lj = &done[j * n..j * n + j];
            let s = row[j] - dot(&row[..j], lj);
            row[j] = s / done[j * n + j];
        }
        let s = row[i] - dot(&row[..i], &row[..i]);
        if !(s > 0.0 && s.is_finite()) {
            return false;
        }
        row[i] = s.sqrt();
        row[i + 1..].fill(0.0);
    }
    true
}

/// Solves `L x = b` in place.
pub(super) fn solve_lower(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let s = b[i] - dot(&l[i * n..i * n + i], &b[..i]);
        b[i] = s / l[i * n + i];
    }
}

/// Solves `L^T x = b` in place.
pub(super) fn solve_upper_t(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let x = b[i] / l[i * n + i];
        b[i] = x;
        let row = &l[i * n..i * n + i];
        for (bk, lk) in b[..i].iter_mut().zip(row) {
            *bk -= lk * x;
        }
    }
}

/// `A^{-1}` from the Cholesky factor of `A`, full (both triangles).
pub(super) fn inverse_from_cholesky(l: &[f64], n: usize) -> Vec<f64> {
    // Row c of `m` is column c of L^{-1} (zero above the diagonal), so that both the
    // forward substitution and the product below read contiguous memory.
    let mut m = vec![0.0; n * n];
    for c in 0..n {
        let col = &mut m[c * n..(c + 1) * n];
        col[c] = 1.0 / l[c * n + c];
        for i in c + 1..n {
            let s = dot(&l[i * n + c..i * n + i], &col[c..i]);
            col[i] = -s / l[i * n + i];
        }
    }
    // (A^{-1})_{ij} = sum_k (L^{-1})_{ki} (L^{-1})_{kj}, nonzero terms k >= max(i, j).
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            let v = dot(&m[i * n + j..(i + 1) * n], &m[j * n + j..(j + 1) * n]);
            inv[i * n + j] = v;
            inv[j * n + i] = v;
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spd(n: usize) -> Vec<f64> {
        // B B^T + n I with a fixed, irregular B.
        let b: Vec<f64> = (0..n * n)
            .map(|k| ((k * 7919 % 101) as f64 / 50.0) - 1.0)
            .collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = dot(&b[i * n..(i + 1) * n], &b[j * n..(j + 1) * n]);
            }
            a[i * n + i] += n as f64;
        }
        a
    }

    fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
        let mut c = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                c[i * n + j] = (0..n).map(|k| a[i * n + k] * b[k * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn factor_solves_and_inverse_agree_with_the_matrix() {
        for n in [1, 2, 5, 13, 38] {
            check(n);
        }
    }

    fn check(n: usize) {
        let a = spd(n);
        let mut l = a.clone();
        assert!(cholesky(&mut l, n));
        let lt: Vec<f64> = (0..n * n).map(|k| l[(k % n) * n + k / n]).collect();
        for (x, y) in matmul(&l, &lt, n).iter().zip(&a) {
            assert!((x - y).abs() < 1e-10 * (1.0 + y.abs()));
        }
        let rhs: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        let mut x = rhs.clone();
        solve_lower(&l, n, &mut x);
        solve_upper_t(&l, n, &mut x);
        for i in 0..n {
            let ax = dot(&a[i * n..(i + 1) * n], &x);
            assert!((ax - rhs[i]).abs() < 1e-10);
        }
        let inv = inverse_from_cholesky(&l, n);
        let id = matmul(&a, &inv, n);
        for i in 0..n {
            for j in 0..n {
                let e = if i == j { 1.0 } else { 0.0 };
                assert!((id[i * n + j] - e).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn refuses_a_matrix_that_is_not_positive_definite() {
        let mut a = vec![1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky(&mut a, 2));
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        assert!(!cholesky(&mut singular, 2));
    }
}
