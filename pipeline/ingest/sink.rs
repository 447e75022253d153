//! Where a file's validated rows go: each compared with the file's earlier rows and
//! with the current version of its record, then written per partition to staged
//! Parquet, or listed in the quarantine.

use std::collections::BTreeMap;

use chrono::Datelike;

use super::frame::{self, Builder, Lineage};
use super::identity::{self, FileKeys, Index, KeyPlan, StoredRow};
use super::source::{self, RawRow};
use super::validate::{self, Cell, Outcome, Quarantined, Reason, Validator};
use super::{value, IngestError, ROWS_PER_PART, SHOWN_REASONS};
use crate::schema::{Load, Schema};
use crate::warehouse::Transaction;

/// An accepted row's identity: its natural key's id, the hash of its values and its
/// snapshot scope. The key's text is not kept: the sink writes it again, into one
/// buffer, for the rows it stores (no string per row crossing threads).
pub(super) struct Identified {
    pub(super) key: identity::KeyId,
    pub(super) hash: u64,
    pub(super) scope: u32,
}

impl Identified {
    pub(super) fn of(plan: &KeyPlan, cells: &[Cell]) -> Identified {
        Identified {
            key: plan.key_id_of(cells),
            hash: plan.content_hash(cells),
            scope: plan.scope(cells),
        }
    }
}

/// A row after validation (on the workers): accepted with its identity, or
/// quarantined with its reasons.
pub(super) enum Checked {
    Accepted(validate::Accepted, Identified),
    Quarantined(Quarantined),
}

impl Checked {
    pub(super) fn of(plan: &KeyPlan, outcome: Outcome) -> Checked {
        match outcome {
            Outcome::Accepted(row) => {
                let id = Identified::of(plan, &row.cells);
                Checked::Accepted(row, id)
            }
            Outcome::Quarantined(q) => Checked::Quarantined(q),
        }
    }
}

/// What an accepted row's lookups found: the content hash and line of the first
/// row of its record in this file (when this row is not the first), and the
/// content hash of its version current before the run (for a first row).
#[derive(Default)]
pub(super) struct Lookup {
    earlier: Option<(u64, u32)>,
    before: Option<u64>,
}

/// The partition a row is written to: its month, its year, or none (per schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum PartKey {
    None,
    Month(i32, u32),
    Year(i64),
}

/// Where validated rows go: per-partition builders flushed to staged Parquet, and
/// the quarantine list.
pub(super) struct Sink<'a> {
    pub(super) schema: &'a Schema,
    pub(super) tx: &'a Transaction,
    pub(super) lineage: Lineage,
    pub(super) partition_index: Option<usize>,
    pub(super) builders: BTreeMap<PartKey, Builder>,
    pub(super) part_counter: BTreeMap<PartKey, usize>,
    pub(super) staged: Vec<String>,
    pub(super) quarantined: Vec<Quarantined>,
    pub(super) read: u64,
    pub(super) accepted: u64,
    pub(super) flagged: u64,
    pub(super) flags_index: usize,
    pub(super) cols: Vec<(String, validate::OutType)>,
    /// Record identity: the kind's key plan, the versions current before the run,
    /// and this file's keys so far (key → content hash and line).
    pub(super) plan: KeyPlan,
    pub(super) identifying: Vec<usize>,
    pub(super) before: &'a Index,
    pub(super) snapshot: bool,
    /// This file's records so far: key → content hash and line.
    pub(super) seen: identity::KeyMap<(u64, u32)>,
    pub(super) keys: FileKeys,
    /// The key text of the row being stored (one buffer, reused).
    pub(super) key_text: String,
    pub(super) repeats: u64,
    pub(super) repeats_are_errors: bool,
}

impl<'a> Sink<'a> {
    pub(super) fn new(
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
    pub(super) fn partition_key(&self, cells: &[Cell]) -> PartKey {
        match self.partition_index.map(|i| &cells[i]) {
            Some(Cell::Days(d)) => {
                let m = value::from_epoch_days(*d);
                PartKey::Month(m.year(), m.month())
            }
            Some(Cell::Int(y)) => PartKey::Year(*y),
            _ => PartKey::None,
        }
    }

    /// Sizes this file's key map for the rows it is expected to hold: a map grown
    /// by doubling moves every entry at each step and holds the old and new tables
    /// at once (at 13 M rows, about 0.8 GB for a moment instead of 0.5 GB).
    pub(super) fn expect_rows(&mut self, rows: usize) {
        // A wild estimate (a file of mostly blank lines) must not take the memory.
        const MOST: usize = 64 << 20;
        let rows = rows.min(MOST);
        if rows > self.seen.capacity() {
            self.seen.reserve(rows - self.seen.len());
        }
        // The list the rows so far went to (stored, or equal to their stored
        // version) is sized the same way: a list of millions grown by doubling
        // copies itself each time.
        let ahead = rows.saturating_sub(self.read as usize);
        if self.keys.stored.len() >= self.keys.same_as_before.len() {
            self.keys.stored.reserve(ahead);
        } else {
            self.keys.same_as_before.reserve(ahead);
            self.keys.same_as_before_lines.reserve(ahead);
        }
    }

    /// Takes a batch's outcomes (in the batch's row order).
    pub(super) fn take(
        &mut self,
        outcomes: Vec<Checked>,
        batch: &[RawRow],
        validator: &Validator,
    ) -> Result<(), IngestError> {
        // Each accepted row's lookups first, in row order (so that each sees the
        // rows before it, as one by one), in a loop of nothing else: at millions of
        // rows each is a cache miss, and back to back the processor waits for
        // several at once instead of one per row between the rest of its work
        // (government_subsidy.csv, 14.6 M rows: 18–22 s → 13–15 s).
        let looked_up: Vec<Lookup> = outcomes
            .iter()
            .map(|checked| match checked {
                Checked::Accepted(row, id) => self.look_up(id, row.line),
                Checked::Quarantined(_) => Lookup::default(),
            })
            .collect();
        for ((checked, raw), lookup) in outcomes.into_iter().zip(batch).zip(looked_up) {
            self.read += 1;
            match checked {
                Checked::Accepted(row, id) => self.accept(row, id, lookup, raw)?,
                Checked::Quarantined(q) => {
                    self.list_quarantined(raw, validator);
                    self.quarantined.push(q);
                }
            }
        }
        Ok(())
    }

    /// An accepted row's record in this file so far (inserted when this is its
    /// first row, and listed when the file is a snapshot) and, for a first row,
    /// its version current before the run.
    fn look_up(&mut self, id: &Identified, line: u64) -> Lookup {
        match self.seen.entry(id.key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((id.hash, line as u32));
                if self.snapshot {
                    // A snapshot lists every record it holds (its first row's key).
                    self.keys.listed.insert(id.key);
                }
                Lookup {
                    earlier: None,
                    before: self.before.hashes.get(&id.key).copied(),
                }
            }
            std::collections::hash_map::Entry::Occupied(o) => Lookup {
                earlier: Some(*o.get()),
                before: None,
            },
        }
    }

    /// An accepted row: compared with this file's earlier rows and with the
    /// current version of its record (`look_up`); stored only if it says
    /// something new.
    pub(super) fn accept(
        &mut self,
        row: validate::Accepted,
        id: Identified,
        lookup: Lookup,
        raw: &RawRow,
    ) -> Result<(), IngestError> {
        let Identified { key, hash, scope } = id;
        if let Some((earlier_hash, earlier_line)) = lookup.earlier {
            if earlier_hash == hash && !self.repeats_are_errors {
                // The same record twice in one file: one record (reported).
                self.accepted += 1;
                self.repeats += 1;
            } else {
                let same = earlier_hash == hash;
                let earlier = source::place(self.lineage.sheet.as_deref(), u64::from(earlier_line));
                let key_text = self.plan.key_text(&row.cells);
                self.quarantined
                    .push(duplicate_key(&key_text, &earlier, raw, same));
            }
            return Ok(());
        }
        self.accepted += 1;
        if row.cells[self.flags_index] != Cell::Null {
            self.flagged += 1;
        }
        if self.snapshot {
            self.keys.rows += 1;
            if scope != 0 {
                self.keys.scopes.insert(scope);
            }
        }
        match lookup.before {
            Some(h) if h == hash => {
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
    pub(super) fn list_quarantined(&mut self, raw: &RawRow, validator: &Validator) {
        if !self.snapshot {
            return;
        }
        self.keys.rows += 1;
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

    pub(super) fn flush(&mut self, key: PartKey) -> Result<(), IngestError> {
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
    pub(super) fn finish(&mut self) -> Result<(Vec<String>, Option<String>), IngestError> {
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

    pub(super) fn first_reasons(&self) -> Vec<String> {
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

/// The later of two rows with the same key and different values in one file: which
/// one is right is for the sender to say, so the earlier is kept and this one waits.
pub(super) fn duplicate_key(
    key_text: &str,
    earlier: &str,
    raw: &RawRow,
    same: bool,
) -> Quarantined {
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
