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
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

mod reconcile;
mod versions;

pub use reconcile::{
    reconcile, resolve, FileCounts, FileKeys, RetireReason, Retired, Retirement, StoredRow, Target,
};
pub use versions::{load_index, locate, Index, Location, Versions};

use super::validate::Cell;
use super::value;
use crate::schema::{ColType, Column, Schema};

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
    /// Columns a printed report's title block fills (its period): facts of the
    /// file, not of the line, so not part of its content (usually none).
    not_content: Vec<usize>,
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
            not_content: schema.fact_columns(),
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
            let content = &cells[..self.content.min(cells.len())];
            if self.not_content.is_empty() {
                for c in content {
                    lay_out(c, buf);
                }
            } else {
                for (i, c) in content.iter().enumerate() {
                    if !self.not_content.contains(&i) {
                        lay_out(c, buf);
                    }
                }
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
            } else if (0..=9999).contains(&date.year()) {
                // As chrono's `%Y-%m-%d` writes it, without reading that format
                // string again for every row's key.
                let _ = write!(
                    out,
                    "{:04}-{:02}-{:02}",
                    date.year(),
                    date.month(),
                    date.day()
                );
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

pub(crate) fn scope_id(scope_text: &str) -> u32 {
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
            ColType::Enum => Cell::Text(col.enum_code(text).unwrap_or(text).into()),
            _ => Cell::Text(crate::idnum::fold_width(text).into()),
        };
        let mut s = String::new();
        render(&cell, col.ty, &mut s);
        out.push(s);
    }
    Ok(out.join(&KEY_SEPARATOR.to_string()))
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::ingest::validate::Cell;
    use crate::schema::ColType;

    #[test]
    fn a_date_in_a_key_is_written_as_chrono_writes_it() {
        // Keys stored by earlier runs were written with chrono's `%Y-%m-%d`: the
        // hand-written form must give the same text, or re-sent rows would look new.
        for days in (-800_000..800_000)
            .step_by(7)
            .chain([-719_162, 0, 2_932_896])
        {
            let date = crate::ingest::value::from_epoch_days(days);
            let mut out = String::new();
            render(&Cell::Days(days), ColType::Date, &mut out);
            assert_eq!(out, date.format("%Y-%m-%d").to_string(), "{days}");
        }
    }
}
