//! One mistake at a time: each is refused with its line, its table and its key, and
//! nothing else is reported with it.

use super::*;
use hyperband::{BracketSizes, Param, SamplerKind, SchedulerKind};

/// docs/architecture.md's example, verbatim.
pub(super) const EXAMPLE: &str = r#"name = "mnist-mlp"
seed = 7
storage = "sqlite:hyperband.db"   # optional; relative paths are relative to this file

[objective]
command = ["python3", "train.py", "--lr", "{lr}", "--hidden", "{hidden}", "--epochs", "{budget}"]
timeout = "10m"                   # optional, per job
resumable = false                 # true: the command continues from HYPERBAND_CHECKPOINT_DIR
# builtin = "mnist-mlp"           # instead of command

[space]
lr     = { type = "float", low = 1e-3, high = 1e-1, log = true }
hidden = { type = "int", low = 10, high = 1000, log = true }
act    = { type = "categorical", choices = ["relu", "tanh"] }

[algorithm]
scheduler = "hyperband"   # full-budget | sha | hyperband | asha | async-hyperband
sampler = "random"        # random | tpe | gp | mf-gp
min_budget = 1
max_budget = 81
eta = 3

[run]
workers = 2
max_total_budget = 2000   # stop at the first of: max_total_budget, max_trials, max_time
"#;

pub(super) fn parse(text: &str) -> Result<StudyFile, StudyFileErrors> {
    StudyFile::parse(text, Path::new("study.toml"))
}

/// The example with `old` replaced by `new` (which must be there, or the test would
/// silently test the example).
pub(super) fn edit(old: &str, new: &str) -> String {
    assert!(EXAMPLE.contains(old), "the example has no {old:?}");
    EXAMPLE.replacen(old, new, 1)
}

/// The error for `text`, checked to be the only one and to cite `key`.
fn error(text: &str, key: &str) -> String {
    let errors = parse(text).expect_err("the file should be refused");
    let [e] = errors.0.as_slice() else {
        panic!("one mistake, several errors:\n{errors}");
    };
    assert_eq!(e.key, key, "{e}");
    e.to_string()
}

#[test]
fn the_design_example_parses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.toml");
    std::fs::write(&path, EXAMPLE).unwrap();
    let f = StudyFile::load(&path).unwrap();
    assert_eq!(f.name, "mnist-mlp");
    assert_eq!(f.seed, 7);
    assert_eq!(
        f.storage,
        StorageUrl::Sqlite(dir.path().join("hyperband.db"))
    );
    assert_eq!(f.dir(), dir.path());
    assert_eq!(
        f.objective,
        Objective {
            kind: ObjectiveKind::Command(
                ["python3", "train.py", "--lr", "{lr}", "--hidden", "{hidden}"]
                    .iter()
                    .chain(&["--epochs", "{budget}"])
                    .map(|s| s.to_string())
                    .collect()
            ),
            timeout: Some(Duration::from_secs(600)),
            resumable: false,
            retries: 0,
            line_buffered: false,
            metric: None,
        }
    );
    let space = f.space();
    assert_eq!(space.names().to_vec(), ["lr", "hidden", "act"]);
    assert_eq!(space.params()[0], Param::log_float("lr", 1e-3, 1e-1));
    assert_eq!(space.params()[1], Param::log_int("hidden", 10, 1000));
    assert_eq!(
        space.params()[2],
        Param::categorical("act", &["relu", "tanh"])
    );
    assert_eq!(f.algorithm.scheduler(), SchedulerKind::Hyperband);
    assert_eq!(f.algorithm.sampler(), SamplerKind::Random);
    assert_eq!(
        (
            f.algorithm.min_budget(),
            f.algorithm.max_budget(),
            f.algorithm.eta()
        ),
        (1.0, 81.0, 3)
    );
    assert_eq!(f.algorithm.bracket_sizes(), BracketSizes::Algorithm);
    assert_eq!(
        f.run,
        RunSpec {
            workers: 2,
            max_total_budget: Some(2000.0),
            max_trials: None,
            max_time: None,
        }
    );
    assert_eq!(f.scheduler().name(), "hyperband");
    assert_eq!(f.sampler().name(), "random");
    let s = f.settings();
    assert_eq!((s.seed, s.cost, s.max_retries), (7, CostModel::Scratch, 0));
    assert_eq!(s.limits.max_total_budget, Some(2000.0));
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let command = f
        .command_objective(&RunDir::of_study(&f.storage, &f.name, f.dir()))
        .unwrap();
    assert_eq!(command.timeout(), Some(Duration::from_secs(600)));
    assert_eq!(command.argv()[3], "{lr}");
}

#[test]
fn defaults_fill_what_the_file_leaves_out() {
    let f = parse(
        "name = \"b\"\n[objective]\nbuiltin = \"branin\"\n[space]\n\
         x = { type = \"float\", low = -5, high = 10 }\n\
         [algorithm]\nscheduler = \"full-budget\"\nmax_budget = 10\n",
    )
    .unwrap();
    assert_eq!(f.seed, 0);
    let StorageUrl::Sqlite(db) = &f.storage else {
        panic!("{:?}", f.storage)
    };
    assert!(db.is_absolute() && db.ends_with("hyperband.db"), "{db:?}");
    assert_eq!(f.objective.kind, ObjectiveKind::Builtin("branin".into()));
    assert_eq!(f.objective.timeout, None);
    assert_eq!(f.algorithm.sampler(), SamplerKind::Random);
    assert_eq!((f.algorithm.min_budget(), f.algorithm.eta()), (10.0, 3));
    assert_eq!(f.run.workers, 1);
    assert_eq!(f.space().params()[0], Param::float("x", -5.0, 10.0));
    assert!(f
        .command_objective(&RunDir::of_study(&f.storage, &f.name, f.dir()))
        .is_none());
    assert_eq!(f.scheduler().name(), "full-budget");
}

#[test]
fn settings_follow_resumable_retries_and_limits() {
    let text = edit("resumable = false", "resumable = true\nretries = 2").replace(
        "workers = 2",
        "workers = 4\nmax_trials = 50\nmax_time = \"1h30m\"",
    );
    let f = parse(&text).unwrap();
    let s = f.settings();
    assert_eq!(s.cost, CostModel::Resume);
    assert_eq!(s.max_retries, 2);
    assert_eq!(s.limits.max_trials, Some(50));
    assert_eq!(f.run.workers, 4);
    assert_eq!(f.run.max_time, Some(Duration::from_secs(5400)));
    assert_eq!(f.spec().cost, CostModel::Resume);
}

#[test]
fn storage_paths_are_relative_to_the_file() {
    let text = edit("sqlite:hyperband.db", "sqlite:db/studies.db");
    let f = StudyFile::parse(&text, Path::new("/home/me/proj/study.toml")).unwrap();
    assert_eq!(
        f.storage,
        StorageUrl::Sqlite(PathBuf::from("/home/me/proj/db/studies.db"))
    );
    let text = edit("sqlite:hyperband.db", "sqlite:////var/db/h.db");
    let f = StudyFile::parse(&text, Path::new("/home/me/proj/study.toml")).unwrap();
    assert_eq!(f.storage, StorageUrl::Sqlite(PathBuf::from("/var/db/h.db")));
    // SQLAlchemy's relative form, as an Optuna user writes it.
    let text = edit("sqlite:hyperband.db", "sqlite:///db/h.db");
    let f = StudyFile::parse(&text, Path::new("/home/me/proj/study.toml")).unwrap();
    assert_eq!(
        f.storage,
        StorageUrl::Sqlite(PathBuf::from("/home/me/proj/db/h.db"))
    );
}

#[test]
fn the_fingerprint_covers_decisions_not_run_limits() {
    let base = parse(EXAMPLE).unwrap().spec().to_json();
    assert_eq!(base["seed"], 7);
    assert_eq!(base["algorithm"]["scheduler"], "hyperband");
    assert_eq!(base["space"][0]["name"], "lr");
    assert_eq!(base["objective"]["command"][3], "{lr}");
    let same = [
        edit("workers = 2", "workers = 8"),
        edit("max_total_budget = 2000", "max_total_budget = 9000"),
        edit("timeout = \"10m\"", "timeout = \"20m\""),
        edit("sqlite:hyperband.db", "sqlite:other.db"),
        edit("seed = 7", "seed = 7 # a comment\n"),
    ];
    for text in same {
        assert_eq!(parse(&text).unwrap().spec().to_json(), base, "{text}");
    }
    let different = [
        edit("seed = 7", "seed = 8"),
        edit("high = 1e-1", "high = 0.2"),
        edit("\"relu\", \"tanh\"", "\"tanh\", \"relu\""),
        edit("eta = 3", "eta = 2"),
        edit("scheduler = \"hyperband\"", "scheduler = \"asha\""),
        edit("sampler = \"random\"", "sampler = \"tpe\""),
        edit("resumable = false", "resumable = true"),
        edit("\"--epochs\"", "\"--iters\""),
        edit("eta = 3", "eta = 3\nbracket_sizes = \"table\""),
    ];
    for text in different {
        assert_ne!(parse(&text).unwrap().spec().to_json(), base, "{text}");
    }
}

#[test]
fn every_sampler_parses_and_builds() {
    for name in ["random", "tpe", "gp", "mf-gp"] {
        let f = parse(&edit(
            "sampler = \"random\"",
            &format!("sampler = \"{name}\""),
        ))
        .unwrap();
        assert_eq!(f.sampler().name(), name);
    }
}

#[test]
fn a_command_without_budget_is_allowed_with_a_warning() {
    let f = parse(&edit(", \"--epochs\", \"{budget}\"", "")).unwrap();
    assert_eq!(
        f.warnings,
        ["study.toml:6: [objective] command: no `{budget}` placeholder: the program must read its budget from HYPERBAND_BUDGET"]
    );
    // Where every job runs at the same budget, there is nothing to read.
    let same_budget = edit(", \"--epochs\", \"{budget}\"", "")
        .replace("scheduler = \"hyperband\"", "scheduler = \"full-budget\"")
        .replace("min_budget = 1\n", "");
    assert!(parse(&same_budget).unwrap().warnings.is_empty());
}

#[test]
fn unknown_keys_are_refused_where_they_are() {
    assert_eq!(
        error(&edit("seed = 7", "seed = 7\nseeds = 8"), "seeds"),
        "study.toml:3: unknown key `seeds`, expected one of `name`, `seed`, `storage`, \
         `objective`, `space`, `algorithm`, `run`, `enqueue`"
    );
    assert_eq!(
        error(
            &edit("eta = 3", "eta = 3\nschedular = \"x\""),
            "algorithm.schedular"
        ),
        "study.toml:22: [algorithm] unknown key `schedular`, expected one of `scheduler`, \
         `sampler`, `min_budget`, `max_budget`, `eta`, `bracket_sizes`, `n_configs`, \
         `max_brackets`, `mode`, `integer_budgets`"
    );
    assert_eq!(
        error(
            &edit("log = true }\nhidden", "lg = true }\nhidden"),
            "space.lr.lg"
        ),
        "study.toml:12: [space.lr] unknown key `lg`, expected one of `type`, `low`, \
         `high`, `log`, `step`, `choices`, `when`, `value`"
    );
    assert_eq!(
        error(&edit("workers = 2", "worker = 2"), "run.worker"),
        "study.toml:24: [run] unknown key `worker`, expected one of `workers`, \
         `max_total_budget`, `max_trials`, `max_time`"
    );
    assert_eq!(
        error(&edit("[run]", "[runn]"), "runn"),
        "study.toml:23: unknown key `runn`, expected one of `name`, `seed`, `storage`, \
         `objective`, `space`, `algorithm`, `run`, `enqueue`"
    );
}

#[test]
fn wrong_types_name_the_key() {
    assert_eq!(
        error(&edit("seed = 7", "seed = \"seven\""), "seed"),
        "study.toml:2: seed: invalid type: string \"seven\", expected a non-negative integer"
    );
    assert_eq!(
        error(&edit("seed = 7", "seed = -1"), "seed"),
        "study.toml:2: seed: invalid value: integer `-1`, expected a non-negative integer"
    );
    assert_eq!(
        error(&edit("\"--lr\"", "3"), "objective.command"),
        "study.toml:6: [objective] command: invalid type: integer `3`, expected a string"
    );
    assert_eq!(
        error(
            &edit("timeout = \"10m\"", "timeout = 600"),
            "objective.timeout"
        ),
        "study.toml:7: [objective] timeout: invalid type: integer `600`, expected a string"
    );
    assert_eq!(
        error(
            &edit("log = true }\nhidden", "log = \"yes\" }\nhidden"),
            "space.lr.log"
        ),
        "study.toml:12: [space.lr] log: invalid type: string \"yes\", expected a boolean"
    );
    assert_eq!(
        error(
            &edit("max_budget = 81", "max_budget = \"81\""),
            "algorithm.max_budget"
        ),
        "study.toml:20: [algorithm] max_budget: invalid type: string \"81\", expected a number"
    );
    assert_eq!(
        error(&edit("low = 10,", "low = 10.5,"), "space.hidden.low"),
        "study.toml:13: [space.hidden] low: an int parameter needs an integer, got 10.5"
    );
    assert_eq!(
        error(&edit("low = 1e-3", "low = \"small\""), "space.lr.low"),
        "study.toml:12: [space.lr] low: expected a number, got \"small\""
    );
    assert_eq!(
        error(
            &edit("\"relu\", \"tanh\"", "\"relu\", 3"),
            "space.act.choices"
        ),
        "study.toml:14: [space.act] choices: choices must be strings, got 3 \
         (write \"3\", or use type = \"int\" or \"float\")"
    );
    assert_eq!(
        error(
            &edit("type = \"int\"", "type = \"integer\""),
            "space.hidden.type"
        ),
        "study.toml:13: [space.hidden] type: unknown parameter type `integer` \
         (expected float, int or categorical)"
    );
}

#[test]
fn missing_keys_name_their_table() {
    assert_eq!(
        error(&edit("name = \"mnist-mlp\"\n", ""), "name"),
        "study.toml:1: missing key `name`"
    );
    assert_eq!(
        error(&edit("max_budget = 81\n", ""), "algorithm.max_budget"),
        "study.toml:16: [algorithm] missing key `max_budget`"
    );
    assert_eq!(
        error(&edit("min_budget = 1\n", ""), "algorithm.min_budget"),
        "study.toml:16: [algorithm] missing key `min_budget` (scheduler `hyperband` needs it)"
    );
    assert_eq!(
        error(&edit(", high = 1000", ""), "space.hidden.high"),
        "study.toml:13: [space.hidden] missing key `high`"
    );
    assert_eq!(
        error(
            &edit(", choices = [\"relu\", \"tanh\"]", ""),
            "space.act.choices"
        ),
        "study.toml:14: [space.act] missing key `choices`"
    );
    assert_eq!(
        error(&edit("{ type = \"float\", ", "{ "), "space.lr.type"),
        "study.toml:12: [space.lr] missing key `type`"
    );
}

#[test]
fn impossible_ranges_cite_the_parameter() {
    assert_eq!(
        error(
            &edit("low = 1e-3, high = 1e-1", "low = 0.1, high = 0.01"),
            "space.lr.low"
        ),
        "study.toml:12: [space.lr] low (0.1) must be below high (0.01)"
    );
    assert_eq!(
        error(
            &edit("low = 10, high = 1000", "low = 10, high = 10"),
            "space.hidden.low"
        ),
        "study.toml:13: [space.hidden] low (10) must be below high (10)"
    );
    assert_eq!(
        error(&edit("low = 10,", "low = 0,"), "space.hidden.log"),
        "study.toml:13: [space.hidden] a log scale needs low > 0, got low = 0"
    );
    assert_eq!(
        error(&edit("low = 1e-3", "low = nan"), "space.lr.low"),
        "study.toml:12: [space.lr] bounds must be finite numbers, got [NaN, 0.1]"
    );
    assert_eq!(
        error(&edit("[\"relu\", \"tanh\"]", "[]"), "space.act.choices"),
        "study.toml:14: [space.act] a categorical parameter needs at least one choice"
    );
    assert_eq!(
        error(
            &edit("[\"relu\", \"tanh\"]", "[\"relu\",\n  \"relu\"]"),
            "space.act.choices"
        ),
        "study.toml:15: [space.act] choice `relu` is listed twice"
    );
    assert_eq!(
        error(
            &edit("choices = [", "low = 1, choices = ["),
            "space.act.low"
        ),
        "study.toml:14: [space.act] `low` is for float and int parameters; a categorical \
         parameter has choices"
    );
    assert_eq!(
        error(
            &edit(
                "log = true }\nhidden",
                "log = true, choices = [\"a\"] }\nhidden"
            ),
            "space.lr.choices"
        ),
        "study.toml:12: [space.lr] `choices` is for categorical parameters; a float \
         parameter has low, high and log"
    );
    let no_params = edit(
        "lr     = { type = \"float\", low = 1e-3, high = 1e-1, log = true }\n",
        "",
    )
    .replace(
        "hidden = { type = \"int\", low = 10, high = 1000, log = true }\n",
        "",
    )
    .replace(
        "act    = { type = \"categorical\", choices = [\"relu\", \"tanh\"] }\n",
        "",
    )
    .replace(", \"--lr\", \"{lr}\", \"--hidden\", \"{hidden}\"", "");
    assert_eq!(
        error(&no_params, "space"),
        "study.toml:11: [space] the study needs at least one parameter"
    );
}

#[test]
fn parameter_names_must_not_shadow_job_placeholders_or_each_other() {
    assert_eq!(
        error(&edit("act    =", "budget ="), "space.budget"),
        "study.toml:14: [space] budget: `budget` is reserved for the job's own placeholder \
         `{budget}`; rename the parameter"
    );
    assert_eq!(
        error(&edit("act    =", "\"LR\" ="), "space.LR"),
        "study.toml:14: [space] LR: parameters `lr` and `LR` would both be passed as \
         HYPERBAND_PARAM_LR; rename one"
    );
}

#[test]
fn unknown_algorithms_list_the_valid_names() {
    assert_eq!(
        error(
            &edit("\"hyperband\"", "\"hyper-band\""),
            "algorithm.scheduler"
        ),
        "study.toml:17: [algorithm] scheduler: unknown scheduler `hyper-band` (expected one \
         of full-budget, sha, hyperband, asha, async-hyperband)"
    );
    assert_eq!(
        error(&edit("\"random\"", "\"bohb\""), "algorithm.sampler"),
        "study.toml:18: [algorithm] sampler: unknown sampler `bohb` (expected one of \
         random, tpe, gp, mf-gp)"
    );
    assert_eq!(
        error(
            &edit("eta = 3", "eta = 3\nbracket_sizes = \"paper\""),
            "algorithm.bracket_sizes"
        ),
        "study.toml:22: [algorithm] bracket_sizes: unknown bracket sizes `paper` \
         (expected `algorithm` or `table`)"
    );
}

#[test]
fn budget_problems_cite_the_budget_key() {
    assert_eq!(
        error(
            &edit("min_budget = 1", "min_budget = 0"),
            "algorithm.min_budget"
        ),
        "study.toml:19: [algorithm] min_budget must be a positive finite number, got 0"
    );
    assert_eq!(
        error(
            &edit("max_budget = 81", "max_budget = 0.5"),
            "algorithm.max_budget"
        ),
        "study.toml:20: [algorithm] max_budget (0.5) must be a finite number at least \
         min_budget (1)"
    );
    assert_eq!(
        error(&edit("eta = 3", "eta = 1"), "algorithm.eta"),
        "study.toml:21: [algorithm] eta must be at least 2, got 1"
    );
    assert_eq!(
        error(
            &edit("scheduler = \"hyperband\"", "scheduler = \"sha\""),
            "algorithm.n_configs"
        ),
        "study.toml:16: [algorithm] missing key `n_configs` (scheduler `sha` starts that \
         many configurations)"
    );
    assert_eq!(
        error(
            &edit("eta = 3", "eta = 3\nn_configs = 27"),
            "algorithm.n_configs"
        ),
        "study.toml:22: [algorithm] n_configs: applies to scheduler `sha` only, not `hyperband`"
    );
    let sha = edit("scheduler = \"hyperband\"", "scheduler = \"sha\"")
        .replace("eta = 3", "eta = 3\nn_configs = 27");
    assert_eq!(parse(&sha).unwrap().scheduler().name(), "sha");
}

#[test]
fn placeholders_must_name_parameters() {
    assert_eq!(
        error(&edit("\"{hidden}\"", "\"{hiden}\""), "objective.command"),
        "study.toml:6: [objective] command: placeholder `{hiden}` names no parameter \
         (parameters: lr, hidden, act; job placeholders: budget, resume_from, trial, job, \
         checkpoint_dir)"
    );
    let multiline = edit(
        "\"--epochs\", \"{budget}\"]",
        "\n  \"--epochs\",\n  \"{epochs}\",\n]",
    );
    assert_eq!(
        error(&multiline, "objective.command"),
        "study.toml:8: [objective] command: placeholder `{epochs}` names no parameter \
         (parameters: lr, hidden, act; job placeholders: budget, resume_from, trial, job, \
         checkpoint_dir)"
    );
    assert_eq!(
        error(&edit("\"{lr}\"", "\"{lr\""), "objective.command"),
        "study.toml:6: [objective] command: unclosed `{` in argument \"{lr\" (write `{{` \
         for a literal brace)"
    );
    assert_eq!(
        error(&edit("[\"python3\",", "[\"\","), "objective.command"),
        "study.toml:6: [objective] command: must name a program, e.g. [\"python3\", \
         \"train.py\", \"--lr\", \"{lr}\"]"
    );
}

#[test]
fn command_and_builtin_exclude_each_other() {
    assert_eq!(
        error(&edit("# builtin", "builtin"), "objective.builtin"),
        "study.toml:9: [objective] give either `command` or `builtin`, not both"
    );
    let neither = edit(
        "command = [\"python3\", \"train.py\", \"--lr\", \"{lr}\", \"--hidden\", \"{hidden}\", \"--epochs\", \"{budget}\"]\n",
        "",
    );
    assert_eq!(
        error(&neither, "objective.command"),
        "study.toml:5: [objective] missing key `command` (the program to run, as a list \
         of arguments) or `builtin` (a built-in workload)"
    );
}

#[test]
fn durations_and_run_limits_are_checked() {
    assert_eq!(
        error(&edit("\"10m\"", "\"10 minutes\""), "objective.timeout"),
        "study.toml:7: [objective] timeout: expected a duration like \"90s\", \"10m\", \"2h\" \
         or \"1h30m\", got \"10 minutes\""
    );
    assert_eq!(
        error(&edit("workers = 2", "workers = 0"), "run.workers"),
        "study.toml:24: [run] workers: must be at least 1"
    );
    assert_eq!(
        error(&edit("workers = 2", "max_time = \"0s\""), "run.max_time"),
        "study.toml:24: [run] max_time: a duration must be positive, got \"0s\""
    );
    assert_eq!(
        error(&edit("= 2000", "= -5"), "run.max_total_budget"),
        "study.toml:25: [run] max_total_budget: must be a positive number, got -5"
    );
}

#[test]
fn storage_syntax_and_reading_errors_are_located() {
    assert_eq!(
        error(&edit("sqlite:hyperband.db", "mysql://db"), "storage"),
        "study.toml:3: storage: expected `sqlite:PATH` or `postgres://USER@HOST/DATABASE`, \
         got `mysql://db`"
    );
    assert_eq!(
        error(&edit("eta = 3", "eta = 3\nmin_budget = 2"), ""),
        "study.toml:22: duplicate key `min_budget`"
    );
    let e = parse(&edit("seed = 7", "seed = 7 7")).unwrap_err();
    assert!(e.to_string().starts_with("study.toml:2: "), "{e}");
    let e = StudyFile::load("/nonexistent/study.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "/nonexistent/study.toml: cannot read the study file: No such file or directory \
         (os error 2)"
    );
}

const METRIC: &str = "metric = { regex = 'val_loss: ([0-9.]+)', budget_regex = 'Epoch (\\d+)' }\n";

/// The example in stop mode with ASHA and `metric` as given.
fn stop_mode(metric: &str) -> String {
    edit(
        "scheduler = \"hyperband\"",
        "scheduler = \"asha\"\nmode = \"stop\"",
    )
    .replacen("resumable = false", metric, 1)
}

#[test]
fn a_metric_rule_is_stored_with_the_command() {
    let f = parse(&edit("resumable = false", METRIC)).unwrap();
    let m = f.objective.metric.clone().unwrap();
    assert_eq!(m.regex.as_deref(), Some("val_loss: ([0-9.]+)"));
    assert_eq!(m.source, "stdout");
    assert_eq!(
        f.spec().to_json()["objective"]["metric"]["budget_regex"],
        "Epoch (\\d+)"
    );
    // A file without one keeps the definition it always had.
    assert!(parse(EXAMPLE).unwrap().spec().to_json()["objective"]
        .get("metric")
        .is_none());
}

#[test]
fn bad_metric_rules_name_their_key() {
    let e = error(
        &edit("resumable = false", "metric = { regex = 'loss=' }"),
        "objective.metric.regex",
    );
    assert!(e.contains("study.toml:8: [objective.metric] regex:"), "{e}");
    assert!(e.contains("no capture group"), "{e}");
    let e = error(
        &edit(
            "resumable = false",
            "metric = { regex = '(', source = 'stdout' }",
        ),
        "objective.metric.regex",
    );
    assert!(e.contains("not a valid regex"), "{e}");
    let e = error(
        &edit(
            "resumable = false",
            "metric = { regex = 'l=(.*)', source = 'stdin' }",
        ),
        "objective.metric.source",
    );
    assert!(e.contains("file:PATH"), "{e}");
    let e = error(
        &edit(
            "resumable = false",
            "metric = { regex = 'l=(.*)', step_budget = 1, budget_regex = 'e(\\d)' }",
        ),
        "objective.metric.step_budget",
    );
    assert!(e.contains("not both"), "{e}");
    let e = error(
        &edit(
            "resumable = false",
            "metric = { regex = 'l=(.*)', step_budget = -1.0 }",
        ),
        "objective.metric.step_budget",
    );
    assert!(e.contains("positive"), "{e}");
}

#[test]
fn bad_named_formats_name_their_key() {
    let cases = [
        (
            "metric = { format = 'keras2' }",
            "objective.metric.format",
            "study.toml:8: [objective.metric] format: unknown format `keras2`; expected one of keras, pytorch-examples",
        ),
        (
            "metric = { format = 'xgboost' }",
            "objective.metric.name",
            "needs the metric's `name`",
        ),
        (
            "metric = { format = 'keras', regex = 'l=(.*)' }",
            "objective.metric.regex",
            "either a `format` or a `regex`",
        ),
        (
            "metric = { format = 'keras', step_budget = 1 }",
            "objective.metric.step_budget",
            "reads the budget itself",
        ),
        (
            "metric = { format = 'keras', budget_key = 'step' }",
            "objective.metric.budget_key",
            "hf-trainer, json-lines, key=value",
        ),
        (
            "metric = { format = 'pytorch-examples', name = 'val_loss' }",
            "objective.metric.name",
            "prints `loss` and `accuracy`, not `val_loss`",
        ),
        (
            "metric = { regex = 'l=(.*)', name = 'loss' }",
            "objective.metric.name",
            "applies to a `format`",
        ),
    ];
    for (metric, key, message) in cases {
        let e = error(&edit("resumable = false", metric), key);
        assert!(e.contains(message), "{metric}: {e}");
    }
}

#[test]
fn stop_mode_is_checked_against_the_scheduler_and_the_metric() {
    let f = parse(&stop_mode(METRIC)).unwrap();
    assert_eq!(f.algorithm.mode(), hyperband::Mode::Stop);
    assert_eq!(f.spec().cost, CostModel::Resume);
    assert!(f.scheduler().program_budget().is_some());
    let e = error(&stop_mode(""), "algorithm.mode");
    assert!(e.contains("give `[objective] metric"), "{e}");
    let e = error(
        &stop_mode("metric = { regex = 'val_loss: ([0-9.]+)' }"),
        "algorithm.mode",
    );
    assert!(e.contains("budget_regex"), "{e}");
    let e = error(
        &edit(
            "scheduler = \"hyperband\"",
            "scheduler = \"sha\"\nn_configs = 9\nmode = \"stop\"",
        ),
        "algorithm.mode",
    );
    assert!(e.contains("`asha` and `hyperband`, not `sha`"), "{e}");
    let e = error(
        &edit(
            "scheduler = \"hyperband\"",
            "scheduler = \"asha\"\nmode = \"halt\"",
        ),
        "algorithm.mode",
    );
    assert!(e.contains("unknown mode `halt`"), "{e}");
}

#[test]
fn enqueued_configurations_are_checked_against_the_space() {
    let good = format!(
        "{EXAMPLE}\n[[enqueue]]\nlr = 0.01\nhidden = 100\nact = \"tanh\"\n\n[[enqueue]]\nlr = 0.05\nhidden = 20\nact = \"relu\"\n"
    );
    let f = parse(&good).unwrap();
    assert_eq!(f.enqueue.len(), 2);
    assert_eq!(f.enqueue[1].get("hidden"), Some(&hyperband::Value::Int(20)));
    // Three independent mistakes, three errors, each naming its table and parameter.
    let bad = format!(
        "{EXAMPLE}\n[[enqueue]]\nlr = 5.0\nhidden = 100\nact = \"tanh\"\n\n[[enqueue]]\nlr = 0.01\nact = \"relu\"\n\n[[enqueue]]\nlr = 0.01\nhidden = 100\nact = \"relu\"\nmomentum = 0.9\n"
    );
    let errors = parse(&bad).unwrap_err();
    let text = errors.to_string();
    assert_eq!(errors.0.len(), 3, "{text}");
    assert!(
        text.contains("[enqueue] #1: ") && text.contains("`lr`"),
        "{text}"
    );
    assert!(
        text.contains("[enqueue] #2: ") && text.contains("`hidden`"),
        "{text}"
    );
    assert!(
        text.contains("[enqueue] #3: ") && text.contains("`momentum`"),
        "{text}"
    );
}

/// A study with a conditional parameter and a fixed one (issue 13).
const CONDITIONAL: &str = r#"name = "cond"

[objective]
command = ["python3", "train.py", "--opt", "{optimizer}", "--momentum", "{momentum}", "--batch", "{batch}", "--epochs", "{budget}"]

[space]
optimizer = { type = "categorical", choices = ["sgd", "adam"] }
momentum  = { type = "float", low = 0.0, high = 0.99, when = "optimizer == 'sgd'" }
batch     = { value = 128 }
tag       = { value = "v1" }

[algorithm]
scheduler = "full-budget"
max_budget = 3
"#;

#[test]
fn conditional_and_fixed_parameters_are_read() {
    let f = parse(CONDITIONAL).unwrap();
    let space = f.space();
    assert_eq!(space.names().len(), 2, "fixed parameters are not searched");
    assert_eq!(
        space.params()[1].when.as_ref().map(|c| c.source()),
        Some("optimizer == 'sgd'")
    );
    assert_eq!(
        f.fixed,
        vec![
            ("batch".to_string(), hyperband::Value::Int(128)),
            (
                "tag".to_string(),
                hyperband::Value::Categorical("v1".into())
            ),
        ]
    );
    // The stored objective carries the fixed values, so that a `worker` passes them too.
    let spec = f.spec();
    assert_eq!(
        spec.to_json()["objective"]["fixed"],
        serde_json::json!({"batch": 128, "tag": "v1"})
    );
    assert_eq!(spec.space[1].when, space.params()[1].when);
    // A file without them keeps the stored definition it always had.
    let plain = parse(EXAMPLE).unwrap().spec();
    assert!(plain.to_json()["objective"].get("fixed").is_none());
    assert!(!serde_json::to_string(&plain.space)
        .unwrap()
        .contains("when"));
    // The command: momentum and its flag only for sgd, the fixed batch always.
    let command = f
        .command_objective(&RunDir::of_study(&f.storage, &f.name, f.dir()))
        .unwrap();
    let adam = space
        .config([("optimizer", hyperband::Value::Categorical("adam".into()))])
        .unwrap();
    let job = hyperband::Job {
        id: hyperband::JobId(1),
        trial: hyperband::TrialId(1),
        config: adam,
        budget: 3.0,
        resume_from: 0.0,
        bracket: 0,
        rung: 0,
        attempt: 0,
    };
    assert_eq!(
        command.command_line(&job).unwrap(),
        ["python3", "train.py", "--opt", "adam", "--batch", "128", "--epochs", "3"]
    );
}

#[test]
fn bad_conditions_are_all_reported_at_their_when() {
    let bad = CONDITIONAL.replace(
        "tag       = { value = \"v1\" }",
        "a = { type = \"int\", low = 1, high = 3, when = \"optimiser == 'sgd'\" }\n\
         b = { type = \"int\", low = 1, high = 3, when = \"later == 1\" }\n\
         c = { type = \"int\", low = 1, high = 3, when = \"optimizer == 2\" }\n\
         d = { type = \"int\", low = 1, high = 3, when = \"optimizer in ['sgd', 'rmsprop']\" }\n\
         e = { type = \"int\", low = 1, high = 3, when = \"momentum == 'high'\" }\n\
         f = { type = \"int\", low = 1, high = 3, when = \"optimizer = 'sgd'\" }\n\
         later = { type = \"int\", low = 1, high = 3 }",
    );
    let errors = parse(&bad).unwrap_err();
    let text = errors.to_string();
    assert_eq!(errors.0.len(), 6, "{text}");
    let lines: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        lines[0],
        "study.toml:10: [space.a] when: condition names `optimiser`, which is not a parameter defined before it"
    );
    assert_eq!(
        lines[1],
        "study.toml:11: [space.b] when: condition names `later`, which is not a parameter defined before it"
    );
    assert!(
        lines[2].starts_with("study.toml:12: [space.c] when: ")
            && lines[2].contains("with the number 2"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("study.toml:13: [space.d] when: ")
            && lines[3].contains("'rmsprop', which is not one of its choices"),
        "{text}"
    );
    assert!(
        lines[4].starts_with("study.toml:14: [space.e] when: ")
            && lines[4].contains("numeric parameter `momentum`"),
        "{text}"
    );
    assert!(
        lines[5].starts_with("study.toml:15: [space.f] when: condition `optimizer = 'sgd'`: ")
            && lines[5].contains("write `==`"),
        "{text}"
    );
    for e in &errors.0 {
        assert!(e.key.ends_with(".when"), "{e}");
    }
}

#[test]
fn fixed_values_take_nothing_else() {
    let bad = CONDITIONAL
        .replace("{ value = 128 }", "{ value = 128, low = 1 }")
        .replace("{ value = \"v1\" }", "{ value = true }");
    let errors = parse(&bad).unwrap_err();
    let text = errors.to_string();
    assert_eq!(errors.0.len(), 2, "{text}");
    assert_eq!(
        errors.0[0].to_string(),
        "study.toml:9: [space.batch] `low` does not go with `value`: a fixed parameter has only its value"
    );
    assert_eq!(
        errors.0[1].to_string(),
        "study.toml:10: [space.tag] value: a fixed value must be a number or a string, got true"
    );
    // A space of fixed values only has nothing to search.
    let all_fixed = CONDITIONAL
        .replace(
            "{ type = \"categorical\", choices = [\"sgd\", \"adam\"] }",
            "{ value = \"sgd\" }",
        )
        .replace(
            "{ type = \"float\", low = 0.0, high = 0.99, when = \"optimizer == 'sgd'\" }",
            "{ value = 0.9 }",
        );
    let e = error(&all_fixed, "space");
    assert!(e.contains("every parameter is fixed"), "{e}");
}

#[test]
fn enqueued_configurations_leave_out_inactive_parameters() {
    let good = format!(
        "{CONDITIONAL}\n[[enqueue]]\noptimizer = \"adam\"\n\n[[enqueue]]\noptimizer = \"sgd\"\nmomentum = 0.9\nbatch = 128\n"
    );
    let f = parse(&good).unwrap();
    assert_eq!(f.enqueue.len(), 2);
    assert_eq!(f.enqueue[0].get("momentum"), None);
    assert_eq!(f.enqueue[1].f64("momentum"), Some(0.9));
    let bad = format!(
        "{CONDITIONAL}\n[[enqueue]]\noptimizer = \"adam\"\nmomentum = 0.9\n\n[[enqueue]]\noptimizer = \"sgd\"\n\n[[enqueue]]\noptimizer = \"adam\"\nbatch = 64\n"
    );
    let errors = parse(&bad).unwrap_err();
    let text = errors.to_string();
    assert_eq!(errors.0.len(), 3, "{text}");
    assert!(text.contains("[enqueue] #1: ") && text.contains("value for parameter `momentum`, but its condition `optimizer == 'sgd'` does not hold"), "{text}");
    assert!(
        text.contains("[enqueue] #2: configuration has no value for parameter `momentum`"),
        "{text}"
    );
    assert!(
        text.contains("[enqueue] #3: parameter `batch` is fixed at 128, got 64"),
        "{text}"
    );
}
