//! A report table: the rows of one report's SQL as typed cells, and its totals row
//! computed exactly (sums in Decimal, ratios from the summed columns).

use chrono::NaiveDate;
use duckdb::types::Value;
use duckdb::Connection;
use rust_decimal::{Decimal, RoundingStrategy};

use super::def::{ColumnDef, Format, ReportDef};
use super::ReportError;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Dec(Decimal),
    Text(String),
    Date(NaiveDate),
}

impl Cell {
    pub(crate) fn from_duckdb(v: Value) -> Cell {
        match v {
            Value::Null => Cell::Null,
            Value::Boolean(b) => Cell::Text(if b { "是" } else { "否" }.into()),
            Value::TinyInt(i) => Cell::Int(i.into()),
            Value::SmallInt(i) => Cell::Int(i.into()),
            Value::Int(i) => Cell::Int(i.into()),
            Value::BigInt(i) => Cell::Int(i),
            Value::UTinyInt(i) => Cell::Int(i.into()),
            Value::USmallInt(i) => Cell::Int(i.into()),
            Value::UInt(i) => Cell::Int(i.into()),
            Value::HugeInt(i) => i64::try_from(i).map_or(Cell::Text(i.to_string()), Cell::Int),
            Value::UBigInt(i) => i64::try_from(i).map_or(Cell::Text(i.to_string()), Cell::Int),
            Value::Decimal(d) => rust_decimal::Decimal::try_from(d)
                .map_or_else(|_| Cell::Text(d.to_string()), Cell::Dec),
            Value::Date32(d) => Cell::Date(crate::domain::calendar::from_epoch_days(d)),
            Value::Text(s) => Cell::Text(s),
            other => Cell::Text(crate::query::value_text(&other)),
        }
    }

    /// The exact number, for sums and ratios.
    pub fn decimal(&self) -> Option<Decimal> {
        match self {
            Cell::Int(i) => Some(Decimal::from(*i)),
            Cell::Dec(d) => Some(*d),
            _ => None,
        }
    }

    /// The cell as written in a CSV (exact; no thousands separators, so Excel reads
    /// numbers as numbers) in the column's format.
    pub fn csv_text(&self, format: Format) -> String {
        match (self, format) {
            (Cell::Null, _) => String::new(),
            (Cell::Text(s), _) => s.clone(),
            (Cell::Date(d), _) => d.format("%Y-%m-%d").to_string(),
            (c, Format::Percent) => c.decimal().map_or_else(String::new, |d| {
                format!("{:.2}%", half_up(d * Decimal::ONE_HUNDRED, 2))
            }),
            (c, Format::Yuan) => c
                .decimal()
                .map_or_else(String::new, |d| format!("{:.2}", half_up(d, 2))),
            (Cell::Int(i), _) => i.to_string(),
            (Cell::Dec(d), _) => d.normalize().to_string(),
        }
    }

    /// The cell as a person reads it (thousands separators, percentages), for the
    /// dashboard and chart labels.
    pub fn display(&self, format: Format) -> String {
        match (self, format) {
            (Cell::Null, _) => "—".into(),
            (c, Format::Yuan) => c.decimal().map_or_else(
                || c.csv_text(format),
                |d| group_thousands(&format!("{:.2}", half_up(d, 2))),
            ),
            (c, Format::Integer) => c.decimal().map_or_else(
                || c.csv_text(format),
                |d| group_thousands(&half_up(d, 0).to_string()),
            ),
            (c, f) => c.csv_text(f),
        }
    }
}

/// Rounds half-up (away from zero) to `dp` places, as the rules require; rust_decimal's
/// own `round_dp` rounds half to even.
pub fn half_up(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// "1234567.50" → "1,234,567.50" (also for negatives).
pub fn group_thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(a, b)| (a, Some(b)));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub def: ReportDef,
    pub rows: Vec<Vec<Cell>>,
    /// The totals row (when the definition asks for one), aligned with the columns.
    pub totals: Option<Vec<Cell>>,
    pub seconds: f64,
}

impl Table {
    pub fn columns(&self) -> &[ColumnDef] {
        &self.def.meta.columns
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| c.name == name)
    }

    /// The cell of the first row in a named column (one-row tables such as the summary).
    pub fn first(&self, name: &str) -> Option<&Cell> {
        let i = self.column_index(name)?;
        self.rows.first().map(|r| &r[i])
    }
}

/// Runs a query and returns its column names and rows as cells; errors name `path`.
pub(crate) fn query_cells(
    conn: &Connection,
    sql: &str,
    path: &std::path::Path,
) -> Result<(Vec<String>, Vec<Vec<Cell>>), ReportError> {
    let sql_err = |source| ReportError::Sql {
        path: path.to_path_buf(),
        source,
    };
    let mut stmt = conn.prepare(sql).map_err(sql_err)?;
    let mut rows_iter = stmt.query([]).map_err(sql_err)?;
    let names: Vec<String> = rows_iter
        .as_ref()
        .map(|s| s.column_names())
        .unwrap_or_default();
    let mut rows = Vec::new();
    while let Some(row) = rows_iter.next().map_err(sql_err)? {
        let mut cells = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            cells.push(Cell::from_duckdb(row.get::<_, Value>(i).map_err(sql_err)?));
        }
        rows.push(cells);
    }
    Ok((names, rows))
}

/// Runs a report's SQL and keeps the columns its metadata names, in that order.
pub fn run(conn: &Connection, def: &ReportDef) -> Result<Table, ReportError> {
    let t = std::time::Instant::now();
    let (names, all) = query_cells(conn, &def.sql, &def.sql_path)?;
    let index: Vec<usize> = def
        .meta
        .columns
        .iter()
        .map(|c| {
            names
                .iter()
                .position(|n| *n == c.name)
                .ok_or_else(|| ReportError::Definition {
                    path: def.sql_path.clone(),
                    message: format!(
                        "the metadata names column {:?} but the SQL returns only {}",
                        c.name,
                        names.join(", ")
                    ),
                })
        })
        .collect::<Result<_, _>>()?;
    let rows: Vec<Vec<Cell>> = all
        .into_iter()
        .map(|mut r| {
            index
                .iter()
                .map(|&i| std::mem::replace(&mut r[i], Cell::Null))
                .collect()
        })
        .collect();
    let totals = def
        .meta
        .totals
        .as_ref()
        .map(|label| totals_row(def, &rows, label));
    Ok(Table {
        def: def.clone(),
        rows,
        totals,
        seconds: t.elapsed().as_secs_f64(),
    })
}

fn column_sum(rows: &[Vec<Cell>], i: usize) -> Decimal {
    rows.iter().filter_map(|r| r[i].decimal()).sum()
}

/// Sums, counts and ratios of sums; the label goes in the first column that has no
/// total of its own.
pub(crate) fn totals_row(def: &ReportDef, rows: &[Vec<Cell>], label: &str) -> Vec<Cell> {
    let cols = &def.meta.columns;
    let pos = |name: &str| cols.iter().position(|c| c.name == name.trim());
    let mut out: Vec<Cell> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| match c.total.as_deref() {
            Some("sum") => match c.format {
                Format::Integer => {
                    Cell::Int(half_up(column_sum(rows, i), 0).try_into().unwrap_or(0))
                }
                _ => Cell::Dec(column_sum(rows, i)),
            },
            Some("count") => Cell::Int(rows.len() as i64),
            Some(ratio) => {
                let (a, b) = ratio.split_once('/').unwrap_or((ratio, ratio));
                match (pos(a), pos(b)) {
                    (Some(a), Some(b)) => {
                        let (n, d) = (column_sum(rows, a), column_sum(rows, b));
                        if d.is_zero() {
                            Cell::Null
                        } else {
                            Cell::Dec(half_up(n / d, 6))
                        }
                    }
                    _ => Cell::Null,
                }
            }
            None => Cell::Null,
        })
        .collect();
    if let Some(i) = cols.iter().position(|c| c.total.is_none()) {
        out[i] = Cell::Text(label.to_string());
    }
    out
}
