//! Reading: the planned files, several at a time, each validated batch by batch and
//! written to the staging area through its sink.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use rayon::prelude::*;

use super::frame::Lineage;
use super::identity::{FileKeys, Index, Retired};
use super::layout::{Fact, Printed, Role};
use super::plan::{Job, Step};
use super::settle::{settle_kind, write_retirements, Before};
use super::sink::{Checked, Sink};
use super::source::RawRow;
use super::validate::Validator;
use super::{now, refused, FileReport, FileStatus, IngestError, IngestOptions, BATCH_ROWS};
use crate::schema::{Catalog, Schema};
use crate::warehouse::{FileEntry, Transaction};

/// One file read: its report, and (when stored) its manifest entry and staged files.
pub(super) struct Read {
    pub(super) report: FileReport,
    pub(super) entry: Option<FileEntry>,
    pub(super) staged: Vec<String>,
    /// What the file said about its records, for the reconciliation.
    pub(super) keys: FileKeys,
    /// Lines repeating an earlier line of the same file exactly.
    pub(super) repeats: u64,
}

/// Reads the planned files, several at a time (each on its own thread: CSV parsing
/// is sequential within a file), then records them in input order.
pub(super) fn read_all(
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
    let (reads, mut retirements) = read_parallel(tx, jobs, catalog, opts, before)?;
    let mut reads: BTreeMap<u64, Read> = reads.into_iter().collect();
    retirements.sort_by(|a, b| a.0.cmp(&b.0));
    for (kind, retired) in retirements {
        if !retired.is_empty() {
            write_retirements(tx, &kind, &retired)?;
        }
    }
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
pub(super) fn same_as(path: &Path, seq: u64, reads: &BTreeMap<u64, Read>) -> FileReport {
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

/// The reads of each kind until its last one is done, and how many are left.
#[derive(Default)]
struct Pending {
    left: HashMap<String, usize>,
    reads: HashMap<String, Vec<(u64, Read)>>,
}

impl Pending {
    /// Keeps a kind's read; all the kind's reads once this was its last.
    fn done(&mut self, kind: &str, seq: u64, read: Read) -> Option<Vec<(u64, Read)>> {
        self.reads
            .entry(kind.to_string())
            .or_default()
            .push((seq, read));
        let left = self.left.get_mut(kind)?;
        *left -= 1;
        if *left == 0 {
            self.reads.remove(kind)
        } else {
            None
        }
    }
}

/// A kind's retired versions, written to the run's retirement file afterwards.
type Retirements = Vec<(String, Vec<Retired>)>;

/// Reads the jobs on a few threads; each kind is settled by the thread that reads
/// its last file (settle.rs), so that its index and key lists go as soon as they
/// can.
pub(super) fn read_parallel(
    tx: &Transaction,
    jobs: Vec<Job<'_>>,
    catalog: &Catalog,
    opts: &IngestOptions,
    before: &Before,
) -> Result<(Vec<(u64, Read)>, Retirements), IngestError> {
    let mut pending = Pending::default();
    for j in &jobs {
        *pending.left.entry(j.schema.kind.clone()).or_default() += 1;
    }
    let pending = Mutex::new(pending);
    let retirements: Mutex<Retirements> = Mutex::new(Vec::new());
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
                let (seq, schema) = (job.seq, job.schema);
                let outcome = before.index(schema).and_then(|versions| {
                    let read = read_file(
                        tx,
                        job,
                        catalog,
                        bars.as_ref(),
                        &versions,
                        opts.repeats_are_errors,
                    )?;
                    drop(versions);
                    let all = pending
                        .lock()
                        .map_err(|_| lock_err())?
                        .done(&schema.kind, seq, read);
                    let Some(mut reads) = all else {
                        return Ok(());
                    };
                    let retired = settle_kind(tx, schema, &mut reads, before)?;
                    retirements
                        .lock()
                        .map_err(|_| lock_err())?
                        .push((schema.kind.clone(), retired));
                    results.lock().map_err(|_| lock_err())?.extend(reads);
                    Ok(())
                });
                if let Err(e) = outcome {
                    if let Ok(mut slot) = first_error.lock() {
                        slot.get_or_insert(e);
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().map_err(|_| lock_err())? {
        return Err(e);
    }
    Ok((
        results.into_inner().map_err(|_| lock_err())?,
        retirements.into_inner().map_err(|_| lock_err())?,
    ))
}

/// After this many batches (a few MB of the file), the file's row count is estimated
/// from its size, so that its key map is sized once instead of doubling its way up.
const ESTIMATE_AFTER_BATCHES: usize = 4;

/// The rows a file will hold, from the rows and bytes read so far (with a tenth
/// more: the count of bytes read runs ahead of the rows by the reader's buffer).
/// Zero when nothing can be said (a workbook is read whole before its rows).
fn estimated_rows(rows: u64, bytes_read: u64, bytes: u64) -> usize {
    if rows == 0 || bytes_read == 0 || bytes_read >= bytes {
        return 0;
    }
    let est = u128::from(bytes) * u128::from(rows) * 11 / (u128::from(bytes_read) * 10);
    usize::try_from(est).unwrap_or(usize::MAX)
}

/// Reads, validates and writes one file to the staging area.
pub(super) fn read_file(
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
        facts,
        seq,
    } = job;
    let lineage = Lineage {
        file: path.display().to_string(),
        file_seq: seq as i64,
        run: tx.run_id.clone(),
        sheet: src.sheet.clone(),
    };
    let place = |line: u64| {
        format!(
            "{} {}",
            path.display(),
            super::source::place(lineage.sheet.as_deref(), line)
        )
    };
    let validator = match Validator::new(schema, &map, catalog).with_facts(&facts, place) {
        Ok(v) => v,
        Err(msg) => return Ok(refused_read(&path, schema, msg)),
    };
    // A printed report's total lines and running balance, checked as rows arrive.
    let mut printed = Printed::new(
        schema,
        &map,
        &src.header,
        path.display().to_string(),
        lineage.sheet.clone(),
    );
    let file_name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let bar = progress_bar(bars.is_some(), bytes, &file_name).map(|b| match bars {
        Some(m) => m.add(b),
        None => b,
    });
    let mut sink = Sink::new(schema, lineage, tx, before);
    sink.repeats_are_errors = repeats_are_errors;
    // The batch's rows are read into again and again (their buffers reused);
    // `filled` of them hold the rows of the current batch.
    let mut batch: Vec<RawRow> = Vec::with_capacity(BATCH_ROWS);
    let mut filled = 0;
    let mut batches = 0;
    let mut read_error = None;
    loop {
        if filled == batch.len() {
            batch.push(RawRow::default());
        }
        let next = src.next_row_into(&mut batch[filled]);
        let end = next.is_none();
        match next {
            Some(Ok(())) => match printed.as_mut().map(|p| p.see(&batch[filled])) {
                None | Some(Ok(Role::Record)) => filled += 1,
                Some(Ok(Role::NotARecord)) => {}
                Some(Err(why)) => read_error = Some(why),
            },
            Some(Err(e)) => read_error = Some(e.to_string()),
            None => {}
        }
        if filled == BATCH_ROWS || end || read_error.is_some() {
            let rows = &batch[..filled];
            // Identity (key text and hashes) is computed with the validation, on all
            // cores; the sink only looks the keys up.
            let plan = &sink.plan;
            let outcomes: Vec<Checked> = rows
                .par_iter()
                .map(|r| Checked::of(plan, validator.check(r)))
                .collect();
            sink.take(outcomes, rows, &validator)?;
            filled = 0;
            batches += 1;
            if batches == ESTIMATE_AFTER_BATCHES && !end {
                sink.expect_rows(estimated_rows(
                    sink.read,
                    counter.load(Ordering::Relaxed),
                    bytes,
                ));
            }
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
        return Ok(refused_read(&path, schema, msg));
    }
    let (parts, quarantine_part) = sink.finish()?;
    let entry = FileEntry {
        seq,
        run_id: tx.run_id.clone(),
        kind: schema.kind.clone(),
        source: path.display().to_string(),
        sha256: sha,
        schema_sha256: schema.digest.clone(),
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
        facts: shown_facts(&facts),
    };
    Ok(Read {
        report,
        entry: Some(entry),
        staged: sink.staged.clone(),
        keys: std::mem::take(&mut sink.keys),
        repeats: sink.repeats,
    })
}

/// A file refused while it was read: nothing of it is stored.
fn refused_read(path: &Path, schema: &Schema, reason: String) -> Read {
    Read {
        report: refused(path, Some(&schema.kind), reason),
        entry: None,
        staged: Vec::new(),
        keys: FileKeys::default(),
        repeats: 0,
    }
}

/// The title block's facts for the file report: `账号 622848…`, `起止日期 2026-09-01 至
/// 2026-09-30` (a period's two ends shown once, as printed).
fn shown_facts(facts: &[Fact]) -> Vec<String> {
    let mut shown: Vec<String> = Vec::new();
    for f in facts {
        let text = if f.problem.is_some() {
            f.text.clone()
        } else {
            match facts
                .iter()
                .find(|g| g.label == f.label && g.line == f.line && g.column != f.column)
            {
                Some(other) if other.column > f.column => format!("{} 至 {}", f.text, other.text),
                Some(_) => continue,
                None => f.text.clone(),
            }
        };
        let line = format!("{} {text}", f.label);
        if !shown.contains(&line) {
            shown.push(line);
        }
    }
    shown
}

pub(super) fn progress_bar(
    enabled: bool,
    bytes: u64,
    name: &str,
) -> Option<indicatif::ProgressBar> {
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

#[cfg(test)]
mod tests {
    use super::estimated_rows;

    #[test]
    fn a_files_rows_are_estimated_from_its_size_with_a_tenth_more() {
        // 262,144 rows in the first 20 MB of a 1,000 MB file: about 13.1 M rows.
        assert_eq!(estimated_rows(262_144, 20 << 20, 1000 << 20), 14_417_920);
        // Nothing read yet, a workbook (no byte count) or the whole file read.
        assert_eq!(estimated_rows(0, 20, 1000), 0);
        assert_eq!(estimated_rows(10, 0, 1000), 0);
        assert_eq!(estimated_rows(10, 1000, 1000), 0);
    }
}
