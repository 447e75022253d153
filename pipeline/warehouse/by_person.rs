//! Person-clustered copies of the kinds spread over many files, for reading one
//! person's rows quickly (the workbench's person and finding pages).
//!
//! Why: a payout file arrives every month and each holds a row for every pensioner,
//! so at a million persons one person's payouts are in 333 files: 0.55–1.0 s to
//! read them there, even with each file sorted by person, against 29 ms from one
//! person-sorted copy (official DuckDB, 1M bench county, load 5–8).
//!
//! A copy, `<kind>_by_person`, is a derived table: the kind's current records
//! sorted by person in row groups of 65,536 rows. Not smaller: DuckDB's cost per
//! row group outweighs the rows it skips — one person's payouts from the 22 M-row
//! copy took 559 ms in row groups of 2,048 rows, 299 ms in 4,096, 99 ms in 16,384,
//! 29 ms in 65,536 and 35 ms in 131,072. Its file name carries a
//! fingerprint of the parts and retirements it was made from; a session defines the
//! view only while that fingerprint is the kind's current one, so a copy never
//! shows rows an ingest has since corrected (readers fall back to the kind's own
//! view). The copy is written without holding the warehouse's lock — it can take a
//! minute at a million persons — and committed under the lock only if the kind has
//! not changed meanwhile.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{connect, lit, RunEntry, Warehouse, WarehouseError};
use crate::schema::Catalog;

/// `payout` → `payout_by_person`.
pub const SUFFIX: &str = "_by_person";

/// Kinds stored in fewer part files than this are read directly.
const MIN_PARTS: usize = 8;

const ROW_GROUP: usize = 65_536;

/// Where copies are written before the lock is taken (not under `.staging`,
/// which any writer's open removes).
const BUILD_DIR: &str = ".by-person-build";

/// A copy made by [`refresh`].
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub kind: String,
    pub rows: u64,
    pub seconds: f64,
}

/// The column that names the person in a kind's rows.
fn person_column(catalog: &Catalog, kind: &str) -> Option<&'static str> {
    let schema = catalog.schemas.iter().find(|s| s.kind == kind)?;
    ["person_no", "id_number"]
        .into_iter()
        .find(|c| schema.columns.iter().any(|col| col.name == *c))
}

/// A hash of the files a kind's current records are read from, and of the copy's
/// layout (a build that writes copies otherwise makes them again).
fn fingerprint(wh: &Warehouse, kind: &str) -> String {
    let mut text = format!("row groups {ROW_GROUP}\n");
    for part in wh.manifest().files_of(kind).flat_map(|f| f.parts.iter()) {
        text.push_str(part);
        text.push('\n');
    }
    text.push('\u{1}');
    for part in wh.manifest().retired.get(kind).into_iter().flatten() {
        text.push_str(part);
        text.push('\n');
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

fn copy_rel(kind: &str, fingerprint: &str) -> String {
    format!("derived/by_person/{kind}-{fingerprint}.parquet")
}

/// Whether the derived table `name` is a person copy, and if so whether it was made
/// from the kind's current files (the session defines the view only then).
pub fn is_stale_copy(wh: &Warehouse, name: &str, parts: &[String]) -> bool {
    let Some(kind) = name.strip_suffix(SUFFIX) else {
        return false;
    };
    parts != [copy_rel(kind, &fingerprint(wh, kind))]
}

/// The kinds worth a copy whose copy is missing or stale, with their person column.
fn stale(wh: &Warehouse, catalog: &Catalog) -> Vec<(String, &'static str)> {
    catalog
        .schemas
        .iter()
        .filter_map(|s| {
            let by = person_column(catalog, &s.kind)?;
            let parts: usize = wh.manifest().files_of(&s.kind).map(|f| f.parts.len()).sum();
            let name = format!("{}{SUFFIX}", s.kind);
            let current = wh.manifest().derived.get(&name);
            let fresh = current.is_some_and(|p| !is_stale_copy(wh, &name, p));
            (parts >= MIN_PARTS && !fresh).then(|| (s.kind.clone(), by))
        })
        .collect()
}

/// Brings every kind's person copy up to date. Reads at the warehouse's state now,
/// writes outside the lock, then commits under it (one run) the copies whose kind
/// is unchanged. Returns what was made; nothing when every copy is current.
pub fn refresh(root: &Path, catalog: &Catalog) -> Result<Vec<Refreshed>, WarehouseError> {
    let snapshot = Warehouse::open_read(root)?;
    let todo = stale(&snapshot, catalog);
    if todo.is_empty() {
        return Ok(Vec::new());
    }
    let started = super::now();
    let build = root.join(BUILD_DIR).join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(root.join(BUILD_DIR));
    std::fs::create_dir_all(&build).map_err(|source| WarehouseError::Io {
        path: build.clone(),
        source,
    })?;
    let result = build_copies(&snapshot, catalog, &todo, &build)
        .and_then(|made| commit(root, made, &started));
    let _ = std::fs::remove_dir_all(root.join(BUILD_DIR));
    result
}

/// A copy written to the build folder: (kind, fingerprint it was made from, file).
type Made = (Refreshed, String, PathBuf);

fn build_copies(
    wh: &Warehouse,
    catalog: &Catalog,
    todo: &[(String, &'static str)],
    build: &Path,
) -> Result<Vec<Made>, WarehouseError> {
    let conn = connect(wh, catalog)?;
    // Sorting tens of millions of rows: spill to disk rather than hold them.
    conn.execute_batch(&format!(
        "SET temp_directory = {}; SET memory_limit = '2GB';",
        lit(&build.join("spill").to_string_lossy())
    ))?;
    let mut made = Vec::new();
    for (kind, by) in todo {
        let t = Instant::now();
        let fp = fingerprint(wh, kind);
        let path = build.join(format!("{kind}-{fp}.parquet"));
        conn.execute_batch(&format!(
            "COPY (SELECT * FROM \"{kind}\" ORDER BY \"{by}\", _file_seq, _line) TO {} \
             (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP});",
            lit(&path.to_string_lossy())
        ))?;
        let rows: i64 = conn.query_row(
            &format!(
                "SELECT count(*) FROM read_parquet({})",
                lit(&path.to_string_lossy())
            ),
            [],
            |r| r.get(0),
        )?;
        let io = |source| WarehouseError::Io {
            path: path.clone(),
            source,
        };
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        let done = Refreshed {
            kind: kind.clone(),
            rows: rows as u64,
            seconds: t.elapsed().as_secs_f64(),
        };
        made.push((done, fp, path));
    }
    Ok(made)
}

/// Under the lock: keeps the copies whose kind has not changed since they were read.
fn commit(root: &Path, made: Vec<Made>, started: &str) -> Result<Vec<Refreshed>, WarehouseError> {
    let mut wh = Warehouse::open(root)?;
    let mut tx = wh.begin()?;
    let mut kept = Vec::new();
    for (done, fp, file) in made {
        // `fp` is the kind as it was read: a commit since then leaves the copy out.
        if fingerprint(&wh, &done.kind) != fp {
            continue;
        }
        let rel = copy_rel(&done.kind, &fp);
        let to = tx.stage(&rel);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|source| WarehouseError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        std::fs::rename(&file, &to).map_err(|source| WarehouseError::Io {
            path: to.clone(),
            source,
        })?;
        tx.replace_derived(&format!("{}{SUFFIX}", done.kind), vec![rel]);
        kept.push(done);
    }
    if kept.is_empty() {
        tx.abort();
        return Ok(kept);
    }
    let run = RunEntry::derived(&tx.run_id, "person copies (by_person)", started.to_string());
    tx.commit(&mut wh, run)?;
    Ok(kept)
}
