//! `pipeline audit`: every check of the audit catalogue over the warehouse.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pension::audit::{self, AuditOptions, AuditReport};
use pension::domain::Month;

/// Run every audit check of the catalogue (docs/rules.md § Audit checks) over the whole
/// warehouse as of the last day of --month, and store the results as the table
/// `findings` (one row per check and person, book, account or receipt, with the
/// months, the amount at risk and the evidence in plain words). A finding keeps its
/// id and status from run to run; see `pipeline finding`. A finding of an earlier
/// run that this run no longer produces (its records were corrected) is kept: closed
/// (已消除) if it was open, its status kept otherwise, with a note in its history.
/// With --out, also write a
/// workbook for field verification (findings_YYYY-MM.xlsx: a summary, then one sheet
/// per check with Chinese headers, villages, contact details and amount totals) and
/// a CSV of all findings.
#[derive(clap::Args)]
pub struct Args {
    /// The audit month, YYYY-MM (data as of its last day).
    #[arg(long, value_name = "YYYY-MM")]
    month: Month,
    /// Folder for the XLSX workbook and the CSV.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let mut wh = ctx.open_write()?;
    let opts = AuditOptions {
        month: args.month.to_string(),
        out: args.out,
        // The parameters in force in the audit month.
        params: ctx.parameters()?.audit(args.month.first_day())?,
        command: ctx.command_line(),
        who: pension::oplog::current_user(),
    };
    let report = audit::run_audit(&mut wh, &catalog, &opts).with_context(|| {
        format!(
            "auditing {} as of {}",
            ctx.warehouse_dir().display(),
            args.month
        )
    })?;
    print_report(&report, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}

/// Findings by check with amounts, the timings, and where the exports went.
pub fn print_report(r: &AuditReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "audit as of {} ({})",
        r.month.format("%Y-%m"),
        r.run_id
    )?;
    writeln!(
        out,
        "{:<22} 稽核项目{} {:>9} {:>9} {:>16} {:>9}",
        "check",
        " ".repeat(14),
        "findings",
        "persons",
        "amount at risk",
        "seconds"
    )?;
    let secs = |code: &str| {
        r.timings
            .iter()
            .find(|t| t.step == code)
            .map_or(0.0, |t| t.seconds)
    };
    for c in &r.by_check {
        // Pad the Chinese title by display width (two columns per character).
        let width: usize = c
            .title_zh
            .chars()
            .map(|ch| if ch.is_ascii() { 1 } else { 2 })
            .sum();
        let pad = " ".repeat(22usize.saturating_sub(width));
        writeln!(
            out,
            "{:<22} {}{} {:>9} {:>9} {:>16} {:>9.2}",
            c.code,
            c.title_zh,
            pad,
            c.findings,
            c.persons,
            c.amount,
            secs(&c.code)
        )?;
    }
    let mut changes = Vec::new();
    if r.reopened > 0 {
        changes.push(format!(
            "{} reopened (evidence changed, or found again)",
            r.reopened
        ));
    }
    if r.closed > 0 {
        changes.push(format!(
            "{} closed (已消除: open findings of earlier runs no longer found)",
            r.closed
        ));
    }
    if r.noted > 0 {
        changes.push(format!(
            "{} no longer or again found with their status kept (noted in the history)",
            r.noted
        ));
    }
    writeln!(
        out,
        "total: {} finding(s){}",
        r.total,
        changes.iter().map(|c| format!(", {c}")).collect::<String>()
    )?;
    writeln!(
        out,
        "DUP_PERSON: {} persons in {} blocks (name sounds × birth date, phone, bank card; {} too large to pair), {} pairs compared, {} matched, {} groups, {:.2} s ({:.2} s reading)",
        r.dup.persons, r.dup.blocks, r.dup.blocks_skipped, r.dup.pairs_compared, r.dup.pairs_matched, r.dup.groups, r.dup.seconds, r.dup.load_seconds
    )?;
    for t in r
        .timings
        .iter()
        .filter(|t| !r.by_check.iter().any(|c| c.code == t.step))
    {
        writeln!(out, "{:<40} {:>9.2} s", t.step, t.seconds)?;
    }
    writeln!(out, "whole audit: {:.2} s", r.seconds)?;
    for p in &r.exports {
        writeln!(out, "wrote {}", p.display())?;
    }
    writeln!(out, "See them with: pipeline sql \"SELECT check_code, person_no, name, village, amount_at_risk, evidence FROM findings\"")?;
    Ok(())
}
