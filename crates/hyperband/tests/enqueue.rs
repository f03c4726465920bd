//! Enqueued configurations: evaluated first, validated against the space, stored in the
//! log so that every worker and every replay agrees, and not enqueued twice on resume.

mod common;

use common::space;
use hyperband::executor::StoreWorker;
use hyperband::storage::{enqueue, EventStore, Replica, SqliteStore};
use hyperband::{
    Asha, BracketSizes, Budgets, Config, Decision, Evaluation, Hyperband, Job, Outcome, Param,
    Settings, Space, Study, Tpe, Value,
};
use std::sync::atomic::AtomicBool;

fn study(seed: u64) -> Study {
    let scheduler = Hyperband::new(Budgets::new(1.0, 27.0, 3).unwrap(), BracketSizes::Algorithm)
        .with_max_brackets(2);
    Study::new(
        space(),
        Box::new(Tpe::default()),
        Box::new(scheduler),
        Settings {
            seed,
            ..Settings::default()
        },
    )
}

fn config(lr: f64, hidden: i64, act: &str) -> Config {
    space()
        .config([
            ("lr", Value::Float(lr)),
            ("hidden", Value::Int(hidden)),
            ("act", Value::Categorical(act.to_string())),
        ])
        .unwrap()
}

fn loss(job: &Job) -> Result<Evaluation, String> {
    let lr = job.config.f64("lr").unwrap();
    Ok(Evaluation::new(
        (lr.log10() + 2.0).powi(2) + 1.0 / job.budget,
    ))
}

#[test]
fn enqueued_configurations_are_the_first_trials_and_the_sampler_goes_on_after_them() {
    let known = [config(0.01, 100, "relu"), config(0.05, 20, "tanh")];
    let mut s = study(3);
    for c in &known {
        s.enqueue(c.clone()).unwrap();
    }
    let mut plain = study(3);
    let mut first = Vec::new();
    for _ in 0..5 {
        let Decision::Run(job) = s.ask() else {
            panic!()
        };
        let Decision::Run(other) = plain.ask() else {
            panic!()
        };
        first.push(job.config.clone());
        s.tell(job.id, Outcome::loss(0.5)).unwrap();
        plain.tell(other.id, Outcome::loss(0.5)).unwrap();
    }
    assert_eq!(first[..2], known);
    assert_eq!(s.enqueued().count(), 0);
    // Trial 2 onwards draw from their own random streams, as without the queue.
    assert_ne!(first[2], known[0]);
    assert_eq!(s.history().trials().len(), 5);
}

#[test]
fn a_configuration_outside_the_space_is_refused_naming_the_parameter() {
    let mut s = study(1);
    let other = Space::new(vec![
        Param::log_float("lr", 1e-3, 1.0),
        Param::log_int("hidden", 10, 1000),
        Param::categorical("act", &["relu", "tanh"]),
    ])
    .unwrap();
    let outside = other
        .config([
            ("lr", Value::Float(0.5)),
            ("hidden", Value::Int(100)),
            ("act", Value::Categorical("relu".into())),
        ])
        .unwrap();
    let err = s.enqueue(outside).unwrap_err().to_string();
    assert!(err.contains("`lr`"), "{err}");
    let missing = Space::new(vec![Param::log_float("lr", 1e-3, 1e-1)])
        .unwrap()
        .config([("lr", Value::Float(0.01))])
        .unwrap();
    let err = s.enqueue(missing).unwrap_err().to_string();
    assert!(err.contains("`hidden`"), "{err}");
}

#[test]
fn stored_enqueues_reach_every_worker_and_replay_and_are_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let (id, _) = store
        .open_study("q", &serde_json::json!({"seed": 1}))
        .unwrap();
    let known = vec![config(0.01, 100, "relu"), config(0.02, 50, "tanh")];
    assert_eq!(enqueue(&mut store, id, &known).unwrap(), 2);
    // Enqueuing the same again (a study file run a second time) adds nothing.
    assert_eq!(enqueue(&mut store, id, &known).unwrap(), 0);
    let fresh = || -> Box<dyn Fn() -> Replica + Send> { Box::new(|| Replica::new("q", study(9))) };
    let mut worker = StoreWorker::new(SqliteStore::open(&path).unwrap(), id, fresh());
    let stop = AtomicBool::new(false);
    worker
        .run(
            || SqliteStore::open(&path),
            loss,
            None,
            &stop,
            &mut |_, _, _| {},
        )
        .unwrap();
    let live = worker.replica().study();
    let trials: Vec<Config> = live
        .history()
        .trials()
        .iter()
        .map(|t| t.config.clone())
        .collect();
    assert_eq!(trials[..2], known[..]);
    let mut replay = Replica::new("q", study(9));
    replay.sync(&mut store, id).unwrap();
    let replayed: Vec<Config> = replay
        .study()
        .history()
        .trials()
        .iter()
        .map(|t| t.config.clone())
        .collect();
    assert_eq!(replayed, trials);
    assert_eq!(replay.study().enqueued().count(), 0);
    // Enqueued after the study ran: started by the next decision, which (the study being
    // done for its brackets) is none; the queue is kept for a resumed run.
    assert_eq!(
        enqueue(&mut store, id, &[config(0.03, 10, "relu")]).unwrap(),
        1
    );
    replay.sync(&mut store, id).unwrap();
    assert_eq!(replay.study().enqueued().count(), 1);
}

#[test]
fn asha_takes_enqueued_trials_first_too() {
    let mut s = Study::new(
        space(),
        Box::new(hyperband::Random),
        Box::new(Asha::new(Budgets::new(1.0, 9.0, 3).unwrap())),
        Settings::default(),
    );
    s.enqueue(config(0.01, 100, "relu")).unwrap();
    let Decision::Run(job) = s.ask() else {
        panic!()
    };
    assert_eq!(job.config, config(0.01, 100, "relu"));
}
