//! Fitting a linear rate to a log-scale series: how "converges linearly" and "leaves at an
//! exponential rate" are measured rather than eyeballed.

/// Least-squares line through `(x, y)`: returns `(slope, intercept, r_squared)`.
///
/// `r_squared` tells whether the series really is a straight line (a linear rate), not just
/// what its average slope is.
pub fn linear_fit(points: &[(f64, f64)]) -> (f64, f64, f64) {
    let n = points.len() as f64;
    if points.len() < 2 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let r2 = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    (slope, intercept, r2)
}

/// Geometric per-step rate of a positive series over the index window `[from, to)`:
/// `exp(slope of ln v_k)`, with the fit's r^2.
pub fn geometric_rate(values: &[f64], from: usize, to: usize) -> (f64, f64) {
    let pts: Vec<(f64, f64)> = (from..to.min(values.len()))
        .filter(|&k| values[k] > 0.0 && values[k].is_finite())
        .map(|k| (k as f64, values[k].ln()))
        .collect();
    let (slope, _, r2) = linear_fit(&pts);
    (slope.exp(), r2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_geometric_rate() {
        let v: Vec<f64> = (0..50).map(|k| 3.0 * 0.8f64.powi(k)).collect();
        let (rate, r2) = geometric_rate(&v, 0, 50);
        assert!((rate - 0.8).abs() < 1e-12);
        assert!(r2 > 1.0 - 1e-12);
    }
}
