//! `pipeline plan`: the fund plan (基金支出计划表, 附表十四).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pension::reports;

/// Draw up the fund plan for --year (城乡居民社会养老保险基金支出计划表, 附表十四;
/// rules 第四十条): the contribution subsidies the year needs (the expected
/// contributors by tier × the tier-subsidy standards) and the basic pension (today's
/// beneficiaries and the enrolled residents reaching 60 in the year, from the
/// household register, × each month's standard), by funding level 中央/省/市/县,
/// with the assumptions it rests on (who keeps contributing, the death rate) on a
/// sheet of their own.
///
/// The plan is made from the warehouse as of the end of the year before (or the
/// latest month with payouts, when the data stop earlier). For a year that already
/// has data, the plan stands beside the actual figures — subsidies credited and
/// basic pension paid — for the year-end reckoning with the finance bureau (核算).
///
/// Writes 基金支出计划_YYYY.xlsx and the tables as CSV (csv/) into --out.
#[derive(clap::Args)]
pub struct Args {
    /// The plan year, YYYY (a natural year).
    #[arg(long, value_name = "YYYY")]
    year: i32,
    /// Folder for the plan (created if missing; files of the same year are replaced).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let wh = ctx.open_read()?;
    let run = reports::compute_plan(&wh, &catalog, args.year)
        .with_context(|| format!("drawing up the fund plan for {}", args.year))?;
    for n in &run.notes {
        eprintln!("note: {n}");
    }
    let files = reports::write_package(&run, &args.out)
        .with_context(|| format!("writing the plan to {}", args.out.display()))?;
    println!(
        "fund plan {} (基金支出计划表, 附表十四), from the data as of {}:",
        args.year,
        pension::domain::calendar::month_end(run.month).format("%Y-%m-%d")
    );
    if let Some(t) = run.table("50_plan_summary") {
        let (plan, actual) = (t.column_index("total_plan"), t.column_index("total_actual"));
        if let (Some(totals), Some(p), Some(a)) = (&t.totals, plan, actual) {
            let planned = totals[p].display(reports::Format::Yuan);
            let actual = totals[a].display(reports::Format::Yuan);
            // A year not yet begun has nothing credited or paid: say so rather than 0.
            if totals[a].decimal().is_none_or(|d| d.is_zero()) {
                println!(
                    "  planned {planned} yuan; no actual figures yet ({} has no data)",
                    args.year
                );
            } else {
                println!("  planned {planned} yuan; actual {actual} yuan");
            }
        }
    }
    println!("workbook: {}", files[0].display());
    println!("CSV:      {}", args.out.join("csv").display());
    Ok(ExitCode::SUCCESS)
}
