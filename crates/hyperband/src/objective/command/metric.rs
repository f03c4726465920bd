//! Reading the loss of a script that knows nothing of us: every line of its output that
//! matches a regular expression is one value of its learning curve (`Epoch 3 ...
//! val_loss=0.412`, `Test set: Average loss: 0.0412`), and the last one is the result.

use crate::job::Evaluation;
use regex::Regex;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Where the metric lines are printed.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSource {
    Stdout,
    Stderr,
    /// A file the script writes, relative to its working directory.
    File(PathBuf),
}

impl MetricSource {
    /// `stdout`, `stderr` or `file:PATH`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "stdout" => Ok(Self::Stdout),
            "stderr" => Ok(Self::Stderr),
            _ => match text.strip_prefix("file:") {
                Some(path) if !path.is_empty() => Ok(Self::File(PathBuf::from(path))),
                _ => Err(format!(
                    "unknown source `{text}`; expected `stdout`, `stderr` or `file:PATH`"
                )),
            },
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Stdout => "stdout".to_string(),
            Self::Stderr => "stderr".to_string(),
            Self::File(p) => format!("`{}`", p.display()),
        }
    }
}

/// How the budget of each matched value is known.
#[derive(Debug, Clone)]
pub enum StepBudget {
    /// A second expression on the same line captures it (`Epoch (\d+)`).
    Regex(Regex),
    /// The n-th match is at n times this budget (one value per epoch of 1 unit).
    Every(f64),
    /// Unknown: the curve records the values alone.
    Unknown,
}

/// The metric of a command objective.
#[derive(Debug, Clone)]
pub struct MetricRule {
    regex: Regex,
    source: MetricSource,
    /// The value is an accuracy or a score: the loss is its negative.
    maximize: bool,
    budget: StepBudget,
}

/// A metric rule as data: what a study file's `[objective] metric` says and what the
/// store keeps with the study's command, so that a worker joining from anywhere reads the
/// program's output the same way.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    pub regex: String,
    /// `stdout`, `stderr` or `file:PATH`.
    #[serde(default = "default_source")]
    pub source: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub maximize: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_budget: Option<f64>,
}

fn default_source() -> String {
    "stdout".to_string()
}

/// Which key of a [`MetricSpec`] a problem is about, and the problem.
pub type MetricSpecError = (&'static str, String);

impl MetricSpec {
    pub fn rule(&self) -> Result<MetricRule, MetricSpecError> {
        let source = MetricSource::parse(&self.source).map_err(|e| ("source", e))?;
        let rule = MetricRule::new(&self.regex, source, self.maximize).map_err(|e| ("regex", e))?;
        match (&self.budget_regex, self.step_budget) {
            (Some(_), Some(_)) => Err((
                "step_budget",
                "give either `budget_regex` or `step_budget`, not both".to_string(),
            )),
            (Some(r), None) => rule.with_budget_regex(r).map_err(|e| ("budget_regex", e)),
            (None, Some(step)) => rule.with_step_budget(step).map_err(|e| ("step_budget", e)),
            (None, None) => Ok(rule),
        }
    }
}

/// One value of a job's learning curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    pub budget: Option<f64>,
    pub value: f64,
}

/// A regular expression with one capture group, for messages naming the key.
fn compile(pattern: &str, what: &str) -> Result<Regex, String> {
    let regex = Regex::new(pattern).map_err(|e| format!("{what} is not a valid regex: {e}"))?;
    if regex.captures_len() < 2 {
        return Err(format!(
            "{what} has no capture group: put the number in parentheses, e.g. `loss=([0-9.eE+-]+)`"
        ));
    }
    Ok(regex)
}

impl MetricRule {
    pub fn new(pattern: &str, source: MetricSource, maximize: bool) -> Result<Self, String> {
        Ok(Self {
            regex: compile(pattern, "`regex`")?,
            source,
            maximize,
            budget: StepBudget::Unknown,
        })
    }

    /// The budget of each value: from `budget_regex` on the same line, or counted in steps.
    pub fn with_budget_regex(mut self, pattern: &str) -> Result<Self, String> {
        self.budget = StepBudget::Regex(compile(pattern, "`budget_regex`")?);
        Ok(self)
    }

    pub fn with_step_budget(mut self, step: f64) -> Result<Self, String> {
        if !(step.is_finite() && step > 0.0) {
            return Err(format!(
                "`step_budget` must be a positive number, got {step}"
            ));
        }
        self.budget = StepBudget::Every(step);
        Ok(self)
    }

    pub fn source(&self) -> &MetricSource {
        &self.source
    }

    /// The file this rule reads for a job that wrote `stdout` and `stderr` in `workdir`.
    pub fn path(&self, stdout: &Path, stderr: &Path, workdir: &Path) -> PathBuf {
        match &self.source {
            MetricSource::Stdout => stdout.to_path_buf(),
            MetricSource::Stderr => stderr.to_path_buf(),
            MetricSource::File(p) => workdir.join(p),
        }
    }

    /// The value one line reports, if it matches; `Err` for a match that is no number.
    pub fn value_of(&self, line: &str) -> Option<Result<f64, String>> {
        let caps = self.regex.captures(line)?;
        let text = caps.get(1).map_or("", |m| m.as_str());
        Some(text.trim().parse::<f64>().map_err(|_| {
            format!("the metric regex matched {line:?} but captured {text:?}, not a number")
        }))
    }

    /// The loss a value stands for (its negative when maximizing).
    pub fn loss_of(&self, value: f64) -> f64 {
        if self.maximize {
            -value
        } else {
            value
        }
    }

    /// Whether each value's budget is known (a `budget_regex` or a `step_budget`), as a
    /// stopping rule needs.
    pub fn knows_budgets(&self) -> bool {
        !matches!(self.budget, StepBudget::Unknown)
    }

    /// The budget of the `count`-th matched value, on `line`.
    pub(super) fn budget_of(&self, line: &str, count: usize) -> Option<f64> {
        match &self.budget {
            StepBudget::Regex(r) => r
                .captures(line)
                .and_then(|c| c.get(1))
                .and_then(|m| m.as_str().trim().parse().ok()),
            StepBudget::Every(step) => Some(step * count as f64),
            StepBudget::Unknown => None,
        }
    }

    /// Every matching line of `reader`, in order.
    pub fn curve(&self, reader: impl BufRead) -> io::Result<Result<Vec<CurvePoint>, String>> {
        let mut points = Vec::new();
        for line in reader.split(b'\n') {
            let line = line?;
            let line = String::from_utf8_lossy(&line);
            match self.value_of(&line) {
                None => continue,
                Some(Err(e)) => return Ok(Err(e)),
                Some(Ok(value)) => points.push(CurvePoint {
                    budget: self.budget_of(&line, points.len() + 1),
                    value,
                }),
            }
        }
        Ok(Ok(points))
    }

    /// The job's evaluation from its output file: the last matched value (negated when
    /// maximizing) is the loss; the whole curve and the raw value are kept as metrics.
    pub fn evaluate(&self, path: &Path) -> Result<Evaluation, String> {
        let file = File::open(path).map_err(|e| {
            format!(
                "could not read the metric source {}: {e}",
                self.source.describe()
            )
        })?;
        let points = self.curve(BufReader::new(file)).map_err(|e| {
            format!(
                "could not read the metric source {}: {e}",
                self.source.describe()
            )
        })??;
        let Some(last) = points.last() else {
            return Err(format!(
                "no line of {} matched the metric regex `{}`",
                self.source.describe(),
                self.regex.as_str()
            ));
        };
        if !last.value.is_finite() {
            return Err(format!("the metric is not finite: {}", last.value));
        }
        let loss = if self.maximize {
            -last.value
        } else {
            last.value
        };
        let curve: Vec<serde_json::Value> = points
            .iter()
            .map(|p| serde_json::json!([p.budget, p.value]))
            .collect();
        Ok(Evaluation::new(loss)
            .with_metric("metric", last.value)
            .with_metric("curve", curve))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str) -> MetricRule {
        MetricRule::new(pattern, MetricSource::Stdout, false).unwrap()
    }

    #[test]
    fn every_matching_line_is_a_point_and_the_last_is_the_loss() {
        let out = "starting\nEpoch 1 train_loss=0.9 val_loss=0.8\nEpoch 2 train_loss=0.5 val_loss=0.45\nnoise\nEpoch 3 train_loss=0.3 val_loss=0.41\ndone\n";
        let r = rule(r"val_loss=([0-9.]+)")
            .with_budget_regex(r"Epoch (\d+)")
            .unwrap();
        let points = r.curve(out.as_bytes()).unwrap().unwrap();
        assert_eq!(points.len(), 3);
        assert_eq!(
            points[2],
            CurvePoint {
                budget: Some(3.0),
                value: 0.41
            }
        );
        let counted = rule(r"val_loss=([0-9.]+)").with_step_budget(2.0).unwrap();
        let points = counted.curve(out.as_bytes()).unwrap().unwrap();
        assert_eq!(points[1].budget, Some(4.0));
    }

    #[test]
    fn pytorch_example_test_lines_read_as_people_print_them() {
        let out = "Test set: Average loss: 0.2011, Accuracy: 9420/10000 (94%)\n\nTest set: Average loss: 0.0412, Accuracy: 9871/10000 (99%)\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, out).unwrap();
        let e = rule(r"Average loss: ([0-9.]+)").evaluate(&path).unwrap();
        assert_eq!(e.loss, 0.0412);
        let acc = MetricRule::new(r"Accuracy: (\d+)/", MetricSource::Stdout, true)
            .unwrap()
            .evaluate(&path)
            .unwrap();
        assert_eq!(acc.loss, -9871.0);
        assert_eq!(acc.metrics["metric"], 9871.0);
    }

    #[test]
    fn no_match_a_non_number_or_a_bad_pattern_are_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, "loss=abc\n").unwrap();
        let err = rule(r"loss=(\w+)").evaluate(&path).unwrap_err();
        assert!(err.contains("not a number"), "{err}");
        let err = rule(r"acc=(\d+)").evaluate(&path).unwrap_err();
        assert!(err.contains("no line of stdout matched"), "{err}");
        std::fs::write(&path, "loss=nan\n").unwrap();
        let err = rule(r"loss=(\w+)").evaluate(&path).unwrap_err();
        assert!(err.contains("not finite"), "{err}");
        assert!(MetricRule::new("loss=", MetricSource::Stdout, false)
            .unwrap_err()
            .contains("capture group"));
        assert!(MetricRule::new("(", MetricSource::Stdout, false)
            .unwrap_err()
            .contains("not a valid regex"));
        assert!(MetricSource::parse("stdin")
            .unwrap_err()
            .contains("file:PATH"));
        assert_eq!(
            MetricSource::parse("file:metrics.log").unwrap(),
            MetricSource::File("metrics.log".into())
        );
    }
}
