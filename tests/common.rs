//! Shared helpers: a fresh warehouse, ingest, and queries as rows of text.

use std::path::{Path, PathBuf};
use std::process::Command;

use pension::ingest::{self, IngestOptions, IngestReport};
use pension::query;
use pension::schema::Catalog;
use pension::warehouse::{connect, Warehouse};

/// The input kinds built into the program (the project's schemas/).
pub fn catalog() -> Catalog {
    Catalog::from_source(&pension::defs::DefSource::builtin()).expect("schemas load")
}

pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples")
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub catalog: Catalog,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
            catalog: catalog(),
        }
    }

    pub fn wh_dir(&self) -> PathBuf {
        self.dir.path().join("warehouse")
    }

    pub fn ingest_with(&self, paths: &[PathBuf], opts: &IngestOptions) -> IngestReport {
        let mut wh = Warehouse::open(&self.wh_dir()).expect("open warehouse");
        ingest::ingest(&mut wh, &self.catalog, paths, opts).expect("ingest runs")
    }

    pub fn ingest(&self, paths: &[PathBuf]) -> IngestReport {
        self.ingest_with(paths, &IngestOptions::default())
    }

    /// Query result as text rows (CSV formatting of DuckDB's Arrow result).
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        self.session().rows(sql)
    }

    /// One DuckDB session over the warehouse as it is now (for many queries).
    pub fn session(&self) -> Session {
        let wh = Warehouse::open_read(&self.wh_dir()).expect("open warehouse");
        Session {
            conn: connect(&wh, &self.catalog).expect("connect"),
        }
    }

    pub fn one(&self, sql: &str) -> String {
        let rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql} returned {} rows", rows.len());
        rows[0][0].clone()
    }

    /// Every file under the warehouse, relative, with its size (for "unchanged" checks).
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        pension::warehouse::walk(&self.wh_dir())
            .into_iter()
            .filter(|p| !p.ends_with(".lock"))
            .map(|p| {
                let len = p.metadata().map(|m| m.len()).unwrap_or(0);
                (pension::warehouse::relative(&self.wh_dir(), &p), len)
            })
            .collect()
    }
}

pub fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::fs::write(path, bytes).expect("write");
    path.to_path_buf()
}

pub struct Session {
    pub conn: duckdb::Connection,
}

impl Session {
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let (schema, batches) =
            query::query(&self.conn, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let mut buf = Vec::new();
        query::write(schema, &batches, query::Format::Csv, &mut buf).expect("csv");
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(buf.as_slice());
        r.records()
            .map(|rec| rec.expect("csv row").iter().map(str::to_string).collect())
            .collect()
    }
}

/// The binary as a user runs it, on the warehouse `wh`, with its built-in
/// definitions (a PIPELINE_DEFINITIONS of the tester's shell is not passed on).
pub fn pipeline(wh: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pipeline"));
    c.arg("--warehouse").arg(wh);
    c.env_remove("PIPELINE_DEFINITIONS");
    c
}

/// Runs a command that must succeed (the test fails with its stderr otherwise) and
/// returns its standard output.
pub fn succeeds(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}
