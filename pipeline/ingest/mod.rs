//! Ingest: input files → validated, typed Parquet in the warehouse, every row either
//! accepted or quarantined with its reasons.
//!
//! Reading is streamed (one batch of rows at a time); validation of a batch runs in
//! parallel; accepted rows are written per partition (month or year) so a month's
//! queries read a month's files.

pub mod decode;
pub mod detect;
pub mod frame;
pub mod identity;
pub mod layout;
pub mod source;
pub mod validate;
pub mod value;

mod plan;
mod read;
mod settle;
mod sink;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::schema::Catalog;
use crate::warehouse::{Refusal, RunEntry, Warehouse, WarehouseError};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error("{path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Skip header detection: every file is this kind.
    pub kind: Option<String>,
    /// Commit the readable files even if some are refused (default: refuse all).
    pub skip_bad_files: bool,
    /// Draw a progress bar for long files.
    pub progress: bool,
    /// Test hook, see `Transaction::fail_point`.
    pub fail_at: Option<String>,
    /// The command line, recorded in the run.
    pub command: String,
    /// A line repeating an earlier line of the same file exactly is quarantined
    /// instead of counted once: pre-payment screening must not let a bank file pay
    /// the same line twice.
    pub repeats_are_errors: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FileStatus {
    Ingested {
        seq: u64,
    },
    /// Byte-identical to a file already in the warehouse.
    Unchanged {
        seq: u64,
        ingested_at: String,
    },
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct FileReport {
    pub source: PathBuf,
    pub kind: Option<String>,
    pub status: FileStatus,
    pub encoding: Option<String>,
    pub rows_read: u64,
    pub accepted: u64,
    pub quarantined: u64,
    pub flagged: u64,
    /// Of the accepted rows: records not stored before, new versions of stored
    /// records (corrections), and rows equal to the current version (nothing
    /// stored). `accepted = new + changed + unchanged`.
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Snapshots: current records this file no longer lists (kept in history).
    pub gone: u64,
    /// Lines repeating an earlier line of the same file exactly (one record, counted
    /// once among `unchanged` or `new`).
    pub repeated: u64,
    /// The first few reasons, `line N: message`.
    pub first_reasons: Vec<String>,
    pub extra_columns: Vec<String>,
    /// Facts of the file from a printed report's title block (`账号 622848…`,
    /// `起止日期 2026-09-01 至 2026-09-30`).
    pub facts: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct IngestReport {
    pub run_id: String,
    pub files: Vec<FileReport>,
    /// False when nothing was written (nothing new, or refused files in strict mode).
    pub committed: bool,
    /// Files in the given folders that are not inputs (wrong extension, `_` prefix).
    pub ignored: Vec<PathBuf>,
}

impl IngestReport {
    pub fn refused(&self) -> impl Iterator<Item = &FileReport> {
        self.files
            .iter()
            .filter(|f| matches!(f.status, FileStatus::Refused(_)))
    }
}

/// Rows validated together (in parallel).
pub(crate) const BATCH_ROWS: usize = 65_536;
/// Accepted rows per Parquet file before a partition is flushed.
pub(crate) const ROWS_PER_PART: usize = 262_144;
/// How many reasons a file report keeps for display.
pub(crate) const SHOWN_REASONS: usize = 5;

/// Expands folders (recursively, sorted). Names starting with `_` or `.` are not
/// inputs (the synthetic county's answer key lives in `_truth/`).
pub fn expand_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut inputs = Vec::new();
    let mut ignored = Vec::new();
    for p in paths {
        if p.is_dir() {
            for f in crate::warehouse::walk(p) {
                let rel = f.strip_prefix(p).unwrap_or(&f);
                let hidden = rel.components().any(|c| {
                    let s = c.as_os_str().to_string_lossy();
                    s.starts_with('_') || s.starts_with('.')
                });
                if hidden || !source::is_input_file(&f) {
                    ignored.push(f);
                } else {
                    inputs.push(f);
                }
            }
        } else {
            inputs.push(p.clone());
        }
    }
    (inputs, ignored)
}

pub fn sha256_file(path: &Path) -> Result<(String, u64), std::io::Error> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h)?;
    Ok((format!("{:x}", h.finalize()), n))
}

pub(crate) use crate::warehouse::now;

/// Ingests files and folders in one transaction.
pub fn ingest(
    wh: &mut Warehouse,
    catalog: &Catalog,
    paths: &[PathBuf],
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let started = now();
    let forced = match &opts.kind {
        Some(k) => Some(catalog.get(k).map_err(WarehouseError::from)?),
        None => None,
    };
    let (inputs, ignored) = expand_paths(paths);
    let mut tx = wh.begin()?;
    if opts.fail_at.is_some() {
        tx.fail_at = opts.fail_at.clone();
    }
    let result = plan::plan(&mut tx, catalog, forced, &inputs).and_then(|steps| {
        let before = settle::current_versions(wh, catalog, &steps)?;
        read::read_all(&mut tx, steps, catalog, opts, &before)
    });
    let reports = match result {
        Ok(r) => r,
        Err(e) => {
            tx.abort();
            return Err(e);
        }
    };
    let refused: Vec<Refusal> = reports
        .iter()
        .filter_map(|r| match &r.status {
            FileStatus::Refused(reason) => Some(Refusal {
                source: r.source.display().to_string(),
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    let new_files: Vec<u64> = reports
        .iter()
        .filter_map(|r| match r.status {
            FileStatus::Ingested { seq } => Some(seq),
            _ => None,
        })
        .collect();
    let run_id = tx.run_id.clone();
    if (!refused.is_empty() && !opts.skip_bad_files) || new_files.is_empty() {
        tx.abort();
        return Ok(IngestReport {
            run_id,
            files: reports,
            committed: false,
            ignored,
        });
    }
    let run = RunEntry {
        run_id: run_id.clone(),
        command: opts.command.clone(),
        started_at: started,
        finished_at: now(),
        files: new_files,
        unchanged: reports
            .iter()
            .filter(|r| matches!(r.status, FileStatus::Unchanged { .. }))
            .map(|r| r.source.display().to_string())
            .collect(),
        refused,
    };
    tx.commit(wh, run)?;
    Ok(IngestReport {
        run_id,
        files: reports,
        committed: true,
        ignored,
    })
}

pub(crate) fn refused(path: &Path, kind: Option<&str>, reason: String) -> FileReport {
    FileReport {
        source: path.to_path_buf(),
        kind: kind.map(str::to_string),
        status: FileStatus::Refused(reason),
        encoding: None,
        rows_read: 0,
        accepted: 0,
        quarantined: 0,
        flagged: 0,
        new: 0,
        changed: 0,
        unchanged: 0,
        gone: 0,
        repeated: 0,
        first_reasons: Vec::new(),
        extra_columns: Vec::new(),
        facts: Vec::new(),
    }
}
