//! Reading the loss of a script that knows nothing of us: every line of its output that
//! matches a regular expression is one value of its learning curve (`Epoch 3 ...
//! val_loss=0.412`, `Test set: Average loss: 0.0412`), and the last one is the result.

mod format;
pub mod lines;

pub use crate::spec::MetricSpec;
pub use format::{maximized_by_name, Format};

use crate::job::Evaluation;
use regex::Regex;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Where the metric lines are printed.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSource {
    Stdout,
    Stderr,
    /// A file the script writes: relative to its working directory (and inside it), or
    /// absolute.
    File(PathBuf),
}

impl MetricSource {
    /// `stdout`, `stderr` or `file:PATH`. A relative path may not climb out of the job's
    /// working directory with `..`: what the rule reads is the program's own output.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "stdout" => Ok(Self::Stdout),
            "stderr" => Ok(Self::Stderr),
            _ => match text.strip_prefix("file:") {
                Some(path) if !path.is_empty() => {
                    let path = PathBuf::from(path);
                    if path.is_relative()
                        && path.components().any(|c| matches!(c, Component::ParentDir))
                    {
                        return Err(format!(
                            "`file:{}` climbs out of the job's working directory; a relative \
                             metric file stays inside it (give an absolute path to read \
                             elsewhere)",
                            path.display()
                        ));
                    }
                    Ok(Self::File(path))
                }
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

    /// Whether the source is the program's own output stream, whose end a failure reason
    /// may quote (a file could be anything the path names).
    pub fn is_stream(&self) -> bool {
        !matches!(self, Self::File(_))
    }
}

/// How the budget of each value is known.
#[derive(Debug, Clone)]
enum BudgetRule {
    /// Lines matching a pattern announce the budget (its capture plus `offset`): a value's
    /// budget is the last one announced on its line or before it.
    /// With `redrawn`, a value on its budget's own line is provisional too (see
    /// [`CurveReader`]).
    Announced {
        regex: Regex,
        offset: f64,
        redrawn: bool,
    },
    /// The n-th value is at n times this budget (one value per epoch of 1 unit).
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
    budget: BudgetRule,
}

/// Which key of a [`MetricSpec`] a problem is about, and the problem.
pub type MetricSpecError = (&'static str, String);

impl MetricSpec {
    pub fn rule(&self) -> Result<MetricRule, MetricSpecError> {
        let source = MetricSource::parse(&self.source).map_err(|e| ("source", e))?;
        match (&self.format, &self.regex) {
            (Some(_), Some(_)) => Err((
                "regex",
                "give either a `format` or a `regex`, not both (a format fills in the regex)"
                    .to_string(),
            )),
            (Some(format), None) => self.format_rule(format, source),
            (None, Some(regex)) => self.regex_rule(regex, source),
            (None, None) => Err((
                "regex",
                format!(
                    "give a `regex` with one capture group for the value, or a `format` ({})",
                    format_names()
                ),
            )),
        }
    }

    fn regex_rule(&self, regex: &str, source: MetricSource) -> Result<MetricRule, MetricSpecError> {
        for (key, given) in [
            ("name", self.name.is_some()),
            ("budget_key", self.budget_key.is_some()),
        ] {
            if given {
                return Err((key, "applies to a `format`, not to a `regex`".to_string()));
            }
        }
        let rule = MetricRule::new(regex, source, self.maximize.unwrap_or(false))
            .map_err(|e| ("regex", e))?;
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

    fn format_rule(
        &self,
        format: &str,
        source: MetricSource,
    ) -> Result<MetricRule, MetricSpecError> {
        let format = Format::parse(format).map_err(|e| ("format", e))?;
        for (key, given) in [
            ("budget_regex", self.budget_regex.is_some()),
            ("step_budget", self.step_budget.is_some()),
        ] {
            if given {
                return Err((
                    key,
                    "a `format` reads the budget itself; leave it out".to_string(),
                ));
            }
        }
        if self.budget_key.is_some() && !format.takes_budget_key() {
            return Err((
                "budget_key",
                "applies to the formats with keys: hf-trainer, json-lines, key=value".to_string(),
            ));
        }
        let name = match (&self.name, format.default_name()) {
            (Some(name), _) => name.as_str(),
            (None, Some(name)) => name,
            (None, None) => {
                return Err((
                    "name",
                    "this format needs the metric's `name`, as the program prints it".to_string(),
                ))
            }
        };
        let rules = format
            .rules(name, self.budget_key.as_deref())
            .map_err(|e| ("name", e))?;
        let maximize = self.maximize.unwrap_or_else(|| {
            name == "accuracy" && format == Format::PytorchExamples || maximized_by_name(name)
        });
        let rule = MetricRule::new(&rules.value, source, maximize).map_err(|e| ("name", e))?;
        rule.with_announced_budget(&rules.budget, rules.offset, rules.redrawn)
            .map_err(|e| ("format", e))
    }
}

fn format_names() -> String {
    let names: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
    names.join(", ")
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

/// The first capture of `regex` on `line` as a number.
fn captured_number(regex: &Regex, line: &str) -> Option<f64> {
    let caps = regex.captures(line)?;
    caps.get(1)?.as_str().trim().parse().ok()
}

/// How many characters of a line a message quotes.
const QUOTE_CHARS: usize = 200;

/// `line` quoted for a message, shortened when long: reasons are stored with the job.
pub(crate) fn quote(line: &str) -> String {
    if line.chars().count() <= QUOTE_CHARS {
        format!("{line:?}")
    } else {
        let head: String = line.chars().take(QUOTE_CHARS).collect();
        format!("{head:?}...")
    }
}

impl MetricRule {
    pub fn new(pattern: &str, source: MetricSource, maximize: bool) -> Result<Self, String> {
        Ok(Self {
            regex: compile(pattern, "`regex`")?,
            source,
            maximize,
            budget: BudgetRule::Unknown,
        })
    }

    /// The budget of each value: announced by the lines `pattern` matches, on the value's
    /// line or before it (`Epoch 3/10` on a line of its own, then `val_loss: 0.41`).
    pub fn with_budget_regex(self, pattern: &str) -> Result<Self, String> {
        self.with_announced_budget(pattern, 0.0, false)
    }

    fn with_announced_budget(
        mut self,
        pattern: &str,
        offset: f64,
        redrawn: bool,
    ) -> Result<Self, String> {
        self.budget = BudgetRule::Announced {
            regex: compile(pattern, "`budget_regex`")?,
            offset,
            redrawn,
        };
        Ok(self)
    }

    pub fn with_step_budget(mut self, step: f64) -> Result<Self, String> {
        if !(step.is_finite() && step > 0.0) {
            return Err(format!(
                "`step_budget` must be a positive number, got {step}"
            ));
        }
        self.budget = BudgetRule::Every(step);
        Ok(self)
    }

    pub fn source(&self) -> &MetricSource {
        &self.source
    }

    /// The value's pattern.
    pub fn pattern(&self) -> &str {
        self.regex.as_str()
    }

    /// The pattern of the lines that announce the budget, if the rule has one.
    pub fn budget_pattern(&self) -> Option<&str> {
        match &self.budget {
            BudgetRule::Announced { regex, .. } => Some(regex.as_str()),
            _ => None,
        }
    }

    /// Whether values are maximized (the loss is the value's negative).
    pub fn maximizes(&self) -> bool {
        self.maximize
    }

    /// The file this rule reads for a job that wrote `stdout` and `stderr` in `workdir`.
    pub fn path(&self, stdout: &Path, stderr: &Path, workdir: &Path) -> PathBuf {
        match &self.source {
            MetricSource::Stdout => stdout.to_path_buf(),
            MetricSource::Stderr => stderr.to_path_buf(),
            MetricSource::File(p) => workdir.join(p),
        }
    }

    /// The value one line reports, if it matches; `Err` for a match that is no number. The
    /// message quotes the line only when it is the program's own output stream: a
    /// `file:` source can name any file, whose text has no place in a stored reason.
    pub fn value_of(&self, line: &str) -> Option<Result<f64, String>> {
        let caps = self.regex.captures(line)?;
        let text = caps.get(1).map_or("", |m| m.as_str());
        Some(text.trim().parse::<f64>().map_err(|_| {
            if self.source.is_stream() {
                format!(
                    "the metric regex matched {} but captured {}, not a number",
                    quote(line),
                    quote(text)
                )
            } else {
                format!(
                    "the metric regex matched a line of {} but captured no number",
                    self.source.describe()
                )
            }
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

    /// Whether each value's budget is known (a `budget_regex`, a format or a
    /// `step_budget`), as a stopping rule needs.
    pub fn knows_budgets(&self) -> bool {
        !matches!(self.budget, BudgetRule::Unknown)
    }

    /// Whether budgets come from announcing lines (so that a program that goes past a
    /// budget without a value can be told apart from one that is slow).
    pub fn announces_budgets(&self) -> bool {
        matches!(self.budget, BudgetRule::Announced { .. })
    }

    /// A reader of this rule's curve, fed one line at a time.
    pub fn reader(&self) -> CurveReader<'_> {
        CurveReader {
            rule: self,
            announced: None,
            count: 0,
            pending: None,
        }
    }

    /// The curve in `output`: every value at the point it became final (see
    /// [`CurveReader`]).
    pub fn curve(&self, output: impl Read) -> std::io::Result<Result<Vec<CurvePoint>, String>> {
        let mut output = output;
        let mut text = Vec::new();
        output.read_to_end(&mut text)?;
        let mut splitter = lines::LineSplitter::default();
        let mut all = Vec::new();
        splitter.push(&text, &mut all);
        splitter.finish(&mut all);
        Ok(self.curve_of_lines(&all))
    }

    fn curve_of_lines(&self, lines: &[String]) -> Result<Vec<CurvePoint>, String> {
        let mut reader = self.reader();
        let mut points = Vec::new();
        for line in lines {
            points.extend(reader.feed(line)?.settled);
        }
        points.extend(reader.finish());
        Ok(points)
    }

    /// The job's evaluation from its output file: the last value (negated when
    /// maximizing) is the loss; the whole curve and the raw value are kept as metrics.
    pub fn evaluate(&self, path: &Path) -> Result<Evaluation, String> {
        let lines = lines::read_lines(path).map_err(|e| {
            format!(
                "could not read the metric source {}: {}",
                self.source.describe(),
                super::os_msg(&e)
            )
        })?;
        let points = self.curve_of_lines(&lines)?;
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
        let curve: Vec<serde_json::Value> = points
            .iter()
            .map(|p| serde_json::json!([p.budget, p.value]))
            .collect();
        Ok(Evaluation::new(self.loss_of(last.value))
            .with_metric("metric", last.value)
            .with_metric("curve", curve))
    }
}

/// What one line of output said to a [`CurveReader`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineReading {
    /// The budget this line announced.
    pub announced: Option<f64>,
    /// The value this line reported, with the budget it belongs to.
    pub value: Option<CurvePoint>,
    /// The values that became final with this line, in order.
    pub settled: Vec<CurvePoint>,
}

/// Reads a program's output one line at a time, as it is printed. A value's budget is the
/// last budget announced on its line or an earlier one (its own line wins). A value on the
/// line that announces its budget is final at once (`[12]\tvalid_0's l2: 0.31`,
/// `{'eval_loss': 0.41, 'epoch': 2.0}`); a value under an earlier announcement stays
/// provisional until the program announces another budget or ends, and the last one
/// printed wins: a progress bar redrawn while an epoch runs (Keras's) prints many values
/// for one budget, and only the one standing at the end is the epoch's. Formats whose bar
/// carries the budget too ([`Format::Lightning`], which shows the last epoch's `val_loss`
/// until the next validation) keep even same-line values provisional.
#[derive(Debug, Clone)]
pub struct CurveReader<'a> {
    rule: &'a MetricRule,
    announced: Option<f64>,
    count: usize,
    pending: Option<CurvePoint>,
}

impl CurveReader<'_> {
    /// The last budget the program announced.
    pub fn announced(&self) -> Option<f64> {
        self.announced
    }

    /// Reads one line (escape sequences already removed). `Err` for a value that is no
    /// number.
    pub fn feed(&mut self, line: &str) -> Result<LineReading, String> {
        let mut reading = LineReading::default();
        let mut redrawn = false;
        if let BudgetRule::Announced {
            regex,
            offset,
            redrawn: r,
        } = &self.rule.budget
        {
            reading.announced = captured_number(regex, line).map(|b| b + offset);
            redrawn = *r;
        }
        if let Some(budget) = reading.announced {
            if self.pending.is_some_and(|p| p.budget != Some(budget)) {
                reading.settled.extend(self.pending.take());
            }
            self.announced = Some(budget);
        }
        let value = match self.rule.value_of(line) {
            None => return Ok(reading),
            Some(v) => v?,
        };
        self.count += 1;
        let budget = match &self.rule.budget {
            BudgetRule::Announced { .. } => self.announced,
            BudgetRule::Every(step) => Some(step * self.count as f64),
            BudgetRule::Unknown => None,
        };
        let point = CurvePoint { budget, value };
        reading.value = Some(point);
        let provisional = self.rule.announces_budgets()
            && (reading.announced.is_none() || redrawn)
            && budget.is_some();
        if provisional {
            self.pending = Some(point);
        } else {
            // A value on its budget's own line supersedes one pending at that budget.
            if self.pending.is_some_and(|p| p.budget != budget) {
                reading.settled.extend(self.pending.take());
            }
            self.pending = None;
            reading.settled.push(point);
        }
        Ok(reading)
    }

    /// The output ended: the provisional value, if any, is final.
    pub fn finish(&mut self) -> Option<CurvePoint> {
        self.pending.take()
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
