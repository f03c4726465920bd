//! Command objectives: a user's training program, in any language, evaluates a job.
//!
//! The program is started directly, never through a shell, so that a categorical choice
//! like `a b;rm -rf x` reaches it as one argument and nothing else. Each run gets its own
//! process group, so a timeout also kills whatever the program started (data loaders,
//! `torchrun` children), and stragglers are killed when it exits, so that nothing keeps
//! writing to a trial's checkpoint while the trial's next job runs.
//!
//! What the program is told (its arguments and environment) is the [`template`]'s; this
//! module starts it, waits for it and reads its result.

mod group_guard;
mod metric;
mod monitored;
mod output;
mod process;
mod pty;
mod template;

pub use metric::lines::{self, strip_ansi, LineSplitter};
pub use metric::{
    maximized_by_name, CurvePoint, CurveReader, Format, LineReading, MetricRule, MetricSource,
    MetricSpec, MetricSpecError,
};
pub use monitored::STOP_GRACE;
use process::{describe_status, kill_group, wait, Waited};
use template::Template;
pub use template::{param_env_var, placeholders, JOB_PLACEHOLDERS};

use crate::config::Value;
use crate::job::{Evaluation, Job};
pub use crate::spec::CommandSpec;
use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How many lines of stderr a failure reason carries.
const STDERR_TAIL_LINES: usize = 20;
/// The longest failure reason stored with a job: enough for the cause and the end of
/// stderr, not enough for a program's megabyte line to bloat the log and `status`.
const MAX_REASON_BYTES: usize = 4 << 10;

/// How and where a command study's jobs run, besides what its stored definition says:
/// settings of one run, which may differ between runs and workers of the same study.
#[derive(Debug, Clone)]
pub struct CommandRun {
    /// Where the program runs (the study file's folder).
    pub workdir: PathBuf,
    /// Where each job's stdout and stderr are kept.
    pub logs: PathBuf,
    /// Where each trial gets its checkpoint folder.
    pub checkpoints: PathBuf,
    pub timeout: Option<Duration>,
    /// See [`CommandObjective::with_line_buffered`].
    pub line_buffered: bool,
}

/// Runs a program for each job and reads its loss off the last line of its stdout.
#[derive(Debug, Clone)]
pub struct CommandObjective {
    /// The arguments and environment, filled for each job.
    template: Template,
    timeout: Option<Duration>,
    workdir: PathBuf,
    log_dir: PathBuf,
    checkpoint_root: PathBuf,
    extra_env: Vec<(String, String)>,
    /// Where the loss is read when the script does not print it as its last line.
    metric: Option<MetricRule>,
    /// In stop mode, stdout is a pseudo-terminal, so that programs that do not flush
    /// write by line.
    line_buffered: bool,
}

impl CommandObjective {
    /// A command from its argument template (program first). Defaults: no timeout, the
    /// current directory as working directory, logs in `./logs`, checkpoints in
    /// `./checkpoints`.
    pub fn new(argv: Vec<String>) -> Result<Self, String> {
        Ok(Self {
            template: Template::parse(argv)?,
            timeout: None,
            workdir: PathBuf::from("."),
            log_dir: PathBuf::from("logs"),
            checkpoint_root: PathBuf::from("checkpoints"),
            extra_env: Vec::new(),
            metric: None,
            line_buffered: false,
        })
    }

    /// The objective a stored [`CommandSpec`] defines, run as `run` says: the one way a
    /// command study's objective is made, from a study file (`run`) or from the store
    /// alone (`worker`). The error names the key at fault (`command`, `metric KEY`).
    pub fn from_spec(spec: &CommandSpec, run: &CommandRun) -> Result<Self, String> {
        let mut objective = Self::new(spec.command.clone())
            .map_err(|e| format!("command: {e}"))?
            .with_timeout(run.timeout)
            .with_workdir(&run.workdir)
            .with_log_dir(&run.logs)
            .with_checkpoint_root(&run.checkpoints)
            .with_line_buffered(run.line_buffered);
        if let Some(metric) = &spec.metric {
            let rule = metric
                .rule()
                .map_err(|(key, e)| format!("metric {key}: {e}"))?;
            objective = objective.with_metric(rule);
        }
        for (name, value) in &spec.fixed {
            objective = objective.with_fixed(name.clone(), value.clone());
        }
        Ok(objective)
    }

    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Where the program runs; a relative program path (`./train.py`) is found from here.
    pub fn with_workdir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.workdir = dir.into();
        self
    }

    /// Where `job-<id>.stdout` and `job-<id>.stderr` go.
    pub fn with_log_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.log_dir = dir.into();
        self
    }

    /// Where each trial gets its checkpoint directory `trial-<id>`.
    pub fn with_checkpoint_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_root = dir.into();
        self
    }

    /// Sets an environment variable for every run (the `HYPERBAND_*` ones take precedence).
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_env.push((name.into(), value.into()));
        self
    }

    /// Reads the loss from the lines `rule` matches instead of the last line of stdout.
    pub fn with_metric(mut self, rule: MetricRule) -> Self {
        self.metric = Some(rule);
        self
    }

    /// In stop mode ([`run_monitored`](Self::run_monitored)), gives the program a
    /// pseudo-terminal as its stdout, copied into the job's stdout file as it arrives:
    /// C stdio and most runtimes then write each line as it is printed instead of in
    /// 4 KiB blocks, which a stopping rule would see only when the program ends. A
    /// terminal also changes what some programs print (progress bars redraw with `\r`,
    /// colours), which the metric rule's line splitting handles. Promote mode, which reads
    /// the output once the program has ended, keeps plain files.
    pub fn with_line_buffered(mut self, on: bool) -> Self {
        self.line_buffered = on;
        self
    }

    /// A fixed parameter: `{name}` and `HYPERBAND_PARAM_<NAME>` carry `value` in every run,
    /// and `HYPERBAND_CONFIG` lists it after the searched ones. A searched parameter of the
    /// same name takes precedence.
    pub fn with_fixed(mut self, name: impl Into<String>, value: Value) -> Self {
        self.template.add_fixed(name.into(), value);
        self
    }

    pub fn argv(&self) -> &[String] {
        self.template.argv()
    }

    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The stdout log of a job (its stderr log has the extension `stderr`).
    pub fn stdout_path(&self, job: &Job) -> PathBuf {
        self.log_dir.join(format!("job-{}.stdout", job.id))
    }

    pub fn stderr_path(&self, job: &Job) -> PathBuf {
        self.log_dir.join(format!("job-{}.stderr", job.id))
    }

    /// The directory where trial `job.trial` keeps its checkpoints, for every job of it.
    pub fn checkpoint_dir(&self, job: &Job) -> PathBuf {
        self.checkpoint_root.join(format!("trial-{}", job.trial))
    }

    /// The command line for `job`, one argument per template argument.
    pub fn command_line(&self, job: &Job) -> Result<Vec<String>, String> {
        let checkpoint_dir = absolute(&self.checkpoint_dir(job))?;
        self.template.fill(job, &checkpoint_dir)
    }

    /// Runs the program for `job`. `Err` carries what went wrong followed by the tail of
    /// the program's stderr, ready to be recorded as the job's failure reason.
    pub fn run(&self, job: &Job) -> Result<Evaluation, String> {
        self.run_unbounded(job).map_err(bounded_reason)
    }

    fn run_unbounded(&self, job: &Job) -> Result<Evaluation, String> {
        let Spawned {
            child,
            stdout_path,
            stderr_path,
            workdir,
            guard: _guard,
            copier: _,
        } = self.spawn(job, &[], false)?;
        let fail = |what: String| Err(with_stderr_tail(what, &stderr_path));
        let status = match wait(child, self.timeout) {
            Waited::Exited(status) => status,
            Waited::TimedOut => {
                let t = self.timeout.unwrap_or_default();
                return fail(format!("killed after timeout of {t:?}"));
            }
            Waited::Error(e) => return fail(e),
        };
        if !status.success() {
            return fail(describe_status(status));
        }
        if let Some(rule) = &self.metric {
            let path = rule.path(&stdout_path, &stderr_path, &workdir);
            return evaluate_metric(rule, &path).or_else(fail);
        }
        loss_on_last_line(&stdout_path).or_else(fail)
    }

    /// Starts the program for `job` in its own process group, its output going to the
    /// job's log files; with `terminal`, stdout goes through a pseudo-terminal whose
    /// copier thread writes the stdout file.
    fn spawn(&self, job: &Job, env: &[(&str, &str)], terminal: bool) -> Result<Spawned, String> {
        let workdir = absolute(&self.workdir)?;
        let log_dir = absolute(&self.log_dir)?;
        let checkpoint_dir = absolute(&self.checkpoint_dir(job))?;
        for dir in [&log_dir, &checkpoint_dir] {
            fs::create_dir_all(dir)
                .map_err(|e| format!("could not create `{}`: {}", dir.display(), os_msg(&e)))?;
        }
        let argv = self.template.fill(job, &checkpoint_dir)?;
        let stdout_path = absolute(&self.stdout_path(job))?;
        let stderr_path = absolute(&self.stderr_path(job))?;
        let create = |p: &Path| {
            File::create(p)
                .map_err(|e| format!("could not create `{}`: {}", p.display(), os_msg(&e)))
        };
        let (stdout, stderr) = (create(&stdout_path)?, create(&stderr_path)?);
        let (stdout, master) = if terminal {
            let (master, slave) = pty::open().map_err(|e| {
                format!(
                    "could not open a pseudo-terminal for stdout: {}",
                    os_msg(&e)
                )
            })?;
            (Stdio::from(slave), Some((master, stdout)))
        } else {
            (Stdio::from(stdout), None)
        };

        let mut program = PathBuf::from(&argv[0]);
        if program.is_relative() && program.components().count() > 1 {
            // `./train.py` means the one in the working directory, whatever ours is.
            program = workdir.join(program);
        }
        let mut command = Command::new(&program);
        command
            .args(&argv[1..])
            .current_dir(&workdir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of ours. A runner killed
        // with SIGKILL takes its programs with it (they are re-run when the study resumes),
        // instead of leaving them to train on for nobody.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        command.envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        command.envs(self.template.environment(job, &checkpoint_dir)?);
        command.envs(env.iter().copied());
        let mut child = command
            .spawn()
            .map_err(|e| format!("could not start `{}`: {}", argv[0], os_msg(&e)))?;
        // Our copy of the slave end goes with `command`: the master then sees the end of
        // the output when the program's group has closed it.
        drop(command);
        let copier = master.map(|(master, file)| pty::copy(master, file));
        let guard = match group_guard::GroupGuard::new(child.id()) {
            Ok(guard) => guard,
            Err(e) => {
                kill_group(child.id());
                let _ = child.wait();
                return Err(format!(
                    "could not start the guard of `{}`'s process group: {}",
                    argv[0],
                    os_msg(&e)
                ));
            }
        };
        Ok(Spawned {
            child,
            stdout_path,
            stderr_path,
            workdir,
            guard,
            copier,
        })
    }
}

/// What a command study without a metric rule reads from a program's stdout file: its last
/// non-empty line, as a loss (a number, or JSON with `loss`), or why that fails. `init`
/// asks it of a first run before it proposes a metric rule.
pub fn loss_on_last_line(stdout: &Path) -> Result<Evaluation, String> {
    match output::last_line(stdout) {
        Ok(Some(line)) => output::parse_evaluation(&line),
        Ok(None) => Err("no output on stdout (the loss belongs on its last line)".into()),
        Err(e) => Err(format!(
            "could not read `{}`: {}",
            stdout.display(),
            os_msg(&e)
        )),
    }
}

/// The job's evaluation by its metric rule from the output at `path`. A failure quotes the
/// end of that output when it is the program's own stream; a `file:` source could be any
/// file, whose text has no place in a stored reason.
fn evaluate_metric(rule: &MetricRule, path: &Path) -> Result<Evaluation, String> {
    rule.evaluate(path).map_err(|e| {
        let tail = if rule.source().is_stream() {
            output::tail_lines(path, 5)
        } else {
            Vec::new()
        };
        if tail.is_empty() {
            e
        } else {
            format!("{e}; its last lines:\n{}", tail.join("\n"))
        }
    })
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("bad path `{}`: {}", path.display(), e))
}

/// An OS error's text without the ` (os error N)` suffix.
fn os_msg(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn with_stderr_tail(what: String, stderr_path: &Path) -> String {
    let lines = output::tail_lines(stderr_path, STDERR_TAIL_LINES);
    if lines.is_empty() {
        return what;
    }
    let mut reason = format!(
        "{what}\nstderr (last {} lines of {}):",
        lines.len(),
        stderr_path.display()
    );
    for line in lines {
        reason.push_str("\n  ");
        reason.push_str(&line);
    }
    reason
}

/// `reason` cut to [`MAX_REASON_BYTES`] (at a character boundary), saying so.
fn bounded_reason(reason: String) -> String {
    if reason.len() <= MAX_REASON_BYTES {
        return reason;
    }
    let mut end = MAX_REASON_BYTES;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes cut)", &reason[..end], reason.len() - end)
}

/// A started program and where its output goes.
struct Spawned {
    child: Child,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    workdir: PathBuf,
    /// Kills the program's group if this process dies; dropped once it has been waited for.
    guard: group_guard::GroupGuard,
    /// Copies the pseudo-terminal into the stdout file; ends when the group has closed it.
    copier: Option<std::thread::JoinHandle<()>>,
}
