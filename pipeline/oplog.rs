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
//! The finding assignments (核查分派: who is to verify a finding on the spot, and who
//! said so) are a log of the same sort and are stored the same way
//! (`finding_assignment.csv`); their file and views are defined here, beside the
//! operator log, so that the warehouse defines every view of the warehouse without
//! importing the audit, a later stage (the audit's `assign` writes the records).
//!
//! Storage level, like the warehouse: it imports no stage, the CLI or the web
//! server, so every one of them can record through it.

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

/// Who is acting at the command line: $USER (or $USERNAME), else the login name of
/// the process owner.
pub fn current_user() -> String {
    if let Some(u) = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|s| !s.is_empty())
    {
        return u;
    }
    // SAFETY: getpwuid returns a pointer into static storage or null; the name is a
    // NUL-terminated string that we copy before any other call.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            if let Ok(name) = std::ffi::CStr::from_ptr((*pw).pw_name).to_str() {
                if !name.is_empty() {
                    return name.to_string();
                }
            }
        }
    }
    "unknown".into()
}

/// A command-line write, recorded at the command's edge after it succeeded: who is
/// the operating-system user, the detail the command line.
pub fn record_cli(warehouse: &Path, action: &str, subject: &str) -> std::io::Result<()> {
    let who = current_user();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let entry = Entry::new(&who, "", "cli", action)
        .subject(subject)
        .detail(&command);
    append(warehouse, &entry)
}

/// The finding assignments' file in the warehouse (the audit's `assign` appends to it).
pub const ASSIGNMENT_FILE: &str = "finding_assignment.csv";

/// Its columns, in order (the fields of `audit::assign::Assignment`).
pub const ASSIGNMENT_COLUMNS: &str =
    "assigned_at VARCHAR, finding_id VARCHAR, assignee VARCHAR, assigned_by VARCHAR";

/// The SQL of the logs' views (each an empty table when nothing was logged yet):
/// `operator_log`; `finding_assignment` (every assignment) and `finding_assignee`
/// (the latest assignee per finding: the latest line of a finding wins).
pub fn views_sql(warehouse: &Path) -> String {
    format!(
        "{}\n{}\n\
         CREATE VIEW finding_assignee AS SELECT finding_id, arg_max(assignee, assigned_at) AS assignee,
                max(assigned_at) AS assigned_at FROM finding_assignment GROUP BY finding_id;",
        csv_view_sql("operator_log", &path(warehouse), COLUMNS),
        csv_view_sql(
            "finding_assignment",
            &warehouse.join(ASSIGNMENT_FILE),
            ASSIGNMENT_COLUMNS
        ),
    )
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
        crate::query::lit(&file.to_string_lossy())
    )
}
