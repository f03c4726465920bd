//! `hyperband check STUDY_FILE`: runs the study's command once, at the smallest budget,
//! and shows what the study will read from it: each line the metric rule reads (a value, a
//! budget, or why not), the result, and whether stop mode can follow the program. Without
//! a metric rule it says whether the last line is a loss, and proposes a named format (or
//! a regex) from what the program printed. A study that cannot work is found here in
//! seconds instead of after a plan's worth of failed jobs.

use crate::cli_error::bad_input;
use crate::study_file::StudyFile;
use hyperband::objective::command::{
    lines, CurvePoint, Format, LineReading, MetricRule, MetricSpec,
};
use hyperband::{Decision, Limits, Mode};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The study file (TOML).
    pub study_file: PathBuf,
}

/// How much of a program's output is shown and searched (its end is what matters most).
const MAX_BYTES: u64 = 4 << 20;
/// Lines shown besides those the rule reads.
const CONTEXT_LINES: usize = 8;
/// The widest line shown.
const SHOW_CHARS: usize = 110;

pub fn run(args: &CheckArgs) -> anyhow::Result<()> {
    let file = StudyFile::load(&args.study_file).map_err(bad_input)?;
    for warning in &file.warnings {
        eprintln!("{}: warning: {warning}", file.path.display());
    }
    let spec = file.spec();
    let mut study = spec.build(Limits::default()).map_err(bad_input)?;
    let Decision::Run(job) = study.ask() else {
        anyhow::bail!("the study has no job to run");
    };
    let scratch = std::env::temp_dir().join(format!(
        "hyperband-check-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let objective = file
        .command_objective_in(&scratch.join("logs"), &scratch.join("checkpoints"))
        .ok_or_else(|| {
            bad_input(anyhow::anyhow!(
                "`check` runs a study's command; this study's objective is built in"
            ))
        })?;
    let argv = objective
        .command_line(&job)
        .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "running once, at budget {} (the smallest rung), configuration {}:\n  {}",
        job.budget,
        job.config,
        argv.join(" ")
    );
    let start = Instant::now();
    let result = objective.run(&job);
    println!("ended after {:.1} s", start.elapsed().as_secs_f64());
    let stdout = read_lines(&objective.stdout_path(&job));
    let stderr = read_lines(&objective.stderr_path(&job));
    let rule = match &file.objective.metric {
        Some(m) => Some(
            m.rule()
                .map_err(|(k, e)| anyhow::anyhow!("metric {k}: {e}"))?,
        ),
        None => None,
    };
    let ok = match &rule {
        Some(rule) => {
            let source = rule.path(
                &objective.stdout_path(&job),
                &objective.stderr_path(&job),
                file.dir(),
            );
            let lines = if source == objective.stdout_path(&job) {
                stdout.clone()
            } else if source == objective.stderr_path(&job) {
                stderr.clone()
            } else {
                read_lines(&source)
            };
            show_rule(rule, &lines, spec.algorithm.mode() == Mode::Stop);
            match &result {
                Ok(e) => println!("\nresult: loss {} (the last value read)", e.loss),
                Err(reason) => println!("\nthe job fails: {reason}"),
            }
            result.is_ok()
        }
        None => {
            show_tail("stdout", &stdout);
            match &result {
                Ok(e) => println!("\nresult: loss {} (the last line of stdout)", e.loss),
                Err(reason) => println!("\nthe job fails: {reason}"),
            }
            if result.is_err() || spec.algorithm.mode() == Mode::Stop {
                let all: Vec<String> = stdout.iter().chain(&stderr).cloned().collect();
                match propose(&all) {
                    Some((toml, points)) => println!(
                        "\nproposed, from what it printed ({points} values with their budgets):\n  \
                         [objective]\n  {toml}"
                    ),
                    None => println!(
                        "\nno known format matches its output: print the loss as the last line \
                         of stdout, or give `[objective] metric = {{ regex = '...' }}`"
                    ),
                }
            }
            result.is_ok()
        }
    };
    let _ = std::fs::remove_dir_all(&scratch);
    if !ok {
        return Err(crate::cli_error::Told(1).into());
    }
    Ok(())
}

/// The lines of a file as the metric rule splits them (its end when long; none when it
/// cannot be read).
pub(crate) fn read_lines(path: &Path) -> Vec<String> {
    lines::read_last_lines(path, MAX_BYTES).unwrap_or_default()
}

fn shown(line: &str) -> String {
    if line.chars().count() <= SHOW_CHARS {
        line.to_string()
    } else {
        let head: String = line.chars().take(SHOW_CHARS).collect();
        format!("{head}...")
    }
}

fn show_tail(what: &str, lines: &[String]) {
    println!("\n{what}: {} lines; the last ones:", lines.len());
    let from = lines.len().saturating_sub(CONTEXT_LINES);
    for (i, line) in lines.iter().enumerate().skip(from) {
        println!("  {:>5}  {}", i + 1, shown(line));
    }
}

/// Every line the rule reads something from, with what it read, and the verdict for stop
/// mode.
fn show_rule(rule: &MetricRule, lines: &[String], stop_mode: bool) {
    println!(
        "\nthe metric rule (value `{}`{}) on {} lines:",
        rule.pattern(),
        rule.budget_pattern()
            .map(|b| format!(", budget `{b}`"))
            .unwrap_or_default(),
        lines.len()
    );
    let mut reader = rule.reader();
    let mut settled: Vec<CurvePoint> = Vec::new();
    let mut quiet = 0;
    for (i, line) in lines.iter().enumerate() {
        let reading = match reader.feed(line) {
            Ok(r) => r,
            Err(e) => {
                println!("  {:>5}  {}\n         -> {e}", i + 1, shown(line));
                return;
            }
        };
        let said = describe(&reading);
        settled.extend(reading.settled);
        if said.is_empty() {
            quiet += 1;
            continue;
        }
        println!("  {:>5}  {}\n         -> {said}", i + 1, shown(line));
    }
    settled.extend(reader.finish());
    println!("  ({quiet} lines gave nothing)");
    let with_budget: Vec<&CurvePoint> = settled.iter().filter(|p| p.budget.is_some()).collect();
    println!(
        "\nthe curve: {}",
        settled
            .iter()
            .map(|p| match p.budget {
                Some(b) => format!("{} at {b}", p.value),
                None => format!("{} (no budget)", p.value),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let verdict = if settled.is_empty() {
        "stop mode cannot follow it: no line gave a value".to_string()
    } else if !rule.knows_budgets() {
        "stop mode cannot follow it: the rule does not know each value's budget (give a \
         `format`, `budget_regex` or `step_budget`)"
            .to_string()
    } else if with_budget.len() < settled.len() {
        format!(
            "stop mode cannot follow it: {} values came before any budget was announced",
            settled.len() - with_budget.len()
        )
    } else {
        format!(
            "stop mode can follow it: {} values, each with its budget",
            settled.len()
        )
    };
    println!(
        "{}{verdict}",
        if stop_mode { "" } else { "(promote mode) " }
    );
}

fn describe(reading: &LineReading) -> String {
    let mut parts = Vec::new();
    if let Some(b) = reading.announced {
        parts.push(format!("budget {b} announced"));
    }
    if let Some(p) = reading.value {
        parts.push(match p.budget {
            Some(b) => format!("value {} at budget {b}", p.value),
            None => format!("value {} (no budget known yet)", p.value),
        });
    }
    parts.join("; ")
}

/// The named format (or regex) that reads the most values with budgets from `lines`, as
/// a study-file line, and how many it reads.
pub fn propose(lines: &[String]) -> Option<(String, usize)> {
    let mut candidates: Vec<MetricSpec> = Vec::new();
    let spec = |format: &str, name: Option<&str>, budget_key: Option<&str>| MetricSpec {
        format: Some(format.to_string()),
        name: name.map(str::to_string),
        budget_key: budget_key.map(str::to_string),
        ..MetricSpec::default()
    };
    for (name, format) in Format::ALL {
        if let Some(default) = format.default_name() {
            candidates.push(spec(name, Some(default), None));
        }
    }
    candidates.push(spec("keras", Some("loss"), None));
    candidates.push(spec("lightning", Some("train_loss"), None));
    for name in boosting_names(lines, ':') {
        candidates.push(spec("xgboost", Some(&name), None));
    }
    for name in boosting_names(lines, ' ') {
        candidates.push(spec("lightgbm", Some(&name), None));
    }
    let (names, budget_key) = loss_keys(lines);
    for name in &names {
        candidates.push(spec("json-lines", Some(name), budget_key.as_deref()));
        candidates.push(spec("key=value", Some(name), budget_key.as_deref()));
    }
    let mut best: Option<(MetricSpec, usize)> = None;
    for candidate in candidates {
        let Ok(rule) = candidate.rule() else { continue };
        let mut reader = rule.reader();
        let mut points = Vec::new();
        for line in lines {
            match reader.feed(line) {
                Ok(r) => points.extend(r.settled),
                Err(_) => break,
            }
        }
        points.extend(reader.finish());
        let n = points.iter().filter(|p| p.budget.is_some()).count();
        if n > 0 && best.as_ref().is_none_or(|(_, m)| n > *m) {
            best = Some((candidate, n));
        }
    }
    best.map(|(spec, n)| (toml_line(&spec), n))
}

fn toml_line(spec: &MetricSpec) -> String {
    let mut parts = vec![format!(
        "format = \"{}\"",
        spec.format.as_deref().unwrap_or("")
    )];
    if let Some(name) = &spec.name {
        parts.push(format!("name = {}", toml_string(name)));
    }
    if let Some(key) = &spec.budget_key {
        parts.push(format!("budget_key = {}", toml_string(key)));
    }
    format!("metric = {{ {} }}", parts.join(", "))
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The metric names of XGBoost (`[3]\tname:value`, `sep` ':') or LightGBM (`[3]\tname:
/// value`, `sep` ' ') evaluation lines, validation sets first.
fn boosting_names(lines: &[String], sep: char) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in lines.iter().filter(|l| l.starts_with('[')) {
        for field in line.split('\t').skip(1) {
            let name = match sep {
                ':' => field.rsplit_once(':').map(|(n, _)| n),
                _ => field.rsplit_once(": ").map(|(n, _)| n),
            };
            if let Some(n) = name {
                if !n.is_empty() && !names.iter().any(|x| x == n) {
                    names.push(n.to_string());
                }
            }
        }
    }
    names.sort_by_key(|n| {
        let l = n.to_ascii_lowercase();
        !(l.contains("valid") || l.contains("eval") || l.contains("test"))
    });
    names.truncate(3);
    names
}

/// Keys that look like losses in `key=value` pairs or JSON objects, validation ones first,
/// and the key that carries the epoch (or step), if any.
fn loss_keys(lines: &[String]) -> (Vec<String>, Option<String>) {
    let key = regex::Regex::new(r#"["']?([A-Za-z_][\w.-]*)["']?\s*[=:]\s*-?[0-9.]"#)
        .expect("a valid pattern");
    let mut names: Vec<String> = Vec::new();
    let mut budget_key = None;
    for line in lines.iter().take(10_000) {
        for caps in key.captures_iter(line) {
            let k = caps[1].to_string();
            if k == "epoch" || (k == "step" && budget_key.is_none()) {
                budget_key = Some(k.clone());
            }
            if k.to_ascii_lowercase().contains("loss") && !names.contains(&k) {
                names.push(k);
            }
        }
    }
    names
        .sort_by_key(|n| !(n.starts_with("val") || n.starts_with("eval") || n.starts_with("test")));
    names.truncate(4);
    (names, budget_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn proposes_the_format_that_reads_the_most() {
        let keras = lines("Epoch 1/2\n3/3 - 0s - loss: 0.9 - val_loss: 0.8\nEpoch 2/2\n3/3 - 0s - loss: 0.5 - val_loss: 0.4\n");
        assert_eq!(
            propose(&keras).unwrap(),
            (
                "metric = { format = \"keras\", name = \"val_loss\" }".to_string(),
                2
            )
        );
        let torch = lines("Train Epoch: 1 [0/100 (0%)]\tLoss: 2.3\n\nTest set: Average loss: 0.2011, Accuracy: 90/100 (90%)\n");
        assert_eq!(
            propose(&torch).unwrap().0,
            "metric = { format = \"pytorch-examples\", name = \"loss\" }"
        );
        let lgb = lines("[1]\tvalid_0's l2: 10.8\n[2]\tvalid_0's l2: 9.9\n");
        assert_eq!(
            propose(&lgb).unwrap().0,
            "metric = { format = \"lightgbm\", name = \"valid_0's l2\" }"
        );
        let xgb = lines(
            "[0]\ttrain-logloss:0.5\teval-logloss:0.6\n[1]\ttrain-logloss:0.4\teval-logloss:0.5\n",
        );
        assert_eq!(
            propose(&xgb).unwrap().0,
            "metric = { format = \"xgboost\", name = \"eval-logloss\" }"
        );
        let kv =
            lines("epoch=1 train_loss=0.9 val_loss=0.8\nepoch=2 train_loss=0.5 val_loss=0.4\n");
        assert_eq!(
            propose(&kv).unwrap().0,
            "metric = { format = \"key=value\", name = \"val_loss\", budget_key = \"epoch\" }"
        );
        assert_eq!(propose(&lines("hello\nworld\n")), None);
    }
}
