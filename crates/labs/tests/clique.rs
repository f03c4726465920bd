//! The clique lab's claims, checked on seeded random graphs, edge-list files and graphs built
//! to sit on either side of the threshold.

use labs::clique::experiment::{Certificate, TOL};
use labs::clique::graph::Graph;
use labs::clique::{run, CliqueConfig};
use std::path::PathBuf;

fn small(s: f64) -> CliqueConfig {
    CliqueConfig {
        s,
        random: [5, 7, 9, 10]
            .into_iter()
            .flat_map(|n| [(n, 0.3), (n, 0.7)])
            .collect(),
        exhaustive_limit: 10,
        local_search_starts: 15,
        local_search_iterations: 200,
        scaling_sizes: Vec::new(),
        ..CliqueConfig::default()
    }
}

#[test]
fn claim_holds_on_every_seeded_random_graph_at_several_s() {
    for (s, seed) in [(0.6, 1), (0.7, 2), (0.65, 3)] {
        let r = run(&CliqueConfig { seed, ..small(s) }, None).unwrap();
        assert!(r.all_agree, "s = {s}");
        for g in &r.graphs {
            assert!(g.agrees, "{} at s = {s}", g.name);
            // Motzkin-Straus itself, by exhaustive search: max z'Az = 1 - 1/omega.
            let exact = g.critical_s_exhaustive.unwrap();
            assert!((exact - g.critical_s).abs() < 1e-9, "{}", g.name);
            for e in &g.evaluations {
                assert_eq!(e.certificate, Certificate::Exhaustive);
                let predicted_fail = g.max_clique as f64 > e.threshold + TOL;
                assert_eq!(e.zero_is_local_min, !predicted_fail, "{} s={}", g.name, e.s);
            }
        }
        // Not vacuous: both verdicts occur at the requested s.
        assert!(r.graphs.iter().any(|g| g.zero_is_local_min));
        assert!(r.graphs.iter().any(|g| !g.zero_is_local_min));
    }
}

#[test]
fn claim_holds_on_an_edge_list_file() {
    let dir = labs::plot::scratch_dir("clique-file");
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("k5_and_c5.edges");
    // A K5 on 0..5 and a 5-cycle on 5..10 joined by one edge, plus an isolated vertex 10.
    let mut text = String::from("# test graph\nn 11\n");
    for u in 0..5 {
        for v in u + 1..5 {
            text += &format!("{u} {v}\n");
        }
    }
    for i in 0..5 {
        text += &format!("{} {}\n", 5 + i, 5 + (i + 1) % 5);
    }
    text += "4 5\n";
    std::fs::write(&path, text).unwrap();
    for s in [0.5, 0.75, 0.79, 0.8, 0.81, 0.9] {
        let cfg = CliqueConfig {
            random: Vec::new(),
            builtin: false,
            edge_files: vec![path.clone()],
            ..small(s)
        };
        let r = run(&cfg, None).unwrap();
        let g = &r.graphs[0];
        assert_eq!((g.n, g.edges, g.max_clique), (11, 16, 5));
        // 1/(1 - s) < 5 iff s < 0.8.
        assert_eq!(g.zero_is_local_min, s >= 0.8, "s = {s}");
        assert!(g.agrees, "s = {s}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn large_graphs_get_an_explicit_descent_direction_from_the_clique() {
    // 40 vertices is past exhaustive search; a planted 8-clique exceeds 1/(1 - 0.8) = 5.
    let mut g = Graph::random(40, 0.15, 4);
    for u in 30..38 {
        for v in u + 1..38 {
            g.connect(u, v);
        }
    }
    let dir = labs::plot::scratch_dir("clique-planted");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("planted.edges");
    let mut text = format!("n {}\n", g.n);
    for u in 0..g.n {
        for v in u + 1..g.n {
            if g.adjacent(u, v) {
                text += &format!("{u} {v}\n");
            }
        }
    }
    std::fs::write(&path, text).unwrap();
    let cfg = CliqueConfig {
        random: Vec::new(),
        builtin: false,
        edge_files: vec![path],
        ..small(0.8)
    };
    let r = run(&cfg, None).unwrap();
    let g = &r.graphs[0];
    assert!(g.max_clique >= 8);
    let e = &g.evaluations[0];
    assert_eq!(e.certificate, Certificate::DescentDirection);
    assert!(!e.zero_is_local_min && e.agrees);
    // f at the unit clique direction is s - (k - 1)/k.
    let k = g.max_clique as f64;
    assert!((e.descent_value.unwrap() - (0.8 - (k - 1.0) / k)).abs() < 1e-12);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn slide_form_threshold_is_not_a_function_of_the_clique_number() {
    // One edge and the star K(1,m) both have omega = 2; mu differs: 0 and (m - 1)/(3m + 1).
    let cfg = CliqueConfig {
        random: vec![(2, 1.0)],
        builtin: true,
        ..small(0.3)
    };
    let r = run(&cfg, None).unwrap();
    let edge = r.graphs.iter().find(|g| g.n == 2).unwrap();
    let star = r
        .graphs
        .iter()
        .find(|g| g.name.starts_with("star"))
        .unwrap();
    assert_eq!((edge.max_clique, star.max_clique), (2, 2));
    assert!(edge.slide_form.critical_s.unwrap().abs() < 1e-12);
    let m = 5.0;
    assert!((star.slide_form.critical_s.unwrap() - (m - 1.0) / (3.0 * m + 1.0)).abs() < 1e-12);
    // At s = 0.3 the claim (and s11' - A) says "not a local minimizer" for the edge; the
    // slide's I - A + s11' is copositive there.
    let e = &edge.evaluations[0];
    assert!(!e.zero_is_local_min && e.agrees);
    assert_eq!(e.slide_form_local_min, Some(true));
    assert_eq!(e.slide_form_agrees_with_claim, Some(false));
    assert!(r.slide_form_disagreements > 0);
}

#[test]
fn slide_form_is_sandwiched_between_the_two_clique_bounds() {
    let r = run(&small(0.6), None).unwrap();
    assert!(r.slide_form_bounds_hold);
    for g in &r.graphs {
        let mu = g.slide_form.critical_s.unwrap();
        assert!(
            mu >= g.slide_form.lower - 1e-9 && mu < g.slide_form.upper,
            "{}",
            g.name
        );
    }
}

#[test]
fn exact_clique_search_grows_fast_with_n() {
    let cfg = CliqueConfig {
        random: Vec::new(),
        builtin: false,
        scaling_sizes: vec![40, 80, 160],
        ..small(0.7)
    };
    let r = run(&cfg, None).unwrap();
    let nodes: Vec<u64> = r.scaling.iter().map(|p| p.nodes).collect();
    // Doubling n multiplies the search tree by far more than 4 (n^2 would).
    assert!(
        nodes[1] > 4 * nodes[0] && nodes[2] > 8 * nodes[1],
        "{nodes:?}"
    );
}

#[test]
fn json_has_the_keys_other_tools_read() {
    let cfg = CliqueConfig {
        random: vec![(6, 0.5)],
        ..small(0.7)
    };
    let v = serde_json::to_value(run(&cfg, None).unwrap()).unwrap();
    let graphs = v["graphs"].as_array().unwrap();
    assert_eq!(graphs.len(), 3);
    for g in graphs {
        for key in [
            "n",
            "max_clique",
            "threshold",
            "zero_is_local_min",
            "agrees",
        ] {
            assert!(g.get(key).is_some(), "missing {key}");
        }
        assert_eq!(g["agrees"], true);
    }
}

#[test]
fn writes_both_figures() {
    let dir = labs::plot::scratch_dir("clique-figs");
    let cfg = CliqueConfig {
        random: vec![(6, 0.5)],
        scaling_sizes: vec![10, 20],
        ..small(0.7)
    };
    let r = run(&cfg, Some(&dir)).unwrap();
    assert_eq!(r.figures.len(), 2);
    for f in &r.figures {
        assert!(std::fs::read_to_string(f).unwrap().contains("<svg"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
