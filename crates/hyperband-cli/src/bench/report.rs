//! How a large study's report fares: a study of N jobs (free objective, stored in SQLite),
//! its report's size, and the time headless Chromium takes from navigation to a drawn page
//! (the page records `performance.now()` when its script ends).

use hyperband::executor::StoreWorker;
use hyperband::storage::{EventStore, Replica, SqliteStore, StorageUrl};
use hyperband::{Decision, Limits, Outcome, SamplerKind, SchedulerKind};
use std::process::Command;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct ReportBenchArgs {
    /// Jobs in the study.
    #[arg(long, default_value_t = 50_000)]
    pub jobs: u64,
    /// Chromium binary.
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: String,
    /// Page loads measured; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ReportBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("report-bench.db");
    let spec = crate::mnist::spec(1, SchedulerKind::Hyperband, SamplerKind::Random);
    let mut store = SqliteStore::open(&path)?;
    let (id, _) = store.open_study("report-bench", &spec.to_json())?;
    let build = spec.clone();
    let fresh = Box::new(move || {
        Replica::new(
            "report-bench",
            build.build(Limits::default()).expect("valid"),
        )
    });
    let mut worker = StoreWorker::new(SqliteStore::open(&path)?, id, fresh);
    let filled = Instant::now();
    for _ in 0..args.jobs {
        let Decision::Run(job) = worker.next_job()? else {
            anyhow::bail!("the study stopped handing out work");
        };
        let lr = job.config.f64("lr").unwrap_or(0.01);
        let loss = (lr.log10() + 2.0).powi(2) + 1.0 / job.budget;
        worker.report(&job, Outcome::loss(loss), 0.0)?;
    }
    let fill_s = filled.elapsed().as_secs_f64();
    let mut replica = Replica::new("report-bench", spec.build(Limits::default())?);
    replica.sync(&mut store, id)?;
    let page = dir.path().join("report.html");
    let written = Instant::now();
    crate::report::write(&replica, &spec, &StorageUrl::Sqlite(path.clone()), &page)?;
    let write_s = written.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&page)?.len();
    let mut render_ms = Vec::new();
    let mut wall_s = Vec::new();
    for _ in 0..args.repeat.max(1) {
        let profile = tempfile::tempdir()?;
        let start = Instant::now();
        let out = Command::new(&args.chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("file://{}", page.display()))
            .output()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", args.chromium))?;
        wall_s.push(start.elapsed().as_secs_f64());
        let dom = String::from_utf8_lossy(&out.stdout);
        let marker = "data-render-ms=\"";
        let at = dom
            .find(marker)
            .ok_or_else(|| anyhow::anyhow!("the report did not finish drawing in Chromium"))?;
        let ms: f64 = dom[at + marker.len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse()?;
        render_ms.push(ms);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let row = serde_json::json!({
        "jobs": args.jobs,
        "trials": replica.study().stats().trials,
        "report_bytes": bytes,
        "report_write_s": (write_s * 1000.0).round() / 1000.0,
        "render_ms_median": median(&mut render_ms),
        "chromium_wall_s_median": (median(&mut wall_s) * 100.0).round() / 100.0,
        "fill_s": (fill_s * 10.0).round() / 10.0,
    });
    if args.json {
        println!("{row}");
    } else {
        println!(
            "{} jobs ({} trials): report {:.1} MB written in {:.2} s; drawn by Chromium in {} ms (median of {}), {:.2} s for the whole headless run",
            args.jobs,
            row["trials"],
            bytes as f64 / 1e6,
            write_s,
            row["render_ms_median"],
            args.repeat.max(1),
            row["chromium_wall_s_median"],
        );
    }
    Ok(())
}
