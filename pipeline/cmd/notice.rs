//! `pipeline notice`: persons reaching pension age next month (待遇领取通知表, 附表十一).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pension::domain::Month;
use pension::ledger::statement::{self, DocFormat};
use rust_decimal::Decimal;

/// List the persons who reach pension age (60) in the month after --month
/// (待遇领取通知表, 附表十一), whose benefits can start the month after that:
/// enrolled, not cancelled, not yet approved, not registered dead; with name,
/// village and phone (latest changes applied), the account balance at the end of
/// --month, the interest accrued to then and not yet posted, and the projected
/// account pension ((balance + accrued) ÷ divisor, half-up to the fen) beside the
/// basic pension standard of the start month.
#[derive(clap::Args)]
pub struct Args {
    /// The notice month, YYYY-MM: lists those turning 60 the month after.
    #[arg(long, value_name = "YYYY-MM")]
    month: Month,
    /// Output: aligned table, CSV, or XLSX (needs --out).
    #[arg(long, value_enum, default_value = "table")]
    format: DocFormat,
    /// Write to this file instead of the terminal.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Account pension divisor (计发月数); default: `account_divisor` in the
    /// parameters file, the version in force in that month.
    #[arg(long)]
    divisor: Option<Decimal>,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let (_wh, conn) = ctx.query(&catalog)?;
    let opts = super::stage_options(args.month, args.divisor)?;
    let doc =
        statement::notice(&conn, args.month.first_day(), &opts).context("building the notice")?;
    statement::render(&doc, args.format, "待遇领取通知表", args.out.as_deref())?;
    if let Some(p) = &args.out {
        eprintln!("written to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
