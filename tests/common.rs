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

/// A private copy of a warehouse folder (for a test that writes to it), without its lock.
pub fn copy_warehouse(from: &Path, to: &Path) {
    for p in pension::warehouse::walk(from) {
        let rel = p.strip_prefix(from).unwrap();
        if rel.to_string_lossy().ends_with(".lock") {
            continue;
        }
        write(&to.join(rel), &std::fs::read(&p).unwrap());
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

/// Opens the warehouse for writing, waiting out a lock held for a moment by a child
/// process of another test: a process spawned while this one held the lock keeps a
/// copy of the lock's descriptor until it execs (fork/exec), so `Locked` can be
/// spurious while tests run in parallel.
pub fn open_wh(dir: &Path) -> Warehouse {
    for _ in 0..100 {
        match Warehouse::open(dir) {
            Ok(wh) => return wh,
            Err(pension::warehouse::WarehouseError::Locked(_)) => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(e) => panic!("open {}: {e}", dir.display()),
        }
    }
    panic!("{} stayed locked", dir.display())
}

/// Ingests `files` into the fixture's warehouse (kinds recognised from their
/// headers); every row must be accepted.
pub fn ingest_all(fx: &Fixture, files: &[PathBuf]) {
    ingest_accepted(fx, files, &IngestOptions::default());
}

fn ingest_accepted(fx: &Fixture, files: &[PathBuf], opts: &IngestOptions) {
    let mut wh = open_wh(&fx.wh_dir());
    let report = ingest::ingest(&mut wh, &fx.catalog, files, opts).expect("ingest");
    assert!(report.committed, "fixture ingests");
    for f in &report.files {
        assert_eq!(f.quarantined, 0, "{:?}: {:?}", f.source, f.first_reasons);
    }
}

/// The audit as of `month` (YYYY-MM), as `pipeline audit --month` runs it.
pub fn audit_month(fx: &Fixture, month: &str) -> pension::audit::AuditReport {
    let mut wh = open_wh(&fx.wh_dir());
    let opts = pension::audit::AuditOptions {
        month: month.into(),
        command: "test".into(),
        who: "tester".into(),
        ..Default::default()
    };
    pension::audit::run_audit(&mut wh, &fx.catalog, &opts).expect("audit runs")
}

/// The ledger (individual accounts) through `month` (YYYY-MM).
pub fn ledger_through(fx: &Fixture, month: &str) {
    let first =
        chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").expect("YYYY-MM");
    let mut wh = open_wh(&fx.wh_dir());
    let opts = pension::ledger::StageOptions::new(first);
    pension::ledger::run(&mut wh, &fx.catalog, &opts).expect("ledger runs");
}

/// A finding of the latest audit run, as text (`amount` empty when it has none).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub code: String,
    pub subject: String,
    pub person_no: String,
    /// `YYYY-MM..YYYY-MM`, empty when the finding has no month.
    pub months: String,
    pub amount: String,
    pub evidence: String,
}

pub fn latest_findings(fx: &Fixture) -> Vec<Finding> {
    fx.rows(
        "SELECT check_code, subject, coalesce(person_no, ''),
                coalesce(strftime(month_from, '%Y-%m') || '..' || strftime(month_to, '%Y-%m'), ''),
                coalesce(amount_at_risk::VARCHAR, ''), evidence
         FROM findings WHERE in_latest_audit ORDER BY 1, 2",
    )
    .into_iter()
    .map(|r| Finding {
        code: r[0].clone(),
        subject: r[1].clone(),
        person_no: r[2].clone(),
        months: r[3].clone(),
        amount: r[4].clone(),
        evidence: r[5].clone(),
    })
    .collect()
}

/// Hand-written input: CSV rows per kind, each file written with the kind's English
/// column names (docs/rules.md § Files: English or Chinese headers) and ingested with
/// its kind named, so a fixture never depends on header recognition.
#[derive(Default)]
pub struct Inputs {
    rows: std::collections::BTreeMap<&'static str, Vec<String>>,
}

impl Inputs {
    /// One CSV row (fields in the order of [`header`]) of `kind`.
    pub fn add(&mut self, kind: &'static str, row: impl Into<String>) -> &mut Inputs {
        assert!(header(kind).is_some(), "no fixture header for kind {kind}");
        self.rows.entry(kind).or_default().push(row.into());
        self
    }

    /// Writes one file per kind under `dir` and ingests them; every row must be accepted.
    pub fn ingest(&self, fx: &Fixture, dir: &Path) {
        for (kind, rows) in &self.rows {
            let text = format!("{}\n{}\n", header(kind).unwrap(), rows.join("\n"));
            let file = write(&dir.join(format!("{kind}.csv")), text.as_bytes());
            let opts = IngestOptions {
                kind: Some(kind.to_string()),
                ..Default::default()
            };
            ingest_accepted(fx, &[file], &opts);
        }
    }
}

/// The column order fixture rows are written in, per kind (input-formats: the English
/// column names).
pub fn header(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "enrollment" => "person_no,id_number,name,sex,birth_date,hukou_type,township,village,enroll_date,tier,bank_account,agreement,phone,address",
        "change" => "person_no,field,old_value,new_value,change_date,operator",
        "cancellation" => "person_no,id_number,reason,event_date,apply_date,refund_amount,payee",
        "contribution" => "voucher_no,person_no,id_number,year,amount,kind,channel,receipt_no,paid_date,status,fail_reason",
        "collective_subsidy" => "voucher_no,person_no,year,amount,payer,paid_date",
        "government_subsidy" => "voucher_no,person_no,year,level,kind,amount,credited_date",
        "benefit_approval" => "person_no,id_number,start_month,basic_monthly,account_monthly,account_balance,approve_date",
        "payout" => "payout_no,person_no,id_number,name,month,basic_amount,account_amount,total_amount,bank_account,paid_date,status",
        "certification" => "person_no,year,cert_date,method,result",
        "suspension" => "person_no,reason,start_month,end_month",
        "transfer" => "person_no,id_number,direction,counterpart,amount,date",
        "receipt_book" => "book_no,first_no,last_no,holder,township,issue_date,settle_date,amount_collected,amount_deposited,voided",
        "fund_ledger" => "account,txn_date,voucher_no,direction,amount,category,counterpart",
        "fiscal_notice" => "notice_no,date,level,purpose,amount",
        "id_registry" => "id_number,name,sex,birth_date,township,village,hukou_type,in_school,status,status_date",
        "death_record" => "id_number,name,death_date,source,record_date",
        "employee_pension" => "id_number,name,status,start_date,end_date,employer",
        "inmate" => "id_number,name,start_date,end_date",
        "interest_rate" => "year,rate",
        "basic_pension_standard" => "from_month,amount",
        "tier_subsidy" => "tier,subsidy,central,province,city,county",
        _ => return None,
    })
}
