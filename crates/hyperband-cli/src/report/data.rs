//! What the page shows (the report's and the dashboard's), as one JSON document:
//! summaries computed here (best-so-far curves, per-rung counts, failure groups, the
//! latest results) so that the page draws a 50,000-job study without working through
//! every job, and the best trials as columns for the charts.

use hyperband::importance::{self, ImportanceOptions};
use hyperband::storage::{Replica, StorageUrl};
use hyperband::{Domain, JobState, Study, StudySpec};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Learning curves drawn: the best trials' (more would be a tangle, not a picture).
const CURVES: usize = 40;
/// Rows of the best-configurations table.
const TOP: usize = 10;
/// Trials in the point views (parallel coordinates, loss against each parameter), best
/// first: more are not told apart on screen, and a live page fetches them again and again.
const POINTS: usize = 3000;
/// Rows of the latest-results table.
const LATEST: usize = 10;

/// `status --json` plus the page's own fields.
pub fn page_json(replica: &Replica, spec: &StudySpec, url: &StorageUrl) -> Value {
    let study = replica.study();
    let jobs = study.jobs();
    let meta = replica.meta();
    let trials = study.history().trials();

    // Best so far, in the order results arrived.
    let mut order: Vec<usize> = (0..jobs.len())
        .filter(|&i| meta.get(i).and_then(|m| m.ended_at).is_some())
        .collect();
    order.sort_by(|&a, &b| {
        let (ta, tb) = (meta[a].ended_at.unwrap(), meta[b].ended_at.unwrap());
        ta.total_cmp(&tb).then(a.cmp(&b))
    });
    let start = meta
        .iter()
        .map(|m| m.issued_at)
        .fold(f64::INFINITY, f64::min);
    let (mut spent, mut best) = (0.0, None);
    let (mut curve_budget, mut curve_time, mut curve_loss, mut curve_at) =
        (vec![], vec![], vec![], vec![]);
    for &i in &order {
        let job = &jobs[i];
        spent += job.cost;
        if let (JobState::Finished, Some(loss)) = (job.state, job.loss) {
            let budget = job.assignment.budget;
            if hyperband::history::improves(budget, loss, best) {
                best = Some((budget, loss));
                curve_budget.push(spent);
                curve_time.push(meta[i].ended_at.unwrap() - start);
                curve_loss.push(loss);
                curve_at.push(job.assignment.budget);
            }
        }
    }

    // Where the study is now: the best-so-far lines run on to the budget spent and the
    // last result, level after the last improvement, so that a plot shows how long the
    // study went on without one instead of ending at the improvement as if the study had.
    let curve_end = best.map(|_| {
        let last = order.last().map_or(start, |&i| meta[i].ended_at.unwrap());
        json!({"budget": study.stats().budget_spent.max(spent), "time": last - start})
    });

    // Per trial: its highest finished budget and loss there, and its curve.
    let mut reached: Vec<Option<(f64, f64)>> = vec![None; trials.len()];
    let mut points: Vec<Vec<(f64, f64)>> = vec![Vec::new(); trials.len()];
    for job in jobs {
        if let (JobState::Finished, Some(loss)) = (job.state, job.loss) {
            let t = job.assignment.trial.0 as usize;
            points[t].push((job.assignment.budget, loss));
            if hyperband::history::improves(job.assignment.budget, loss, reached[t]) {
                reached[t] = Some((job.assignment.budget, loss));
            }
        }
    }
    let mut ranked: Vec<usize> = (0..trials.len())
        .filter(|&t| reached[t].is_some())
        .collect();
    ranked.sort_by(|&a, &b| {
        let (ra, rb) = (reached[a].unwrap(), reached[b].unwrap());
        rb.0.total_cmp(&ra.0)
            .then(ra.1.total_cmp(&rb.1))
            .then(a.cmp(&b))
    });
    let curves: Vec<Value> = ranked
        .iter()
        .take(CURVES)
        .map(|&t| {
            let mut p = points[t].clone();
            p.sort_by(|a, b| a.0.total_cmp(&b.0));
            json!({ "trial": t, "points": p.iter().map(|(b, l)| json!([b, l])).collect::<Vec<_>>() })
        })
        .collect();
    let top: Vec<Value> = ranked
        .iter()
        .take(TOP)
        .map(|&t| {
            let (budget, loss) = reached[t].unwrap();
            json!({ "trial": t, "budget": budget, "loss": loss, "config": &trials[t].config })
        })
        .collect();

    // Columns of the trials that have a result, for parallel coordinates and scatters.
    let mut columns: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let (mut col_trial, mut col_budget, mut col_loss) = (vec![], vec![], vec![]);
    for &t in ranked.iter().take(POINTS) {
        let (budget, loss) = reached[t].unwrap();
        col_trial.push(t);
        col_budget.push(budget);
        col_loss.push(loss);
        for (name, value) in trials[t].config.iter() {
            columns
                .entry(name.clone())
                .or_default()
                .push(serde_json::to_value(value).expect("values are JSON"));
        }
    }

    // What `status --json` says, and what only the page needs.
    let mut report = crate::inspect::status_json(replica, spec, url);
    let extra = json!({
        "params": spec.space.iter().map(|p| match &p.domain {
            Domain::Float { log, .. } => json!({"name": p.name, "kind": "float", "log": log}),
            Domain::Int { log, .. } => json!({"name": p.name, "kind": "int", "log": log}),
            Domain::Categorical { choices } => json!({"name": p.name, "kind": "categorical", "choices": choices}),
        }).collect::<Vec<_>>(),
        "best_curve": {"budget": curve_budget, "time": curve_time, "loss": curve_loss, "at_budget": curve_at, "end": curve_end},
        "brackets": brackets(replica),
        "curves": curves,
        "top": top,
        "trial_columns": {"trial": col_trial, "budget": col_budget, "loss": col_loss, "params": columns},
        "trials_with_results": ranked.len(),
        "importance": importance_json(study),
        "latest": order.iter().rev().take(LATEST).map(|&i| {
            let (job, a) = (&jobs[i], &jobs[i].assignment);
            json!({
                "job": i, "trial": a.trial.0, "bracket": a.bracket, "rung": a.rung,
                "budget": a.budget, "state": format!("{:?}", job.state).to_lowercase(),
                "loss": job.loss, "ended_at": meta[i].ended_at,
            })
        }).collect::<Vec<_>>(),
        // Each job whose worker vanished (its lease expired), and the job that ran its
        // assignment again, so that a lost job is named rather than only counted.
        "lost": jobs.iter().enumerate()
            .filter(|(_, j)| j.state == JobState::Lost)
            .map(|(i, j)| {
                let a = &j.assignment;
                let rerun = jobs.iter().enumerate().skip(i + 1)
                    .find(|(_, k)| k.assignment == *a)
                    .map(|(k, _)| k);
                json!({
                    "job": i, "trial": a.trial.0, "bracket": a.bracket, "rung": a.rung,
                    "budget": a.budget, "rerun_as": rerun,
                })
            })
            .collect::<Vec<_>>(),
        // Every group, where status lists the most frequent few.
        "failures": crate::inspect::failure_summary(replica)
            .into_iter()
            .map(|(reason, jobs)| json!({"reason": reason, "jobs": jobs}))
            .collect::<Vec<_>>(),
    });
    let fields = report.as_object_mut().expect("status is an object");
    for (key, value) in extra.as_object().expect("an object").clone() {
        fields.insert(key, value);
    }
    report
}

/// Each parameter's importance (PED-ANOVA, [`hyperband::importance`], Optuna's defaults),
/// largest first, and which results it was computed from; or why there is none yet.
fn importance_json(study: &Study) -> Value {
    let options = ImportanceOptions::default();
    match importance::of_study(study, &options) {
        Ok(imp) => json!({
            "quantile": options.quantile,
            "min_results": options.min_results,
            "budget": imp.budget,
            "results": imp.results,
            "top": imp.top,
            "cutoff": imp.cutoff,
            "params": imp.params.iter()
                .map(|(name, share)| json!({"name": name, "importance": share}))
                .collect::<Vec<_>>(),
        }),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

/// Each bracket's rungs: jobs, results, promotions out of the rung, the best loss, and
/// whether it is still running.
fn brackets(replica: &Replica) -> Vec<Value> {
    #[derive(Default)]
    struct Rung {
        budget: f64,
        jobs: u64,
        finished: u64,
        failed: u64,
        running: u64,
        best: Option<f64>,
        trials: BTreeSet<u64>,
    }
    let mut by: BTreeMap<u64, BTreeMap<u32, Rung>> = BTreeMap::new();
    for job in replica.study().jobs() {
        let a = &job.assignment;
        let rung = by.entry(a.bracket).or_default().entry(a.rung).or_default();
        rung.budget = a.budget;
        rung.jobs += 1;
        match job.state {
            JobState::Finished => {
                rung.finished += 1;
                if let Some(loss) = job.loss {
                    rung.best = Some(rung.best.map_or(loss, |b: f64| b.min(loss)));
                }
            }
            JobState::Failed => rung.failed += 1,
            JobState::Running => rung.running += 1,
            JobState::Lost | JobState::Stopped => {}
        }
        rung.trials.insert(a.trial.0);
    }
    by.into_iter()
        .map(|(bracket, rungs)| {
            let keys: Vec<u32> = rungs.keys().copied().collect();
            let rows: Vec<Value> = keys
                .iter()
                .map(|k| {
                    let r = &rungs[k];
                    let promoted = rungs
                        .get(&(k + 1))
                        .map_or(0, |next| r.trials.intersection(&next.trials).count());
                    json!({
                        "rung": k, "budget": r.budget, "trials": r.trials.len(), "jobs": r.jobs,
                        "finished": r.finished, "failed": r.failed, "running": r.running,
                        "promoted": promoted, "best": r.best,
                    })
                })
                .collect();
            json!({ "bracket": bracket, "rungs": rows })
        })
        .collect()
}
