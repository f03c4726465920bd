//! The second pass: what the values mean (names, budgets, placeholders, limits), with the
//! spans the first pass kept.
//!
//! Every check records its mistake and carries on, so that one run lists them all. A
//! check that depends on a value found wrong is skipped instead (the budgets of an
//! unknown scheduler, the placeholders of a space that is not a table): its complaint
//! would only repeat the first.

use super::errors::{at, Ctx, StudyFileError, StudyFileErrors};
use super::raw::{RawAlgorithm, RawConfig, RawFile, RawMetric, RawObjective, RawRun};
use super::{parse_duration, Objective, ObjectiveKind, RunSpec, StudyFile, DEFAULT_STORAGE};
use hyperband::objective::command::{placeholders, MetricSpec, JOB_PLACEHOLDERS};
use hyperband::storage::{StorageError, StorageUrl};
use hyperband::{
    AlgorithmFields, AlgorithmSpec, BracketSizes, Config, Mode, SamplerKind, SchedulerKind, Space,
    SpecError,
};
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The mistakes found so far, and the warnings, while the file is checked.
pub(super) struct Checker<'a> {
    pub ctx: &'a Ctx<'a>,
    errors: Vec<StudyFileError>,
    /// From the first pass: the second stays quiet about these being absent.
    refused: HashSet<String>,
    warnings: Vec<String>,
    /// Where the command is, when it has no `{budget}`: worth a warning only if budgets vary.
    command_without_budget: Option<std::ops::Range<usize>>,
}

impl Checker<'_> {
    /// Records a mistake, unless it is about a key the first pass refused (and reported).
    pub fn report(&mut self, e: StudyFileError) {
        if !self.refused.contains(&e.key) {
            self.errors.push(e);
        }
    }

    /// Records a mistake and gives up on the part being checked.
    pub fn fail<T>(&mut self, e: StudyFileError) -> Option<T> {
        self.report(e);
        None
    }

    /// Whether `text`, which reaches a job's program as an argument or an environment
    /// variable, can: the operating system takes neither with a NUL byte, so every job
    /// would fail at its start without naming the culprit. `what` is how the message
    /// calls it ("choice", "argument").
    pub fn passable(&mut self, keys: &[&str], span: Range<usize>, what: &str, text: &str) -> bool {
        if !text.contains('\0') {
            return true;
        }
        self.report(self.ctx.error(
            at(keys, span),
            format!(
                "{what} {text:?} contains a NUL byte, which no command-line argument or \
                 environment variable can hold"
            ),
        ));
        false
    }
}

pub(super) fn check(ctx: &Ctx, raw: RawFile) -> Result<StudyFile, StudyFileErrors> {
    let mut c = Checker {
        ctx,
        errors: raw.errors,
        refused: raw.refused,
        warnings: Vec::new(),
        command_without_budget: None,
    };
    let name = raw.name.as_ref().and_then(|n| c.name(n));
    let dir = std::path::absolute(ctx.path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let storage = c.storage(raw.storage.as_ref(), &dir);
    let (space, fixed) = match raw.space.as_ref().and_then(|s| c.space(s)) {
        Some((space, fixed)) => (Some(space), fixed),
        None => (None, Vec::new()),
    };
    // Placeholders are checked against every name in `[space]`, good or not.
    let names: Option<Vec<String>> = raw
        .space
        .as_ref()
        .map(|s| s.params.iter().map(|(n, _)| n.get_ref().clone()).collect());
    let objective = raw
        .objective
        .as_ref()
        .and_then(|o| c.objective(o, names.as_deref()));
    let algorithm = raw.algorithm.as_ref().and_then(|a| c.algorithm(a));
    let run = c.run(raw.run.as_ref());
    if let (Some(o), Some(a)) = (&objective, &algorithm) {
        c.stop_mode(o, a, raw.algorithm.as_ref());
        c.fractional_epochs(o, a, raw.objective.as_ref());
    }
    let enqueue = match (&raw.enqueue, &space) {
        (Some(e), Some(space)) => c.enqueue(e, space, &fixed),
        _ => Some(Vec::new()),
    };
    let varies = |a: &AlgorithmSpec| a.min_budget() < a.max_budget();
    if let (Some(span), true) = (
        c.command_without_budget.clone(),
        algorithm.as_ref().is_some_and(varies),
    ) {
        // Every job of a study whose budget never varies runs alike: nothing to read.
        c.warnings.push(ctx.warning(
            at(&["objective", "command"], span),
            "no `{budget}` placeholder: the program must read its budget from HYPERBAND_BUDGET",
        ));
    }
    if !c.errors.is_empty() {
        // Stable: mistakes on one line keep the order in which they were found.
        c.errors.sort_by_key(|e| e.line);
        return Err(StudyFileErrors(c.errors));
    }
    let (
        Some(name),
        Some(storage),
        Some(space),
        Some(objective),
        Some(algorithm),
        Some(run),
        Some(enqueue),
    ) = (name, storage, space, objective, algorithm, run, enqueue)
    else {
        unreachable!("a part of the study file failed its check without saying why")
    };
    Ok(StudyFile {
        path: ctx.path.to_path_buf(),
        name,
        seed: raw.seed.map_or(0, |s| s.into_inner()),
        storage,
        objective,
        space,
        algorithm,
        run,
        enqueue,
        fixed,
        warnings: c.warnings,
        dir,
    })
}

impl Checker<'_> {
    fn name(&mut self, raw: &Spanned<String>) -> Option<String> {
        let name = raw.get_ref().trim();
        if name.is_empty() {
            return self.fail(
                self.ctx
                    .error(at(&["name"], raw.span()), "must not be empty"),
            );
        }
        Some(name.to_string())
    }

    fn storage(&mut self, raw: Option<&Spanned<String>>, dir: &Path) -> Option<StorageUrl> {
        let Some(s) = raw else {
            return Some(StorageUrl::parse(DEFAULT_STORAGE, dir).expect("the default parses"));
        };
        match StorageUrl::parse(s.get_ref(), dir) {
            Ok(url) => Some(url),
            Err(e) => {
                let message = match e {
                    StorageError::BadUrl { url, problem } => format!("{problem}, got `{url}`"),
                    other => other.to_string(),
                };
                self.fail(self.ctx.error(at(&["storage"], s.span()), message))
            }
        }
    }

    /// `names` are the parameters' names, `None` when `[space]` could not be read.
    fn objective(
        &mut self,
        raw: &Spanned<RawObjective>,
        names: Option<&[String]>,
    ) -> Option<Objective> {
        let o = raw.get_ref();
        let kind = match (&o.command, &o.builtin) {
            (Some(_), Some(b)) => self.fail(self.ctx.error_naming_key(
                at(&["objective", "builtin"], b.span()),
                "give either `command` or `builtin`, not both",
            )),
            // A refused `builtin` is not a missing one.
            (None, None) if self.refused.contains("objective.builtin") => None,
            (None, None) => self.fail(self.ctx.error_naming_key(
                at(&["objective", "command"], raw.span()),
                "missing key `command` (the program to run, as a list of arguments) or `builtin` (a built-in workload)",
            )),
            (Some(command), None) => self.command(command, names).map(ObjectiveKind::Command),
            (None, Some(b)) if b.get_ref().trim().is_empty() => self.fail(self.ctx.error(
                at(&["objective", "builtin"], b.span()),
                "must name a built-in workload",
            )),
            (None, Some(b)) => Some(ObjectiveKind::Builtin(b.get_ref().clone())),
        };
        let timeout = match &o.timeout {
            Some(t) => match parse_duration(t.get_ref()) {
                Ok(d) => Some(Some(d)),
                Err(m) => self.fail(self.ctx.error(at(&["objective", "timeout"], t.span()), m)),
            },
            None => Some(None),
        };
        let resumable = o.resumable.as_ref().is_some_and(|r| *r.get_ref());
        if let (true, Some(ObjectiveKind::Builtin(_))) = (resumable, &kind) {
            // Built-in workloads know themselves whether they resume.
            let span = o.resumable.as_ref().map(|r| r.span()).unwrap_or_default();
            self.warnings.push(self.ctx.warning(
                at(&["objective", "resumable"], span),
                "applies to commands; a built-in workload resumes on its own terms",
            ));
        }
        let metric = match &o.metric {
            Some(m) => self.metric(m).map(Some),
            None => Some(None),
        };
        Some(Objective {
            kind: kind?,
            timeout: timeout?,
            resumable,
            retries: o.retries.as_ref().map_or(0, |r| *r.get_ref()),
            line_buffered: o.line_buffered.as_ref().is_some_and(|b| *b.get_ref()),
            metric: metric?,
        })
    }

    /// `metric = { regex = '...', ... }`: compiled here, so that a bad pattern is reported
    /// at its key before anything runs.
    fn metric(&mut self, raw: &Spanned<RawMetric>) -> Option<MetricSpec> {
        let m = raw.get_ref();
        let text = |s: &Option<Spanned<String>>| s.as_ref().map(|s| s.get_ref().clone());
        let maximize = m.maximize.as_ref().map(|b| *b.get_ref());
        let spec = MetricSpec {
            regex: text(&m.regex),
            source: text(&m.source).unwrap_or_else(|| "stdout".to_string()),
            // A regex rule stores `maximize` only when true, as definitions always have
            // (so that a stored study's file still matches it); a format stores an
            // explicit choice, since its default comes from the metric's name.
            maximize: match (&m.format, maximize) {
                (None, Some(false)) => None,
                (_, m) => m,
            },
            budget_regex: text(&m.budget_regex),
            step_budget: m.step_budget.as_ref().map(|b| *b.get_ref()),
            format: text(&m.format),
            name: text(&m.name),
            budget_key: text(&m.budget_key),
        };
        match spec.rule() {
            Ok(_) => Some(spec),
            Err((key, message)) => {
                let span = match key {
                    "source" => m.source.as_ref().map(|s| s.span()),
                    "budget_regex" => m.budget_regex.as_ref().map(|s| s.span()),
                    "step_budget" => m.step_budget.as_ref().map(|s| s.span()),
                    "format" => m.format.as_ref().map(|s| s.span()),
                    "name" => m.name.as_ref().map(|s| s.span()),
                    "budget_key" => m.budget_key.as_ref().map(|s| s.span()),
                    _ => m.regex.as_ref().map(|s| s.span()),
                };
                let message = message.trim_start_matches(&format!("`{key}` ")).to_string();
                self.fail(self.ctx.error(
                    at(&["objective", "metric", key], span.unwrap_or(raw.span())),
                    message,
                ))
            }
        }
    }

    /// Every argument is checked, so that each bad placeholder is reported.
    fn command(
        &mut self,
        command: &Spanned<Vec<Spanned<String>>>,
        names: Option<&[String]>,
    ) -> Option<Vec<String>> {
        let keys = ["objective", "command"];
        let args = command.get_ref();
        if args.is_empty() || args[0].get_ref().is_empty() {
            return self.fail(self.ctx.error(
                at(&keys, command.span()),
                "must name a program, e.g. [\"python3\", \"train.py\", \"--lr\", \"{lr}\"]",
            ));
        }
        let mut uses_budget = false;
        let mut all_good = true;
        for arg in args {
            if !self.passable(&keys, arg.span(), "argument", arg.get_ref()) {
                all_good = false;
                continue;
            }
            let found = match placeholders(arg.get_ref()) {
                Ok(found) => found,
                Err(m) => {
                    all_good = false;
                    self.report(self.ctx.error(at(&keys, arg.span()), m));
                    continue;
                }
            };
            for name in found {
                uses_budget |= name == "budget";
                let Some(names) = names else { continue };
                if !names.contains(&name) && !JOB_PLACEHOLDERS.contains(&name.as_str()) {
                    all_good = false;
                    self.report(self.ctx.error(
                        at(&keys, arg.span()),
                        format!(
                            "placeholder `{{{name}}}` names no parameter (parameters: {}; job placeholders: {})",
                            names.join(", "),
                            JOB_PLACEHOLDERS.join(", ")
                        ),
                    ));
                }
            }
        }
        if !all_good {
            return None;
        }
        if !uses_budget {
            self.command_without_budget = Some(command.span());
        }
        Some(args.iter().map(|a| a.get_ref().clone()).collect())
    }

    fn algorithm(&mut self, raw: &Spanned<RawAlgorithm>) -> Option<AlgorithmSpec> {
        let a = raw.get_ref();
        let scheduler = match parse_kind::<SchedulerKind>(a.scheduler.get_ref()) {
            Some(s) => Some(s),
            None => self.fail(self.ctx.error(
                at(&["algorithm", "scheduler"], a.scheduler.span()),
                format!(
                    "unknown scheduler `{}` (expected one of {})",
                    a.scheduler.get_ref(),
                    SchedulerKind::NAMES
                ),
            )),
        };
        let sampler = match &a.sampler {
            Some(s) => match parse_kind::<SamplerKind>(s.get_ref()) {
                Some(kind) => Some(kind),
                None => self.fail(self.ctx.error(
                    at(&["algorithm", "sampler"], s.span()),
                    format!(
                        "unknown sampler `{}` (expected one of {})",
                        s.get_ref(),
                        SamplerKind::NAMES
                    ),
                )),
            },
            None => Some(SamplerKind::Random),
        };
        let scheduler_name = a.scheduler.get_ref();
        let max_budget = *a.max_budget.get_ref();
        let min_budget = match (&a.min_budget, scheduler) {
            (Some(m), _) => Some(*m.get_ref()),
            // Everything runs at the maximum: there is no minimum to choose.
            (None, Some(SchedulerKind::FullBudget)) => Some(max_budget),
            (None, Some(_)) => self.fail(self.ctx.error_naming_key(
                at(&["algorithm", "min_budget"], raw.span()),
                format!("missing key `min_budget` (scheduler `{scheduler_name}` needs it)"),
            )),
            // Whether it is needed depends on the scheduler, which is wrong.
            (None, None) => None,
        };
        let bracket_sizes = match &a.bracket_sizes {
            Some(b) => match b.get_ref().parse::<BracketSizes>() {
                Ok(sizes) => Some(sizes),
                Err(m) => self.fail(
                    self.ctx
                        .error(at(&["algorithm", "bracket_sizes"], b.span()), m),
                ),
            },
            None => Some(BracketSizes::default()),
        };
        let mode = match &a.mode {
            None => Some(Mode::Promote),
            Some(m) => match m.get_ref().as_str() {
                "promote" => Some(Mode::Promote),
                "stop" => Some(Mode::Stop),
                other => self.fail(self.ctx.error(
                    at(&["algorithm", "mode"], m.span()),
                    format!(
                        "unknown mode `{other}` (expected `promote`: promoted trials run again, \
                         from a checkpoint if the program resumes; or `stop`: each trial runs \
                         once and is stopped at a rung it does not pass)"
                    ),
                )),
            },
        };
        let fields = |scheduler| AlgorithmFields {
            eta: a.eta.as_ref().map_or(3, |e| *e.get_ref()),
            bracket_sizes: bracket_sizes.unwrap_or_default(),
            n_configs: a.n_configs.as_ref().map(|n| *n.get_ref()),
            max_brackets: a.max_brackets.as_ref().map(|m| *m.get_ref()),
            mode: mode.unwrap_or_default(),
            integer_budgets: a.integer_budgets.as_ref().is_some_and(|i| *i.get_ref()),
            ..AlgorithmFields::new(
                scheduler,
                sampler.unwrap_or(SamplerKind::Random),
                min_budget.unwrap_or(max_budget),
                max_budget,
            )
        };
        let Some(scheduler) = scheduler else {
            // Nothing to say of what an unknown scheduler uses; the budgets hold for all.
            if min_budget.is_some() {
                if let Err(e) = fields(SchedulerKind::FullBudget).budgets() {
                    self.algorithm_error::<()>(raw, e);
                }
            }
            return None;
        };
        let brackets = matches!(
            scheduler,
            SchedulerKind::Hyperband | SchedulerKind::AsyncHyperband
        );
        if let (Some(b), false) = (&a.bracket_sizes, brackets) {
            self.warnings.push(self.ctx.warning(
                at(&["algorithm", "bracket_sizes"], b.span()),
                format!("ignored: scheduler `{scheduler_name}` has no Hyperband brackets"),
            ));
        }
        if let (Some(m), false) = (&a.max_brackets, scheduler == SchedulerKind::Hyperband) {
            self.warnings.push(self.ctx.warning(
                at(&["algorithm", "max_brackets"], m.span()),
                format!(
                    "ignored: only scheduler `hyperband` runs a bounded number of brackets, not `{scheduler_name}`"
                ),
            ));
        }
        let mut refused = false;
        if let (Some(n), false) = (&a.n_configs, scheduler == SchedulerKind::Sha) {
            // The core ignores it; in a file it is a mistake.
            refused = true;
            self.report(self.ctx.error(
                at(&["algorithm", "n_configs"], n.span()),
                format!("applies to scheduler `sha` only, not `{scheduler_name}`"),
            ));
        }
        // Every rule about the values is the core's; each error names the key to point at.
        // A key refused above stands in as its default here, so that the rules still say
        // what else is wrong, and the algorithm is then not used.
        let fields = fields(scheduler);
        let problems = fields.problems();
        if !problems.is_empty() {
            for e in problems {
                self.algorithm_error::<()>(raw, e);
            }
            return None;
        }
        let _ = (sampler?, min_budget?, bracket_sizes?, mode?);
        if refused {
            return None;
        }
        AlgorithmSpec::try_from(fields).ok()
    }

    /// Reports a core rule's error at the `[algorithm]` key it names: at the value when the
    /// file gives one, else at the table (a missing key).
    fn algorithm_error<T>(&mut self, raw: &Spanned<RawAlgorithm>, e: SpecError) -> Option<T> {
        let a = raw.get_ref();
        // Without `min_budget` (full-budget) the minimum is the maximum: its errors are
        // `max_budget`'s.
        let key = match e.key() {
            "min_budget" if a.min_budget.is_none() => "max_budget",
            key => key,
        };
        let given = match key {
            "min_budget" => a.min_budget.as_ref().map(|v| v.span()),
            "max_budget" => Some(a.max_budget.span()),
            "eta" => a.eta.as_ref().map(|v| v.span()),
            "n_configs" => a.n_configs.as_ref().map(|v| v.span()),
            "max_brackets" => a.max_brackets.as_ref().map(|v| v.span()),
            "mode" => a.mode.as_ref().map(|v| v.span()),
            "integer_budgets" => a.integer_budgets.as_ref().map(|v| v.span()),
            _ => None,
        };
        let message = e.to_string();
        let names_key = given.is_none() || message.starts_with(key);
        let keys = ["algorithm", key];
        let at = at(&keys, given.unwrap_or(raw.span()));
        // The budget rules' messages start with their key (`eta must be at least 2`).
        if names_key {
            self.fail(self.ctx.error_naming_key(at, message))
        } else {
            self.fail(self.ctx.error(at, message))
        }
    }

    /// Each limit is checked on its own; a missing `[run]` is all defaults.
    fn run(&mut self, raw: Option<&Spanned<RawRun>>) -> Option<RunSpec> {
        let mut run = RunSpec {
            workers: 1,
            max_total_budget: None,
            max_trials: None,
            max_time: None,
        };
        let Some(raw) = raw else {
            return Some(run);
        };
        let r = raw.get_ref();
        let mut all_good = true;
        if let Some(w) = &r.workers {
            let n = usize::try_from(*w.get_ref()).unwrap_or(usize::MAX);
            if let Err(message) = crate::runner::check_workers(n) {
                all_good = false;
                self.report(self.ctx.error(at(&["run", "workers"], w.span()), message));
            }
            run.workers = n;
        }
        if let Some(b) = &r.max_total_budget {
            let x = *b.get_ref();
            if !(x.is_finite() && x > 0.0) {
                all_good = false;
                self.report(self.ctx.error(
                    at(&["run", "max_total_budget"], b.span()),
                    format!("must be a positive number, got {x}"),
                ));
            }
            run.max_total_budget = Some(x);
        }
        if let Some(t) = &r.max_trials {
            if *t.get_ref() == 0 {
                all_good = false;
                self.report(
                    self.ctx
                        .error(at(&["run", "max_trials"], t.span()), "must be at least 1"),
                );
            }
            run.max_trials = Some(*t.get_ref());
        }
        if let Some(t) = &r.max_time {
            match parse_duration(t.get_ref()) {
                Ok(d) => run.max_time = Some(d),
                Err(m) => {
                    all_good = false;
                    self.report(self.ctx.error(at(&["run", "max_time"], t.span()), m));
                }
            }
        }
        all_good.then_some(run)
    }
}

/// Flags of programs that count a whole number of something: `{budget}` after one of these
/// (`--epochs {budget}`, `--epochs={budget}`) must be a whole number.
const COUNTING_FLAGS: &[&str] = &[
    "epochs",
    "epoch",
    "num_epochs",
    "n_epochs",
    "max_epochs",
    "num_train_epochs",
    "iterations",
    "iters",
    "steps",
    "max_steps",
    "n_estimators",
    "num_boost_round",
    "num_rounds",
    "rounds",
    "trees",
];

/// Whether argument `arg` (with the one before it) passes `{budget}` to a counting flag.
fn counts_budget(prev: Option<&str>, arg: &str) -> bool {
    let flag_name = |f: &str| {
        let f = f
            .trim_start_matches('-')
            .replace('-', "_")
            .to_ascii_lowercase();
        COUNTING_FLAGS.contains(&f.as_str())
    };
    match arg.split_once("={budget}") {
        Some((flag, "")) => flag.starts_with('-') && flag_name(flag),
        _ => arg == "{budget}" && prev.is_some_and(|p| p.starts_with('-') && flag_name(p)),
    }
}

impl Checker<'_> {
    /// A warning when fractional rung budgets feed `--epochs`-like flags: with min 1, max
    /// 14, eta 3 the first rung is 1.5556, and an argparse `type=int` flag fails every job.
    fn fractional_epochs(
        &mut self,
        o: &Objective,
        a: &AlgorithmSpec,
        raw: Option<&Spanned<RawObjective>>,
    ) {
        let ObjectiveKind::Command(argv) = &o.kind else {
            return;
        };
        if a.integer_budgets() {
            return;
        }
        let Some(flag) = argv
            .iter()
            .enumerate()
            .find(|(i, arg)| counts_budget(i.checked_sub(1).map(|j| argv[j].as_str()), arg))
            .map(|(i, arg)| match arg.split_once('=') {
                Some((flag, _)) => flag.to_string(),
                None => argv[i - 1].clone(),
            })
        else {
            return;
        };
        let budgets = a.budgets();
        let fractional: Vec<String> = (0..=budgets.s_max)
            .rev()
            .map(|k| budgets.below_max(k))
            .filter(|b| b.fract() != 0.0)
            .map(|b| format!("{b:.4}"))
            .collect();
        if fractional.is_empty() {
            return;
        }
        let span = raw
            .and_then(|r| r.get_ref().command.as_ref().map(|c| c.span()))
            .unwrap_or_default();
        self.warnings.push(self.ctx.warning(
            at(&["objective", "command"], span),
            format!(
                "`{flag}` gets the budget, and rungs {} are not whole numbers: a program that \
                 counts whole epochs fails on them; set `[algorithm] integer_budgets = true` \
                 to round every rung",
                fractional.join(", ")
            ),
        ));
    }

    /// `mode = "stop"` reads the values as the program prints them: it needs a command
    /// and a metric rule that knows each value's budget.
    fn stop_mode(&mut self, o: &Objective, a: &AlgorithmSpec, raw: Option<&Spanned<RawAlgorithm>>) {
        if a.mode() != Mode::Stop {
            return;
        }
        let span = raw
            .and_then(|r| r.get_ref().mode.as_ref().map(|m| m.span()))
            .unwrap_or_default();
        let problem = match (&o.kind, &o.metric) {
            (ObjectiveKind::Builtin(_), _) => {
                "`stop` applies to commands; a built-in workload resumes from checkpoints (use `promote`)"
            }
            (ObjectiveKind::Command(_), None) => {
                "`stop` reads each value as the program prints it: give `[objective] metric = { format = \"keras\" }` (or pytorch-examples, lightning, hf-trainer, xgboost, lightgbm, json-lines, key=value), or `{ regex = '...', budget_regex = '...' }` (or `step_budget` for one value per fixed budget)"
            }
            (ObjectiveKind::Command(_), Some(m)) if m.rule().is_ok_and(|r| !r.knows_budgets()) => {
                "`stop` needs each value's budget: give a `format`, `budget_regex` (e.g. 'Epoch (\\d+)') or `step_budget` in `[objective] metric`"
            }
            _ => return,
        };
        self.report(self.ctx.error(at(&["algorithm", "mode"], span), problem));
    }

    /// `[[enqueue]]` tables, each a complete configuration of the space: the parameters
    /// whose `when` does not hold are left out; a fixed one may be given at its value.
    fn enqueue(
        &mut self,
        raw: &Spanned<Vec<Spanned<RawConfig>>>,
        space: &Space,
        fixed: &[(String, hyperband::Value)],
    ) -> Option<Vec<Config>> {
        let mut configs = Vec::new();
        let mut all_good = true;
        for (i, entry) in raw.get_ref().iter().enumerate() {
            let pairs = entry
                .get_ref()
                .iter()
                .map(|(name, value)| {
                    serde_json::to_value(value)
                        .ok()
                        .and_then(|v| serde_json::from_value::<hyperband::Value>(v).ok())
                        .map(|v| (name.clone(), v))
                        .ok_or_else(|| {
                            format!("parameter `{name}`: {value} is not a number or a string")
                        })
                })
                .collect::<Result<Vec<_>, String>>()
                .and_then(|pairs| without_fixed(pairs, fixed));
            let config = pairs.and_then(|p| space.config(p).map_err(|e| e.to_string()));
            match config {
                Ok(c) => configs.push(c),
                Err(message) => {
                    all_good = false;
                    let key = format!("#{}", i + 1);
                    self.report(
                        self.ctx
                            .error(at(&["enqueue", &key], entry.span()), message),
                    );
                }
            }
        }
        all_good.then_some(configs)
    }
}

/// A kind by its kebab-case name, through the same serde names the stored spec uses.
fn parse_kind<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// Drops the pairs naming fixed parameters, which must then hold their fixed value.
fn without_fixed(
    pairs: Vec<(String, hyperband::Value)>,
    fixed: &[(String, hyperband::Value)],
) -> Result<Vec<(String, hyperband::Value)>, String> {
    let mut out = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        match fixed.iter().find(|(n, _)| *n == name) {
            None => out.push((name, value)),
            Some((_, v))
                if v == &value || v.as_f64().is_some_and(|x| value.as_f64() == Some(x)) => {}
            Some((_, v)) => return Err(format!("parameter `{name}` is fixed at {v}, got {value}")),
        }
    }
    Ok(out)
}
