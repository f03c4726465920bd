//! Stop mode for commands: the program is followed while it runs. Its metric source is
//! read as it grows, every value is reported to the stopping rule, and a program told to
//! stop gets SIGTERM on its process group, then SIGKILL after a grace period.

use super::metric::{lines::Follow, quote, CurvePoint, MetricRule};
use super::process::{describe_status, exited_unreaped, kill_group};
use super::{evaluate_metric, os_msg, with_stderr_tail, CommandObjective, Spawned};
use crate::job::{Evaluation, Job};
use crate::objective::{Monitor, Verdict};
use std::time::{Duration, Instant};

/// How often the output is read while the program runs: a rung's decision comes at most
/// this much after the program printed its value.
const POLL: Duration = Duration::from_millis(20);
/// How long a stopped program has to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// SIGTERM to the program's group, SIGKILL once `grace` has passed; returns when it exited.
fn terminate(pid: u32, grace: Duration) {
    // SAFETY: kill has no memory effects; a group that is already gone gives ESRCH.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGTERM);
    }
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if exited_unreaped(pid, true).unwrap_or(true) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    kill_group(pid);
}

impl CommandObjective {
    /// Runs the program for `job` under a stopping rule: each value its metric rule reads
    /// (with its budget) is reported to `monitor` as soon as it is written, and the program
    /// is ended when the monitor says stop. Python programs are made to write their
    /// output unbuffered (`PYTHONUNBUFFERED=1`), so that their lines arrive as printed;
    /// [`with_line_buffered`](Self::with_line_buffered) does the same for programs in
    /// other languages.
    /// Returns the last value's evaluation, as [`run`](Self::run) does.
    pub fn run_monitored(
        &self,
        job: &Job,
        monitor: &mut dyn Monitor,
    ) -> Result<Evaluation, String> {
        self.run_monitored_unbounded(job, monitor)
            .map_err(super::bounded_reason)
    }

    fn run_monitored_unbounded(
        &self,
        job: &Job,
        monitor: &mut dyn Monitor,
    ) -> Result<Evaluation, String> {
        let Some(rule) = &self.metric else {
            return Err(
                "stop mode needs a metric rule to read the program's values as it prints them"
                    .to_string(),
            );
        };
        let Spawned {
            mut child,
            stdout_path,
            stderr_path,
            workdir,
            guard: _guard,
            mut copier,
        } = self.spawn(job, &[("PYTHONUNBUFFERED", "1")], self.line_buffered)?;
        let pid = child.id();
        let fail = |what: String| Err(with_stderr_tail(what, &stderr_path));
        let stop = |child: &mut std::process::Child, what: String| {
            terminate(pid, STOP_GRACE);
            let _ = child.wait();
            Err(with_stderr_tail(what, &stderr_path))
        };
        let source = rule.path(&stdout_path, &stderr_path, &workdir);
        let mut follow = Follow::new(source.clone());
        let mut reader = rule.reader();
        let mut watch = Watch::default();
        let deadline = self.timeout.map(|t| Instant::now() + t);
        loop {
            let exited = match exited_unreaped(pid, true) {
                Ok(exited) => exited,
                Err(e) => {
                    kill_group(pid);
                    let _ = child.wait();
                    return fail(format!("could not wait for the program: {}", os_msg(&e)));
                }
            };
            if exited {
                if let Some(copier) = copier.take() {
                    // The terminal's last bytes are in the file only once the copier has
                    // read to its end, which comes when nothing holds the slave end: the
                    // leader has exited, stragglers are ended here (as after the loop).
                    kill_group(pid);
                    let _ = copier.join();
                }
            }
            if let Some(why) = follow.refused() {
                return stop(
                    &mut child,
                    format!("cannot read the metric source {}: {why}", source.display()),
                );
            }
            let lines = follow.lines(exited);
            for line in &lines {
                let reading = match reader.feed(line) {
                    Ok(r) => r,
                    Err(e) => return stop(&mut child, e),
                };
                for point in reading.settled {
                    match watch.value(rule, point, line, monitor) {
                        Ok(Verdict::Continue) => {}
                        Ok(Verdict::Stop) => {
                            terminate(pid, STOP_GRACE);
                            let _ = child.wait();
                            return Ok(Evaluation::new(rule.loss_of(point.value)));
                        }
                        Err(e) => return stop(&mut child, e),
                    }
                }
                if let Some(budget) = reading.announced {
                    if let Err(e) = watch.announced(rule, budget, monitor) {
                        return stop(&mut child, e);
                    }
                }
            }
            if exited {
                if let Some(point) = reader.finish() {
                    let line = lines.last().map_or("", String::as_str);
                    match watch.value(rule, point, line, monitor) {
                        Ok(Verdict::Continue) => {}
                        Ok(Verdict::Stop) => {
                            kill_group(pid);
                            let _ = child.wait();
                            return Ok(Evaluation::new(rule.loss_of(point.value)));
                        }
                        Err(e) => {
                            kill_group(pid);
                            let _ = child.wait();
                            return fail(e);
                        }
                    }
                }
                break;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                let t = self.timeout.unwrap_or_default();
                return stop(&mut child, format!("killed after timeout of {t:?}"));
            }
            std::thread::sleep(POLL);
        }
        // Stragglers it left behind, while the leader is still unreaped.
        kill_group(pid);
        let status = child
            .wait()
            .map_err(|e| format!("could not wait for the program: {}", os_msg(&e)))?;
        if !status.success() {
            return fail(describe_status(status));
        }
        // It ran to its end: it trained to the budget it was given, whatever it printed.
        monitor.reached(job.budget);
        evaluate_metric(rule, &source).or_else(fail)
    }
}

/// What the follower has seen of the budget, to tell a program whose values the rule
/// cannot read from one that is slow to print them.
#[derive(Debug, Default)]
struct Watch {
    /// The first budget announced past the rung awaited, while no value came for it.
    passed: Option<f64>,
}

impl Watch {
    /// A final value: reported to the monitor when its budget is known. A value with no
    /// budget under a rule that announces budgets means the budget pattern never matched
    /// before it: the rule cannot work, and the program is stopped at once, saying so.
    fn value(
        &mut self,
        rule: &MetricRule,
        point: CurvePoint,
        line: &str,
        monitor: &mut dyn Monitor,
    ) -> Result<Verdict, String> {
        let Some(budget) = point.budget else {
            if rule.announces_budgets() {
                return Err(format!(
                    "the metric rule read the value {} from {} before any line announced its \
                     budget (no line matched `{}`): stop mode needs each value's budget",
                    point.value,
                    quote(line),
                    rule.budget_pattern().unwrap_or_default()
                ));
            }
            return Ok(Verdict::Continue);
        };
        self.passed = None;
        monitor.reached(budget);
        Ok(monitor.report(budget, rule.loss_of(point.value)))
    }

    /// A budget announcement: the program is at that budget (it finished it, or started
    /// it: frameworks differ), which is what it is charged if it fails from here. Two
    /// announcements past the awaited rung's budget with no value for it (one may be the
    /// epoch that ends at the rung, announced as it starts) mean the value pattern does not
    /// match what the program prints.
    fn announced(
        &mut self,
        rule: &MetricRule,
        budget: f64,
        monitor: &mut dyn Monitor,
    ) -> Result<(), String> {
        monitor.reached(budget);
        let Some(rung) = monitor.awaiting() else {
            return Ok(());
        };
        if budget <= rung * (1.0 + 1e-9) {
            return Ok(());
        }
        match self.passed {
            None => self.passed = Some(budget),
            Some(first) if budget > first => {
                return Err(format!(
                    "the program announced budget {budget} without printing a value for \
                     budget {rung} that the metric rule reads (no line matched `{}`)",
                    rule.pattern()
                ));
            }
            Some(_) => {}
        }
        Ok(())
    }
}
