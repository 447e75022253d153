//! `manifest.json`: the record of what the warehouse holds.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{io, WarehouseError};

/// One ingested input file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    /// Ingest order across the warehouse; a registry file with a higher `seq` is
    /// the newer snapshot.
    pub seq: u64,
    pub run_id: String,
    pub kind: String,
    /// The path as given on the command line.
    pub source: String,
    pub sha256: String,
    /// SHA-256 of the kind's definition (schemas/KIND.toml) the file was read under;
    /// empty in manifests written before it was recorded.
    #[serde(default)]
    pub schema_sha256: String,
    pub bytes: u64,
    pub encoding: String,
    pub rows_read: u64,
    pub accepted: u64,
    pub quarantined: u64,
    /// Accepted rows carrying a flag (malformed ID number on an operational record).
    pub flagged: u64,
    /// Of the accepted rows: new records, new versions of stored records, and rows
    /// equal to the current version (not stored); snapshots: records dropped.
    #[serde(default)]
    pub new: u64,
    #[serde(default)]
    pub changed: u64,
    #[serde(default)]
    pub unchanged: u64,
    #[serde(default)]
    pub gone: u64,
    pub extra_columns: Vec<String>,
    pub ingested_at: String,
    /// Parquet files of accepted rows, relative to the warehouse root.
    pub parts: Vec<String>,
    pub quarantine_part: Option<String>,
}

/// A file that was refused as a whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Refusal {
    pub source: String,
    pub reason: String,
}

/// One command that changed the warehouse.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunEntry {
    pub run_id: String,
    pub command: String,
    pub started_at: String,
    pub finished_at: String,
    pub files: Vec<u64>,
    /// Byte-identical to a file already ingested: nothing done.
    #[serde(default)]
    pub unchanged: Vec<String>,
    #[serde(default)]
    pub refused: Vec<Refusal>,
}

impl RunEntry {
    /// A run of a later stage (ledger, reconciliation, audit, person copies): it
    /// stores derived tables, no input files, and finishes now.
    pub fn derived(run_id: &str, command: &str, started_at: String) -> RunEntry {
        RunEntry {
            run_id: run_id.to_string(),
            command: command.to_string(),
            started_at,
            finished_at: super::now(),
            files: Vec::new(),
            unchanged: Vec::new(),
            refused: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub version: u32,
    pub next_seq: u64,
    pub files: Vec<FileEntry>,
    pub runs: Vec<RunEntry>,
    /// Tables computed by later stages (ledger, audit): name → Parquet files.
    #[serde(default)]
    pub derived: BTreeMap<String, Vec<String>>,
    /// Versions no longer current, per kind: one file per run that retired some
    /// (the stored row, why, and what replaced or dropped it).
    #[serde(default)]
    pub retired: BTreeMap<String, Vec<String>>,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            version: VERSION,
            next_seq: 1,
            files: Vec::new(),
            runs: Vec::new(),
            derived: BTreeMap::new(),
            retired: BTreeMap::new(),
        }
    }
}

pub const MANIFEST: &str = "manifest.json";

/// 2: stored rows carry `_key` and `_hash` (record identity) and runs may retire
/// versions. A version-1 warehouse has no identity columns and cannot be compared
/// with new files.
pub const VERSION: u32 = 2;

impl Manifest {
    pub fn load(root: &Path) -> Result<Manifest, WarehouseError> {
        let path = root.join(MANIFEST);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let m: Manifest =
                    serde_json::from_str(&text).map_err(|e| WarehouseError::Manifest {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                if m.version < VERSION {
                    return Err(WarehouseError::OldFormat {
                        path: root.to_path_buf(),
                        found: m.version,
                        wanted: VERSION,
                    });
                }
                Ok(m)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Write to a temporary file, flush it to disk, then rename over the old one.
    pub fn save(&self, root: &Path) -> Result<(), WarehouseError> {
        let tmp = root.join(format!("{MANIFEST}.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(|e| WarehouseError::Manifest {
            path: tmp.clone(),
            message: e.to_string(),
        })?;
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(text.as_bytes()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        let path = root.join(MANIFEST);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }

    /// The latest stored file with these bytes.
    pub fn by_sha(&self, sha: &str) -> Option<&FileEntry> {
        self.files.iter().rev().find(|f| f.sha256 == sha)
    }

    pub fn files_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a FileEntry> + 'a {
        self.files.iter().filter(move |f| f.kind == kind)
    }

    /// Every committed data file, relative to the root.
    pub fn all_parts(&self) -> BTreeSet<String> {
        let mut set: BTreeSet<String> = self
            .files
            .iter()
            .flat_map(|f| f.parts.iter().chain(f.quarantine_part.iter()).cloned())
            .collect();
        set.extend(self.derived.values().flatten().cloned());
        set.extend(self.retired.values().flatten().cloned());
        set
    }
}
