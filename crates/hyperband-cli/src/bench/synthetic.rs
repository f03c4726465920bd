//! `hyperband bench synthetic`: methods side by side on a synthetic problem with a known
//! optimum, scored by the regret of the noise-free full-fidelity value of each run's
//! incumbent against budget spent (in multiples of the maximum budget R).

use super::stats::quantile;
use crate::cli_error::bad_input;
use crate::plot::{self, Series};
use crate::synthetic;
use hyperband::{
    AlgorithmFields, CostModel, Decision, Limits, Mode, Outcome, SamplerKind, SchedulerKind,
    StudySpec,
};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use workloads::synthetic::Problem;

#[derive(Debug, clap::Args)]
pub struct SyntheticArgs {
    /// Problem name (see docs/problems.md): mf-branin, mf-hartmann3, mf-hartmann6,
    /// mfh3-PRESET, mfh6-PRESET (default, good, moderate, bad, terrible), counting-ones.
    #[arg(long, default_value = "mf-hartmann6")]
    pub problem: String,
    /// Total budget per run, in full-budget evaluations (multiples of R).
    #[arg(long, default_value_t = 100.0)]
    pub budget: f64,
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// Methods: random, random-2x, gp, hyperband, bohb, asha, async-hyperband, asha-tpe,
    /// asha-stop, hyperband-stop, hyperband-gp, mf-gp, asha-mf-gp.
    #[arg(long, value_delimiter = ',', default_value = "random,hyperband")]
    pub methods: Vec<Method>,
    /// Halving rate of the multi-fidelity methods.
    #[arg(long, default_value_t = 3)]
    pub eta: u32,
    /// Standard deviation of Gaussian observation noise added to every loss.
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
    /// Folder for the anytime curve (CSV) and the plot (SVG).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Random,
    Random2x,
    Gp,
    Hyperband,
    Bohb,
    Asha,
    AsyncHyperband,
    AshaTpe,
    /// Stopping rules (`mode = "stop"`): each trial runs once, charged the budget it reached.
    AshaStop,
    HyperbandStop,
    /// Hyperband with the plain GP (largest budget with enough points), the ablation of
    /// `mf-gp`.
    HyperbandGp,
    /// Hyperband and ASHA with the multi-fidelity GP over (configuration, budget).
    MfGp,
    AshaMfGp,
}

impl Method {
    const ALL: [(&'static str, Method); 13] = [
        ("random", Method::Random),
        ("random-2x", Method::Random2x),
        ("gp", Method::Gp),
        ("hyperband", Method::Hyperband),
        ("bohb", Method::Bohb),
        ("asha", Method::Asha),
        ("async-hyperband", Method::AsyncHyperband),
        ("asha-tpe", Method::AshaTpe),
        ("asha-stop", Method::AshaStop),
        ("hyperband-stop", Method::HyperbandStop),
        ("hyperband-gp", Method::HyperbandGp),
        ("mf-gp", Method::MfGp),
        ("asha-mf-gp", Method::AshaMfGp),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .expect("listed")
            .0
    }

    pub(crate) fn algorithm(self) -> (SchedulerKind, SamplerKind) {
        use SamplerKind as Sa;
        use SchedulerKind as Sc;
        match self {
            Method::Random | Method::Random2x => (Sc::FullBudget, Sa::Random),
            Method::Gp => (Sc::FullBudget, Sa::Gp),
            Method::Hyperband => (Sc::Hyperband, Sa::Random),
            Method::Bohb => (Sc::Hyperband, Sa::Tpe),
            Method::Asha => (Sc::Asha, Sa::Random),
            Method::AsyncHyperband => (Sc::AsyncHyperband, Sa::Random),
            Method::AshaTpe => (Sc::Asha, Sa::Tpe),
            Method::AshaStop => (Sc::Asha, Sa::Random),
            Method::HyperbandStop => (Sc::Hyperband, Sa::Random),
            Method::HyperbandGp => (Sc::Hyperband, Sa::Gp),
            Method::MfGp => (Sc::Hyperband, Sa::MfGp),
            Method::AshaMfGp => (Sc::Asha, Sa::MfGp),
        }
    }

    fn mode(self) -> Mode {
        match self {
            Method::AshaStop | Method::HyperbandStop => Mode::Stop,
            _ => Mode::Promote,
        }
    }

    /// Random search with twice the budget: the baseline Recht and Jamieson argue every
    /// comparison needs (two machines running random search in the same time).
    fn budget_factor(self) -> f64 {
        if self == Method::Random2x {
            2.0
        } else {
            1.0
        }
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown method `{s}` (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

/// The study a method runs on a problem: in promotion mode every evaluation is charged its
/// whole budget (docs/problems.md); a stopping rule's trial runs once and is charged the budget
/// it reached (each rung what it adds).
pub(crate) fn spec_for(problem: &dyn Problem, method: Method, eta: u32, seed: u64) -> StudySpec {
    let (scheduler, sampler) = method.algorithm();
    StudySpec {
        cost: match method.mode() {
            Mode::Stop => CostModel::Resume,
            Mode::Promote => CostModel::Scratch,
        },
        objective: Some(hyperband::ObjectiveSpec::Builtin {
            builtin: problem.name().to_string(),
        }),
        ..StudySpec::new(
            seed,
            synthetic::space(problem).params().to_vec(),
            AlgorithmFields {
                eta,
                mode: method.mode(),
                ..AlgorithmFields::new(
                    scheduler,
                    sampler,
                    problem.min_budget(),
                    problem.max_budget(),
                )
            }
            .try_into()
            .expect("a valid algorithm"),
        )
    }
}

/// (budget spent in multiples of R, regret of the incumbent) after each finished job.
type Trace = Vec<(f64, f64)>;

fn run_one(
    problem: &dyn Problem,
    method: Method,
    eta: u32,
    budget: f64,
    seed: u64,
) -> anyhow::Result<Trace> {
    let spec = spec_for(problem, method, eta, seed);
    let r = problem.max_budget();
    let limits = Limits {
        max_total_budget: Some(budget * method.budget_factor() * r),
        max_trials: None,
    };
    let mut study = spec.build(limits).map_err(bad_input)?;
    let mut regret_of_trial: HashMap<u64, f64> = HashMap::new();
    let mut trace = Trace::new();
    loop {
        let job = match study.ask() {
            Decision::Run(job) => job,
            Decision::Done => break,
            Decision::Wait => anyhow::bail!("a serial run was told to wait"),
        };
        // A stopping rule's trial goes on rung after rung until it is stopped.
        let mut next = Some(job);
        while let Some(job) = next {
            let loss = synthetic::evaluate(problem, &job, seed);
            next = if study.stops() {
                study.tell_and_continue(job.id, Outcome::loss(loss))?.1
            } else {
                study.tell(job.id, Outcome::loss(loss))?;
                None
            };
            let inc = study.incumbent().expect("a job just finished");
            let regret = *regret_of_trial.entry(inc.trial.0).or_insert_with(|| {
                problem.regret(&synthetic::point(&study.history().trial(inc.trial).config))
            });
            let spent = study.stats().budget_spent / r / method.budget_factor();
            trace.push((spent, regret.max(0.0)));
        }
    }
    Ok(trace)
}

/// The trace's regret once `x` (in multiples of R, on the method's own scale) was spent.
fn regret_at(trace: &Trace, x: f64) -> Option<f64> {
    let i = trace.partition_point(|p| p.0 <= x + 1e-9);
    (i > 0).then(|| trace[i - 1].1)
}

/// Runs `methods` x `seeds` on all cores; traces in (method, seed) order.
fn run_all(args: &SyntheticArgs) -> anyhow::Result<Vec<(Method, Vec<Trace>)>> {
    let build =
        |name: &str| workloads::synthetic::by_name_with_noise(name, args.noise).map_err(bad_input);
    build(&args.problem)?;
    let tasks: Vec<(usize, u64)> = (0..args.methods.len())
        .flat_map(|m| (0..args.seeds).map(move |s| (m, s)))
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(HashMap::new());
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    let problem = build(&args.problem)?;
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(m, seed)) = tasks.get(i) else {
                            return Ok(());
                        };
                        let trace = run_one(
                            problem.as_ref(),
                            args.methods[m],
                            args.eta,
                            args.budget,
                            seed,
                        )?;
                        results.lock().expect("no panics").insert((m, seed), trace);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a benchmark thread panicked"))??;
        }
        Ok(())
    })?;
    let mut results = results.into_inner().expect("no panics");
    Ok(args
        .methods
        .iter()
        .enumerate()
        .map(|(m, method)| {
            let traces = (0..args.seeds)
                .map(|s| results.remove(&(m, s)).expect("every task ran"))
                .collect();
            (*method, traces)
        })
        .collect())
}

pub fn run(args: &SyntheticArgs) -> anyhow::Result<()> {
    if args.budget.is_nan() || args.budget <= 0.0 || args.seeds == 0 {
        return Err(bad_input(anyhow::anyhow!(
            "--budget must be positive and --seeds at least 1"
        )));
    }
    let all = run_all(args)?;
    let grid: Vec<f64> = (1..=100).map(|k| args.budget * k as f64 / 100.0).collect();
    let mut rows = Vec::new();
    let mut series = Vec::new();
    let mut csv = String::from("method,budget_in_R,median_regret,q25,q75\n");
    for (method, traces) in &all {
        // Final regret per seed, in seed order.
        let finals: Vec<f64> = traces
            .iter()
            .filter_map(|t| t.last().map(|p| p.1))
            .collect();
        rows.push(json!({
            "method": method.name(),
            "median_regret": quantile(&finals, 0.5),
            "q25": quantile(&finals, 0.25),
            "q75": quantile(&finals, 0.75),
            "final_regrets": finals,
        }));
        let mut points = Vec::new();
        for &x in &grid {
            let at: Vec<f64> = traces.iter().filter_map(|t| regret_at(t, x)).collect();
            if at.len() * 2 > traces.len() {
                let (m, lo, hi) = (quantile(&at, 0.5), quantile(&at, 0.25), quantile(&at, 0.75));
                csv += &format!("{},{x},{m},{lo},{hi}\n", method.name());
                points.push((x, m));
            }
        }
        series.push(Series {
            name: method.name().to_string(),
            points,
        });
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out/bench").join(format!("synthetic-{}", args.problem)));
    std::fs::create_dir_all(&out)?;
    let csv_path = out.join("curve.csv");
    std::fs::write(&csv_path, csv)?;
    let plot_path = out.join("regret.svg");
    plot::lines(
        &plot_path,
        &format!(
            "{}: median regret of the incumbent ({} seeds)",
            args.problem, args.seeds
        ),
        "budget spent (multiples of R)",
        "regret",
        &series,
        true,
    )?;
    let report = json!({
        "problem": args.problem,
        "budget": args.budget,
        "seeds": args.seeds,
        "eta": args.eta,
        "noise": args.noise,
        "methods": rows,
        "curve_csv": csv_path,
        "plot": plot_path,
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    println!(
        "{} at {} x R budget, {} seeds (regret of the noise-free full-fidelity incumbent)",
        args.problem, args.budget, args.seeds
    );
    println!(
        "{:<16} {:>12} {:>12} {:>12}",
        "method", "median", "q25", "q75"
    );
    for r in &rows {
        println!(
            "{:<16} {:>12.3e} {:>12.3e} {:>12.3e}",
            r["method"].as_str().unwrap_or_default(),
            r["median_regret"].as_f64().unwrap_or(f64::NAN),
            r["q25"].as_f64().unwrap_or(f64::NAN),
            r["q75"].as_f64().unwrap_or(f64::NAN),
        );
    }
    println!(
        "anytime curve: {}\nplot: {}",
        csv_path.display(),
        plot_path.display()
    );
    Ok(())
}
