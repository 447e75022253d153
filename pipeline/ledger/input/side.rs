//! The per-person data beside the events that the checks need: approvals,
//! cancellations and the beneficiaries' context (birth, enrollment, death, prison,
//! suspensions, certifications).

use super::*;

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
