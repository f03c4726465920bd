//! Conditional parameters (`when`): conditions are parsed and checked against the space,
//! absent values travel through configurations, the unit cube and command lines, and every
//! sampler proposes only valid configurations of a conditional space.

use hyperband::objective::command::param_env_var;
use hyperband::objective::CommandObjective;
use hyperband::space::INACTIVE_UNIT;
use hyperband::{
    Budgets, Decision, FullBudget, Gp, Hyperband, Job, JobId, Limits, Outcome, Param, Random,
    Sampler, SamplerKind, Settings, Space, SpaceError, Study, Tpe, TrialId, Value,
};
use rand::SeedableRng;

fn cat(s: &str) -> Value {
    Value::Categorical(s.to_string())
}

/// optimizer; momentum only for sgd; nesterov only for sgd with a large momentum; beta2
/// only for adam; layers; width2 only for two layers or more.
fn space() -> Space {
    Space::new(vec![
        Param::categorical("optimizer", &["sgd", "adam", "rmsprop"]),
        Param::float("momentum", 0.0, 0.99)
            .when("optimizer == 'sgd'")
            .unwrap(),
        Param::categorical("nesterov", &["yes", "no"])
            .when("optimizer == 'sgd' and momentum > 0.5")
            .unwrap(),
        Param::log_float("beta2", 0.9, 0.9999)
            .when("optimizer in ['adam']")
            .unwrap(),
        Param::int("layers", 1, 4),
        Param::int("width2", 8, 64)
            .when("(layers >= 2 or optimizer == 'rmsprop')")
            .unwrap(),
    ])
    .unwrap()
}

/// What must hold of every configuration of [`space`].
fn assert_valid(space: &Space, config: &hyperband::Config) {
    space.check(config).unwrap();
    let opt = config.get("optimizer").and_then(Value::as_str).unwrap();
    let momentum = config.f64("momentum");
    assert_eq!(momentum.is_some(), opt == "sgd", "{config}");
    assert_eq!(
        config.get("nesterov").is_some(),
        opt == "sgd" && momentum.unwrap() > 0.5,
        "{config}"
    );
    assert_eq!(config.get("beta2").is_some(), opt == "adam", "{config}");
    let layers = config.get("layers").and_then(Value::as_i64).unwrap();
    assert_eq!(
        config.get("width2").is_some(),
        layers >= 2 || opt == "rmsprop",
        "{config}"
    );
}

fn condition_error(params: Vec<Param>) -> String {
    match Space::new(params) {
        Err(e @ SpaceError::Condition { .. }) => e.to_string(),
        other => panic!("expected a condition error, got {other:?}"),
    }
}

#[test]
fn bad_conditions_are_refused_naming_the_parameter() {
    let opt = || Param::categorical("optimizer", &["sgd", "adam"]);
    let m = |c: &str| Param::float("momentum", 0.0, 0.99).when(c).unwrap();
    // Unknown parameter.
    assert_eq!(
        condition_error(vec![opt(), m("optimiser == 'sgd'")]),
        "parameter `momentum`: condition names `optimiser`, which is not a parameter defined before it"
    );
    // A parameter defined later (this also rules out cycles and self-reference).
    assert_eq!(
        condition_error(vec![m("optimizer == 'sgd'"), opt()]),
        "parameter `momentum`: condition names `optimizer`, which is not a parameter defined before it"
    );
    assert!(condition_error(vec![opt(), m("momentum > 0.1")]).contains("names `momentum`"));
    // Wrong literal type, both ways.
    let e = condition_error(vec![opt(), m("optimizer == 3")]);
    assert!(
        e.starts_with("parameter `momentum`: ")
            && e.contains("categorical parameter `optimizer` with the number 3"),
        "{e}"
    );
    let e = condition_error(vec![Param::int("layers", 1, 4), m("layers == 'two'")]);
    assert!(
        e.contains("numeric parameter `layers` with the string 'two'"),
        "{e}"
    );
    // A choice that is not listed (a typo would make the parameter never active).
    let e = condition_error(vec![opt(), m("optimizer in ['sgd', 'SGD']")]);
    assert!(e.contains("'SGD', which is not one of its choices"), "{e}");
    // Ordering a label.
    let e = condition_error(vec![opt(), m("optimizer < 'sgd'")]);
    assert!(e.contains("only `==`, `!=` and `in`"), "{e}");
    // A syntax error names the parameter too.
    let e = Param::float("momentum", 0.0, 1.0)
        .when("optimizer = 'sgd'")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("parameter `momentum`: condition `optimizer = 'sgd'`: "),
        "{e}"
    );
}

#[test]
fn from_unit_leaves_out_inactive_parameters_and_to_unit_imputes_them() {
    let s = space();
    // optimizer cell 1 of 3 = adam: momentum and nesterov absent, beta2 present.
    let c = s.from_unit(&[0.5, 0.9, 0.9, 0.5, 0.1, 0.5]);
    assert_eq!(c.get("optimizer"), Some(&cat("adam")));
    assert_eq!(c.get("momentum"), None);
    assert_eq!(c.get("nesterov"), None);
    assert!(c.get("beta2").is_some());
    assert_eq!(c.get("layers"), Some(&Value::Int(1)));
    assert_eq!(c.get("width2"), None);
    assert_eq!(c.names().len(), 6, "names() lists every parameter");
    let listed: Vec<&str> = c.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(listed, ["optimizer", "beta2", "layers"]);
    assert_eq!(c.values().len(), 3);
    assert_eq!(
        serde_json::to_value(&c).unwrap().as_object().unwrap().len(),
        3,
        "JSON leaves absent parameters out"
    );
    assert_eq!(c.to_string().matches('=').count(), 3);
    let u = s.to_unit(&c).unwrap();
    assert_eq!(u.len(), 6);
    assert_eq!([u[1], u[2], u[5]], [INACTIVE_UNIT; 3]);
    assert_eq!(
        s.from_unit(&u),
        c,
        "the imputed point maps back to the same configuration"
    );

    // sgd with momentum 0.99 * 0.9 > 0.5: nesterov active; a condition on a present
    // conditional parameter.
    let c = s.from_unit(&[0.1, 0.9, 0.1, 0.5, 0.9, 0.5]);
    assert!(c.f64("momentum").unwrap() > 0.5);
    assert_eq!(c.get("nesterov"), Some(&cat("yes")));
    assert_eq!(c.get("beta2"), None);
    assert_eq!(c.get("width2"), Some(&Value::Int(36)));
    // sgd with a small momentum: nesterov absent.
    let c = s.from_unit(&[0.1, 0.1, 0.1, 0.5, 0.9, 0.5]);
    assert_eq!(c.get("nesterov"), None);

    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut seen_absent = [false; 2];
    for _ in 0..500 {
        let c = s.sample(&mut rng);
        assert_valid(&s, &c);
        seen_absent[c.get("momentum").is_some() as usize] = true;
        let back = s.from_unit(&s.to_unit(&c).unwrap());
        assert_eq!(back.iter().count(), c.iter().count());
    }
    assert_eq!(seen_absent, [true, true]);
}

#[test]
fn a_value_must_be_present_exactly_when_its_condition_holds() {
    let s = space();
    let adam = [
        ("optimizer", cat("adam")),
        ("beta2", Value::Float(0.99)),
        ("layers", Value::Int(1)),
    ];
    let c = s.config(adam.clone()).unwrap();
    assert_eq!(c.get("momentum"), None);
    s.check(&c).unwrap();
    // A value for an inactive parameter is an error naming it.
    let mut extra = adam.to_vec();
    extra.push(("momentum", Value::Float(0.9)));
    let e = s.config(extra).unwrap_err();
    assert_eq!(
        e,
        SpaceError::Inactive {
            name: "momentum".into(),
            when: "optimizer == 'sgd'".into()
        }
    );
    assert!(e.to_string().contains("`momentum`"), "{e}");
    // A missing active one is Missing.
    let e = s
        .config([("optimizer", cat("sgd")), ("layers", Value::Int(1))])
        .unwrap_err();
    assert_eq!(
        e,
        SpaceError::Missing {
            name: "momentum".into()
        }
    );
    // sgd with momentum 0.3: nesterov inactive, so a full sgd config needs no nesterov.
    let c = s
        .config([
            ("optimizer", cat("sgd")),
            ("momentum", Value::Int(0)),
            ("layers", Value::Int(3)),
            ("width2", Value::Int(8)),
        ])
        .unwrap();
    assert_eq!(c.get("momentum"), Some(&Value::Float(0.0)));
    // An active parameter with an out-of-domain value is still OutOfDomain.
    let e = s
        .config([
            ("optimizer", cat("adam")),
            ("beta2", Value::Float(2.0)),
            ("layers", Value::Int(1)),
        ])
        .unwrap_err();
    assert!(matches!(e, SpaceError::OutOfDomain { .. }), "{e:?}");
    // A configuration of another space with the same names is checked for presence.
    let plain = Space::new(vec![
        Param::categorical("optimizer", &["sgd", "adam", "rmsprop"]),
        Param::float("momentum", 0.0, 0.99),
        Param::categorical("nesterov", &["yes", "no"]),
        Param::log_float("beta2", 0.9, 0.9999),
        Param::int("layers", 1, 4),
        Param::int("width2", 8, 64),
    ])
    .unwrap();
    let full = plain.from_unit(&[0.5; 6]);
    assert!(matches!(
        s.check(&full).unwrap_err(),
        SpaceError::Inactive { .. }
    ));
}

#[test]
fn stored_definitions_keep_their_json_and_conditions_round_trip() {
    let p = Param::float("lr", 0.1, 1.0);
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        serde_json::json!({"name": "lr", "type": "float", "low": 0.1, "high": 1.0, "log": false}),
        "a parameter without a condition serialises as before (fingerprints unchanged)"
    );
    let params = space().params().to_vec();
    let json = serde_json::to_string(&params).unwrap();
    assert!(json.contains(r#""when":"optimizer == 'sgd'""#), "{json}");
    let back: Vec<Param> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, params);
    assert_eq!(Space::new(back).unwrap(), space());
    let bad = json.replace("optimizer == 'sgd'", "optimizer ==");
    assert!(serde_json::from_str::<Vec<Param>>(&bad).is_err());
}

fn sampler(kind: SamplerKind) -> Box<dyn Sampler> {
    match kind {
        SamplerKind::Random => Box::new(Random),
        SamplerKind::Tpe => Box::new(Tpe::default()),
        SamplerKind::Gp => Box::new(Gp::default()),
        SamplerKind::MfGp => Box::new(hyperband::MfGp::default()),
    }
}

/// A loss that depends on the conditional parameters, so models have something to fit.
fn loss(job: &Job) -> f64 {
    let c = &job.config;
    let base = match c.get("optimizer").and_then(Value::as_str).unwrap() {
        "sgd" => (c.f64("momentum").unwrap() - 0.9).powi(2),
        "adam" => 0.05 + (c.f64("beta2").unwrap() - 0.999).abs(),
        _ => 0.3,
    };
    let width = c.f64("width2").map_or(0.1, |w| (w - 32.0).abs() / 320.0);
    base + width + 1.0 / job.budget
}

#[test]
fn every_sampler_proposes_valid_configurations_of_a_conditional_space() {
    for kind in [
        SamplerKind::Random,
        SamplerKind::Tpe,
        SamplerKind::Gp,
        SamplerKind::MfGp,
    ] {
        for multi_fidelity in [false, true] {
            let s = space();
            let settings = Settings {
                seed: 11,
                limits: Limits {
                    max_trials: Some(if multi_fidelity { 60 } else { 30 }),
                    ..Limits::default()
                },
                ..Settings::default()
            };
            let scheduler: Box<dyn hyperband::Scheduler> = if multi_fidelity {
                Box::new(Hyperband::new(
                    Budgets::new(1.0, 9.0, 3).unwrap(),
                    hyperband::BracketSizes::Algorithm,
                ))
            } else {
                Box::new(FullBudget::new(1.0))
            };
            let mut study = Study::new(s.clone(), sampler(kind), scheduler, settings);
            let mut jobs = 0;
            let mut sgd = 0;
            loop {
                match study.ask() {
                    Decision::Run(job) => {
                        assert_valid(&s, &job.config);
                        sgd += (job.config.get("momentum").is_some()) as usize;
                        let l = loss(&job);
                        study.tell(job.id, Outcome::loss(l)).unwrap();
                        jobs += 1;
                    }
                    Decision::Wait => panic!("serial runs never wait"),
                    Decision::Done => break,
                }
            }
            assert!(jobs >= 30, "{kind:?}: only {jobs} jobs");
            assert!(
                sgd > 0 && sgd < jobs,
                "{kind:?}: sgd in {sgd} of {jobs} jobs"
            );
        }
    }
}

fn job(config: hyperband::Config) -> Job {
    Job {
        id: JobId(1),
        trial: TrialId(1),
        config,
        budget: 3.0,
        resume_from: 0.0,
        bracket: 0,
        rung: 0,
        attempt: 0,
    }
}

#[test]
fn command_lines_leave_out_absent_parameters_with_their_flag() {
    let s = space();
    let command = CommandObjective::new(
        [
            "train",
            "--optimizer",
            "{optimizer}",
            "--momentum",
            "{momentum}",
            "--beta2={beta2}",
            "-n",
            "{nesterov}",
            "--epochs",
            "{budget}",
            "--batch",
            "{batch}",
            "{width2}",
        ]
        .map(String::from)
        .to_vec(),
    )
    .unwrap()
    .with_fixed("batch", Value::Int(128));
    let adam = s
        .config([
            ("optimizer", cat("adam")),
            ("beta2", Value::Float(0.99)),
            ("layers", Value::Int(1)),
        ])
        .unwrap();
    assert_eq!(
        command.command_line(&job(adam)).unwrap(),
        [
            "train",
            "--optimizer",
            "adam",
            "--beta2=0.99",
            "--epochs",
            "3",
            "--batch",
            "128"
        ]
    );
    let sgd = s
        .config([
            ("optimizer", cat("sgd")),
            ("momentum", Value::Float(0.7)),
            ("nesterov", cat("no")),
            ("layers", Value::Int(2)),
            ("width2", Value::Int(16)),
        ])
        .unwrap();
    assert_eq!(
        command.command_line(&job(sgd)).unwrap(),
        [
            "train",
            "--optimizer",
            "sgd",
            "--momentum",
            "0.7",
            "-n",
            "no",
            "--epochs",
            "3",
            "--batch",
            "128",
            "16"
        ]
    );
    // A placeholder naming neither a parameter nor a fixed one is still an error.
    let bad = CommandObjective::new(vec!["train".into(), "{nope}".into()])
        .unwrap()
        .with_fixed("batch", Value::Int(1));
    let e = bad.command_line(&job(s.from_unit(&[0.5; 6]))).unwrap_err();
    assert!(e.contains("`{nope}`") && e.contains("batch"), "{e}");
}

#[test]
fn absent_parameters_get_no_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("env.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nif [ -n \"${HYPERBAND_PARAM_MOMENTUM+x}\" ]; then echo has-momentum >&2; exit 3; fi\n\
         [ \"$HYPERBAND_PARAM_BATCH\" = 128 ] || exit 4\n\
         case \"$HYPERBAND_CONFIG\" in *momentum*) exit 5;; *'\"batch\":128'*) ;; *) exit 6;; esac\n\
         echo $HYPERBAND_PARAM_BETA2\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(param_env_var("momentum"), "HYPERBAND_PARAM_MOMENTUM");
    let command = CommandObjective::new(vec![script.to_string_lossy().into_owned()])
        .unwrap()
        .with_workdir(dir.path())
        .with_log_dir(dir.path().join("logs"))
        .with_checkpoint_root(dir.path().join("ck"))
        .with_fixed("batch", Value::Int(128));
    let adam = space()
        .config([
            ("optimizer", cat("adam")),
            ("beta2", Value::Float(0.99)),
            ("layers", Value::Int(1)),
        ])
        .unwrap();
    let e = command.run(&job(adam)).unwrap();
    assert_eq!(e.loss, 0.99);
}
