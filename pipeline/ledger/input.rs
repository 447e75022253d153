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

/// A `benefit_approval` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    pub id_number: Option<String>,
    pub start_month: NaiveDate,
    pub basic_monthly: Decimal,
    pub account_monthly: Decimal,
    pub account_balance: Decimal,
    pub approve_date: NaiveDate,
    pub file_seq: i32,
    pub line: i32,
}

/// A `cancellation` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRow {
    pub reason: String,
    pub event_date: NaiveDate,
    pub apply_date: NaiveDate,
    pub refund_amount: Option<Decimal>,
    pub file_seq: i32,
    pub line: i32,
}

/// What the expected-payout rules need to know about a beneficiary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Beneficiary {
    pub id_number: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub enroll_date: Option<NaiveDate>,
    /// Date of death by the audit's one definition (audit/death.sql: register, death
    /// records, cancellation for death; earliest date).
    pub death: Option<NaiveDate>,
    /// Prison register spells (admission, release).
    pub inmate: Vec<(NaiveDate, Option<NaiveDate>)>,
    /// Suspensions: (reason, start month, resumption month).
    pub suspensions: Vec<(String, NaiveDate, Option<NaiveDate>)>,
    /// Year → date of the first passed certification for that year.
    pub certified: BTreeMap<i32, NaiveDate>,
}

/// The per-person data beside the events, loaded once (small: approvals,
/// cancellations and the beneficiaries' context).
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub approvals: HashMap<String, Vec<ApprovalRow>>,
    pub cancellations: HashMap<String, Vec<CancelRow>>,
    pub beneficiaries: HashMap<String, Beneficiary>,
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

/// Approvals, cancellations and the beneficiaries' context dated up to `through`
/// (the last day of the through month), for all persons or the listed ones.
pub fn load_side(
    conn: &Connection,
    through: NaiveDate,
    persons: Option<&[String]>,
) -> Result<Side, StageError> {
    let t = date_lit(through);
    let mut side = Side::default();

    let sql = format!(
        "SELECT person_no, id_number, start_month, basic_monthly, account_monthly, account_balance, \
         approve_date, _file_seq::INTEGER, _line::INTEGER FROM benefit_approval \
         WHERE start_month <= {t}{} ORDER BY person_no, start_month, approve_date, _file_seq, _line",
        person_filter("person_no", persons)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            ApprovalRow {
                id_number: r.get(1)?,
                start_month: r.get(2)?,
                basic_monthly: r.get(3)?,
                account_monthly: r.get(4)?,
                account_balance: r.get(5)?,
                approve_date: r.get(6)?,
                file_seq: r.get(7)?,
                line: r.get(8)?,
            },
        ))
    })?;
    for row in rows {
        let (p, a) = row?;
        side.approvals.entry(p).or_default().push(a);
    }

    let sql = format!(
        "SELECT person_no, reason, event_date, apply_date, refund_amount, _file_seq::INTEGER, _line::INTEGER \
         FROM cancellation WHERE apply_date <= {t}{} ORDER BY person_no, apply_date, _file_seq, _line",
        person_filter("person_no", persons)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            CancelRow {
                reason: r.get(1)?,
                event_date: r.get(2)?,
                apply_date: r.get(3)?,
                refund_amount: r.get(4)?,
                file_seq: r.get(5)?,
                line: r.get(6)?,
            },
        ))
    })?;
    for row in rows {
        let (p, c) = row?;
        side.cancellations.entry(p).or_default().push(c);
    }

    // Beneficiaries: their enrollment (the first row of the person number).
    let benef = format!(
        "(SELECT DISTINCT person_no FROM benefit_approval WHERE start_month <= {t}{})",
        person_filter("person_no", persons)
    );
    let mut first: HashMap<String, (i32, i32)> = HashMap::new();
    each_batch(
        conn,
        &format!(
            "SELECT person_no, id_number, birth_date, enroll_date, _file_seq::INTEGER, _line::INTEGER \
             FROM enrollment WHERE person_no IN {benef}"
        ),
        |b| {
            let (p, id) = (strings(b.column(0).as_ref())?, strings(b.column(1).as_ref())?);
            let (birth, enroll) = (
                b.column(2).as_primitive::<Date32Type>(),
                b.column(3).as_primitive::<Date32Type>(),
            );
            let (fs, ln) = (b.column(4).as_primitive::<Int32Type>(), b.column(5).as_primitive::<Int32Type>());
            for i in 0..b.num_rows() {
                let key = (fs.value(i), ln.value(i));
                let person = p.get(i);
                if first.get(person).is_some_and(|k| *k <= key) {
                    continue;
                }
                first.insert(person.to_string(), key);
                side.beneficiaries.insert(
                    person.to_string(),
                    Beneficiary {
                        id_number: (!b.column(1).is_null(i)).then(|| id.get(i).to_string()),
                        birth_date: opt_day(birth, i),
                        enroll_date: opt_day(enroll, i),
                        ..Default::default()
                    },
                );
            }
            Ok(())
        },
    )?;
    // Approved persons without an enrollment still get a (mostly empty) context.
    for p in side.approvals.keys() {
        side.beneficiaries.entry(p.clone()).or_default();
    }

    // Death by the one definition the audit and screening use (audit/death.sql): the
    // earliest of the register's dead status, every death_record source and a
    // cancellation for death (a person dead only per the register stops being payable
    // here too).
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP MACRO as_of_end() AS {t};\n{}",
        crate::defs::death_sql().map_err(|e| StageError::Input(e.to_string()))?
    ))?;
    let mut deaths: HashMap<String, NaiveDate> = HashMap::new();
    each_batch(conn, "SELECT person_no, death_date FROM a_death", |b| {
        let person = strings(b.column(0).as_ref())?;
        let d = b.column(1).as_primitive::<Date32Type>();
        for i in 0..b.num_rows() {
            if let Some(day) = opt_day(d, i) {
                deaths.insert(person.get(i).to_string(), day);
            }
        }
        Ok(())
    })?;
    // The prison register by ID number (small: read whole, matched here).
    let mut spells: HashMap<String, Vec<(NaiveDate, Option<NaiveDate>)>> = HashMap::new();
    each_batch(
        conn,
        &format!(
            "SELECT id_number, start_date, end_date FROM inmate WHERE start_date <= {t} AND id_number IS NOT NULL \
             ORDER BY 1, 2, 3"
        ),
        |b| {
            let id = strings(b.column(0).as_ref())?;
            let (a, e) = (b.column(1).as_primitive::<Date32Type>(), b.column(2).as_primitive::<Date32Type>());
            for i in 0..b.num_rows() {
                if let Some(start) = opt_day(a, i) {
                    spells.entry(id.get(i).to_string()).or_default().push((start, opt_day(e, i)));
                }
            }
            Ok(())
        },
    )?;
    for (person, b) in side.beneficiaries.iter_mut() {
        b.death = deaths.get(person).copied();
        if let Some(id) = &b.id_number {
            if let Some(s) = spells.get(id) {
                b.inmate = s.clone();
            }
        }
    }

    let sql = format!(
        "SELECT person_no, reason, start_month, end_month FROM suspension \
         WHERE start_month <= {t} AND person_no IN {benef} ORDER BY 1, 3, 2, 4"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, NaiveDate>(2)?,
            r.get::<_, Option<NaiveDate>>(3)?,
        ))
    })?;
    for row in rows {
        let (p, reason, s, e) = row?;
        if let Some(b) = side.beneficiaries.get_mut(&p) {
            b.suspensions.push((reason, s, e));
        }
    }

    each_batch(
        conn,
        &format!(
            "SELECT person_no, year::INTEGER, min(cert_date) FROM certification \
             WHERE result = 'pass' AND cert_date <= {t} AND person_no IN {benef} GROUP BY 1, 2"
        ),
        |b| {
            let p = strings(b.column(0).as_ref())?;
            let (y, d) = (
                b.column(1).as_primitive::<Int32Type>(),
                b.column(2).as_primitive::<Date32Type>(),
            );
            for i in 0..b.num_rows() {
                if let (Some(ben), false, Some(day)) = (
                    side.beneficiaries.get_mut(p.get(i)),
                    y.is_null(i),
                    opt_day(d, i),
                ) {
                    ben.certified.insert(y.value(i), day);
                }
            }
            Ok(())
        },
    )?;
    Ok(side)
}

/// Every event dated up to `through`, unordered: person_no, ev (event code), d,
/// amount, yr (prepaid year), death, _file_seq, _line.
pub fn events_sql(through: NaiveDate, persons: Option<&[String]>) -> String {
    let t = date_lit(through);
    let f = |col: &str| person_filter(col, persons);
    format!(
        "SELECT person_no, ev, d, amount, yr, death, _file_seq, _line FROM ( \
           SELECT person_no, CASE kind WHEN 'normal' THEN {n} WHEN 'backpay' THEN {b} ELSE {p} END AS ev, \
                  paid_date AS d, amount, CASE WHEN kind = 'prepay' THEN year END AS yr, NULL::DATE AS death, _file_seq, _line \
             FROM contribution WHERE status = 'ok' AND paid_date <= {t}{fc} \
           UNION ALL SELECT person_no, {coll}, paid_date, amount, NULL, NULL, _file_seq, _line \
             FROM collective_subsidy WHERE paid_date <= {t}{fc} \
           UNION ALL SELECT person_no, {gov}, credited_date, amount, NULL, NULL, _file_seq, _line \
             FROM government_subsidy WHERE kind = 'contribution' AND credited_date <= {t}{fc} \
           UNION ALL SELECT person_no, CASE direction WHEN 'in' THEN {tin} ELSE {tout} END, date, amount, NULL, NULL, _file_seq, _line \
             FROM transfer WHERE date <= {t}{fc} \
           UNION ALL SELECT person_no, {pay}, paid_date, account_amount, NULL, NULL, _file_seq, _line \
             FROM payout WHERE status = 'ok' AND account_amount > 0 AND paid_date <= {t}{fc} \
           UNION ALL SELECT person_no, {appr}, start_month, NULL, NULL, NULL, _file_seq, _line \
             FROM benefit_approval WHERE start_month <= {t}{fc} \
           UNION ALL SELECT person_no, CASE WHEN reason = 'transfer_out' THEN {ctr} ELSE {can} END, apply_date, refund_amount, NULL, \
                  CASE WHEN reason = 'death' THEN event_date END, _file_seq, _line \
             FROM cancellation c WHERE apply_date <= {t}{fc} AND (reason <> 'transfer_out' OR NOT EXISTS ( \
                  SELECT 1 FROM transfer x WHERE x.person_no = c.person_no AND x.direction = 'out' AND x.date <= {t})) \
         )",
        n = ev::NORMAL,
        b = ev::BACKPAY,
        p = ev::PREPAY,
        coll = ev::COLLECTIVE,
        gov = ev::GOVERNMENT,
        tin = ev::TRANSFER_IN,
        tout = ev::TRANSFER_OUT,
        pay = ev::PAYOUT,
        appr = ev::APPROVAL,
        ctr = ev::CANCELLATION_TRANSFER,
        can = ev::CANCELLATION,
        fc = f("person_no"),
    )
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

/// One row of the event stream, compact (dates as days since 1970-01-01, money
/// in fen).
#[derive(Debug, Clone, Copy)]
pub struct RawRow {
    day: i32,
    code: u8,
    file_seq: i32,
    line: i32,
    fen: Option<i64>,
    year: Option<i32>,
    death: Option<i32>,
}

/// A chunk of persons as read: their numbers, and each one's rows (a range of
/// `rows`). Turning rows into events happens where the person is replayed.
#[derive(Debug, Default)]
pub struct RowChunk {
    pub names: Vec<String>,
    pub bounds: Vec<(u32, u32)>,
    pub rows: Vec<RawRow>,
}

impl RowChunk {
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The events of person `i` of the chunk.
    pub fn person(&self, i: usize) -> Result<PersonEvents, StageError> {
        let (a, b) = self.bounds[i];
        let mut rows = self.rows[a as usize..b as usize].to_vec();
        build_person(&self.names[i], &mut rows)
    }
}

/// Days since 1970-01-01 → date.
fn day_date(days: i32) -> NaiveDate {
    // 719_163 = days from 0001-01-01 (CE day 1) to 1970-01-01.
    NaiveDate::from_num_days_from_ce_opt(days + 719_163).unwrap_or_else(|| from_epoch_days(days))
}

/// A person's events from their rows: the rows are ordered by date, event code
/// and lineage — a total order, so the events are the same whatever order the
/// rows came in — and consecutive prepay rows of one date become one
/// `Prepayment` (a year listed twice starts another one).
pub fn build_person(person: &str, rows: &mut [RawRow]) -> Result<PersonEvents, StageError> {
    rows.sort_unstable_by_key(|r| (r.day, r.code, r.file_seq, r.line));
    let mut p = PersonEvents::new(person);
    p.events.reserve(rows.len());
    p.origins.reserve(rows.len());
    let mut prepay: Option<(i32, Vec<(i32, Decimal)>, Origin)> = None;
    let flush = |p: &mut PersonEvents, prepay: &mut Option<(i32, Vec<(i32, Decimal)>, Origin)>| {
        if let Some((day, years, origin)) = prepay.take() {
            p.push(day_date(day), EventKind::Prepayment { years }, origin);
        }
    };
    for r in &*rows {
        let amount = r.fen.map(|f| Decimal::new(f, 2));
        let origin = Origin {
            code: r.code,
            file_seq: r.file_seq,
            line: r.line,
            amount: amount.unwrap_or_default(),
        };
        let need = |a: Option<Decimal>| {
            a.ok_or_else(|| {
                StageError::Input(format!(
                    "{} row f{} line {} of {} has no amount",
                    source_kind(r.code),
                    r.file_seq,
                    r.line,
                    person
                ))
            })
        };
        p.rows += 1;
        if r.code == ev::PREPAY {
            let date = day_date(r.day);
            let year = r.year.unwrap_or_else(|| date.year());
            let amount = need(amount)?;
            let same_group = prepay
                .as_ref()
                .is_some_and(|(d, ys, _)| *d == r.day && ys.iter().all(|(y, _)| *y != year));
            if !same_group {
                flush(&mut p, &mut prepay);
                prepay = Some((r.day, Vec::new(), origin));
            }
            p.prepay_rows.push(PrepayRow {
                event: p.events.len() as u32,
                year,
                file_seq: r.file_seq,
                line: r.line,
            });
            if let Some((_, ys, _)) = prepay.as_mut() {
                ys.push((year, amount));
            }
            continue;
        }
        flush(&mut p, &mut prepay);
        let kind = match r.code {
            ev::NORMAL | ev::BACKPAY => EventKind::Credit {
                sub: Sub::Individual,
                amount: need(amount)?,
            },
            ev::COLLECTIVE => EventKind::Credit {
                sub: Sub::Collective,
                amount: need(amount)?,
            },
            ev::GOVERNMENT => EventKind::Credit {
                sub: Sub::Government,
                amount: need(amount)?,
            },
            ev::TRANSFER_IN => EventKind::Credit {
                sub: Sub::Transfer,
                amount: need(amount)?,
            },
            ev::TRANSFER_OUT | ev::CANCELLATION_TRANSFER => EventKind::TransferOut,
            ev::PAYOUT => EventKind::PensionDebit {
                amount: need(amount)?,
            },
            ev::APPROVAL => EventKind::Approval,
            ev::CANCELLATION => EventKind::Cancellation {
                death: r.death.map(day_date),
            },
            other => return Err(StageError::Input(format!("unknown event code {other}"))),
        };
        p.push(day_date(r.day), kind, origin);
    }
    flush(&mut p, &mut prepay);
    Ok(p)
}

/// Runs the event query and hands the persons to `sink` in chunks of
/// `chunk_persons`, in person-number order. `sink` returns false to stop early.
///
/// The persons are first numbered in person-number order (a temporary table of
/// this connection); the events then carry that number instead of the text, so
/// DuckDB sorts on a plain integer, and each person's rows are ordered where
/// they are replayed.
pub fn stream_chunks(
    conn: &Connection,
    through: NaiveDate,
    persons: Option<&[String]>,
    chunk_persons: usize,
    mut sink: impl FnMut(RowChunk) -> Result<bool, StageError>,
) -> Result<(), StageError> {
    let events = events_sql(through, persons);
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE ledger_person AS \
         SELECT person_no, (row_number() OVER (ORDER BY person_no) - 1)::INTEGER AS pid \
         FROM (SELECT DISTINCT person_no FROM ({events}) WHERE person_no IS NOT NULL)"
    ))?;
    let mut names: Vec<String> = Vec::new();
    each_batch(
        conn,
        "SELECT person_no FROM ledger_person ORDER BY pid",
        |b| {
            let p = strings(b.column(0).as_ref())?;
            names.extend((0..b.num_rows()).map(|i| p.get(i).to_string()));
            Ok(())
        },
    )?;
    let sql = format!(
        "SELECT p.pid, e.ev::UTINYINT, e.d, e.amount::DECIMAL(18,2), e.yr::INTEGER, e.death, \
                e._file_seq::INTEGER, e._line::INTEGER \
         FROM ({events}) e JOIN ledger_person p USING (person_no) ORDER BY p.pid"
    );
    let mut stmt = conn.prepare(&sql)?;
    let stream = stmt.stream_arrow([])?;
    let mut chunk = RowChunk::default();
    let mut current: i32 = -1;
    let mut stopped = false;
    'batches: for batch in stream {
        let batch: RecordBatch = batch?;
        let pid = batch.column(0).as_primitive::<Int32Type>();
        let code = batch.column(1).as_primitive::<UInt8Type>();
        let date = batch.column(2).as_primitive::<Date32Type>();
        let amount_col = batch.column(3);
        match amount_col.data_type() {
            DataType::Decimal128(_, 2) => {}
            other => return Err(StageError::Input(format!("amount column has type {other}"))),
        }
        let amount = amount_col.as_primitive::<Decimal128Type>();
        let year = batch.column(4).as_primitive::<Int32Type>();
        let death = batch.column(5).as_primitive::<Date32Type>();
        let file_seq = batch.column(6).as_primitive::<Int32Type>();
        let line = batch.column(7).as_primitive::<Int32Type>();
        for i in 0..batch.num_rows() {
            if date.is_null(i) {
                continue; // required dates are never null; a null cannot be replayed
            }
            let who = pid.value(i);
            if who != current {
                if chunk.len() >= chunk_persons {
                    let full = std::mem::take(&mut chunk);
                    if !sink(full)? {
                        stopped = true;
                        break 'batches;
                    }
                }
                current = who;
                chunk
                    .names
                    .push(names.get(who as usize).cloned().unwrap_or_default());
                let at = chunk.rows.len() as u32;
                chunk.bounds.push((at, at));
            }
            chunk.rows.push(RawRow {
                day: date.value(i),
                code: code.value(i),
                file_seq: file_seq.value(i),
                line: line.value(i),
                fen: (!amount.is_null(i)).then(|| amount.value(i) as i64),
                year: (!year.is_null(i)).then(|| year.value(i)),
                death: (!death.is_null(i)).then(|| death.value(i)),
            });
            let end = chunk.rows.len() as u32;
            if let Some(b) = chunk.bounds.last_mut() {
                b.1 = end;
            }
        }
    }
    if !stopped && !chunk.is_empty() {
        sink(chunk)?;
    }
    drop(stmt);
    conn.execute_batch("DROP TABLE IF EXISTS ledger_person")?;
    Ok(())
}

/// Each person's events, in person-number order (for a few persons: a
/// statement, a notice). `sink` returns false to stop early.
pub fn stream_persons(
    conn: &Connection,
    through: NaiveDate,
    persons: Option<&[String]>,
    mut sink: impl FnMut(PersonEvents) -> Result<bool, StageError>,
) -> Result<(), StageError> {
    stream_chunks(conn, through, persons, 1024, |chunk| {
        for i in 0..chunk.len() {
            if !sink(chunk.person(i)?)? {
                return Ok(false);
            }
        }
        Ok(true)
    })
}
