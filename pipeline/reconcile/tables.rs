//! The derived tables: `bank_line` from the matched lines, `bank_reconciliation`
//! computed from it in SQL, each written as one zstd Parquet file.

use std::path::Path;

use chrono::NaiveDate;
use duckdb::{params, Connection};

use super::input::{Lines, Matched};
use super::{AccountStatement, ReconcileError};
use crate::query::lit;

/// The tables the stage writes, in this order.
pub const TABLES: [&str; 2] = ["bank_line", "bank_reconciliation"];

const BANK_LINE_COLUMNS: &str = "side VARCHAR, account VARCHAR, account_no VARCHAR, date DATE, \
     direction VARCHAR, amount DECIMAL(18,2), ref VARCHAR, label VARCHAR, file VARCHAR, line BIGINT, \
     match_id BIGINT, match_kind VARCHAR, matched_on DATE";

const RECONCILIATION_COLUMNS: &str = "account VARCHAR, account_no VARCHAR, month DATE, \
     bank_balance DECIMAL(18,2), book_balance DECIMAL(18,2), book_in_not_bank DECIMAL(18,2), \
     book_out_not_bank DECIMAL(18,2), bank_in_not_book DECIMAL(18,2), bank_out_not_book DECIMAL(18,2), \
     bank_side DECIMAL(18,2), book_side DECIMAL(18,2), difference DECIMAL(18,2), has_statement BOOLEAN";

/// Each table's empty definition, for a session where the stage has not run.
pub fn empty_tables() -> [(&'static str, String); 2] {
    let create = |name: &str, columns: &str| format!("CREATE TEMP TABLE {name} ({columns});");
    [
        (TABLES[0], create(TABLES[0], BANK_LINE_COLUMNS)),
        (TABLES[1], create(TABLES[1], RECONCILIATION_COLUMNS)),
    ]
}

/// Fen as an exact decimal literal ("1234.05").
fn yuan(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `r_bank_line`: every book line, then every bank line, in the order read.
pub(super) fn load(conn: &Connection, lines: &Lines, m: &Matched) -> Result<(), duckdb::Error> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE r_bank_line_raw ({});",
        BANK_LINE_COLUMNS.replace("amount DECIMAL(18,2)", "amount VARCHAR")
    ))?;
    {
        let mut app = conn.appender("r_bank_line_raw")?;
        let sides = [
            ("book", &lines.book, &m.book_match),
            ("bank", &lines.bank, &m.bank_match),
        ];
        for (side, ls, matched) in sides {
            for (l, which) in ls.iter().zip(matched.iter()) {
                let n = which.map(|k| &m.matches[k]);
                app.append_row(params![
                    side,
                    l.account,
                    l.account_no,
                    l.date,
                    l.direction,
                    yuan(l.cents),
                    l.reference,
                    l.label,
                    l.file,
                    l.line,
                    n.map(|n| n.id),
                    n.map(|n| n.kind.code()),
                    n.map(|n| n.matched_on),
                ])?;
            }
        }
        app.flush()?;
    }
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE r_bank_line AS
         SELECT * REPLACE (amount::DECIMAL(18,2) AS amount) FROM r_bank_line_raw;
         DROP TABLE r_bank_line_raw;",
    )
}

/// `r_bank_reconciliation`: per fund account and month end from its first
/// statement month to `month` (docs/rules.md § Bank reconciliation).
pub(super) fn reconcile_sql(conn: &Connection, month: NaiveDate) -> Result<(), duckdb::Error> {
    let end = crate::domain::calendar::month_end(month);
    conn.execute_batch(
        &RECONCILIATION_SQL
            .replace("$month", &format!("DATE '{month}'"))
            .replace("$end", &format!("DATE '{end}'")),
    )
}

const RECONCILIATION_SQL: &str = "
CREATE OR REPLACE TEMP TABLE r_bank_reconciliation AS
WITH stmt AS (
    -- Statement lines of the listed account numbers, in the statement's order.
    SELECT ba.account, s.account_no, s.txn_date, s.balance,
           row_number() OVER (PARTITION BY s.account_no
                              ORDER BY s.txn_date, s.period_from NULLS FIRST, s._file, s._line) AS seq
    FROM bank_statement s JOIN bank_account ba USING (account_no)
    WHERE s.txn_date <= $end
), months AS (
    SELECT a.account, a.account_no,
           unnest(generate_series(date_trunc('month', a.first_date)::TIMESTAMP, $month::TIMESTAMP,
                                  INTERVAL 1 MONTH))::DATE AS month
    FROM r_account a WHERE a.first_date IS NOT NULL
), month_last AS (
    SELECT account_no, date_trunc('month', txn_date)::DATE AS month, arg_max(balance, seq) AS balance
    FROM stmt GROUP BY ALL
), numbers AS (
    SELECT DISTINCT account, account_no FROM stmt
), by_number AS (
    -- Each account number's balance at each month end: its last line so far.
    SELECT m.account, m.month,
           last_value(l.balance IGNORE NULLS) OVER (PARTITION BY n.account_no ORDER BY m.month) AS balance
    FROM months m JOIN numbers n USING (account)
    LEFT JOIN month_last l ON l.account_no = n.account_no AND l.month = m.month
), bank AS (
    SELECT account, month, sum(coalesce(balance, 0)) AS bank_balance FROM by_number GROUP BY ALL
), book_flow AS (
    SELECT account, date_trunc('month', txn_date)::DATE AS month,
           sum(CASE WHEN direction = 'in' THEN amount ELSE -amount END) AS net
    FROM fund_ledger
    WHERE txn_date <= $end AND account IN (SELECT account FROM r_account)
    GROUP BY ALL
), book AS (
    SELECT m.account, m.month, coalesce(sum(f.net), 0) AS book_balance
    FROM months m LEFT JOIN book_flow f ON f.account = m.account AND f.month <= m.month
    GROUP BY ALL
), outstanding AS (
    -- A line is outstanding at the ends of the months from its own to the one
    -- before its match's (to the last month when unmatched).
    SELECT account, side, direction, amount,
           unnest(generate_series(date_trunc('month', date)::TIMESTAMP,
                  CASE WHEN match_id IS NULL THEN $month::TIMESTAMP
                       ELSE date_trunc('month', matched_on)::TIMESTAMP - INTERVAL 1 MONTH END,
                  INTERVAL 1 MONTH))::DATE AS month
    FROM r_bank_line
    WHERE match_id IS NULL OR date_trunc('month', matched_on) > date_trunc('month', date)
), items AS (
    SELECT account, month,
           coalesce(sum(amount) FILTER (WHERE side = 'book' AND direction = 'in'), 0) AS book_in_not_bank,
           coalesce(sum(amount) FILTER (WHERE side = 'book' AND direction = 'out'), 0) AS book_out_not_bank,
           coalesce(sum(amount) FILTER (WHERE side = 'bank' AND direction = 'in'), 0) AS bank_in_not_book,
           coalesce(sum(amount) FILTER (WHERE side = 'bank' AND direction = 'out'), 0) AS bank_out_not_book
    FROM outstanding GROUP BY ALL
), covered AS (
    -- Months with a statement: a line dated in them, or a file's period over them.
    SELECT account, date_trunc('month', txn_date)::DATE AS month FROM stmt
    UNION
    SELECT ba.account,
           unnest(generate_series(date_trunc('month', s.period_from)::TIMESTAMP,
                  date_trunc('month', s.period_to)::TIMESTAMP, INTERVAL 1 MONTH))::DATE
    FROM (SELECT DISTINCT account_no, period_from, period_to FROM bank_statement
          WHERE period_from IS NOT NULL AND period_to >= period_from) s
    JOIN bank_account ba USING (account_no)
), joined AS (
    SELECT m.account, m.account_no, m.month,
           b.bank_balance, k.book_balance,
           coalesce(i.book_in_not_bank, 0) AS book_in_not_bank,
           coalesce(i.book_out_not_bank, 0) AS book_out_not_bank,
           coalesce(i.bank_in_not_book, 0) AS bank_in_not_book,
           coalesce(i.bank_out_not_book, 0) AS bank_out_not_book,
           c.month IS NOT NULL AS has_statement
    FROM months m
    JOIN bank b USING (account, month)
    JOIN book k USING (account, month)
    LEFT JOIN items i USING (account, month)
    LEFT JOIN (SELECT DISTINCT account, month FROM covered) c USING (account, month)
)
SELECT account, account_no, month,
       bank_balance::DECIMAL(18,2) AS bank_balance,
       book_balance::DECIMAL(18,2) AS book_balance,
       book_in_not_bank::DECIMAL(18,2) AS book_in_not_bank,
       book_out_not_bank::DECIMAL(18,2) AS book_out_not_bank,
       bank_in_not_book::DECIMAL(18,2) AS bank_in_not_book,
       bank_out_not_book::DECIMAL(18,2) AS bank_out_not_book,
       (bank_balance + book_in_not_bank - book_out_not_bank)::DECIMAL(18,2) AS bank_side,
       (book_balance + bank_in_not_book - bank_out_not_book)::DECIMAL(18,2) AS book_side,
       ((bank_balance + book_in_not_bank - book_out_not_bank)
         - (book_balance + bank_in_not_book - bank_out_not_book))::DECIMAL(18,2) AS difference,
       has_statement
FROM joined
ORDER BY account, month;";

/// Writes `r_<table>` as zstd Parquet at `path` and makes it durable.
pub(super) fn copy_parquet(
    conn: &Connection,
    table: &str,
    path: &Path,
) -> Result<(), ReconcileError> {
    let io = |e| ReconcileError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let order = if table == "bank_line" {
        "account, date, side, direction, file, line"
    } else {
        "account, month"
    };
    conn.execute_batch(&format!(
        "COPY (SELECT * FROM r_{table} ORDER BY {order}) TO {} (FORMAT parquet, COMPRESSION zstd);",
        lit(&path.to_string_lossy())
    ))?;
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    Ok(())
}

/// Each account's statement at the end of `month`, with its matched and
/// outstanding line counts.
pub(super) fn statements(
    conn: &Connection,
    month: NaiveDate,
) -> Result<Vec<AccountStatement>, duckdb::Error> {
    let end = crate::domain::calendar::month_end(month);
    let mut stmt = conn.prepare(&format!(
        "SELECT r.account, r.account_no, r.bank_balance, r.book_balance, r.bank_side, r.book_side,
                r.difference, r.has_statement,
                (SELECT count(*) FROM r_bank_line l WHERE l.account = r.account AND l.date <= DATE '{end}'
                   AND l.matched_on <= DATE '{end}'),
                (SELECT count(*) FROM r_bank_line l WHERE l.account = r.account AND l.date <= DATE '{end}'
                   AND (l.match_id IS NULL OR l.matched_on > DATE '{end}'))
         FROM r_bank_reconciliation r WHERE r.month = DATE '{month}' ORDER BY r.account"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(AccountStatement {
            account: r.get(0)?,
            account_no: r.get(1)?,
            bank_balance: r.get(2)?,
            book_balance: r.get(3)?,
            bank_side: r.get(4)?,
            book_side: r.get(5)?,
            difference: r.get(6)?,
            has_statement: r.get(7)?,
            matched_lines: r.get::<_, i64>(8)? as u64,
            outstanding_lines: r.get::<_, i64>(9)? as u64,
        })
    })?;
    rows.collect()
}
