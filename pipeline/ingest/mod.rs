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
pub mod source;
pub mod validate;
pub mod value;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Datelike;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::schema::Load;
use crate::schema::{Catalog, Schema};
use crate::warehouse::{FileEntry, Refusal, RunEntry, Transaction, Warehouse, WarehouseError};
use frame::{Builder, Lineage};
use identity::{FileKeys, Index, KeyPlan, Retirement, StoredRow};
use source::{RawRow, Source};
use validate::{Cell, Outcome, Quarantined, Reason, Validator};

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
const BATCH_ROWS: usize = 65_536;
/// Accepted rows per Parquet file before a partition is flushed.
const ROWS_PER_PART: usize = 262_144;
/// How many reasons a file report keeps for display.
const SHOWN_REASONS: usize = 5;

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

fn now() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

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
    let result = plan(&mut tx, catalog, forced, &inputs).and_then(|steps| {
        let before = current_versions(wh, catalog, &steps)?;
        read_all(&mut tx, steps, catalog, opts, &before)
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

/// The versions current before this run, for each kind this run reads: what its
/// rows are compared with (docs/rules.md § Record identity and corrections).
struct Before {
    indexes: HashMap<String, Index>,
    /// A session over the warehouse as it was, to find the stored versions that
    /// corrections retire.
    conn: Option<duckdb::Connection>,
}

fn current_versions(
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

fn refused(path: &Path, kind: Option<&str>, reason: String) -> FileReport {
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
    }
}

/// A file whose kind is known and whose sequence number is taken: ready to read.
struct Job<'c> {
    path: PathBuf,
    sha: String,
    bytes: u64,
    src: Source,
    counter: Arc<AtomicU64>,
    schema: &'c Schema,
    map: detect::HeaderMap,
    seq: u64,
}

/// What the plan decided for one input, in input order.
enum Step<'c> {
    /// Refused, or byte-identical to a file already in the warehouse.
    Done(FileReport),
    /// Byte-identical to an earlier input of this same run (known once that is read).
    SameAs(PathBuf, u64),
    Read(Box<Job<'c>>),
}

/// Hashes every input (in parallel: it reads every byte), skips the ones already
/// stored, opens the rest and recognises their kind, and numbers them in input order
/// so that the warehouse's file numbers do not depend on which thread reads first.
fn plan<'c>(
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
        if let Some(prev) = tx.manifest.by_sha(&sha) {
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
            Ok((src, counter, schema, map)) => {
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
                    seq,
                })));
            }
        }
    }
    Ok(steps)
}

type Opened<'c> = (Source, Arc<AtomicU64>, &'c Schema, detect::HeaderMap);

/// Opens a file and maps its header to a kind (the forced one, or recognised);
/// a file that cannot be read or recognised is refused with what was expected.
fn open_and_detect<'c>(
    catalog: &'c Catalog,
    forced: Option<&'c Schema>,
    path: &Path,
) -> Result<Opened<'c>, FileReport> {
    let counter = Arc::new(AtomicU64::new(0));
    let src =
        Source::open(path, counter.clone()).map_err(|e| refused(path, None, e.to_string()))?;
    let file_name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let (schema, map) = match forced {
        Some(s) => {
            let m = detect::map_header(s, &src.header);
            if !m.missing_required.is_empty() {
                let reason = format!(
                    "{}: missing required column(s) {} for kind {}",
                    path.display(),
                    m.missing_required.join(", "),
                    s.kind
                );
                return Err(refused(path, Some(&s.kind), reason));
            }
            (s, m)
        }
        None => detect::detect(catalog, &src.header, &file_name).map_err(|msg| {
            let reason = format!(
                "{} (header on {}): {msg}",
                path.display(),
                src.header_place()
            );
            refused(path, None, reason)
        })?,
    };
    Ok((src, counter, schema, map))
}

/// One file read: its report, and (when stored) its manifest entry and staged files.
struct Read {
    report: FileReport,
    entry: Option<FileEntry>,
    staged: Vec<String>,
    /// What the file said about its records, for the reconciliation.
    keys: FileKeys,
    /// Lines repeating an earlier line of the same file exactly.
    repeats: u64,
}

/// Reads the planned files, several at a time (each on its own thread: CSV parsing
/// is sequential within a file), then records them in input order.
fn read_all(
    tx: &mut Transaction,
    steps: Vec<Step<'_>>,
    catalog: &Catalog,
    opts: &IngestOptions,
    before: &Before,
) -> Result<Vec<FileReport>, IngestError> {
    // The reads go to the workers; each input keeps its place by its file number.
    enum Slot {
        Ready(FileReport),
        SameAs(PathBuf, u64),
        Read(u64),
    }
    let mut jobs = Vec::new();
    let slots: Vec<Slot> = steps
        .into_iter()
        .map(|step| match step {
            Step::Done(r) => Slot::Ready(r),
            Step::SameAs(path, seq) => Slot::SameAs(path, seq),
            Step::Read(job) => {
                let seq = job.seq;
                jobs.push(*job);
                Slot::Read(seq)
            }
        })
        .collect();
    let mut reads: BTreeMap<u64, Read> = read_parallel(tx, jobs, catalog, opts, &before.indexes)?
        .into_iter()
        .collect();
    settle(tx, &mut reads, catalog, before)?;
    let mut reports = Vec::with_capacity(slots.len());
    for (i, slot) in slots.into_iter().enumerate() {
        if i == 1 {
            // Files are staged by now: a failure here must leave the warehouse as it was.
            tx.fail_point("after_first_file")?;
        }
        reports.push(match slot {
            Slot::Ready(r) => r,
            Slot::SameAs(path, seq) => same_as(&path, seq, &reads),
            Slot::Read(seq) => {
                let read = reads.get_mut(&seq).expect("one result per read");
                tx.record_staged(&read.staged);
                if let Some(entry) = read.entry.take() {
                    tx.manifest.files.push(entry);
                }
                read.report.clone()
            }
        });
    }
    Ok(reports)
}

/// An input identical to an earlier one of the same run: unchanged if that one was
/// stored, refused for the same reason if it was not.
fn same_as(path: &Path, seq: u64, reads: &BTreeMap<u64, Read>) -> FileReport {
    let first = &reads[&seq].report;
    let mut r = refused(path, first.kind.as_deref(), String::new());
    r.status = match &first.status {
        FileStatus::Ingested { seq } => FileStatus::Unchanged {
            seq: *seq,
            ingested_at: now(),
        },
        other => other.clone(),
    };
    r
}

/// Compares each kind's files, in file order, with the versions current before the
/// run: final new / changed / unchanged / gone counts, rows that only repeat an
/// earlier file of this run removed from the staged parts, and the retired versions
/// written to this run's retirement file.
fn settle(
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
            schema.identity.load,
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
fn locate_retired(
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

fn apply_counts(
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
fn drop_staged_lines(
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
fn write_retirements(
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

fn read_parallel(
    tx: &Transaction,
    jobs: Vec<Job<'_>>,
    catalog: &Catalog,
    opts: &IngestOptions,
    before: &HashMap<String, Index>,
) -> Result<Vec<(u64, Read)>, IngestError> {
    let empty = Index::default();
    let workers = rayon::current_num_threads().clamp(1, jobs.len().max(1));
    // Largest files first: a file is read by one thread, so a big one started last
    // would finish alone while the other cores wait. (Results keep their file
    // numbers; the order of reading changes nothing else.)
    let mut jobs = jobs;
    jobs.sort_by_key(|j| std::cmp::Reverse(j.bytes));
    let queue = Mutex::new(jobs.into_iter());
    let results = Mutex::new(Vec::new());
    let first_error: Mutex<Option<IngestError>> = Mutex::new(None);
    let bars = opts.progress.then(indicatif::MultiProgress::new);
    let lock_err = || IngestError::Write {
        path: PathBuf::from("(ingest workers)"),
        message: "a reading thread failed".into(),
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                if first_error.lock().map_or(true, |e| e.is_some()) {
                    break;
                }
                let Some(job) = queue.lock().ok().and_then(|mut q| q.next()) else {
                    break;
                };
                let seq = job.seq;
                let versions = before.get(&job.schema.kind).unwrap_or(&empty);
                match read_file(
                    tx,
                    job,
                    catalog,
                    bars.as_ref(),
                    versions,
                    opts.repeats_are_errors,
                ) {
                    Ok(read) => {
                        if let Ok(mut r) = results.lock() {
                            r.push((seq, read));
                        }
                    }
                    Err(e) => {
                        if let Ok(mut slot) = first_error.lock() {
                            slot.get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().map_err(|_| lock_err())? {
        return Err(e);
    }
    results.into_inner().map_err(|_| lock_err())
}

/// Reads, validates and writes one file to the staging area.
fn read_file(
    tx: &Transaction,
    job: Job<'_>,
    catalog: &Catalog,
    bars: Option<&indicatif::MultiProgress>,
    before: &Index,
    repeats_are_errors: bool,
) -> Result<Read, IngestError> {
    let Job {
        path,
        sha,
        bytes,
        mut src,
        counter,
        schema,
        map,
        seq,
    } = job;
    let lineage = Lineage {
        file: path.display().to_string(),
        file_seq: seq as i64,
        run: tx.run_id.clone(),
        sheet: src.sheet.clone(),
    };
    let validator = Validator::new(schema, &map, catalog);
    let file_name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let bar = progress_bar(bars.is_some(), bytes, &file_name).map(|b| match bars {
        Some(m) => m.add(b),
        None => b,
    });
    let mut sink = Sink::new(schema, lineage, tx, before);
    sink.repeats_are_errors = repeats_are_errors;
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut read_error = None;
    loop {
        let next = src.next_row();
        let end = next.is_none();
        match next {
            Some(Ok(row)) => batch.push(row),
            Some(Err(e)) => read_error = Some(e.to_string()),
            None => {}
        }
        if batch.len() == BATCH_ROWS || end || read_error.is_some() {
            // Identity (key text and hashes) is computed with the validation, on all
            // cores; the sink only looks the keys up.
            let plan = &sink.plan;
            let outcomes: Vec<(Outcome, Option<Identified>)> = batch
                .par_iter()
                .map(|r| {
                    let o = validator.check(r);
                    let id = match &o {
                        Outcome::Accepted(a) => Some(Identified::of(plan, &a.cells)),
                        Outcome::Quarantined(_) => None,
                    };
                    (o, id)
                })
                .collect();
            sink.take(outcomes, &batch, &validator)?;
            batch.clear();
            if let Some(b) = &bar {
                b.set_position(counter.load(Ordering::Relaxed));
            }
        }
        if end || read_error.is_some() {
            break;
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(msg) = read_error {
        for rel in &sink.staged {
            let _ = std::fs::remove_file(tx.staging_path(rel));
        }
        return Ok(Read {
            report: refused(&path, Some(&schema.kind), msg),
            entry: None,
            staged: Vec::new(),
            keys: FileKeys::default(),
            repeats: 0,
        });
    }
    let (parts, quarantine_part) = sink.finish()?;
    let entry = FileEntry {
        seq,
        run_id: tx.run_id.clone(),
        kind: schema.kind.clone(),
        source: path.display().to_string(),
        sha256: sha,
        bytes,
        encoding: src.encoding().to_string(),
        rows_read: sink.read,
        accepted: sink.accepted,
        quarantined: sink.quarantined.len() as u64,
        flagged: sink.flagged,
        extra_columns: map.extra.iter().map(|(_, n)| n.clone()).collect(),
        ingested_at: now(),
        parts,
        quarantine_part,
        // Final counts come from the reconciliation (`settle`).
        new: 0,
        changed: 0,
        unchanged: 0,
        gone: 0,
    };
    // Nothing is lost: every row read is accepted or quarantined.
    assert_eq!(
        entry.rows_read,
        entry.accepted + entry.quarantined,
        "row accounting"
    );
    let report = FileReport {
        source: path.to_path_buf(),
        kind: Some(schema.kind.clone()),
        status: FileStatus::Ingested { seq },
        encoding: Some(entry.encoding.clone()),
        rows_read: entry.rows_read,
        accepted: entry.accepted,
        quarantined: entry.quarantined,
        flagged: entry.flagged,
        new: 0,
        changed: 0,
        unchanged: 0,
        gone: 0,
        repeated: sink.repeats,
        first_reasons: sink.first_reasons(),
        extra_columns: entry.extra_columns.clone(),
    };
    Ok(Read {
        report,
        entry: Some(entry),
        staged: sink.staged.clone(),
        keys: std::mem::take(&mut sink.keys),
        repeats: sink.repeats,
    })
}

/// The later of two rows with the same key and different values in one file: which
/// one is right is for the sender to say, so the earlier is kept and this one waits.
fn duplicate_key(key_text: &str, earlier: &str, raw: &RawRow, same: bool) -> Quarantined {
    let message = if same {
        format!(
            "the same record ({key_text}) as {earlier}, repeated: it would be paid twice \
             (同一记录重复)"
        )
    } else {
        format!(
            "the same record ({key_text}) as {earlier} with different values; \
             {earlier} is kept — correct the file and send it again \
             (同一记录重复且内容不同)"
        )
    };
    Quarantined {
        line: raw.line,
        raw: raw.raw_text(),
        reasons: vec![Reason {
            code: "DUPLICATE_KEY",
            message,
        }],
    }
}

fn progress_bar(enabled: bool, bytes: u64, name: &str) -> Option<indicatif::ProgressBar> {
    if !enabled || bytes < 8 << 20 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(bytes);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:30!} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(name.to_string());
    Some(bar)
}

/// An accepted row's identity: its natural key's id, the hash of its values and its
/// snapshot scope. The key's text is not kept: the sink writes it again, into one
/// buffer, for the rows it stores (no string per row crossing threads).
struct Identified {
    key: identity::KeyId,
    hash: u64,
    scope: u32,
}

impl Identified {
    fn of(plan: &KeyPlan, cells: &[Cell]) -> Identified {
        Identified {
            key: plan.key_id_of(cells),
            hash: plan.content_hash(cells),
            scope: plan.scope(cells),
        }
    }
}

/// The partition a row is written to: its month, its year, or none (per schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PartKey {
    None,
    Month(i32, u32),
    Year(i64),
}

/// Where validated rows go: per-partition builders flushed to staged Parquet, and
/// the quarantine list.
struct Sink<'a> {
    schema: &'a Schema,
    tx: &'a Transaction,
    lineage: Lineage,
    partition_index: Option<usize>,
    builders: BTreeMap<PartKey, Builder>,
    part_counter: BTreeMap<PartKey, usize>,
    staged: Vec<String>,
    quarantined: Vec<Quarantined>,
    read: u64,
    accepted: u64,
    flagged: u64,
    flags_index: usize,
    cols: Vec<(String, validate::OutType)>,
    /// Record identity: the kind's key plan, the versions current before the run,
    /// and this file's keys so far (key → content hash and line).
    plan: KeyPlan,
    identifying: Vec<usize>,
    before: &'a Index,
    snapshot: bool,
    /// This file's records so far: key → content hash and line.
    seen: identity::KeyMap<(u64, u32)>,
    keys: FileKeys,
    /// The key text of the row being stored (one buffer, reused).
    key_text: String,
    repeats: u64,
    repeats_are_errors: bool,
}

impl<'a> Sink<'a> {
    fn new(
        schema: &'a Schema,
        lineage: Lineage,
        tx: &'a Transaction,
        before: &'a Index,
    ) -> Sink<'a> {
        let plan = KeyPlan::new(schema);
        let cols = validate::output_columns(schema);
        let partition_index = schema
            .partition
            .as_ref()
            .and_then(|p| cols.iter().position(|(n, _)| n == p));
        let flags_index = cols
            .iter()
            .position(|(n, _)| n == validate::FLAGS_COLUMN)
            .expect("flags column always present");
        Sink {
            schema,
            tx,
            lineage,
            partition_index,
            builders: BTreeMap::new(),
            part_counter: BTreeMap::new(),
            staged: Vec::new(),
            quarantined: Vec::new(),
            read: 0,
            accepted: 0,
            flagged: 0,
            flags_index,
            cols,
            identifying: plan.identifying_columns(),
            plan,
            before,
            snapshot: schema.identity.load == Load::Snapshot,
            seen: identity::KeyMap::default(),
            keys: FileKeys::default(),
            key_text: String::new(),
            repeats: 0,
            repeats_are_errors: false,
        }
    }

    /// Computed for every row, so a number, not a folder name (that is made per part).
    fn partition_key(&self, cells: &[Cell]) -> PartKey {
        match self.partition_index.map(|i| &cells[i]) {
            Some(Cell::Days(d)) => {
                let m = value::from_epoch_days(*d);
                PartKey::Month(m.year(), m.month())
            }
            Some(Cell::Int(y)) => PartKey::Year(*y),
            _ => PartKey::None,
        }
    }

    /// Takes a batch's outcomes (in the batch's row order).
    fn take(
        &mut self,
        outcomes: Vec<(Outcome, Option<Identified>)>,
        batch: &[RawRow],
        validator: &Validator,
    ) -> Result<(), IngestError> {
        for ((o, id), raw) in outcomes.into_iter().zip(batch) {
            self.read += 1;
            match (o, id) {
                (Outcome::Accepted(row), Some(id)) => self.accept(row, id, raw)?,
                (Outcome::Accepted(row), None) => {
                    let id = Identified::of(&self.plan, &row.cells);
                    self.accept(row, id, raw)?
                }
                (Outcome::Quarantined(q), _) => {
                    self.list_quarantined(raw, validator);
                    self.quarantined.push(q);
                }
            }
        }
        Ok(())
    }

    /// An accepted row: compared with this file's earlier rows and with the
    /// current version of its record; stored only if it says something new.
    fn accept(
        &mut self,
        row: validate::Accepted,
        id: Identified,
        raw: &RawRow,
    ) -> Result<(), IngestError> {
        let Identified { key, hash, scope } = id;
        // One probe of this file's records: the row is either the first of its
        // record (inserted) or a later one.
        match self.seen.entry(key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((hash, row.line as u32));
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                let (earlier_hash, earlier_line) = *o.get();
                if earlier_hash == hash && !self.repeats_are_errors {
                    // The same record twice in one file: one record (reported).
                    self.accepted += 1;
                    self.repeats += 1;
                } else {
                    let same = earlier_hash == hash;
                    let earlier =
                        source::place(self.lineage.sheet.as_deref(), u64::from(earlier_line));
                    let key_text = self.plan.key_text(&row.cells);
                    self.quarantined
                        .push(duplicate_key(&key_text, &earlier, raw, same));
                }
                return Ok(());
            }
        }
        self.accepted += 1;
        if row.cells[self.flags_index] != Cell::Null {
            self.flagged += 1;
        }
        if self.snapshot {
            self.keys.listed.insert(key);
            if scope != 0 {
                self.keys.scopes.insert(scope);
            }
        }
        match self.before.hashes.get(&key) {
            Some(&h) if h == hash => {
                self.keys.same_as_before.push(key[0]);
                self.keys.same_as_before_lines.push(row.line as u32);
                return Ok(());
            }
            Some(_) => self
                .keys
                .corrections
                .push((key, self.plan.key_text(&row.cells))),
            None => {}
        }
        self.keys.stored.push(StoredRow {
            key,
            hash,
            line: row.line as u32,
            scope,
        });
        let part = self.partition_key(&row.cells);
        self.plan.write_key(&row.cells, &mut self.key_text);
        let cols = &self.cols;
        let b = self
            .builders
            .entry(part)
            .or_insert_with(|| Builder::new(cols.clone()));
        b.push(row, &self.key_text, hash);
        if b.len() >= ROWS_PER_PART {
            self.flush(part)?;
        }
        Ok(())
    }

    /// A quarantined row of a snapshot still lists its record (when its key can be
    /// read): a malformed row must not make the record look gone.
    fn list_quarantined(&mut self, raw: &RawRow, validator: &Validator) {
        if !self.snapshot {
            return;
        }
        if let Some(cells) = validator.typed_cells(raw, &self.identifying) {
            self.keys
                .listed
                .insert(identity::key_id(&self.plan.key_text(&cells)));
            let scope = self.plan.scope(&cells);
            if scope != 0 {
                self.keys.scopes.insert(scope);
            }
        }
    }

    fn flush(&mut self, key: PartKey) -> Result<(), IngestError> {
        let Some(b) = self.builders.get_mut(&key) else {
            return Ok(());
        };
        if b.is_empty() {
            return Ok(());
        }
        let n = self.part_counter.entry(key).or_insert(0);
        let dir = match key {
            PartKey::None => format!("tables/{}", self.schema.kind),
            PartKey::Month(y, m) => format!("tables/{}/{y:04}-{m:02}", self.schema.kind),
            PartKey::Year(y) => format!("tables/{}/{y}", self.schema.kind),
        };
        let rel = format!("{dir}/f{:06}-{:03}.parquet", self.lineage.file_seq, n);
        *n += 1;
        let path = self.tx.staging_path(&rel);
        self.staged.push(rel);
        let mut df = b
            .take_frame(&self.lineage)
            .map_err(|e| IngestError::Write {
                path: path.clone(),
                message: e.to_string(),
            })?;
        frame::write_parquet(&mut df, &path).map_err(|message| IngestError::Write { path, message })
    }

    /// Flushes every partition and writes the quarantine file.
    fn finish(&mut self) -> Result<(Vec<String>, Option<String>), IngestError> {
        let keys: Vec<PartKey> = self.builders.keys().copied().collect();
        for k in keys {
            self.flush(k)?;
        }
        let parts = self.staged.clone();
        if self.quarantined.is_empty() {
            return Ok((parts, None));
        }
        let rel = format!("quarantine/f{:06}.parquet", self.lineage.file_seq);
        let path = self.tx.staging_path(&rel);
        let mut df = frame::quarantine_frame(&self.schema.kind, &self.quarantined, &self.lineage)
            .map_err(|e| IngestError::Write {
            path: path.clone(),
            message: e.to_string(),
        })?;
        frame::write_parquet(&mut df, &path)
            .map_err(|message| IngestError::Write { path, message })?;
        self.staged.push(rel.clone());
        Ok((parts, Some(rel)))
    }

    fn first_reasons(&self) -> Vec<String> {
        self.quarantined
            .iter()
            .take(SHOWN_REASONS)
            .map(|q| {
                let msgs: Vec<&str> = q.reasons.iter().map(|r| r.message.as_str()).collect();
                let at = source::place(self.lineage.sheet.as_deref(), q.line);
                format!("{at}: {}", msgs.join("; "))
            })
            .collect()
    }
}
