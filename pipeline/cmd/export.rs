//! `pipeline export`: a county's warehouse in the province layout.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pension::domain::{Month, Period};
use pension::reports::{export, ReportOptions};

/// Export the warehouse for a province roll-up (全省汇总): every table the reports
/// read, as of one report month, into DIR/<table>/county=<code>/ (Parquet, money
/// DECIMAL, dates DATE), and the month's macros into DIR/_county/<code>/.
///
/// Run it once per county into the same DIR, then `pipeline province --data DIR`
/// (DuckDB) or `python3 spark/province.py --data DIR` (Spark) over all of them. A
/// county exported again replaces its own partitions only. The export holds every
/// person's data: it is recorded in the operator log.
///
/// Example: pipeline --warehouse wh-411725 export --county 411725 --month 2026-10 --out province-data
#[derive(clap::Args)]
pub struct Args {
    /// The county's six-digit region code (行政区划代码), its partition name.
    #[arg(long, value_name = "CODE")]
    pub county: String,
    /// The report month the macros and the month's tables are for.
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Month,
    /// The province folder (shared by every county's export).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

impl Args {
    /// The operator log's subject.
    pub fn subject(&self) -> String {
        format!("{} → {}", self.county, self.out.display())
    }
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let (_wh, conn) = ctx.query(&catalog)?;
    let kinds: Vec<String> = catalog.schemas.iter().map(|s| s.kind.clone()).collect();
    let opts = ReportOptions::of_period(Period::month(args.month), false, true);
    let summary = export::export(&conn, &opts, &kinds, &args.county, &args.out)
        .with_context(|| format!("exporting county {} to {}", args.county, args.out.display()))?;
    let rows: u64 = summary.tables.iter().map(|(_, n)| n).sum();
    println!(
        "Exported county {} for {}: {} tables, {} rows, {} macros → {}",
        summary.county,
        summary.month,
        summary.tables.len(),
        rows,
        summary.macros,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
