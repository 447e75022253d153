//! The versions current before a run, read from the warehouse, and where a record's
//! current version is stored.

use duckdb::arrow::array::{Array, AsArray};
use duckdb::arrow::datatypes::{DataType, Int64Type};
use duckdb::Connection;

use super::{key_id, scope_id, KeyId, KeyMap, KEY_SEPARATOR};
use crate::schema::{Load, Schema};

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
    // Events kinds need only key and hash: where a version is stored is looked up
    // afterwards, for the few a run corrects.
    let located_sql = if snapshot {
        format!(", _file_seq, _line, {scope_sql} AS _scope")
    } else {
        String::new()
    };
    let sql = format!("SELECT _key, _hash{located_sql} FROM \"{}\"", schema.kind);
    // Sized once from the count (the Parquet footers): grown by doubling, the 22 M
    // payouts of a 1M-person county would hold room for 33 M (270 MB more) at the
    // re-ingest's peak.
    let rows: i64 = conn.query_row(
        &format!("SELECT count(*) FROM \"{}\"", schema.kind),
        [],
        |r| r.get(0),
    )?;
    let rows = usize::try_from(rows).unwrap_or(0);
    let mut stmt = conn.prepare(&sql)?;
    let mut index = Index::default();
    let mut versions = Vec::with_capacity(rows);
    if snapshot {
        index.located.reserve(rows);
    }
    // Streamed a chunk at a time: a materialised result of a re-sent county's
    // payouts (22 M key texts at 1M persons) would cost more than the index itself.
    for batch in stmt.stream_arrow([])? {
        let batch = batch?;
        let keys = batch.column(0);
        let hashes = batch.column(1).as_primitive::<Int64Type>();
        let located = snapshot.then(|| {
            (
                batch.column(2).as_primitive::<Int64Type>(),
                batch.column(3).as_primitive::<Int64Type>(),
                batch.column(4),
            )
        });
        for i in 0..batch.num_rows() {
            let key = key_id(text_at(keys.as_ref(), i));
            versions.push((key, hashes.value(i) as u64));
            if let Some((seqs, lines, scopes)) = located {
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
