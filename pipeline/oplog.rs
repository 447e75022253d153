//! The operator log (操作日志, 实名制): who did what, when — every sign-in (and failed
//! sign-in), every page that showed a person's data, every status change, every
//! export and every command that wrote to the warehouse.
//!
//! Append-only: one CSV record per event in `warehouse/operator_log.csv` (CSV because
//! the bundled DuckDB reads it without an extension), written with a single `write`
//! on a file opened for appending and synced before the action it records is
//! answered, so an entry is never rewritten and a crash can at most leave a torn last
//! line (which the `operator_log` view skips). The warehouse's
//! commit (manifest rename) does not cover it on purpose: a failed write is still an
//! attempt worth recording. Queried as the view `operator_log` (`pipeline sql`).
//!
//! Kept small and free of the CLI and the web server so that a shared command
//! context can call it later from one place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

pub const FILE: &str = "operator_log.csv";

/// The view's columns, in order (the fields of an entry, the file's header).
pub const COLUMNS: &str =
    "logged_at VARCHAR, who VARCHAR, role VARCHAR, channel VARCHAR, action VARCHAR, \
     subject VARCHAR, detail VARCHAR, address VARCHAR";

/// One event. `channel`: `web` or `cli`; `subject`: the person number, finding id or
/// account the action concerned.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Entry {
    pub logged_at: String,
    pub who: String,
    pub role: String,
    pub channel: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub address: String,
}

impl Entry {
    pub fn new(who: &str, role: &str, channel: &str, action: &str) -> Entry {
        Entry {
            logged_at: chrono::Local::now()
                .format("%Y-%m-%d %H:%M:%S%.3f")
                .to_string(),
            who: who.into(),
            role: role.into(),
            channel: channel.into(),
            action: action.into(),
            ..Entry::default()
        }
    }

    pub fn subject(mut self, s: &str) -> Entry {
        self.subject = s.into();
        self
    }

    pub fn detail(mut self, s: &str) -> Entry {
        self.detail = s.into();
        self
    }

    pub fn address(mut self, s: &str) -> Entry {
        self.address = s.into();
        self
    }
}

pub fn path(warehouse: &Path) -> PathBuf {
    warehouse.join(FILE)
}

/// Appends threads of one process one at a time (the OS keeps appends of separate
/// processes whole).
static APPEND: Mutex<()> = Mutex::new(());

/// Appends one entry and syncs it.
pub fn append(warehouse: &Path, entry: &Entry) -> std::io::Result<()> {
    append_records(&path(warehouse), COLUMNS, std::slice::from_ref(entry))
}

/// Appends records to an append-only CSV file with one write, and syncs them; a new
/// file starts with the header (the names of `columns`).
pub fn append_records<T: Serialize>(
    file: &Path,
    columns: &str,
    records: &[T],
) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for r in records {
        w.serialize(r).map_err(std::io::Error::other)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let _guard = APPEND.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    if f.metadata()?.len() == 0 {
        let names: Vec<&str> = columns
            .split(", ")
            .filter_map(|c| c.split(' ').next())
            .collect();
        f.write_all(format!("{}\n", names.join(",")).as_bytes())?;
    }
    f.write_all(&bytes)?;
    f.sync_data()
}

/// A command-line write, recorded at the command's edge after it succeeded: who is
/// the operating-system user, the detail the command line.
pub fn record_cli(warehouse: &Path, action: &str, subject: &str) -> std::io::Result<()> {
    let who = crate::audit::store::current_user();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let entry = Entry::new(&who, "", "cli", action)
        .subject(subject)
        .detail(&command);
    append(warehouse, &entry)
}

/// The SQL of the `operator_log` view (an empty table when nothing was logged yet).
pub fn view_sql(warehouse: &Path) -> String {
    csv_view_sql("operator_log", &path(warehouse), COLUMNS)
}

/// A view over an append-only CSV file with these columns (`name TYPE, …`); a torn
/// last line is skipped. An empty table when the file does not exist yet.
pub fn csv_view_sql(name: &str, file: &Path, columns: &str) -> String {
    if !file.exists() {
        return format!("CREATE TABLE {name} ({columns});");
    }
    let spec = columns
        .split(", ")
        .filter_map(|c| c.split_once(' '))
        .map(|(n, t)| format!("'{n}': '{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "CREATE VIEW {name} AS SELECT * FROM read_csv({}, header = true, delim = ',', quote = '\"', \
         escape = '\"', auto_detect = false, columns = {{{spec}}}, ignore_errors = true);",
        crate::warehouse::lit(&file.to_string_lossy())
    )
}
