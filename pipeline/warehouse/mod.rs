//! The warehouse: Parquet files under one folder, a manifest that says which of
//! them are committed, and DuckDB views over them.
//!
//! Layout:
//! ```text
//! warehouse/
//!   manifest.json          the commit record: files ingested, runs, derived tables
//!   tables/<kind>/[<period>/]f<seq>-<n>.parquet
//!   quarantine/f<seq>.parquet
//!   derived/<table>/...    later stages' tables (ledger, audit, person copies)
//!   .staging/<run>/...     an ingest in progress (removed on the next open)
//!   .lock                  one writer at a time
//!   operator_log.csv, finding_assignment.csv, users.json   the logs and accounts
//! ```
//! `backup` (backup.rs) writes all of it but the lock and staging to one checksummed
//! archive; restore puts it back into an empty folder.
//!
//! A write stages its files, moves them into place, then replaces `manifest.json`
//! by an atomic rename: that rename is the commit. Files not named by the manifest
//! are invisible to queries and are removed on the next open, so a write that
//! fails or is killed half-way leaves the warehouse exactly as it was.

pub mod backup;
pub mod by_person;
pub mod columns;
pub(crate) mod manifest;
mod views;

use std::fs::File;
use std::path::{Path, PathBuf};

pub use manifest::{FileEntry, Manifest, Refusal, RunEntry};
pub use views::{connect, history_sql, lit, relation_exists};

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("warehouse manifest {path} is damaged: {message}; restore it from a backup")]
    Manifest { path: PathBuf, message: String },
    #[error("the warehouse {path} was built by an earlier version of the pipeline (format {found}, this one reads {wanted}): its rows carry no record identity, so new files cannot be compared with them; ingest the original files into a new warehouse (--warehouse NEW_FOLDER)")]
    OldFormat {
        path: PathBuf,
        found: u32,
        wanted: u32,
    },
    #[error("another pipeline command is writing to the warehouse {0}; wait for it to finish")]
    Locked(PathBuf),
    #[error("query engine (DuckDB): {0}")]
    Sql(#[from] duckdb::Error),
    #[error("{0}")]
    Schema(#[from] crate::schema::SchemaError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WarehouseError + '_ {
    move |source| WarehouseError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub struct Warehouse {
    root: PathBuf,
    manifest: Manifest,
    _lock: Option<File>,
}

impl Warehouse {
    /// Opens (creating if needed) for writing: takes the lock and clears what an
    /// interrupted write left behind.
    pub fn open(root: &Path) -> Result<Warehouse, WarehouseError> {
        std::fs::create_dir_all(root).map_err(io(root))?;
        let lock_path = root.join(".lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        // A child process started by this one shares the lock's open file until it
        // execs (close-on-exec), so a lock seen as busy is retried briefly.
        let mut tries = 0;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if tries < 20 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(WarehouseError::Locked(root.to_path_buf()))
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
            }
        }
        let manifest = Manifest::load(root)?;
        let wh = Warehouse {
            root: root.to_path_buf(),
            manifest,
            _lock: Some(lock),
        };
        wh.remove_uncommitted()?;
        Ok(wh)
    }

    /// Opens for reading only (no lock, nothing removed).
    pub fn open_read(root: &Path) -> Result<Warehouse, WarehouseError> {
        Ok(Warehouse {
            root: root.to_path_buf(),
            manifest: Manifest::load(root)?,
            _lock: None,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Starts a write; nothing is visible until `commit`.
    pub fn begin(&self) -> Result<Transaction, WarehouseError> {
        let run_id = format!("run{:05}", self.manifest.runs.len() + 1);
        let staging = self.root.join(".staging").join(&run_id);
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        Ok(Transaction {
            next_seq: self.manifest.next_seq,
            manifest: self.manifest.clone(),
            run_id,
            staging,
            staged: Vec::new(),
            fail_at: std::env::var("PIPELINE_FAIL_AT").ok(),
        })
    }

    /// Files under `tables/` and `quarantine/` not named by the manifest, and any
    /// staging folder, are leftovers of a failed write.
    fn remove_uncommitted(&self) -> Result<(), WarehouseError> {
        let staging = self.root.join(".staging");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        let committed = self.manifest.all_parts();
        for top in ["tables", "quarantine", "derived", "retired"] {
            for path in walk(&self.root.join(top)) {
                let rel = relative(&self.root, &path);
                if !committed.contains(&rel) {
                    std::fs::remove_file(&path).map_err(io(&path))?;
                }
            }
        }
        Ok(())
    }
}

/// The local time a run is stamped with (`2026-12-01 14:05:09`).
pub fn now() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// All files under a folder, recursively, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `root/a/b.parquet` → `a/b.parquet` with forward slashes (stable in the manifest).
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// A write in progress: staged files and the manifest it will commit.
pub struct Transaction {
    pub run_id: String,
    next_seq: u64,
    /// The manifest as it will be after commit.
    pub manifest: Manifest,
    staging: PathBuf,
    staged: Vec<String>,
    /// Test hook: fail at this named point (see `fail_point`).
    pub fail_at: Option<String>,
}

impl Transaction {
    /// A sequence number for the next file of this run.
    pub fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Where to write a file that will live at `rel` (relative to the root).
    pub fn stage(&mut self, rel: &str) -> PathBuf {
        self.staged.push(rel.to_string());
        self.staging.join(rel)
    }

    /// Where a file at `rel` is written before commit, without recording it: files
    /// written by parallel workers are recorded afterwards with `record_staged`.
    pub fn staging_path(&self, rel: &str) -> PathBuf {
        self.staging.join(rel)
    }

    /// Records files written at `staging_path` so that commit moves them into place.
    pub fn record_staged(&mut self, rels: &[String]) {
        self.staged.extend(rels.iter().cloned());
    }

    /// Replaces a derived table (ledger, audit outputs) with these staged files at
    /// commit; the old files become unreferenced and are removed on the next open.
    pub fn replace_derived(&mut self, name: &str, parts: Vec<String>) {
        self.manifest.derived.insert(name.to_string(), parts);
    }

    /// Moves staged files into place and writes the manifest (the commit point).
    /// On any failure, everything moved is removed again.
    pub fn commit(mut self, wh: &mut Warehouse, run: RunEntry) -> Result<(), WarehouseError> {
        self.manifest.next_seq = self.next_seq;
        self.manifest.runs.push(run);
        let mut moved = Vec::new();
        let result = self.move_and_publish(wh, &mut moved);
        if result.is_err() {
            for p in &moved {
                let _ = std::fs::remove_file(p);
            }
        }
        let _ = std::fs::remove_dir_all(&self.staging);
        result
    }

    fn move_and_publish(
        &self,
        wh: &mut Warehouse,
        moved: &mut Vec<PathBuf>,
    ) -> Result<(), WarehouseError> {
        for rel in &self.staged {
            let from = self.staging.join(rel);
            let to = wh.root.join(rel);
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
            }
            std::fs::rename(&from, &to).map_err(io(&to))?;
            moved.push(to);
        }
        self.fail_point("before_manifest")?;
        self.manifest.save(&wh.root)?;
        wh.manifest = self.manifest.clone();
        Ok(())
    }

    /// Test hook: `PIPELINE_FAIL_AT=<point>` (or `fail_at`) makes a write fail at
    /// that point, as a full disk or a killed process would, so that atomicity is
    /// tested end to end. Points: `after_first_file`, `before_manifest`.
    pub fn fail_point(&self, name: &str) -> Result<(), WarehouseError> {
        if self.fail_at.as_deref() == Some(name) {
            return Err(WarehouseError::Io {
                path: PathBuf::from(name),
                source: std::io::Error::other(format!("injected failure at {name}")),
            });
        }
        Ok(())
    }

    /// Abandons the write; the warehouse is untouched.
    pub fn abort(self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}
