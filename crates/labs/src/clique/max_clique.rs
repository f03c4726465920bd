//! Exact maximum clique by branch and bound (Carraghan-Pardalos): grow a clique, keep only
//! candidates adjacent to all of it, and prune when even taking every candidate could not
//! beat the best clique found. Exponential in the worst case, which is the point the talk
//! makes: deciding whether 0 is a local minimizer of the clique quartic is this hard.

use super::graph::{words, Graph};

/// A maximum clique and the number of search-tree nodes it took to prove it maximum.
#[derive(Debug, Clone)]
pub struct MaxClique {
    pub vertices: Vec<usize>,
    pub nodes: u64,
}

pub fn max_clique(g: &Graph) -> MaxClique {
    let mut all = vec![0u64; words(g.n)];
    for v in 0..g.n {
        all[v / 64] |= 1 << (v % 64);
    }
    let mut search = Search {
        g,
        best: Vec::new(),
        current: Vec::new(),
        nodes: 0,
    };
    search.expand(all);
    let mut vertices = search.best;
    vertices.sort_unstable();
    MaxClique {
        vertices,
        nodes: search.nodes,
    }
}

struct Search<'a> {
    g: &'a Graph,
    best: Vec<usize>,
    current: Vec<usize>,
    nodes: u64,
}

fn count(bits: &[u64]) -> usize {
    bits.iter().map(|w| w.count_ones() as usize).sum()
}

fn first(bits: &[u64]) -> Option<usize> {
    bits.iter()
        .enumerate()
        .find(|(_, w)| **w != 0)
        .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
}

impl Search<'_> {
    fn expand(&mut self, mut candidates: Vec<u64>) {
        self.nodes += 1;
        if self.current.len() > self.best.len() {
            self.best = self.current.clone();
        }
        while let Some(v) = first(&candidates) {
            if self.current.len() + count(&candidates) <= self.best.len() {
                return;
            }
            candidates[v / 64] &= !(1 << (v % 64));
            let next: Vec<u64> = candidates
                .iter()
                .zip(self.g.neighbors_bits(v))
                .map(|(c, nb)| c & nb)
                .collect();
            self.current.push(v);
            self.expand(next);
            self.current.pop();
        }
    }
}

/// Maximum clique size by trying every vertex subset: the reference the tests hold branch and
/// bound to.
pub fn brute_force_clique_number(g: &Graph) -> usize {
    assert!(g.n <= 20, "brute force is for small graphs");
    (0u32..1 << g.n)
        .filter(|&mask| {
            let vs: Vec<usize> = (0..g.n).filter(|&v| mask >> v & 1 == 1).collect();
            g.is_clique(&vs)
        })
        .map(|mask| mask.count_ones() as usize)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_brute_force_on_random_graphs() {
        for seed in 0..30 {
            let n = 4 + (seed as usize % 9);
            let p = [0.2, 0.5, 0.8][seed as usize % 3];
            let g = Graph::random(n, p, seed);
            let mc = max_clique(&g);
            assert!(g.is_clique(&mc.vertices));
            assert_eq!(
                mc.vertices.len(),
                brute_force_clique_number(&g),
                "{}",
                g.name
            );
        }
    }

    #[test]
    fn known_graphs() {
        assert_eq!(max_clique(&Graph::bundled_petersen()).vertices.len(), 2);
        assert_eq!(max_clique(&Graph::star(6)).vertices.len(), 2);
        assert_eq!(max_clique(&Graph::empty("e", 3)).vertices.len(), 1);
        let mut k = Graph::empty("K5+pendant", 70);
        for u in 60..65 {
            for v in u + 1..65 {
                k.connect(u, v);
            }
        }
        k.connect(64, 3);
        assert_eq!(max_clique(&k).vertices, vec![60, 61, 62, 63, 64]);
    }
}
