//! The warehouse as the server reads it: one DuckDB session with every view
//! (pipeline/warehouse/views.rs, as the CLI's `sql` sees it), rebuilt when the
//! manifest or the operator log changes, and a cloned connection per request so
//! that requests run side by side.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use duckdb::arrow::util::display::array_value_to_string;
use duckdb::Connection;

use crate::schema::Catalog;
use crate::warehouse::{connect, Warehouse};

use super::WebError;

/// What the session was built from: the manifest (commits), and whether each of the
/// two append-only files the views read exists. Only their existence: a view over
/// an existing CSV reads the file afresh at every query, so an appended line needs
/// no new session — and every page showing a person appends to the operator log,
/// which would otherwise rebuild the session (every view, every Parquet footer) on
/// the next request.
type Stamp = (Option<(SystemTime, u64)>, [bool; 2]);

fn stamp(wh: &Path) -> Stamp {
    let manifest = std::fs::metadata(wh.join("manifest.json"))
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())));
    let exists = [crate::oplog::FILE, crate::audit::assign::FILE].map(|f| wh.join(f).exists());
    (manifest, exists)
}

/// Every table's columns in order: asking DuckDB's information_schema binds every
/// view (reading Parquet footers), so it is asked once per rebuild.
pub type Columns = Arc<std::collections::HashMap<String, Vec<String>>>;

struct Base {
    stamp: Stamp,
    conn: Arc<Mutex<Connection>>,
    columns: Columns,
}

pub struct Db {
    wh: PathBuf,
    catalog: Catalog,
    base: Mutex<Option<Base>>,
    /// A background refresh of the person copies is running.
    refreshing: Arc<AtomicBool>,
}

impl Db {
    pub fn new(wh: &Path, catalog: Catalog) -> Db {
        let db = Db {
            wh: wh.to_path_buf(),
            catalog,
            base: Mutex::new(None),
            refreshing: Arc::new(AtomicBool::new(false)),
        };
        db.refresh_person_copies();
        db
    }

    /// Makes the person copies of the kinds spread over many files (one payout
    /// file a month) in the background: at the start and after each commit the
    /// server sees (an ingest makes a copy stale; the pages read the kind itself
    /// until the new copy is committed). pipeline/warehouse/by_person.rs.
    fn refresh_person_copies(&self) {
        if self.refreshing.swap(true, Ordering::SeqCst) {
            return;
        }
        let (wh, catalog, flag) = (
            self.wh.clone(),
            self.catalog.clone(),
            self.refreshing.clone(),
        );
        std::thread::spawn(move || {
            match crate::warehouse::by_person::refresh(&wh, &catalog) {
                Ok(made) => {
                    for c in made {
                        eprintln!(
                            "pipeline serve: person copy of {} made ({} rows, {:.1} s)",
                            c.kind, c.rows, c.seconds
                        );
                    }
                }
                Err(e) => eprintln!(
                    "pipeline serve: the person copies were not made ({e}); a person's page \
                     reads every file of the kind instead, which is slower"
                ),
            }
            flag.store(false, Ordering::SeqCst);
        });
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// A connection over the warehouse as committed now, with the masking macros.
    pub fn conn(&self) -> Result<Connection, WebError> {
        Ok(self.conn_and_columns()?.0)
    }

    /// A connection, and the columns of every table it sees.
    pub fn conn_and_columns(&self) -> Result<(Connection, Columns), WebError> {
        let now = stamp(&self.wh);
        let (base, columns) = {
            let mut guard = self.base.lock().unwrap_or_else(|e| e.into_inner());
            match &*guard {
                Some(b) if b.stamp == now => (b.conn.clone(), b.columns.clone()),
                stale => {
                    if stale.as_ref().is_some_and(|b| b.stamp.0 != now.0) {
                        self.refresh_person_copies();
                    }
                    let wh = Warehouse::open_read(&self.wh)?;
                    let conn = connect(&wh, &self.catalog)?;
                    // A person's page reads a few rows from every Parquet file of the
                    // partitioned kinds (a payout file per month): keep the files'
                    // footers between requests rather than parse them every time.
                    conn.execute_batch("SET parquet_metadata_cache = true;")?;
                    let mut columns = std::collections::HashMap::<String, Vec<String>>::new();
                    for r in rows(
                        &conn,
                        "SELECT table_name, column_name FROM information_schema.columns
                         WHERE table_schema = 'main' ORDER BY table_name, ordinal_position",
                        &[],
                    )?
                    .rows
                    {
                        columns.entry(r[0].clone()).or_default().push(r[1].clone());
                    }
                    let b = Base {
                        stamp: now,
                        conn: Arc::new(Mutex::new(conn)),
                        columns: Arc::new(columns),
                    };
                    let out = (b.conn.clone(), b.columns.clone());
                    *guard = Some(b);
                    out
                }
            }
        };
        let conn = base.lock().unwrap_or_else(|e| e.into_inner()).try_clone()?;
        crate::mask::install(&conn)?;
        Ok((conn, columns))
    }
}

/// A query's result as text: column names and rows (NULL as an empty string).
#[derive(Debug, Clone, serde::Serialize, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Rows {
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The first row's value of a column.
    pub fn first(&self, name: &str) -> Option<&str> {
        let i = self.col(name)?;
        self.rows.first().map(|r| r[i].as_str())
    }
}

pub fn rows(conn: &Connection, sql: &str, params: &[String]) -> Result<Rows, WebError> {
    let mut stmt = conn.prepare(sql)?;
    let arrow = stmt.query_arrow(duckdb::params_from_iter(params.iter()))?;
    let schema = arrow.get_schema();
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut out = Vec::new();
    for batch in arrow {
        for i in 0..batch.num_rows() {
            let mut row = Vec::with_capacity(columns.len());
            for col in batch.columns() {
                row.push(if col.is_null(i) {
                    String::new()
                } else {
                    array_value_to_string(col, i).unwrap_or_default()
                });
            }
            out.push(row);
        }
    }
    Ok(Rows { columns, rows: out })
}

pub fn scalar(conn: &Connection, sql: &str, params: &[String]) -> Result<String, WebError> {
    Ok(rows(conn, sql, params)?
        .rows
        .first()
        .and_then(|r| r.first().cloned())
        .unwrap_or_default())
}
