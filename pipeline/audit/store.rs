//! The `findings` table and its status history (`finding_history`), both derived
//! tables committed through the warehouse's atomic manifest.
//!
//! A finding's id is the first 16 hex digits of md5(check code | subject), where the
//! subject is the person number (person checks) or the book, account or receipt
//! (book checks): the same check on the same subject keeps its id from run to run.
//! Statuses live in the history, which is only ever appended to (who, when, note,
//! the evidence it was judged on). An audit run takes each finding's latest status;
//! a dismissed (or recovered) finding whose evidence has changed since is reopened,
//! and that reopening is appended to the history too. (Where the evidence text also
//! carries running totals — payments to an unknown ID, into a shared account — the
//! check gives an `evidence_key` of the facts alone, so one more month paid does not
//! reopen a dismissed finding.)
//!
//! A finding is never deleted (docs/rules.md § Findings, § What later stages read).
//! One that an audit run no longer produces (its records were corrected or removed)
//! stays in `findings` with `in_latest_audit = false`:
//! - if it was open, the audit closes it: status `closed` (已消除), which only the
//!   audit sets, with the note "no longer found by the audit of YYYY-MM (runNNNNN):
//!   the records behind it changed" in its history;
//! - a confirmed, dismissed or recovered one keeps its status and gets that note;
//! - if a later run finds it again, a closed finding reopens (note "found again …")
//!   and any other keeps its status with the same note.
//!
//! (When the run audits an earlier month than the one the finding was last found in,
//! its absence says nothing about corrections: the note says so and no status changes.)

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use duckdb::Connection;

use super::catalogue::CHECKS;
use super::dup::DupStats;
use super::engine::{self, AuditParams, Timing};
use super::{io_err, relation_exists, AuditError};
use crate::schema::Catalog;
use crate::warehouse::{connect, lit, RunEntry, Transaction, Warehouse};

/// The statuses a user sets (`pipeline finding set`).
pub const STATUSES: &[&str] = &["open", "confirmed", "dismissed", "recovered"];
/// Set by the audit only: an open finding that a later run no longer produces.
pub const CLOSED: &str = "closed";

/// The columns of `findings`, in order. `in_latest_audit`: the latest audit run
/// produced the finding (false: kept from an earlier run, see the module notes).
pub const FINDING_COLUMNS: &str = "finding_id, check_code, severity, person_no, id_number, name, township, village, \
     month_from, month_to, amount_at_risk, evidence, status, first_seen, last_seen, subject, evidence_hash, \
     in_latest_audit";

const PREV_TABLE: &str = "CREATE OR REPLACE TABLE a_prev (finding_id VARCHAR, check_code VARCHAR, severity VARCHAR, \
     person_no VARCHAR, id_number VARCHAR, name VARCHAR, township VARCHAR, village VARCHAR, month_from DATE, \
     month_to DATE, amount_at_risk DECIMAL(18,2), evidence VARCHAR, status VARCHAR, first_seen DATE, \
     last_seen DATE, subject VARCHAR, evidence_hash VARCHAR, in_latest_audit BOOLEAN);";

const HISTORY_TABLE: &str = "CREATE OR REPLACE TABLE a_hist (seq BIGINT, finding_id VARCHAR, check_code VARCHAR, \
     subject VARCHAR, status VARCHAR, previous_status VARCHAR, note VARCHAR, who VARCHAR, changed_at VARCHAR, \
     evidence_hash VARCHAR, source VARCHAR);";

#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// `YYYY-MM`: the checks see the data as of the end of this month.
    pub month: String,
    /// Exports (XLSX workbook and CSV) go here.
    pub out: Option<PathBuf>,
    pub params: AuditParams,
    /// Recorded in the run.
    pub command: String,
    pub who: String,
}

#[derive(Debug, Clone)]
pub struct CheckSummary {
    pub code: String,
    pub title_zh: String,
    pub findings: u64,
    pub persons: u64,
    pub amount: rust_decimal::Decimal,
}

#[derive(Debug, Clone)]
pub struct AuditReport {
    pub month: NaiveDate,
    pub run_id: String,
    pub timings: Vec<Timing>,
    pub dup: DupStats,
    pub by_check: Vec<CheckSummary>,
    pub total: u64,
    pub reopened: u64,
    /// Open findings of earlier runs that this run no longer produces, now closed.
    pub closed: u64,
    /// Findings no longer produced (or produced again) whose status was kept, with a note.
    pub noted: u64,
    pub exports: Vec<PathBuf>,
    pub seconds: f64,
}

pub(crate) use crate::warehouse::now;

/// Writes a query's result as zstd Parquet and makes it durable.
pub(crate) fn copy_parquet(conn: &Connection, select: &str, path: &Path) -> Result<(), AuditError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    conn.execute_batch(&format!(
        "COPY ({select}) TO {} (FORMAT parquet, COMPRESSION zstd);",
        lit(&path.to_string_lossy())
    ))?;
    let f = std::fs::File::open(path).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))?;
    Ok(())
}

/// `a_sev`: severity and title per check.
fn severity_table(conn: &Connection) -> Result<(), AuditError> {
    let rows: Vec<String> = super::catalogue::active()?
        .iter()
        .map(|c| {
            format!(
                "({}, {}, {})",
                lit(c.code),
                lit(c.severity),
                lit(c.title_zh)
            )
        })
        .collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE a_sev AS SELECT * FROM (VALUES {}) t(check_code, severity, title_zh);",
        rows.join(", ")
    ))?;
    Ok(())
}

/// The history so far (`a_hist`) and the previous findings (`a_prev`, every column;
/// findings written before `in_latest_audit` existed count as in the latest audit).
fn load_state(conn: &Connection) -> Result<(), AuditError> {
    conn.execute_batch(HISTORY_TABLE)?;
    if relation_exists(conn, "finding_history")? {
        conn.execute_batch("INSERT INTO a_hist BY NAME SELECT * FROM finding_history;")?;
    }
    conn.execute_batch(PREV_TABLE)?;
    if relation_exists(conn, "findings")? {
        conn.execute_batch(
            "INSERT INTO a_prev BY NAME SELECT * FROM findings;
             UPDATE a_prev SET in_latest_audit = true WHERE in_latest_audit IS NULL;",
        )?;
    }
    Ok(())
}

/// From `a_raw` to `a_final` (this run's findings: identities, persons, statuses),
/// `a_kept` (earlier findings this run no longer produces, with their new status) and
/// `a_auto` (the history entries the run appends: reopened, closed, kept with a note).
/// `run` names the run in those notes.
pub fn finalize(conn: &Connection, run: &str) -> Result<(), AuditError> {
    severity_table(conn)?;
    load_state(conn)?;
    let by = format!(
        "the audit of ' || ym(as_of_month()) || ' ({})",
        run.replace('\'', "''")
    );
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE a_new AS
         SELECT substr(md5(r.check_code || '|' || r.subject), 1, 16) AS finding_id, r.check_code, s.severity,
                r.person_no, coalesce(r.id_number, p.id_number) AS id_number, coalesce(r.name, p.name) AS name,
                coalesce(r.township, p.township) AS township, coalesce(r.village, p.village) AS village,
                r.month_from, r.month_to, CAST(r.amount_at_risk AS DECIMAL(18,2)) AS amount_at_risk, r.evidence,
                r.subject, substr(md5(coalesce(r.evidence_key, r.evidence, '')), 1, 16) AS evidence_hash
         FROM a_raw r JOIN a_sev s USING (check_code) LEFT JOIN a_person p ON p.person_no = r.person_no;
         CREATE OR REPLACE TABLE a_last AS
         SELECT * FROM a_hist QUALIFY row_number() OVER (PARTITION BY finding_id ORDER BY seq DESC) = 1;
         -- Reopened: dismissed or recovered on evidence that has changed since, or closed
         -- by an earlier run and found again.
         CREATE OR REPLACE TABLE a_reopen AS
         SELECT n.finding_id, n.check_code, n.subject, n.evidence_hash, l.status AS previous_status
         FROM a_new n JOIN a_last l USING (finding_id)
         WHERE (l.status IN ('dismissed', 'recovered') AND l.evidence_hash IS DISTINCT FROM n.evidence_hash)
            OR l.status = '{CLOSED}';
         CREATE OR REPLACE TABLE a_final AS
         SELECT n.finding_id, n.check_code, n.severity, n.person_no, n.id_number, n.name, n.township, n.village,
                n.month_from, n.month_to, n.amount_at_risk, n.evidence,
                CASE WHEN ro.finding_id IS NOT NULL THEN 'open' ELSE coalesce(l.status, 'open') END AS status,
                least(coalesce(pv.first_seen, as_of_month()), as_of_month()) AS first_seen,
                greatest(coalesce(pv.last_seen, as_of_month()), as_of_month()) AS last_seen,
                n.subject, n.evidence_hash, true AS in_latest_audit
         FROM a_new n
         LEFT JOIN a_last l USING (finding_id)
         LEFT JOIN a_reopen ro USING (finding_id)
         LEFT JOIN a_prev pv USING (finding_id)
         ORDER BY n.check_code, n.person_no NULLS LAST, n.subject;
         -- Earlier findings this run does not produce. gone_now: the audit before this one
         -- still produced it; corrected: this run sees the data as of the month it was last
         -- found in or later, so the records behind it changed (an open one closes).
         CREATE OR REPLACE TABLE a_gone AS
         SELECT p.*, p.in_latest_audit AS gone_now, as_of_month() >= p.last_seen AS corrected
         FROM a_prev p ANTI JOIN a_new n USING (finding_id);
         CREATE OR REPLACE TABLE a_kept AS
         SELECT * EXCLUDE (status, in_latest_audit, gone_now, corrected),
                CASE WHEN gone_now AND corrected AND status = 'open' THEN '{CLOSED}' ELSE status END AS status,
                false AS in_latest_audit
         FROM a_gone;
         CREATE OR REPLACE TABLE a_auto AS
         SELECT finding_id, check_code, subject, 'open' AS status, previous_status, evidence_hash,
                CASE WHEN previous_status = '{CLOSED}'
                     THEN 'found again by {by} after it had been closed: reopened'
                     ELSE 'evidence changed since it was ' || previous_status || ': reopened by {by}' END AS note,
                'reopened' AS event
         FROM a_reopen
         UNION ALL
         SELECT g.finding_id, g.check_code, g.subject, k.status, g.status, g.evidence_hash,
                CASE WHEN NOT g.corrected
                     THEN 'not found by {by}, which sees the data as of a month before ' || ym(g.last_seen) ||
                          ' when it was last found; status ' || g.status || ' kept'
                     WHEN k.status = '{CLOSED}'
                     THEN 'no longer found by {by}: the records behind it changed; closed automatically (已消除)'
                     ELSE 'no longer found by {by}: the records behind it changed; status ' || g.status || ' kept' END,
                CASE WHEN k.status = '{CLOSED}' THEN 'closed' ELSE 'noted' END
         FROM a_gone g JOIN a_kept k USING (finding_id)
         WHERE g.gone_now
         UNION ALL
         SELECT f.finding_id, f.check_code, f.subject, f.status, f.status, f.evidence_hash,
                'found again by {by}; status ' || f.status || ' kept', 'noted'
         FROM a_final f JOIN a_prev p USING (finding_id)
         WHERE NOT p.in_latest_audit AND f.finding_id NOT IN (SELECT finding_id FROM a_reopen);",
    ))?;
    Ok(())
}

fn count(conn: &Connection, sql: &str) -> Result<u64, AuditError> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(n as u64)
}

fn summaries(conn: &Connection) -> Result<Vec<CheckSummary>, AuditError> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT s.check_code, s.title_zh, count(f.finding_id), count(DISTINCT f.person_no),
                coalesce(sum(f.amount_at_risk), 0)::DECIMAL(18,2)
         FROM a_sev s LEFT JOIN a_final f USING (check_code) GROUP BY s.check_code, s.title_zh",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(CheckSummary {
            code: r.get(0)?,
            title_zh: r.get(1)?,
            findings: r.get::<_, i64>(2)? as u64,
            persons: r.get::<_, i64>(3)? as u64,
            amount: r.get(4)?,
        })
    })?;
    for r in rows {
        out.push(r?);
    }
    let order = |code: &str| {
        CHECKS
            .iter()
            .position(|c| c.code == code)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(|s| order(&s.code));
    Ok(out)
}

fn run_entry(tx: &Transaction, command: &str, started: String) -> RunEntry {
    RunEntry::derived(&tx.run_id, command, started)
}

/// The bank reconciliation, run first when there are bank statements (or an
/// earlier reconciliation to replace) and the stored one does not already answer
/// for the month (`reconcile::current`): BANK_UNMATCHED and BANK_BALANCE read its
/// tables (docs/rules.md § Bank reconciliation). Its window is the audit's.
fn reconcile_first(
    wh: &mut Warehouse,
    catalog: &Catalog,
    month: NaiveDate,
    opts: &AuditOptions,
) -> Result<Option<Timing>, AuditError> {
    let conn = connect(wh, catalog)?;
    if !crate::reconcile::wanted(wh, &conn)? {
        return Ok(None);
    }
    let mut params = crate::params::Parameters::load()?.reconcile(month)?;
    params.window_days = opts.params.bank_match_window_days;
    if crate::reconcile::current(wh, &conn, month, &params)? {
        return Ok(None);
    }
    drop(conn);
    let r = crate::reconcile::run(wh, catalog, month, &params, &opts.command)?;
    Ok(Some(Timing {
        step: "bank reconciliation (reconcile, before the checks)".into(),
        seconds: r.seconds,
        findings: 0,
    }))
}

/// `pipeline audit`: every check as of the month, `findings` replaced, reopenings
/// appended to the history, exports written.
pub fn run_audit(
    wh: &mut Warehouse,
    catalog: &Catalog,
    opts: &AuditOptions,
) -> Result<AuditReport, AuditError> {
    let t0 = Instant::now();
    let started = now();
    let month = engine::parse_month(&opts.month)?;
    let reconciled = reconcile_first(wh, catalog, month, opts)?;
    let conn = connect(wh, catalog)?;
    let spill = wh.root().join(".staging").join("audit-spill");
    engine::session(&conn, &spill)?;
    let mut timings = engine::prepare(&conn, month, &opts.params, None)?;
    timings.extend(reconciled);
    let (check_timings, dup) = engine::run_checks(&conn, &opts.params)?;
    timings.extend(check_timings);
    let t = Instant::now();
    let mut tx = wh.begin()?;
    finalize(&conn, &tx.run_id)?;
    let events = |event: &str| {
        count(
            &conn,
            &format!("SELECT count(*) FROM a_auto WHERE event = {}", lit(event)),
        )
    };
    let (reopened, closed, noted) = (events("reopened")?, events("closed")?, events("noted")?);
    let total = count(&conn, "SELECT count(*) FROM a_final")?;
    let rel = format!("derived/findings/{}.parquet", tx.run_id);
    let path = tx.stage(&rel);
    // This run's findings, then the earlier ones it no longer produces (never deleted).
    copy_parquet(
        &conn,
        &format!(
            "SELECT {FINDING_COLUMNS} FROM a_final
             UNION ALL SELECT {FINDING_COLUMNS} FROM a_kept"
        ),
        &path,
    )?;
    tx.replace_derived("findings", vec![rel]);
    let history_parts = wh
        .manifest()
        .derived
        .get("finding_history")
        .map_or(0, Vec::len);
    if reopened + closed + noted > 0 || history_parts > 1 {
        // Append the run's own entries and compact the history into one file.
        conn.execute_batch(&format!(
            "INSERT INTO a_hist
             SELECT (SELECT coalesce(max(seq), 0) FROM a_hist)
                        + row_number() OVER (ORDER BY event = 'reopened' DESC, finding_id),
                    finding_id, check_code, subject, status, previous_status, note,
                    {who}, {at}, evidence_hash, 'audit'
             FROM a_auto;",
            who = lit(&opts.who),
            at = lit(&now()),
        ))?;
        let hrel = format!("derived/finding_history/{}.parquet", tx.run_id);
        let hpath = tx.stage(&hrel);
        copy_parquet(&conn, "SELECT * FROM a_hist ORDER BY seq", &hpath)?;
        tx.replace_derived("finding_history", vec![hrel]);
    }
    timings.push(Timing {
        step: "identities, statuses, write".into(),
        seconds: t.elapsed().as_secs_f64(),
        findings: total,
    });
    let by_check = summaries(&conn)?;
    let mut exports = Vec::new();
    if let Some(dir) = &opts.out {
        let t = Instant::now();
        exports = super::export::write(&conn, dir, month)?;
        timings.push(Timing {
            step: "exports (XLSX, CSV)".into(),
            seconds: t.elapsed().as_secs_f64(),
            findings: total,
        });
    }
    let entry = run_entry(&tx, &opts.command, started);
    tx.commit(wh, entry)?;
    drop(conn);
    let _ = std::fs::remove_dir_all(&spill);
    Ok(AuditReport {
        month,
        run_id: wh
            .manifest()
            .runs
            .last()
            .map(|r| r.run_id.clone())
            .unwrap_or_default(),
        timings,
        dup,
        by_check,
        total,
        reopened,
        closed,
        noted,
        exports,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[derive(Debug, Clone)]
pub struct SetOutcome {
    pub finding_id: String,
    pub check_code: String,
    pub person_no: Option<String>,
    pub previous: String,
    pub status: String,
    pub seq: i64,
}

/// The one finding an id (or a unique prefix of at least 6 characters) names.
fn resolve(conn: &Connection, id: &str) -> Result<String, AuditError> {
    let id = id.trim().to_ascii_lowercase();
    if id.len() < 6 {
        return Err(AuditError::Usage(format!(
            "finding id `{id}` is too short; give at least 6 characters"
        )));
    }
    let mut stmt = conn.prepare(
        "SELECT finding_id FROM findings WHERE starts_with(finding_id, ?) ORDER BY 1 LIMIT 3",
    )?;
    let ids: Vec<String> = stmt
        .query_map([&id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    match ids.len() {
        0 => Err(AuditError::Usage(format!(
            "no finding `{id}` in the warehouse; list them with: pipeline sql \"SELECT finding_id, check_code, person_no, status FROM findings\""
        ))),
        1 => Ok(ids[0].clone()),
        _ => Err(AuditError::Usage(format!("`{id}` matches several findings ({} …); give more characters", ids.join(", ")))),
    }
}

/// `pipeline finding set`: appends to the history and rewrites `findings` with the
/// new status.
pub fn set_status(
    wh: &mut Warehouse,
    catalog: &Catalog,
    id: &str,
    status: &str,
    note: Option<&str>,
    who: &str,
    command: &str,
) -> Result<SetOutcome, AuditError> {
    let started = now();
    let status = status.trim().to_ascii_lowercase();
    if !STATUSES.contains(&status.as_str()) {
        let why = if status == CLOSED {
            " (closed is set by the audit itself, when a later run no longer finds an open finding)"
        } else {
            ""
        };
        return Err(AuditError::Usage(format!(
            "status `{status}` is not one of {}{why}",
            STATUSES.join(", ")
        )));
    }
    let conn = connect(wh, catalog)?;
    if !relation_exists(&conn, "findings")? {
        return Err(AuditError::Usage(
            "the warehouse has no findings yet; run `pipeline audit --month YYYY-MM` first".into(),
        ));
    }
    let id = resolve(&conn, id)?;
    load_state(&conn)?;
    let (check_code, person_no, previous, seq): (String, Option<String>, String, i64) = conn.query_row(
        "SELECT check_code, person_no, status, (SELECT coalesce(max(seq), 0) + 1 FROM a_hist) FROM findings WHERE finding_id = ?",
        [&id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE a_new_hist AS
         SELECT {seq}::BIGINT AS seq, finding_id, check_code, subject, {st} AS status, status AS previous_status,
                {note} AS note, {who} AS who, {at} AS changed_at, evidence_hash, 'user' AS source
         FROM findings WHERE finding_id = {id};",
        st = lit(&status),
        note = note.map_or("NULL".to_string(), lit),
        who = lit(who),
        at = lit(&now()),
        id = lit(&id),
    ))?;
    let mut tx = wh.begin()?;
    let hrel = format!("derived/finding_history/{}.parquet", tx.run_id);
    let hpath = tx.stage(&hrel);
    copy_parquet(&conn, "SELECT * FROM a_new_hist", &hpath)?;
    let mut parts = wh
        .manifest()
        .derived
        .get("finding_history")
        .cloned()
        .unwrap_or_default();
    parts.push(hrel);
    tx.replace_derived("finding_history", parts);
    let frel = format!("derived/findings/{}.parquet", tx.run_id);
    let fpath = tx.stage(&frel);
    copy_parquet(
        &conn,
        &format!(
            "SELECT {} FROM a_prev",
            FINDING_COLUMNS.replace(
                "status,",
                &format!(
                    "CASE WHEN finding_id = {} THEN {} ELSE status END AS status,",
                    lit(&id),
                    lit(&status)
                )
            )
        ),
        &fpath,
    )?;
    tx.replace_derived("findings", vec![frel]);
    let entry = run_entry(&tx, command, started);
    tx.commit(wh, entry)?;
    Ok(SetOutcome {
        finding_id: id,
        check_code,
        person_no,
        previous,
        status,
        seq,
    })
}

/// A finding and its history, as text lines.
pub fn show(wh: &Warehouse, catalog: &Catalog, id: &str) -> Result<Vec<String>, AuditError> {
    let conn = connect(wh, catalog)?;
    if !relation_exists(&conn, "findings")? {
        return Err(AuditError::Usage(
            "the warehouse has no findings yet; run `pipeline audit --month YYYY-MM` first".into(),
        ));
    }
    let id = resolve(&conn, id)?;
    load_state(&conn)?;
    let mut out = Vec::new();
    type Shown = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
    );
    let row: Shown = conn.query_row(
        "SELECT check_code, severity, person_no, id_number, name, coalesce(township, '') || coalesce(village, ''),
                coalesce(amount_at_risk::VARCHAR, ''), evidence,
                status || CASE WHEN status = 'closed' THEN ' 已消除' ELSE '' END ||
                ' (first seen ' || strftime(first_seen, '%Y-%m') || ', last seen ' || strftime(last_seen, '%Y-%m') ||
                CASE WHEN in_latest_audit THEN '' ELSE '; not found by the latest audit: see the history' END || ')'
         FROM a_prev WHERE finding_id = ?",
        [&id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
    )?;
    out.push(format!(
        "finding {id}: {} ({}), severity {}",
        row.0,
        super::catalogue::get(&row.0).map_or("", |c| c.title_zh),
        row.1
    ));
    if let Some(p) = &row.2 {
        out.push(format!(
            "person {p}  ID {}  {}  {}",
            row.3.clone().unwrap_or_default(),
            row.4.clone().unwrap_or_default(),
            row.5.clone().unwrap_or_default()
        ));
    }
    out.push(format!(
        "amount at risk: {}",
        if row.6.is_empty() { "-" } else { &row.6 }
    ));
    out.push(format!("evidence: {}", row.7));
    out.push(format!("status: {}", row.8));
    if relation_exists(&conn, "finding_history")? {
        let mut stmt = conn.prepare(
            "SELECT changed_at, who, coalesce(previous_status, '') || ' → ' || status, coalesce(note, ''), source
             FROM finding_history WHERE finding_id = ? ORDER BY seq",
        )?;
        let rows = stmt.query_map([&id], |r| {
            Ok(format!(
                "  {} {} {} {} ({})",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?
            ))
        })?;
        out.push("history:".into());
        for r in rows {
            out.push(r?);
        }
    }
    Ok(out)
}
