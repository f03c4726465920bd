//! Simple undirected graphs: seeded random G(n, p), stars, and edge-list files.

use crate::linalg::Mat;
use crate::LabError;
use rand::Rng;
use std::path::Path;

/// An undirected simple graph with adjacency bitsets (for branch and bound) and a name that
/// says where it came from, so every row of a report can be reproduced.
#[derive(Debug, Clone)]
pub struct Graph {
    pub name: String,
    pub n: usize,
    /// `bits[v]` has bit `u` set when u ~ v.
    bits: Vec<Vec<u64>>,
}

pub fn words(n: usize) -> usize {
    n.div_ceil(64).max(1)
}

impl Graph {
    pub fn empty(name: impl Into<String>, n: usize) -> Self {
        Graph {
            name: name.into(),
            n,
            bits: vec![vec![0; words(n)]; n],
        }
    }

    /// Adds the edge u ~ v (idempotent).
    pub fn connect(&mut self, u: usize, v: usize) {
        assert!(u != v && u < self.n && v < self.n);
        self.bits[u][v / 64] |= 1 << (v % 64);
        self.bits[v][u / 64] |= 1 << (u % 64);
    }

    pub fn adjacent(&self, u: usize, v: usize) -> bool {
        self.bits[u][v / 64] >> (v % 64) & 1 == 1
    }

    pub fn neighbors_bits(&self, v: usize) -> &[u64] {
        &self.bits[v]
    }

    pub fn edges(&self) -> usize {
        self.bits
            .iter()
            .map(|b| b.iter().map(|w| w.count_ones() as usize).sum::<usize>())
            .sum::<usize>()
            / 2
    }

    /// Erdos-Renyi G(n, p).
    pub fn random(n: usize, p: f64, seed: u64) -> Self {
        let mut rng = crate::rng::seeded(seed);
        let mut g = Graph::empty(format!("G(n={n}, p={p}) seed {seed}"), n);
        for u in 0..n {
            for v in u + 1..n {
                if rng.random::<f64>() < p {
                    g.connect(u, v);
                }
            }
        }
        g
    }

    /// The star K_{1,m}: center 0. Its max clique is 2 for every m >= 1, which is what makes
    /// it a counterexample for the slide's form (see the module docs).
    pub fn star(m: usize) -> Self {
        let mut g = Graph::empty(format!("star K(1,{m})"), m + 1);
        for v in 1..=m {
            g.connect(0, v);
        }
        g
    }

    /// The adjacency matrix A (zero diagonal).
    pub fn adjacency(&self) -> Mat {
        let mut a = Mat::zeros(self.n, self.n);
        for u in 0..self.n {
            for v in 0..self.n {
                if u != v && self.adjacent(u, v) {
                    a[(u, v)] = 1.0;
                }
            }
        }
        a
    }

    pub fn is_clique(&self, vs: &[usize]) -> bool {
        vs.iter()
            .enumerate()
            .all(|(i, &u)| vs[i + 1..].iter().all(|&v| self.adjacent(u, v)))
    }

    /// Parses an edge list: "u v" per line (0-based), '#' comments, optional "n N" line.
    pub fn parse_edge_list(name: &str, text: &str, path: &Path) -> Result<Self, LabError> {
        let err = |line: usize, message: String| LabError::Parse {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut declared = None;
        let mut edges = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let num = |t: &str| {
                t.parse::<usize>()
                    .map_err(|_| err(i + 1, format!("expected a vertex id, got {t:?}")))
            };
            match tokens.as_slice() {
                ["n", count] => declared = Some(num(count)?),
                [u, v] => {
                    let (u, v) = (num(u)?, num(v)?);
                    if u == v {
                        return Err(err(i + 1, format!("self-loop at vertex {u}")));
                    }
                    edges.push((u, v));
                }
                _ => return Err(err(i + 1, format!("expected \"u v\", got {line:?}"))),
            }
        }
        let max_id = edges.iter().map(|&(u, v)| u.max(v) + 1).max().unwrap_or(0);
        let n = match declared {
            Some(n) if n < max_id => {
                return Err(err(
                    0,
                    format!("declares n {n} but uses vertex {}", max_id - 1),
                ))
            }
            Some(n) => n,
            None => max_id,
        };
        let mut g = Graph::empty(name, n);
        for (u, v) in edges {
            g.connect(u, v);
        }
        Ok(g)
    }

    pub fn read_edge_list(path: &Path) -> Result<Self, LabError> {
        let text = std::fs::read_to_string(path).map_err(|source| LabError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Graph::parse_edge_list(&path.display().to_string(), &text, path)
    }

    /// The Petersen graph shipped in `data/petersen.edges`, so the default run always includes
    /// a graph that went through the edge-list reader.
    pub fn bundled_petersen() -> Self {
        let text = include_str!("../../data/petersen.edges");
        Graph::parse_edge_list(
            "data/petersen.edges",
            text,
            Path::new("data/petersen.edges"),
        )
        .expect("bundled file parses")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_petersen_is_three_regular_with_fifteen_edges() {
        let g = Graph::bundled_petersen();
        assert_eq!((g.n, g.edges()), (10, 15));
        let a = g.adjacency();
        for u in 0..10 {
            assert_eq!((0..10).filter(|&v| a[(u, v)] == 1.0).count(), 3);
        }
    }

    #[test]
    fn edge_list_errors_name_the_line() {
        let p = Path::new("x.edges");
        let e = Graph::parse_edge_list("x", "0 1\n2 2\n", p).unwrap_err();
        assert!(e.to_string().contains("x.edges:2"), "{e}");
        assert!(Graph::parse_edge_list("x", "0 1 2\n", p).is_err());
        assert!(Graph::parse_edge_list("x", "n 2\n0 5\n", p).is_err());
        let g = Graph::parse_edge_list("x", "n 5 # isolated 4\n0 1\n1 0\n", p).unwrap();
        assert_eq!((g.n, g.edges()), (5, 1));
    }
}
