//! Stop mode for commands: the program is followed while it runs. Its metric source is
//! read as it grows, every value is reported to the stopping rule, and a program told to
//! stop gets SIGTERM on its process group, then SIGKILL after a grace period.

use super::{
    describe_status, exited_unreaped, kill_group, os_msg, output, with_stderr_tail,
    CommandObjective, Spawned,
};
use crate::job::{Evaluation, Job};
use crate::objective::{Monitor, Verdict};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the output is read while the program runs: a rung's decision comes at most
/// this much after the program printed its value.
const POLL: Duration = Duration::from_millis(20);
/// How long a stopped program has to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// Reads the lines appended to a file as they come (the file may not exist yet).
struct Follow {
    path: PathBuf,
    file: Option<File>,
    partial: Vec<u8>,
}

impl Follow {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: None,
            partial: Vec::new(),
        }
    }

    /// The complete lines written since the last call; with `end`, the unfinished last
    /// line too (the program has exited).
    fn lines(&mut self, end: bool) -> Vec<String> {
        if self.file.is_none() {
            self.file = File::open(&self.path).ok();
        }
        if let Some(file) = &mut self.file {
            let _ = file.read_to_end(&mut self.partial);
        }
        let mut lines = Vec::new();
        while let Some(i) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=i).collect();
            lines.push(String::from_utf8_lossy(&line[..i]).into_owned());
        }
        if end && !self.partial.is_empty() {
            lines.push(String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned());
        }
        lines
    }
}

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
    /// output unbuffered (`PYTHONUNBUFFERED=1`), so that their lines arrive as printed.
    /// Returns the last value's evaluation, as [`run`](Self::run) does.
    pub fn run_monitored(
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
        } = self.spawn(job, &[("PYTHONUNBUFFERED", "1")])?;
        let pid = child.id();
        let fail = |what: String| Err(with_stderr_tail(what, &stderr_path));
        let source = rule.path(&stdout_path, &stderr_path, &workdir);
        let mut follow = Follow::new(source.clone());
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let mut count = 0;
        loop {
            let exited = match exited_unreaped(pid, true) {
                Ok(exited) => exited,
                Err(e) => {
                    kill_group(pid);
                    let _ = child.wait();
                    return fail(format!("could not wait for the program: {}", os_msg(&e)));
                }
            };
            for line in follow.lines(exited) {
                let value = match rule.value_of(&line) {
                    None => continue,
                    Some(Ok(v)) => v,
                    Some(Err(e)) => {
                        terminate(pid, STOP_GRACE);
                        let _ = child.wait();
                        return fail(e);
                    }
                };
                count += 1;
                let Some(budget) = rule.budget_of(&line, count) else {
                    continue;
                };
                if monitor.report(budget, rule.loss_of(value)) == Verdict::Stop {
                    terminate(pid, STOP_GRACE);
                    let _ = child.wait();
                    return Ok(Evaluation::new(rule.loss_of(value)));
                }
            }
            if exited {
                break;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                terminate(pid, STOP_GRACE);
                let _ = child.wait();
                let t = self.timeout.unwrap_or_default();
                return fail(format!("killed after timeout of {t:?}"));
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
        rule.evaluate(&source)
            .or_else(|e| fail(with_tail(e, &source)))
    }
}

fn with_tail(e: String, path: &Path) -> String {
    let tail = output::tail_lines(path, 5);
    if tail.is_empty() {
        e
    } else {
        format!("{e}; its last lines:\n{}", tail.join("\n"))
    }
}
