//! A simulated cluster: the real study and scheduler, objectives with known costs, and a
//! virtual clock, so that asynchronous schedulers can be measured with hundreds of workers
//! on one machine (Syne Tune's simulator backend does the same).

use crate::job::{Job, Outcome};
use crate::scheduler::Decision;
use crate::study::Study;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A job in flight: when it ends, and what it returns.
struct Running {
    ends: f64,
    order: u64,
    job: Job,
    loss: f64,
}

impl PartialEq for Running {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Running {}
impl PartialOrd for Running {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Running {
    /// Earliest end first (a min-heap through `BinaryHeap`), ties in issue order.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .ends
            .total_cmp(&self.ends)
            .then(other.order.cmp(&self.order))
    }
}

/// What a simulated run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationReport {
    pub jobs: u64,
    /// Virtual time when the last job ended (or the time limit).
    pub end_time: f64,
    /// Worker time spent running jobs, over workers x end time.
    pub utilisation: f64,
}

/// Runs `study` on `workers` virtual workers until it is done or `max_time` passes.
/// `evaluate` returns a job's loss and how long it runs; `observe` sees the study after
/// each result, with the virtual time. Decisions and results happen in virtual-time order,
/// so a run is a pure function of its inputs.
pub fn simulate(
    study: &mut Study,
    workers: usize,
    max_time: f64,
    mut evaluate: impl FnMut(&Job) -> (f64, f64),
    mut observe: impl FnMut(f64, &Study),
) -> SimulationReport {
    let mut running: BinaryHeap<Running> = BinaryHeap::new();
    let (mut now, mut busy, mut jobs, mut order) = (0.0f64, 0.0f64, 0u64, 0u64);
    let mut idle = workers.max(1);
    let mut done = false;
    loop {
        // Every idle worker asks for work at the current time.
        while idle > 0 && !done && now < max_time {
            match study.ask() {
                Decision::Run(job) => {
                    let (loss, duration) = evaluate(&job);
                    let duration = duration.max(0.0);
                    busy += duration.min(max_time - now);
                    running.push(Running {
                        ends: now + duration,
                        order,
                        job,
                        loss,
                    });
                    order += 1;
                    idle -= 1;
                }
                Decision::Wait => break,
                Decision::Done => done = true,
            }
        }
        let Some(next) = running.pop() else {
            break;
        };
        if next.ends > max_time {
            now = max_time;
            break;
        }
        now = next.ends;
        study
            .tell(next.job.id, Outcome::loss(next.loss))
            .expect("the simulator reports each job once");
        jobs += 1;
        idle += 1;
        observe(now, study);
    }
    let end_time = now.max(1e-12);
    SimulationReport {
        jobs,
        end_time,
        utilisation: busy / (workers.max(1) as f64 * end_time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Asha, BracketSizes, Budgets, Hyperband, Param, Random, Settings, Space};

    fn study(asha: bool) -> Study {
        let space = Space::new(vec![Param::float("x", 0.0, 1.0)]).unwrap();
        let budgets = Budgets::new(1.0, 27.0, 3).unwrap();
        let scheduler: Box<dyn crate::Scheduler> = if asha {
            Box::new(Asha::new(budgets))
        } else {
            Box::new(Hyperband::new(budgets, BracketSizes::Algorithm).with_max_brackets(4))
        };
        Study::new(space, Box::new(Random), scheduler, Settings::default())
    }

    fn evaluate(job: &Job) -> (f64, f64) {
        let x = job.config.f64("x").unwrap();
        ((x - 0.4).powi(2) + 1.0 / job.budget, job.budget)
    }

    #[test]
    fn one_worker_runs_jobs_back_to_back() {
        let mut s = study(false);
        let report = simulate(&mut s, 1, f64::INFINITY, evaluate, |_, _| {});
        // One pass over R = 27 brackets, every job charged its budget, no idle time.
        let total: f64 = s.jobs().iter().map(|j| j.assignment.budget).sum();
        assert_eq!(report.jobs, 69);
        assert!((report.end_time - total).abs() < 1e-9);
        assert!((report.utilisation - 1.0).abs() < 1e-12);
    }

    #[test]
    fn asha_keeps_many_workers_busy_and_is_reproducible() {
        let run = || {
            let mut s = study(true);
            let report = simulate(&mut s, 64, 2000.0, evaluate, |_, _| {});
            (report, s.incumbent())
        };
        let (a, inc_a) = run();
        let (b, inc_b) = run();
        assert_eq!(a, b);
        assert_eq!(inc_a, inc_b);
        assert!(a.utilisation > 0.95, "{a:?}");
    }

    #[test]
    fn the_time_limit_stops_the_clock() {
        let mut s = study(true);
        let report = simulate(&mut s, 8, 100.0, evaluate, |t, _| assert!(t <= 100.0));
        assert!(report.end_time <= 100.0);
        assert!(report.utilisation <= 1.0 + 1e-12);
    }
}
