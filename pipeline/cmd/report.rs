//! `pipeline report`: the monthly, quarterly or annual report package.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use pension::domain::{Month, Period, Quarter, Year};
use pension::reports::{self, Package, ReportOptions, ReportRun};

/// Write the report package of a month (统计月报), a quarter (季报, for the quarterly
/// work summary 季度工作总结 and the township assessment 季考核) or a natural year
/// (年报, for the final accounts 年度决算 and 年考评) into --out: the workbook
/// 月报_YYYY-MM.xlsx / 季报_YYYY-Qn.xlsx / 年报_YYYY.xlsx (a contents sheet, then a
/// sheet per table with Chinese headers, number formats and a totals row), the
/// same tables as CSV (csv/, UTF-8 with BOM for Excel) and the charts as PNG and
/// SVG (charts/).
///
/// A quarter's or year's flows (contributions by tier, subsidies by level,
/// payouts, refunds, transfers, fund income and expenditure) are summed over its
/// months, beside the same period a year earlier (同比); its positions (enrolled,
/// beneficiaries, coverage, fund balances) are those at the end of its last month.
///
/// The tables and charts are the files in reports/ (SQL plus a TOML of labels and
/// formats; `packages` says which package each belongs to; see reports/README.md).
/// Lists for action show ID numbers masked (the birth date hidden: first 6 and last
/// 4, or 3 for a 15-digit number) unless --unmasked. Run `pipeline audit --month`
/// first for the findings tables, and `pipeline ledger` for the pooled-fund part of
/// payouts and the interest settlement.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("period").required(true).args(["month", "quarter", "year"]))]
pub struct Args {
    /// The report month, YYYY-MM (the monthly package).
    #[arg(long, value_name = "YYYY-MM")]
    month: Option<Month>,
    /// The report quarter, YYYY-Qn, e.g. 2026-Q3 (the quarterly package).
    #[arg(long, value_name = "YYYY-Qn")]
    quarter: Option<Quarter>,
    /// The report year, YYYY (the annual package: a natural year, January to December).
    #[arg(long, value_name = "YYYY")]
    year: Option<Year>,
    /// Folder for the package (created if missing; files of the same month are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Show full ID numbers in the lists for action (名单). Only for field work that needs them.
    #[arg(long)]
    unmasked: bool,
    /// Also write the dashboard page to this file from the same run (monthly package only).
    #[arg(long, value_name = "FILE.html")]
    dashboard: Option<PathBuf>,
}

impl Args {
    fn period(&self) -> Period {
        match (self.month, self.quarter, self.year) {
            (Some(m), _, _) => Period::month(m),
            (_, Some(q), _) => q.0,
            (_, _, Some(y)) => y.0,
            // clap's group makes exactly one of them present.
            (None, None, None) => unreachable!("--month, --quarter or --year is required"),
        }
    }
}

/// Opens the warehouse read-only and computes the reports for the month (the lists
/// for action only when `lists`).
pub fn compute(
    ctx: &super::Ctx,
    month: Month,
    unmasked: bool,
    lists: bool,
) -> anyhow::Result<ReportRun> {
    compute_package(
        ctx,
        ReportOptions::of_period(Period::month(month), unmasked, lists),
    )
}

/// Opens the warehouse read-only and computes one package (`opts.package`) over
/// `opts.period`.
pub fn compute_package(ctx: &super::Ctx, opts: ReportOptions) -> anyhow::Result<ReportRun> {
    let catalog = ctx.catalog()?;
    let wh = ctx.open_read()?;
    let wh_dir = ctx.warehouse_dir();
    if wh.manifest().files.is_empty() {
        anyhow::bail!(
            "the warehouse {} holds no data; ingest the month's files first (pipeline --warehouse {} ingest FOLDER)",
            wh_dir.display(),
            wh_dir.display()
        );
    }
    if let Some(dir) = pension::defs::active().folder() {
        // The statistician should see that the edited files were used.
        let n = pension::defs::active().overrides()?.len();
        eprintln!(
            "note: definitions built in, with {n} file(s) from {} (`pipeline status` lists them)",
            dir.display()
        );
    }
    let period = opts.period;
    let run = reports::compute_month(&wh, &catalog, &opts)
        .with_context(|| format!("computing the reports for {period}"))?;
    for n in &run.notes {
        eprintln!("note: {n}");
    }
    Ok(run)
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let period = args.period();
    if args.dashboard.is_some() && Package::of(period) != Package::Month {
        anyhow::bail!(
            "--dashboard goes with --month: the dashboard shows one month (its township \
             scorecard is in the quarterly and annual workbooks)"
        );
    }
    let run = compute_package(ctx, ReportOptions::of_period(period, args.unmasked, true))?;
    let computed = t.elapsed().as_secs_f64();
    let files = reports::write_package(&run, &args.out)
        .with_context(|| format!("writing the report package to {}", args.out.display()))?;
    println!(
        "report {} ({}): {} tables, {} charts ({computed:.1} s to compute, {:.1} s in all)",
        run.period.label(),
        run.period.package_zh(),
        run.tables.len(),
        run.charts.len(),
        t.elapsed().as_secs_f64()
    );
    for tbl in &run.tables {
        println!(
            "  {:<28} {:>8} rows {:>6.1} s  {}",
            tbl.def.name,
            tbl.rows.len(),
            tbl.seconds,
            tbl.def.meta.title
        );
    }
    println!(
        "  (shared tables of the prelude {:.1} s, chart queries {:.1} s)",
        run.prelude_seconds, run.chart_seconds
    );
    println!("workbook: {}", files[0].display());
    println!("CSV:      {}", args.out.join("csv").display());
    println!("charts:   {}", args.out.join("charts").display());
    if let Some(path) = args.dashboard {
        reports::dashboard::write(&run, &path)
            .with_context(|| format!("writing the dashboard {}", path.display()))?;
        println!("dashboard: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
