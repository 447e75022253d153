//! DuckDB over the warehouse: per kind its current records (by its kind name),
//! `<kind>_all` every version stored and `<kind>_history` the versions replaced or
//! dropped; `quarantine`, `ingest_file`, and the derived tables of later stages.

use duckdb::{params, Connection};

use super::{Warehouse, WarehouseError};
use crate::schema::{output_columns, Catalog, Schema};

pub use crate::query::lit;

fn file_list(wh: &Warehouse, parts: &[String]) -> String {
    let items: Vec<String> = parts
        .iter()
        .map(|p| lit(&wh.root().join(p).to_string_lossy()))
        .collect();
    format!("[{}]", items.join(", "))
}

/// The SQL column list of an empty table with a kind's stored columns.
fn empty_table_sql(name: &str, schema: &Schema) -> String {
    let mut cols: Vec<String> = output_columns(schema)
        .into_iter()
        .map(|(n, t)| format!("\"{n}\" {}", t.sql()))
        .collect();
    cols.extend(
        [
            "\"_key\" VARCHAR",
            "\"_hash\" BIGINT",
            "\"_file\" VARCHAR",
            "\"_line\" BIGINT",
            "\"_file_seq\" BIGINT",
            "\"_run\" VARCHAR",
        ]
        .map(String::from),
    );
    format!("CREATE TABLE \"{name}\" ({});", cols.join(", "))
}

/// Three views per kind (docs/rules.md § Record identity and corrections):
/// `<kind>_all` every version ever stored, `<kind>` the current versions (what
/// every later stage reads), `<kind>_history` the retired versions with why and by
/// which run.
fn create_kind(conn: &Connection, wh: &Warehouse, schema: &Schema) -> Result<(), WarehouseError> {
    let parts: Vec<String> = wh
        .manifest()
        .files_of(&schema.kind)
        .flat_map(|f| f.parts.iter().cloned())
        .collect();
    let kind = &schema.kind;
    let all = format!("{kind}_all");
    if parts.is_empty() {
        conn.execute_batch(&empty_table_sql(&all, schema))?;
    } else {
        conn.execute_batch(&format!(
            "CREATE VIEW \"{all}\" AS SELECT * FROM read_parquet({}, union_by_name = true);",
            file_list(wh, &parts)
        ))?;
    }
    let retired = wh.manifest().retired.get(kind).filter(|r| !r.is_empty());
    let sql = match retired {
        None => format!(
            "CREATE VIEW \"{kind}\" AS SELECT * FROM \"{all}\";
             CREATE VIEW \"{kind}_history\" AS SELECT *, NULL::VARCHAR AS retired_reason, \
               NULL::VARCHAR AS retired_run, NULL::BIGINT AS retired_by_file_seq, \
               NULL::BIGINT AS retired_by_line FROM \"{all}\" WHERE false;"
        ),
        Some(files) => format!(
            "CREATE VIEW \"_retired_{kind}\" AS SELECT * FROM read_parquet({list});
             CREATE VIEW \"{kind}\" AS SELECT * FROM \"{all}\" \
               ANTI JOIN \"_retired_{kind}\" USING (_file_seq, _line);
             CREATE VIEW \"{kind}_history\" AS SELECT a.*, r.retired_reason, r.retired_run, \
               r.retired_by_file_seq, r.retired_by_line \
               FROM \"{all}\" a JOIN \"_retired_{kind}\" r USING (_file_seq, _line);",
            list = file_list(wh, files)
        ),
    };
    conn.execute_batch(&sql)?;
    Ok(())
}

fn create_quarantine(conn: &Connection, wh: &Warehouse) -> Result<(), WarehouseError> {
    let parts: Vec<String> = wh
        .manifest()
        .files
        .iter()
        .filter_map(|f| f.quarantine_part.clone())
        .collect();
    if parts.is_empty() {
        conn.execute_batch(
            "CREATE TABLE quarantine (kind VARCHAR, file VARCHAR, sheet VARCHAR, line BIGINT, raw VARCHAR, \
             reason_codes VARCHAR, reasons VARCHAR, _file_seq BIGINT, _run VARCHAR);",
        )?;
    } else {
        conn.execute_batch(&format!(
            // By name: quarantine files written before the `sheet` column lack it.
            "CREATE VIEW quarantine AS SELECT * FROM read_parquet({}, union_by_name = true);",
            file_list(wh, &parts)
        ))?;
    }
    Ok(())
}

fn create_ingest_file(conn: &Connection, wh: &Warehouse) -> Result<(), WarehouseError> {
    conn.execute_batch(
        "CREATE TABLE ingest_file (seq BIGINT, run_id VARCHAR, kind VARCHAR, source VARCHAR, \
         sha256 VARCHAR, bytes BIGINT, encoding VARCHAR, rows_read BIGINT, accepted BIGINT, \
         quarantined BIGINT, flagged BIGINT, new BIGINT, changed BIGINT, unchanged BIGINT, \
         gone BIGINT, ingested_at VARCHAR);",
    )?;
    let mut app = conn.appender("ingest_file")?;
    for f in &wh.manifest().files {
        app.append_row(params![
            f.seq as i64,
            f.run_id,
            f.kind,
            f.source,
            f.sha256,
            f.bytes as i64,
            f.encoding,
            f.rows_read as i64,
            f.accepted as i64,
            f.quarantined as i64,
            f.flagged as i64,
            f.new as i64,
            f.changed as i64,
            f.unchanged as i64,
            f.gone as i64,
            f.ingested_at
        ])?;
    }
    app.flush()?;
    Ok(())
}

/// Every version of one record (by its `_key`), oldest first: current or why not
/// (replaced by a correction / no longer in the snapshot), and what retired it.
pub fn history_sql(schema: &Schema, key: &str) -> String {
    let kind = &schema.kind;
    format!(
        "SELECT CASE WHEN r._line IS NULL THEN 'current 现行' \
                     WHEN r.retired_reason = 'changed' THEN 'replaced 已更正' \
                     ELSE 'gone 已不在快照' END AS version, \
                a.* EXCLUDE (_key, _hash, _extra, _run), a._run AS stored_by_run, \
                r.retired_run, f.source AS retired_by_file, r.retired_by_line \
         FROM \"{kind}_all\" a \
         LEFT JOIN (SELECT _file_seq, _line, retired_reason, retired_run, retired_by_file_seq, \
                           retired_by_line FROM \"{kind}_history\") r USING (_file_seq, _line) \
         LEFT JOIN ingest_file f ON f.seq = r.retired_by_file_seq \
         WHERE a._key = {} ORDER BY a._file_seq, a._line",
        lit(key)
    )
}

/// Whether a table or view of that name exists in the session (derived tables exist
/// only once their stage has run).
pub fn relation_exists(conn: &Connection, name: &str) -> Result<bool, duckdb::Error> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
        [name],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// An in-memory DuckDB session with every warehouse table defined.
pub fn connect(wh: &Warehouse, catalog: &Catalog) -> Result<Connection, WarehouseError> {
    let conn = Connection::open_in_memory()?;
    for schema in &catalog.schemas {
        create_kind(&conn, wh, schema)?;
    }
    create_quarantine(&conn, wh)?;
    create_ingest_file(&conn, wh)?;
    conn.execute_batch(&crate::oplog::views_sql(wh.root()))?;
    for (name, parts) in &wh.manifest().derived {
        if !parts.is_empty() && !super::by_person::is_stale_copy(wh, name, parts) {
            conn.execute_batch(&format!(
                "CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet({});",
                file_list(wh, parts)
            ))?;
        }
    }
    Ok(conn)
}
