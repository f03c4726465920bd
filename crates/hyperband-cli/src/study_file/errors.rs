//! How a mistake in a study file is located and worded: `FILE:LINE: [table] key: message`,
//! because a study file is written by hand and the line is what its author needs.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A problem in a study file, located for its author.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyFileError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no place in the file (it could not be read).
    pub line: usize,
    /// The dotted key path of the culprit (`space.lr.low`), empty when there is none.
    pub key: String,
    /// The message without the file and line, starting with the table and key.
    pub message: String,
}

impl fmt::Display for StudyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for StudyFileError {}

/// Every mistake found in one study file, in file order, so that its author fixes them
/// all in one go instead of one run at a time. Never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyFileErrors(pub Vec<StudyFileError>);

impl From<StudyFileError> for StudyFileErrors {
    fn from(e: StudyFileError) -> Self {
        Self(vec![e])
    }
}

/// One mistake reads as before; several get a count first, then one per line, each line
/// starting with `FILE:LINE:` so that editors can jump to it.
impl fmt::Display for StudyFileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            all => {
                let file = all.first().map(|e| e.file.display().to_string());
                write!(f, "{} mistakes in {}:", all.len(), file.unwrap_or_default())?;
                for e in all {
                    write!(f, "\n{e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for StudyFileErrors {}

/// The file being checked: its text, to turn spans into lines and key paths.
pub(super) struct Ctx<'a> {
    pub text: &'a str,
    pub path: &'a Path,
}

/// Where a message points: a key path and a span of the file.
pub(super) struct At<'k> {
    key: &'k [&'k str],
    span: Range<usize>,
}

pub(super) fn at<'k>(key: &'k [&'k str], span: Range<usize>) -> At<'k> {
    At { key, span }
}

impl Ctx<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
    }

    /// `[table] key: message`, or `[table] message` when the message names the key itself
    /// (a key of `""` stands for the table as a whole).
    fn located(&self, at: &At, message: &str, names_key: bool) -> String {
        let (table, key) = match at.key.split_last() {
            Some((last, table)) => (table.join("."), *last),
            None => (String::new(), ""),
        };
        let mut out = String::new();
        if !table.is_empty() {
            out.push_str(&format!("[{table}] "));
        }
        if !names_key && !key.is_empty() {
            out.push_str(&format!("{key}: "));
        }
        out.push_str(message);
        out
    }

    pub fn error(&self, at: At, message: impl fmt::Display) -> StudyFileError {
        self.make_error(at, &message.to_string(), false)
    }

    /// An error whose message already names the key (`low (0.1) must be below high`).
    pub fn error_naming_key(&self, at: At, message: impl fmt::Display) -> StudyFileError {
        self.make_error(at, &message.to_string(), true)
    }

    fn make_error(&self, at: At, message: &str, names_key: bool) -> StudyFileError {
        StudyFileError {
            file: self.path.to_path_buf(),
            line: self.line(&at.span),
            key: at
                .key
                .iter()
                .filter(|k| !k.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("."),
            message: self.located(&at, message, names_key),
        }
    }

    pub fn warning(&self, at: At, message: impl fmt::Display) -> String {
        self.error(at, message).to_string()
    }

    /// A file that is not TOML at all: there is no document to find keys in, so the
    /// error names a key only when it quotes one.
    pub fn syntax_error(&self, e: &toml::de::Error) -> StudyFileError {
        let span = e.span().unwrap_or(0..0);
        let mut message = tidy_serde_message(e.message());
        if message == "duplicate key" {
            if let Some(k) = self.text.get(span.clone()) {
                message = format!("duplicate key `{}`", k.trim());
            }
        }
        self.make_error(at(&[], span), &message, false)
    }

    /// Turns a serde error into one that names the key, found by walking the spanned
    /// document to the entry that contains the error's position.
    pub fn serde_error(&self, e: &toml::de::Error) -> StudyFileError {
        let span = e.span().unwrap_or(0..0);
        let message = tidy_serde_message(e.message());
        let mut path = match toml::de::DeTable::parse(self.text) {
            // An empty span is "somewhere in the document": the top level.
            Ok(_) if span.is_empty() => Vec::new(),
            Ok(doc) => key_path_at(doc.get_ref(), span.start),
            Err(_) => Vec::new(),
        };
        // The span of a missing key is the table that lacks it; the message names the key.
        if let Some(missing) = message
            .strip_prefix("missing key `")
            .and_then(|m| m.split('`').next())
        {
            path.push(missing.to_string());
        }
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let names_key = message.starts_with("unknown key") || message.starts_with("missing key");
        self.make_error(at(&path, span), &message, names_key)
    }
}

/// serde's wording, in the study file's terms.
fn tidy_serde_message(m: &str) -> String {
    let mut m = m
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
        .replace("expected u32", "expected a non-negative integer")
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected f64", "expected a number");
    // A table given as something else: the raw struct's name means nothing to the author.
    if let Some(at) = m.find("expected struct Raw") {
        m.truncate(at);
        m.push_str("expected a table");
    }
    m
}

/// The keys leading to the innermost entry whose key or value contains `pos`.
fn key_path_at(table: &toml::de::DeTable, pos: usize) -> Vec<String> {
    fn walk(table: &toml::de::DeTable, pos: usize, path: &mut Vec<String>) -> bool {
        for (k, v) in table.iter() {
            path.push(k.get_ref().to_string());
            if walk_value(v, pos, path) {
                return true;
            }
            if k.span().contains(&pos) || v.span().contains(&pos) {
                return true;
            }
            path.pop();
        }
        false
    }
    fn walk_value(v: &Spanned<toml::de::DeValue>, pos: usize, path: &mut Vec<String>) -> bool {
        match v.get_ref() {
            // A `[table]`'s span is its header: its keys may lie anywhere below it.
            toml::de::DeValue::Table(t) => walk(t, pos, path),
            toml::de::DeValue::Array(a) => a.iter().any(|x| walk_value(x, pos, path)),
            _ => false,
        }
    }
    let mut path = Vec::new();
    walk(table, pos, &mut path);
    path
}
