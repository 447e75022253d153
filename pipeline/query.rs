//! Running SQL over the warehouse and printing the result as a table, CSV or JSON.

use std::io::Write;

use duckdb::arrow::record_batch::RecordBatch;
use duckdb::Connection;

/// Quotes a string literal for SQL.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("the query failed: {0}")]
    Sql(#[from] duckdb::Error),
    #[error("cannot format the result: {0}")]
    Format(#[from] arrow::error::ArrowError),
    #[error("cannot write the result: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Runs one query and collects its result.
pub fn query(
    conn: &Connection,
    sql: &str,
) -> Result<(duckdb::arrow::datatypes::SchemaRef, Vec<RecordBatch>), QueryError> {
    let mut stmt = conn.prepare(sql)?;
    let arrow = stmt.query_arrow([])?;
    let schema = arrow.get_schema();
    let batches: Vec<RecordBatch> = arrow.collect();
    Ok((schema, batches))
}

/// Writes batches in the chosen format. CSV has a header row and plain values
/// (money as `1234.50`, dates as `2024-03-01`) for scripts.
pub fn write(
    schema: duckdb::arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
    format: Format,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    match format {
        Format::Table => {
            let text = arrow::util::pretty::pretty_format_batches_with_schema(schema, batches)?;
            writeln!(out, "{text}")?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            if batches.is_empty() {
                // Still print the header so scripts see the columns.
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                drop(w);
                writeln!(out, "{}", names.join(","))?;
            } else {
                for b in batches {
                    w.write(b)?;
                }
            }
        }
        Format::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// A single scalar (first column of the first row), as text.
pub fn scalar(conn: &Connection, sql: &str) -> Result<String, QueryError> {
    let v: duckdb::types::Value = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(value_text(&v))
}

pub fn value_text(v: &duckdb::types::Value) -> String {
    use duckdb::types::Value;
    match v {
        Value::Null => String::new(),
        Value::Boolean(b) => b.to_string(),
        Value::TinyInt(i) => i.to_string(),
        Value::SmallInt(i) => i.to_string(),
        Value::Int(i) => i.to_string(),
        Value::BigInt(i) => i.to_string(),
        Value::HugeInt(i) => i.to_string(),
        Value::UTinyInt(i) => i.to_string(),
        Value::USmallInt(i) => i.to_string(),
        Value::UInt(i) => i.to_string(),
        Value::UBigInt(i) => i.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Text(s) => s.clone(),
        Value::Date32(d) => crate::domain::calendar::from_epoch_days(*d).to_string(),
        other => format!("{other:?}"),
    }
}
