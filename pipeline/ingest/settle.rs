//! The reconciliation of a run: each kind's files compared, in file order, with the
//! versions current before the run (docs/rules.md § Record identity and corrections).
//!
//! A kind is settled as soon as its last file of the run is read, and its index of
//! current versions and its files' key lists are dropped then: at a million persons
//! a re-sent county's indexes and key lists, all held to the end, were over 4 GB.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::frame;
use super::identity::{self, FileKeys, Index, Retirement};
use super::plan::Step;
use super::read::Read;
use super::IngestError;
use crate::schema::{Catalog, Schema};
use crate::warehouse::{Transaction, Warehouse, WarehouseError};

/// The versions current before this run, for each kind this run reads: what its
/// rows are compared with (docs/rules.md § Record identity and corrections). A
/// kind's index is read from the warehouse when the run's first file of that kind
/// starts, and released when the kind is settled.
pub(super) struct Before {
    /// The kinds this run reads that have stored records.
    stored: HashSet<String>,
    loaded: Mutex<HashMap<String, Arc<Index>>>,
    /// A session over the warehouse as it was: the indexes, and the stored versions
    /// that corrections retire.
    conn: Option<Mutex<duckdb::Connection>>,
}

fn poisoned() -> IngestError {
    IngestError::Write {
        path: PathBuf::from("(ingest workers)"),
        message: "a reading thread failed".into(),
    }
}

impl Before {
    /// The kind's current versions (empty when nothing of it is stored).
    pub(super) fn index(&self, schema: &Schema) -> Result<Arc<Index>, IngestError> {
        let Some(conn) = self
            .conn
            .as_ref()
            .filter(|_| self.stored.contains(&schema.kind))
        else {
            return Ok(Arc::new(Index::default()));
        };
        // Loaded under the lock: the other reader waits for it rather than loading
        // the same kind twice.
        let mut loaded = self.loaded.lock().map_err(|_| poisoned())?;
        if let Some(index) = loaded.get(&schema.kind) {
            return Ok(Arc::clone(index));
        }
        let conn = conn.lock().map_err(|_| poisoned())?;
        let index = Arc::new(identity::load_index(&conn, schema).map_err(WarehouseError::from)?);
        loaded.insert(schema.kind.clone(), Arc::clone(&index));
        Ok(index)
    }

    fn release(&self, kind: &str) {
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.remove(kind);
        }
    }
}

pub(super) fn current_versions(
    wh: &Warehouse,
    catalog: &Catalog,
    steps: &[Step<'_>],
) -> Result<Before, IngestError> {
    let stored: HashSet<String> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Read(job) => Some(&job.schema.kind),
            _ => None,
        })
        .filter(|kind| wh.manifest().files_of(kind).any(|f| !f.parts.is_empty()))
        .cloned()
        .collect();
    let conn = if stored.is_empty() {
        None
    } else {
        Some(Mutex::new(crate::warehouse::connect(wh, catalog)?))
    };
    Ok(Before {
        stored,
        loaded: Mutex::new(HashMap::new()),
        conn,
    })
}

/// Settles one kind once all its files of the run are read: compares them, in file
/// order, with the versions current before the run (final new / changed /
/// unchanged / gone counts; rows that only repeat an earlier file of this run
/// removed from the staged parts), then drops the kind's index and key lists.
/// Returns the versions the kind's files retire, for the run's retirement file.
pub(super) fn settle_kind(
    tx: &Transaction,
    schema: &Schema,
    reads: &mut [(u64, Read)],
    before: &Before,
) -> Result<Vec<identity::Retired>, IngestError> {
    reads.sort_by_key(|(seq, _)| *seq);
    let stored = |r: &Read| r.entry.is_some();
    let files: Vec<(u64, &FileKeys)> = reads
        .iter()
        .filter(|(_, r)| stored(r))
        .map(|(seq, r)| (*seq, &r.keys))
        .collect();
    let mut retired_rows = Vec::new();
    if !files.is_empty() {
        let index = before.index(schema)?;
        let (counts, retired) = identity::reconcile(&schema.identity, &index, &files);
        if !retired.is_empty() {
            retired_rows = locate_retired(before, &schema.kind, &files, &retired)?;
        }
        drop(files);
        let kept = reads.iter_mut().filter(|(_, r)| stored(r));
        for ((_, read), c) in kept.zip(counts) {
            apply_counts(tx, read, c)?;
        }
    }
    for (_, read) in reads.iter_mut() {
        read.keys = FileKeys::default();
    }
    before.release(&schema.kind);
    Ok(retired_rows)
}

/// The stored rows of the versions this run retires: those stored by this run are
/// known; those stored before are found by their key.
pub(super) fn locate_retired(
    before: &Before,
    kind: &str,
    files: &[(u64, &FileKeys)],
    retired: &[Retirement],
) -> Result<Vec<identity::Retired>, IngestError> {
    let texts: identity::KeyMap<&str> = files
        .iter()
        .flat_map(|(_, k)| k.corrections.iter().map(|(id, t)| (*id, t.as_str())))
        .collect();
    let wanted: Vec<&str> = retired
        .iter()
        .filter_map(|r| match r.target {
            identity::Target::Before(key) => texts.get(&key).copied(),
            identity::Target::Stored { .. } => None,
        })
        .collect();
    let located = match (&before.conn, wanted.is_empty()) {
        (Some(conn), false) => {
            let conn = conn.lock().map_err(|_| poisoned())?;
            identity::locate(&conn, kind, &wanted).map_err(WarehouseError::from)?
        }
        _ => identity::KeyMap::default(),
    };
    identity::resolve(retired, &located).map_err(|key| IngestError::Write {
        path: PathBuf::from(format!("tables/{kind}")),
        message: format!(
            "a corrected {kind} record ({}) has no stored version to replace; the warehouse may be damaged",
            texts.get(&key).copied().unwrap_or("?")
        ),
    })
}

pub(super) fn apply_counts(
    tx: &Transaction,
    read: &mut Read,
    c: identity::FileCounts,
) -> Result<(), IngestError> {
    let unchanged = c.unchanged + read.repeats;
    if let Some(entry) = read.entry.as_mut() {
        if !c.drop_lines.is_empty() {
            let dropped = drop_staged_lines(tx, &entry.parts, &c.drop_lines)?;
            entry.parts.retain(|p| !dropped.contains(p));
            read.staged.retain(|p| !dropped.contains(p));
        }
        entry.new = c.new;
        entry.changed = c.changed;
        entry.unchanged = unchanged;
        entry.gone = c.gone;
        // Nothing is lost: every accepted row is new, changed or unchanged.
        assert_eq!(
            entry.accepted,
            c.new + c.changed + unchanged,
            "identity accounting"
        );
    }
    let r = &mut read.report;
    (r.new, r.changed, r.unchanged, r.gone) = (c.new, c.changed, unchanged, c.gone);
    Ok(())
}

/// Removes lines from a file's staged parts; returns the parts left empty (deleted).
pub(super) fn drop_staged_lines(
    tx: &Transaction,
    parts: &[String],
    lines: &[u64],
) -> Result<Vec<String>, IngestError> {
    let drop: std::collections::HashSet<i64> = lines.iter().map(|l| *l as i64).collect();
    let mut emptied = Vec::new();
    for rel in parts {
        let path = tx.staging_path(rel);
        let left = frame::without_lines(&path, &drop).map_err(|message| IngestError::Write {
            path: path.clone(),
            message,
        })?;
        if !left {
            emptied.push(rel.clone());
        }
    }
    Ok(emptied)
}

/// This run's retired versions of a kind: `retired/<kind>/<run>.parquet`.
pub(super) fn write_retirements(
    tx: &mut Transaction,
    kind: &str,
    retired: &[identity::Retired],
) -> Result<(), IngestError> {
    let rel = format!("retired/{kind}/{}.parquet", tx.run_id);
    let path = tx.stage(&rel);
    let mut df = frame::retirement_frame(retired, &tx.run_id).map_err(|e| IngestError::Write {
        path: path.clone(),
        message: e.to_string(),
    })?;
    frame::write_parquet(&mut df, &path).map_err(|message| IngestError::Write { path, message })?;
    tx.manifest
        .retired
        .entry(kind.to_string())
        .or_default()
        .push(rel);
    Ok(())
}
