//! The model-based samplers through the study API: they run inside every scheduler, replay
//! deterministically, and find good configurations faster than random search.

use hyperband::{
    AlgorithmFields, Decision, FullBudget, Gp, Job, Limits, Outcome, Param, Random, Sampler,
    SamplerKind, SchedulerKind, Settings, Space, Study, StudySpec, Tpe,
};
use std::f64::consts::PI;

/// Runs `study` serially to the end; returns the jobs and losses in order.
fn run(study: &mut Study, f: impl Fn(&Job) -> f64) -> Vec<(Job, f64)> {
    let mut log = Vec::new();
    loop {
        match study.ask() {
            Decision::Run(job) => {
                let loss = f(&job);
                study.tell(job.id, Outcome::loss(loss)).unwrap();
                log.push((job, loss));
            }
            Decision::Wait => panic!("serial runs never wait"),
            Decision::Done => return log,
        }
    }
}

fn full_budget(space: Space, sampler: Box<dyn Sampler>, seed: u64, trials: u64) -> Study {
    let settings = Settings {
        seed,
        limits: Limits {
            max_trials: Some(trials),
            ..Limits::default()
        },
        ..Settings::default()
    };
    Study::new(space, sampler, Box::new(FullBudget::new(1.0)), settings)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn branin(x1: f64, x2: f64) -> f64 {
    let b = 5.1 / (4.0 * PI * PI);
    let c = 5.0 / PI;
    let t = 1.0 / (8.0 * PI);
    (x2 - b * x1 * x1 + c * x1 - 6.0).powi(2) + 10.0 * (1.0 - t) * x1.cos() + 10.0
}

#[test]
fn gp_with_full_budget_beats_random_search_on_branin() {
    let space = || {
        Space::new(vec![
            Param::float("x1", -5.0, 10.0),
            Param::float("x2", 0.0, 15.0),
        ])
        .unwrap()
    };
    let f = |j: &Job| branin(j.config.f64("x1").unwrap(), j.config.f64("x2").unwrap());
    let best = |sampler: &dyn Fn() -> Box<dyn Sampler>, seed| {
        let mut study = full_budget(space(), sampler(), seed, 30);
        let log = run(&mut study, f);
        assert_eq!(log.len(), 30);
        log.iter().map(|(_, l)| *l).fold(f64::INFINITY, f64::min)
    };
    let seeds = 0..7;
    let gp = median(
        seeds
            .clone()
            .map(|s| best(&|| Box::new(Gp::default()), s))
            .collect(),
    );
    let random = median(seeds.map(|s| best(&|| Box::new(Random), s)).collect());
    // The global minimum is 0.397887.
    eprintln!("median best of 30: gp {gp}, random {random}");
    assert!(gp < 0.6, "GP median best {gp}, random {random}");
    assert!(gp < random, "GP median best {gp}, random {random}");
}

#[test]
fn tpe_concentrates_near_the_optimum_with_full_budget() {
    let space = || {
        Space::new(vec![
            Param::float("x", 0.0, 1.0),
            Param::float("y", 0.0, 1.0),
        ])
        .unwrap()
    };
    let dist = |j: &Job| {
        let (x, y) = (j.config.f64("x").unwrap(), j.config.f64("y").unwrap());
        ((x - 0.3).powi(2) + (y - 0.7).powi(2)).sqrt()
    };
    let late = |sampler: Box<dyn Sampler>| {
        let mut study = full_budget(space(), sampler, 3, 150);
        let log = run(&mut study, |j| dist(j).powi(2));
        // The last 75 proposals, random share (1/3) included.
        median(log[75..].iter().map(|(j, _)| dist(j)).collect())
    };
    let tpe = late(Box::<Tpe>::default());
    let random = late(Box::new(Random));
    eprintln!("median distance: tpe {tpe}, random {random}");
    assert!(
        tpe < random / 3.0,
        "median distance: tpe {tpe}, random {random}"
    );
}

fn mixed_space() -> Vec<Param> {
    vec![
        Param::log_float("lr", 1e-4, 1e-1),
        Param::float("momentum", 0.0, 0.99),
        Param::int("layers", 1, 4),
        Param::log_int("hidden", 8, 512),
        Param::categorical("act", &["relu", "tanh", "gelu"]),
    ]
}

/// A smooth loss of every parameter type that improves with budget.
fn mixed_loss(j: &Job) -> f64 {
    let c = &j.config;
    let lr = c.f64("lr").unwrap().log10() + 2.0;
    let m = c.f64("momentum").unwrap() - 0.9;
    let layers = c.f64("layers").unwrap() - 2.0;
    let hidden = c.f64("hidden").unwrap().log2() - 7.0;
    let act = if c.get("act").unwrap().as_str() == Some("tanh") {
        0.0
    } else {
        0.5
    };
    lr * lr + m * m + 0.1 * layers * layers + 0.05 * hidden * hidden + act + 1.0 / j.budget
}

fn spec(scheduler: SchedulerKind, sampler: SamplerKind) -> StudySpec {
    StudySpec::new(
        11,
        mixed_space(),
        AlgorithmFields {
            max_brackets: Some(4),
            ..AlgorithmFields::new(scheduler, sampler, 1.0, 27.0)
        }
        .try_into()
        .expect("a valid algorithm"),
    )
}

#[test]
fn bohb_and_gp_run_from_a_spec_and_replay_identically() {
    let cases = [
        (SchedulerKind::Hyperband, SamplerKind::Tpe, 150),
        (SchedulerKind::Asha, SamplerKind::Tpe, 150),
        (SchedulerKind::Hyperband, SamplerKind::Gp, 60),
        (SchedulerKind::FullBudget, SamplerKind::Gp, 60),
        (SchedulerKind::Hyperband, SamplerKind::MfGp, 60),
        (SchedulerKind::Asha, SamplerKind::MfGp, 60),
    ];
    for (scheduler, sampler, jobs) in cases {
        let once = || {
            let limits = Limits {
                max_trials: Some(jobs),
                ..Limits::default()
            };
            let mut study = spec(scheduler, sampler).build(limits).unwrap();
            // Every proposal must lie in the space, or the study panics here.
            run(&mut study, mixed_loss)
        };
        let (a, b) = (once(), once());
        // Hyperband stops after its four brackets (69 jobs), the others at the trial limit.
        assert!(a.len() >= 60, "{scheduler:?} {sampler:?}: {} jobs", a.len());
        let configs = |log: &[(Job, f64)]| log.iter().map(|(j, _)| j.clone()).collect::<Vec<_>>();
        assert_eq!(configs(&a), configs(&b), "{scheduler:?} {sampler:?}");
    }
}

#[test]
fn bohb_finds_better_configurations_than_hyperband() {
    // Same schedule, same seeds; the TPE sampler should help after a few brackets.
    let best = |sampler, seed| {
        let mut s = spec(SchedulerKind::Hyperband, sampler);
        s.seed = seed;
        let mut fields = s.algorithm.fields();
        fields.max_brackets = Some(8);
        s.algorithm = fields.try_into().unwrap();
        let mut study = s.build(Limits::default()).unwrap();
        let log = run(&mut study, mixed_loss);
        log.iter()
            .filter(|(j, _)| j.budget == 27.0)
            .map(|(_, l)| *l)
            .fold(f64::INFINITY, f64::min)
    };
    let seeds = 0..5;
    let bohb = median(seeds.clone().map(|s| best(SamplerKind::Tpe, s)).collect());
    let hb = median(seeds.map(|s| best(SamplerKind::Random, s)).collect());
    eprintln!("median best at full budget: bohb {bohb}, hyperband {hb}");
    assert!(
        bohb < hb,
        "median best at full budget: bohb {bohb}, hyperband {hb}"
    );
}
