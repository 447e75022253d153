//! `pipeline reconcile`: the books against the bank statements (银行对账).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use pension::domain::Month;
use pension::reconcile::{self, Report};
use pension::status::thousands;

/// Match the fund's book lines (fund_ledger) with the bank statements' lines
/// (bank_statement, accounts listed in bank_account) per fund account and
/// direction, through the end of --month: exact one-to-one within the date window
/// first, then batches of one day that add up exactly (docs/rules.md § Bank
/// reconciliation). Writes, in one commit, `bank_line` (every line of both sides
/// with its match, file and line) and `bank_reconciliation` (the reconciliation
/// statement 银行存款余额调节表 per account and month end), and prints each
/// account's statement at the month end. `pipeline audit` runs this first when there
/// are bank statements. Query them with `pipeline sql`, e.g.
/// "SELECT * FROM bank_line WHERE match_id IS NULL".
#[derive(clap::Args)]
pub struct Args {
    /// The month to reconcile, YYYY-MM (lines through its last day).
    #[arg(long, value_name = "YYYY-MM")]
    month: Month,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let params = ctx.parameters()?.reconcile(args.month.first_day())?;
    let mut wh = ctx.open_write()?;
    let report = reconcile::run(
        &mut wh,
        &catalog,
        args.month.first_day(),
        &params,
        &ctx.command_line(),
    )
    .with_context(|| {
        format!(
            "reconciling {} through {}",
            ctx.warehouse_dir().display(),
            args.month
        )
    })?;
    print_report(&report, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}

/// Each account's two sides and difference at the month end, the lines matched
/// and outstanding, and what was not reconciled.
pub fn print_report(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let month = r
        .month
        .map_or(String::new(), |m| m.format("%Y-%m").to_string());
    writeln!(
        out,
        "bank reconciliation 银行对账 through {month} ({})",
        r.run_id
    )?;
    if r.bank_accounts == 0 {
        writeln!(
            out,
            "no bank accounts (bank_account) in the warehouse: nothing to reconcile; ingest the list of the fund's bank accounts (账号, 账户, 开户银行)"
        )?;
    }
    if r.statement_lines == 0 {
        writeln!(
            out,
            "no bank statements (bank_statement) in the warehouse: nothing to reconcile; ingest the banks' statements (银行对账单)"
        )?;
    }
    if r.unknown_account_lines > 0 {
        writeln!(
            out,
            "{} statement line(s) of account numbers that bank_account does not list: not reconciled",
            thousands(r.unknown_account_lines)
        )?;
    }
    writeln!(
        out,
        "lines: {} book, {} bank; matches: {} one-to-one, {} many-to-one (bank lines of a day = a book line), {} one-to-many (book lines of a day = a bank line)",
        thousands(r.book_lines),
        thousands(r.bank_lines),
        thousands(r.matches[0]),
        thousands(r.matches[1]),
        thousands(r.matches[2]),
    )?;
    if r.days_skipped > 0 {
        writeln!(
            out,
            "{} day(s) not searched for batches: a bound was hit (docs/rules.md § Bank reconciliation); their lines stay unmatched",
            thousands(r.days_skipped)
        )?;
    }
    if !r.accounts.is_empty() {
        writeln!(
            out,
            "{:<12} {:<22} {:>16} {:>16} {:>16} {:>16} {:>14} {:>8} {:>11}",
            "account",
            "account_no",
            "bank balance",
            "book balance",
            "bank side",
            "book side",
            "difference",
            "matched",
            "outstanding"
        )?;
    }
    for a in &r.accounts {
        writeln!(
            out,
            "{:<12} {:<22} {:>16} {:>16} {:>16} {:>16} {:>14} {:>8} {:>11}{}",
            a.account,
            a.account_no,
            a.bank_balance,
            a.book_balance,
            a.bank_side,
            a.book_side,
            a.difference,
            thousands(a.matched_lines),
            thousands(a.outstanding_lines),
            if a.has_statement {
                ""
            } else {
                "  (no statement this month)"
            }
        )?;
    }
    writeln!(out, "in {:.2} s", r.seconds)?;
    writeln!(
        out,
        "See them with: pipeline sql \"SELECT * FROM bank_reconciliation\" and \"SELECT * FROM bank_line WHERE match_id IS NULL\""
    )?;
    Ok(())
}
