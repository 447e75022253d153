//! Record identity: which stored record a row is a version of, and whether it says
//! anything new (docs/rules.md § Record identity and corrections).
//!
//! Every stored row carries `_key` (its natural key as text, the schema's
//! `[identity] key` columns joined by `|`) and `_hash` (a 64-bit hash of its typed
//! business values, so the same record re-sent in another encoding, container or
//! order hashes the same). Ingest compares each row with the current version of its
//! key: nothing new is stored for an unchanged row; a changed row is stored and the
//! version it replaces is *retired* (listed in the run's retirement file, never
//! deleted), as is a record a snapshot no longer lists.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::Datelike;
use duckdb::arrow::array::{Array, AsArray};
use duckdb::arrow::datatypes::{DataType, Int64Type};
use duckdb::Connection;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use super::validate::Cell;
use super::value;
use crate::schema::{ColType, Column, Load, Schema};

/// Separates key parts in `_key`.
pub const KEY_SEPARATOR: char = '|';

/// The key columns, scope columns and content width of one kind.
#[derive(Debug, Clone)]
pub struct KeyPlan {
    key: Vec<(usize, ColType)>,
    scope: Vec<(usize, ColType)>,
    /// The schema's own columns come first in a row's cells; lineage, flags and
    /// extra columns after them are not part of the record's content.
    content: usize,
}

impl KeyPlan {
    pub fn new(schema: &Schema) -> KeyPlan {
        let locate = |names: &[String]| -> Vec<(usize, ColType)> {
            names
                .iter()
                .filter_map(|n| schema.columns.iter().position(|c| &c.name == n))
                .map(|i| (i, schema.columns[i].ty))
                .collect()
        };
        KeyPlan {
            key: locate(&schema.identity.key),
            scope: locate(&schema.identity.scope),
            content: schema.columns.len(),
        }
    }

    /// Positions of the key and scope columns among the schema's columns.
    pub fn identifying_columns(&self) -> Vec<usize> {
        self.key
            .iter()
            .chain(&self.scope)
            .map(|(i, _)| *i)
            .collect()
    }

    /// The natural key as text: `P0001` or `P0001|2024-03`.
    pub fn key_text(&self, cells: &[Cell]) -> String {
        let mut out = String::new();
        self.write_key(cells, &mut out);
        out
    }

    /// Which part of a snapshot a row belongs to (0: the whole kind).
    pub fn scope(&self, cells: &[Cell]) -> u32 {
        if self.scope.is_empty() {
            0
        } else {
            let mut text = String::new();
            join_parts(&self.scope, cells, &mut text);
            scope_id(&text)
        }
    }

    /// A hash of the typed business values: equal for the same record however it
    /// was spelled in the file. (The values are laid out in one buffer and hashed
    /// once: the same xxh3 as feeding them one by one, at a fraction of the cost.)
    pub fn content_hash(&self, cells: &[Cell]) -> u64 {
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUF.with_borrow_mut(|buf| {
            buf.clear();
            for c in &cells[..self.content.min(cells.len())] {
                lay_out(c, buf);
            }
            xxh3_64(buf)
        })
    }

    /// The natural key as text, written into `out` (cleared first).
    pub fn write_key(&self, cells: &[Cell], out: &mut String) {
        out.clear();
        join_parts(&self.key, cells, out);
    }

    /// The key's id without keeping its text (a per-thread buffer).
    pub fn key_id_of(&self, cells: &[Cell]) -> KeyId {
        thread_local! {
            static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        KEY.with_borrow_mut(|buf| {
            self.write_key(cells, buf);
            key_id(buf)
        })
    }
}

/// A cell's bytes in the content hash: a tag, then the value (text with its length).
fn lay_out(c: &Cell, buf: &mut Vec<u8>) {
    match c {
        Cell::Null => buf.push(0),
        Cell::Text(s) => {
            buf.push(1);
            buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        Cell::Int(i) => {
            buf.push(2);
            buf.extend_from_slice(&i.to_le_bytes());
        }
        Cell::Days(d) => {
            buf.push(3);
            buf.extend_from_slice(&d.to_le_bytes());
        }
        Cell::Fixed(v) => {
            buf.push(4);
            buf.extend_from_slice(&v.to_le_bytes());
        }
        Cell::Bool(b) => buf.extend_from_slice(&[5, u8::from(*b)]),
    }
}

fn join_parts(cols: &[(usize, ColType)], cells: &[Cell], out: &mut String) {
    for (n, (i, ty)) in cols.iter().enumerate() {
        if n > 0 {
            out.push(KEY_SEPARATOR);
        }
        render(&cells[*i], *ty, out);
    }
}

/// A key part as text: dates `2024-03-05`, months `2024-03`, money `12.50`.
fn render(cell: &Cell, ty: ColType, out: &mut String) {
    use std::fmt::Write;
    match cell {
        Cell::Null => {}
        Cell::Text(s) => out.push_str(s),
        Cell::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Cell::Days(d) => {
            let date = value::from_epoch_days(*d);
            if ty == ColType::Month {
                let _ = write!(out, "{:04}-{:02}", date.year(), date.month());
            } else {
                let _ = write!(out, "{}", date.format("%Y-%m-%d"));
            }
        }
        Cell::Fixed(v) => {
            let scale = if ty == ColType::Rate { 4 } else { 2 };
            let _ = write!(
                out,
                "{}",
                rust_decimal::Decimal::from_i128_with_scale(*v, scale)
            );
        }
        Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

/// The in-memory identity of a key: 128 bits (no two keys of a kind collide in
/// practice, where 64 bits would risk it at tens of millions of rows), as two
/// words so that maps of them stay 8-byte aligned.
pub type KeyId = [u64; 2];

pub fn key_id(key_text: &str) -> KeyId {
    let h = xxh3_128(key_text.as_bytes());
    [h as u64, (h >> 64) as u64]
}

/// Maps and sets keyed by `KeyId`. The key is already a hash, so hashing it again
/// with the standard SipHash is wasted work on tens of millions of rows.
pub type KeyMap<V> = HashMap<KeyId, V, BuildHasherDefault<KeyHasher>>;
pub type KeySet = HashSet<KeyId, BuildHasherDefault<KeyHasher>>;

/// Mixes the words it is given (a `KeyId` hashes as its length, then its two
/// words); multiplying spreads them into the high bits the tables probe with.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

fn scope_id(scope_text: &str) -> u32 {
    // Never 0, which means "no scope".
    (xxh3_64(scope_text.as_bytes()) as u32) | 1
}

/// Normalises a key typed by a user (`pipeline history`) the way ingest renders it:
/// each part parsed as its column's type (any accepted date spelling, Chinese or
/// English enumeration values).
pub fn key_from_user(schema: &Schema, parts: &[String]) -> Result<String, String> {
    let cols: Vec<&Column> = schema
        .identity
        .key
        .iter()
        .filter_map(|n| schema.column(n))
        .collect();
    let parts: Vec<String> = if parts.len() == 1 && cols.len() > 1 {
        parts[0].split(KEY_SEPARATOR).map(str::to_string).collect()
    } else {
        parts.to_vec()
    };
    if parts.len() != cols.len() {
        let names: Vec<String> = cols.iter().map(|c| c.label()).collect();
        return Err(format!(
            "a {} record is identified by {} value(s): {}",
            schema.kind,
            cols.len(),
            names.join(", ")
        ));
    }
    let mut out = Vec::with_capacity(parts.len());
    for (col, text) in cols.iter().zip(&parts) {
        let text = text.trim();
        let cell = match col.ty {
            ColType::Date => value::parse_date(text)
                .map(|d| Cell::Days(value::epoch_days(d)))
                .map_err(|m| format!("{}: {m}", col.label()))?,
            ColType::Month => value::parse_month(text)
                .map(|d| Cell::Days(value::epoch_days(d)))
                .map_err(|m| format!("{}: {m}", col.label()))?,
            ColType::Integer => Cell::Int(
                text.parse()
                    .map_err(|_| format!("{}: `{text}` is not a whole number", col.label()))?,
            ),
            ColType::Enum => Cell::Text(col.enum_code(text).unwrap_or(text).to_string()),
            _ => Cell::Text(crate::idnum::fold_width(text)),
        };
        let mut s = String::new();
        render(&cell, col.ty, &mut s);
        out.push(s);
    }
    Ok(out.join(&KEY_SEPARATOR.to_string()))
}

/// The versions current before a run, by key: what each row is compared with.
#[derive(Debug, Default)]
pub struct Index {
    /// Key → content hash of its current version.
    pub hashes: Versions,
    /// Snapshots only: key → where the current version is stored and its scope (to
    /// find the records a snapshot no longer lists). Events kinds find the stored
    /// version of a corrected record afterwards (`Target::Before`), which keeps this
    /// index small for tens of millions of payouts.
    pub located: KeyMap<Location>,
}

/// Key → content hash of the current versions, as one table sorted by key with a
/// directory on the key's first bits. Keys are hashes, so they spread evenly: a
/// lookup touches one or two cache lines, and an entry costs its 24 bytes where a
/// hash map at its usual load costs about twice that — this index holds every
/// stored record of a kind (tens of millions on a re-sent county).
#[derive(Debug, Default)]
pub struct Versions {
    entries: Vec<(KeyId, u64)>,
    /// `dir[b]..dir[b + 1]`: the entries whose key starts with bucket `b`.
    dir: Vec<u32>,
    bits: u32,
}

impl Versions {
    /// From (key, hash) pairs in any order; a key given twice keeps its last hash.
    pub fn from_pairs(mut entries: Vec<(KeyId, u64)>) -> Versions {
        entries.sort_by_key(|e| e.0);
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        entries.shrink_to_fit();
        let n = entries.len().max(2);
        let bits = (usize::BITS - 1 - n.leading_zeros())
            .saturating_sub(1)
            .min(24);
        let mut dir = vec![0u32; (1usize << bits) + 1];
        for e in &entries {
            dir[Self::bucket(bits, &e.0) + 1] += 1;
        }
        for b in 1..dir.len() {
            dir[b] += dir[b - 1];
        }
        Versions { entries, dir, bits }
    }

    fn bucket(bits: u32, key: &KeyId) -> usize {
        key[0].checked_shr(64 - bits).unwrap_or(0) as usize
    }

    pub fn get(&self, key: &KeyId) -> Option<&u64> {
        if self.entries.is_empty() {
            return None;
        }
        let b = Self::bucket(self.bits, key);
        let (lo, hi) = (self.dir[b] as usize, self.dir[b + 1] as usize);
        self.entries[lo..hi]
            .iter()
            .find(|e| e.0 == *key)
            .map(|e| &e.1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub file_seq: u32,
    pub line: u32,
    pub scope: u32,
}

/// Reads the current versions of a kind from the warehouse (the `<kind>` view).
pub fn load_index(conn: &Connection, schema: &Schema) -> Result<Index, duckdb::Error> {
    let scope_sql = if schema.identity.scope.is_empty() {
        "''".to_string()
    } else {
        schema
            .identity
            .scope
            .iter()
            .map(|c| format!("coalesce(CAST(\"{c}\" AS VARCHAR), '')"))
            .collect::<Vec<_>>()
            .join(&format!(" || '{KEY_SEPARATOR}' || "))
    };
    let snapshot = schema.identity.load == Load::Snapshot;
    let scoped = !schema.identity.scope.is_empty();
    let sql = format!(
        "SELECT _key, _hash, _file_seq, _line, {scope_sql} AS _scope FROM \"{}\"",
        schema.kind
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut index = Index::default();
    let mut versions = Vec::new();
    for batch in stmt.query_arrow([])? {
        let keys = batch.column(0);
        let hashes = batch.column(1).as_primitive::<Int64Type>();
        let seqs = batch.column(2).as_primitive::<Int64Type>();
        let lines = batch.column(3).as_primitive::<Int64Type>();
        let scopes = batch.column(4);
        for i in 0..batch.num_rows() {
            let key = key_id(text_at(keys.as_ref(), i));
            versions.push((key, hashes.value(i) as u64));
            if snapshot {
                let scope = if scoped {
                    scope_id(text_at(scopes.as_ref(), i))
                } else {
                    0
                };
                index.located.insert(
                    key,
                    Location {
                        file_seq: seqs.value(i) as u32,
                        line: lines.value(i) as u32,
                        scope,
                    },
                );
            }
        }
    }
    index.hashes = Versions::from_pairs(versions);
    Ok(index)
}

/// Where the current versions of some records (by key text) are stored.
pub fn locate(
    conn: &Connection,
    kind: &str,
    keys: &[&str],
) -> Result<KeyMap<(u64, u64)>, duckdb::Error> {
    conn.execute_batch("CREATE OR REPLACE TEMP TABLE _wanted_keys (k VARCHAR);")?;
    {
        let mut app = conn.appender("_wanted_keys")?;
        for k in keys {
            app.append_row([*k])?;
        }
        app.flush()?;
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT _key, _file_seq, _line FROM \"{kind}\" WHERE _key IN (SELECT k FROM _wanted_keys)"
    ))?;
    let mut out = KeyMap::default();
    for batch in stmt.query_arrow([])? {
        let seqs = batch.column(1).as_primitive::<Int64Type>();
        let lines = batch.column(2).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            out.insert(
                key_id(text_at(batch.column(0).as_ref(), i)),
                (seqs.value(i) as u64, lines.value(i) as u64),
            );
        }
    }
    Ok(out)
}

fn text_at(a: &dyn Array, i: usize) -> &str {
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i),
        DataType::LargeUtf8 => a.as_string::<i64>().value(i),
        DataType::Utf8View => a.as_string_view().value(i),
        _ => "",
    }
}

/// What one file said about its kind's records, as its reader saw it (compared
/// with the versions current before this run).
#[derive(Debug, Default)]
pub struct FileKeys {
    /// Rows stored: new or changed against the run's starting state.
    pub stored: Vec<StoredRow>,
    /// Rows equal to the version current before the run (not stored): the first
    /// word of their key and their line, kept compact (a re-sent county is tens of
    /// millions of them) and needed only when an earlier file of the same run
    /// changed the same record.
    pub same_as_before: Vec<u64>,
    pub same_as_before_lines: Vec<u32>,
    /// Key texts of rows that correct a record stored before the run (to find the
    /// stored version they retire).
    pub corrections: Vec<(KeyId, String)>,
    /// Snapshots: every key the file lists (accepted, or quarantined with a
    /// readable key) and the scopes it covers.
    pub listed: KeySet,
    pub scopes: HashSet<u32>,
}

#[derive(Debug, Clone, Copy)]
pub struct StoredRow {
    pub key: KeyId,
    pub hash: u64,
    pub line: u32,
    pub scope: u32,
}

/// Why a stored version stopped being current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetireReason {
    /// A later version of the record (same key, other values) replaced it.
    Changed,
    /// A later snapshot no longer lists the record.
    Gone,
}

impl RetireReason {
    pub fn code(self) -> &'static str {
        match self {
            RetireReason::Changed => "changed",
            RetireReason::Gone => "gone",
        }
    }
}

/// The stored row a retirement names: known (file, line), or the version current
/// before the run, found afterwards by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Stored { file_seq: u64, line: u64 },
    Before(KeyId),
}

/// One version retired by this run, and what retired it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    pub target: Target,
    pub reason: RetireReason,
    pub by_file_seq: u64,
    pub by_line: Option<u64>,
}

/// A retirement with its stored row found: what the run's retirement file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired {
    pub file_seq: u64,
    pub line: u64,
    pub reason: RetireReason,
    pub by_file_seq: u64,
    pub by_line: Option<u64>,
}

/// Finds the stored rows of retirements named by key (`Target::Before`).
pub fn resolve(
    retired: &[Retirement],
    located: &KeyMap<(u64, u64)>,
) -> Result<Vec<Retired>, KeyId> {
    retired
        .iter()
        .map(|r| {
            let (file_seq, line) = match r.target {
                Target::Stored { file_seq, line } => (file_seq, line),
                Target::Before(key) => *located.get(&key).ok_or(key)?,
            };
            Ok(Retired {
                file_seq,
                line,
                reason: r.reason,
                by_file_seq: r.by_file_seq,
                by_line: r.by_line,
            })
        })
        .collect()
}

/// Per-file outcome of the reconciliation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileCounts {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Records of the current set this snapshot no longer lists.
    pub gone: u64,
    /// Stored lines that turned out to repeat a version an earlier file of this
    /// run already stored: removed from the file's staged parts.
    pub drop_lines: Vec<u64>,
}

/// The current state of a key during reconciliation.
#[derive(Debug, Clone, Copy)]
enum State {
    /// The version stored before this run is current.
    Before,
    /// A version stored by this run.
    Run {
        hash: u64,
        file_seq: u64,
        line: u64,
        scope: u32,
    },
    Gone,
}

/// Replays the files of one kind in file order against the versions current before
/// the run: which rows are new, changed or unchanged, which versions retire, and
/// (snapshots) which records are gone.
pub fn reconcile(
    load: Load,
    before: &Index,
    files: &[(u64, &FileKeys)],
) -> (Vec<FileCounts>, Vec<Retirement>) {
    match load {
        Load::Events => reconcile_events(before, files),
        Load::Snapshot => reconcile_snapshots(before, files),
    }
}

/// One row of the run, for the events reconciliation: sorted by key, then file.
#[derive(Clone, Copy)]
struct RunRow {
    key: KeyId,
    file: u32,
    line: u32,
    hash: u64,
}

/// Events: every key on its own, its versions in file order. Sorting the run's
/// rows instead of mapping every key keeps the first load of tens of millions of
/// payouts within memory (one 32-byte row each, no hash table).
fn reconcile_events(
    before: &Index,
    files: &[(u64, &FileKeys)],
) -> (Vec<FileCounts>, Vec<Retirement>) {
    let mut counts: Vec<FileCounts> = files
        .iter()
        .map(|(_, k)| FileCounts {
            unchanged: k.same_as_before.len() as u64,
            ..Default::default()
        })
        .collect();
    let mut rows: Vec<RunRow> = files
        .iter()
        .enumerate()
        .flat_map(|(f, (_, k))| {
            k.stored.iter().map(move |r| RunRow {
                key: r.key,
                file: f as u32,
                line: r.line,
                hash: r.hash,
            })
        })
        .collect();
    rows.sort_unstable_by_key(|r| (r.key, r.file, r.line));
    // Rows equal to the stored version matter only where the run also stored the
    // key: found by the key's first word (files, lines), sorted to merge.
    let mut same: Vec<(u64, u32, u32)> = files
        .iter()
        .enumerate()
        .flat_map(|(f, (_, k))| {
            k.same_as_before
                .iter()
                .zip(&k.same_as_before_lines)
                .map(move |(w, l)| (*w, f as u32, *l))
        })
        .collect();
    same.sort_unstable();
    let mut retired = Vec::new();
    let seq_of = |f: u32| files[f as usize].0;
    let mut start = 0;
    while start < rows.len() {
        let key = rows[start].key;
        let end = start + rows[start..].iter().take_while(|r| r.key == key).count();
        let from = same.partition_point(|s| s.0 < key[0]);
        let to = from + same[from..].iter().take_while(|s| s.0 == key[0]).count();
        let before_hash = before.hashes.get(&key).copied();
        // The key's versions in file order: stored rows and rows equal to the
        // version stored before the run.
        let mut events: Vec<(u32, u32, Option<u64>)> = rows[start..end]
            .iter()
            .map(|r| (r.file, r.line, Some(r.hash)))
            .chain(same[from..to].iter().map(|s| (s.1, s.2, None)))
            .collect();
        events.sort_unstable();
        let mut cur: Option<(u64, Target)> = before_hash.map(|h| (h, before_target(before, key)));
        for (file, line, hash) in events {
            let c = &mut counts[file as usize];
            let (seq, line) = (seq_of(file), u64::from(line));
            match hash {
                Some(hash) => {
                    match cur {
                        None => c.new += 1,
                        Some((h, _)) if h == hash => {
                            c.unchanged += 1;
                            c.drop_lines.push(line);
                            continue;
                        }
                        Some((_, target)) => {
                            c.changed += 1;
                            retired.push(changed(target, seq, line));
                        }
                    }
                    cur = Some((
                        hash,
                        Target::Stored {
                            file_seq: seq,
                            line,
                        },
                    ));
                }
                // Equal to the version stored before the run (already counted
                // unchanged): a change only if an earlier file of the run changed it.
                None => match (cur, before_hash) {
                    (Some((h, target)), Some(b)) if h != b => {
                        c.unchanged -= 1;
                        c.changed += 1;
                        retired.push(changed(target, seq, line));
                        cur = Some((b, before_target(before, key)));
                    }
                    _ => {}
                },
            }
        }
        start = end;
    }
    (counts, retired)
}

fn changed(target: Target, by_file_seq: u64, by_line: u64) -> Retirement {
    Retirement {
        target,
        reason: RetireReason::Changed,
        by_file_seq,
        by_line: Some(by_line),
    }
}

/// Snapshots: files in order, each dropping what it no longer lists (registers and
/// reference tables: at most a few million records).
fn reconcile_snapshots(
    before: &Index,
    files: &[(u64, &FileKeys)],
) -> (Vec<FileCounts>, Vec<Retirement>) {
    let mut touched: KeyMap<State> = KeyMap::default();
    let mut retired: Vec<Retirement> = Vec::new();
    let mut counts = Vec::with_capacity(files.len());
    for (seq, keys) in files {
        let mut c = FileCounts::default();
        for row in &keys.stored {
            let line = u64::from(row.line);
            let now = State::Run {
                hash: row.hash,
                file_seq: *seq,
                line,
                scope: row.scope,
            };
            match current(&touched, before, row.key) {
                None => c.new += 1,
                Some((hash, _)) if hash == row.hash => {
                    c.unchanged += 1;
                    c.drop_lines.push(line);
                    continue;
                }
                Some((_, target)) => {
                    c.changed += 1;
                    retired.push(Retirement {
                        target,
                        reason: RetireReason::Changed,
                        by_file_seq: *seq,
                        by_line: Some(line),
                    });
                }
            }
            touched.insert(row.key, now);
        }
        same_as_before(&mut touched, &mut retired, &mut c, keys, *seq, before);
        if !keys.listed.is_empty() {
            c.gone = drop_unlisted(&mut touched, before, keys, *seq, &mut retired);
        }
        counts.push(c);
    }
    (counts, retired)
}

/// Rows equal to the version current before the run are unchanged — unless an
/// earlier file of this run changed or dropped that record (rare: then they bring
/// the earlier version back).
fn same_as_before(
    touched: &mut KeyMap<State>,
    retired: &mut Vec<Retirement>,
    c: &mut FileCounts,
    keys: &FileKeys,
    seq: u64,
    before: &Index,
) {
    let mut c_unchanged = keys.same_as_before.len() as u64;
    if !touched.is_empty() {
        let by_word: HashMap<u64, KeyId> = touched.keys().map(|k| (k[0], *k)).collect();
        for (word, line) in keys.same_as_before.iter().zip(&keys.same_as_before_lines) {
            let Some(key) = by_word.get(word).copied() else {
                continue;
            };
            match touched.get(&key).copied() {
                Some(State::Run {
                    file_seq, line: l, ..
                }) => {
                    c_unchanged -= 1;
                    c.changed += 1;
                    retired.push(Retirement {
                        target: Target::Stored { file_seq, line: l },
                        reason: RetireReason::Changed,
                        by_file_seq: seq,
                        by_line: Some(u64::from(*line)),
                    });
                    touched.insert(key, State::Before);
                }
                Some(State::Gone) => {
                    // An earlier snapshot of this run dropped it: that drop is undone.
                    c_unchanged -= 1;
                    c.new += 1;
                    let target = before_target(before, key);
                    retired.retain(|r| !(r.target == target && r.reason == RetireReason::Gone));
                    touched.insert(key, State::Before);
                }
                _ => {}
            }
        }
    }
    c.unchanged += c_unchanged;
}

/// The current version of a key: its hash and how to name its stored row.
fn current(touched: &KeyMap<State>, before: &Index, key: KeyId) -> Option<(u64, Target)> {
    match touched.get(&key) {
        Some(State::Run {
            hash,
            file_seq,
            line,
            ..
        }) => Some((
            *hash,
            Target::Stored {
                file_seq: *file_seq,
                line: *line,
            },
        )),
        Some(State::Gone) => None,
        Some(State::Before) | None => before
            .hashes
            .get(&key)
            .map(|h| (*h, before_target(before, key))),
    }
}

fn before_target(before: &Index, key: KeyId) -> Target {
    match before.located.get(&key) {
        Some(l) => Target::Stored {
            file_seq: u64::from(l.file_seq),
            line: u64::from(l.line),
        },
        None => Target::Before(key),
    }
}

/// A snapshot replaces the current set within the scopes it covers: every current
/// record there that it does not list is gone.
fn drop_unlisted(
    touched: &mut KeyMap<State>,
    before: &Index,
    keys: &FileKeys,
    seq: u64,
    retired: &mut Vec<Retirement>,
) -> u64 {
    let covered = |scope: u32| scope == 0 || keys.scopes.contains(&scope);
    let mut gone: Vec<(KeyId, Target)> = Vec::new();
    for (key, loc) in &before.located {
        if touched.contains_key(key) || keys.listed.contains(key) || !covered(loc.scope) {
            continue;
        }
        gone.push((*key, before_target(before, *key)));
    }
    for (key, state) in touched.iter() {
        if keys.listed.contains(key) {
            continue;
        }
        match state {
            State::Run {
                file_seq,
                line,
                scope,
                ..
            } if covered(*scope) => gone.push((
                *key,
                Target::Stored {
                    file_seq: *file_seq,
                    line: *line,
                },
            )),
            State::Before => {
                if before.located.get(key).is_some_and(|l| covered(l.scope)) {
                    gone.push((*key, before_target(before, *key)));
                }
            }
            _ => {}
        }
    }
    // Deterministic order of the retirement file.
    gone.sort_by_key(|(_, t)| match t {
        Target::Stored { file_seq, line } => (*file_seq, *line),
        Target::Before(_) => (u64::MAX, u64::MAX),
    });
    for (key, target) in &gone {
        retired.push(Retirement {
            target: *target,
            reason: RetireReason::Gone,
            by_file_seq: seq,
            by_line: None,
        });
        touched.insert(*key, State::Gone);
    }
    gone.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(n: u64) -> KeyId {
        [n, 0]
    }

    fn stored(key: u64, hash: u64, line: u32) -> StoredRow {
        StoredRow {
            key: k(key),
            hash,
            line,
            scope: 0,
        }
    }

    fn index(rows: &[(u64, u64, u32, u32, u32)]) -> Index {
        let mut i = Index {
            hashes: Versions::from_pairs(rows.iter().map(|r| (k(r.0), r.1)).collect()),
            ..Default::default()
        };
        for &(key, _, file_seq, line, scope) in rows {
            i.located.insert(
                k(key),
                Location {
                    file_seq,
                    line,
                    scope,
                },
            );
        }
        i
    }

    #[test]
    fn versions_find_every_key_and_no_other() {
        let pairs: Vec<(KeyId, u64)> = (0..5000u64)
            .map(|i| (key_id(&format!("P{i}")), i))
            .collect();
        let v = Versions::from_pairs(pairs.iter().rev().copied().collect());
        assert_eq!(v.len(), 5000);
        for (key, h) in &pairs {
            assert_eq!(v.get(key), Some(h));
        }
        assert_eq!(v.get(&key_id("P5000")), None);
        // A key given twice keeps the later hash; an empty table finds nothing.
        let twice = Versions::from_pairs(vec![(k(1), 1), (k(1), 2)]);
        assert_eq!((twice.len(), twice.get(&k(1))), (1, Some(&2)));
        assert_eq!(Versions::default().get(&k(1)), None);
    }

    #[test]
    fn events_new_changed_unchanged() {
        let before = Index {
            hashes: Versions::from_pairs(vec![(k(1), 10), (k(2), 20)]),
            ..Default::default()
        };
        let f = FileKeys {
            stored: vec![stored(2, 21, 2), stored(3, 30, 3)],
            same_as_before: vec![1],
            same_as_before_lines: vec![4],
            ..Default::default()
        };
        let (counts, retired) = reconcile(Load::Events, &before, &[(5, &f)]);
        assert_eq!(
            (counts[0].new, counts[0].changed, counts[0].unchanged),
            (1, 1, 1)
        );
        assert_eq!(retired.len(), 1);
        assert_eq!(retired[0].target, Target::Before(k(2)));
        assert_eq!(retired[0].by_line, Some(2));
    }

    #[test]
    fn a_later_file_of_the_same_run_repeats_or_restores() {
        let before = Index {
            hashes: Versions::from_pairs(vec![(k(1), 10)]),
            ..Default::default()
        };
        let a = FileKeys {
            stored: vec![stored(1, 11, 2), stored(2, 20, 3)],
            ..Default::default()
        };
        // b repeats a's record 2 (unchanged, dropped) and restores record 1's old values.
        let b = FileKeys {
            stored: vec![stored(2, 20, 7)],
            same_as_before: vec![1],
            same_as_before_lines: vec![8],
            ..Default::default()
        };
        let (counts, retired) = reconcile(Load::Events, &before, &[(5, &a), (6, &b)]);
        assert_eq!(counts[1].drop_lines, vec![7]);
        assert_eq!((counts[1].changed, counts[1].unchanged), (1, 1));
        // The old version retired by a, then a's version retired by b.
        assert_eq!(retired.len(), 2);
        assert_eq!(
            retired[1].target,
            Target::Stored {
                file_seq: 5,
                line: 2
            }
        );
    }

    #[test]
    fn a_snapshot_drops_what_it_no_longer_lists_within_its_scope() {
        let before = index(&[(1, 1, 1, 2, 7), (2, 2, 1, 3, 7), (3, 3, 2, 2, 9)]);
        let f = FileKeys {
            same_as_before: vec![1],
            same_as_before_lines: vec![2],
            listed: [k(1)].into_iter().collect(),
            scopes: [7].into_iter().collect(),
            ..Default::default()
        };
        let (counts, retired) = reconcile(Load::Snapshot, &before, &[(4, &f)]);
        assert_eq!((counts[0].unchanged, counts[0].gone), (1, 1));
        assert_eq!(retired.len(), 1);
        assert_eq!(retired[0].reason, RetireReason::Gone);
        assert_eq!(
            retired[0].target,
            Target::Stored {
                file_seq: 1,
                line: 3
            }
        );
    }

    #[test]
    fn a_record_dropped_then_listed_again_in_one_run_stays() {
        let before = index(&[(1, 1, 1, 2, 0), (2, 2, 1, 3, 0)]);
        let first = FileKeys {
            same_as_before: vec![1],
            same_as_before_lines: vec![2],
            listed: [k(1)].into_iter().collect(),
            ..Default::default()
        };
        let second = FileKeys {
            same_as_before: vec![1, 2],
            same_as_before_lines: vec![2, 3],
            listed: [k(1), k(2)].into_iter().collect(),
            ..Default::default()
        };
        let (counts, retired) = reconcile(Load::Snapshot, &before, &[(4, &first), (5, &second)]);
        assert_eq!(counts[0].gone, 1);
        assert_eq!(
            (counts[1].new, counts[1].unchanged, counts[1].gone),
            (1, 1, 0)
        );
        assert!(retired.is_empty(), "{retired:?}");
    }
}
