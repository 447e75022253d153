//! Every person's account events as one stream ordered by person: the one query,
//! read in Arrow batches and cut into chunks of persons.

use super::*;

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

/// One row of the event stream, compact (dates as days since 1970-01-01, money
/// in fen).
#[derive(Debug, Clone, Copy)]
pub struct RawRow {
    pub(super) day: i32,
    pub(super) code: u8,
    pub(super) file_seq: i32,
    pub(super) line: i32,
    pub(super) fen: Option<i64>,
    pub(super) year: Option<i32>,
    pub(super) death: Option<i32>,
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
pub(super) fn day_date(days: i32) -> NaiveDate {
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
