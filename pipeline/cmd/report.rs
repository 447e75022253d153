//! `pipeline report`: the monthly report package.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use pension::domain::Month;
use pension::reports::{self, ReportOptions, ReportRun};

/// Write the monthly report package (统计月报) for --month into --out: the workbook
/// 月报_YYYY-MM.xlsx (a contents sheet, then a sheet per table with Chinese headers,
/// number formats and a totals row), the same tables as CSV (csv/, UTF-8 with BOM
/// for Excel) and the charts as PNG and SVG (charts/).
///
/// The tables and charts are the files in reports/ (SQL plus a TOML of labels and
/// formats; see reports/README.md). Lists for action show ID numbers masked (the
/// birth date hidden: first 6 and last 4, or 3 for a 15-digit number) unless --unmasked. Run `pipeline audit --month` first for the
/// findings tables, and `pipeline ledger` for the pooled-fund part of payouts.
#[derive(clap::Args)]
pub struct Args {
    /// The report month, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    month: Month,
    /// Folder for the package (created if missing; files of the same month are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Show full ID numbers in the lists for action (名单). Only for field work that needs them.
    #[arg(long)]
    unmasked: bool,
    /// Also write the dashboard page to this file from the same run.
    #[arg(long, value_name = "FILE.html")]
    dashboard: Option<PathBuf>,
}

/// Opens the warehouse read-only and computes the reports for the month (the lists
/// for action only when `lists`).
pub fn compute(
    ctx: &super::Ctx,
    month: Month,
    unmasked: bool,
    lists: bool,
) -> anyhow::Result<ReportRun> {
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
    let run = reports::compute_month(
        &wh,
        &catalog,
        &ReportOptions {
            month: month.first_day(),
            unmasked,
            lists,
        },
    )
    .with_context(|| format!("computing the reports for {month}"))?;
    for n in &run.notes {
        eprintln!("note: {n}");
    }
    Ok(run)
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let run = compute(ctx, args.month, args.unmasked, true)?;
    let computed = t.elapsed().as_secs_f64();
    let files = reports::write_package(&run, &args.out)
        .with_context(|| format!("writing the report package to {}", args.out.display()))?;
    println!(
        "report {}: {} tables, {} charts ({computed:.1} s to compute, {:.1} s in all)",
        run.month.format("%Y-%m"),
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
