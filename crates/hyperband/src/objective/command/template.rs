//! The command template: the program's arguments with `{placeholder}`s, and the
//! environment a job's program is started with. Pure text, no processes: filled for a job
//! here, run in [`super::CommandObjective`].
//!
//! A conditional parameter that is absent from a job's configuration (its `when` does not
//! hold) gets no environment variable, and an argument whose placeholder names it is left
//! out, together with the argument just before it when that one starts with `-` and has no
//! placeholder: `["--momentum", "{momentum}"]` disappears as a pair, `"--momentum={momentum}"`
//! alone. Fixed parameters are passed like searched ones; a searched parameter of the same
//! name takes precedence.

use crate::config::{Config, Value};
use crate::job::Job;
use std::ffi::OsString;
use std::path::Path;

/// Placeholders every command may use besides the parameter names.
pub const JOB_PLACEHOLDERS: &[&str] = &["budget", "resume_from", "trial", "job", "checkpoint_dir"];

/// A parsed command line: every argument split into text and placeholders, and the fixed
/// parameters that fill placeholders besides the job's own.
#[derive(Debug, Clone)]
pub(super) struct Template {
    argv: Vec<String>,
    pieces: Vec<Vec<Piece>>,
    fixed: Vec<(String, Value)>,
}

impl Template {
    /// Parses `argv` (program first); an empty command or a bad brace is an error.
    pub fn parse(argv: Vec<String>) -> Result<Self, String> {
        if argv.is_empty() {
            return Err("the command is empty".to_string());
        }
        let pieces = argv
            .iter()
            .map(|a| parse_arg(a))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            argv,
            pieces,
            fixed: Vec::new(),
        })
    }

    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    pub fn add_fixed(&mut self, name: String, value: Value) {
        self.fixed.push((name, value));
    }

    /// Fills the template for `job`. An argument naming an absent parameter is left out,
    /// with the plain `-...` argument just before it (see the module documentation).
    pub fn fill(&self, job: &Job, checkpoint_dir: &Path) -> Result<Vec<String>, String> {
        let mut out = Vec::with_capacity(self.pieces.len());
        // Whether the last argument pushed is a plain flag (`-...`, no placeholder) that an
        // absent parameter right after it takes along.
        let mut last_is_flag = false;
        for pieces in &self.pieces {
            let mut arg = String::new();
            let mut absent = false;
            for piece in pieces {
                match piece {
                    Piece::Text(t) => arg.push_str(t),
                    Piece::Slot(name) => match self.slot_value(name, job, checkpoint_dir) {
                        Some(v) => arg.push_str(&v),
                        None if job.config.names().iter().any(|n| n == name) => absent = true,
                        None => return Err(self.unknown_placeholder(name, &job.config)),
                    },
                }
            }
            if absent {
                if last_is_flag {
                    out.pop();
                }
                last_is_flag = false;
                continue;
            }
            last_is_flag = matches!(pieces.as_slice(), [Piece::Text(t)] if t.starts_with('-'));
            out.push(arg);
        }
        Ok(out)
    }

    fn slot_value(&self, name: &str, job: &Job, checkpoint_dir: &Path) -> Option<String> {
        job_value(name, job, checkpoint_dir).or_else(|| {
            let is_param = job.config.names().iter().any(|n| n == name);
            let fixed = self.fixed.iter().find(|(n, _)| n == name);
            fixed.filter(|_| !is_param).map(|(_, v)| v.to_string())
        })
    }

    fn unknown_placeholder(&self, name: &str, config: &Config) -> String {
        let mut known: Vec<&str> = config.names().iter().map(String::as_str).collect();
        known.extend(self.fixed.iter().map(|(n, _)| n.as_str()));
        known.extend(JOB_PLACEHOLDERS);
        format!(
            "placeholder `{{{name}}}` names no parameter; known: {}",
            known.join(", ")
        )
    }

    /// `HYPERBAND_CONFIG`: the present parameters, then the fixed ones.
    fn config_json(&self, config: &Config) -> Result<String, String> {
        let mut map = serde_json::Map::new();
        for (n, v) in config.iter() {
            map.insert(
                n.clone(),
                serde_json::to_value(v).map_err(|e| e.to_string())?,
            );
        }
        for (n, v) in &self.fixed {
            if !config.names().contains(n) {
                map.insert(
                    n.clone(),
                    serde_json::to_value(v).map_err(|e| e.to_string())?,
                );
            }
        }
        serde_json::to_string(&map).map_err(|e| e.to_string())
    }

    /// The environment `job`'s program gets: each fixed then each present parameter as
    /// `HYPERBAND_PARAM_<NAME>` (a searched parameter overrides a fixed namesake), and the
    /// job's own `HYPERBAND_*` variables.
    pub fn environment(
        &self,
        job: &Job,
        checkpoint_dir: &Path,
    ) -> Result<Vec<(String, OsString)>, String> {
        let var = |name: &str, value: String| (name.to_string(), OsString::from(value));
        let mut env = Vec::new();
        for (name, value) in &self.fixed {
            env.push(var(&param_env_var(name), value.to_string()));
        }
        // Absent parameters get no variable.
        for (name, value) in job.config.iter() {
            env.push(var(&param_env_var(name), value.to_string()));
        }
        env.extend([
            var("HYPERBAND_BUDGET", job.budget.to_string()),
            var("HYPERBAND_RESUME_FROM", job.resume_from.to_string()),
            // As the path is, whatever its bytes.
            (
                "HYPERBAND_CHECKPOINT_DIR".to_string(),
                checkpoint_dir.as_os_str().to_owned(),
            ),
            var("HYPERBAND_TRIAL", job.trial.to_string()),
            var("HYPERBAND_JOB", job.id.to_string()),
            var("HYPERBAND_CONFIG", self.config_json(&job.config)?),
        ]);
        Ok(env)
    }
}

/// One argument of the command line: literal text and placeholders.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Slot(String),
}

/// Splits an argument into text and placeholders; `{{` and `}}` stand for literal braces.
fn parse_arg(arg: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = arg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '}' => {
                return Err(format!(
                    "unmatched `}}` in argument {arg:?} (write `}}}}` for a literal brace)"
                ))
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') | None => {
                            return Err(format!(
                            "unclosed `{{` in argument {arg:?} (write `{{{{` for a literal brace)"
                        ))
                        }
                        Some(c) => name.push(c),
                    }
                }
                if name.is_empty() {
                    return Err(format!("empty placeholder `{{}}` in argument {arg:?}"));
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Slot(name));
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// The placeholder names in one argument of a command template, in order, so that a study
/// file can be checked against its space before anything runs.
pub fn placeholders(arg: &str) -> Result<Vec<String>, String> {
    Ok(parse_arg(arg)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Slot(name) => Some(name),
            Piece::Text(_) => None,
        })
        .collect())
}

/// The environment variable that carries parameter `name`: upper-cased, with characters a
/// shell could not name replaced by `_`.
pub fn param_env_var(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("HYPERBAND_PARAM_{name}")
}

/// What a placeholder names in `job`: one of [`JOB_PLACEHOLDERS`] or a present parameter.
fn job_value(name: &str, job: &Job, checkpoint_dir: &Path) -> Option<String> {
    Some(match name {
        "budget" => job.budget.to_string(),
        "resume_from" => job.resume_from.to_string(),
        "trial" => job.trial.to_string(),
        "job" => job.id.to_string(),
        "checkpoint_dir" => checkpoint_dir.to_string_lossy().into_owned(),
        _ => job.config.get(name)?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{JobId, TrialId};
    use crate::space::{Param, Space};

    fn job(pairs: &[(&str, Value)]) -> Job {
        let space = Space::new(vec![
            Param::log_float("lr", 1e-3, 1.0),
            Param::categorical("opt", &["sgd", "adam"]),
            Param::float("momentum", 0.0, 1.0)
                .when("opt == 'sgd'")
                .unwrap(),
        ])
        .unwrap();
        Job {
            id: JobId(7),
            trial: TrialId(3),
            config: space
                .config(pairs.iter().map(|(n, v)| (*n, v.clone())))
                .unwrap(),
            budget: 9.0,
            resume_from: 3.0,
            bracket: 0,
            rung: 2,
            attempt: 0,
        }
    }

    fn template(args: &[&str]) -> Template {
        Template::parse(args.iter().map(|a| a.to_string()).collect()).unwrap()
    }

    fn adam() -> Job {
        job(&[
            ("lr", Value::Float(0.01)),
            ("opt", Value::Categorical("adam".into())),
        ])
    }

    #[test]
    fn braces_escape_and_bad_ones_are_refused() {
        assert_eq!(
            parse_arg("a{{b}}{lr}c").unwrap(),
            vec![
                Piece::Text("a{b}".into()),
                Piece::Slot("lr".into()),
                Piece::Text("c".into())
            ]
        );
        assert_eq!(parse_arg("").unwrap(), vec![Piece::Text(String::new())]);
        for bad in ["{lr", "lr}", "{}", "{a{b}"] {
            assert!(parse_arg(bad).is_err(), "{bad}");
        }
        assert_eq!(placeholders("--x={lr}/{opt}").unwrap(), ["lr", "opt"]);
        assert!(Template::parse(Vec::new()).is_err());
    }

    #[test]
    fn fills_parameters_job_values_and_fixed_ones() {
        let mut t = template(&[
            "train",
            "--lr",
            "{lr}",
            "--epochs={budget}",
            "{resume_from}",
            "{trial}",
            "{job}",
            "{checkpoint_dir}",
            "{batch}",
        ]);
        t.add_fixed("batch".into(), Value::Int(64));
        let args = t.fill(&adam(), Path::new("/ck/trial-3")).unwrap();
        assert_eq!(
            args,
            [
                "train",
                "--lr",
                "0.01",
                "--epochs=9",
                "3",
                "3",
                "7",
                "/ck/trial-3",
                "64"
            ]
        );
    }

    #[test]
    fn an_absent_parameter_takes_its_plain_flag_along_and_nothing_else() {
        let t = template(&[
            "train",
            "--momentum",
            "{momentum}",
            "--m={momentum}",
            "--opt",
            "{opt}",
        ]);
        let args = t.fill(&adam(), Path::new("/ck")).unwrap();
        assert_eq!(args, ["train", "--opt", "adam"]);
        let sgd = job(&[
            ("lr", Value::Float(0.01)),
            ("opt", Value::Categorical("sgd".into())),
            ("momentum", Value::Float(0.9)),
        ]);
        let args = t.fill(&sgd, Path::new("/ck")).unwrap();
        assert_eq!(
            args,
            ["train", "--momentum", "0.9", "--m=0.9", "--opt", "sgd"]
        );
    }

    #[test]
    fn a_searched_parameter_wins_over_a_fixed_namesake_and_unknown_ones_are_named() {
        let mut t = template(&["train", "{lr}"]);
        t.add_fixed("lr".into(), Value::Float(0.5));
        assert_eq!(
            t.fill(&adam(), Path::new("/ck")).unwrap(),
            ["train", "0.01"]
        );
        let e = template(&["train", "{rate}"])
            .fill(&adam(), Path::new("/ck"))
            .unwrap_err();
        assert!(e.contains("`{rate}` names no parameter"), "{e}");
        assert!(e.contains("lr, opt, momentum"), "{e}");
    }

    #[test]
    fn the_environment_carries_every_present_parameter_and_the_job() {
        let mut t = template(&["train"]);
        t.add_fixed("batch".into(), Value::Int(64));
        let env = t.environment(&adam(), Path::new("/ck/trial-3")).unwrap();
        let get = |k: &str| {
            env.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_str().unwrap().to_string())
        };
        assert_eq!(get("HYPERBAND_PARAM_LR").as_deref(), Some("0.01"));
        assert_eq!(get("HYPERBAND_PARAM_BATCH").as_deref(), Some("64"));
        assert_eq!(get("HYPERBAND_PARAM_MOMENTUM"), None, "absent: no variable");
        assert_eq!(get("HYPERBAND_BUDGET").as_deref(), Some("9"));
        assert_eq!(
            get("HYPERBAND_CHECKPOINT_DIR").as_deref(),
            Some("/ck/trial-3")
        );
        assert_eq!(
            get("HYPERBAND_CONFIG").as_deref(),
            Some(r#"{"lr":0.01,"opt":"adam","batch":64}"#)
        );
        assert_eq!(
            param_env_var("drop-out.rate"),
            "HYPERBAND_PARAM_DROP_OUT_RATE"
        );
    }
}
