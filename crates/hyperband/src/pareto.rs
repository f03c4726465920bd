//! Several objectives at once (issue 25's groundwork): dominance, non-dominated sorting,
//! crowding distance and hypervolume, for points whose every coordinate is a loss
//! (objectives to maximize are negated before they get here, as the single loss is).
//!
//! Rungs and fronts are small (tens to a few thousand points, two or three objectives), so
//! the algorithms favour being plainly right over asymptotics: Deb's fast non-dominated
//! sort (O(m n^2)), and the hypervolume by slicing objectives (HSO: sort by the last
//! objective, sum slabs of the (d-1)-dimensional volume), exact in any dimension, a sweep in
//! two. The property tests check both against brute force.

use std::cmp::Ordering;

/// Whether `a` dominates `b`: no worse in every objective and better in one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        better |= x < y;
    }
    better
}

/// The points' non-dominated fronts, best first: front 0 holds the points nobody
/// dominates, front k those dominated only by points of earlier fronts. Indices within a
/// front are in increasing order, so the result is deterministic.
pub fn fronts(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let n = points.len();
    // For each point, whom it dominates and how many dominate it.
    let mut dominated: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut count = vec![0usize; n];
    for i in 0..n {
        for j in i + 1..n {
            if dominates(&points[i], &points[j]) {
                dominated[i].push(j);
                count[j] += 1;
            } else if dominates(&points[j], &points[i]) {
                dominated[j].push(i);
                count[i] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| count[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominated[i] {
                count[j] -= 1;
                if count[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        fronts.push(std::mem::replace(&mut current, next));
    }
    fronts
}

/// Each point's front number (0 for the non-dominated ones).
pub fn ranks(points: &[Vec<f64>]) -> Vec<usize> {
    let mut rank = vec![0; points.len()];
    for (k, front) in fronts(points).iter().enumerate() {
        for &i in front {
            rank[i] = k;
        }
    }
    rank
}

/// NSGA-II's crowding distance of each point of `front` (indices into `points`), in the
/// order of `front`: the sum over objectives of the gap between its neighbours, normalised
/// by the objective's range; the extremes of each objective get infinity, so they are kept
/// first.
pub fn crowding_distance(points: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let m = front.len();
    let mut distance = vec![0.0; m];
    if m <= 2 {
        return vec![f64::INFINITY; m];
    }
    let dims = points[front[0]].len();
    // `d` picks one objective of several points at once: an index, not an iteration.
    #[allow(clippy::needless_range_loop)]
    for d in 0..dims {
        let mut order: Vec<usize> = (0..m).collect();
        order.sort_by(|&a, &b| {
            points[front[a]][d]
                .total_cmp(&points[front[b]][d])
                .then(a.cmp(&b))
        });
        let low = points[front[order[0]]][d];
        let high = points[front[order[m - 1]]][d];
        distance[order[0]] = f64::INFINITY;
        distance[order[m - 1]] = f64::INFINITY;
        let range = high - low;
        if range <= 0.0 {
            continue;
        }
        for k in 1..m - 1 {
            let gap = points[front[order[k + 1]]][d] - points[front[order[k - 1]]][d];
            distance[order[k]] += gap / range;
        }
    }
    distance
}

/// The volume dominated by `points` and bounded by `reference` (every coordinate of the
/// reference is worse than the region measured). Points that do not dominate the reference
/// add nothing.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let inside: Vec<&[f64]> = points
        .iter()
        .map(Vec::as_slice)
        .filter(|p| p.iter().zip(reference).all(|(x, r)| x < r))
        .collect();
    volume(inside, reference)
}

/// How much each point adds alone: the hypervolume lost without it (0 for a dominated
/// point or a duplicate).
pub fn contributions(points: &[Vec<f64>], reference: &[f64]) -> Vec<f64> {
    let total = hypervolume(points, reference);
    (0..points.len())
        .map(|i| {
            let others: Vec<Vec<f64>> = points
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, p)| p.clone())
                .collect();
            (total - hypervolume(&others, reference)).max(0.0)
        })
        .collect()
}

/// HSO on points strictly inside the reference box.
fn volume(mut points: Vec<&[f64]>, reference: &[f64]) -> f64 {
    let d = reference.len();
    if points.is_empty() {
        return 0.0;
    }
    match d {
        0 => 0.0,
        1 => reference[0] - points.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min),
        2 => {
            // Sweep along the first objective, keeping the best second objective so far.
            points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
            let mut area = 0.0;
            let mut best_y = reference[1];
            for p in points {
                if p[1] < best_y {
                    area += (reference[0] - p[0]) * (best_y - p[1]);
                    best_y = p[1];
                }
            }
            area
        }
        _ => {
            // Slabs between consecutive values of the last objective: in each, the
            // (d-1)-dimensional volume of the points at or below it.
            points.sort_by(|a, b| a[d - 1].total_cmp(&b[d - 1]));
            let mut total = 0.0;
            for k in 0..points.len() {
                let top = points.get(k + 1).map_or(reference[d - 1], |p| p[d - 1]);
                let depth = top - points[k][d - 1];
                if depth <= 0.0 {
                    continue;
                }
                let below: Vec<&[f64]> = points[..=k].iter().map(|p| &p[..d - 1]).collect();
                total += depth * volume(below, &reference[..d - 1]);
            }
            total
        }
    }
}

/// Orders a front's points for keeping, best first: by hypervolume contribution or by
/// crowding distance (both descending), ties by index. Which of the two the schedulers
/// use is issue 25's to measure.
pub fn order_by(scores: &[f64], front: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..front.len()).collect();
    order.sort_by(|&a, &b| match scores[b].partial_cmp(&scores[a]) {
        Some(Ordering::Equal) | None => front[a].cmp(&front[b]),
        Some(o) => o,
    });
    order.into_iter().map(|k| front[k]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A point's rank by another route: the longest chain of points dominating it.
    fn chain_rank(points: &[Vec<f64>], i: usize, memo: &mut Vec<Option<usize>>) -> usize {
        if let Some(r) = memo[i] {
            return r;
        }
        let r = (0..points.len())
            .filter(|&j| dominates(&points[j], &points[i]))
            .map(|j| chain_rank(points, j, memo) + 1)
            .max()
            .unwrap_or(0);
        memo[i] = Some(r);
        r
    }

    /// Inclusion-exclusion over every subset: the union of the boxes [p, reference].
    fn brute_volume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
        let n = points.len();
        let mut total = 0.0;
        for mask in 1u32..(1 << n) {
            let mut corner = vec![f64::NEG_INFINITY; reference.len()];
            for (i, p) in points.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    for (c, x) in corner.iter_mut().zip(p) {
                        *c = c.max(*x);
                    }
                }
            }
            let v: f64 = corner
                .iter()
                .zip(reference)
                .map(|(c, r)| (r - c).max(0.0))
                .product();
            total += if mask.count_ones() % 2 == 1 { v } else { -v };
        }
        total
    }

    /// Points on a coarse grid, so that ties and duplicates are common.
    fn cloud(dims: usize, max: usize) -> impl Strategy<Value = Vec<Vec<f64>>> {
        prop::collection::vec(prop::collection::vec(0u8..6, dims), 0..max).prop_map(|ps| {
            ps.into_iter()
                .map(|p| p.into_iter().map(f64::from).collect())
                .collect()
        })
    }

    proptest! {
        #[test]
        fn fronts_match_the_longest_dominating_chain(points in (2usize..4).prop_flat_map(|d| cloud(d, 30))) {
            let rank = ranks(&points);
            let mut memo = vec![None; points.len()];
            for (i, r) in rank.iter().enumerate() {
                prop_assert_eq!(*r, chain_rank(&points, i, &mut memo));
            }
            let all: usize = fronts(&points).iter().map(Vec::len).sum();
            prop_assert_eq!(all, points.len());
        }

        #[test]
        fn hypervolume_matches_inclusion_exclusion(points in (2usize..4).prop_flat_map(|d| cloud(d, 9))) {
            let reference = vec![5.5; points.first().map_or(2, Vec::len)];
            let fast = hypervolume(&points, &reference);
            let brute = brute_volume(&points, &reference);
            prop_assert!((fast - brute).abs() <= 1e-9 * brute.max(1.0), "{} vs {}", fast, brute);
        }

        #[test]
        fn a_contribution_is_zero_exactly_for_dominated_or_repeated_points(points in cloud(2, 9)) {
            let reference = vec![5.5, 5.5];
            let c = contributions(&points, &reference);
            for (i, p) in points.iter().enumerate() {
                let covered = points.iter().enumerate().any(|(j, q)| j != i && (dominates(q, p) || q == p));
                prop_assert_eq!(c[i] == 0.0, covered, "point {:?}", p);
            }
        }
    }

    #[test]
    fn crowding_keeps_the_extremes_and_prefers_lonely_points() {
        let points = vec![
            vec![0.0, 4.0],
            vec![1.0, 3.0],
            vec![1.1, 2.9],
            vec![3.0, 1.0],
            vec![4.0, 0.0],
        ];
        let front = fronts(&points).remove(0);
        assert_eq!(front, vec![0, 1, 2, 3, 4]);
        let d = crowding_distance(&points, &front);
        assert!(d[0].is_infinite() && d[4].is_infinite());
        assert!(d[3] > d[1] && d[3] > d[2], "{d:?}");
        assert_eq!(order_by(&d, &front)[..2], [0, 4]);
    }

    #[test]
    fn volumes_by_hand() {
        assert_eq!(hypervolume(&[vec![1.0, 1.0]], &[3.0, 3.0]), 4.0);
        assert_eq!(
            hypervolume(&[vec![1.0, 2.0], vec![2.0, 1.0]], &[3.0, 3.0]),
            3.0
        );
        assert_eq!(hypervolume(&[vec![0.0, 0.0, 0.0]], &[1.0, 2.0, 3.0]), 6.0);
        // Outside the reference box: nothing.
        assert_eq!(hypervolume(&[vec![4.0, 0.0]], &[3.0, 3.0]), 0.0);
    }
}
