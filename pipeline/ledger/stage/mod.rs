//! The ledger stage: replays every person of the warehouse through the engine, in
//! parallel, and writes the derived tables in one atomic commit.
//!
//! Pipeline: a reader thread runs the one event query (ordered by person) and
//! cuts the stream into chunks of persons; the calling thread replays each chunk
//! in parallel (rayon) and computes the checks; a writer thread turns each chunk
//! into columns and appends them, as row groups, to one Parquet file per table.
//! Memory holds a few chunks, never the whole history. Output order is the input
//! order (person, then date), so a re-run over the same data writes the same bytes.
//!
//! Tables (money DECIMAL(18,2); differences are recorded − rule):
//! - `account_year`: person_no, year, sub_balance (individual, collective,
//!   transfer, government), opening, credits, debits, closed_out, interest,
//!   closing, accrued_unposted — per person, year and sub-balance, where
//!   opening + credits − debits − closed_out + interest = closing. A sub-balance
//!   that is zero all year with no movement has no row. In the through year
//!   `closing` is the balance at the end of the through month and
//!   `accrued_unposted` the interest accrued since the last posting, not yet posted.
//! - `prepaid_year`: the prepaid holding (预收户) of persons with a prepayment:
//!   person_no, year, opening, received, moved, refunded, interest, closing,
//!   accrued_unposted.
//! - `account_event`: every posting — person_no, seq, date, kind, holding
//!   (a sub-balance, `prepaid` or `pooled`), amount (signed change; for `pooled`
//!   the part charged to the pooled fund), source_kind, source_file_seq,
//!   source_line (the input row: join `<source_kind>` on `_file_seq`, `_line`;
//!   null for year-end interest).
//! - `benefit_check`: per approval record — see [`super::checks::BenefitCheck`].
//! - `expected_payout`: per beneficiary and month — see [`super::checks::ExpectedMonth`].
//! - `refund_check`: per closure — see [`super::checks::RefundCheck`].
//! - `ledger_error`: persons whose events the engine refused (person_no, error).

use std::sync::mpsc::{sync_channel, Receiver};
use std::time::Instant;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::checks::{
    benefit_checks, expected_payout, refund_checks, BenefitCheck, BenefitRules, ExpectedMonth,
    Reason, RefundCheck,
};
use super::engine::{replay, AccountYear, Holding, Params, PostingKind, Replay, Sub};
use super::input::{
    load_reference, load_side, source_kind, stream_chunks, stream_persons, PersonEvents, Reference,
    RowChunk, Side,
};
use super::StageError;
use crate::domain::calendar::month_end;
use crate::schema::Catalog;
use crate::warehouse::{connect, RunEntry, Warehouse};

mod columns;
mod person;
mod writer;

use columns::*;
pub use person::*;
use writer::*;

/// The derived tables the stage writes, in this order.
pub const TABLES: [&str; 7] = [
    "account_year",
    "prepaid_year",
    "account_event",
    "benefit_check",
    "expected_payout",
    "refund_check",
    "ledger_error",
];

/// What the stage is asked to do.
#[derive(Debug, Clone)]
pub struct StageOptions {
    /// Last day of the through month.
    pub through: NaiveDate,
    pub params: Params,
    pub rules: BenefitRules,
    /// Persons per chunk (memory ∝ chunk size; output row groups follow chunks).
    pub chunk_persons: usize,
    /// Progress on stderr.
    pub progress: bool,
    /// Recorded in the warehouse's run log.
    pub command: String,
}

impl StageOptions {
    pub fn new(through: NaiveDate) -> StageOptions {
        StageOptions {
            through: month_end(through),
            params: Params::default(),
            rules: BenefitRules::default(),
            chunk_persons: 4096,
            progress: false,
            command: "pipeline ledger".into(),
        }
    }
}

/// What the stage did.
#[derive(Debug, Clone, Default)]
pub struct StageReport {
    pub run_id: String,
    pub persons: u64,
    /// Input rows read (events; a prepayment of n years counts n).
    pub rows: u64,
    pub events: u64,
    pub postings: u64,
    /// Rows written per table, in [`TABLES`] order.
    pub written: Vec<(&'static str, u64)>,
    pub approvals: u64,
    pub approval_differences: u64,
    pub closures: u64,
    pub refund_differences: u64,
    pub late_claims: u64,
    pub expected_months: u64,
    pub unpayable_months: u64,
    pub pooled_total: Decimal,
    /// (person_no, error) of persons the engine refused; the first few.
    pub errors: Vec<(String, String)>,
    pub error_count: u64,
    /// Years with no interest rate (记账利率): the accounts that span them are in
    /// `ledger_error`, every other account is replayed.
    pub missing_rates: Vec<i32>,
    /// When a rate is missing: the quarantined interest_rate rows (file, line,
    /// reasons), the likely cause.
    pub rate_quarantine: Vec<String>,
    pub seconds: f64,
    /// Busy time of the three threads: the event query and grouping, the
    /// parallel replay (wall time of the chunks), columns and Parquet.
    pub read_seconds: f64,
    pub replay_seconds: f64,
    pub write_seconds: f64,
    /// From the start until the side data is loaded (the event query runs
    /// meanwhile) and replay can begin.
    pub setup_seconds: f64,
}

use crate::warehouse::now;

/// Runs the stage over the whole warehouse and commits the derived tables.
pub fn run(
    wh: &mut Warehouse,
    catalog: &Catalog,
    opts: &StageOptions,
) -> Result<StageReport, StageError> {
    let started = Instant::now();
    let started_at = now();
    if opts.chunk_persons == 0 {
        return Err(StageError::Input("chunk size must be positive".into()));
    }
    let conn = connect(wh, catalog)?;
    let refs = load_reference(&conn)?;
    let missing_rates = check_rates(&conn, &refs, opts.through)?;
    let rate_quarantine = if missing_rates.is_empty() {
        Vec::new()
    } else {
        quarantined_rates(&conn)?
    };
    // The event query gets its own connection to the same database: it starts
    // (DuckDB sorts) while this thread loads the side data.
    let stream_conn = conn.try_clone()?;
    let mut tx = wh.begin()?;
    let run_id = tx.run_id.clone();
    let rels: Vec<String> = TABLES
        .iter()
        .map(|t| format!("derived/{t}/{run_id}.parquet"))
        .collect();
    let paths: Vec<std::path::PathBuf> = rels.iter().map(|r| tx.stage(r)).collect();
    let mut report = StageReport {
        run_id: run_id.clone(),
        missing_rates,
        rate_quarantine,
        ..Default::default()
    };
    let outcome = std::thread::scope(|s| -> Result<(Vec<u64>, f64, f64), StageError> {
        let (in_tx, in_rx) = sync_channel::<RowChunk>(1);
        let (out_tx, out_rx) = sync_channel::<Vec<DataFrame>>(1);
        let chunk_persons = opts.chunk_persons;
        let through = opts.through;
        let reader = s.spawn(move || -> Result<f64, StageError> {
            // Busy time: everything but the waits for the consumer.
            let start = Instant::now();
            let mut waited = 0.0;
            stream_chunks(&stream_conn, through, None, chunk_persons, |chunk| {
                let t = Instant::now();
                let sent = in_tx.send(chunk);
                waited += t.elapsed().as_secs_f64();
                Ok(sent.is_ok()) // false: the consumer stopped
            })?;
            Ok(start.elapsed().as_secs_f64() - waited)
        });
        let writer = s.spawn(move || write_all(out_rx, paths));
        let mut failed = None;
        let side = match load_side(&conn, through, None) {
            Ok(side) => side,
            Err(e) => {
                drop(in_rx); // stops the reader
                drop(out_tx); // and the writer
                let _ = reader.join();
                let _ = writer.join();
                return Err(e);
            }
        };
        report.setup_seconds = started.elapsed().as_secs_f64();
        let ctx = Context {
            refs: &refs,
            side: &side,
            opts,
        };
        for chunk in in_rx {
            let t = Instant::now();
            let outs: Vec<StageOut> = (0..chunk.len())
                .into_par_iter()
                .map(|i| process_row(&chunk, i, &ctx))
                .collect();
            drop(chunk);
            tally(&mut report, &outs);
            let frames = match chunk_frames(&outs) {
                Ok(f) => f,
                Err(e) => {
                    failed = Some(StageError::Polars(e.to_string()));
                    break;
                }
            };
            drop(outs);
            report.replay_seconds += t.elapsed().as_secs_f64();
            if opts.progress {
                eprint!("\rledger: {} persons replayed", report.persons);
            }
            if out_tx.send(frames).is_err() {
                failed = Some(StageError::Input("the writer stopped".into()));
                break;
            }
        }
        drop(out_tx);
        if opts.progress {
            eprintln!();
        }
        let read = reader
            .join()
            .map_err(|_| StageError::Input("the reader panicked".into()))?;
        let written = writer
            .join()
            .map_err(|_| StageError::Input("the writer panicked".into()))?;
        let read_seconds = read?;
        let (written, write_seconds) = written?;
        if let Some(e) = failed {
            return Err(e);
        }
        Ok((written, read_seconds, write_seconds))
    });
    let written = match outcome {
        Ok((w, r, ws)) => {
            report.read_seconds = r;
            report.write_seconds = ws;
            w
        }
        Err(e) => {
            tx.abort();
            return Err(e);
        }
    };
    report.written = TABLES.iter().copied().zip(written).collect();
    for (t, rel) in TABLES.iter().zip(rels) {
        tx.replace_derived(t, vec![rel]);
    }
    let run = RunEntry::derived(&run_id, &opts.command, started_at);
    tx.commit(wh, run)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The years from the first event to the through year that have no interest
/// rate. Each person whose replay spans such a year is refused alone (a
/// `ledger_error` row) and every other account is still replayed; only a missing
/// rate for the through year itself — which every account needs — refuses the
/// whole run up front, rather than writing a ledger of errors over the last good one.
fn check_rates(
    conn: &duckdb::Connection,
    refs: &Reference,
    through: NaiveDate,
) -> Result<Vec<i32>, StageError> {
    use chrono::Datelike;
    let first: Option<i32> = conn.query_row(
        "SELECT min(y)::INTEGER FROM ( \
           SELECT min(year(paid_date)) y FROM contribution WHERE status = 'ok' \
           UNION ALL SELECT min(year(paid_date)) FROM collective_subsidy \
           UNION ALL SELECT min(year(credited_date)) FROM government_subsidy WHERE kind = 'contribution' \
           UNION ALL SELECT min(year(date)) FROM transfer \
           UNION ALL SELECT min(year(paid_date)) FROM payout WHERE status = 'ok' AND account_amount > 0 \
           UNION ALL SELECT min(year(start_month)) FROM benefit_approval \
           UNION ALL SELECT min(year(apply_date)) FROM cancellation)",
        [],
        |r| r.get(0),
    )?;
    let Some(first) = first else {
        return Ok(Vec::new());
    };
    let missing: Vec<i32> = (first..=through.year())
        .filter(|y| !refs.rates.contains_key(y))
        .collect();
    if missing.contains(&through.year()) {
        return Err(StageError::MissingRates(missing));
    }
    Ok(missing)
}

/// The quarantined `interest_rate` rows (file, line, reasons): where a missing
/// year's rate most likely went.
fn quarantined_rates(conn: &duckdb::Connection) -> Result<Vec<String>, StageError> {
    let mut stmt = conn.prepare(
        "SELECT concat(file, ' line ', line, ': ', reasons) FROM quarantine \
         WHERE kind = 'interest_rate' ORDER BY _file_seq, line LIMIT 20",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn tally(report: &mut StageReport, outs: &[StageOut]) {
    for o in outs {
        report.persons += 1;
        report.rows += o.rows;
        report.events += o.events;
        report.postings += o.postings;
        report.pooled_total += o.pooled;
        report.approvals += o.benefit.len() as u64;
        report.approval_differences += o.benefit.iter().filter(|b| b.has_difference).count() as u64;
        report.closures += o.refunds.len() as u64;
        report.refund_differences += o.refunds.iter().filter(|r| r.has_difference).count() as u64;
        report.late_claims += o.refunds.iter().filter(|r| r.late_claim).count() as u64;
        report.expected_months += o.expected.len() as u64;
        report.unpayable_months += o.expected.iter().filter(|e| !e.payable).count() as u64;
        if let Some(e) = &o.error {
            report.error_count += 1;
            if report.errors.len() < 20 {
                report.errors.push((o.person_no.clone(), e.clone()));
            }
        }
    }
}

/// Replays the listed persons only (for a statement or a notice), without writing.
pub fn replay_persons(
    conn: &duckdb::Connection,
    persons: &[String],
    opts: &StageOptions,
) -> Result<(Vec<(PersonEvents, PersonOut)>, Reference, Side), StageError> {
    let refs = load_reference(conn)?;
    let side = load_side(conn, opts.through, Some(persons))?;
    let mut inputs = Vec::new();
    stream_persons(conn, opts.through, Some(persons), |p| {
        inputs.push(p);
        Ok(true)
    })?;
    let ctx = Context {
        refs: &refs,
        side: &side,
        opts,
    };
    let outs = inputs
        .into_iter()
        .map(|p| {
            let out = process(p.clone(), &ctx);
            (p, out)
        })
        .collect();
    Ok((outs, refs, side))
}
