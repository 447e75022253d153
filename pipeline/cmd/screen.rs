//! `pipeline screen`: pre-payment screening of next month's payout file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pension::audit::screen;
use pension::domain::Month;

/// Screen next month's payout file before it goes to the bank (不予支付): read it like
/// any payout file, audit it together with the warehouse, and hold every row that an
/// audit check would flag. Writes into --out: NAME_clean.csv (the rows to send, in
/// the payout format), NAME_held.csv (held rows with their check codes and reasons,
/// and any unreadable rows as they were) and NAME_summary.txt. Nothing is lost:
/// clean + held = the rows read, amounts included.
#[derive(clap::Args)]
pub struct Args {
    /// The payout file (CSV/TXT/XLSX, same format as `payout`).
    payout_file: PathBuf,
    /// The month being paid, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    month: Month,
    /// Folder for the clean file, the held rows and the summary.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    // The parameters in force in the month being paid.
    let params = ctx.parameters()?.audit(args.month.first_day())?;
    let report = screen::screen(
        ctx.warehouse_dir(),
        &catalog,
        &args.payout_file,
        &args.month.to_string(),
        &args.out,
        &params,
    )
    .with_context(|| {
        format!(
            "screening {} for {}",
            args.payout_file.display(),
            args.month
        )
    })?;
    print!("{}", screen::summary_text(&report, &args.payout_file));
    for f in &report.files {
        println!("wrote {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}
