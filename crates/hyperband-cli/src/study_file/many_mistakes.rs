//! Several mistakes at once: each is reported once, and nothing else.

use super::tests::{edit, parse, EXAMPLE};
use super::StudyFileErrors;
use proptest::prelude::*;

/// The keys of the errors for `text`, in the order they are reported.
fn keys(errors: &StudyFileErrors) -> Vec<&str> {
    errors.0.iter().map(|e| e.key.as_str()).collect()
}

/// `EXAMPLE` with each `(old, new)` applied in turn (each `old` must be there).
fn edits(pairs: &[(&str, &str)]) -> String {
    let mut text = EXAMPLE.to_string();
    for (old, new) in pairs {
        assert!(text.contains(old), "no {old:?} in\n{text}");
        text = text.replacen(old, new, 1);
    }
    text
}

#[test]
fn three_mistakes_in_three_tables_are_three_errors_in_file_order() {
    let text = edits(&[
        (
            "max_total_budget = 2000",
            "max_trials = -1\nmax_total_budget = 2000",
        ),
        ("scheduler = \"hyperband\"", "scheduler = \"hyper-band\""),
        ("low = 1e-3, high = 1e-1", "low = 0.1, high = 0.01"),
    ]);
    let errors = parse(&text).unwrap_err();
    let lines: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        lines,
        [
            "study.toml:12: [space.lr] low (0.1) must be below high (0.01)",
            "study.toml:17: [algorithm] scheduler: unknown scheduler `hyper-band` (expected one \
             of full-budget, sha, hyperband, asha, async-hyperband)",
            "study.toml:25: [run] max_trials: invalid value: integer `-1`, expected a \
             non-negative integer",
        ]
    );
    assert_eq!(
        errors.to_string(),
        format!("3 mistakes in study.toml:\n{}", lines.join("\n"))
    );
}

#[test]
fn a_refused_key_does_not_hide_the_rest_of_its_table() {
    // A wrong type (serde's) and a bad value (ours) in the same table.
    let errors = parse(&edits(&[
        ("workers = 2", "workers = 0\nmax_trials = \"many\""),
        ("max_total_budget = 2000", "max_total_budget = -1"),
    ]))
    .unwrap_err();
    assert_eq!(
        keys(&errors),
        ["run.workers", "run.max_trials", "run.max_total_budget"],
        "{errors}"
    );
    // Two unknown keys and a wrong type in one parameter, and a bad range in another.
    let errors = parse(&edits(&[
        ("log = true }\nhidden", "lg = true, colour = 1 }\nhidden"),
        ("low = 10, high = 1000", "low = 10, high = 5"),
        ("choices = [\"relu\", \"tanh\"]", "choices = 3, x = 1"),
    ]))
    .unwrap_err();
    assert_eq!(
        keys(&errors),
        [
            "space.lr.lg",
            "space.lr.colour",
            "space.hidden.low",
            "space.act.choices",
            "space.act.x"
        ],
        "{errors}"
    );
}

#[test]
fn a_refused_key_is_not_also_reported_missing() {
    for (text, key) in [
        (
            edit("min_budget = 1", "min_budget = \"one\""),
            "algorithm.min_budget",
        ),
        (
            edit("max_budget = 81", "max_budget = \"81\""),
            "algorithm.max_budget",
        ),
        (
            edit("scheduler = \"hyperband\"", "scheduler = 3"),
            "algorithm.scheduler",
        ),
        (edit("\"python3\",", "3,"), "objective.command"),
        (
            edit("command = [", "builtin = 3\n# command = ["),
            "objective.builtin",
        ),
        (edit("{ type = \"float\",", "{ type = 1,"), "space.lr.type"),
        (
            edit("choices = [\"relu\", \"tanh\"]", "choices = \"relu\""),
            "space.act.choices",
        ),
        (edit("name = \"mnist-mlp\"", "name = 1"), "name"),
        (edit("[run]", "[[run]]"), "run"),
    ] {
        let errors = parse(&text).unwrap_err();
        assert_eq!(keys(&errors), [key], "{errors}\n{text}");
    }
}

#[test]
fn checks_that_depend_on_a_wrong_value_stay_quiet() {
    // Whether min_budget or n_configs is needed depends on the scheduler.
    let text = edits(&[
        ("scheduler = \"hyperband\"", "scheduler = \"shaa\""),
        ("min_budget = 1\n", "n_configs = 3\n"),
    ]);
    let errors = parse(&text).unwrap_err();
    assert_eq!(keys(&errors), ["algorithm.scheduler"], "{errors}");
    // Placeholders cannot be checked against a space that is not a table.
    let text = edits(&[(
        "[space]\nlr     = { type = \"float\", low = 1e-3, high = 1e-1, log = true }\n\
         hidden = { type = \"int\", low = 10, high = 1000, log = true }\n\
         act    = { type = \"categorical\", choices = [\"relu\", \"tanh\"] }\n",
        "",
    )])
    .replace("seed = 7", "seed = 7\nspace = 3");
    let errors = parse(&text).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "study.toml:3: space: expected a table of parameters, got integer"
    );
    // A placeholder that names a parameter with a bad range is not reported as well.
    let errors = parse(&edit("low = 10, high = 1000", "low = 10, high = 1")).unwrap_err();
    assert_eq!(keys(&errors), ["space.hidden.low"], "{errors}");
}

#[test]
fn a_bad_parameter_and_a_bad_name_are_two_errors() {
    let errors =
        parse(&edit("act    =", "budget =").replace("[\"relu\", \"tanh\"]", "[]")).unwrap_err();
    assert_eq!(
        keys(&errors),
        ["space.budget", "space.budget.choices"],
        "{errors}"
    );
}

#[test]
fn several_bad_placeholders_are_each_reported() {
    let errors = parse(&edits(&[
        ("\"{lr}\"", "\"{lrr}\""),
        ("\"{hidden}\"", "\"{hiden\""),
    ]))
    .unwrap_err();
    let lines: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
    assert_eq!(lines.len(), 2, "{errors}");
    assert!(
        lines[0].contains("placeholder `{lrr}` names no parameter"),
        "{errors}"
    );
    assert!(lines[1].contains("unclosed `{`"), "{errors}");
}

/// Mistakes that touch different keys: `(key reported, text replaced, replacement)`.
/// Each is independent of the others, so any subset of them is that many errors.
const MISTAKES: &[(&str, &str, &str)] = &[
    ("name", "name = \"mnist-mlp\"", "name = \" \""),
    ("seed", "seed = 7", "seed = \"seven\""),
    ("storage", "sqlite:hyperband.db", "mysql://db"),
    ("colour", "[objective]", "colour = \"red\"\n[objective]"),
    ("objective.timeout", "\"10m\"", "\"10 minutes\""),
    (
        "objective.retries",
        "resumable = false",
        "resumable = false\nretries = \"two\"",
    ),
    ("objective.command", "\"{hidden}\"", "\"{hiden}\""),
    (
        "space.lr.low",
        "low = 1e-3, high = 1e-1",
        "low = 0.1, high = 0.01",
    ),
    ("space.lr.lg", "log = true }\nhidden", "lg = true }\nhidden"),
    ("space.hidden.type", "type = \"int\"", "type = \"integer\""),
    (
        "space.act.choices",
        "[\"relu\", \"tanh\"]",
        "[\"relu\", \"relu\"]",
    ),
    (
        "algorithm.scheduler",
        "scheduler = \"hyperband\"",
        "scheduler = \"hyper-band\"",
    ),
    (
        "algorithm.sampler",
        "sampler = \"random\"",
        "sampler = \"bohb\"",
    ),
    ("algorithm.eta", "eta = 3", "eta = 1"),
    (
        "algorithm.schedular",
        "max_budget = 81",
        "max_budget = 81\nschedular = \"x\"",
    ),
    ("run.workers", "workers = 2", "workers = 0"),
    (
        "run.max_trials",
        "max_total_budget = 2000",
        "max_trials = -1\nmax_total_budget = 2000",
    ),
    ("run.max_time", "[run]", "[run]\nmax_time = \"0s\""),
];

proptest! {
    #[test]
    fn k_independent_mistakes_are_k_errors_each_naming_its_key(
        chosen in proptest::sample::subsequence((0..MISTAKES.len()).collect::<Vec<_>>(), 0..=MISTAKES.len())
    ) {
        let pairs: Vec<(&str, &str)> = chosen.iter().map(|&i| (MISTAKES[i].1, MISTAKES[i].2)).collect();
        let text = edits(&pairs);
        match parse(&text) {
            Ok(_) => prop_assert!(chosen.is_empty(), "accepted:\n{text}"),
            Err(errors) => {
                let mut got = keys(&errors);
                got.sort_unstable();
                let mut expected: Vec<&str> = chosen.iter().map(|&i| MISTAKES[i].0).collect();
                expected.sort_unstable();
                prop_assert_eq!(got, expected, "{}\n{}", errors, text);
                let mut lines: Vec<usize> = errors.0.iter().map(|e| e.line).collect();
                prop_assert!(lines.iter().all(|l| *l > 0), "{}", errors);
                let sorted = { lines.sort_unstable(); lines.clone() };
                prop_assert_eq!(errors.0.iter().map(|e| e.line).collect::<Vec<_>>(), sorted);
            }
        }
    }
}

#[test]
fn a_typo_inside_an_inline_table_does_not_hide_the_tables_other_mistakes() {
    let errors = parse(&edits(&[(
        "resumable = false",
        "metric = { regex = 'loss=([0-9.]+)', step_bugdet = 1, source = 'stdot' }",
    )]))
    .unwrap_err();
    assert_eq!(
        keys(&errors),
        ["objective.metric.step_bugdet", "objective.metric.source"],
        "{errors}"
    );
}

#[test]
fn every_broken_algorithm_rule_is_its_own_error() {
    // sha without n_configs, and eta 1: two rules of the core, two errors at once.
    let text = edits(&[
        ("scheduler = \"hyperband\"", "scheduler = \"sha\""),
        ("eta = 3", "eta = 1"),
    ]);
    let errors = parse(&text).unwrap_err();
    assert_eq!(
        keys(&errors),
        ["algorithm.n_configs", "algorithm.eta"],
        "{errors}"
    );
}
