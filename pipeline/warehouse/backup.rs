//! Backup and restore of a whole warehouse (数据备份与恢复).
//!
//! A backup is one plain `tar` file (readable by any `tar -tf`), no compression
//! (the Parquet files are already zstd-compressed):
//! ```text
//! warehouse/manifest.json            every file of the warehouse, under warehouse/
//! warehouse/tables/…/f12-0.parquet
//! …
//! BACKUP-SHA256SUMS                  written last: one line per file
//!                                    (SHA-256, size, path), then the count of
//!                                    files and the SHA-256 of the lines above it
//! ```
//! Consistency: the backup holds the warehouse's write lock while it reads, so no
//! ingest, ledger or audit commits (and deletes superseded files) half-way through;
//! readers — `report`, `sql`, the workbench — are not blocked. The append-only
//! logs (operator log, finding assignments) may gain a line while they are read:
//! their copy stops at the last complete line. Login sessions are not kept.
//!
//! Restore reads the whole archive into a hidden folder beside the target, checks
//! every file against the list and the list against itself, checks that the
//! manifest names no file the archive lacks, and only then renames the folder into
//! place: a corrupt or truncated archive is refused and leaves nothing behind.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{relative, walk, Manifest, Warehouse, WarehouseError};

/// The archive's last member: the checksum list.
pub const SUMS: &str = "BACKUP-SHA256SUMS";
/// The folder the warehouse's files sit under inside the archive.
const PREFIX: &str = "warehouse";
/// The first line of the checksum list (its format version).
const HEADER: &str = "pension-warehouse-backup 1";

/// Files of the warehouse folder a backup leaves out besides hidden ones (the lock,
/// an ingest in progress, temporary files) and `*.tmp`: the workbench's login
/// sessions (serve::auth::SESSIONS_FILE, a later layer), so that a restored
/// warehouse starts with everyone logged out.
const LEFT_OUT: &[&str] = &["sessions.json"];

/// Append-only text files, copied up to their last complete line.
const APPEND_ONLY: &[&str] = &[crate::oplog::FILE, crate::oplog::ASSIGNMENT_FILE];

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Warehouse(#[from] WarehouseError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} holds no warehouse (no manifest.json): nothing to back up; check --warehouse")]
    NoWarehouse(PathBuf),
    #[error("the backup file {archive} is damaged (备份文件已损坏): {problem}; nothing was restored — use another copy of the backup")]
    Corrupt { archive: PathBuf, problem: String },
    #[error("the backup file {archive} is incomplete (备份文件不完整): {problem}; it was probably cut short while copying — nothing was restored, copy it again or use another backup")]
    Truncated { archive: PathBuf, problem: String },
    #[error("{0} already exists and is not empty: a restore goes into a new or empty folder (it never overwrites a warehouse); choose another --warehouse or move that folder away")]
    TargetNotEmpty(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a backup or a restore handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Files in the archive (besides the checksum list).
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Committed runs in the manifest (ingests, ledgers, audits).
    pub runs: usize,
}

/// One file of the archive as the checksum list records it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sum {
    sha256: String,
    size: u64,
}

/// Writes a backup of the warehouse at `root` to `out`. The archive is written
/// beside `out` under a temporary name and renamed when complete, so `out` is
/// either the whole backup or untouched.
pub fn backup(root: &Path, out: &Path) -> Result<BackupSummary, BackupError> {
    if !root.join(super::manifest::MANIFEST).is_file() {
        return Err(BackupError::NoWarehouse(root.to_path_buf()));
    }
    // The write lock: no commit moves or deletes files while they are read.
    let wh = Warehouse::open(root)?;
    let partial = sibling(out, "partial");
    let result = write_archive(&wh, &partial);
    match result {
        Ok(summary) => {
            std::fs::rename(&partial, out).map_err(io(out))?;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// `dir/name` → `dir/.name.<what>-<pid>`: a hidden neighbour on the same file
/// system, so that the final rename is atomic.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or("backup".into(), |n| n.to_string_lossy().into_owned());
    let hidden = format!(".{name}.{what}-{}", std::process::id());
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(hidden),
        _ => PathBuf::from(hidden),
    }
}

fn write_archive(wh: &Warehouse, partial: &Path) -> Result<BackupSummary, BackupError> {
    let root = wh.root();
    let file = File::create(partial).map_err(io(partial))?;
    let mut tar = tar::Builder::new(BufWriter::new(file));
    let mut sums = BTreeMap::new();
    for path in files_to_keep(root) {
        let rel = relative(root, &path);
        let data = read_member(&path, &rel)?;
        let name = format!("{PREFIX}/{rel}");
        append(&mut tar, &name, &data).map_err(io(partial))?;
        sums.insert(rel, sum_of(&data));
    }
    let list = sums_text(&sums);
    append(&mut tar, SUMS, list.as_bytes()).map_err(io(partial))?;
    let writer = tar.into_inner().map_err(io(partial))?;
    let file = writer
        .into_inner()
        .map_err(|e| io(partial)(e.into_error()))?;
    file.sync_all().map_err(io(partial))?;
    Ok(BackupSummary {
        files: sums.len(),
        bytes: sums.values().map(|s| s.size).sum(),
        runs: wh.manifest().runs.len(),
    })
}

/// Every file under the warehouse folder but those left out, sorted.
fn files_to_keep(root: &Path) -> Vec<PathBuf> {
    walk(root)
        .into_iter()
        .filter(|p| {
            let rel = relative(root, p);
            let first = rel.split('/').next().unwrap_or("");
            !LEFT_OUT.contains(&first) && !first.starts_with('.') && !rel.ends_with(".tmp")
        })
        .collect()
}

/// A file's bytes; an append-only log up to its last complete line.
fn read_member(path: &Path, rel: &str) -> Result<Vec<u8>, BackupError> {
    let mut data = std::fs::read(path).map_err(io(path))?;
    if APPEND_ONLY.contains(&rel) {
        let end = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        data.truncate(end);
    }
    Ok(data)
}

fn append<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    tar.append_data(&mut header, name, data)
}

fn sum_of(data: &[u8]) -> Sum {
    Sum {
        sha256: hex(&Sha256::digest(data)),
        size: data.len() as u64,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The checksum list: a header line, `sha256  size  path` per file, `files N`,
/// then `end <sha256 of everything above>` so that the list checks itself.
fn sums_text(sums: &BTreeMap<String, Sum>) -> String {
    let mut text = format!("{HEADER}\n");
    for (rel, s) in sums {
        text.push_str(&format!("{}  {}  {rel}\n", s.sha256, s.size));
    }
    text.push_str(&format!("files {}\n", sums.len()));
    let seal = hex(&Sha256::digest(text.as_bytes()));
    text.push_str(&format!("end {seal}\n"));
    text
}

/// Reads a checksum list back; `None` with the reason if it does not check itself.
fn parse_sums(text: &str) -> Result<BTreeMap<String, Sum>, String> {
    let body_end = text
        .rfind("end ")
        .ok_or("the checksum list has no end line")?;
    let (body, end) = text.split_at(body_end);
    let seal = end.trim_start_matches("end ").trim();
    if hex(&Sha256::digest(body.as_bytes())) != seal {
        return Err("the checksum list does not match its own seal".into());
    }
    let mut lines = body.lines();
    if lines.next() != Some(HEADER) {
        return Err(format!(
            "the checksum list does not start with `{HEADER}` (not a backup of this pipeline, or a newer format)"
        ));
    }
    let mut sums = BTreeMap::new();
    let mut count = None;
    for line in lines {
        if let Some(n) = line.strip_prefix("files ") {
            count = n.parse::<usize>().ok();
            continue;
        }
        let mut parts = line.splitn(3, "  ");
        let (Some(sha), Some(size), Some(rel)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("unreadable line in the checksum list: {line}"));
        };
        let size = size
            .parse()
            .map_err(|_| format!("unreadable size in the checksum list: {line}"))?;
        sums.insert(
            rel.to_string(),
            Sum {
                sha256: sha.to_string(),
                size,
            },
        );
    }
    if count != Some(sums.len()) {
        return Err("the checksum list's file count does not match its lines".into());
    }
    Ok(sums)
}

/// Restores the backup `archive` into `target`, which must not exist or be an
/// empty folder. Nothing appears at `target` unless every check passed.
pub fn restore(archive: &Path, target: &Path) -> Result<BackupSummary, BackupError> {
    if target.exists() && !is_empty_dir(target)? {
        return Err(BackupError::TargetNotEmpty(target.to_path_buf()));
    }
    let staging = sibling(target, "restoring");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    let result = unpack_and_check(archive, &staging).and_then(|summary| {
        if target.exists() {
            std::fs::remove_dir(target).map_err(io(target))?;
        }
        std::fs::rename(&staging, target).map_err(io(target))?;
        Ok(summary)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Checks a backup without restoring it: every file against the checksum list.
pub fn verify(archive: &Path) -> Result<BackupSummary, BackupError> {
    let scratch = std::env::temp_dir().join(format!("pension-verify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let result = unpack_and_check(archive, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn is_empty_dir(path: &Path) -> Result<bool, BackupError> {
    if !path.is_dir() {
        return Ok(false);
    }
    Ok(std::fs::read_dir(path).map_err(io(path))?.next().is_none())
}

fn unpack_and_check(archive: &Path, dest: &Path) -> Result<BackupSummary, BackupError> {
    let corrupt = |problem: String| BackupError::Corrupt {
        archive: archive.to_path_buf(),
        problem,
    };
    let truncated = |problem: String| BackupError::Truncated {
        archive: archive.to_path_buf(),
        problem,
    };
    let file = File::open(archive).map_err(io(archive))?;
    let archive_len = file.metadata().map_err(io(archive))?.len();
    if archive_len == 0 {
        return Err(truncated("it is empty (0 bytes)".into()));
    }
    let mut tar = tar::Archive::new(BufReader::new(file));
    let entries = tar.entries().map_err(|e| corrupt(e.to_string()))?;
    let mut found: BTreeMap<String, Sum> = BTreeMap::new();
    let mut list: Option<String> = None;
    for entry in entries {
        let first = found.is_empty() && list.is_none();
        let mut entry =
            entry.map_err(|e| unreadable(archive_len, first, e, &corrupt, &truncated))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if list.is_some() {
            return Err(corrupt(format!(
                "{name} comes after the checksum list, which is always last"
            )));
        }
        let declared = entry.size();
        let mut data = Vec::with_capacity(declared as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| unreadable(archive_len, false, e, &corrupt, &truncated))?;
        if (data.len() as u64) < declared {
            return Err(truncated(format!(
                "{name} stops after {} of its {declared} bytes",
                data.len()
            )));
        }
        if name == SUMS {
            list = Some(
                String::from_utf8(data)
                    .map_err(|_| corrupt("the checksum list is not text".into()))?,
            );
            continue;
        }
        let rel = member_path(&name).ok_or_else(|| {
            corrupt(format!(
                "unexpected member {name} (a backup holds only warehouse/… files)"
            ))
        })?;
        let path = dest.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, &data).map_err(io(&path))?;
        found.insert(rel, sum_of(&data));
    }
    let list = list.ok_or_else(|| {
        truncated(format!(
            "it ends after {} files without its checksum list ({SUMS}, always the last member)",
            found.len()
        ))
    })?;
    let listed = parse_sums(&list).map_err(corrupt)?;
    compare(&listed, &found).map_err(|p| corrupt(p))?;
    // The manifest must name no file the archive lacks (a backup of a damaged
    // warehouse is refused here, not discovered at the first query).
    let manifest = Manifest::load(dest)?;
    if let Some(missing) = manifest
        .all_parts()
        .into_iter()
        .find(|rel| !found.contains_key(rel))
    {
        return Err(corrupt(format!(
            "its manifest names {missing}, which the backup does not hold"
        )));
    }
    Ok(BackupSummary {
        files: found.len(),
        bytes: found.values().map(|s| s.size).sum(),
        runs: manifest.runs.len(),
    })
}

/// A read error inside the archive: an unreadable first header means the file is
/// no backup at all; an archive ending inside a header, a member or a member's
/// padding is truncated; anything else (a header failing its checksum) is damage.
/// A tar archive is whole 512-byte blocks, so a length that is not a multiple of 512
/// is a cut whatever the tar reader's words for where it noticed.
fn unreadable(
    archive_len: u64,
    first: bool,
    e: std::io::Error,
    corrupt: &dyn Fn(String) -> BackupError,
    truncated: &dyn Fn(String) -> BackupError,
) -> BackupError {
    // The length, not the tar reader's wording: it says "failed to read entire
    // block" for a cut header and "unexpected EOF during skip" for a cut padding.
    let short = e.kind() == std::io::ErrorKind::UnexpectedEof || archive_len % 512 != 0;
    if first {
        corrupt(format!(
            "it is not a backup written by `pipeline backup` (no archive header can be read: {e})"
        ))
    } else if short {
        truncated(format!("it ends early, after {archive_len} bytes ({e})"))
    } else {
        corrupt(e.to_string())
    }
}

/// `warehouse/tables/x.parquet` → `tables/x.parquet`; `None` for anything outside
/// `warehouse/` or with `..`, absolute or empty parts (never written outside).
fn member_path(name: &str) -> Option<String> {
    let rel = name.strip_prefix(PREFIX)?.strip_prefix('/')?;
    let ok = !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    ok.then(|| rel.to_string())
}

/// Every listed file present with its checksum and size, and nothing unlisted.
fn compare(listed: &BTreeMap<String, Sum>, found: &BTreeMap<String, Sum>) -> Result<(), String> {
    for (rel, want) in listed {
        match found.get(rel) {
            None => return Err(format!("{rel} is listed but missing")),
            Some(got) if got != want => {
                return Err(format!(
                    "{rel} does not match its checksum (SHA-256 {} expected, {} found)",
                    want.sha256, got.sha256
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = found.keys().find(|rel| !listed.contains_key(*rel)) {
        return Err(format!(
            "{extra} is in the archive but not in its checksum list"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_list_checks_itself() {
        let mut sums = BTreeMap::new();
        sums.insert("manifest.json".to_string(), sum_of(b"{}"));
        sums.insert("tables/a/f1-0.parquet".to_string(), sum_of(b"PAR1"));
        let text = sums_text(&sums);
        assert_eq!(parse_sums(&text), Ok(sums));
        let tampered = text.replacen("  2  ", "  3  ", 1);
        assert!(parse_sums(&tampered).unwrap_err().contains("seal"));
    }

    #[test]
    fn members_stay_inside_the_warehouse() {
        assert_eq!(
            member_path("warehouse/tables/a.parquet").as_deref(),
            Some("tables/a.parquet")
        );
        assert_eq!(member_path("warehouse/../etc/passwd"), None);
        assert_eq!(member_path("/warehouse/x"), None);
        assert_eq!(member_path("other/x"), None);
        assert_eq!(member_path("warehouse/"), None);
    }
}
