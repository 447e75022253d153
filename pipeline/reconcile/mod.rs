//! The bank reconciliation (银行对账): the fund's books (`fund_ledger`) against the
//! banks' statements (`bank_statement`, each account number named in
//! `bank_account`), per fund account, through the end of a month; docs/rules.md
//! § Bank reconciliation.
//!
//! - [`matching`]: the engine, pure (one account and direction → matches).
//! - `input`: the lines of both sides, read through DuckDB in a fixed order.
//! - `tables`: the two derived tables, written in one atomic commit:
//!   `bank_line` (every book and bank line with its match) and
//!   `bank_reconciliation` (the statement 银行存款余额调节表 per account and month end).
//!
//! Between the ledger and the audit in the flow: the audit's bank checks read its
//! tables, and `pipeline audit` runs it first when there are bank statements.

mod input;
pub mod matching;
mod tables;

use std::time::Instant;

use chrono::NaiveDate;
use duckdb::Connection;
use rust_decimal::Decimal;

use crate::params::ReconcileParams;
use crate::schema::Catalog;
use crate::warehouse::{connect, now, relation_exists, RunEntry, Warehouse};

pub use tables::{empty_tables, TABLES};

/// Why the reconciliation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("query engine (DuckDB): {0}")]
    Sql(#[from] duckdb::Error),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("bank_batch_max_lines must be at least 2 (a batch has two or more lines), not {0}")]
    BatchBound(u32),
}

/// One fund account's statement at the month end, as the command prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatement {
    pub account: String,
    pub account_no: String,
    pub bank_balance: Decimal,
    pub book_balance: Decimal,
    pub bank_side: Decimal,
    pub book_side: Decimal,
    pub difference: Decimal,
    pub has_statement: bool,
    /// Lines of both sides through the month end that are matched by then.
    pub matched_lines: u64,
    /// Outstanding items (未达账项) at the month end.
    pub outstanding_lines: u64,
}

/// What the reconciliation did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub run_id: String,
    pub month: Option<NaiveDate>,
    /// Rows of `bank_account` and of `bank_statement` (all accounts, all dates).
    pub bank_accounts: u64,
    pub statement_lines: u64,
    /// Statement lines through the month end whose account number `bank_account`
    /// does not list (not reconciled).
    pub unknown_account_lines: u64,
    pub book_lines: u64,
    pub bank_lines: u64,
    /// Matches by kind: one_to_one, many_to_one, one_to_many.
    pub matches: [u64; 3],
    /// Days a batch search skipped because a bound was hit (docs/rules.md).
    pub days_skipped: u64,
    pub accounts: Vec<AccountStatement>,
    pub seconds: f64,
}

impl Report {
    /// Nothing to reconcile: no bank account listed or no statement line.
    pub fn nothing_to_reconcile(&self) -> bool {
        self.bank_accounts == 0 || self.statement_lines == 0
    }
}

/// Reconciles every fund account with a bank account through the end of `month`
/// and commits `bank_line` and `bank_reconciliation` (replacing the last run's).
pub fn run(
    wh: &mut Warehouse,
    catalog: &Catalog,
    month: NaiveDate,
    params: &ReconcileParams,
    command: &str,
) -> Result<Report, ReconcileError> {
    let t0 = Instant::now();
    let started_at = now();
    if params.batch_max_lines < 2 {
        return Err(ReconcileError::BatchBound(params.batch_max_lines));
    }
    let month = crate::domain::calendar::month_start(month);
    let end = crate::domain::calendar::month_end(month);
    let conn = connect(wh, catalog)?;
    let mut report = Report {
        month: Some(month),
        ..Default::default()
    };
    let count = |sql: &str| {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
    };
    report.bank_accounts = count("SELECT count(*) FROM bank_account")?;
    report.statement_lines = count("SELECT count(*) FROM bank_statement")?;
    report.unknown_account_lines = count(&format!(
        "SELECT count(*) FROM bank_statement WHERE txn_date <= DATE '{end}' \
         AND account_no NOT IN (SELECT account_no FROM bank_account)"
    ))?;
    let lines = input::read(&conn, end)?;
    report.book_lines = lines.book.len() as u64;
    report.bank_lines = lines.bank.len() as u64;
    let matched = input::match_all(&lines, params);
    for m in &matched.matches {
        report.matches[m.kind as usize] += 1;
    }
    report.days_skipped = matched.days_skipped;
    tables::load(&conn, &lines, &matched)?;
    tables::reconcile_sql(&conn, month)?;
    let mut tx = wh.begin()?;
    report.run_id = tx.run_id.clone();
    let mut written = Vec::new();
    for table in TABLES {
        let rel = format!("derived/{table}/{}.parquet", tx.run_id);
        let path = tx.stage(&rel);
        if let Err(e) = tables::copy_parquet(&conn, table, &path) {
            tx.abort();
            return Err(e);
        }
        written.push((table, rel));
    }
    for (table, rel) in written {
        tx.replace_derived(table, vec![rel]);
    }
    report.accounts = tables::statements(&conn, month)?;
    let run = RunEntry::derived(
        &report.run_id,
        &format!("{command}{}", params_note(params)),
        started_at,
    );
    tx.commit(wh, run)?;
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}

/// How a run's parameters are written after its command in the manifest: what
/// `current` compares, and what `pipeline status` shows of the run.
fn params_note(params: &ReconcileParams) -> String {
    format!(
        " [window {} days, batches of at most {} lines]",
        params.window_days, params.batch_max_lines
    )
}

/// Whether the stored reconciliation already answers for `month` with `params`:
/// it reaches that month, was made with the same parameters, and no run since has
/// stored files. The audit then reads it as it is instead of writing it again (a
/// run of its own that an audit failing afterwards would leave behind).
pub fn current(
    wh: &Warehouse,
    conn: &Connection,
    month: NaiveDate,
    params: &ReconcileParams,
) -> Result<bool, ReconcileError> {
    let manifest = wh.manifest();
    let Some(part) = manifest.derived.get(TABLES[1]).and_then(|p| p.first()) else {
        return Ok(false);
    };
    let Some(at) = manifest
        .runs
        .iter()
        .position(|r| part.ends_with(&format!("/{}.parquet", r.run_id)))
    else {
        return Ok(false);
    };
    let made_alike = manifest.runs[at].command.ends_with(&params_note(params));
    let nothing_since = manifest.runs[at + 1..].iter().all(|r| r.files.is_empty());
    let month = crate::domain::calendar::month_start(month);
    let reaches: bool = conn.query_row(
        "SELECT coalesce(max(month) = ?, false) FROM bank_reconciliation",
        [month],
        |r| r.get(0),
    )?;
    Ok(made_alike && nothing_since && reaches)
}

/// Whether there is anything for the reconciliation to do or undo: bank statements
/// stored, or an earlier reconciliation's tables (which a new run replaces).
pub fn wanted(wh: &Warehouse, conn: &Connection) -> Result<bool, ReconcileError> {
    let lines: i64 = conn.query_row("SELECT count(*) FROM bank_statement", [], |r| r.get(0))?;
    Ok(lines > 0 || wh.manifest().derived.contains_key(TABLES[0]))
}

/// Empty `bank_line` and `bank_reconciliation` in a session where the
/// reconciliation has not run, so that the checks and reports that read them find
/// nothing rather than fail.
pub fn ensure_tables(conn: &Connection) -> Result<(), duckdb::Error> {
    for (name, create) in empty_tables() {
        if !relation_exists(conn, name)? {
            conn.execute_batch(&create)?;
        }
    }
    Ok(())
}
