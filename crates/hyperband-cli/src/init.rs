//! `hyperband init -- COMMAND ARGS...`: a commented study file for a command as its author
//! runs it today, so that the first study starts from something that parses and explains
//! itself instead of from a blank page.
//!
//! Every `--flag VALUE` (or `--flag=VALUE`) becomes a `{placeholder}` with a range guessed
//! from the value; a flag that sounds like training length becomes `{budget}`. The guesses
//! are meant to be read and edited: the file says where each one came from.
//!
//! Then the command runs once, as given but at the smallest budget, because what it prints
//! decides how the study reads its loss: a script whose last line is not a loss (most
//! scripts that print what their framework prints) fails every job of a study without a
//! metric rule. When the last line is not a loss, the file gets the metric rule that
//! `check` proposes from the output (and stop mode, since the rule knows each value's
//! budget), or a commented regex template when no known format matches.

use crate::cli_error::bad_input;
use crate::study_file::StudyFile;
use anyhow::Context;
use hyperband::objective::command::{param_env_var, JOB_PLACEHOLDERS};
use hyperband::{hyperband_brackets, BracketSizes, Budgets};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to write the study file.
    #[arg(long, short, default_value = "study.toml")]
    pub out: PathBuf,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
    /// The study's name (default: the script's file name without its extension).
    #[arg(long)]
    pub name: Option<String>,
    /// Write the file without running the command once to see what it prints.
    #[arg(long)]
    pub no_run: bool,
    /// The training command as you run it, after `--`: `-- python3 train.py --lr 0.01
    /// --epochs 10`.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(args: &InitArgs) -> anyhow::Result<()> {
    let mut draft =
        draft(&args.command, args.name.as_deref()).map_err(|e| bad_input(anyhow::anyhow!(e)))?;
    let folder = std::path::absolute(&args.out)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    if !args.no_run {
        let probe = probe(&draft, folder.as_deref().unwrap_or(Path::new(".")))?;
        println!("{}", probe.said);
        if let Some(proposal) = &probe.proposal {
            draft = draft_with(&args.command, args.name.as_deref(), Some(proposal))
                .map_err(|e| bad_input(anyhow::anyhow!(e)))?;
        }
    }
    // What `init` writes must be what `run` accepts; a draft that is not is our bug.
    if let Err(errors) = StudyFile::parse(&draft.text, &args.out) {
        anyhow::bail!("init drafted a study file that does not parse:\n{errors}");
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true);
    if args.force {
        file.create(true).truncate(true);
    } else {
        // Atomic: two `init`s never both write the same file.
        file.create_new(true);
    }
    let mut out = match file.open(&args.out) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(bad_input(anyhow::anyhow!(
                "{}: already exists (pass --force to overwrite it)",
                args.out.display()
            )))
        }
        other => other.with_context(|| format!("could not create {}", args.out.display()))?,
    };
    out.write_all(draft.text.as_bytes())
        .with_context(|| format!("could not write {}", args.out.display()))?;
    let names: Vec<&str> = draft.params.iter().map(|p| p.name.as_str()).collect();
    let budget = match &draft.budget {
        Some(b) => format!(
            " and the budget from {} (min_budget {}, max_budget {})",
            b.flag,
            number(b.min),
            number(b.max)
        ),
        None => String::new(),
    };
    println!(
        "wrote {}: {} parameter{} ({}){budget}",
        args.out.display(),
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    let here = std::env::current_dir().ok();
    if folder.is_some() && folder != here {
        println!(
            "note: the command runs in the study file's folder, {}",
            folder.unwrap_or_default().display()
        );
    }
    println!(
        "check the ranges, then: hyperband run {}",
        args.out.display()
    );
    Ok(())
}

/// A study file's text and what it was made of.
#[derive(Debug)]
pub struct Draft {
    pub text: String,
    pub params: Vec<Guess>,
    pub budget: Option<BudgetFlag>,
    /// The command as given, its budget flag set to the smallest budget: what `init` runs.
    pub probe: Vec<String>,
}

/// A metric rule proposed from what the command printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The study-file line, `metric = { format = "...", name = "..." }`.
    pub metric: String,
    /// How many values (each with its budget) it read from the first run.
    pub values: usize,
}

/// What running the command once showed.
struct Probe {
    /// What to tell the user: what ran, what came of it, and what the file gets.
    said: String,
    proposal: Option<Proposal>,
}

/// The longest first run `init` waits for: it only needs to see how the program prints.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs `draft.probe` once in `dir` (where `run` runs it), its output in a scratch folder,
/// and decides from its stdout whether the study needs a metric rule.
fn probe(draft: &Draft, dir: &Path) -> anyhow::Result<Probe> {
    use hyperband::objective::command::loss_on_last_line;
    use hyperband::objective::CommandObjective;
    let scratch = tempfile::tempdir().context("could not create a scratch folder")?;
    // Braces escaped: the command as given, with nothing to substitute.
    let argv: Vec<String> = draft.probe.iter().map(|a| escape(a)).collect();
    let objective = CommandObjective::new(argv)
        .map_err(|e| anyhow::anyhow!(e))?
        .with_workdir(dir)
        .with_log_dir(scratch.path().join("logs"))
        .with_checkpoint_root(scratch.path().join("checkpoints"))
        .with_timeout(Some(PROBE_TIMEOUT));
    let budget = draft.budget.as_ref().map_or(1.0, |b| b.min);
    let job = hyperband::Job {
        id: hyperband::JobId(0),
        trial: hyperband::TrialId(0),
        config: given_config(&draft.params)?,
        budget,
        resume_from: 0.0,
        bracket: 0,
        rung: 0,
        attempt: 0,
    };
    println!(
        "running it once, to see what it prints: {}",
        draft.probe.join(" ")
    );
    let start = std::time::Instant::now();
    let result = objective.run(&job);
    let seconds = start.elapsed().as_secs_f64();
    let stdout = crate::check::read_lines(&objective.stdout_path(&job));
    let stderr = crate::check::read_lines(&objective.stderr_path(&job));
    let last = loss_on_last_line(&objective.stdout_path(&job));
    // A job whose only fault is its last line ran well: that is what is looked at next.
    let ran = match (&result, &last) {
        (Err(e), Err(why)) if !e.starts_with(why.as_str()) => format!(
            "it failed after {seconds:.1} s ({})",
            e.lines().next().unwrap_or_default()
        ),
        _ => format!("it ran for {seconds:.1} s"),
    };
    if let Ok(e) = &last {
        return Ok(Probe {
            said: format!(
                "{ran}; the last line of its stdout is the loss ({}): no metric rule needed",
                e.loss
            ),
            proposal: None,
        });
    }
    let why = last.err().unwrap_or_default();
    let all: Vec<String> = stdout.iter().chain(&stderr).cloned().collect();
    let Some((metric, values)) = crate::check::propose(&all) else {
        return Ok(Probe {
            said: format!(
                "{ran}; {why}, and no known format matches its {} lines of output: the \
                 file has a commented `metric = {{ regex = ... }}` template to fill in \
                 (`hyperband check FILE` shows what it reads)",
                all.len()
            ),
            proposal: None,
        });
    };
    let mode = if draft.budget.is_some() {
        " and mode = \"stop\" (each trial runs once and is stopped at a rung it does not \
         pass)"
    } else {
        ""
    };
    Ok(Probe {
        said: format!(
            "{ran}; {why}.\nIts output reads as a known format: {metric} reads {values} value{} \
             with {}; the file gets it{mode}",
            if values == 1 { "" } else { "s" },
            if values == 1 {
                "its budget"
            } else {
                "their budgets"
            },
        ),
        proposal: Some(Proposal { metric, values }),
    })
}

/// A parameter guessed from one flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    pub name: String,
    /// The flag and value it came from, as given.
    pub from: String,
    /// The value as given.
    pub value: String,
    /// The `[space]` entry's value (an inline table).
    pub domain: String,
    /// What to check about the guess.
    pub note: &'static str,
}

/// The flag that sets how long the command trains.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetFlag {
    pub flag: String,
    pub given: f64,
    pub min: f64,
    pub max: f64,
    /// Halvings from `min` to `max` (eta = 3).
    pub s: u32,
}

/// Flags (without dashes, `-` as `_`, lower-case) that say how long a run trains.
const BUDGET_FLAGS: &[&str] = &[
    "budget",
    "epochs",
    "epoch",
    "num_epochs",
    "n_epochs",
    "max_epochs",
    "steps",
    "num_steps",
    "n_steps",
    "max_steps",
    "train_steps",
    "iterations",
    "iters",
    "num_iterations",
    "n_iter",
    "max_iter",
    "max_iters",
];
/// Tuning a seed finds luck, not a better configuration: these keep their value.
const SEED_FLAGS: &[&str] = &["seed", "random_seed", "rng_seed"];
/// Flags that name where the command keeps checkpoints: each trial gets its own.
const CHECKPOINT_FLAGS: &[&str] = &["checkpoint_dir", "ckpt_dir"];
const ETA: u32 = 3;
/// At most this many halvings: four brackets, the shortest run 1/27 of the longest.
const MAX_HALVINGS: u32 = 3;

/// The values as given, each its parameter's only choice: the command line carries them
/// already, and its `HYPERBAND_PARAM_*` variables carry them as `run` would.
fn given_config(params: &[Guess]) -> anyhow::Result<hyperband::Config> {
    let space = hyperband::Space::new(
        params
            .iter()
            .map(|p| {
                hyperband::Param::new(
                    &p.name,
                    hyperband::Domain::Categorical {
                        choices: vec![p.value.clone()],
                    },
                )
            })
            .collect(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    space
        .config(params.iter().map(|p| {
            (
                p.name.clone(),
                hyperband::Value::Categorical(p.value.clone()),
            )
        }))
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The study file for `command` (program first).
pub fn draft(command: &[String], name: Option<&str>) -> Result<Draft, String> {
    draft_with(command, name, None)
}

/// The study file for `command`, reading its loss with `metric` when given.
pub fn draft_with(
    command: &[String],
    name: Option<&str>,
    metric: Option<&Proposal>,
) -> Result<Draft, String> {
    let Some(program) = command.first().filter(|p| !p.is_empty()) else {
        return Err(
            "give the command to tune after `--`, e.g. `hyperband init -- python3 \
                    train.py --lr 0.01 --epochs 10`"
                .to_string(),
        );
    };
    let mut argv = vec![escape(program)];
    let mut params: Vec<Guess> = Vec::new();
    let mut budget: Option<BudgetFlag> = None;
    let mut kept: Vec<String> = Vec::new();
    let mut env_vars: HashSet<String> = HashSet::new();
    let mut options_ended = false;
    let mut probe = command.to_vec();
    let mut i = 1;
    while i < command.len() {
        let arg = &command[i];
        i += 1;
        if options_ended || !arg.starts_with("--") || arg == "--" {
            options_ended |= arg == "--";
            argv.push(escape(arg));
            continue;
        }
        let (flag, value, joined) = match arg.split_once('=') {
            Some((flag, value)) => (flag, value.to_string(), true),
            None => match command.get(i).filter(|v| is_value(v)) {
                Some(value) => {
                    i += 1;
                    (arg.as_str(), value.clone(), false)
                }
                None => {
                    // A switch (`--verbose`): nothing to tune.
                    argv.push(escape(arg));
                    continue;
                }
            },
        };
        let key = flag_key(flag);
        let given = if joined {
            arg.clone()
        } else {
            format!("{flag} {value}")
        };
        let number = value.parse::<f64>().ok().filter(|x| x.is_finite());
        let slot = if key.is_empty() || SEED_FLAGS.contains(&key.as_str()) {
            if !key.is_empty() {
                kept.push(given);
            }
            None
        } else if CHECKPOINT_FLAGS.contains(&key.as_str()) {
            Some("checkpoint_dir".to_string())
        } else if let (None, true, Some(x)) =
            (&budget, BUDGET_FLAGS.contains(&key.as_str()), number)
        {
            match budget_from(flag, x) {
                Some(b) => {
                    probe[i - 1] = if joined {
                        format!("{flag}={}", self::number(b.min))
                    } else {
                        self::number(b.min)
                    };
                    budget = Some(b);
                    Some("budget".to_string())
                }
                None => Some(guess(&mut params, &mut env_vars, &key, &given, &value)),
            }
        } else {
            Some(guess(&mut params, &mut env_vars, &key, &given, &value))
        };
        match (slot, joined) {
            (None, true) => argv.push(escape(arg)),
            (None, false) => {
                argv.push(escape(flag));
                argv.push(escape(&value));
            }
            (Some(slot), true) => argv.push(format!("{}={{{slot}}}", escape(flag))),
            (Some(slot), false) => {
                argv.push(escape(flag));
                argv.push(format!("{{{slot}}}"));
            }
        }
    }
    if params.is_empty() {
        return Err(format!(
            "`{}` has no `--flag VALUE` to tune{}: add the flags whose values you want \
             tuned, e.g. `--lr 0.01`",
            command.join(" "),
            if budget.is_some() {
                " besides its budget"
            } else {
                ""
            }
        ));
    }
    let name = name.map_or_else(|| study_name(command), str::to_string);
    let text = write(
        command,
        &name,
        &argv,
        &params,
        budget.as_ref(),
        &kept,
        metric,
    );
    Ok(Draft {
        text,
        params,
        budget,
        probe,
    })
}

/// The value of a `--flag VALUE` pair: anything but another option (a negative number is
/// a value).
fn is_value(s: &str) -> bool {
    !s.starts_with('-') || s.parse::<f64>().is_ok()
}

/// `--learning-rate` -> `learning_rate`: a name that is a bare TOML key, a placeholder
/// and an environment variable suffix alike.
fn flag_key(flag: &str) -> String {
    let key: String = flag
        .trim_start_matches('-')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    key.trim_matches('_').to_string()
}

/// Literal text in a command template: braces doubled, so that `{` is not a placeholder.
fn escape(arg: &str) -> String {
    arg.replace('{', "{{").replace('}', "}}")
}

/// The budget range for a flag given `x`: the longest run is what the command runs now,
/// rounded for an integer so that every rung's budget `max / 3^k` is whole (a script
/// that parses `--epochs` as an integer would fail on 3.33).
fn budget_from(flag: &str, x: f64) -> Option<BudgetFlag> {
    if x <= 0.0 {
        return None;
    }
    let (min, max, s) = if x.fract() == 0.0 && x < 1e12 {
        let mut s = 0;
        while s < MAX_HALVINGS && (ETA as f64).powi(s as i32 + 1) <= x {
            s += 1;
        }
        let pow = (ETA as f64).powi(s as i32);
        let m = (x / pow).round().max(1.0);
        (m, m * pow, s)
    } else {
        let s = MAX_HALVINGS;
        (round6(x / (ETA as f64).powi(s as i32)), x, s)
    };
    Some(BudgetFlag {
        flag: flag.to_string(),
        given: x,
        min,
        max,
        s,
    })
}

/// A `[space]` entry for `--flag value`, named after the flag (made unique); returns
/// its name.
fn guess(
    params: &mut Vec<Guess>,
    env_vars: &mut HashSet<String>,
    key: &str,
    given: &str,
    value: &str,
) -> String {
    let mut name = key.to_string();
    if JOB_PLACEHOLDERS.contains(&name.as_str()) {
        name.push_str("_value");
    }
    let base = name.clone();
    let mut n = 2;
    while !env_vars.insert(param_env_var(&name)) {
        name = format!("{base}_{n}");
        n += 1;
    }
    let (domain, note) = domain_for(value);
    params.push(Guess {
        name: name.clone(),
        from: given.to_string(),
        value: value.to_string(),
        domain,
        note,
    });
    name
}

/// The range a value suggests: ten times either side on a log scale for a positive
/// number (learning rates, widths, batch sizes span orders of magnitude), the value
/// itself as the only choice for anything else.
fn domain_for(value: &str) -> (String, &'static str) {
    if let Ok(i) = value.parse::<i64>() {
        return if i >= 1 {
            let low = (i / 10).max(1);
            let high = i.saturating_mul(10);
            (
                format!("{{ type = \"int\", low = {low}, high = {high}, log = true }}"),
                "",
            )
        } else {
            let (low, high) = (i.saturating_sub(10), i.saturating_add(10));
            (
                format!("{{ type = \"int\", low = {low}, high = {high} }}"),
                "",
            )
        };
    }
    if let Some(x) = value.parse::<f64>().ok().filter(|x| x.is_finite()) {
        return if x > 0.0 {
            // A fraction (dropout, momentum) stays below 1.
            let high = if x < 1.0 {
                (x * 10.0).min(1.0)
            } else {
                x * 10.0
            };
            (
                format!(
                    "{{ type = \"float\", low = {}, high = {}, log = true }}",
                    float(x / 10.0),
                    float(high)
                ),
                "",
            )
        } else if x == 0.0 {
            (
                "{ type = \"float\", low = 0.0, high = 1.0 }".to_string(),
                "",
            )
        } else {
            let spread = -x * 10.0;
            (
                format!(
                    "{{ type = \"float\", low = {}, high = {} }}",
                    float(-spread),
                    float(spread)
                ),
                "",
            )
        };
    }
    let quoted = toml_string(value);
    match value.to_ascii_lowercase().as_str() {
        "true" | "false" => {
            let other = if value.eq_ignore_ascii_case("true") {
                "false"
            } else {
                "true"
            };
            (
                format!(
                    "{{ type = \"categorical\", choices = [{quoted}, {}] }}",
                    toml_string(other)
                ),
                "",
            )
        }
        _ => (
            format!("{{ type = \"categorical\", choices = [{quoted}] }}"),
            "add the other choices",
        ),
    }
}

/// A float as TOML writes it, to six significant digits (0.3 * 10 is 3, not
/// 3.0000000000000004).
fn float(x: f64) -> String {
    toml::Value::Float(round6(x)).to_string()
}

fn round6(x: f64) -> f64 {
    format!("{x:.5e}").parse().unwrap_or(x)
}

/// A budget as TOML and the command line write it: `9`, `0.0925926`.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        round6(x).to_string()
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The script's name (`train.py` -> `train`, `-m pkg.train` -> `train`), else the
/// program's.
fn study_name(command: &[String]) -> String {
    let mut script = None;
    for (i, a) in command.iter().enumerate().skip(1) {
        if a.starts_with("--") {
            break;
        }
        if command[i - 1] == "-m" {
            script = a.rsplit('.').next().map(str::to_string);
            break;
        }
        if a.starts_with('-') || a.contains(char::is_whitespace) {
            continue;
        }
        let p = Path::new(a);
        if p.extension().is_some() {
            script = p.file_stem().map(|s| s.to_string_lossy().into_owned());
            break;
        }
    }
    let name = script.unwrap_or_else(|| {
        Path::new(&command[0])
            .file_name()
            .map_or_else(|| "study".into(), |s| s.to_string_lossy().into_owned())
    });
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.trim_matches('-').is_empty() {
        "study".to_string()
    } else {
        name
    }
}

/// The study file itself: every table with a comment that says what it is for.
fn write(
    command: &[String],
    name: &str,
    argv: &[String],
    params: &[Guess],
    budget: Option<&BudgetFlag>,
    kept: &[String],
    metric: Option<&Proposal>,
) -> String {
    let mut t = String::new();
    let as_given = command.join(" ");
    let _ = writeln!(
        t,
        "# A study written by `hyperband init` for\n\
         #   {as_given}\n\
         # The ranges in [space] are guesses from the values given: check them, then\n\
         # `hyperband run` this file. Running it again resumes the study where it stopped.\n"
    );
    let _ = writeln!(
        t,
        "# The study's name in its storage; another name starts another study.\n\
         name = {}\n\
         # Samplers draw from this seed: the same seed makes the same decisions.\n\
         seed = 0\n\
         # Where results are kept, relative to this file; `postgres://USER@HOST/DATABASE`\n\
         # lets workers on other machines join (`hyperband worker`).\n\
         storage = \"sqlite:hyperband.db\"\n",
        toml_string(name)
    );
    let budget_slot = if budget.is_some() {
        "\n# `{budget}` by the job's budget."
    } else {
        ""
    };
    let _ = writeln!(
        t,
        "# [objective]: how one configuration is evaluated. The command runs in this file's\n\
         # folder, never through a shell. It must print its loss (lower is better) as the\n\
         # last line of its output: a number, or JSON with a `loss` key. In the command,\n\
         # each `{{name}}` is replaced by the value of the parameter of that name{}{budget_slot}\n\
         [objective]",
        if budget.is_some() { "," } else { "." }
    );
    let args: Vec<String> = argv.iter().map(|a| toml_string(a)).collect();
    let _ = writeln!(t, "command = [{}]", args.join(", "));
    for k in kept {
        let _ = writeln!(
            t,
            "# `{k}` is passed as given: tuning a seed finds luck, not a better configuration."
        );
    }
    let _ = writeln!(
        t,
        "# timeout = \"30m\"     # per job: a job that runs longer is killed and fails\n\
         # retries = 1         # run a failed job again, this many times\n\
         # true when the command saves a checkpoint to $HYPERBAND_CHECKPOINT_DIR and continues\n\
         # from it: a promoted configuration then pays only for the budget it adds.\n\
         resumable = false"
    );
    match metric {
        Some(m) => {
            let _ = writeln!(
                t,
                "# `init` ran the command once: its last line of stdout is not a loss, and this\n\
                 # rule read {} value{} from its output, each with its budget (README, \"Scripts\n\
                 # nobody rewrote for us\"; `hyperband check FILE` shows each line it reads):\n\
                 {}\n",
                m.values,
                if m.values == 1 { "" } else { "s" },
                m.metric
            );
        }
        None => {
            let _ = writeln!(
                t,
                "# The loss is the last line of stdout. For a script that prints a line per epoch\n\
                 # in its own format, read it with a regex (the first group is the value):\n\
                 # metric = {{ regex = 'val_loss: ([0-9.]+)', budget_regex = 'Epoch (\\d+)' }}\n\
                 # and with [algorithm] mode = \"stop\" a trial runs once and is stopped early.\n"
            );
        }
    }
    let _ = writeln!(
        t,
        "# [space]: the parameters to tune. float and int take low, high and log = true\n\
         # (sampled evenly in the logarithm); categorical takes choices = [\"a\", \"b\"].\n\
         [space]"
    );
    let width = params.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in params {
        let note = if p.note.is_empty() {
            String::new()
        } else {
            format!(": {}", p.note)
        };
        let _ = writeln!(
            t,
            "{:width$} = {}   # from {}{note}",
            p.name, p.domain, p.from
        );
    }
    t.push('\n');
    match budget {
        Some(b) => write_hyperband(&mut t, b, metric.is_some()),
        None => {
            let _ = writeln!(
                t,
                "# [algorithm]: how configurations are chosen and how much budget each gets.\n\
                 # The command has no flag for how long it trains (--epochs, --steps, ...),\n\
                 # so every configuration runs in full: a random search. To use Hyperband,\n\
                 # pass its length as `{{budget}}` in the command (or read $HYPERBAND_BUDGET)\n\
                 # and set scheduler = \"hyperband\" with min_budget and max_budget.\n\
                 [algorithm]\n\
                 scheduler = \"full-budget\"   # full-budget | sha | hyperband | asha | async-hyperband\n\
                 sampler = \"random\"          # random | tpe | gp\n\
                 max_budget = 1\n"
            );
        }
    }
    let limit = match budget {
        Some(b) => format!(
            "# max_total_budget = {}    # stop at the first of these\n# max_trials = 100\n",
            number(10.0 * one_iteration_cost(b))
        ),
        None => "max_trials = 20             # stop at the first of these\n".to_string(),
    };
    let _ = write!(
        t,
        "# [run]: how many jobs run at once and when to stop; unlike the tables above it may\n\
         # change between runs of the same study.\n\
         [run]\n\
         workers = 1                 # jobs at once, in this process\n\
         {limit}\
         # max_time = \"2h\"\n"
    );
    t
}

/// `stop`: the metric rule reads each budget's value as the program prints it, so each
/// trial can run once and be stopped at a rung it does not pass (the command is not
/// resumable, so promote mode would retrain every promoted trial from scratch).
fn write_hyperband(t: &mut String, b: &BudgetFlag, stop: bool) {
    let mode = if stop {
        "mode = \"stop\"               # chosen by `init`: the metric rule knows each value's budget,\n\
         #                             # so each trial runs once, stopped at a rung it does not pass"
    } else {
        "# mode = \"stop\"             # for scripts that cannot resume: run each trial once,\n\
         #                             # stop it at a rung it does not pass (needs a metric)"
    };
    let rounded = if b.max == b.given {
        String::new()
    } else {
        format!(
            "\n# {flag} {given} is rounded to {max}, so that every rung's budget (max_budget / 3^k)\n\
             # is whole; write max_budget = {given} if the command takes fractions.",
            flag = b.flag,
            given = number(b.given),
            max = number(b.max),
        )
    };
    let _ = writeln!(
        t,
        "# [algorithm]: how configurations are chosen and how much budget each gets.\n\
         # Hyperband starts many configurations with {flag} {min}, keeps the best third at\n\
         # each rung and runs the survivors up to {flag} {max}.{rounded}\n\
         # `hyperband schedule --min-budget {min} --max-budget {max}` prints the plan.\n\
         [algorithm]\n\
         scheduler = \"hyperband\"     # full-budget | sha | hyperband | asha | async-hyperband\n\
         sampler = \"random\"          # random | tpe | gp (tpe with hyperband is BOHB)\n\
         min_budget = {min}\n\
         max_budget = {max}\n\
         eta = {ETA}\n\
         {mode}\n\
         # One Hyperband iteration: {brackets} brackets, whose jobs add up to about {cost} of\n\
         # {flag} when each trains from scratch. Without it, iterations repeat until a\n\
         # [run] limit.\n\
         max_brackets = {brackets}\n",
        flag = b.flag,
        min = number(b.min),
        max = number(b.max),
        brackets = b.s + 1,
        cost = number(one_iteration_cost(b).round()),
    );
}

/// The budget one Hyperband iteration spends when every job trains from scratch.
fn one_iteration_cost(b: &BudgetFlag) -> f64 {
    Budgets::new(b.min, b.max, ETA)
        .map(|budgets| {
            hyperband_brackets(&budgets, BracketSizes::default())
                .iter()
                .map(|br| br.cost_scratch())
                .sum()
        })
        .unwrap_or(b.max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperband::{Domain, SchedulerKind};

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    /// The draft for `line`, parsed as `run` would parse it.
    fn parsed(line: &str) -> (Draft, StudyFile) {
        let draft = draft(&argv(line), None).unwrap();
        let file = StudyFile::parse(&draft.text, Path::new("study.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{}", draft.text));
        (draft, file)
    }

    #[test]
    fn flags_become_placeholders_with_ranges_around_their_values() {
        let (draft, file) = parsed(
            "python3 train.py --lr 0.01 --hidden=128 --optimizer adam --nesterov true \
             --verbose --epochs 10",
        );
        let crate::study_file::ObjectiveKind::Command(command) = &file.objective.kind else {
            panic!("{:?}", file.objective.kind)
        };
        assert_eq!(
            command,
            &argv(
                "python3 train.py --lr {lr} --hidden={hidden} --optimizer {optimizer} \
                 --nesterov {nesterov} --verbose --epochs {budget}"
            )
        );
        assert_eq!(file.name, "train");
        let space = file.space();
        assert_eq!(
            space.names().to_vec(),
            ["lr", "hidden", "optimizer", "nesterov"]
        );
        let domains: Vec<&Domain> = space.params().iter().map(|p| &p.domain).collect();
        assert_eq!(
            domains[0],
            &Domain::Float {
                low: 0.001,
                high: 0.1,
                log: true,
                step: None
            }
        );
        assert_eq!(
            domains[1],
            &Domain::Int {
                low: 12,
                high: 1280,
                log: true,
                step: None
            }
        );
        assert_eq!(
            domains[2],
            &Domain::Categorical {
                choices: vec!["adam".into()]
            }
        );
        assert_eq!(
            domains[3],
            &Domain::Categorical {
                choices: vec!["true".into(), "false".into()]
            }
        );
        // --epochs 10 is rounded to 9 so that the rungs are 1, 3 and 9 epochs.
        assert_eq!(file.algorithm.scheduler(), SchedulerKind::Hyperband);
        assert_eq!(
            (file.algorithm.min_budget(), file.algorithm.max_budget()),
            (1.0, 9.0)
        );
        assert_eq!(file.algorithm.max_brackets(), Some(3));
        assert_eq!(file.run.workers, 1);
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
        assert!(
            draft.text.contains("# --epochs 10 is rounded to 9"),
            "{}",
            draft.text
        );
        assert!(draft
            .text
            .contains("# from --optimizer adam: add the other choices"));
        for table in ["[objective]", "[space]", "[algorithm]", "[run]"] {
            let comment = format!("# {}:", &table);
            assert!(
                draft.text.contains(&comment),
                "no {comment} in\n{}",
                draft.text
            );
        }
    }

    #[test]
    fn budgets_keep_every_rung_whole() {
        let b = |x| {
            let b = budget_from("--epochs", x).unwrap();
            (b.min, b.max, b.s)
        };
        assert_eq!(b(1.0), (1.0, 1.0, 0));
        assert_eq!(b(3.0), (1.0, 3.0, 1));
        assert_eq!(b(10.0), (1.0, 9.0, 2));
        assert_eq!(b(27.0), (1.0, 27.0, 3));
        assert_eq!(b(81.0), (3.0, 81.0, 3));
        assert_eq!(b(100.0), (4.0, 108.0, 3));
        assert_eq!(b(2.7), (0.1, 2.7, 3));
        assert_eq!(b(2.5).0, 0.0925926);
        assert!(budget_from("--epochs", 0.0).is_none());
        for x in 1..2000 {
            let (min, max, s) = b(f64::from(x));
            let rungs = Budgets::new(min, max, ETA).unwrap();
            assert_eq!(rungs.s_max, s, "{x}");
            for k in 0..=s {
                assert_eq!(rungs.below_max(k).fract(), 0.0, "{x}: rung {k}");
            }
            assert!((max / f64::from(x) - 1.0).abs() <= 0.5, "{x} -> {max}");
        }
    }

    #[test]
    fn odd_commands_still_draft_files_that_parse() {
        for line in [
            // No budget flag: a random search at full budget, without the budget warning.
            "./train --lr 0.1",
            // Braces in literal arguments, a negative value, a fraction, zero, duplicates
            // that would share an environment variable, reserved and seed names.
            "python3 -c print({}) --shift -2.5 --dropout 0.5 --bias 0 --lr 1 --LR 2 \
             --trial 3 --seed 42 --steps 2.5",
            "python3 -m pkg.train --batch-size 32 --checkpoint-dir ./ckpt --iters 1000 -- --x 1",
            "bash run.sh --name=resnet --budget 0.75 --momentum=0.9",
        ] {
            let (draft, file) = parsed(line);
            assert!(!draft.params.is_empty(), "{line}");
            if !line.contains("--steps") && !line.contains("--iters") && !line.contains("--budget")
            {
                assert_eq!(
                    file.algorithm.scheduler(),
                    SchedulerKind::FullBudget,
                    "{line}"
                );
                assert!(file.warnings.is_empty(), "{:?}", file.warnings);
                assert_eq!(file.run.max_trials, Some(20));
            }
        }
        let (draft, file) = parsed(
            "python3 -c print({}) --shift -2.5 --lr 1 --LR 2 --trial 3 --seed 42 --steps 2.5",
        );
        let names = file.space().names().to_vec();
        assert_eq!(names, ["shift", "lr", "lr_2", "trial_value"]);
        let crate::study_file::ObjectiveKind::Command(command) = &file.objective.kind else {
            panic!()
        };
        assert_eq!(command[2], "print({{}})");
        assert!(command.ends_with(&argv("--seed 42 --steps {budget}")));
        assert!(draft.text.contains("`--seed 42` is passed as given"));
        assert_eq!(file.algorithm.max_budget(), 2.5);
        assert!((file.algorithm.min_budget() / (2.5 / 27.0) - 1.0).abs() < 1e-6);
        let (_, file) =
            parsed("python3 -m pkg.train --bs 8 --checkpoint-dir ./ckpt --iters 1000 -- --x 1");
        let crate::study_file::ObjectiveKind::Command(command) = &file.objective.kind else {
            panic!()
        };
        assert_eq!(
            command,
            &argv(
                "python3 -m pkg.train --bs {bs} --checkpoint-dir {checkpoint_dir} --iters {budget} -- --x 1"
            )
        );
    }

    #[test]
    fn the_written_file_loads_and_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("study.toml");
        let mut args = InitArgs {
            out: out.clone(),
            force: false,
            name: None,
            // There is no train.py to run: the draft alone.
            no_run: true,
            command: argv("python3 train.py --lr 0.01 --layers 3 --epochs 27"),
        };
        run(&args).unwrap();
        let file = StudyFile::load(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.space().names().to_vec(), ["lr", "layers"]);
        assert_eq!(
            (file.algorithm.min_budget(), file.algorithm.max_budget()),
            (1.0, 27.0)
        );
        assert_eq!(file.dir(), dir.path());
        args.command = argv("python3 other.py --lr 0.1");
        let e = run(&args).unwrap_err();
        assert_eq!(crate::cli_error::exit_status(&e), 2);
        assert!(e.to_string().contains("already exists"), "{e}");
        assert_eq!(StudyFile::load(&out).unwrap().name, "train");
        args.force = true;
        run(&args).unwrap();
        assert_eq!(StudyFile::load(&out).unwrap().name, "other");
    }

    #[test]
    fn a_command_with_nothing_to_tune_is_refused() {
        let e = draft(&argv("python3 train.py --epochs 10 --verbose"), None).unwrap_err();
        assert!(
            e.contains("no `--flag VALUE` to tune besides its budget"),
            "{e}"
        );
        assert!(draft(&[], None).is_err());
    }

    #[test]
    fn study_names_come_from_the_script() {
        assert_eq!(study_name(&argv("python3 train.py --lr 1")), "train");
        assert_eq!(
            study_name(&argv("python3 -u src/fit_model.py")),
            "fit_model"
        );
        assert_eq!(study_name(&argv("./bin/trainer --lr 1")), "trainer");
        assert_eq!(study_name(&argv("python3 -c import")), "python3");
        let text = draft(&argv("python3 t.py --lr 1"), Some("mine"))
            .unwrap()
            .text;
        assert!(text.contains("name = \"mine\""), "{text}");
    }
}
