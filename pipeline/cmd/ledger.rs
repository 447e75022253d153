//! `pipeline ledger`: the individual-account ledger over the whole warehouse.

use std::process::ExitCode;

use anyhow::Context;
use pension::domain::Month;
use pension::ledger;
use pension::status::thousands;
use rust_decimal::Decimal;

/// Replay every person's individual account (个人账户) from the warehouse by the
/// rules — contributions, subsidies, transfers, prepayments, pension debits,
/// approvals, cancellations — through the end of --through, in parallel, and
/// write the derived tables in one commit: account_year, prepaid_year,
/// account_event, benefit_check, expected_payout, refund_check, ledger_error.
/// Query them with `pipeline sql`, e.g.
/// "SELECT * FROM benefit_check WHERE has_difference".
#[derive(clap::Args)]
pub struct Args {
    /// Last month to replay, YYYY-MM (balances at its end; later rows are ignored).
    #[arg(long, value_name = "YYYY-MM")]
    through: Month,
    /// Account pension divisor (计发月数); default: `account_divisor` in the
    /// parameters file, the version in force in that month.
    #[arg(long)]
    divisor: Option<Decimal>,
    /// Persons per chunk (memory and Parquet row groups follow it).
    #[arg(long, default_value_t = 4096, hide = true)]
    chunk: usize,
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = ctx.catalog()?;
    let mut opts = super::stage_options(args.through, args.divisor)?;
    let mut wh = ctx.open_write()?;
    opts.chunk_persons = args.chunk;
    opts.progress = true;
    opts.command = ctx.command_line();
    let r = ledger::run(&mut wh, &catalog, &opts).context("running the ledger")?;
    print_report(&r);
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process so far.
fn peak_rss_mib() -> u64 {
    // SAFETY: a zeroed rusage is a valid out-parameter for getrusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0;
    }
    usage.ru_maxrss as u64 / 1024
}

pub fn print_report(r: &ledger::StageReport) {
    let per_s = |n: u64| (n as f64 / r.seconds.max(1e-9)).round() as u64;
    println!(
        "ledger {}: {} persons, {} input rows ({} events), {} postings in {:.1} s ({} rows/s)",
        r.run_id,
        thousands(r.persons),
        thousands(r.rows),
        thousands(r.events),
        thousands(r.postings),
        r.seconds,
        thousands(per_s(r.rows))
    );
    println!(
        "  setup {:.1} s; busy: reading {:.1} s, replaying {:.1} s, writing {:.1} s; peak memory {} MiB",
        r.setup_seconds,
        r.read_seconds,
        r.replay_seconds,
        r.write_seconds,
        peak_rss_mib()
    );
    println!("{:<18} {:>14}", "table", "rows");
    for (t, n) in &r.written {
        println!("{t:<18} {:>14}", thousands(*n));
    }
    println!(
        "approvals checked {}: {} with a difference (SELECT * FROM benefit_check WHERE has_difference)",
        thousands(r.approvals),
        thousands(r.approval_differences)
    );
    println!(
        "closures checked {}: {} with a difference, {} late death claims (refund_check)",
        thousands(r.closures),
        thousands(r.refund_differences),
        thousands(r.late_claims)
    );
    println!(
        "expected payout months {}: {} not payable (expected_payout WHERE NOT payable)",
        thousands(r.expected_months),
        thousands(r.unpayable_months)
    );
    println!("charged to the pooled fund: {} yuan", r.pooled_total);
    if !r.missing_rates.is_empty() {
        let years: Vec<String> = r.missing_rates.iter().map(|y| y.to_string()).collect();
        println!(
            "no interest rate (记账利率) for year(s) {}: the accounts spanning them are not replayed (ledger_error); ingest an interest_rate file with those years and run the ledger again",
            years.join(", ")
        );
        for q in &r.rate_quarantine {
            println!("  quarantined interest_rate row: {q}");
        }
    }
    if r.error_count > 0 {
        println!(
            "{} person(s) could not be replayed (ledger_error):",
            thousands(r.error_count)
        );
        for (p, e) in &r.errors {
            println!("  {p}: {e}");
        }
    }
}
