//! The ask/tell study: determinism, failures, retries, lost jobs, limits and cost accounting.

mod common;

use common::space;
use hyperband::executor::{StopReason, ThreadExecutor};
use hyperband::{
    Asha, BracketSizes, Budgets, CostModel, Decision, Evaluation, FullBudget, Hyperband, Job,
    JobState, Limits, Outcome, Random, Settings, Study, TellError, Told,
};
use std::time::Duration;

fn hyperband_study(seed: u64, settings: Settings) -> Study {
    let budgets = Budgets::new(1.0, 27.0, 3).unwrap();
    let scheduler = Hyperband::new(budgets, BracketSizes::Algorithm).with_max_brackets(4);
    Study::new(
        space(),
        Box::new(Random),
        Box::new(scheduler),
        Settings { seed, ..settings },
    )
}

/// A deterministic objective of config and budget.
fn loss(job: &Job) -> f64 {
    let lr = job.config.f64("lr").unwrap();
    let hidden = job.config.f64("hidden").unwrap();
    (lr.log10() + 2.0).powi(2) + (hidden.log10() - 2.0).powi(2) + 1.0 / job.budget
}

fn serial(study: &mut Study, mut objective: impl FnMut(&Job) -> Outcome) -> Vec<(Job, Outcome)> {
    let mut log = Vec::new();
    loop {
        match study.ask() {
            Decision::Run(job) => {
                let outcome = objective(&job);
                study.tell(job.id, outcome.clone()).unwrap();
                log.push((job, outcome));
            }
            Decision::Wait => panic!("serial runs never wait"),
            Decision::Done => return log,
        }
    }
}

#[test]
fn same_seed_same_jobs_different_seed_different_configs() {
    let run = |seed| {
        let mut study = hyperband_study(seed, Settings::default());
        serial(&mut study, |j| Outcome::loss(loss(j)))
    };
    let a = run(7);
    let b = run(7);
    let c = run(8);
    assert_eq!(a, b);
    assert_eq!(a.len(), c.len());
    assert_ne!(a[0].0.config, c[0].0.config);
    // Four brackets of R=27, eta=3: 40 + 17 + 8 + 4 jobs.
    assert_eq!(a.len(), 69);
}

#[test]
fn the_executor_with_one_worker_matches_a_serial_run() {
    let mut reference = hyperband_study(3, Settings::default());
    let expected = serial(&mut reference, |j| Outcome::loss(loss(j)));
    let mut study = hyperband_study(3, Settings::default());
    let mut seen = Vec::new();
    let report = ThreadExecutor::new(1).run(&mut study, |j| Ok(loss(j).into()), &mut |_, j, o| {
        seen.push((j.clone(), o.clone()))
    });
    assert_eq!(report.stopped, StopReason::Done);
    assert_eq!(seen, expected);
    assert_eq!(study.incumbent(), reference.incumbent());
}

#[test]
fn parallel_workers_finish_every_bracket_and_keep_configs_per_trial() {
    let mut study = hyperband_study(5, Settings::default());
    let report = ThreadExecutor::new(4).run(
        &mut study,
        |j| {
            std::thread::sleep(Duration::from_micros(200 * (j.trial.0 % 5)));
            Ok(loss(j).into())
        },
        &mut |_, _, _| {},
    );
    assert_eq!(report.jobs, 69);
    let mut reference = hyperband_study(5, Settings::default());
    serial(&mut reference, |j| Outcome::loss(loss(j)));
    // Trial t's configuration depends only on (seed, t), not on thread timing.
    let n = study.history().trials().len();
    assert_eq!(n, reference.history().trials().len());
    for t in 0..n {
        assert_eq!(
            study.history().trials()[t].config,
            reference.history().trials()[t].config
        );
    }
}

#[test]
fn nan_and_infinite_losses_are_failures() {
    let mut study = hyperband_study(1, Settings::default());
    let log = serial(&mut study, |j| {
        Outcome::loss(match j.trial.0 % 3 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            _ => loss(j),
        })
    });
    let failed: Vec<_> = study
        .jobs()
        .iter()
        .filter(|r| r.state == JobState::Failed)
        .collect();
    assert!(!failed.is_empty());
    assert!(failed
        .iter()
        .all(|r| r.failure.as_deref().unwrap().contains("loss of")));
    // No failed trial is ever promoted, and the incumbent is a finite loss.
    for (job, _) in &log {
        if job.rung > 0 {
            assert_eq!(job.trial.0 % 3, 2, "{job:?}");
        }
    }
    assert!(study.incumbent().unwrap().loss.is_finite());
}

#[test]
fn failures_are_retried_then_reported() {
    let settings = Settings {
        max_retries: 2,
        ..Settings::default()
    };
    let mut study = Study::new(
        space(),
        Box::new(Random),
        Box::new(FullBudget::new(9.0)),
        Settings {
            limits: Limits {
                max_trials: Some(3),
                ..Limits::default()
            },
            ..settings
        },
    );
    // Trial 1 always fails; trial 2 fails once then succeeds.
    let mut attempts_of_2 = 0;
    let log = serial(&mut study, |j| match j.trial.0 {
        1 => Outcome::failed("boom"),
        2 if attempts_of_2 == 0 => {
            attempts_of_2 += 1;
            Outcome::failed("flaky")
        }
        _ => Outcome::loss(1.0),
    });
    let per_trial = |t: u64| log.iter().filter(|(j, _)| j.trial.0 == t).count();
    assert_eq!((per_trial(0), per_trial(1), per_trial(2)), (1, 3, 2));
    let attempts: Vec<u32> = log
        .iter()
        .filter(|(j, _)| j.trial.0 == 1)
        .map(|(j, _)| j.attempt)
        .collect();
    assert_eq!(attempts, vec![0, 1, 2]);
    let stats = study.stats();
    assert_eq!((stats.finished, stats.failed), (2, 4));
    // Failed jobs ran: they are charged.
    assert_eq!(stats.budget_spent, 6.0 * 9.0);
}

#[test]
fn lost_jobs_are_reissued_and_late_results_not_counted_twice() {
    let mut study = hyperband_study(2, Settings::default());
    let first = match study.ask() {
        Decision::Run(j) => j,
        d => panic!("{d:?}"),
    };
    assert_eq!(study.tell(first.id, Outcome::Lost), Ok(Told::Requeued));
    let again = match study.ask() {
        Decision::Run(j) => j,
        d => panic!("{d:?}"),
    };
    assert_eq!(
        (again.trial, again.budget, again.attempt),
        (first.trial, first.budget, 1)
    );
    assert_ne!(again.id, first.id);
    // The vanished worker reports after all: kept as late, not counted.
    assert_eq!(study.tell(first.id, Outcome::loss(0.5)), Ok(Told::Late));
    assert_eq!(study.tell(again.id, Outcome::loss(0.7)), Ok(Told::Recorded));
    assert_eq!(study.stats().finished, 1);
    assert_eq!(study.history().observations().len(), 1);
    assert_eq!(study.history().observations()[0].loss, 0.7);
    assert_eq!(
        study.tell(again.id, Outcome::loss(0.1)),
        Err(TellError::AlreadyReported(again.id, JobState::Finished))
    );
    assert_eq!(
        study.tell(hyperband::JobId(999), Outcome::loss(0.1)),
        Err(TellError::UnknownJob(hyperband::JobId(999)))
    );
}

#[test]
fn a_job_lost_too_often_becomes_a_failure() {
    let mut study = Study::new(
        space(),
        Box::new(Random),
        Box::new(FullBudget::new(1.0)),
        Settings {
            max_lost: 2,
            limits: Limits {
                max_trials: Some(1),
                ..Limits::default()
            },
            ..Settings::default()
        },
    );
    let log = serial(&mut study, |_| Outcome::Lost);
    assert_eq!(log.len(), 3);
    let last = study.jobs().last().unwrap();
    assert_eq!(last.failure.as_deref(), Some("lost 3 times"));
    assert_eq!(study.ask(), Decision::Done);
}

#[test]
fn budget_limit_stops_issuing() {
    let settings = Settings {
        limits: Limits {
            max_total_budget: Some(100.0),
            ..Limits::default()
        },
        ..Settings::default()
    };
    let budgets = Budgets::new(1.0, 27.0, 3).unwrap();
    let mut study = Study::new(
        space(),
        Box::new(Random),
        Box::new(Hyperband::new(budgets, BracketSizes::Algorithm)),
        settings,
    );
    serial(&mut study, |j| Outcome::loss(loss(j)));
    let spent = study.stats().budget_spent;
    assert!((100.0..100.0 + 27.0).contains(&spent), "{spent}");
}

#[test]
fn resume_cost_model_charges_only_new_budget() {
    let run = |cost| {
        let mut study = Study::new(
            space(),
            Box::new(Random),
            Box::new(
                Hyperband::new(Budgets::new(1.0, 81.0, 3).unwrap(), BracketSizes::Algorithm)
                    .with_max_brackets(5),
            ),
            Settings {
                cost,
                ..Settings::default()
            },
        );
        serial(&mut study, |j| Outcome::loss(loss(j)));
        study.stats().budget_spent
    };
    // The whole R=81, eta=3 iteration: the paper's two cost figures.
    assert_eq!(run(CostModel::Scratch), 1902.0);
    assert_eq!(run(CostModel::Resume), 1581.0);
}

#[test]
fn an_objective_that_did_not_resume_is_charged_in_full() {
    let mut study = Study::new(
        space(),
        Box::new(Random),
        Box::new(
            Hyperband::new(Budgets::new(1.0, 9.0, 3).unwrap(), BracketSizes::Algorithm)
                .with_max_brackets(1),
        ),
        Settings {
            cost: CostModel::Resume,
            ..Settings::default()
        },
    );
    serial(&mut study, |j| {
        Outcome::Finished(Evaluation::new(loss(j)).with_resumed(false))
    });
    // 9 x 1 + 3 x 3 + 1 x 9, as if retrained from scratch.
    assert_eq!(study.stats().budget_spent, 27.0);
}

#[test]
fn panics_and_errors_fail_jobs_and_the_study_carries_on() {
    let mut study = Study::new(
        space(),
        Box::new(Random),
        Box::new(Asha::new(Budgets::new(1.0, 9.0, 3).unwrap())),
        Settings {
            limits: Limits {
                max_trials: Some(30),
                ..Limits::default()
            },
            ..Settings::default()
        },
    );
    let report = ThreadExecutor::new(2).run(
        &mut study,
        |j| match j.trial.0 % 4 {
            0 => panic!("training crashed on trial {}", j.trial),
            1 => Err("out of memory".to_string()),
            _ => Ok(loss(j).into()),
        },
        &mut |_, _, _| {},
    );
    assert_eq!(report.stopped, StopReason::Done);
    let failures: Vec<&str> = study
        .jobs()
        .iter()
        .filter_map(|r| r.failure.as_deref())
        .collect();
    assert_eq!(failures.len(), 16);
    assert!(failures
        .iter()
        .any(|f| f.starts_with("the objective panicked: training crashed on trial")));
    assert!(failures.contains(&"out of memory"));
    assert!(study.stats().finished >= 14);
}

#[test]
fn time_limit_stops_the_executor() {
    let mut study = Study::new(
        space(),
        Box::new(Random),
        Box::new(FullBudget::new(1.0)),
        Settings::default(),
    );
    let report = ThreadExecutor::new(2)
        .with_max_time(Duration::from_millis(200))
        .run(
            &mut study,
            |_| {
                std::thread::sleep(Duration::from_millis(5));
                Ok(1.0.into())
            },
            &mut |_, _, _| {},
        );
    assert_eq!(report.stopped, StopReason::Time);
    assert!(report.jobs > 5);
    assert_eq!(study.stats().running, 0);
}
