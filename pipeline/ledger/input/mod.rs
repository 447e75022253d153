//! Reading the ledger's inputs from the warehouse: the reference tables (rates,
//! basic pension standards), the per-person side data the checks need (approvals,
//! cancellations, birth and enrollment dates, deaths, prison, suspensions,
//! certifications), and every person's account events as one stream ordered by
//! person (one SQL query; DuckDB sorts, we read Arrow batches as they come).
//!
//! What becomes an engine event (docs/rules.md § Individual account):
//!
//! | input | event |
//! |---|---|
//! | `contribution`, status ok, kind normal / backpay | individual credit on `paid_date` |
//! | `contribution`, status ok, kind prepay | one `Prepayment` per person and `paid_date`, the rows' `year`s and amounts |
//! | `collective_subsidy` | collective credit on `paid_date` |
//! | `government_subsidy`, kind contribution | government credit on `credited_date` (the basic-pension subsidy never enters the account) |
//! | `transfer` in / out | transferred-in credit / `TransferOut`, on `date` |
//! | `payout`, status ok, account part > 0 | `PensionDebit` of `account_amount` on `paid_date` |
//! | `benefit_approval` | `Approval` in `start_month` |
//! | `cancellation` | `Cancellation` on `apply_date`, death = `event_date` when the reason is death; reason transfer_out is a `TransferOut` unless the person has a transfer-out row (then that row is the one closure) |
//!
//! Failed deductions and failed payouts are not events. Events dated after the
//! through month are not read.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use duckdb::arrow::array::{Array, AsArray, RecordBatch};
use duckdb::arrow::datatypes::{DataType, Date32Type, Decimal128Type, Int32Type, UInt8Type};
use duckdb::Connection;
use rust_decimal::Decimal;

use super::engine::{Event, EventKind, Source, Sub};
use super::StageError;
use crate::domain::calendar::from_epoch_days;
use crate::warehouse::lit;

mod events;
mod side;

pub use events::*;
pub use side::*;

/// Event codes of the stream (column `ev`); also the origin of each event.
pub mod ev {
    pub const NORMAL: u8 = 1;
    pub const BACKPAY: u8 = 2;
    pub const PREPAY: u8 = 3;
    pub const COLLECTIVE: u8 = 4;
    pub const GOVERNMENT: u8 = 5;
    pub const TRANSFER_IN: u8 = 6;
    pub const TRANSFER_OUT: u8 = 7;
    pub const PAYOUT: u8 = 8;
    pub const APPROVAL: u8 = 9;
    pub const CANCELLATION: u8 = 10;
    /// A cancellation for transfer out with no transfer-out row: the closure itself.
    pub const CANCELLATION_TRANSFER: u8 = 11;
}

/// The input table an event code comes from.
pub fn source_kind(code: u8) -> &'static str {
    match code {
        ev::NORMAL | ev::BACKPAY | ev::PREPAY => "contribution",
        ev::COLLECTIVE => "collective_subsidy",
        ev::GOVERNMENT => "government_subsidy",
        ev::TRANSFER_IN | ev::TRANSFER_OUT => "transfer",
        ev::PAYOUT => "payout",
        ev::APPROVAL => "benefit_approval",
        _ => "cancellation",
    }
}

/// Where an engine event came from: its code and the input row's lineage
/// (`_file_seq`, `_line` of the table [`source_kind`] names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub code: u8,
    pub file_seq: i32,
    pub line: i32,
    /// The row's amount (for a transfer out: the amount recorded as transferred).
    pub amount: Decimal,
}

/// One prepaid year's input row (a `Prepayment` event groups several).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrepayRow {
    pub event: u32,
    pub year: i32,
    pub file_seq: i32,
    pub line: i32,
}

/// One person's events, in the order read, with their lineage. Each event's
/// `source` is its index in `events` (and `origins`), so that every posting the
/// engine makes can be traced back to its input row.
#[derive(Debug, Clone, Default)]
pub struct PersonEvents {
    pub person_no: String,
    pub events: Vec<Event>,
    pub origins: Vec<Origin>,
    pub prepay_rows: Vec<PrepayRow>,
    /// Input rows read (a prepayment of three years is three rows, one event).
    pub rows: u64,
}

impl PersonEvents {
    fn new(person_no: &str) -> PersonEvents {
        PersonEvents {
            person_no: person_no.to_string(),
            ..Default::default()
        }
    }

    fn push(&mut self, date: NaiveDate, kind: EventKind, origin: Origin) {
        let idx = self.events.len();
        self.events.push(Event::new(date, kind, index_text(idx)));
        self.origins.push(origin);
    }

    /// The origin of a posting, from its source text: the event index is the last
    /// word (`"17"`, `"settlement 2016-04 for 17"`, `"prepaid move 2017 of 17"`);
    /// year-end interest (`"interest 2016"`) has none. For a prepaid move, the
    /// lineage is that year's prepayment row.
    pub fn origin_of(&self, source: &str) -> Option<(u8, i32, i32)> {
        if source.starts_with("interest ") {
            return None;
        }
        let idx: usize = source.rsplit(' ').next()?.parse().ok()?;
        let o = self.origins.get(idx)?;
        if let Some(rest) = source.strip_prefix("prepaid move ") {
            let year: i32 = rest.split(' ').next()?.parse().ok()?;
            if let Some(r) = self
                .prepay_rows
                .iter()
                .find(|r| r.event as usize == idx && r.year == year)
            {
                return Some((o.code, r.file_seq, r.line));
            }
        }
        Some((o.code, o.file_seq, o.line))
    }

    /// The event index named by an engine result's source (approval, closure).
    pub fn event_of(&self, source: &str) -> Option<usize> {
        source.rsplit(' ').next()?.parse().ok()
    }
}

/// An event index as its source text (one allocation, no formatting for the
/// usual few hundred events of a person).
fn index_text(idx: usize) -> Source {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let texts = TEXTS.get_or_init(|| (0..1024).map(|i| i.to_string()).collect());
    match texts.get(idx) {
        Some(t) => Source::from(t.as_str()),
        None => Source::from(idx.to_string()),
    }
}

/// Rates and basic pension standards.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// Year → rate in percent per year.
    pub rates: BTreeMap<i32, Decimal>,
    /// (first day of the month from which it is in force, monthly amount), ascending.
    pub standards: Vec<(NaiveDate, Decimal)>,
}

impl Reference {
    /// The basic pension standard in force in the month of `month`.
    pub fn standard(&self, month: NaiveDate) -> Option<Decimal> {
        let i = self.standards.partition_point(|(from, _)| *from <= month);
        i.checked_sub(1).map(|i| self.standards[i].1)
    }
}

/// Rates and standards; a table ingested twice keeps, per year / from-month, the
/// row of the newest file.
pub fn load_reference(conn: &Connection) -> Result<Reference, StageError> {
    let mut refs = Reference::default();
    let mut stmt = conn.prepare(
        "SELECT year::INTEGER, rate::DECIMAL(18,4) FROM interest_rate \
         QUALIFY row_number() OVER (PARTITION BY year ORDER BY _file_seq DESC, _line DESC) = 1",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i32>(0)?, r.get::<_, Decimal>(1)?)))?;
    for row in rows {
        let (y, r) = row?;
        refs.rates.insert(y, r);
    }
    let mut stmt = conn.prepare(
        "SELECT from_month, amount FROM basic_pension_standard \
         QUALIFY row_number() OVER (PARTITION BY from_month ORDER BY _file_seq DESC, _line DESC) = 1 \
         ORDER BY from_month",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, NaiveDate>(0)?, r.get::<_, Decimal>(1)?))
    })?;
    for row in rows {
        refs.standards.push(row?);
    }
    Ok(refs)
}

fn date_lit(d: NaiveDate) -> String {
    format!("DATE '{}'", d.format("%Y-%m-%d"))
}

/// `AND person_no IN (…)` for a person filter, or nothing.
fn person_filter(col: &str, persons: Option<&[String]>) -> String {
    match persons {
        None => String::new(),
        Some(list) if list.is_empty() => " AND false".to_string(),
        Some(list) => {
            let items: Vec<String> = list.iter().map(|p| lit(p)).collect();
            format!(" AND {col} IN ({})", items.join(", "))
        }
    }
}

/// Runs a query and hands each Arrow batch to `f`.
fn each_batch(
    conn: &Connection,
    sql: &str,
    mut f: impl FnMut(&RecordBatch) -> Result<(), StageError>,
) -> Result<(), StageError> {
    let mut stmt = conn.prepare(sql)?;
    for batch in stmt.stream_arrow([])? {
        f(&batch?)?;
    }
    Ok(())
}

fn opt_day(a: &duckdb::arrow::array::PrimitiveArray<Date32Type>, i: usize) -> Option<NaiveDate> {
    (!a.is_null(i)).then(|| day_date(a.value(i)))
}

enum Strings<'a> {
    Utf8(&'a duckdb::arrow::array::StringArray),
    Large(&'a duckdb::arrow::array::LargeStringArray),
    View(&'a duckdb::arrow::array::StringViewArray),
}

impl Strings<'_> {
    fn get(&self, i: usize) -> &str {
        match self {
            Strings::Utf8(a) => a.value(i),
            Strings::Large(a) => a.value(i),
            Strings::View(a) => a.value(i),
        }
    }
}

fn strings(a: &dyn Array) -> Result<Strings<'_>, StageError> {
    match a.data_type() {
        DataType::Utf8 => Ok(Strings::Utf8(a.as_string::<i32>())),
        DataType::LargeUtf8 => Ok(Strings::Large(a.as_string::<i64>())),
        DataType::Utf8View => Ok(Strings::View(a.as_string_view())),
        other => Err(StageError::Input(format!(
            "person_no column has type {other}"
        ))),
    }
}
