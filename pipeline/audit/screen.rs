//! Pre-payment screening (不予支付): next month's payout file, read like any payout
//! file (through a scratch warehouse, so every format variant and bad row is handled
//! as on ingest), is audited together with the warehouse as if it had been paid.
//! Every row that a check would flag is held; the rest is the clean file for the
//! bank. Nothing is lost: clean + held = the rows read, amounts included.
//!
//! A row is held for the payment checks that flag that row itself (DUP_PAYMENT,
//! PAID_AFTER_DEATH, DUAL_PENSION, UNDERAGE_PAID, PAID_WHILE_SUSPENDED,
//! UNCERTIFIED_PAID, AMOUNT_MISMATCH), for a standing finding on the person of a
//! check that stops payment (identity, death, duplicates, shared account, moved out;
//! not if that finding was dismissed), and for what only the row can show:
//! INPUT_INVALID (unreadable, quarantined), NOT_ENROLLED (no such person number),
//! ID_INVALID / ID_MISMATCH (the row's ID or name differs from the enrollment) and
//! CANCELLED (a month after a cancellation other than death; a cancellation for death
//! is a death like any other, death.sql, and its later months are PAID_AFTER_DEATH).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use duckdb::Connection;
use rust_decimal::Decimal;

use super::catalogue;
use super::engine::{self, AuditParams};
use super::{io_err, store, AuditError};
use crate::ingest::{self, FileStatus, IngestOptions};
use crate::schema::{Catalog, ColType};
use crate::warehouse::{connect, lit, Warehouse};

#[derive(Debug, Clone)]
pub struct ScreenReport {
    pub month: NaiveDate,
    pub rows_read: u64,
    pub input_amount: Decimal,
    pub clean_rows: u64,
    pub clean_amount: Decimal,
    pub held_rows: u64,
    pub held_amount: Decimal,
    /// Rows that could not be read (their amounts are in the raw text).
    pub unreadable: u64,
    /// Check code → (rows held, amount).
    pub by_code: Vec<(String, u64, Decimal)>,
    pub files: Vec<PathBuf>,
}

/// The SELECT list that writes stored payout rows back in the payout file format
/// (Chinese headers, months `YYYY-MM`, enumerations in Chinese).
fn payout_format(catalog: &Catalog) -> Result<String, AuditError> {
    let schema = catalog
        .get("payout")
        .map_err(|e| AuditError::Usage(e.to_string()))?;
    let mut cols = Vec::new();
    for c in &schema.columns {
        let n = format!("\"{}\"", c.name);
        let expr = match c.ty {
            ColType::Month => format!("strftime({n}, '%Y-%m')"),
            ColType::Date => format!("strftime({n}, '%Y-%m-%d')"),
            ColType::Enum => {
                let mut seen = std::collections::BTreeSet::new();
                let arms: Vec<String> = c
                    .values
                    .iter()
                    .filter(|(_, code)| seen.insert(code.as_str()))
                    .map(|(zh, code)| format!("WHEN {} THEN {}", lit(code), lit(zh)))
                    .collect();
                format!("CASE {n} {} ELSE {n} END", arms.join(" "))
            }
            _ => format!("{n}::VARCHAR"),
        };
        cols.push(format!("{expr} AS \"{}\"", c.zh.replace('"', "")));
    }
    Ok(cols.join(", "))
}

fn decimal(conn: &Connection, sql: &str) -> Result<Decimal, AuditError> {
    let d: Option<Decimal> = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(d.unwrap_or_default())
}

fn count(conn: &Connection, sql: &str) -> Result<u64, AuditError> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(n as u64)
}

fn write_csv(conn: &Connection, select: &str, path: &Path) -> Result<(), AuditError> {
    conn.execute_batch(&format!(
        "COPY ({select}) TO {} (FORMAT csv, HEADER true);",
        lit(&path.to_string_lossy())
    ))?;
    // A BOM so that Excel on a Chinese desktop shows the headers.
    let body = std::fs::read(path).map_err(io_err(path))?;
    let mut bytes = Vec::from("\u{feff}".as_bytes());
    bytes.extend(body);
    std::fs::write(path, bytes).map_err(io_err(path))
}

/// Screens `file` (a payout file for `month`) against the warehouse at `wh_dir`,
/// writing `<name>_clean.csv`, `<name>_held.csv` and `<name>_summary.txt` into `out`.
pub fn screen(
    wh_dir: &Path,
    catalog: &Catalog,
    file: &Path,
    month: &str,
    out: &Path,
    params: &AuditParams,
) -> Result<ScreenReport, AuditError> {
    let month = engine::parse_month(month)?;
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let scratch = out.join(format!(".screen-scratch-{}", std::process::id()));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).map_err(io_err(&scratch))?;
    }
    let result = screen_in(wh_dir, catalog, file, month, out, &scratch, params);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn screen_in(
    wh_dir: &Path,
    catalog: &Catalog,
    file: &Path,
    month: NaiveDate,
    out: &Path,
    scratch: &Path,
    params: &AuditParams,
) -> Result<ScreenReport, AuditError> {
    if !file.is_file() {
        return Err(AuditError::Usage(format!(
            "{}: no such payout file",
            file.display()
        )));
    }
    // 1. Read the file exactly as `ingest --kind payout` would, into a scratch warehouse.
    let mut swh = Warehouse::open(scratch)?;
    let opts = IngestOptions {
        kind: Some("payout".into()),
        command: "pipeline screen".into(),
        repeats_are_errors: true,
        ..Default::default()
    };
    let report = ingest::ingest(&mut swh, catalog, &[file.to_path_buf()], &opts)?;
    let f = report
        .files
        .first()
        .ok_or_else(|| AuditError::Usage(format!("{}: nothing read", file.display())))?;
    if let FileStatus::Refused(reason) = &f.status {
        return Err(AuditError::Usage(format!(
            "{}: refused: {reason}",
            file.display()
        )));
    }
    let rows_read = f.rows_read;
    let entry = swh.manifest().files.first().cloned();
    let parts: Vec<String> = entry
        .iter()
        .flat_map(|e| e.parts.iter())
        .map(|p| scratch.join(p).to_string_lossy().into_owned())
        .collect();
    let qpart = entry
        .and_then(|e| e.quarantine_part)
        .map(|p| scratch.join(p).to_string_lossy().into_owned());
    drop(swh);

    // 2. Audit the warehouse with these rows added as payments of `month`.
    let main = Warehouse::open_read(wh_dir)?;
    let conn = connect(&main, catalog)?;
    engine::session(&conn, &scratch.join("spill"))?;
    if parts.is_empty() {
        conn.execute_batch("CREATE TABLE a_screen_rows AS SELECT * FROM payout LIMIT 0;")?;
    } else {
        let list: Vec<String> = parts.iter().map(|p| lit(p)).collect();
        conn.execute_batch(&format!(
            "CREATE TABLE a_screen_rows AS SELECT * FROM read_parquet([{}], union_by_name = true);",
            list.join(", ")
        ))?;
    }
    match &qpart {
        Some(q) => conn.execute_batch(&format!("CREATE TABLE a_screen_bad AS SELECT * FROM read_parquet({});", lit(q)))?,
        None => conn.execute_batch("CREATE TABLE a_screen_bad (line BIGINT, raw VARCHAR, reason_codes VARCHAR, reasons VARCHAR);")?,
    }
    engine::prepare(&conn, month, params, Some("a_screen_rows"))?;
    engine::run_checks(&conn, params)?;
    store::finalize(&conn, "screening")?;

    // 3. Codes per held row, with the reasons.
    let checks = catalogue::active()?;
    let flag_arms: Vec<String> = catalogue::payment_flags(checks)
        .iter()
        .map(|(f, code)| format!("CASE WHEN {f} THEN '{code}' END"))
        .collect();
    let person_codes: Vec<String> = checks
        .iter()
        .filter(|c| c.holds_person)
        .map(|c| lit(c.code))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE a_hold_codes AS
         WITH pay AS (
             SELECT _screen AS line, person_no, unnest(list_filter([{flags}], lambda x: x IS NOT NULL)) AS code
             FROM a_payeval WHERE _screen IS NOT NULL
         ), person AS (
             SELECT s._line AS line, s.person_no, f.check_code AS code
             FROM a_screen_rows s JOIN a_final f ON f.person_no = s.person_no
             WHERE f.status <> 'dismissed' AND f.check_code IN ({pcodes})
         ), own AS (
             SELECT _line AS line, person_no, 'ID_INVALID' AS code,
                    regexp_extract(_flags, 'ID_INVALID: ([^|]*)', 1) AS why
             FROM a_screen_rows WHERE _flags LIKE '%ID_INVALID%'
             UNION ALL
             SELECT s._line, s.person_no, 'NOT_ENROLLED', 'person_no ' || s.person_no || ' is not in enrollment'
             FROM a_screen_rows s WHERE NOT EXISTS (SELECT 1 FROM a_person p WHERE p.person_no = s.person_no)
             UNION ALL
             SELECT s._line, s.person_no, 'ID_MISMATCH',
                    'payout row ' || concat_ws(', ',
                        CASE WHEN s.id_number IS DISTINCT FROM p.id_number THEN 'ID ' || s.id_number || ' ≠ enrolled ' || p.id_number END,
                        CASE WHEN s.name IS DISTINCT FROM p.name AND norm_name(s.name) IS DISTINCT FROM norm_name(p.name)
                             THEN 'name ' || s.name || ' ≠ enrolled ' || p.name END)
             FROM a_screen_rows s JOIN a_person p USING (person_no)
             WHERE s.id_number IS DISTINCT FROM p.id_number
                OR (s.name IS DISTINCT FROM p.name AND norm_name(s.name) IS DISTINCT FROM norm_name(p.name))
             UNION ALL
             SELECT s._line, s.person_no, 'CANCELLED',
                    'enrollment cancelled (' || p.cancel_reason || ') on ' || p.cancel_apply::VARCHAR ||
                    ', event ' || p.cancel_event::VARCHAR
             FROM a_screen_rows s JOIN a_person p USING (person_no)
             WHERE p.cancel_apply IS NOT NULL AND p.cancel_reason <> 'death'
               AND s.month > date_trunc('month', p.cancel_event)
         )
         SELECT x.line, x.code, coalesce(x.why, f.evidence, '') AS why
         FROM (SELECT line, person_no, code, NULL AS why FROM pay
               UNION ALL SELECT line, person_no, code, NULL FROM person
               UNION ALL SELECT line, person_no, code, why FROM own) x
         LEFT JOIN a_final f ON f.person_no = x.person_no AND f.check_code = x.code;
         CREATE TABLE a_hold AS
         SELECT line, array_to_string(list_sort(list(DISTINCT code)), ',') AS codes,
                string_agg(DISTINCT code || ': ' || why, ' | ') AS reasons
         FROM a_hold_codes GROUP BY line;",
        flags = flag_arms.join(", "),
        pcodes = person_codes.join(", "),
    ))?;

    // 4. The files.
    let stem = file
        .file_stem()
        .map_or("payout".into(), |s| s.to_string_lossy().into_owned());
    let clean_path = out.join(format!("{stem}_clean.csv"));
    let held_path = out.join(format!("{stem}_held.csv"));
    let summary_path = out.join(format!("{stem}_summary.txt"));
    let fmt = payout_format(catalog)?;
    write_csv(
        &conn,
        &format!("SELECT {fmt} FROM a_screen_rows s WHERE s._line NOT IN (SELECT line FROM a_hold) ORDER BY s._line"),
        &clean_path,
    )?;
    write_csv(
        &conn,
        &format!(
            "SELECT * FROM (
                 SELECT s._line AS \"源文件行号\", h.codes AS \"稽核代码\", h.reasons AS \"暂停支付原因\", {fmt}, NULL AS \"原始内容\"
                 FROM a_screen_rows s JOIN a_hold h ON h.line = s._line
                 UNION ALL BY NAME
                 SELECT line AS \"源文件行号\", 'INPUT_INVALID' AS \"稽核代码\", reasons AS \"暂停支付原因\", raw AS \"原始内容\"
                 FROM a_screen_bad)
             ORDER BY \"源文件行号\""
        ),
        &held_path,
    )?;
    let input_amount = decimal(&conn, "SELECT sum(total_amount) FROM a_screen_rows")?;
    let clean_rows = count(
        &conn,
        "SELECT count(*) FROM a_screen_rows WHERE _line NOT IN (SELECT line FROM a_hold)",
    )?;
    let clean_amount = decimal(
        &conn,
        "SELECT sum(total_amount) FROM a_screen_rows WHERE _line NOT IN (SELECT line FROM a_hold)",
    )?;
    let unreadable = count(&conn, "SELECT count(*) FROM a_screen_bad")?;
    let held_rows = count(&conn, "SELECT count(*) FROM a_hold")? + unreadable;
    let held_amount = decimal(
        &conn,
        "SELECT sum(total_amount) FROM a_screen_rows WHERE _line IN (SELECT line FROM a_hold)",
    )?;
    let mut by_code = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT c.code, count(*), coalesce(sum(s.total_amount), 0)::DECIMAL(18,2)
             FROM (SELECT DISTINCT line, code FROM a_hold_codes) c JOIN a_screen_rows s ON s._line = c.line
             GROUP BY c.code ORDER BY c.code",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, Decimal>(2)?,
            ))
        })?;
        for r in rows {
            by_code.push(r?);
        }
    }
    if unreadable > 0 {
        by_code.push(("INPUT_INVALID".into(), unreadable, Decimal::ZERO));
    }
    let report = ScreenReport {
        month,
        rows_read,
        input_amount,
        clean_rows,
        clean_amount,
        held_rows,
        held_amount,
        unreadable,
        by_code,
        files: vec![clean_path, held_path, summary_path.clone()],
    };
    std::fs::write(&summary_path, summary_text(&report, file)).map_err(io_err(&summary_path))?;
    Ok(report)
}

/// The summary, as written to `<name>_summary.txt` and printed.
pub fn summary_text(r: &ScreenReport, file: &Path) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "pre-payment screening (不予支付筛查) of {} for {}\n",
        file.display(),
        r.month.format("%Y-%m")
    ));
    s.push_str(&format!(
        "rows read        {:>8}   amount {:>16}   (readable rows)\n",
        r.rows_read, r.input_amount
    ));
    s.push_str(&format!(
        "clean (to bank)  {:>8}   amount {:>16}\n",
        r.clean_rows, r.clean_amount
    ));
    s.push_str(&format!(
        "held             {:>8}   amount {:>16}",
        r.held_rows, r.held_amount
    ));
    if r.unreadable > 0 {
        s.push_str(&format!(
            "   (of which {} unreadable: held as read, amount in the raw text)",
            r.unreadable
        ));
    }
    s.push('\n');
    let ok = r.clean_rows + r.held_rows == r.rows_read
        && r.clean_amount + r.held_amount == r.input_amount;
    s.push_str(&format!(
        "check: clean + held = read: {} rows, {} yuan — {}\n",
        r.clean_rows + r.held_rows,
        r.clean_amount + r.held_amount,
        if ok { "agrees" } else { "DOES NOT AGREE" }
    ));
    if !r.by_code.is_empty() {
        s.push_str("held rows by check (a row may carry several):\n");
        for (code, n, amt) in &r.by_code {
            let zh = super::catalogue::get(code).map_or("", |c| c.title_zh);
            s.push_str(&format!("  {code:<22} {zh:<14} {n:>6} rows  {amt:>14}\n"));
        }
    }
    s
}
