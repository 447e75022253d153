//! `pipeline notice`: persons reaching pension age next month (待遇领取通知表, 附表十一),
//! or with `--public` the village public notice (村级公示, rules 第五十六条).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use pension::domain::Month;
use pension::ledger::statement::{self, DocFormat};
use pension::reports::{self, notice::Posting, ReportOptions};
use rust_decimal::Decimal;

/// List the persons who reach pension age (60) in the month after --month
/// (待遇领取通知表, 附表十一), whose benefits can start the month after that:
/// enrolled, not cancelled, not yet approved, not registered dead; with name,
/// village and phone (latest changes applied), the account balance at the end of
/// --month, the interest accrued to then and not yet posted, and the projected
/// account pension ((balance + accrued) ÷ divisor, half-up to the fen) beside the
/// basic pension standard of the start month.
///
/// With --public: the village public notice (村级公示, rules 第五十六条) of --month,
/// written into the folder --out: per village, the persons newly found eligible
/// (benefit approvals dated in the month) and the beneficiaries whose payment stops
/// (cancellation, suspension or a death recorded in the month, with the reason), as
/// one workbook 公示_YYYY-MM.xlsx with a sheet per village and one printable page per
/// village (公示_YYYY-MM/乡镇_村.html), each with its posting period (10 days, the
/// parameter notice_posting_days). Names are shown, ID numbers always masked (the
/// birth date hidden), no bank account, phone or address.
#[derive(clap::Args)]
pub struct Args {
    /// The notice month, YYYY-MM: lists those turning 60 the month after (with
    /// --public: the approvals and stops of this month).
    #[arg(long, value_name = "YYYY-MM")]
    month: Month,
    /// The village public notice (公示) instead of the turning-60 notice; --out is its folder.
    #[arg(long)]
    public: bool,
    /// With --public: the first day of posting (default: the 1st of the month after --month).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "public")]
    post_date: Option<NaiveDate>,
    /// With --public: the supervision phone printed on the notice (监督电话).
    #[arg(long, requires = "public")]
    phone: Option<String>,
    /// Output: aligned table, CSV, or XLSX (needs --out).
    #[arg(long, value_enum, default_value = "table")]
    format: DocFormat,
    /// Write to this file instead of the terminal (with --public: the folder of the notice).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Account pension divisor (计发月数); default: `account_divisor` in the
    /// parameters file, the version in force in that month.
    #[arg(long)]
    divisor: Option<Decimal>,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    if args.public {
        return public(ctx, args);
    }
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

/// `--public`: the village notices of the month.
fn public(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let out = args.out.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "--public needs --out DIR: the folder for the workbook and the village pages"
        )
    })?;
    let catalog = ctx.catalog()?;
    let wh = ctx.open_read()?;
    let run = reports::compute_month(&wh, &catalog, &ReportOptions::notice(args.month))
        .with_context(|| format!("building the public notice of {}", args.month))?;
    let days = ctx
        .parameters()?
        .reporting(args.month.first_day())
        .context("reading notice_posting_days")?
        .notice_days;
    let posting = Posting {
        from: args.post_date.unwrap_or(args.month.next().first_day()),
        days,
        phone: args.phone,
    };
    let files = reports::notice::write(&run, &posting, &out)
        .with_context(|| format!("writing the public notice to {}", out.display()))?;
    let count = |name: &str| run.table(name).map_or(0, |t| t.rows.len());
    println!(
        "public notice {} (公示): {} newly eligible, {} stopping; posted {} to {}; {} village page(s)",
        args.month,
        count("40_notice_new"),
        count("41_notice_stopped"),
        posting.from,
        posting.until(),
        files.len() - 1
    );
    println!("workbook: {}", files[0].display());
    if let Some(p) = files.get(1).and_then(|f| f.parent()) {
        println!("pages:    {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
