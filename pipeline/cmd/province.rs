//! `pipeline province`: the province roll-up (全省汇总) over several counties.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use pension::domain::Month;
use pension::reports::{province, Definitions};

/// Roll several counties up into the province package, with the cross-county checks.
///
/// Over the counties exported into --data (`pipeline export` for each): every table
/// of the monthly package by the report SQL as it is, per county, side by side with
/// a county column and a province total row (全省合计); and the checks only a
/// province can make (reports/province/): one person enrolled in two counties,
/// paid by two counties for the same month, or paid by one after a death recorded
/// in another. Writes OUT/全省月报_YYYY-MM.xlsx and csv/ (ID numbers masked), raw/
/// (exact values by column name) and 回县核查/<county>.csv (each county's findings to
/// verify, full ID numbers).
///
/// --samples DIR does the whole job from county input folders (DIR/<code>/, as
/// `pipeline synth --province` writes them): a warehouse per county (ingest,
/// ledger, audit), the exports, then the roll-up. --spark also runs the same SQL on
/// Apache Spark (python3 spark/province.py, local mode) and compares every figure
/// with DuckDB's, to the fen.
///
/// Examples:
///   pipeline province --samples data-samples/province --out province-out --spark
///   pipeline province --data province-data --month 2026-10 --out province-2026-10
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["data", "samples"]))]
pub struct Args {
    /// The counties' exports (`pipeline export --out DIR`, once per county).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// County input folders DIR/<region code>/: build, export and roll up all of them.
    #[arg(long, value_name = "DIR")]
    samples: Option<PathBuf>,
    /// The report month (with --samples: default the latest month with payouts).
    #[arg(long, value_name = "YYYY-MM")]
    month: Option<Month>,
    /// Output folder (with --samples it also holds the warehouses and the exports).
    #[arg(long)]
    out: PathBuf,
    /// Also run the roll-up on Spark (python3 with pyspark) and compare the figures.
    #[arg(long)]
    spark: bool,
    /// The Spark job (default: spark/province.py of the source tree).
    #[arg(long, value_name = "FILE", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/spark/province.py"))]
    spark_job: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let (data, month) = match (&args.data, &args.samples) {
        (Some(d), _) => {
            let Some(m) = args.month else {
                bail!("--data needs --month YYYY-MM (the month the counties were exported for)");
            };
            (d.clone(), m)
        }
        (None, Some(samples)) => build_counties(samples, &args.out, args.month)?,
        (None, None) => unreachable!("clap requires --data or --samples"),
    };
    let month_day = month.first_day();
    let defs = Definitions::load_default().context("loading the report definitions")?;
    let t = Instant::now();
    let run = province::compute(&data, month_day, &defs)
        .with_context(|| format!("rolling up the counties in {}", data.display()))?;
    let duckdb_seconds = t.elapsed().as_secs_f64();
    let out = args.out.join("province");
    province::write(&run, &out).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "Province {month}: {} counties ({}), {} tables, {} cross-county findings in {duckdb_seconds:.1} s (DuckDB) → {}",
        run.counties.len(),
        run.counties.join(", "),
        run.run.tables.len() - 1,
        run.findings.rows.len(),
        out.display()
    );
    for county in &run.counties {
        println!(
            "  {county}: {} finding(s) to verify → {}",
            run.findings_of(county).len(),
            out.join("回县核查").join(format!("{county}.csv")).display()
        );
    }
    if args.spark {
        let spark_out = args.out.join("spark");
        run_spark(&args.spark_job, &data, month, &spark_out)?;
        let (diffs, compared) = province::compare(&run, &spark_out.join("csv"))?;
        if !diffs.is_empty() {
            for d in diffs.iter().take(20) {
                eprintln!("  {d}");
            }
            bail!(
                "Spark and DuckDB disagree in {} place(s) over {compared} tables (above)",
                diffs.len()
            );
        }
        println!(
            "Spark and DuckDB agree to the fen on all {compared} tables (the findings included)"
        );
    }
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// Runs the Spark job over `data` into `out`.
fn run_spark(job: &Path, data: &Path, month: Month, out: &Path) -> anyhow::Result<()> {
    let t = Instant::now();
    let status = std::process::Command::new("python3")
        .arg(job)
        .arg("--data")
        .arg(data)
        .args(["--month", &month.to_string()])
        .arg("--out")
        .arg(out)
        .status()
        .context("starting python3 (the Spark job needs python3 with pyspark: pip install pyspark sqlglot)")?;
    if !status.success() {
        bail!(
            "the Spark job {} failed ({status}); it needs python3 with pyspark and sqlglot (pip install pyspark sqlglot) and Java 17",
            job.display()
        );
    }
    println!(
        "Spark job: {:.1} s (JVM start included)",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// From county input folders: a warehouse per county (ingest, ledger, audit), each
/// exported into OUT/data. Returns the data folder and the month.
fn build_counties(
    samples: &Path,
    out: &Path,
    month: Option<Month>,
) -> anyhow::Result<(PathBuf, Month)> {
    let mut counties: Vec<String> = std::fs::read_dir(samples)
        .with_context(|| format!("reading {}", samples.display()))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| pension::reports::export::check_county(n).is_ok())
        .collect();
    counties.sort();
    if counties.is_empty() {
        bail!(
            "{} holds no county folder named by its region code (e.g. 411725/); `pipeline synth --province --out DIR` writes two",
            samples.display()
        );
    }
    let data = out.join("data");
    let mut month = month;
    for county in &counties {
        let wh = out.join(format!("warehouse-{county}"));
        if wh.exists() {
            std::fs::remove_dir_all(&wh).with_context(|| format!("removing {}", wh.display()))?;
        }
        let wh_arg = wh.display().to_string();
        let input = samples.join(county).display().to_string();
        println!("== county {county}: ingest, ledger, audit, export ==");
        super::demo::run_self(&["--warehouse", &wh_arg, "ingest", "--skip-bad-files", &input])?;
        let m = match month {
            Some(m) => m,
            None => {
                let w = pension::warehouse::Warehouse::open_read(&wh)?;
                let conn = pension::warehouse::connect(&w, &super::catalog()?)?;
                let text = pension::query::scalar(
                    &conn,
                    "SELECT strftime(max(month), '%Y-%m') FROM payout WHERE status = 'ok'",
                )?;
                text.parse::<Month>()
                    .map_err(|e| anyhow::anyhow!("the latest payout month {text:?}: {e}"))?
            }
        };
        month = Some(m);
        let m = m.to_string();
        super::demo::run_self(&["--warehouse", &wh_arg, "ledger", "--through", &m])?;
        super::demo::run_self(&["--warehouse", &wh_arg, "audit", "--month", &m])?;
        let data_arg = data.display().to_string();
        super::demo::run_self(&[
            "--warehouse",
            &wh_arg,
            "export",
            "--county",
            county,
            "--month",
            &m,
            "--out",
            &data_arg,
        ])?;
    }
    Ok((data, month.expect("at least one county")))
}
