//! The two sides' lines, read through DuckDB in one fixed order (account,
//! direction, date, file, line), and the engine run over each account and direction.

use chrono::NaiveDate;
use duckdb::Connection;

use super::matching::{match_lines, Entry, Kind};
use crate::params::ReconcileParams;

/// One line of either side, with where it came from.
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub account: String,
    pub account_no: String,
    pub date: NaiveDate,
    /// "in" or "out".
    pub direction: String,
    /// Fen, > 0.
    pub cents: i64,
    /// voucher_no (book) or bank_ref (bank).
    pub reference: String,
    /// Category (book) or summary (bank).
    pub label: String,
    pub file: String,
    pub line: i64,
}

pub(super) struct Lines {
    pub book: Vec<Line>,
    pub bank: Vec<Line>,
}

/// Every match of the run, numbered, and what each line got.
pub(super) struct Matched {
    pub matches: Vec<Numbered>,
    /// Per book line and per bank line: the index of its match in `matches`.
    pub book_match: Vec<Option<usize>>,
    pub bank_match: Vec<Option<usize>>,
    pub days_skipped: u64,
}

pub(super) struct Numbered {
    pub id: i64,
    pub kind: Kind,
    /// The latest date among its lines.
    pub matched_on: NaiveDate,
}

/// The fund accounts with a bank account: their account numbers (joined when a fund
/// account has several) and the date of their first statement line, from which on
/// their book lines are matched.
const ACCOUNTS: &str = "
    CREATE OR REPLACE TEMP TABLE r_account AS
    SELECT ba.account,
           string_agg(ba.account_no, ', ' ORDER BY ba.account_no) AS account_no,
           min(s.first_date) AS first_date
    FROM bank_account ba
    LEFT JOIN (SELECT account_no, min(txn_date) AS first_date FROM bank_statement
               WHERE txn_date <= $end GROUP BY account_no) s USING (account_no)
    GROUP BY ba.account;";

/// Book lines: fund_ledger of those accounts from their first statement date.
const BOOK: &str = "
    SELECT f.account, a.account_no, f.txn_date, f.direction, (f.amount * 100)::BIGINT,
           coalesce(f.voucher_no, ''), coalesce(f.category, ''), f._file, f._line
    FROM fund_ledger f JOIN r_account a USING (account)
    WHERE a.first_date IS NOT NULL AND f.txn_date >= a.first_date
      AND f.txn_date <= $end AND f.amount > 0
    ORDER BY f.account, f.direction, f.txn_date, f._file, f._line";

/// Bank lines: statement lines of the listed account numbers; the direction and
/// amount from coalesce(income, 0) − coalesce(expense, 0) (a line with neither
/// moves no money and is not matched).
const BANK: &str = "
    SELECT account, account_no, txn_date,
           CASE WHEN net > 0 THEN 'in' ELSE 'out' END AS direction, (abs(net) * 100)::BIGINT,
           coalesce(bank_ref, ''), coalesce(summary, ''), _file, _line
    FROM (SELECT ba.account, s.*, coalesce(s.income, 0) - coalesce(s.expense, 0) AS net
          FROM bank_statement s JOIN bank_account ba USING (account_no)
          WHERE s.txn_date <= $end)
    WHERE net <> 0
    ORDER BY account, direction, txn_date, _file, _line";

pub(super) fn read(conn: &Connection, end: NaiveDate) -> Result<Lines, duckdb::Error> {
    let with_end = |sql: &str| sql.replace("$end", &format!("DATE '{end}'"));
    conn.execute_batch(&with_end(ACCOUNTS))?;
    Ok(Lines {
        book: query(conn, &with_end(BOOK))?,
        bank: query(conn, &with_end(BANK))?,
    })
}

fn query(conn: &Connection, sql: &str) -> Result<Vec<Line>, duckdb::Error> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(Line {
            account: r.get(0)?,
            account_no: r.get(1)?,
            date: r.get(2)?,
            direction: r.get(3)?,
            cents: r.get(4)?,
            reference: r.get(5)?,
            label: r.get(6)?,
            file: r.get(7)?,
            line: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// The runs of lines with the same (account, direction): start and end indexes.
fn runs(lines: &[Line]) -> Vec<((&str, &str), std::ops::Range<usize>)> {
    let mut out: Vec<((&str, &str), std::ops::Range<usize>)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let key = (l.account.as_str(), l.direction.as_str());
        match out.last_mut() {
            Some((k, r)) if *k == key => r.end = i + 1,
            _ => out.push((key, i..i + 1)),
        }
    }
    out
}

/// The engine over each (account, direction), in that order; matches numbered
/// from 1 in the order found.
pub(super) fn match_all(lines: &Lines, p: &ReconcileParams) -> Matched {
    let book_runs = runs(&lines.book);
    let bank_runs = runs(&lines.bank);
    let mut keys: Vec<(&str, &str)> = book_runs
        .iter()
        .chain(&bank_runs)
        .map(|(k, _)| *k)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let range_of = |runs: &[((&str, &str), std::ops::Range<usize>)], key| {
        runs.iter()
            .find(|(k, _)| *k == key)
            .map_or(0..0, |(_, r)| r.clone())
    };
    let mut out = Matched {
        matches: Vec::new(),
        book_match: vec![None; lines.book.len()],
        bank_match: vec![None; lines.bank.len()],
        days_skipped: 0,
    };
    let entries = |ls: &[Line]| -> Vec<Entry> {
        ls.iter()
            .map(|l| Entry {
                date: l.date,
                cents: l.cents,
            })
            .collect()
    };
    for key in keys {
        let (br, kr) = (range_of(&book_runs, key), range_of(&bank_runs, key));
        let book = &lines.book[br.clone()];
        let bank = &lines.bank[kr.clone()];
        let (matches, bounds) = match_lines(&entries(book), &entries(bank), p);
        out.days_skipped += bounds.days_skipped;
        for m in matches {
            let n = out.matches.len();
            let dates = m
                .book
                .iter()
                .map(|&i| book[i].date)
                .chain(m.bank.iter().map(|&j| bank[j].date));
            let matched_on = dates.max().expect("a match has lines");
            for &i in &m.book {
                out.book_match[br.start + i] = Some(n);
            }
            for &j in &m.bank {
                out.bank_match[kr.start + j] = Some(n);
            }
            out.matches.push(Numbered {
                id: n as i64 + 1,
                kind: m.kind,
                matched_on,
            });
        }
    }
    out
}
