//! A county's warehouse as a province engine reads it (`pipeline export`): every
//! table a report reads, as it stands for one report month, in a hive-partitioned
//! Parquet layout shared by all counties, and the month's macros as SQL text.
//!
//! ```text
//! DIR/<table>/county=<code>/part-0.parquet    current records, DECIMAL money, DATE dates
//! DIR/_county/<code>/macros-<YYYY-MM>.sql      the engine's macros for that month
//! DIR/_county/<code>/export.json               what was exported, when, from which runs
//! ```
//! The tables are the warehouse's views of current records (kinds and derived
//! tables), and what `prepare` adds for the month (fund flows, the audit catalogue,
//! the basic pension's central part, empty tables where the ledger or the audit has
//! not run): so the report SQL runs on the export unchanged, on DuckDB
//! (`pipeline province`) or on Spark (`spark/province.py`). Versions since replaced,
//! quarantine, the ingest list and the logs stay in the county.
//!
//! A county's partitions are written beside their final place and moved in when all
//! are written; exporting a county again replaces its partitions and nothing else.

use std::path::{Path, PathBuf};

use duckdb::Connection;

use super::{io_err, prepare, ReportError, ReportOptions};

/// What an export wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportSummary {
    pub county: String,
    pub month: String,
    pub exported_at: String,
    /// (table, rows), sorted by name.
    pub tables: Vec<(String, u64)>,
    pub macros: usize,
}

/// Relations of a report session that are not exported: versions and their
/// lineage, quarantine, the list of files ingested, the logs.
fn kept_in_county(name: &str, kinds: &[String]) -> bool {
    let versioned = kinds.iter().any(|k| {
        name.strip_prefix(k.as_str())
            .is_some_and(|rest| rest == "_all" || rest == "_history")
    });
    versioned
        || name.starts_with("_retired_")
        || matches!(
            name,
            "quarantine" | "ingest_file" | "operator_log" | "finding_assignment"
        )
}

/// A county code as a folder name: digits only (a region code, 行政区划代码).
pub fn check_county(county: &str) -> Result<(), ReportError> {
    if county.len() == 6 && county.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ReportError::Usage(format!(
            "the county must be its six-digit region code (行政区划代码, e.g. 411725), not {county:?}"
        )))
    }
}

/// Exports the session's tables for the month of `opts` as county `county` into
/// `dir`. `kinds` are the input kinds (their `_all`/`_history` views stay out).
pub fn export(
    conn: &Connection,
    opts: &ReportOptions,
    kinds: &[String],
    county: &str,
    dir: &Path,
) -> Result<ExportSummary, ReportError> {
    check_county(county)?;
    prepare(conn, opts)?;
    let month = opts.month().format("%Y-%m").to_string();
    let staging = dir.join(format!(".export-{county}-{}", std::process::id()));
    let result = write_staged(conn, kinds, &staging).and_then(|tables| {
        let macros = macros_sql(conn)?;
        let meta = dir.join("_county").join(county);
        std::fs::create_dir_all(&meta).map_err(io_err(&meta))?;
        let summary = ExportSummary {
            county: county.to_string(),
            month: month.clone(),
            exported_at: crate::warehouse::now(),
            tables,
            macros: macros.matches("CREATE OR REPLACE TEMP MACRO").count(),
        };
        super::write_atomic(&meta.join(format!("macros-{month}.sql")), macros.as_bytes())?;
        move_in(&staging, dir, county, &summary.tables)?;
        let json = serde_json::to_vec_pretty(&summary)
            .map_err(|e| ReportError::Usage(format!("export summary: {e}")))?;
        super::write_atomic(&meta.join("export.json"), &json)?;
        Ok(summary)
    });
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Every exported table to `staging/<table>/part-0.parquet`, with its rows.
fn write_staged(
    conn: &Connection,
    kinds: &[String],
    staging: &Path,
) -> Result<Vec<(String, u64)>, ReportError> {
    let names: Vec<String> = {
        let mut st = conn.prepare(
            "SELECT DISTINCT table_name FROM information_schema.tables ORDER BY table_name",
        )?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut out = Vec::new();
    for name in names.into_iter().filter(|n| !kept_in_county(n, kinds)) {
        let folder = staging.join(&name);
        std::fs::create_dir_all(&folder).map_err(io_err(&folder))?;
        let file = folder.join("part-0.parquet");
        let rows: u64 = conn.query_row(
            &format!(
                "COPY (SELECT * FROM \"{name}\") TO {} (FORMAT PARQUET, COMPRESSION ZSTD)",
                crate::warehouse::lit(&file.to_string_lossy())
            ),
            [],
            |r| r.get::<_, i64>(0),
        )? as u64;
        out.push((name, rows));
    }
    Ok(out)
}

/// Moves each staged table into `dir/<table>/county=<code>/`, replacing the county's
/// earlier partition.
fn move_in(
    staging: &Path,
    dir: &Path,
    county: &str,
    tables: &[(String, u64)],
) -> Result<(), ReportError> {
    for (name, _) in tables {
        let to: PathBuf = dir.join(name).join(format!("county={county}"));
        if to.exists() {
            std::fs::remove_dir_all(&to).map_err(io_err(&to))?;
        }
        std::fs::create_dir_all(dir.join(name)).map_err(io_err(dir))?;
        std::fs::rename(staging.join(name), &to).map_err(io_err(&to))?;
    }
    Ok(())
}

/// The session's own macros (the engine's, the masking rules) as DuckDB SQL, in the
/// order DuckDB lists them.
pub fn macros_sql(conn: &Connection) -> Result<String, ReportError> {
    let mut st = conn.prepare(
        "SELECT function_name, array_to_string(parameters, ', '), macro_definition
         FROM duckdb_functions()
         WHERE function_type = 'macro' AND NOT internal AND macro_definition IS NOT NULL
         ORDER BY function_name",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut sql =
        String::from("-- The report engine's macros for one county and month (pipeline export).\n");
    for row in rows {
        let (name, params, body) = row?;
        sql.push_str(&format!(
            "CREATE OR REPLACE TEMP MACRO {name}({params}) AS {body};\n"
        ));
    }
    Ok(sql)
}
