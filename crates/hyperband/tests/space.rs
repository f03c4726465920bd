//! Search spaces: validation messages, unit-cube round trips and bounds.

use hyperband::{Domain, Param, Space, SpaceError, Value};
use proptest::prelude::*;
use rand::SeedableRng;

#[test]
fn errors_name_the_parameter_and_the_problem() {
    let cases: Vec<(Param, &str)> = vec![
        (
            Param::float("lr", 0.1, 0.1),
            "parameter `lr`: low (0.1) must be below high (0.1)",
        ),
        (
            Param::log_float("l2", 0.0, 1.0),
            "parameter `l2`: a log scale needs low > 0, got low = 0",
        ),
        (
            Param::log_int("hidden", -5, 10),
            "parameter `hidden`: a log scale needs low > 0",
        ),
        (
            Param::int("layers", 5, 2),
            "parameter `layers`: low (5) must be below high (2)",
        ),
        (
            Param::float("x", f64::NEG_INFINITY, 1.0),
            "parameter `x`: bounds must be finite",
        ),
        (
            Param::float("y", 0.0, f64::NAN),
            "parameter `y`: bounds must be finite",
        ),
        (
            Param::float("wide", -f64::MAX, f64::MAX),
            "parameter `wide`: the range [-1.7976931348623157e308, 1.7976931348623157e308] is too wide: high - low is not a finite number",
        ),
        (
            Param::float("half", -1e308, 1e308),
            "parameter `half`: the range [-1e308, 1e308] is too wide",
        ),
        (
            Param::categorical::<&str>("act", &[]),
            "parameter `act`: a categorical parameter needs at least one choice",
        ),
        (
            Param::categorical("act", &["relu", "relu"]),
            "parameter `act`: choice `relu` is listed twice",
        ),
    ];
    for (param, want) in cases {
        let err = Space::new(vec![param.clone()]).unwrap_err().to_string();
        assert!(
            err.starts_with(want),
            "{param:?}: got `{err}`, want `{want}`"
        );
    }
    let dup = Space::new(vec![Param::float("a", 0.0, 1.0), Param::int("a", 0, 3)]);
    assert_eq!(
        dup.unwrap_err().to_string(),
        "parameter `a` is defined twice"
    );
    assert_eq!(Space::new(vec![]).unwrap_err(), SpaceError::Empty);
}

#[test]
fn configs_are_checked_against_the_space() {
    let space = Space::new(vec![
        Param::log_float("lr", 1e-3, 1e-1),
        Param::log_int("hidden", 10, 1000),
        Param::categorical("act", &["relu", "tanh"]),
    ])
    .unwrap();
    let ok = space
        .config([
            ("hidden", Value::Int(100)),
            ("lr", Value::Float(0.01)),
            ("act", Value::Categorical("tanh".into())),
        ])
        .unwrap();
    assert_eq!(ok.f64("hidden"), Some(100.0));
    assert_eq!(ok.to_string(), "lr=0.01, hidden=100, act=tanh");
    let err = space
        .config([
            ("hidden", Value::Int(5000)),
            ("lr", Value::Float(0.01)),
            ("act", Value::Categorical("tanh".into())),
        ])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "parameter `hidden`: value 5000 is not in its domain (int in [10, 1000], log)"
    );
    // A whole float where an integer is expected is that integer; 100.5 is not.
    let whole = space
        .config([
            ("hidden", Value::Float(100.0)),
            ("lr", Value::Float(0.01)),
            ("act", Value::Categorical("tanh".into())),
        ])
        .unwrap();
    assert_eq!(whole, ok);
    let err = space
        .config([
            ("hidden", Value::Float(100.5)),
            ("lr", Value::Float(0.01)),
            ("act", Value::Categorical("tanh".into())),
        ])
        .unwrap_err();
    assert!(err.to_string().contains("100.5"), "{err}");
    let err = space.config([("lr", Value::Float(0.01))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "configuration has no value for parameter `hidden`"
    );
    let err = space.config([("momentum", Value::Float(0.9))]).unwrap_err();
    assert!(err.to_string().contains("`momentum`"));
    let err = space
        .config([
            ("hidden", Value::Int(100)),
            ("lr", Value::Float(0.01)),
            ("act", Value::Categorical("gelu".into())),
        ])
        .unwrap_err();
    assert!(err.to_string().contains("gelu"), "{err}");
}

fn domain() -> impl Strategy<Value = Domain> {
    prop_oneof![
        (-1e6f64..1e6, 1e-6f64..1e6, any::<bool>()).prop_map(|(low, width, log)| {
            let low = if log { low.abs().max(1e-9) } else { low };
            Domain::Float {
                low,
                high: low + width.max(low.abs() * 1e-9),
                log,
                step: None,
            }
        }),
        (-1e3f64..1e3, 1e-3f64..10.0, 1u32..500).prop_map(|(low, step, k)| Domain::Float {
            low,
            high: low + f64::from(k) * step,
            log: false,
            step: Some(step),
        }),
        (-1000i64..1000, 1i64..100_000, any::<bool>()).prop_map(|(low, width, log)| {
            let low = if log { low.abs().max(1) } else { low };
            Domain::Int {
                low,
                high: low + width,
                log,
                step: None,
            }
        }),
        (-1000i64..1000, 2i64..64, 1i64..300).prop_map(|(low, step, k)| Domain::Int {
            low,
            high: low + k * step,
            log: false,
            step: Some(step),
        }),
        (1usize..12).prop_map(|k| Domain::Categorical {
            choices: (0..k).map(|i| format!("c{i}")).collect()
        }),
    ]
}

proptest! {
    #[test]
    fn from_unit_lands_in_the_domain_and_round_trips(d in domain(), u in 0.0f64..=1.0) {
        let p = Param::new("p", d.clone());
        let space = Space::new(vec![p.clone()]).unwrap();
        let config = space.from_unit(&[u]);
        let v = &config.values()[0];
        prop_assert!(p.check(v).is_ok(), "{:?} out of {:?}", v, d);
        let back = space.to_unit(&config).unwrap();
        prop_assert!((0.0..=1.0).contains(&back[0]));
        let again = space.from_unit(&back);
        match (&d, v, &again.values()[0]) {
            (Domain::Float { .. }, Value::Float(a), Value::Float(b)) => {
                prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{} vs {}", a, b);
            }
            (_, a, b) => prop_assert_eq!(a, b),
        }
    }

    #[test]
    fn integer_edges_are_reachable(low in -50i64..50, width in 1i64..20, log in any::<bool>()) {
        let low = if log { low.abs().max(1) } else { low };
        let p = Param::new("n", Domain::Int { low, high: low + width, log, step: None });
        prop_assert_eq!(p.from_unit(0.0), Value::Int(low));
        prop_assert_eq!(p.from_unit(1.0), Value::Int(low + width));
        for x in low..=low + width {
            let u = p.to_unit(&Value::Int(x)).unwrap();
            prop_assert_eq!(p.from_unit(u), Value::Int(x));
        }
    }
}

#[test]
fn log_sampling_is_uniform_in_the_exponent() {
    let space = Space::new(vec![Param::log_float("lr", 1e-4, 1.0)]).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let n = 20_000;
    let mut per_decade = [0usize; 4];
    for _ in 0..n {
        let lr = space.sample(&mut rng).f64("lr").unwrap();
        assert!((1e-4..=1.0).contains(&lr));
        per_decade[((-lr.log10()).floor() as usize).min(3)] += 1;
    }
    for count in per_decade {
        assert!(
            (count as f64 / n as f64 - 0.25).abs() < 0.02,
            "{per_decade:?}"
        );
    }
}

#[test]
fn log_int_gives_each_value_its_log_share() {
    // Each integer of [1, 3] covers [x - 0.5, x + 0.5) on the log scale: 1 gets
    // ln(1.5/0.5)/ln(3.5/0.5) = 56%, 2 gets 26%, 3 gets 17%.
    let p = Param::log_int("k", 1, 3);
    let n = 30_000;
    let mut counts = [0usize; 3];
    for i in 0..n {
        let u = (i as f64 + 0.5) / n as f64;
        counts[p.from_unit(u).as_i64().unwrap() as usize - 1] += 1;
    }
    let share = |a: f64, b: f64| (b / a).ln() / 7f64.ln();
    let want = [share(0.5, 1.5), share(1.5, 2.5), share(2.5, 3.5)];
    for (c, w) in counts.iter().zip(want) {
        assert!(
            (*c as f64 / n as f64 - w).abs() < 1e-3,
            "{counts:?} vs {want:?}"
        );
    }
}

#[test]
fn the_widest_accepted_float_range_samples_all_of_it() {
    // Half of f64::MAX on each side: the width is f64::MAX, finite, so it is allowed, and
    // samples land on both sides of 0 rather than all at `high`.
    let space = Space::new(vec![Param::float("x", -f64::MAX / 2.0, f64::MAX / 2.0)]).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let xs: Vec<f64> = (0..200)
        .map(|_| space.sample(&mut rng).f64("x").unwrap())
        .collect();
    assert!(xs.iter().any(|x| *x < 0.0) && xs.iter().any(|x| *x > 0.0));
    assert!(xs.iter().all(|x| x.is_finite()));
}

proptest! {
    /// A stepped parameter takes every grid value, only grid values, both ends included.
    #[test]
    fn stepped_parameters_take_exactly_their_grid(low in -100i64..100, step in 2i64..9, k in 1i64..40, u in 0.0f64..=1.0) {
        let p = Param::new("n", Domain::Int { low, high: low + k * step, log: false, step: Some(step) });
        Space::new(vec![p.clone()]).unwrap();
        let Value::Int(v) = p.from_unit(u) else { panic!("an int") };
        prop_assert!((v - low) % step == 0 && v >= low && v <= low + k * step);
        prop_assert_eq!(p.from_unit(0.0), Value::Int(low));
        prop_assert_eq!(p.from_unit(1.0), Value::Int(low + k * step));
        for i in 0..=k {
            let x = Value::Int(low + i * step);
            prop_assert_eq!(p.from_unit(p.to_unit(&x).unwrap()), x);
        }
        prop_assert!(p.check(&Value::Int(low + 1)).is_err());
        let f = Param::new("f", Domain::Float { low: 0.0, high: 0.1 * k as f64, log: false, step: Some(0.1) });
        Space::new(vec![f.clone()]).unwrap();
        let Value::Float(x) = f.from_unit(u) else { panic!("a float") };
        prop_assert!(((x / 0.1) - (x / 0.1).round()).abs() < 1e-6, "{} is off the grid", x);
        prop_assert!(f.check(&Value::Float(0.05)).is_err());
    }
}

#[test]
fn a_step_must_divide_the_range_and_not_come_with_log() {
    let int = |low, high, log, step| {
        Space::new(vec![Param::new(
            "n",
            Domain::Int {
                low,
                high,
                log,
                step,
            },
        )])
    };
    let float = |low, high, log, step| {
        Space::new(vec![Param::new(
            "x",
            Domain::Float {
                low,
                high,
                log,
                step,
            },
        )])
    };
    for (err, want) in [
        (
            int(0, 10, false, Some(3)).unwrap_err(),
            "step 3 does not divide high - low = 10",
        ),
        (
            int(1, 10, true, Some(3)).unwrap_err(),
            "a step and a log scale",
        ),
        (
            int(0, 10, false, Some(0)).unwrap_err(),
            "step must be an integer > 0",
        ),
        (
            float(0.0, 1.0, false, Some(0.3)).unwrap_err(),
            "step 0.3 does not divide",
        ),
        (
            float(0.0, 1.0, false, Some(-0.5)).unwrap_err(),
            "step must be a number > 0",
        ),
        (
            float(0.1, 1.0, true, Some(0.1)).unwrap_err(),
            "a step and a log scale",
        ),
    ] {
        assert!(err.to_string().contains(want), "{err}");
        assert!(err.to_string().starts_with("parameter `"), "{err}");
    }
    assert!(float(0.0, 1.0, false, Some(0.1)).is_ok());
    // Stored definitions without a step keep their JSON.
    let json = serde_json::to_string(&Param::int("n", 1, 8)).unwrap();
    assert!(!json.contains("step"), "{json}");
}

/// Grids at the edges: one spanning most of i64, and floats whose step almost divides the
/// range (refused by the same rule that accepts grid values).
#[test]
fn extreme_grids_stay_on_their_grid() {
    let wide = Param::new(
        "n",
        Domain::Int {
            low: -5_000_000_000_000_000_000,
            high: 5_000_000_000_000_000_000,
            log: false,
            step: Some(2),
        },
    );
    Space::new(vec![wide.clone()]).unwrap();
    for u in [0.0, 0.3, 0.999_999_999, 1.0] {
        let v = wide.from_unit(u);
        assert!(wide.check(&v).is_ok(), "{v} at {u}");
    }
    assert_eq!(wide.from_unit(1.0), Value::Int(5_000_000_000_000_000_000));
    let float = |high: f64, step: f64| {
        Space::new(vec![Param::new(
            "x",
            Domain::Float {
                low: 0.0,
                high,
                log: false,
                step: Some(step),
            },
        )])
    };
    assert!(float(1e12, 0.7).is_err());
    assert!(float(10.0 - 5e-9, 1e-3).is_err());
    let ok = float(10.0, 1e-3).unwrap();
    let x = &ok.params()[0];
    assert!(x.check(&Value::Float(10.0)).is_ok() && x.check(&Value::Float(9.999)).is_ok());
    assert!(x.check(&Value::Float(10.001)).is_err() && x.check(&Value::Float(9.9995)).is_err());
}
