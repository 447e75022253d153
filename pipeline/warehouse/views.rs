//! DuckDB over the warehouse: one view per kind (by its kind name), `<kind>_all`
//! for every snapshot of a registry, `quarantine`, `ingest_file`, and the derived
//! tables of later stages.

use duckdb::{params, Connection};

use super::{Warehouse, WarehouseError};
use crate::ingest::validate::output_columns;
use crate::schema::{Catalog, Class, Schema};

/// Quotes a string literal for SQL.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

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
            "\"_file\" VARCHAR",
            "\"_line\" BIGINT",
            "\"_file_seq\" BIGINT",
            "\"_run\" VARCHAR",
        ]
        .map(String::from),
    );
    format!("CREATE TABLE \"{name}\" ({});", cols.join(", "))
}

fn create_kind(conn: &Connection, wh: &Warehouse, schema: &Schema) -> Result<(), WarehouseError> {
    let parts: Vec<String> = wh
        .manifest()
        .files_of(&schema.kind)
        .flat_map(|f| f.parts.iter().cloned())
        .collect();
    let kind = &schema.kind;
    let base = if schema.class == Class::Registry {
        format!("{kind}_all")
    } else {
        kind.clone()
    };
    if parts.is_empty() {
        conn.execute_batch(&empty_table_sql(&base, schema))?;
    } else {
        conn.execute_batch(&format!(
            "CREATE VIEW \"{base}\" AS SELECT * FROM read_parquet({}, union_by_name = true);",
            file_list(wh, &parts)
        ))?;
    }
    if schema.class == Class::Registry {
        // The newest snapshot (highest file sequence) within each snapshot group.
        let by = if schema.snapshot_by.is_empty() {
            String::new()
        } else {
            format!("PARTITION BY {}", schema.snapshot_by.join(", "))
        };
        conn.execute_batch(&format!(
            "CREATE VIEW \"{kind}\" AS SELECT * FROM \"{base}\" \
             QUALIFY _file_seq = max(_file_seq) OVER ({by});"
        ))?;
    }
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
         quarantined BIGINT, flagged BIGINT, ingested_at VARCHAR);",
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
            f.ingested_at
        ])?;
    }
    app.flush()?;
    Ok(())
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
    for (name, parts) in &wh.manifest().derived {
        if !parts.is_empty() {
            conn.execute_batch(&format!(
                "CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet({});",
                file_list(wh, parts)
            ))?;
        }
    }
    Ok(conn)
}
