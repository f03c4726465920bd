//! The clique experiment: for each graph, find omega exactly, predict from the claim whether 0
//! is a local minimizer of f for Q = s 11' - A, and check the prediction independently at the
//! requested s and at s just below, at and just above the critical s_c = 1 - 1/omega.

use super::graph::Graph;
use super::max_clique::max_clique;
use super::quartic::{build_q, clique_direction, sphere_search, value, Form};
use super::simplex::{simplex_max, simplex_min};
use crate::linalg::Mat;
use crate::plot::{Chart, Series};
use crate::LabError;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Values within this of 0 count as 0 (the borderline s = s_c has minimum exactly 0).
pub const TOL: f64 = 1e-9;

#[derive(Debug, Clone)]
pub struct CliqueConfig {
    pub seed: u64,
    /// The s at which every graph is reported (must be < 1).
    pub s: f64,
    /// Random graphs G(n, p); graph i uses seed `seed + i`.
    pub random: Vec<(usize, f64)>,
    pub edge_files: Vec<PathBuf>,
    /// Add the bundled Petersen graph (read through the edge-list parser) and a star.
    pub builtin: bool,
    /// Exhaustive copositivity search up to this many vertices (2^n supports).
    pub exhaustive_limit: usize,
    pub local_search_starts: usize,
    pub local_search_iterations: usize,
    /// Sizes for the max-clique timing on G(n, scaling_p).
    pub scaling_sizes: Vec<usize>,
    pub scaling_p: f64,
}

impl Default for CliqueConfig {
    fn default() -> Self {
        CliqueConfig {
            seed: 7,
            s: 0.7,
            random: [6, 8, 10, 12, 14]
                .into_iter()
                .flat_map(|n| [(n, 0.3), (n, 0.6)])
                .collect(),
            edge_files: Vec::new(),
            builtin: true,
            exhaustive_limit: 16,
            local_search_starts: 40,
            local_search_iterations: 400,
            scaling_sizes: vec![50, 100, 150, 200, 250, 300],
            scaling_p: 0.5,
        }
    }
}

/// How the verdict on 0 was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Certificate {
    /// Exact minimum over the simplex by support enumeration (either verdict).
    Exhaustive,
    /// Too large to enumerate; an explicit x with f(x) < 0 proves "not a local minimizer".
    DescentDirection,
    /// Too large to enumerate and no descent found: evidence, not proof.
    LocalSearch,
}

/// One (graph, s) check.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub s: f64,
    /// 1 / (1 - s): the claim says 0 is not a local minimizer iff omega exceeds it.
    pub threshold: f64,
    pub predicted_local_min: bool,
    pub zero_is_local_min: bool,
    pub certificate: Certificate,
    /// min over the simplex of y'Qy (exhaustive), when n is small enough.
    pub simplex_min: Option<f64>,
    /// f at the unit clique direction, when the clique exceeds the threshold.
    pub descent_value: Option<f64>,
    pub local_search_min: f64,
    /// Prediction equals the verdict, the clique direction descends when predicted, and local
    /// search finds no descent when 0 is predicted a local minimizer.
    pub agrees: bool,
    /// The slide's Q = I - A + s 11' at the same s (exhaustive only).
    pub slide_form_local_min: Option<bool>,
    pub slide_form_agrees_with_claim: Option<bool>,
}

/// The slide's form for one graph.
#[derive(Debug, Clone, Serialize)]
pub struct SlideForm {
    /// mu(G) = max over the simplex of z'(A - I)z: 0 is a local minimizer iff s >= mu.
    pub critical_s: Option<f64>,
    /// 1 - 2/omega <= mu < 1 - 1/omega.
    pub lower: f64,
    pub upper: f64,
    pub bounds_hold: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphResult {
    pub name: String,
    pub n: usize,
    pub edges: usize,
    pub max_clique: usize,
    pub clique: Vec<usize>,
    pub clique_nodes: u64,
    pub clique_seconds: f64,
    /// The requested s and the verdict there.
    pub s: f64,
    pub threshold: f64,
    pub zero_is_local_min: bool,
    /// Every evaluation of this graph agrees with the claim.
    pub agrees: bool,
    /// 1 - 1/omega, from Motzkin-Straus.
    pub critical_s: f64,
    /// max over the simplex of z'Az by exhaustive search: must equal `critical_s`.
    pub critical_s_exhaustive: Option<f64>,
    pub exhaustive_seconds: Option<f64>,
    pub evaluations: Vec<Evaluation>,
    pub slide_form: SlideForm,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScalingPoint {
    pub n: usize,
    pub p: f64,
    pub max_clique: usize,
    pub nodes: u64,
    pub seconds: f64,
    /// ln(nodes / previous nodes) / ln(n / previous n): the local polynomial degree. It keeps
    /// rising with n, which is what super-polynomial growth looks like.
    pub growth_exponent: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CliqueReport {
    pub s: f64,
    pub threshold: f64,
    pub graphs: Vec<GraphResult>,
    pub all_agree: bool,
    pub evaluations: usize,
    /// (graph, s) pairs where Q = I - A + s 11' contradicts the claim.
    pub slide_form_disagreements: usize,
    pub slide_form_bounds_hold: bool,
    pub scaling: Vec<ScalingPoint>,
    pub figures: Vec<String>,
}

fn evaluate(g: &Graph, a: &Mat, clique: &[usize], s: f64, cfg: &CliqueConfig) -> Evaluation {
    let omega = clique.len();
    let threshold = 1.0 / (1.0 - s);
    let predicted_local_min = omega as f64 <= threshold + TOL;
    let q = build_q(a, s, Form::MotzkinStraus);
    let exhaustive = g.n <= cfg.exhaustive_limit && g.n > 0;
    let simplex = exhaustive.then(|| simplex_min(&q).0);
    let descent_value = (!predicted_local_min).then(|| value(&q, &clique_direction(g.n, clique)));
    // The search is seeded per (graph, s) so each evaluation is reproducible on its own.
    let mut rng = crate::rng::seeded(cfg.seed ^ (s.to_bits().rotate_left(17)) ^ g.n as u64);
    let local_search_min = if g.n == 0 {
        0.0
    } else {
        sphere_search(
            &q,
            cfg.local_search_starts,
            cfg.local_search_iterations,
            -TOL,
            &mut rng,
        )
    };
    let (zero_is_local_min, certificate) = match simplex {
        Some(m) => (m >= -TOL, Certificate::Exhaustive),
        None if descent_value.is_some_and(|v| v < -TOL) || local_search_min < -TOL => {
            (false, Certificate::DescentDirection)
        }
        None => (true, Certificate::LocalSearch),
    };
    let agrees = predicted_local_min == zero_is_local_min
        && descent_value.is_none_or(|v| v < -TOL)
        && (!predicted_local_min || local_search_min >= -TOL);
    let slide_form_local_min =
        exhaustive.then(|| simplex_min(&build_q(a, s, Form::Slide)).0 >= -TOL);
    Evaluation {
        s,
        threshold,
        predicted_local_min,
        zero_is_local_min,
        certificate,
        simplex_min: simplex,
        descent_value,
        local_search_min,
        agrees,
        slide_form_local_min,
        slide_form_agrees_with_claim: slide_form_local_min.map(|v| v == predicted_local_min),
    }
}

fn check_graph(g: &Graph, cfg: &CliqueConfig) -> GraphResult {
    let t0 = Instant::now();
    let mc = max_clique(g);
    let clique_seconds = t0.elapsed().as_secs_f64();
    let omega = mc.vertices.len();
    let a = g.adjacency();
    let critical_s = 1.0 - 1.0 / omega.max(1) as f64;
    let exhaustive = g.n <= cfg.exhaustive_limit && g.n > 0;
    let t1 = Instant::now();
    let critical_s_exhaustive = exhaustive.then(|| simplex_max(&a).0);
    let mu = exhaustive.then(|| {
        let a_minus_i = a.plus_identity(-1.0);
        simplex_max(&a_minus_i).0
    });
    let delta = 0.05f64.min((1.0 - critical_s) / 2.0);
    let mut evaluations = vec![evaluate(g, &a, &mc.vertices, cfg.s, cfg)];
    for s in [critical_s - delta, critical_s, critical_s + delta] {
        evaluations.push(evaluate(g, &a, &mc.vertices, s, cfg));
    }
    let exhaustive_seconds = exhaustive.then(|| t1.elapsed().as_secs_f64());
    let lower = 1.0 - 2.0 / omega.max(1) as f64;
    let upper = critical_s;
    let main = &evaluations[0];
    GraphResult {
        name: g.name.clone(),
        n: g.n,
        edges: g.edges(),
        max_clique: omega,
        clique: mc.vertices.clone(),
        clique_nodes: mc.nodes,
        clique_seconds,
        s: cfg.s,
        threshold: main.threshold,
        zero_is_local_min: main.zero_is_local_min,
        agrees: evaluations.iter().all(|e| e.agrees)
            && critical_s_exhaustive.is_none_or(|c| (c - critical_s).abs() < 1e-9),
        critical_s,
        critical_s_exhaustive,
        exhaustive_seconds,
        evaluations,
        slide_form: SlideForm {
            critical_s: mu,
            lower,
            upper,
            bounds_hold: mu.map(|m| m >= lower - 1e-9 && m < upper + 1e-9),
        },
    }
}

pub fn run(cfg: &CliqueConfig, figures: Option<&Path>) -> Result<CliqueReport, LabError> {
    if cfg.s.is_nan() || cfg.s >= 1.0 {
        return Err(LabError::Invalid(format!(
            "s must be below 1 (the threshold is 1/(1 - s)), got {}",
            cfg.s
        )));
    }
    if cfg.exhaustive_limit > super::simplex::MAX_DIM {
        return Err(LabError::Invalid(format!(
            "exhaustive limit is at most {}",
            super::simplex::MAX_DIM
        )));
    }
    let mut graphs = Vec::new();
    if cfg.builtin {
        graphs.push(Graph::bundled_petersen());
        graphs.push(Graph::star(5));
    }
    for path in &cfg.edge_files {
        graphs.push(Graph::read_edge_list(path)?);
    }
    for (i, &(n, p)) in cfg.random.iter().enumerate() {
        graphs.push(Graph::random(n, p, cfg.seed.wrapping_add(i as u64)));
    }
    let results: Vec<GraphResult> = graphs.iter().map(|g| check_graph(g, cfg)).collect();
    let mut scaling: Vec<ScalingPoint> = cfg
        .scaling_sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let g = Graph::random(n, cfg.scaling_p, cfg.seed.wrapping_add(1000 + i as u64));
            let t0 = Instant::now();
            let mc = max_clique(&g);
            ScalingPoint {
                n,
                p: cfg.scaling_p,
                max_clique: mc.vertices.len(),
                nodes: mc.nodes,
                seconds: t0.elapsed().as_secs_f64(),
                growth_exponent: None,
            }
        })
        .collect();
    for i in 1..scaling.len() {
        let (a, b) = (&scaling[i - 1], &scaling[i]);
        if b.n > a.n && a.nodes > 0 {
            let e = (b.nodes as f64 / a.nodes as f64).ln() / (b.n as f64 / a.n as f64).ln();
            scaling[i].growth_exponent = Some(e);
        }
    }
    let evals = results.iter().flat_map(|g| &g.evaluations);
    let mut report = CliqueReport {
        s: cfg.s,
        threshold: 1.0 / (1.0 - cfg.s),
        all_agree: results.iter().all(|g| g.agrees),
        evaluations: evals.clone().count(),
        slide_form_disagreements: evals
            .filter(|e| e.slide_form_agrees_with_claim == Some(false))
            .count(),
        slide_form_bounds_hold: results
            .iter()
            .all(|g| g.slide_form.bounds_hold != Some(false)),
        graphs: results,
        scaling,
        figures: Vec::new(),
    };
    if let Some(dir) = figures {
        report.figures = write_figures(&report, dir)?;
    }
    Ok(report)
}

fn write_figures(r: &CliqueReport, dir: &Path) -> Result<Vec<String>, LabError> {
    let p1 = dir.join("clique_threshold.svg");
    let mut c = Chart::new(
        "Critical s against clique number: s11' - A on 1 - 1/w; I - A + s11' scattered",
        "max clique w",
        "critical s",
    );
    let w_max = r
        .graphs
        .iter()
        .map(|g| g.max_clique)
        .max()
        .unwrap_or(2)
        .max(2);
    let curve = |f: fn(f64) -> f64| -> Vec<(f64, f64)> {
        (0..=100)
            .map(|i| 1.0 + (w_max as f64 - 1.0) * i as f64 / 100.0)
            .map(|w| (w, f(w)))
            .collect()
    };
    c.series.push(Series::line(
        "1 - 1/w (Motzkin-Straus)",
        0,
        curve(|w| 1.0 - 1.0 / w),
    ));
    c.series
        .push(Series::line("1 - 2/w", 2, curve(|w| 1.0 - 2.0 / w)));
    let pts = |f: fn(&GraphResult) -> Option<f64>| -> Vec<(f64, f64)> {
        r.graphs
            .iter()
            .filter_map(|g| f(g).map(|v| (g.max_clique as f64, v)))
            .collect()
    };
    c.series.push(Series::dots(
        "s11' - A: exhaustive critical s",
        0,
        pts(|g| g.critical_s_exhaustive),
    ));
    c.series.push(Series::dots(
        "I - A + s11': exhaustive critical s",
        1,
        pts(|g| g.slide_form.critical_s),
    ));
    c.write_svg(&p1)?;

    let p2 = dir.join("clique_scaling.svg");
    let mut c = Chart::new(
        &format!(
            "Exact max clique (branch and bound) on G(n, {}): search nodes and time",
            r.scaling.first().map_or(0.5, |s| s.p)
        ),
        "n",
        "count or microseconds",
    );
    c.log_y = true;
    c.series.push(Series::line(
        "search-tree nodes",
        0,
        r.scaling
            .iter()
            .map(|s| (s.n as f64, s.nodes as f64))
            .collect(),
    ));
    c.series.push(Series::line(
        "time (microseconds)",
        1,
        r.scaling
            .iter()
            .map(|s| (s.n as f64, s.seconds * 1e6))
            .collect(),
    ));
    c.write_svg(&p2)?;
    Ok(vec![p1.display().to_string(), p2.display().to_string()])
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl CliqueReport {
    pub fn table(&self) -> String {
        let mut s = format!(
            "f(x) = sum Q_ij x_i^2 x_j^2 with Q = s 11' - A at s = {}: claim says 0 is not a local \
             minimizer iff max clique > 1/(1 - s) = {:.4}\n\n",
            self.s, self.threshold
        );
        s += &format!(
            "{:<32} {:>3} {:>5} {:>3} {:>9} {:>10} {:>11} {:>9} {:>7} {:>9} {:>6}\n",
            "graph",
            "n",
            "edges",
            "w",
            "local min",
            "certified",
            "simplex min",
            "1 - 1/w",
            "mu",
            "clique s",
            "agrees"
        );
        for g in &self.graphs {
            let e = &g.evaluations[0];
            let cert = serde_json::to_value(e.certificate).expect("enum serializes");
            let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
            s += &format!(
                "{:<32} {:>3} {:>5} {:>3} {:>9} {:>10} {:>11} {:>9.4} {:>7} {:>9.2e} {:>6}\n",
                g.name,
                g.n,
                g.edges,
                g.max_clique,
                yes_no(g.zero_is_local_min),
                cert.as_str().unwrap_or("?"),
                opt(e.simplex_min),
                g.critical_s,
                opt(g.slide_form.critical_s),
                g.clique_seconds,
                yes_no(g.agrees),
            );
        }
        s += &format!(
            "\nclaim agrees on all {} graphs ({} (graph, s) checks incl. s = 1 - 1/w and +-delta): {}\n",
            self.graphs.len(),
            self.evaluations,
            yes_no(self.all_agree)
        );
        s += &format!(
            "slide's Q = I - A + s 11' (threshold mu = max z'(A - I)z, 1 - 2/w <= mu < 1 - 1/w: {}): \
             contradicts the claim on {} of those checks\n\n",
            yes_no(self.slide_form_bounds_hold),
            self.slide_form_disagreements
        );
        s += "exact max clique by branch and bound:\n";
        s += &format!(
            "{:>5} {:>5} {:>3} {:>12} {:>10} {:>17}\n",
            "n", "p", "w", "nodes", "seconds", "nodes ~ n^(this)"
        );
        for p in &self.scaling {
            let e = p.growth_exponent.map_or("-".into(), |e| format!("{e:.2}"));
            s += &format!(
                "{:>5} {:>5} {:>3} {:>12} {:>10.2e} {:>17}\n",
                p.n, p.p, p.max_clique, p.nodes, p.seconds, e
            );
        }
        for f in &self.figures {
            s += &format!("figure: {f}\n");
        }
        s
    }
}
