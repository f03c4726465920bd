//! Reading what a command left in its log files: the loss on the last line of stdout and
//! the tail of stderr.
//!
//! Outputs are read from the end of the files, never whole: a training script may print
//! gigabytes of progress, and only the last line counts.

use super::metric::quote;
use crate::job::Evaluation;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// How much of the end of stdout is read to find the last line. A last line longer than
/// this is not a loss anyone meant to report.
const LAST_LINE_WINDOW: u64 = 1 << 20;
/// How much of the end of stderr is read for the failure reason.
const STDERR_WINDOW: u64 = 16 << 10;

/// The last `window` bytes of a file (lossily decoded), and whether the file was longer.
fn read_tail(path: &Path, window: u64) -> io::Result<(String, bool)> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(window);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.take(window).read_to_end(&mut bytes)?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), start > 0))
}

/// The last non-empty line of a file, trimmed; `None` when there is none.
pub(super) fn last_line(path: &Path) -> io::Result<Option<String>> {
    let (text, _) = read_tail(path, LAST_LINE_WINDOW)?;
    Ok(text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string))
}

/// Up to `n` last lines of a file (a line cut by the read window is dropped).
pub(super) fn tail_lines(path: &Path, n: usize) -> Vec<String> {
    let Ok((text, cut)) = read_tail(path, STDERR_WINDOW) else {
        return Vec::new();
    };
    let mut lines: Vec<&str> = text.lines().collect();
    if cut && !lines.is_empty() {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let from = lines.len().saturating_sub(n);
    lines[from..].iter().map(|l| l.to_string()).collect()
}

/// Reads the evaluation off the last line of stdout: a bare number, or a JSON object with a
/// numeric `loss` (other keys become metrics; a boolean `resumed` says whether the command
/// really continued from its checkpoint).
pub(super) fn parse_evaluation(line: &str) -> Result<Evaluation, String> {
    if let Ok(loss) = line.parse::<f64>() {
        return finite(loss).map(Evaluation::new);
    }
    if !line.starts_with('{') {
        return Err(format!(
            "last line of stdout is not a number or JSON with `loss`: {}",
            quote(line)
        ));
    }
    let object: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(line) {
        Ok(o) => o,
        Err(e) => {
            // Python's json.dumps writes NaN and Infinity, which JSON does not have.
            let hint = if ["NaN", "Infinity"].iter().any(|t| line.contains(t)) {
                " (NaN and Infinity are not JSON numbers; a non-finite loss fails the job)"
            } else {
                ""
            };
            return Err(format!(
                "last line of stdout is not valid JSON ({e}){hint}: {}",
                quote(line)
            ));
        }
    };
    let mut evaluation = Evaluation::default();
    let mut has_loss = false;
    for (key, value) in object {
        match key.as_str() {
            "loss" => {
                let loss = value.as_f64().ok_or_else(|| {
                    format!("`loss` on the last line of stdout is not a number: {value}")
                })?;
                evaluation.loss = finite(loss)?;
                has_loss = true;
            }
            "resumed" => {
                let resumed = value.as_bool().ok_or_else(|| {
                    format!(
                        "`resumed` on the last line of stdout must be true or false, got {value}"
                    )
                })?;
                evaluation.resumed = Some(resumed);
            }
            _ => {
                evaluation.metrics.insert(key, value);
            }
        }
    }
    if !has_loss {
        return Err(format!(
            "JSON on the last line of stdout has no `loss` key: {}",
            quote(line)
        ));
    }
    Ok(evaluation)
}

fn finite(loss: f64) -> Result<f64, String> {
    if loss.is_finite() {
        Ok(loss)
    } else {
        Err(format!("loss is not finite: {loss}"))
    }
}
