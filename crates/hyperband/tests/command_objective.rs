//! Command objectives against small shell and Python scripts.

use hyperband::objective::command::param_env_var;
use hyperband::objective::{placeholders, CommandObjective};
use hyperband::{Job, JobId, Param, Space, TrialId, Value};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const NASTY: &str = "a b;rm -rf x $(touch pwned) 'q\" *";

fn space() -> Space {
    Space::new(vec![
        Param::log_float("lr", 1e-4, 1.0),
        Param::int("hidden", 1, 1000),
        Param::categorical("act", &["relu", NASTY]),
        Param::float("drop-out", 0.0, 1.0),
    ])
    .unwrap()
}

fn job() -> Job {
    let config = space()
        .config([
            ("lr", Value::Float(0.012345678901234567)),
            ("hidden", Value::Int(64)),
            ("act", Value::Categorical(NASTY.to_string())),
            ("drop-out", Value::Float(0.5)),
        ])
        .unwrap();
    Job {
        id: JobId(7),
        trial: TrialId(3),
        config,
        budget: 27.0,
        resume_from: 9.0,
        bracket: 0,
        rung: 1,
        attempt: 0,
    }
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a shell script and returns its path (run it as `sh <path>`).
    fn script(&self, name: &str, body: &str) -> String {
        let p = self.path(name);
        fs::write(&p, body).unwrap();
        p.to_string_lossy().into_owned()
    }

    fn objective(&self, argv: &[&str]) -> CommandObjective {
        CommandObjective::new(argv.iter().map(|s| s.to_string()).collect())
            .unwrap()
            .with_workdir(self.dir.path())
            .with_log_dir(self.path("logs"))
            .with_checkpoint_root(self.path("ckpt"))
    }

    /// Runs `sh -c body`-like: the body as a script file, so no shell sees our values.
    fn run_sh(&self, body: &str) -> Result<hyperband::Evaluation, String> {
        let s = self.script("job.sh", body);
        self.objective(&["sh", &s]).run(&job())
    }
}

fn assert_starts(reason: &str, want: &str) {
    assert!(
        reason.starts_with(want),
        "reason {reason:?} should start with {want:?}"
    );
}

#[test]
fn arguments_are_substituted_one_for_one_without_a_shell() {
    let fx = Fixture::new();
    let out = fx.path("args");
    let s = fx.script(
        "args.sh",
        &format!("printf '%s\\0' \"$@\" > '{}'\necho 0.5\n", out.display()),
    );
    let argv = [
        "sh",
        &s,
        "--lr={lr}",
        "{act}",
        "{hidden}",
        "{budget}",
        "{resume_from}",
        "{trial}/{job}",
        "{checkpoint_dir}",
        "{drop-out}",
        "lit{{x}}",
    ];
    let eval = fx.objective(&argv).run(&job()).unwrap();
    assert_eq!(eval.loss, 0.5);
    let got = fs::read_to_string(&out).unwrap();
    let got: Vec<&str> = got.trim_end_matches('\0').split('\0').collect();
    let ckpt = fx.path("ckpt").join("trial-3");
    let want = [
        "--lr=0.012345678901234567",
        NASTY,
        "64",
        "27",
        "9",
        "3/7",
        ckpt.to_str().unwrap(),
        "0.5",
        "lit{x}",
    ];
    assert_eq!(got, want);
    assert_eq!(got[0][5..].parse::<f64>().unwrap(), 0.012345678901234567);
    assert!(ckpt.is_dir(), "the trial's checkpoint directory is created");
    assert!(!fx.path("pwned").exists(), "no shell may see the values");
}

#[test]
fn environment_carries_the_job() {
    let fx = Fixture::new();
    let out = fx.path("env.json");
    let py = fx.path("env.py");
    fs::write(
        &py,
        format!(
            "import json, os\n\
             env = {{k: v for k, v in os.environ.items() if k.startswith(('HYPERBAND_', 'EXTRA'))}}\n\
             json.dump(env, open({:?}, 'w'))\n\
             print(1.5)\n",
            out.to_str().unwrap()
        ),
    )
    .unwrap();
    let objective = fx
        .objective(&["python3", py.to_str().unwrap()])
        .with_env("EXTRA", "yes")
        .with_env("HYPERBAND_BUDGET", "overridden?");
    assert_eq!(objective.run(&job()).unwrap().loss, 1.5);
    let env: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    let get = |k: &str| env.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    assert_eq!(get("HYPERBAND_PARAM_LR"), "0.012345678901234567");
    assert_eq!(get("HYPERBAND_PARAM_HIDDEN"), "64");
    assert_eq!(get("HYPERBAND_PARAM_ACT"), NASTY);
    assert_eq!(get("HYPERBAND_PARAM_DROP_OUT"), "0.5");
    assert_eq!(param_env_var("drop-out"), "HYPERBAND_PARAM_DROP_OUT");
    assert_eq!(get("HYPERBAND_BUDGET"), "27");
    assert_eq!(get("HYPERBAND_RESUME_FROM"), "9");
    assert_eq!(get("HYPERBAND_TRIAL"), "3");
    assert_eq!(get("HYPERBAND_JOB"), "7");
    assert_eq!(get("EXTRA"), "yes");
    let ckpt = get("HYPERBAND_CHECKPOINT_DIR");
    assert_eq!(Path::new(ckpt), fx.path("ckpt").join("trial-3"));
    assert!(Path::new(ckpt).is_dir());
    let config: serde_json::Value = serde_json::from_str(get("HYPERBAND_CONFIG")).unwrap();
    assert_eq!(
        config,
        serde_json::json!({"lr": 0.012345678901234567, "hidden": 64, "act": NASTY, "drop-out": 0.5})
    );
}

#[test]
fn json_last_line_gives_loss_metrics_and_resumed() {
    let fx = Fixture::new();
    let eval = fx
        .run_sh(
            "echo 'epoch 1 loss 0.9'\necho '{\"loss\": 0.7}'\n\
             echo '{\"loss\": 0.25, \"accuracy\": 0.9, \"note\": \"ok\", \"resumed\": false}'\n\
             echo\necho '   '\n",
        )
        .unwrap();
    assert_eq!(eval.loss, 0.25);
    assert_eq!(eval.resumed, Some(false));
    let metrics = serde_json::to_value(&eval.metrics).unwrap();
    assert_eq!(metrics, serde_json::json!({"accuracy": 0.9, "note": "ok"}));
}

#[test]
fn a_bare_number_is_the_loss_and_logs_are_kept() {
    let fx = Fixture::new();
    let eval = fx
        .run_sh("echo starting\necho warming up >&2\necho '  -3.5e-2  '\n")
        .unwrap();
    assert_eq!(eval.loss, -0.035);
    assert_eq!(eval.resumed, None);
    assert!(eval.metrics.is_empty());
    let logs = fx.path("logs");
    assert_eq!(
        fs::read_to_string(logs.join("job-7.stdout")).unwrap(),
        "starting\n  -3.5e-2  \n"
    );
    assert_eq!(
        fs::read_to_string(logs.join("job-7.stderr")).unwrap(),
        "warming up\n"
    );
}

#[test]
fn a_non_zero_exit_fails_with_the_status_and_the_stderr_tail() {
    let fx = Fixture::new();
    let reason = fx
        .run_sh("echo 0.1\nfor i in $(seq 1 30); do echo \"err line $i\" >&2; done\nexit 3\n")
        .unwrap_err();
    assert_starts(&reason, "exit status 3\nstderr (last 20 lines of ");
    assert!(reason.contains("job-7.stderr"), "{reason}");
    assert!(reason.contains("\n  err line 11\n"), "{reason}");
    assert!(reason.ends_with("\n  err line 30"), "{reason}");
    assert!(!reason.contains("err line 10\n"), "{reason}");
}

#[test]
fn death_by_signal_is_named() {
    let fx = Fixture::new();
    let reason = fx.run_sh("echo 0.1\nkill -SEGV $$\n").unwrap_err();
    assert_eq!(reason, "killed by signal 11 (SIGSEGV)");
}

#[test]
fn a_missing_or_unparsable_loss_fails_with_the_line() {
    let fx = Fixture::new();
    let cases = [
        (
            "echo 'epoch 3 done'\n",
            "last line of stdout is not a number or JSON with `loss`: \"epoch 3 done\"",
        ),
        (
            "true\n",
            "no output on stdout (the loss belongs on its last line)",
        ),
        (
            "echo '{\"acc\": 0.9}'\n",
            "JSON on the last line of stdout has no `loss` key: \"{\\\"acc\\\": 0.9}\"",
        ),
        (
            "echo '{\"loss\": \"low\"}'\n",
            "`loss` on the last line of stdout is not a number: \"low\"",
        ),
        (
            "echo '{\"loss\": 1, \"resumed\": \"yes\"}'\n",
            "`resumed` on the last line of stdout must be true or false, got \"yes\"",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(fx.run_sh(body).unwrap_err(), want, "script {body:?}");
    }
    let reason = fx.run_sh("echo '{\"loss\": 0.1'\n").unwrap_err();
    assert_starts(&reason, "last line of stdout is not valid JSON (");
}

#[test]
fn nan_and_infinite_losses_fail() {
    let fx = Fixture::new();
    assert_eq!(
        fx.run_sh("echo NaN\n").unwrap_err(),
        "loss is not finite: NaN"
    );
    assert_eq!(
        fx.run_sh("echo -inf\n").unwrap_err(),
        "loss is not finite: -inf"
    );
    assert_eq!(
        fx.run_sh("echo 1e999\n").unwrap_err(),
        "loss is not finite: inf"
    );
    // What Python's json.dumps writes for a NaN loss.
    let reason = fx.run_sh("echo '{\"loss\": NaN}'\n").unwrap_err();
    assert!(
        reason.contains("NaN and Infinity are not JSON numbers"),
        "{reason}"
    );
}

#[test]
fn a_program_that_cannot_start_says_why() {
    let fx = Fixture::new();
    let reason = fx.objective(&["trian.py", "{lr}"]).run(&job()).unwrap_err();
    assert_eq!(
        reason,
        "could not start `trian.py`: No such file or directory"
    );
    fs::write(fx.path("train.sh"), "#!/bin/sh\necho 1\n").unwrap();
    let reason = fx.objective(&["./train.sh"]).run(&job()).unwrap_err();
    assert_eq!(reason, "could not start `./train.sh`: Permission denied");
}

#[test]
fn a_relative_program_is_found_in_the_working_directory() {
    let fx = Fixture::new();
    let p = fx.path("train.sh");
    fs::write(&p, "#!/bin/sh\necho \"$1\"\n").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    let objective = fx.objective(&["./train.sh", "{hidden}"]);
    // Another test thread forking while this file was open for writing can make exec
    // fail with "Text file busy" for a moment; that is the test harness, not us.
    let mut result = objective.run(&job());
    for _ in 0..20 {
        match &result {
            Err(e) if e.contains("Text file busy") => {
                std::thread::sleep(Duration::from_millis(20));
                result = objective.run(&job());
            }
            _ => break,
        }
    }
    assert_eq!(result.unwrap().loss, 64.0);
}

#[test]
fn an_unknown_placeholder_fails_the_job() {
    let fx = Fixture::new();
    let reason = fx.objective(&["echo", "{nope}"]).run(&job()).unwrap_err();
    assert_eq!(
        reason,
        "placeholder `{nope}` names no parameter; known: lr, hidden, act, drop-out, \
         budget, resume_from, trial, job, checkpoint_dir"
    );
}

/// Whether process `pid` is gone (or a zombie waiting for a reaper that is not us).
fn is_gone(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn wait_gone(pid: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        if is_gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

fn read_pid(path: &Path) -> u32 {
    fs::read_to_string(path).unwrap().trim().parse().unwrap()
}

#[test]
fn a_timeout_kills_the_whole_process_group() {
    let fx = Fixture::new();
    let pid_file = fx.path("pid");
    let s = fx.script(
        "slow.sh",
        &format!(
            "sleep 100 &\necho $! > '{}'\necho 'stuck' >&2\nwait\necho 1.0\n",
            pid_file.display()
        ),
    );
    let objective = fx
        .objective(&["sh", &s])
        .with_timeout(Some(Duration::from_millis(300)));
    let start = Instant::now();
    let reason = objective.run(&job()).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_starts(&reason, "killed after timeout of 300ms\nstderr");
    assert!(reason.ends_with("\n  stuck"), "{reason}");
    let grandchild = read_pid(&pid_file);
    assert!(wait_gone(grandchild), "grandchild {grandchild} survived");
}

#[test]
fn stragglers_are_killed_when_the_program_exits() {
    let fx = Fixture::new();
    let pid_file = fx.path("pid");
    let eval = fx
        .run_sh(&format!(
            "sleep 100 &\necho $! > '{}'\necho 2.0\n",
            pid_file.display()
        ))
        .unwrap();
    assert_eq!(eval.loss, 2.0);
    let grandchild = read_pid(&pid_file);
    assert!(wait_gone(grandchild), "grandchild {grandchild} survived");
}

#[test]
fn a_fast_program_with_a_timeout_is_not_delayed() {
    let fx = Fixture::new();
    let s = fx.script("fast.sh", "echo 0.3\n");
    let objective = fx
        .objective(&["sh", &s])
        .with_timeout(Some(Duration::from_secs(60)));
    assert_eq!(objective.run(&job()).unwrap().loss, 0.3);
}

#[test]
fn a_huge_output_is_streamed_not_held() {
    let fx = Fixture::new();
    // About 38 MB of progress on stdout and 8 MB on stderr, then the loss.
    let eval = fx
        .run_sh(
            "yes 'progress: step of a long training run' | head -n 1000000\n\
             yes 'warning' | head -n 1000000 >&2\n\
             echo '{\"loss\": 0.125}'\n",
        )
        .unwrap();
    assert_eq!(eval.loss, 0.125);
    let size = fs::metadata(fx.path("logs").join("job-7.stdout"))
        .unwrap()
        .len();
    assert!(size > 35_000_000, "{size}");

    let reason = fx
        .run_sh("yes 'warning' | head -n 1000000 >&2\nexit 1\n")
        .unwrap_err();
    assert_eq!(reason.lines().count(), 22, "{reason}");
    // A last line with no newline at all, longer than anything we read whole.
    let reason = fx
        .run_sh("head -c 3000000 /dev/zero | tr '\\0' x\n")
        .unwrap_err();
    assert!(reason.len() < 1000, "{}", reason.len());
    assert_starts(&reason, "last line of stdout is not a number or JSON");
}

#[test]
fn placeholders_are_listed_and_braces_escaped() {
    assert_eq!(placeholders("--lr={lr}").unwrap(), vec!["lr"]);
    assert_eq!(
        placeholders("{a}{budget}x{b-c}").unwrap(),
        vec!["a", "budget", "b-c"]
    );
    assert!(placeholders("{{not}} one").unwrap().is_empty());
    assert!(placeholders("").unwrap().is_empty());
    assert_eq!(
        placeholders("{lr").unwrap_err(),
        "unclosed `{` in argument \"{lr\" (write `{{` for a literal brace)"
    );
    assert_eq!(
        placeholders("a}b").unwrap_err(),
        "unmatched `}` in argument \"a}b\" (write `}}` for a literal brace)"
    );
    assert_eq!(
        placeholders("x{}").unwrap_err(),
        "empty placeholder `{}` in argument \"x{}\""
    );
    assert_eq!(
        CommandObjective::new(vec![]).unwrap_err(),
        "the command is empty"
    );
    assert!(CommandObjective::new(vec!["echo".into(), "{a".into()]).is_err());
}

#[test]
fn a_metric_regex_reads_a_script_that_prints_its_own_format() {
    use hyperband::objective::command::{MetricRule, MetricSource};
    let fx = Fixture::new();
    let s = fx.script(
        "train.sh",
        "for e in 1 2 3; do echo \"Epoch $e/3 - loss: 0.$((9 - e)) - val_loss: 0.$((8 - e))\"; done\n\
         echo 'Accuracy on test: 97.5%' >&2\necho done\n",
    );
    let rule = MetricRule::new(r"val_loss: ([0-9.]+)", MetricSource::Stdout, false)
        .unwrap()
        .with_budget_regex(r"Epoch (\d+)/")
        .unwrap();
    let e = fx
        .objective(&["sh", &s])
        .with_metric(rule)
        .run(&job())
        .unwrap();
    assert_eq!(e.loss, 0.5);
    assert_eq!(
        e.metrics["curve"],
        serde_json::json!([[1.0, 0.7], [2.0, 0.6], [3.0, 0.5]])
    );
    // An accuracy on stderr, maximized: the loss is its negative.
    let rule =
        MetricRule::new(r"Accuracy on test: ([0-9.]+)%", MetricSource::Stderr, true).unwrap();
    let e = fx
        .objective(&["sh", &s])
        .with_metric(rule)
        .run(&job())
        .unwrap();
    assert_eq!(e.loss, -97.5);
    // No match: the job fails, saying so, with the end of the output it read.
    let rule = MetricRule::new(r"val_acc: ([0-9.]+)", MetricSource::Stdout, false).unwrap();
    let err = fx
        .objective(&["sh", &s])
        .with_metric(rule)
        .run(&job())
        .unwrap_err();
    assert!(err.contains("no line of stdout matched"), "{err}");
    assert!(err.contains("done"), "{err}");
    // A file the script writes, relative to its working directory.
    let w = fx.script("writes.sh", "echo 'score 0.25' > metrics.txt\n");
    let rule = MetricRule::new(
        r"score ([0-9.]+)",
        MetricSource::parse("file:metrics.txt").unwrap(),
        false,
    )
    .unwrap();
    let e = fx
        .objective(&["sh", &w])
        .with_metric(rule)
        .run(&job())
        .unwrap();
    assert_eq!(e.loss, 0.25);
}
