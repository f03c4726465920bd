//! Stop mode with a program that never flushes its stdout (C stdio writing to a file
//! keeps 4 KiB in its buffer): with `line_buffered = true` its stdout is a
//! pseudo-terminal, so each line reaches the runner as it is printed and a trial is stopped
//! at its rung, not when the program ends (issue 22; docs/benchmarks.md, "Programs that do
//! not flush").

mod common;

use common::run_ok_in;
use std::path::Path;
use std::process::Command;

/// Prints `epoch=E loss=L` with printf and never flushes; logs when each line was printed
/// and when SIGTERM came to `epochs.log` (written and closed each time, so complete).
const PROGRAM: &str = r#"
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
static void note(const char *what, int epoch) {
    FILE *f = fopen("epochs.log", "a");
    fprintf(f, "%d %s %d %.3f\n", (int)getpid(), what, epoch, now());
    fclose(f);
}
static int epoch = 0;
static void on_term(int sig) { (void)sig; note("term", epoch); _exit(143); }
int main(int argc, char **argv) {
    double lr = 0.01; int epochs = 1;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--lr")) lr = atof(argv[i + 1]);
        if (!strcmp(argv[i], "--epochs")) epochs = atoi(argv[i + 1]);
    }
    signal(SIGTERM, on_term);
    for (epoch = 1; epoch <= epochs; epoch++) {
        usleep(200000);
        double l = log10(lr) + 2.0;
        printf("epoch=%d loss=%.6f\n", epoch, l * l / 4.0 + 1.0 / epoch);
        note("print", epoch);
    }
    return 0;
}
"#;

/// What one program logged: (epoch, time) per printed line, and when SIGTERM came.
type Program = (Vec<(u32, f64)>, Option<f64>);

fn compile(dir: &Path) {
    std::fs::write(dir.join("train.c"), PROGRAM).unwrap();
    let out = Command::new("gcc")
        .current_dir(dir)
        .args(["-O2", "-o", "train", "train.c", "-lm"])
        .output()
        .expect("gcc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_program_that_does_not_flush_is_stopped_at_its_rung() {
    let dir = tempfile::tempdir().unwrap();
    compile(dir.path());
    std::fs::write(
        dir.path().join("study.toml"),
        r#"name = "unflushed"
seed = 3
storage = "sqlite:studies.db"

[objective]
command = ["./train", "--lr", "{lr}", "--epochs", "{budget}"]
metric = { format = "key=value", name = "loss" }
line_buffered = true
timeout = "60s"

[space]
lr = { type = "float", low = 1e-4, high = 1.0, log = true }

[algorithm]
scheduler = "asha"
mode = "stop"
min_budget = 1
max_budget = 9
eta = 3

[run]
workers = 1
max_trials = 8
"#,
    )
    .unwrap();
    run_ok_in(&["run", "study.toml", "--json"], dir.path());
    // Per program: when it printed each epoch, and when it was told to stop.
    let log = std::fs::read_to_string(dir.path().join("epochs.log")).unwrap();
    let mut programs: std::collections::BTreeMap<&str, Program> = Default::default();
    for line in log.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let entry = programs.entry(f[0]).or_default();
        let t: f64 = f[3].parse().unwrap();
        match f[1] {
            "print" => entry.0.push((f[2].parse().unwrap(), t)),
            _ => entry.1 = Some(t),
        }
    }
    assert_eq!(programs.len(), 8, "{log}");
    let mut stopped = 0;
    for (pid, (printed, term)) in &programs {
        let Some(term) = term else {
            assert_eq!(printed.len(), 9, "program {pid} ran to its end: {log}");
            continue;
        };
        stopped += 1;
        let last = printed.last().unwrap().0;
        assert!(last < 9, "program {pid} was stopped after its end: {log}");
        // Told to stop within a second of printing its rung's value (an epoch takes
        // 0.2 s): its stdout was read as it printed, not when its buffer filled or it ended.
        let rung = if last >= 3 { 3 } else { 1 };
        let at = printed.iter().find(|(e, _)| *e == rung).unwrap().1;
        assert!(
            term - at < 1.0,
            "program {pid} printed epoch {rung} {:.2} s before it was stopped: {log}",
            term - at
        );
    }
    assert!(stopped > 0, "some program is stopped at a rung: {log}");
}
