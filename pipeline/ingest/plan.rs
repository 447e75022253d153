//! The plan of a run: every input hashed, the ones already stored skipped, the rest
//! opened, recognised and numbered in input order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use rayon::prelude::*;

use super::layout::Fact;
use super::source::Source;
use super::{detect, refused, sha256_file, FileReport, FileStatus, IngestError};
use crate::schema::{Catalog, Schema};
use crate::warehouse::{FileEntry, Transaction};

/// A file whose kind is known and whose sequence number is taken: ready to read.
pub(super) struct Job<'c> {
    pub(super) path: PathBuf,
    pub(super) sha: String,
    pub(super) bytes: u64,
    pub(super) src: Source,
    pub(super) counter: Arc<AtomicU64>,
    pub(super) schema: &'c Schema,
    pub(super) map: detect::HeaderMap,
    /// Facts of the file from its title block (none for a plain table).
    pub(super) facts: Vec<Fact>,
    pub(super) seq: u64,
}

/// What the plan decided for one input, in input order.
pub(super) enum Step<'c> {
    /// Refused, or byte-identical to a file already in the warehouse.
    Done(FileReport),
    /// Byte-identical to an earlier input of this same run (known once that is read).
    SameAs(PathBuf, u64),
    Read(Box<Job<'c>>),
}

/// Hashes every input (in parallel: it reads every byte), skips the ones already
/// stored, opens the rest and recognises their kind, and numbers them in input order
/// so that the warehouse's file numbers do not depend on which thread reads first.
pub(super) fn plan<'c>(
    tx: &mut Transaction,
    catalog: &'c Catalog,
    forced: Option<&'c Schema>,
    inputs: &[PathBuf],
) -> Result<Vec<Step<'c>>, IngestError> {
    let hashes: Vec<Result<(String, u64), IngestError>> = inputs
        .par_iter()
        .map(|p| {
            sha256_file(p).map_err(|source| IngestError::Io {
                path: p.clone(),
                source,
            })
        })
        .collect();
    let mut this_run: HashMap<String, u64> = HashMap::new();
    let mut steps = Vec::with_capacity(inputs.len());
    for (path, hash) in inputs.iter().zip(hashes) {
        let (sha, bytes) = hash?;
        // Skipped before a row is parsed only when that is provably what reading it
        // would give: the same bytes stored under the same definition of its kind. A
        // changed definition (a new rule, a renamed column) reads the file again, and
        // the record identity stores only the rows whose outcome changed.
        if let Some(prev) = tx
            .manifest
            .by_sha(&sha)
            .filter(|prev| skip_stored(tx, catalog, prev))
        {
            let mut r = refused(path, Some(&prev.kind), String::new());
            r.status = FileStatus::Unchanged {
                seq: prev.seq,
                ingested_at: prev.ingested_at.clone(),
            };
            steps.push(Step::Done(r));
            continue;
        }
        if let Some(seq) = this_run.get(&sha) {
            steps.push(Step::SameAs(path.clone(), *seq));
            continue;
        }
        match open_and_detect(catalog, forced, path) {
            Err(r) => steps.push(Step::Done(r)),
            Ok((src, counter, schema, map, facts)) => {
                let seq = tx.take_seq();
                this_run.insert(sha.clone(), seq);
                steps.push(Step::Read(Box::new(Job {
                    path: path.clone(),
                    sha,
                    bytes,
                    src,
                    counter,
                    schema,
                    map,
                    facts,
                    seq,
                })));
            }
        }
    }
    Ok(steps)
}

/// Whether a stored byte-identical file may be skipped without reading it: its kind
/// is defined today exactly as when it was read, or it is a snapshot that a later file
/// of its kind has replaced (read again it would become the newest and roll the
/// current set back, so it stays skipped whatever changed).
fn skip_stored(tx: &Transaction, catalog: &Catalog, prev: &FileEntry) -> bool {
    let Ok(schema) = catalog.get(&prev.kind) else {
        return false;
    };
    schema.digest == prev.schema_sha256
        || (schema.identity.load == crate::schema::Load::Snapshot
            && tx.manifest.files_of(&prev.kind).any(|f| f.seq > prev.seq))
}

type Opened<'c> = (
    Source,
    Arc<AtomicU64>,
    &'c Schema,
    detect::HeaderMap,
    Vec<Fact>,
);

/// Opens a file and maps its header to a kind (the forced one, or recognised);
/// a file that cannot be read or recognised is refused with what was expected.
pub(super) fn open_and_detect<'c>(
    catalog: &'c Catalog,
    forced: Option<&'c Schema>,
    path: &Path,
) -> Result<Opened<'c>, FileReport> {
    let counter = Arc::new(AtomicU64::new(0));
    let mut src =
        Source::open(path, counter.clone()).map_err(|e| refused(path, None, e.to_string()))?;
    let file_name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let head = src.head();
    let located = detect::locate(catalog, forced, &head, &file_name).map_err(|(at, msg)| {
        let reason = format!(
            "{} (header on {}): {msg}",
            path.display(),
            super::source::place(src.sheet.as_deref(), head[at].line)
        );
        refused(path, None, reason)
    })?;
    let detect::Located {
        schema,
        map,
        at,
        facts,
    } = located;
    // The rows above the header are the title block: not records.
    src.use_header(at);
    if !map.missing_required.is_empty() {
        let reason = format!(
            "{}: missing required column(s) {} for kind {}",
            path.display(),
            map.missing_required.join(", "),
            schema.kind
        );
        return Err(refused(path, Some(&schema.kind), reason));
    }
    Ok((src, counter, schema, map, facts))
}
