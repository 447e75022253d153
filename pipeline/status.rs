//! What the warehouse holds: tables, files ingested, quarantine by reason.

use std::io::Write;

use duckdb::Connection;

use crate::query::{self, QueryError};
use crate::schema::{Catalog, Load};
use crate::warehouse::Warehouse;

/// One line per kind: rows, date range, snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct TableStatus {
    pub kind: String,
    pub title: String,
    /// Current records.
    pub rows: u64,
    /// Versions no longer current (corrected, or gone from a snapshot).
    pub history: u64,
    pub from: String,
    pub to: String,
    pub files: usize,
}

pub fn tables(
    wh: &Warehouse,
    catalog: &Catalog,
    conn: &Connection,
) -> Result<Vec<TableStatus>, QueryError> {
    let mut out = Vec::new();
    for s in &catalog.schemas {
        let range = match &s.period {
            Some(p) => format!("CAST(min(\"{p}\") AS VARCHAR), CAST(max(\"{p}\") AS VARCHAR)"),
            None => "NULL::VARCHAR, NULL::VARCHAR".to_string(),
        };
        let (rows, from, to): (i64, Option<String>, Option<String>) = conn.query_row(
            &format!("SELECT count(*), {range} FROM \"{}\"", s.kind),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let history: i64 = conn.query_row(
            &format!("SELECT count(*) FROM \"{}_history\"", s.kind),
            [],
            |r| r.get(0),
        )?;
        out.push(TableStatus {
            kind: s.kind.clone(),
            title: s.title.clone(),
            rows: rows as u64,
            history: history as u64,
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
            files: wh.manifest().files_of(&s.kind).count(),
        });
    }
    Ok(out)
}

/// Thousands separators for counts (statisticians read these).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `text` padded with spaces to `width` terminal columns (a Chinese character takes two).
fn pad_display(text: &str, width: usize) -> String {
    let used: usize = text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

/// The rule parameters in force on `day`: name, Chinese label, value, since when,
/// and any later version already scheduled.
pub fn print_parameters(
    params: &crate::params::Parameters,
    day: chrono::NaiveDate,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "\nRule parameters in force on {} (规则参数) — {}",
        day.format("%Y-%m-%d"),
        params.origin
    )?;
    writeln!(
        out,
        "  {:<28} {:>10}  {:<10}  {}  中文",
        "parameter",
        "value",
        "since",
        pad_display("unit", 30)
    )?;
    for (p, v) in params.in_force(day) {
        let (value, since) = match v {
            Some(v) => (v.value.to_string(), v.from.format("%Y-%m-%d").to_string()),
            None => ("-".to_string(), "not yet".to_string()),
        };
        let later: Vec<String> = p
            .versions
            .iter()
            .filter(|v| v.from > day)
            .map(|v| format!("{} from {}", v.value, v.from.format("%Y-%m-%d")))
            .collect();
        let later = if later.is_empty() {
            String::new()
        } else {
            format!("  (then {})", later.join(", "))
        };
        writeln!(
            out,
            "  {:<28} {:>10}  {:<10}  {}  {}{later}",
            p.name,
            value,
            since,
            pad_display(&p.unit, 30),
            p.zh
        )?;
    }
    Ok(())
}

/// `files: false` leaves out the per-file list (the demo's short form).
pub fn print(
    wh: &Warehouse,
    catalog: &Catalog,
    conn: &Connection,
    files: bool,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let m = wh.manifest();
    writeln!(out, "Warehouse {}", wh.root().display())?;
    match m.runs.last() {
        Some(r) => writeln!(
            out,
            "  {} files from {} runs; last run {} finished {}",
            m.files.len(),
            m.runs.len(),
            r.run_id,
            r.finished_at
        )?,
        None => writeln!(
            out,
            "  empty: nothing ingested yet (run `pipeline ingest PATH...`)"
        )?,
    }
    writeln!(
        out,
        "\nTables (表): rows are the current records; history the versions since corrected or dropped"
    )?;
    writeln!(
        out,
        "  {:<24} {:>12} {:>9} {:>6}  {:<10}  {:<10}  {}",
        "kind", "rows", "history", "files", "from", "to", ""
    )?;
    for t in tables(wh, catalog, conn)? {
        let snapshot = catalog
            .get(&t.kind)
            .is_ok_and(|s| s.identity.load == Load::Snapshot);
        let note = if snapshot { "  (snapshot)" } else { "" };
        writeln!(
            out,
            "  {:<24} {:>12} {:>9} {:>6}  {:<10}  {:<10}  {}{note}",
            t.kind,
            thousands(t.rows),
            thousands(t.history),
            t.files,
            t.from,
            t.to,
            t.title
        )?;
    }
    if files {
        print_files(wh, out)?;
    } else {
        writeln!(
            out,
            "\nFiles ingested: {} (list them with `pipeline status`)",
            m.files.len()
        )?;
    }
    print_refused_and_quarantine(wh, conn, out)
}

fn print_files(wh: &Warehouse, out: &mut dyn Write) -> Result<(), QueryError> {
    let m = wh.manifest();
    writeln!(out, "\nFiles ingested (已导入文件)")?;
    writeln!(
        out,
        "  {:>4}  {:<22} {:>10} {:>10} {:>8} {:>10} {:>6} {:>6}  {:<9} {:<12}  {:<19}  file",
        "seq",
        "kind",
        "read",
        "new",
        "changed",
        "unchanged",
        "quar.",
        "flag",
        "encoding",
        "sha256",
        "ingested at"
    )?;
    for f in &m.files {
        writeln!(
            out,
            "  {:>4}  {:<22} {:>10} {:>10} {:>8} {:>10} {:>6} {:>6}  {:<9} {:<12}  {:<19}  {}",
            f.seq,
            f.kind,
            thousands(f.rows_read),
            thousands(f.new),
            thousands(f.changed),
            thousands(f.unchanged),
            thousands(f.quarantined),
            thousands(f.flagged),
            f.encoding,
            &f.sha256[..12],
            f.ingested_at,
            f.source
        )?;
    }
    Ok(())
}

fn print_refused_and_quarantine(
    wh: &Warehouse,
    conn: &Connection,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let m = wh.manifest();
    let refused: Vec<_> = m
        .runs
        .iter()
        .flat_map(|r| r.refused.iter().map(move |x| (r, x)))
        .collect();
    if !refused.is_empty() {
        writeln!(out, "\nFiles refused (拒收文件)")?;
        for (r, x) in refused {
            writeln!(out, "  {}  {}", r.run_id, x.reason)?;
        }
    }
    writeln!(out, "\nQuarantine by reason (隔离行)")?;
    let (schema, batches) = query::query(
        conn,
        "SELECT code AS reason, count(*) AS rows FROM \
         (SELECT unnest(string_split(reason_codes, ',')) AS code FROM quarantine) \
         GROUP BY code ORDER BY rows DESC, code",
    )?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        writeln!(out, "  none")?;
    } else {
        query::write(schema, &batches, query::Format::Table, out)?;
    }
    Ok(())
}
