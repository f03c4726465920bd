//! What a person watching a run sees: a progress bar on a terminal (trials, budget spent of
//! the total, best loss, ETA), or one line per finished job when output goes to a file or
//! a pipe, where a redrawn bar would be noise.

use crate::schedule::fmt_budget;
use hyperband::storage::Replica;
use hyperband::{JobState, Limits};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

pub struct Progress {
    /// Whether to draw a bar at all (a terminal, not `--plain`).
    draw_bar: bool,
    /// Drawn from the first update on, once the log has told the limits it measures against.
    bar: Option<ProgressBar>,
    /// Jobs before this index have all been printed (plain mode).
    printed_upto: usize,
    printed: Vec<bool>,
    start: Instant,
}

impl Progress {
    /// `plain`: one line per job even on a terminal. `stored` is the study as the log held
    /// it before this run's workers started: a resumed study's jobs that had already ended
    /// are summed up in one line, not replayed as if this run had just run them (a finished
    /// study re-run printed its whole history). Jobs still running then are printed when
    /// they end, since that happens during this run.
    pub fn new(plain: bool, start: Instant, stored: &Replica) -> Self {
        let jobs = stored.study().jobs();
        let printed: Vec<bool> = jobs.iter().map(|j| j.state != JobState::Running).collect();
        if !jobs.is_empty() {
            let s = stored.study().stats();
            let mut states = format!("{} finished, {} failed", s.finished, s.failed);
            if s.lost > 0 {
                states += &format!(", {} lost", s.lost);
            }
            if s.stopped > 0 {
                states += &format!(", {} stopped while training", s.stopped);
            }
            if s.running > 0 {
                states += &format!(", {} running", s.running);
            }
            println!(
                "resuming: {} jobs stored ({states}), budget {} spent",
                jobs.len(),
                fmt_budget(s.budget_spent)
            );
        }
        let mut progress = Self {
            draw_bar: !plain && std::io::stdout().is_terminal(),
            bar: None,
            printed_upto: 0,
            printed,
            start,
        };
        progress.advance_printed_upto();
        progress
    }

    fn new_bar(limits: Limits) -> ProgressBar {
        let bar = match (limits.max_total_budget, limits.max_trials) {
            (Some(budget), _) => {
                let bar = ProgressBar::new(budget.ceil() as u64);
                bar.set_style(style(
                    "{elapsed_precise} [{wide_bar}] budget {pos}/{len} (ETA {eta}) {msg}",
                ));
                bar
            }
            (None, Some(trials)) => {
                let bar = ProgressBar::new(trials);
                bar.set_style(style(
                    "{elapsed_precise} [{wide_bar}] trials {pos}/{len} (ETA {eta}) {msg}",
                ));
                bar
            }
            (None, None) => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(style("{elapsed_precise} {spinner} {msg}"));
                bar
            }
        };
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    }

    pub fn update(&mut self, replica: &Replica) {
        let study = replica.study();
        let stats = study.stats();
        let best = study
            .incumbent()
            .map(|o| format!("best {:.5} @ {}", o.loss, fmt_budget(o.budget)))
            .unwrap_or_else(|| "no result yet".to_string());
        let limits = study.settings().limits;
        if self.draw_bar && self.bar.is_none() {
            self.bar = Some(Self::new_bar(limits));
        }
        match &self.bar {
            Some(bar) => {
                if limits.max_total_budget.is_some() {
                    bar.set_position(stats.budget_spent.round() as u64);
                } else if limits.max_trials.is_some() {
                    bar.set_position(stats.trials);
                }
                bar.set_message(format!(
                    "· trials {} · jobs {} ({} running, {} failed) · {best}",
                    stats.trials, stats.finished, stats.running, stats.failed
                ));
            }
            None => self.print_new_jobs(replica, &best),
        }
    }

    fn print_new_jobs(&mut self, replica: &Replica, best: &str) {
        let jobs = replica.study().jobs();
        self.printed.resize(jobs.len(), false);
        for (i, job) in jobs.iter().enumerate().skip(self.printed_upto) {
            if self.printed[i] || job.state == JobState::Running {
                continue;
            }
            self.printed[i] = true;
            let a = &job.assignment;
            let what = match (job.state, job.loss, &job.failure) {
                (JobState::Finished, Some(loss), _) => format!("loss {loss:.6}"),
                (JobState::Lost, ..) => "lost (worker gone)".to_string(),
                (JobState::Stopped, ..) => {
                    "stopped: later results at the rung below ranked its trial out".to_string()
                }
                (_, _, Some(reason)) => {
                    format!("FAILED: {}", reason.lines().next().unwrap_or_default())
                }
                _ => format!("{:?}", job.state),
            };
            println!(
                "[{:>7.1}s] job {i} trial {} budget {}: {what} · {best}",
                self.start.elapsed().as_secs_f64(),
                a.trial,
                fmt_budget(a.budget),
            );
        }
        self.advance_printed_upto();
    }

    fn advance_printed_upto(&mut self) {
        while self.printed_upto < self.printed.len() && self.printed[self.printed_upto] {
            self.printed_upto += 1;
        }
    }

    pub fn finish(&mut self, _replica: &Replica) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("the templates above are valid")
        .progress_chars("=> ")
}
