//! The reconciliation of a run: each kind's files compared, in file order, with the
//! versions current before the run (docs/rules.md § Record identity and corrections).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::frame;
use super::identity::{self, FileKeys, Index, Retirement};
use super::plan::Step;
use super::read::Read;
use super::IngestError;
use crate::schema::{Catalog, Schema};
use crate::warehouse::{Transaction, Warehouse, WarehouseError};

/// The versions current before this run, for each kind this run reads: what its
/// rows are compared with (docs/rules.md § Record identity and corrections).
pub(super) struct Before {
    pub(super) indexes: HashMap<String, Index>,
    /// A session over the warehouse as it was, to find the stored versions that
    /// corrections retire.
    pub(super) conn: Option<duckdb::Connection>,
}

pub(super) fn current_versions(
    wh: &Warehouse,
    catalog: &Catalog,
    steps: &[Step<'_>],
) -> Result<Before, IngestError> {
    let mut kinds: Vec<&Schema> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Read(job) => Some(job.schema),
            _ => None,
        })
        .collect();
    kinds.sort_by(|a, b| a.kind.cmp(&b.kind));
    kinds.dedup_by(|a, b| a.kind == b.kind);
    let stored: Vec<&Schema> = kinds
        .into_iter()
        .filter(|s| wh.manifest().files_of(&s.kind).any(|f| !f.parts.is_empty()))
        .collect();
    let mut before = Before {
        indexes: HashMap::new(),
        conn: None,
    };
    if stored.is_empty() {
        return Ok(before);
    }
    let conn = crate::warehouse::connect(wh, catalog)?;
    for schema in stored {
        let index = identity::load_index(&conn, schema).map_err(WarehouseError::from)?;
        before.indexes.insert(schema.kind.clone(), index);
    }
    before.conn = Some(conn);
    Ok(before)
}

/// Compares each kind's files, in file order, with the versions current before the
/// run: final new / changed / unchanged / gone counts, rows that only repeat an
/// earlier file of this run removed from the staged parts, and the retired versions
/// written to this run's retirement file.
pub(super) fn settle(
    tx: &mut Transaction,
    reads: &mut BTreeMap<u64, Read>,
    catalog: &Catalog,
    before: &Before,
) -> Result<(), IngestError> {
    let mut by_kind: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (seq, read) in reads.iter() {
        if let Some(entry) = &read.entry {
            by_kind.entry(entry.kind.clone()).or_default().push(*seq);
        }
    }
    let empty = Index::default();
    for (kind, seqs) in by_kind {
        let schema = catalog.get(&kind).map_err(WarehouseError::from)?;
        let files: Vec<(u64, &FileKeys)> = seqs.iter().map(|s| (*s, &reads[s].keys)).collect();
        let (counts, retired) = identity::reconcile(
            &schema.identity,
            before.indexes.get(&kind).unwrap_or(&empty),
            &files,
        );
        let retired = if retired.is_empty() {
            Vec::new()
        } else {
            locate_retired(before, &kind, &files, &retired)?
        };
        drop(files);
        for (seq, c) in seqs.iter().zip(counts) {
            if let Some(read) = reads.get_mut(seq) {
                apply_counts(tx, read, c)?;
            }
        }
        if !retired.is_empty() {
            write_retirements(tx, &kind, &retired)?;
        }
    }
    Ok(())
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
            identity::locate(conn, kind, &wanted).map_err(WarehouseError::from)?
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
