//! A copied binary runs anywhere: `demo` from a folder outside the project, with no
//! PIPELINE_* variable, builds the same warehouse as the project's data-samples/
//! give and writes the report package; a definitions folder changes the reports, and
//! a broken one is refused by its file name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use calamine::{open_workbook, Data, Reader, Xlsx};
use pension::ingest::IngestOptions;

use crate::common::{samples, Fixture};

struct Demo {
    tmp: tempfile::TempDir,
    /// The binary, copied away from the build folder.
    bin: PathBuf,
    /// Where the demo ran (its outputs are in `demo-out/`).
    here: PathBuf,
    stdout: String,
}

impl Demo {
    fn warehouse(&self) -> PathBuf {
        self.here.join("demo-out/warehouse")
    }

    /// The copied binary, run in `here` with only PATH and a private HOME.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .current_dir(&self.here)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.tmp.path().join("home"));
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .expect("the copied binary starts")
    }

    fn succeeds(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "pipeline {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }
}

/// The binary copied to one temporary folder, `demo` run from another.
fn demo() -> &'static Demo {
    static D: OnceLock<Demo> = OnceLock::new();
    D.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let bin = tmp.path().join("bin/pipeline");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_pipeline"), &bin).expect("copy the binary");
        let here = tmp.path().join("elsewhere");
        std::fs::create_dir_all(&here).unwrap();
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        let mut d = Demo {
            tmp,
            bin,
            here,
            stdout: String::new(),
        };
        d.stdout = d.succeeds(&["demo"]);
        d
    })
}

/// Every file under `dir` (but a warehouse's lock file), relative, with its SHA-256.
fn hashes(dir: &Path) -> Vec<(String, String)> {
    pension::warehouse::walk(dir)
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".lock"))
        .map(|p| {
            (
                pension::warehouse::relative(dir, &p),
                pension::ingest::sha256_file(&p).unwrap().0,
            )
        })
        .collect()
}

/// kind → rows, from the "Tables (表)" section of `pipeline status`.
fn status_rows(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("Tables"))
        .skip(2)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            let kind = w.next().unwrap().to_string();
            (kind, w.next().expect("rows column").to_string())
        })
        .collect()
}

#[test]
fn a_copied_binary_runs_the_demo_from_any_folder() {
    let d = demo();
    assert!(
        d.stdout.contains("no data-samples/ in this folder"),
        "{}",
        d.stdout
    );
    // The inputs it wrote itself are the project's data-samples, byte for byte.
    let written = d.here.join("demo-out/data-samples");
    let county = hashes(&written.join("county"));
    assert!(county.len() > 200, "{} county files", county.len());
    assert_eq!(county, hashes(&samples().join("county")));
    assert_eq!(hashes(&written.join("bad")), hashes(&samples().join("bad")));

    // So its warehouse holds what ingesting the project's data-samples gives.
    let status = d.succeeds(&["--warehouse", "demo-out/warehouse", "status"]);
    assert!(
        status.contains("Definitions: built into this program"),
        "{status}"
    );
    let fx = Fixture::new();
    fx.ingest_with(
        &[samples().join("county"), samples().join("bad")],
        &IngestOptions {
            skip_bad_files: true,
            ..Default::default()
        },
    );
    let expected: BTreeMap<String, String> = fx
        .catalog
        .schemas
        .iter()
        .map(|s| {
            let n: u64 = fx
                .one(&format!("SELECT count(*) FROM \"{}\"", s.kind))
                .parse()
                .unwrap();
            (s.kind.clone(), pension::status::thousands(n))
        })
        .collect();
    // 21 kinds, and issue 30's bank_statement, bank_account, fiscal_notice.
    assert_eq!(expected.len(), 24);
    assert!(expected["payout"] != "0");
    assert_eq!(status_rows(&status), expected);

    // The later stages ran: findings stored, the workbook and dashboard written.
    let findings = d.succeeds(&[
        "--warehouse",
        "demo-out/warehouse",
        "sql",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM findings",
    ]);
    let n: u64 = findings.lines().nth(1).unwrap().trim().parse().unwrap();
    assert!(n > 0, "{findings}");
    let workbook = d.here.join("demo-out/report/月报_2026-10.xlsx");
    let mut wb: Xlsx<_> = open_workbook(&workbook).expect("the demo's workbook opens");
    assert_eq!(wb.sheet_names()[0], "目录");
    let summary = wb.worksheet_range("综合指标").expect("summary sheet");
    assert!(summary.rows().count() > 5);
    assert!(d.here.join("demo-out/dashboard_2026-10.html").is_file());
    assert!(
        d.stdout.contains("Report package: demo-out/report"),
        "{}",
        d.stdout
    );
}

/// A definitions folder with the cancellations report retitled and one report added.
fn edited_definitions(dir: &Path) {
    let reports = dir.join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let builtin = pension::defs::DefSource::builtin();
    let meta = builtin.text("reports/05_cancellations.toml").unwrap();
    let title = "title = \"注销登记（按注销原因）\"";
    assert!(meta.contains(title));
    std::fs::write(
        reports.join("05_cancellations.toml"),
        meta.replace(title, "title = \"注销登记（测试改名）\""),
    )
    .unwrap();
    std::fs::write(
        reports.join("30_enrollment_rows.sql"),
        "SELECT count(*) AS n FROM enrollment",
    )
    .unwrap();
    std::fs::write(
        reports.join("30_enrollment_rows.toml"),
        "title = \"参保登记记录数\"\ntitle_en = \"Enrollment rows\"\nsheet = \"登记记录数\"\n\
         columns = [{ name = \"n\", label = \"记录数\", format = \"integer\" }]\n",
    )
    .unwrap();
}

fn cell(wb: &mut Xlsx<std::io::BufReader<std::fs::File>>, sheet: &str, row: usize) -> Data {
    let range = wb
        .worksheet_range(sheet)
        .unwrap_or_else(|e| panic!("{sheet}: {e}"));
    let rows: Vec<&[Data]> = range.rows().collect();
    rows[row][0].clone()
}

#[test]
fn a_definitions_folder_changes_the_reports_and_status_says_so() {
    let d = demo();
    let defs = d.tmp.path().join("my-definitions");
    edited_definitions(&defs);
    let defs_arg = defs.display().to_string();
    let out = d.here.join("edited-report");
    d.succeeds(&[
        "--definitions",
        &defs_arg,
        "--warehouse",
        "demo-out/warehouse",
        "report",
        "--month",
        "2026-10",
        "--out",
        &out.display().to_string(),
    ]);
    let mut wb: Xlsx<_> = open_workbook(out.join("月报_2026-10.xlsx")).expect("workbook");
    assert_eq!(
        cell(&mut wb, "注销原因", 0).to_string(),
        "注销登记（测试改名）"
    );
    let rows = d.succeeds(&[
        "--warehouse",
        "demo-out/warehouse",
        "sql",
        "--format",
        "csv",
        "SELECT count(*) FROM enrollment",
    ]);
    let enrollment: f64 = rows.lines().nth(1).unwrap().parse().unwrap();
    assert!(enrollment > 1000.0);
    assert_eq!(cell(&mut wb, "登记记录数", 3), Data::Float(enrollment));
    // Without the folder, the built-in title.
    let mut demo_wb: Xlsx<_> =
        open_workbook(d.here.join("demo-out/report/月报_2026-10.xlsx")).expect("workbook");
    assert_eq!(
        cell(&mut demo_wb, "注销原因", 0).to_string(),
        "注销登记（按注销原因）"
    );
    assert!(demo_wb.worksheet_range("登记记录数").is_err());

    // The environment variable does what the flag does; status lists the files.
    let status = d
        .command(&["--warehouse", "demo-out/warehouse", "status"])
        .env("PIPELINE_DEFINITIONS", &defs)
        .output()
        .unwrap();
    assert!(status.status.success());
    let status = String::from_utf8(status.stdout).unwrap();
    let lines: Vec<&str> = status.lines().take(4).collect();
    assert!(
        lines[0].contains(&defs_arg) && lines[0].contains("3 file(s)"),
        "{status}"
    );
    assert!(lines[1].contains("reports/05_cancellations.toml") && lines[1].contains("replaces"));
    assert!(lines[2].contains("reports/30_enrollment_rows.sql") && lines[2].contains("added"));
}

#[test]
fn a_broken_definition_is_refused_by_its_file_name() {
    let d = demo();
    let stderr = |out: Output| {
        assert!(
            !out.status.success(),
            "accepted: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    };
    // A report TOML that does not parse.
    let dir = d.tmp.path().join("broken-toml");
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    let file = dir.join("reports/05_cancellations.toml");
    std::fs::write(&file, "title = \"unterminated\n").unwrap();
    let msg = stderr(d.run(&[
        "--definitions",
        &dir.display().to_string(),
        "--warehouse",
        "demo-out/warehouse",
        "report",
        "--month",
        "2026-10",
        "--out",
        "broken-report",
    ]));
    assert!(msg.contains(&file.display().to_string()), "{msg}");

    // An audit check's SQL that DuckDB refuses: the check and the file are named,
    // and the warehouse (a copy) is left as it was.
    let dir = d.tmp.path().join("broken-check");
    let file = dir.join("checks/DUP_ID.sql");
    crate::common::write(&file, b"SELECT person_no FROM no_such_table");
    let wh = d.tmp.path().join("warehouse-copy");
    crate::common::copy_warehouse(&d.warehouse(), &wh);
    let before = hashes(&wh);
    let msg = stderr(d.run(&[
        "--definitions",
        &dir.display().to_string(),
        "--warehouse",
        &wh.display().to_string(),
        "audit",
        "--month",
        "2026-10",
    ]));
    assert!(
        msg.contains("DUP_ID") && msg.contains(&file.display().to_string()),
        "{msg}"
    );
    assert_eq!(hashes(&wh), before);

    // A check file no check has, and a folder that is a reports folder itself.
    let dir = d.tmp.path().join("unknown-check");
    let file = dir.join("checks/DUP_IDS.sql");
    crate::common::write(&file, b"SELECT 1");
    let msg = stderr(d.run(&["--definitions", &dir.display().to_string(), "status"]));
    assert!(
        msg.contains(&file.display().to_string()) && msg.contains("DUP_ID.sql"),
        "{msg}"
    );
    let dir = d.tmp.path().join("reports-itself");
    let file = dir.join("05_cancellations.toml");
    crate::common::write(&file, b"title = \"x\"");
    let msg = stderr(d.run(&["--definitions", &dir.display().to_string(), "status"]));
    assert!(msg.contains(&file.display().to_string()), "{msg}");
    let msg = stderr(d.run(&["--definitions", "no-such-folder", "status"]));
    assert!(msg.contains("no-such-folder"), "{msg}");
}

/// Every check of the audit catalogue has its SQL built into the binary (this lived
/// in defs' unit tests until defs stopped importing the audit: tools/import-cycles).
#[test]
fn every_check_of_the_catalogue_has_its_sql_built_in() {
    let with_sql: Vec<&str> = pension::audit::CHECKS
        .iter()
        .filter_map(|c| c.sql_file)
        .collect();
    assert!(with_sql.len() >= 10, "{with_sql:?}");
    for file in with_sql {
        assert!(pension::defs::builtin(file).is_some(), "{file} is built in");
    }
}
