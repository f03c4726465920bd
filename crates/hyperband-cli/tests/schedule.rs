//! `hyperband schedule`: the plans issue #2 names, through the real binary.

mod common;

use common::{output_of, schedule_json as schedule};
use serde_json::Value;

fn rungs(plan: &Value) -> Vec<Vec<(u64, f64)>> {
    plan["brackets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b["rungs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r["n"].as_u64().unwrap(), r["budget"].as_f64().unwrap()))
                .collect()
        })
        .collect()
}

#[test]
fn r81_eta3_algorithm_and_table() {
    let alg = schedule(&["--min-budget", "1", "--max-budget", "81", "--eta", "3"]);
    assert_eq!(
        rungs(&alg),
        vec![
            vec![(81, 1.0), (27, 3.0), (9, 9.0), (3, 27.0), (1, 81.0)],
            vec![(34, 3.0), (11, 9.0), (3, 27.0), (1, 81.0)],
            vec![(15, 9.0), (5, 27.0), (1, 81.0)],
            vec![(8, 27.0), (2, 81.0)],
            vec![(5, 81.0)],
        ]
    );
    let s: Vec<u64> = alg["brackets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["s"].as_u64().unwrap())
        .collect();
    assert_eq!(s, vec![4, 3, 2, 1, 0]);
    assert_eq!(alg["brackets"][0]["cost_scratch"], 405.0);
    assert_eq!(alg["brackets"][0]["cost_resume"], 297.0);
    assert_eq!(alg["cost_scratch"], 1902.0);
    assert_eq!(alg["cost_resume"], 1581.0);

    let table = schedule(&["--bracket-sizes", "table"]);
    let firsts: Vec<u64> = rungs(&table).iter().map(|b| b[0].0).collect();
    assert_eq!(firsts, vec![81, 27, 9, 6, 5]);
}

#[test]
fn r243_has_six_brackets() {
    let plan = schedule(&["--max-budget", "243"]);
    assert_eq!(rungs(&plan).len(), 6);
    let plan = schedule(&["--max-budget", "1000", "--eta", "10"]);
    assert_eq!(rungs(&plan).len(), 4);
}

#[test]
fn bad_ranges_exit_with_status_2_and_say_why() {
    let out = output_of(&["schedule", "--min-budget", "10", "--max-budget", "3"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("max_budget (3) must be a finite number at least min_budget (10)"),
        "{err}"
    );
}

#[test]
fn integer_budgets_round_every_rung_and_number_brackets_as_they_run() {
    let plan = schedule(&[
        "--min-budget",
        "1",
        "--max-budget",
        "14",
        "--eta",
        "3",
        "--integer-budgets",
    ]);
    assert_eq!(
        rungs(&plan),
        vec![
            vec![(9, 2.0), (3, 5.0), (1, 14.0)],
            vec![(5, 5.0), (1, 14.0)],
            vec![(3, 14.0)],
        ]
    );
    assert_eq!(plan["integer_budgets"], true);
    let numbers: Vec<(u64, u64)> = plan["brackets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["bracket"].as_u64().unwrap(), b["s"].as_u64().unwrap()))
        .collect();
    assert_eq!(numbers, [(0, 2), (1, 1), (2, 0)]);
    // The paper's costs, on the rounded rungs.
    assert_eq!(
        plan["brackets"][0]["cost_scratch"],
        9.0 * 2.0 + 3.0 * 5.0 + 14.0
    );
}
