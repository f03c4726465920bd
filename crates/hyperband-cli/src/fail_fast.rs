//! Giving up early when a study cannot work: if the first jobs of a run all fail for the
//! same reason, the next hundred will too (a script that prints no number, a metric rule
//! that matches nothing, an `--epochs` that refuses `1.5556`, a missing module), so the run
//! stops after them and says why, with the fix, instead of going through its whole plan.
//!
//! Failures that depend on the configuration are never a reason to stop: a diverging
//! learning rate (a non-finite loss), a timeout, a job killed by the OOM killer. Other trials
//! may well work.

use hyperband::Outcome;
use std::sync::Mutex;

/// How many failures, all alike, of different trials and before any success, end a run.
/// Five, not three: a failure that only some configurations meet (a script that prints
/// `loss: n/a` for a tenth of the space) then ends a working study by chance once in
/// 10^5 runs, not once in 10^3.
pub const FAILURES: usize = 5;

/// What the run has seen so far.
#[derive(Debug, Default)]
pub struct FailFast {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The kind of the failures so far, while they are all alike and nothing succeeded.
    kind: Option<String>,
    /// The trials those failures came from (a retried job counts once).
    trials: Vec<u64>,
    /// A job finished, or failures differed: the study can work; never give up.
    works: bool,
    /// The reason to give up, once decided.
    verdict: Option<String>,
}

impl FailFast {
    /// Records the outcome of a job of `trial`; `true` when the run should stop now.
    /// `has_results`: the study's log holds a finished job (from this run or an earlier
    /// one), so the study can work: a model-based sampler resumed near a failing corner of
    /// the space may well propose five failing configurations in a row.
    pub fn observe(&self, trial: u64, outcome: &Outcome, has_results: bool) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if has_results && s.verdict.is_none() {
            s.works = true;
        }
        if s.works || s.verdict.is_some() {
            return s.verdict.is_some();
        }
        let reason = match outcome {
            Outcome::Finished(_) => {
                s.works = true;
                return false;
            }
            Outcome::Lost | Outcome::Stopped { .. } => return false,
            Outcome::Failed { reason, .. } => reason,
        };
        if depends_on_configuration(reason) {
            s.works = true;
            return false;
        }
        let kind = kind_of(reason);
        match &s.kind {
            Some(k) if *k != kind => {
                s.works = true;
                return false;
            }
            _ => s.kind = Some(kind),
        }
        if !s.trials.contains(&trial) {
            s.trials.push(trial);
        }
        if s.trials.len() >= FAILURES {
            s.verdict = Some(reason.clone());
            return true;
        }
        false
    }

    /// The failure that ended the run, if it was ended so.
    pub fn verdict(&self) -> Option<String> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .verdict
            .clone()
    }
}

fn depends_on_configuration(reason: &str) -> bool {
    let first = reason.lines().next().unwrap_or_default();
    ["not finite", "timeout", "killed by signal"]
        .iter()
        .any(|p| first.contains(p))
}

/// The failure's kind: its first line and its last (a Python traceback's exception), with
/// numbers blanked, so that `exit status 1 ... NameError: x` is one kind whatever the job.
fn kind_of(reason: &str) -> String {
    let lines: Vec<&str> = reason
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let first = lines.first().copied().unwrap_or_default();
    let last = lines.last().copied().unwrap_or_default();
    format!("{first}\n{last}")
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// What to do about a failure, when a common one is recognised.
pub fn hint(reason: &str) -> Option<&'static str> {
    let hints: &[(&str, &str)] = &[
        (
            "is not a number or JSON with `loss`",
            "the program's last line is not its loss: print the loss last, or tell the study \
             where it is with `[objective] metric = { format = \"keras\" }` (or pytorch-examples, \
             lightning, hf-trainer, xgboost, lightgbm, json-lines, key=value), or \
             `metric = { regex = 'val_loss: ([0-9.]+)' }`; `hyperband check STUDY_FILE` runs the \
             program once and shows what each line gives",
        ),
        (
            "matched the metric regex",
            "the metric rule matches no line the program printed: `hyperband check STUDY_FILE` \
             runs it once and shows what the rule reads from each line",
        ),
        (
            "invalid int value",
            "the program takes a whole number where the study passes a fractional budget: set \
             `[algorithm] integer_budgets = true`",
        ),
        (
            "could not start",
            "the program could not be started: check the command's first word (a relative \
             path is taken from the study file's folder)",
        ),
        (
            "No module named",
            "a Python module is missing where the program runs: install it in the interpreter \
             the command names",
        ),
        (
            "before any line announced its budget",
            "the metric rule's budget pattern matches no line before the values: check \
             `budget_regex` (or the format) with `hyperband check STUDY_FILE`",
        ),
        (
            "without printing a value for",
            "the program went past the first rung without a value the rule reads: check \
             `regex` (or the format's `name`) with `hyperband check STUDY_FILE`",
        ),
    ];
    hints
        .iter()
        .find(|(needle, _)| reason.contains(needle))
        .map(|(_, hint)| *hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(reason: &str) -> Outcome {
        Outcome::failed(reason)
    }

    #[test]
    fn five_alike_failures_of_five_trials_before_any_success_end_the_run() {
        let f = FailFast::default();
        let r = "exit status 1\nstderr (last 2 lines of /x/job-3.stderr):\n  NameError: name 'x'";
        for trial in 0..4 {
            assert!(!f.observe(
                trial,
                &failed(&r.replace("job-3", &format!("job-{trial}"))),
                false
            ));
            // A retry of the same trial is no new evidence.
            assert!(!f.observe(trial, &failed(r), false));
        }
        assert!(f.observe(4, &failed(r), false));
        assert!(f.verdict().unwrap().contains("NameError"));
    }

    #[test]
    fn a_success_different_failures_or_configuration_failures_never_end_it() {
        let f = FailFast::default();
        assert!(!f.observe(0, &failed("exit status 1\nA"), false));
        assert!(!f.observe(1, &Outcome::loss(0.5), false));
        for t in 2..10 {
            assert!(!f.observe(t, &failed("exit status 1\nA"), false));
        }
        let f = FailFast::default();
        assert!(!f.observe(0, &failed("exit status 1\nA"), false));
        assert!(!f.observe(1, &failed("exit status 1\nB"), false));
        for t in 2..10 {
            assert!(!f.observe(t, &failed("exit status 1\nA"), false));
        }
        let f = FailFast::default();
        for t in 0..10 {
            assert!(!f.observe(t, &failed("the metric is not finite: NaN"), false));
        }
        assert_eq!(f.verdict(), None);
    }

    #[test]
    fn a_study_with_results_never_gives_up() {
        let f = FailFast::default();
        for t in 0..10 {
            assert!(!f.observe(t, &failed("exit status 1\nA"), true));
        }
    }

    #[test]
    fn common_failures_have_a_fix() {
        assert!(
            hint("last line of stdout is not a number or JSON with `loss`: \"x\"")
                .unwrap()
                .contains("metric = { format")
        );
        assert!(hint("argument --epochs: invalid int value: '1.5'")
            .unwrap()
            .contains("integer_budgets"));
        assert_eq!(hint("something else"), None);
    }
}
