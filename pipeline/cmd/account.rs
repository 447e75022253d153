//! `pipeline account`: one person's account statement (个人账户明细表, 附表十).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use pension::domain::Month;
use pension::ledger::statement::{self, DocFormat};
use rust_decimal::Decimal;

/// Print a person's individual account statement (个人账户明细表, 附表十),
/// replayed from the warehouse by the rules: per year and sub-balance the
/// opening balance, credits by type (contribution, back-payment, prepaid move,
/// collective, government subsidy, transfer in), debits, closures, interest and
/// closing balance; then the benefit approval (rule beside record), the payment
/// history beside what each month should pay, and any cancellation.
///
/// Example: pipeline account 41172519550301201X --format xlsx --out statement.xlsx
#[derive(clap::Args)]
pub struct Args {
    /// Person number (个人编号) or ID number (公民身份号码, 15 or 18 digits).
    person: String,
    /// Output: aligned table, CSV (sections one after another), or XLSX (needs --out).
    #[arg(long, value_enum, default_value = "table")]
    format: DocFormat,
    /// Write to this file instead of the terminal.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Statement through this month, YYYY-MM (default: the last month with data).
    #[arg(long, value_name = "YYYY-MM")]
    through: Option<Month>,
    /// Account pension divisor (计发月数); default: `account_divisor` in the
    /// parameters file, the version in force in that month.
    #[arg(long)]
    divisor: Option<Decimal>,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let (_wh, conn) = ctx.query(&catalog)?;
    let people = statement::find_person(&conn, &args.person)?;
    let person = match people.as_slice() {
        [] => bail!(
            "no enrollment with person number or ID number {}",
            args.person
        ),
        [one] => one,
        many => {
            let list: Vec<&str> = many.iter().map(|p| p.person_no.as_str()).collect();
            bail!(
                "{} matches {} enrollments ({}); give the person number",
                args.person,
                many.len(),
                list.join(", ")
            )
        }
    };
    let through = match args.through {
        Some(m) => m,
        None => statement::latest_month(&conn)?
            .map(Month::of)
            .context("the warehouse has no contributions or payments yet; give --through")?,
    };
    let opts = super::stage_options(through, args.divisor)?;
    let doc = statement::statement(&conn, person, &opts).context("building the statement")?;
    statement::render(&doc, args.format, "个人账户明细表", args.out.as_deref())?;
    if let Some(p) = &args.out {
        eprintln!("written to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
