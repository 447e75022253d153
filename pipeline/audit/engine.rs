//! Runs the checks on a DuckDB session over the warehouse: parameters and macros,
//! the shared tables of `prelude.sql`, then each check into `a_raw`.

use std::time::Instant;

use chrono::NaiveDate;
use duckdb::Connection;

use super::{dup, names, AuditError};

// The struct lives with the other typed views of parameters.toml (so params need not
// import the audit); its Default stays here.
pub use crate::params::AuditParams;

impl Default for AuditParams {
    /// The built-in parameters.toml, newest versions (the commands read the file
    /// in force for their month: `params::Parameters::audit`).
    fn default() -> Self {
        crate::params::shipped_newest(crate::params::Parameters::audit)
    }
}

/// The SQL of a check, the prelude or fund_flows (`checks/<name>.sql`), and what to
/// call it in a message: the check's code, with the file when it comes from a
/// definitions folder (docs: pipeline/defs.rs).
pub(crate) fn sql_text(name: &str) -> Result<(String, String), AuditError> {
    let file = crate::defs::active().file(&format!("checks/{name}.sql"))?;
    let label = match file.origin {
        crate::defs::Origin::BuiltIn => name.to_string(),
        _ => format!("{name} ({})", file.path.display()),
    };
    Ok((file.text, label))
}

/// How long one step took and how many findings it made.
#[derive(Debug, Clone)]
pub struct Timing {
    pub step: String,
    pub seconds: f64,
    pub findings: u64,
}

/// The first day of `YYYY-MM`.
pub fn parse_month(text: &str) -> Result<NaiveDate, AuditError> {
    crate::ingest::value::parse_month(text.trim())
        .map_err(|m| AuditError::Usage(format!("--month: {m}")))
}

/// The last day of the month that `m` falls in (now `domain::calendar::month_end`;
/// kept under its old name for the audit's callers).
pub use crate::domain::calendar::month_end as last_day;

/// DuckDB's memory cap for the audit unless `$PIPELINE_AUDIT_MEMORY` says otherwise:
/// past it, joins and aggregates spill to disk instead of growing.
pub const DEFAULT_MEMORY: &str = "3GB";

/// Session settings: DuckDB spills to `tmp` (inside the warehouse's staging area, so
/// nothing is left in the user's folder), and its memory is capped.
pub fn session(conn: &Connection, tmp: &std::path::Path) -> Result<(), AuditError> {
    std::fs::create_dir_all(tmp).map_err(super::io_err(tmp))?;
    let limit =
        std::env::var("PIPELINE_AUDIT_MEMORY").unwrap_or_else(|_| DEFAULT_MEMORY.to_string());
    let sql = format!(
        "SET temp_directory = {}; SET memory_limit = {};",
        crate::warehouse::lit(&tmp.to_string_lossy()),
        crate::warehouse::lit(&limit)
    );
    conn.execute_batch(&sql).map_err(|e| AuditError::Check {
        check: "setup".into(),
        source: e,
    })
}

/// Macros and parameters, then the prelude. `screen_source` is a SQL relation with
/// payout rows to add (being screened), each with its line number as `_screen`.
pub fn prepare(
    conn: &Connection,
    month: NaiveDate,
    params: &AuditParams,
    screen_source: Option<&str>,
) -> Result<Vec<Timing>, AuditError> {
    let t = Instant::now();
    let p = params;
    let setup = format!(
        "CREATE OR REPLACE TEMP MACRO as_of_month() AS DATE '{m}';
         CREATE OR REPLACE TEMP MACRO as_of_end() AS DATE '{e}';
         CREATE OR REPLACE TEMP MACRO ym(d) AS strftime(d, '%Y-%m');
         CREATE OR REPLACE TEMP MACRO mi(d) AS (year(d) * 12 + month(d) - 1);
         CREATE OR REPLACE TEMP MACRO p_pension_age() AS {pa};
         CREATE OR REPLACE TEMP MACRO p_min_age() AS {ma};
         CREATE OR REPLACE TEMP MACRO p_death_report_days() AS {dr};
         CREATE OR REPLACE TEMP MACRO p_photo_cert_years() AS {pcy};
         CREATE OR REPLACE TEMP MACRO p_cert_first_month() AS {cm};
         CREATE OR REPLACE TEMP MACRO p_shared_max() AS {sm};
         CREATE OR REPLACE TEMP MACRO p_working_min_months() AS {wmin};
         CREATE OR REPLACE TEMP MACRO p_working_max_months() AS {wmax};
         CREATE OR REPLACE TEMP MACRO p_receipt_settle_month() AS {rsm};
         CREATE OR REPLACE TEMP MACRO p_receipt_settle_day() AS {rsd};
         CREATE OR REPLACE TEMP MACRO p_prepaid_carry_month() AS {pcm};
         CREATE OR REPLACE TEMP MACRO p_bank_window_days() AS {bw};
         CREATE OR REPLACE TEMP MACRO p_fiscal_booking_working_days() AS {fbw};
         {norm}",
        m = month.format("%Y-%m-%d"),
        e = last_day(month).format("%Y-%m-%d"),
        pa = p.pension_age,
        ma = p.min_contribution_age,
        dr = p.death_report_days,
        pcy = p.photo_cert_years,
        cm = p.cert_first_month,
        sm = p.shared_account_max,
        wmin = p.working_min_months,
        wmax = p.working_max_months,
        rsm = p.receipt_settle.0,
        rsd = p.receipt_settle.1,
        pcm = p.prepaid_carry_month,
        bw = p.bank_match_window_days,
        fbw = p.fiscal_booking_working_days,
        norm = names::sql_macro(),
    );
    conn.execute_batch(&setup).map_err(|e| AuditError::Check {
        check: "setup".into(),
        source: e,
    })?;
    let src = match screen_source {
        None => {
            "CREATE OR REPLACE VIEW a_payout_src AS SELECT *, NULL::BIGINT AS _screen FROM payout;"
                .to_string()
        }
        Some(rel) => format!(
            "CREATE OR REPLACE VIEW a_payout_src AS
             SELECT *, NULL::BIGINT AS _screen FROM payout
             UNION ALL BY NAME
             SELECT * REPLACE ('ok' AS status), _line AS _screen FROM {rel};"
        ),
    };
    run_setup(conn, &src)?;
    // The ledger's expected_payout, when it has been computed, gives the standard and
    // the approved account pension in force per person and month (AMOUNT_MISMATCH).
    let expected = if super::relation_exists(conn, "expected_payout")? {
        // One row per beneficiary and month by construction (ledger::checks::
        // ExpectedMonth), so no GROUP BY: at 1M persons that aggregation of 27 M
        // rows was half of the audit's time.
        "CREATE OR REPLACE VIEW a_expected AS
         SELECT person_no, month, basic_standard, account_pension FROM expected_payout;"
    } else {
        "CREATE OR REPLACE TABLE a_expected (person_no VARCHAR, month DATE, basic_standard DECIMAL(18,2), account_pension DECIMAL(18,2));"
    };
    run_setup(conn, expected)?;
    // The ledger's postings, when it has run: BOOKS_DISAGREE compares the sum of the
    // individual accounts with the fund's individual-account side (docs/rules.md
    // § Books agree); without the ledger that half is not compared.
    let postings = if super::relation_exists(conn, "account_event")? {
        "CREATE OR REPLACE VIEW a_account_event AS
         SELECT date, kind, holding, amount FROM account_event;"
    } else {
        "CREATE OR REPLACE TABLE a_account_event (date DATE, kind VARCHAR, holding VARCHAR, amount DECIMAL(18,2));"
    };
    run_setup(conn, postings)?;
    // The bank reconciliation's tables, empty when it has not run (BANK_UNMATCHED,
    // BANK_BALANCE).
    crate::reconcile::ensure_tables(conn).map_err(|e| AuditError::Check {
        check: "setup: bank_line, bank_reconciliation".into(),
        source: e,
    })?;
    let setup_secs = t.elapsed().as_secs_f64();
    let mut timings = vec![Timing {
        step: "prelude: setup".into(),
        seconds: setup_secs,
        findings: 0,
    }];
    let (fund_flows, label) = sql_text("fund_flows")?;
    conn.execute_batch(&fund_flows)
        .map_err(|e| AuditError::Check {
            check: format!("setup: {label}"),
            source: e,
        })?;
    // Death first: one definition (death.sql) that the prelude's tables and every
    // check read through `a_person`.
    let (death, _) = sql_text("death")?;
    let (prelude, prelude_label) = sql_text("prelude")?;
    let prelude = format!("{death}\n{prelude}");
    for stmt in prelude.split(";\n").filter(|s| {
        s.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
    }) {
        let t = Instant::now();
        let code: String = stmt
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join(" ");
        let name = code
            .split_whitespace()
            .skip_while(|w| !w.eq_ignore_ascii_case("TABLE") && !w.eq_ignore_ascii_case("MACRO"))
            .nth(1)
            .unwrap_or("statement")
            .split('(')
            .next()
            .unwrap_or("statement")
            .to_string();
        conn.execute_batch(stmt).map_err(|e| AuditError::Check {
            check: format!("{prelude_label}: {name}"),
            source: e,
        })?;
        timings.push(Timing {
            step: format!("prelude: {name}"),
            seconds: t.elapsed().as_secs_f64(),
            findings: 0,
        });
    }
    Ok(timings)
}

fn count_of(conn: &Connection, code: &str) -> Result<u64, AuditError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM a_raw WHERE check_code = ?",
        [code],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Every check of the catalogue into `a_raw`, with its timing.
///
/// DUP_PERSON's pairing (Rust, reading `a_person` once) runs on a second connection
/// to the same database in a thread of its own, started before the SQL checks, so
/// it works while DuckDB does; its findings are written when the catalogue reaches
/// it (its timing is then the wait for the thread plus the write).
pub fn run_checks(
    conn: &Connection,
    params: &AuditParams,
) -> Result<(Vec<Timing>, dup::DupStats), AuditError> {
    let checks = super::catalogue::active()?;
    let end = dup::as_of_end(conn)?;
    let pairing = if checks.iter().any(|c| c.sql_file.is_none()) {
        Some(conn.try_clone()?)
    } else {
        None
    };
    std::thread::scope(|scope| {
        let mut pending = pairing.map(|c| scope.spawn(move || dup::find(&c, params, end)));
        let mut timings = Vec::new();
        let mut stats = dup::DupStats::default();
        for check in checks {
            let t = Instant::now();
            match check.sql_file {
                Some(_) => {
                    let (sql, label) = sql_text(check.code)?;
                    let body = sql.trim().trim_end_matches(';');
                    let stmt = format!(
                        "INSERT INTO a_raw BY NAME SELECT '{code}' AS check_code, * FROM (\n{body}\n);",
                        code = check.code
                    );
                    conn.execute_batch(&stmt).map_err(|e| AuditError::Check {
                        check: label,
                        source: e,
                    })?;
                }
                // DUP_PERSON, the one check without SQL (catalogue::RUST_CHECKS):
                // its pairing has been running since the start.
                None => {
                    let found = pending
                        .take()
                        .expect("one check without SQL, paired once")
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                    stats = dup::store(conn, found)?;
                }
            }
            timings.push(Timing {
                step: check.code.to_string(),
                seconds: t.elapsed().as_secs_f64(),
                findings: count_of(conn, check.code)?,
            });
        }
        Ok((timings, stats))
    })
}

/// Runs SQL that prepares the checks; a failure is the audit's setup's.
fn run_setup(conn: &Connection, sql: &str) -> Result<(), AuditError> {
    conn.execute_batch(sql).map_err(|e| AuditError::Check {
        check: "setup".into(),
        source: e,
    })
}
