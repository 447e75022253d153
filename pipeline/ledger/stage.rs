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
    load_reference, load_side, source_kind, stream_chunks, stream_persons, PersonEvents,
    Reference, RowChunk, Side,
};
use super::StageError;
use crate::domain::calendar::month_end;
use crate::schema::Catalog;
use crate::warehouse::{connect, RunEntry, Warehouse};

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

/// The inputs shared by every person's processing.
pub struct Context<'a> {
    pub refs: &'a Reference,
    pub side: &'a Side,
    pub opts: &'a StageOptions,
}

/// Everything the stage derives for one person.
#[derive(Debug, Clone, Default)]
pub struct PersonOut {
    pub person_no: String,
    pub events: u64,
    pub rows: u64,
    pub replay: Option<Replay>,
    pub error: Option<String>,
    /// Per posting of `replay.postings`: (source kind code, file_seq, line).
    pub posting_origins: Vec<Option<(u8, i32, i32)>>,
    pub benefit: Vec<BenefitCheck>,
    pub expected: Vec<ExpectedMonth>,
    pub refunds: Vec<RefundCheck>,
}

/// Replays one person and computes the checks.
pub fn process(p: PersonEvents, ctx: &Context<'_>) -> PersonOut {
    let approvals = ctx
        .side
        .approvals
        .get(&p.person_no)
        .map_or(&[][..], |v| v.as_slice());
    let cancellations = ctx
        .side
        .cancellations
        .get(&p.person_no)
        .map_or(&[][..], |v| v.as_slice());
    let benef = ctx.side.beneficiaries.get(&p.person_no);
    let result = replay(
        &p.events,
        &ctx.refs.rates,
        ctx.opts.through,
        &ctx.opts.params,
    );
    let (replay, error) = match result {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let posting_origins = replay
        .as_ref()
        .map(|r| r.postings.iter().map(|x| p.origin_of(&x.source)).collect())
        .unwrap_or_default();
    let benefit = benefit_checks(
        &p,
        approvals,
        benef,
        replay.as_ref(),
        ctx.refs,
        &ctx.opts.rules,
    );
    let expected = expected_payout(
        approvals,
        benef,
        cancellations,
        ctx.refs,
        &ctx.opts.rules,
        ctx.opts.through,
    );
    let refunds = replay
        .as_ref()
        .map(|r| refund_checks(&p, cancellations, r))
        .unwrap_or_default();
    PersonOut {
        events: p.events.len() as u64,
        rows: p.rows,
        person_no: p.person_no,
        replay,
        error,
        posting_origins,
        benefit,
        expected,
        refunds,
    }
}

// ---------------------------------------------------------------------------
// Columns.

/// Exact fen of an amount (money here always has at most two decimals).
fn fen(d: Decimal) -> i128 {
    if d.scale() == 2 {
        return d.mantissa();
    }
    let mut x = d.round_dp(2);
    x.rescale(2);
    x.mantissa()
}

/// Days since 1970-01-01.
fn days(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - 719_163
}

fn money_vec(name: &str, v: Vec<i128>) -> PolarsResult<Column> {
    Ok(Int128Chunked::from_vec(name.into(), v)
        .into_decimal(18, 2)?
        .into_series()
        .into_column())
}

fn money_opt(name: &str, v: Vec<Option<i128>>) -> PolarsResult<Column> {
    Ok(Int128Chunked::from_iter_options(name.into(), v.into_iter())
        .into_decimal(18, 2)?
        .into_series()
        .into_column())
}

fn date_vec(name: &str, v: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), v)
        .into_date()
        .into_series()
        .into_column()
}

fn date_opt(name: &str, v: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_date()
        .into_series()
        .into_column()
}

fn i32_vec(name: &str, v: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), v)
        .into_series()
        .into_column()
}

fn i32_opt(name: &str, v: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn i64_vec(name: &str, v: Vec<i64>) -> Column {
    Int64Chunked::from_vec(name.into(), v)
        .into_series()
        .into_column()
}

fn i64_opt(name: &str, v: Vec<Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn bool_vec(name: &str, v: Vec<bool>) -> Column {
    BooleanChunked::from_iter_values(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

fn strings(name: &str, n: usize) -> StringChunkedBuilder {
    StringChunkedBuilder::new(name.into(), n)
}

fn done(b: StringChunkedBuilder) -> Column {
    b.finish().into_series().into_column()
}

fn frame(columns: Vec<Column>) -> PolarsResult<DataFrame> {
    let h = columns.first().map_or(0, |c| c.len());
    DataFrame::new(h, columns)
}

fn is_empty_year(y: &AccountYear) -> bool {
    [
        y.opening,
        y.credits,
        y.debits,
        y.closed_out,
        y.interest,
        y.closing,
        y.accrued_unposted,
    ]
    .iter()
    .all(Decimal::is_zero)
}

fn holding_code(h: Holding) -> &'static str {
    match h {
        Holding::Account(s) => s.code(),
        Holding::Prepaid => "prepaid",
        Holding::Pooled => "pooled",
    }
}

/// Money as fen for the compact rows.
fn f64n(d: Decimal) -> i64 {
    fen(d) as i64
}

struct YearRow {
    year: i32,
    sub: Sub,
    fen: [i64; 7],
}

struct PrepaidRow {
    year: i32,
    fen: [i64; 7],
}

struct PostingRow {
    day: i32,
    kind: PostingKind,
    holding: Holding,
    fen: i64,
    origin: Option<(u8, i32, i32)>,
}

struct ExpectedRow {
    day: i32,
    fen: [i64; 5],
    payable: bool,
    reason: Option<Reason>,
    from: Option<i32>,
}

/// One person's rows for the tables, compact (fen, days since 1970): the
/// replay's own structures are dropped where they were made.
pub struct StageOut {
    person_no: String,
    events: u64,
    rows: u64,
    postings: u64,
    pooled: Decimal,
    error: Option<String>,
    years: Vec<YearRow>,
    prepaid: Vec<PrepaidRow>,
    posting_rows: Vec<PostingRow>,
    benefit: Vec<BenefitCheck>,
    expected: Vec<ExpectedRow>,
    refunds: Vec<RefundCheck>,
}

impl StageOut {
    fn from_out(o: PersonOut) -> StageOut {
        let (years, prepaid, posting_rows, postings, pooled) = match &o.replay {
            None => (Vec::new(), Vec::new(), Vec::new(), 0, Decimal::ZERO),
            Some(r) => (
                r.years
                    .iter()
                    .filter(|y| !is_empty_year(y))
                    .map(|y| YearRow {
                        year: y.year,
                        sub: y.sub,
                        fen: [
                            y.opening,
                            y.credits,
                            y.debits,
                            y.closed_out,
                            y.interest,
                            y.closing,
                            y.accrued_unposted,
                        ]
                        .map(f64n),
                    })
                    .collect(),
                r.prepaid_years
                    .iter()
                    .map(|y| PrepaidRow {
                        year: y.year,
                        fen: [
                            y.opening,
                            y.received,
                            y.moved,
                            y.refunded,
                            y.interest,
                            y.closing,
                            y.accrued_unposted,
                        ]
                        .map(f64n),
                    })
                    .collect(),
                r.postings
                    .iter()
                    .zip(
                        o.posting_origins
                            .iter()
                            .copied()
                            .chain(std::iter::repeat(None)),
                    )
                    .map(|(x, origin)| PostingRow {
                        day: days(x.date),
                        kind: x.kind,
                        holding: x.holding,
                        fen: f64n(x.amount),
                        origin,
                    })
                    .collect(),
                r.postings.len() as u64,
                r.pooled_total,
            ),
        };
        let expected = o
            .expected
            .iter()
            .map(|e| ExpectedRow {
                day: days(e.month),
                fen: [
                    e.basic_standard,
                    e.account_pension,
                    e.expected_basic,
                    e.expected_account,
                    e.expected_total,
                ]
                .map(f64n),
                payable: e.payable,
                reason: e.reason,
                from: e.payable_from.map(days),
            })
            .collect();
        StageOut {
            person_no: o.person_no,
            events: o.events,
            rows: o.rows,
            postings,
            pooled,
            error: o.error,
            years,
            prepaid,
            posting_rows,
            benefit: o.benefit,
            expected,
            refunds: o.refunds,
        }
    }
}

/// Person `i` of a chunk, start to finish in one thread: events, replay,
/// checks, compact rows.
fn process_row(chunk: &RowChunk, i: usize, ctx: &Context<'_>) -> StageOut {
    match chunk.person(i) {
        Ok(p) => StageOut::from_out(process(p, ctx)),
        Err(e) => StageOut::from_out(PersonOut {
            person_no: chunk.names[i].clone(),
            error: Some(e.to_string()),
            ..Default::default()
        }),
    }
}

fn account_year_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.years.len()).sum();
    let (mut person, mut sub) = (strings("person_no", n), strings("sub_balance", n));
    let mut year = Vec::with_capacity(n);
    let mut m: [Vec<i128>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
    for p in chunk {
        for y in &p.years {
            person.append_value(p.person_no.as_str());
            sub.append_value(y.sub.code());
            year.push(y.year);
            for (col, v) in m.iter_mut().zip(y.fen) {
                col.push(v as i128);
            }
        }
    }
    let [opening, credits, debits, closed_out, interest, closing, accrued] = m;
    frame(vec![
        done(person),
        i32_vec("year", year),
        done(sub),
        money_vec("opening", opening)?,
        money_vec("credits", credits)?,
        money_vec("debits", debits)?,
        money_vec("closed_out", closed_out)?,
        money_vec("interest", interest)?,
        money_vec("closing", closing)?,
        money_vec("accrued_unposted", accrued)?,
    ])
}

fn prepaid_year_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.prepaid.len()).sum();
    let mut person = strings("person_no", n);
    let mut year = Vec::with_capacity(n);
    let mut m: [Vec<i128>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
    for p in chunk {
        for y in &p.prepaid {
            person.append_value(p.person_no.as_str());
            year.push(y.year);
            for (col, v) in m.iter_mut().zip(y.fen) {
                col.push(v as i128);
            }
        }
    }
    let [opening, received, moved, refunded, interest, closing, accrued] = m;
    frame(vec![
        done(person),
        i32_vec("year", year),
        money_vec("opening", opening)?,
        money_vec("received", received)?,
        money_vec("moved", moved)?,
        money_vec("refunded", refunded)?,
        money_vec("interest", interest)?,
        money_vec("closing", closing)?,
        money_vec("accrued_unposted", accrued)?,
    ])
}

fn account_event_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.posting_rows.len()).sum();
    let (mut person, mut kind, mut holding, mut skind) = (
        strings("person_no", n),
        strings("kind", n),
        strings("holding", n),
        strings("source_kind", n),
    );
    let (mut seq, mut date, mut amount) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut fs, mut ln) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for p in chunk {
        for (i, x) in p.posting_rows.iter().enumerate() {
            person.append_value(p.person_no.as_str());
            seq.push(i as i32);
            date.push(x.day);
            kind.append_value(x.kind.code());
            holding.append_value(holding_code(x.holding));
            amount.push(x.fen as i128);
            skind.append_option(x.origin.map(|o| source_kind(o.0)));
            fs.push(x.origin.map(|o| o.1 as i64));
            ln.push(x.origin.map(|o| o.2 as i64));
        }
    }
    frame(vec![
        done(person),
        i32_vec("seq", seq),
        date_vec("date", date),
        done(kind),
        done(holding),
        money_vec("amount", amount)?,
        done(skind),
        i64_opt("source_file_seq", fs),
        i64_opt("source_line", ln),
    ])
}

fn benefit_check_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.benefit.len()).sum();
    let (mut person, mut id) = (strings("person_no", n), strings("id_number", n));
    let (mut birth, mut enroll, mut rule_start) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut start, mut diff_m, mut approve) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut opt: [Vec<Option<i128>>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut rec: [Vec<i128>; 3] = std::array::from_fn(|_| Vec::with_capacity(n));
    let (mut has, mut fs, mut ln) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for p in chunk {
        for b in &p.benefit {
            person.append_value(p.person_no.as_str());
            id.append_option(b.id_number.as_deref());
            birth.push(b.birth_date.map(days));
            enroll.push(b.enroll_date.map(days));
            rule_start.push(b.rule_start_month.map(days));
            start.push(days(b.start_month));
            diff_m.push(b.start_diff_months);
            approve.push(days(b.approve_date));
            for (col, v) in opt.iter_mut().zip([
                b.settlement_interest,
                b.balance_rule,
                b.balance_diff,
                b.account_monthly_rule,
                b.account_monthly_diff,
                b.basic_rule,
                b.basic_diff,
            ]) {
                col.push(v.map(fen));
            }
            for (col, v) in
                rec.iter_mut()
                    .zip([b.account_balance, b.account_monthly, b.basic_monthly])
            {
                col.push(fen(v));
            }
            has.push(b.has_difference);
            fs.push(b.file_seq as i64);
            ln.push(b.line as i64);
        }
    }
    let [settle, bal_rule, bal_diff, mon_rule, mon_diff, basic_rule, basic_diff] = opt;
    let [balance, monthly, basic] = rec;
    frame(vec![
        done(person),
        done(id),
        date_opt("birth_date", birth),
        date_opt("enroll_date", enroll),
        date_opt("rule_start_month", rule_start),
        date_vec("start_month", start),
        i32_opt("start_diff_months", diff_m),
        date_vec("approve_date", approve),
        money_opt("settlement_interest", settle)?,
        money_opt("balance_rule", bal_rule)?,
        money_vec("account_balance", balance)?,
        money_opt("balance_diff", bal_diff)?,
        money_opt("account_monthly_rule", mon_rule)?,
        money_vec("account_monthly", monthly)?,
        money_opt("account_monthly_diff", mon_diff)?,
        money_opt("basic_rule", basic_rule)?,
        money_vec("basic_monthly", basic)?,
        money_opt("basic_diff", basic_diff)?,
        bool_vec("has_difference", has),
        i64_vec("source_file_seq", fs),
        i64_vec("source_line", ln),
    ])
}

fn expected_payout_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.expected.len()).sum();
    let (mut person, mut reason) = (strings("person_no", n), strings("reason", n));
    let (mut month, mut payable, mut from) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut m: [Vec<i128>; 5] = std::array::from_fn(|_| Vec::with_capacity(n));
    for p in chunk {
        for e in &p.expected {
            person.append_value(p.person_no.as_str());
            month.push(e.day);
            for (col, v) in m.iter_mut().zip(e.fen) {
                col.push(v as i128);
            }
            payable.push(e.payable);
            reason.append_option(e.reason.map(|r| r.code()));
            from.push(e.from);
        }
    }
    let [basic, account, eb, ea, et] = m;
    frame(vec![
        done(person),
        date_vec("month", month),
        money_vec("basic_standard", basic)?,
        money_vec("account_pension", account)?,
        money_vec("expected_basic", eb)?,
        money_vec("expected_account", ea)?,
        money_vec("expected_total", et)?,
        bool_vec("payable", payable),
        done(reason),
        date_opt("payable_from", from),
    ])
}

fn refund_check_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.refunds.len()).sum();
    let (mut person, mut record, mut reason) = (
        strings("person_no", n),
        strings("record", n),
        strings("reason", n),
    );
    let (mut event, mut apply, mut dad, mut late) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut m: [Vec<i128>; 9] = std::array::from_fn(|_| Vec::with_capacity(n));
    let (mut refund_amount, mut transfer_amount) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut has, mut fs, mut ln) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for p in chunk {
        for r in &p.refunds {
            person.append_value(p.person_no.as_str());
            record.append_value(r.record);
            reason.append_value(r.reason.as_str());
            event.push(days(r.event_date));
            apply.push(days(r.apply_date));
            dad.push(r.days_after_death.map(|d| d as i32));
            late.push(r.late_claim);
            for (col, v) in m.iter_mut().zip([
                r.settlement_interest,
                r.balance_rule,
                r.refund_rule,
                r.government_returned,
                r.prepaid_refund,
                r.transfer_rule,
                r.refund_diff,
                r.transfer_diff,
                r.pooled_to_date,
            ]) {
                col.push(fen(v));
            }
            refund_amount.push(r.refund_amount.map(fen));
            transfer_amount.push(r.transfer_amount.map(fen));
            has.push(r.has_difference);
            fs.push(r.file_seq as i64);
            ln.push(r.line as i64);
        }
    }
    let [settle, balance, refund_rule, gov, prepaid, transfer_rule, refund_diff, transfer_diff, pooled] =
        m;
    frame(vec![
        done(person),
        done(record),
        done(reason),
        date_vec("event_date", event),
        date_vec("apply_date", apply),
        i32_opt("days_after_death", dad),
        bool_vec("late_claim", late),
        money_vec("settlement_interest", settle)?,
        money_vec("balance_rule", balance)?,
        money_vec("refund_rule", refund_rule)?,
        money_vec("government_returned", gov)?,
        money_vec("prepaid_refund", prepaid)?,
        money_vec("transfer_rule", transfer_rule)?,
        money_opt("refund_amount", refund_amount)?,
        money_vec("refund_diff", refund_diff)?,
        money_opt("transfer_amount", transfer_amount)?,
        money_vec("transfer_diff", transfer_diff)?,
        bool_vec("has_difference", has),
        money_vec("pooled_to_date", pooled)?,
        i64_vec("source_file_seq", fs),
        i64_vec("source_line", ln),
    ])
}

fn ledger_error_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let (mut person, mut error) = (strings("person_no", 0), strings("error", 0));
    for p in chunk {
        if let Some(e) = &p.error {
            person.append_value(p.person_no.as_str());
            error.append_value(e.as_str());
        }
    }
    frame(vec![done(person), done(error)])
}

/// The frames of one chunk, in [`TABLES`] order, built in parallel.
fn chunk_frames(chunk: &[StageOut]) -> PolarsResult<Vec<DataFrame>> {
    type Build = fn(&[StageOut]) -> PolarsResult<DataFrame>;
    const BUILDERS: [Build; 7] = [
        account_year_frame,
        prepaid_year_frame,
        account_event_frame,
        benefit_check_frame,
        expected_payout_frame,
        refund_check_frame,
        ledger_error_frame,
    ];
    BUILDERS.par_iter().map(|b| b(chunk)).collect()
}

// ---------------------------------------------------------------------------
// Writing.

/// Rows per Parquet row group (chunks are gathered up to this size).
const ROW_GROUP: usize = 256 * 1024;

type Batched = polars::io::parquet::write::BatchedWriter<std::fs::File>;

struct TableWriter {
    path: std::path::PathBuf,
    writer: Option<Batched>,
    pending: Option<DataFrame>,
    rows: u64,
}

impl TableWriter {
    fn open(&mut self, schema: &Schema) -> Result<(), StageError> {
        if self.writer.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| StageError::io(dir, e))?;
            }
            let file =
                std::fs::File::create(&self.path).map_err(|e| StageError::io(&self.path, e))?;
            let w = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(schema)
                .map_err(|e| StageError::parquet(&self.path, e))?;
            self.writer = Some(w);
        }
        Ok(())
    }

    /// Gathers a chunk's rows; writes a row group once there are enough.
    fn add(&mut self, df: DataFrame) -> Result<(), StageError> {
        self.rows += df.height() as u64;
        match self.pending.as_mut() {
            None => self.pending = Some(df),
            Some(p) => {
                p.vstack_mut_owned(df)
                    .map_err(|e| StageError::parquet(&self.path, e))?;
            }
        }
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.height() >= ROW_GROUP)
        {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StageError> {
        let Some(mut df) = self.pending.take() else {
            return Ok(());
        };
        if df.height() == 0 {
            self.pending = Some(df); // keeps the schema for an empty table
            return Ok(());
        }
        df.rechunk_mut();
        self.open(df.schema())?;
        let w = self.writer.as_mut().expect("opened");
        w.write_batch(&df)
            .map_err(|e| StageError::parquet(&self.path, e))?;
        Ok(())
    }

    fn finish(&mut self, empty: &DataFrame) -> Result<u64, StageError> {
        self.flush()?;
        let schema = self
            .pending
            .as_ref()
            .map_or_else(|| empty.schema().clone(), |p| p.schema().clone());
        self.open(&schema)?;
        let w = self.writer.take().expect("opened");
        w.finish().map_err(|e| StageError::parquet(&self.path, e))?;
        let f = std::fs::File::options()
            .write(true)
            .open(&self.path)
            .map_err(|e| StageError::io(&self.path, e))?;
        f.sync_all().map_err(|e| StageError::io(&self.path, e))?;
        Ok(self.rows)
    }
}

/// The writer thread: each chunk's frames appended to the tables' files.
/// Returns the rows per table and the seconds spent working (not waiting).
fn write_all(
    rx: Receiver<Vec<DataFrame>>,
    paths: Vec<std::path::PathBuf>,
) -> Result<(Vec<u64>, f64), StageError> {
    let mut busy = 0.0;
    let mut writers: Vec<TableWriter> = paths
        .into_iter()
        .map(|path| TableWriter {
            path,
            writer: None,
            pending: None,
            rows: 0,
        })
        .collect();
    for frames in rx {
        let t = Instant::now();
        for (w, df) in writers.iter_mut().zip(frames) {
            w.add(df)?;
        }
        busy += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let empty = chunk_frames(&[]).map_err(|e| StageError::Polars(e.to_string()))?;
    let rows = writers
        .iter_mut()
        .zip(&empty)
        .map(|(w, df)| w.finish(df))
        .collect::<Result<Vec<u64>, StageError>>()?;
    Ok((rows, busy + t.elapsed().as_secs_f64()))
}

fn now() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

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
    let run = RunEntry {
        run_id,
        command: opts.command.clone(),
        started_at,
        finished_at: now(),
        files: Vec::new(),
        unchanged: Vec::new(),
        refused: Vec::new(),
    };
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
