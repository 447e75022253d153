//! The province (issue 20) on the bundled two counties (data-samples/province, with
//! persons known to both): each county through ingest, ledger and audit, exported,
//! rolled up on DuckDB — each county's rows equal its own package, the cross-county
//! checks find exactly the planted cases — and the same SQL on Spark in local mode
//! gives every figure to the fen (skipped without pyspark, unless
//! PIPELINE_REQUIRE_SPARK=1, as `.ci/run` sets).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use pension::audit::{self, AuditOptions};
use pension::domain::Period;
use pension::reports::{self, export, province, Definitions, ReportOptions};
use pension::warehouse::connect;

use crate::common::{open_wh, samples, Fixture};

const MONTH: &str = "2026-10";

fn month() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
}

struct Province {
    counties: Vec<(String, Fixture)>,
    data: tempfile::TempDir,
    run: province::ProvinceRun,
}

/// Both counties built and exported, and the DuckDB roll-up, once for the tests.
fn province() -> &'static Province {
    static P: OnceLock<Province> = OnceLock::new();
    P.get_or_init(|| {
        let data = tempfile::tempdir().unwrap();
        let mut counties = Vec::new();
        for code in ["411725", "411726"] {
            let fx = Fixture::new();
            let report = fx.ingest(&[samples().join("province").join(code)]);
            assert!(report.committed, "county {code} ingests");
            let mut wh = open_wh(&fx.wh_dir());
            let opts = pension::ledger::StageOptions::new(month());
            pension::ledger::run(&mut wh, &fx.catalog, &opts).expect("ledger runs");
            let opts = AuditOptions {
                month: MONTH.into(),
                command: "test".into(),
                who: "tester".into(),
                ..Default::default()
            };
            audit::run_audit(&mut wh, &fx.catalog, &opts).expect("audit runs");
            drop(wh);
            let wh = pension::warehouse::Warehouse::open_read(&fx.wh_dir()).unwrap();
            let conn = connect(&wh, &fx.catalog).unwrap();
            let kinds: Vec<String> = fx.catalog.schemas.iter().map(|s| s.kind.clone()).collect();
            let opts = ReportOptions::of_period(
                Period::month(pension::domain::Month::of(month())),
                false,
                true,
            );
            export::export(&conn, &opts, &kinds, code, data.path()).expect("export");
            counties.push((code.to_string(), fx));
        }
        let defs = Definitions::load_default().unwrap();
        let run = province::compute(data.path(), month(), &defs).expect("province");
        Province {
            counties,
            data,
            run,
        }
    })
}

/// A table as canonical text rows (exact numbers, ISO dates).
fn rows(t: &reports::Table) -> Vec<Vec<String>> {
    let bytes = province::raw_csv(t).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    r.records()
        .map(|x| x.unwrap().iter().map(province::canonical).collect())
        .collect()
}

#[test]
fn each_county_in_the_province_is_its_own_package() {
    let p = province();
    assert_eq!(p.run.counties, ["411725", "411726"]);
    for (code, fx) in &p.counties {
        let wh = pension::warehouse::Warehouse::open_read(&fx.wh_dir()).unwrap();
        let own = reports::compute_month(
            &wh,
            &fx.catalog,
            &ReportOptions::monthly(month(), false, false),
        )
        .expect("the county's own package");
        assert!(own.tables.len() >= 15, "{} tables", own.tables.len());
        for t in &own.tables {
            if !t.def.meta.province {
                // A county's own reconciliation (province = false): not rolled up.
                assert!(
                    p.run.run.table(&t.def.name).is_none(),
                    "{} is the county's own",
                    t.def.name
                );
                continue;
            }
            let stacked = p
                .run
                .run
                .table(&t.def.name)
                .expect("the province has the table");
            let mine: Vec<Vec<String>> = rows(stacked)
                .into_iter()
                .filter(|r| r[0] == *code)
                .map(|r| r[1..].to_vec())
                .collect();
            let expected: Vec<Vec<String>> = rows(&reports::Table {
                totals: None,
                ..t.clone()
            });
            assert_eq!(mine, expected, "county {code}, table {}", t.def.name);
        }
    }
}

#[test]
fn the_province_total_adds_the_counties_up() {
    let p = province();
    let t = p.run.run.table("08_benefits_township").unwrap();
    let col = t
        .def
        .meta
        .columns
        .iter()
        .position(|c| c.name == "total_paid")
        .unwrap();
    let sum: rust_decimal::Decimal = t.rows.iter().filter_map(|r| r[col].decimal()).sum();
    let total = t.totals.as_ref().expect("a province total row");
    assert_eq!(
        total[0],
        reports::Cell::Text(province::PROVINCE_TOTAL.into())
    );
    assert_eq!(total[col].decimal(), Some(sum));
    assert!(sum > rust_decimal::Decimal::ZERO);
    // Ratios are recomputed from the summed parts, not added.
    let rate = t
        .def
        .meta
        .columns
        .iter()
        .position(|c| c.name == "payout_rate")
        .unwrap();
    let [ok, all] = ["payout_ok", "payout_rows"].map(|n| {
        let i = t.def.meta.columns.iter().position(|c| c.name == n).unwrap();
        t.rows
            .iter()
            .filter_map(|r| r[i].decimal())
            .sum::<rust_decimal::Decimal>()
    });
    assert_eq!(total[rate].decimal(), Some(reports::half_up(ok / all, 6)));
}

/// The answer key: (code, id, county, person_no, other county, other person_no,
/// first month, last month, amount), canonical.
fn truth() -> Vec<Vec<String>> {
    let path = samples().join("province/_truth/cross_county.csv");
    let mut r = csv::Reader::from_path(&path).unwrap();
    let mut out: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(province::canonical).collect())
        .collect();
    out.sort();
    out
}

fn found(findings: &[Vec<String>]) -> Vec<Vec<String>> {
    // Months as YYYY-MM (the answer key's), without the evidence text.
    let mut out: Vec<Vec<String>> = findings
        .iter()
        .map(|r| {
            let mut r = r[..9].to_vec();
            for m in [6, 7] {
                r[m] = r[m].chars().take(7).collect();
            }
            r
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_cross_county_checks_find_the_planted_cases_and_nothing_else() {
    let p = province();
    let key = truth();
    assert_eq!(
        key.len(),
        3,
        "the bundled province plants one case of each check"
    );
    assert_eq!(found(&rows(&p.run.findings)), key);
    // Each county gets back the cases that name it; the package's copy is masked.
    assert_eq!(p.run.findings_of("411725").len(), 3);
    let masked = p.run.run.table("cross_county").unwrap();
    let ids: Vec<String> = rows(masked).iter().map(|r| r[1].clone()).collect();
    assert!(
        ids.iter().take(3).all(|id| id.contains("********")),
        "{ids:?}"
    );
}

fn spark_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import pyspark, sqlglot"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("PIPELINE_REQUIRE_SPARK").is_none(),
            "PIPELINE_REQUIRE_SPARK is set but python3 cannot import pyspark and sqlglot"
        );
        eprintln!("skipped: no pyspark/sqlglot for python3 (pip install pyspark sqlglot)");
    }
    ok
}

#[test]
fn spark_gives_every_figure_to_the_fen() {
    if !spark_available() {
        return;
    }
    let p = province();
    let out = tempfile::tempdir().unwrap();
    let job: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("spark/province.py");
    let run = std::process::Command::new("python3")
        .arg(&job)
        .arg("--data")
        .arg(p.data.path())
        .args(["--month", MONTH])
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("python3 starts");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (diffs, compared) = province::compare(&p.run, &out.path().join("csv")).unwrap();
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert_eq!(
        compared,
        p.run.run.tables.len(),
        "every table and the findings"
    );
    // And so Spark found the planted cases too.
    let bytes = std::fs::read(out.path().join("csv/cross_county.csv")).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let spark: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(province::canonical).collect())
        .collect();
    assert_eq!(found(&spark), truth());
}

/// The cross-county findings of a county's warehouse (latest audit), as
/// (code, person_no, amount, evidence), sorted.
fn cross_findings_of(fx: &Fixture) -> Vec<(String, String, String, String)> {
    let codes = [
        "DUAL_ENROLLMENT",
        "DUAL_PAYOUT",
        "PAID_AFTER_DEATH_ELSEWHERE",
    ];
    crate::common::latest_findings(fx)
        .into_iter()
        .filter(|f| codes.contains(&f.code.as_str()))
        .map(|f| (f.code, f.person_no, f.amount, f.evidence))
        .collect()
}

/// 回县核查: each county ingests the file the province wrote for it (a registry
/// kind, province_finding), and its own audit lists every case from its side — the
/// amount on the county that recovers it, none on the other — for its workbench; a
/// later roll-up that no longer finds them closes them (已消除).
#[test]
fn cross_county_findings_go_back_to_each_county_audit() {
    let p = province();
    let out = tempfile::tempdir().unwrap();
    province::write(&p.run, out.path()).expect("the province package");
    let mut seen = Vec::new();
    for (code, built) in &p.counties {
        let fx = Fixture::new();
        crate::common::copy_warehouse(&built.wh_dir(), &fx.wh_dir());
        let back = out.path().join("回县核查").join(format!("{code}.csv"));
        let report = fx.ingest(std::slice::from_ref(&back));
        assert!(report.committed, "{code} reads its 回县核查 file");
        let f = &report.files[0];
        assert_eq!(
            (f.kind.as_deref(), f.rows_read, f.quarantined),
            (Some("province_finding"), 3, 0),
            "{code}"
        );
        crate::common::audit_month(&fx, MONTH);
        let found = cross_findings_of(&fx);
        let short: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|(c, p, a, _)| (c.as_str(), p.as_str(), a.as_str()))
            .collect();
        let expected: Vec<(&str, &str, &str)> = match code.as_str() {
            "411725" => vec![
                ("DUAL_ENROLLMENT", "4117250010000001", ""),
                // The other side: 411726 started later and recovers.
                ("DUAL_PAYOUT", "4117250010000085", ""),
                ("PAID_AFTER_DEATH_ELSEWHERE", "4117250020000005", "690.00"),
            ],
            _ => vec![
                ("DUAL_ENROLLMENT", "4117260010000050", ""),
                ("DUAL_PAYOUT", "4117260020000016", "13048.00"),
                // 411726 recorded the death and never enrolled the person.
                ("PAID_AFTER_DEATH_ELSEWHERE", "", ""),
            ],
        };
        assert_eq!(short, expected, "county {code}");
        let evidence: Vec<&str> = found.iter().map(|f| f.3.as_str()).collect();
        assert!(
            evidence.iter().all(|e| e.contains("省级跨地区比对")),
            "{evidence:?}"
        );
        if code == "411725" {
            assert!(
                evidence[1].contains("verify with 411726, which is to recover 13048.00"),
                "{}",
                evidence[1]
            );
        } else {
            assert!(
                evidence[2].contains("ID 411725193809229755")
                    && evidence[2].contains("is enrolled here"),
                "{}",
                evidence[2]
            );
        }
        seen.push(found.len());

        // The next roll-up finds nothing for this county: the snapshot empties and
        // the audit closes the three findings.
        let header = std::fs::read_to_string(&back).unwrap();
        let empty = fx.dir.path().join(format!("回县核查-next/{code}.csv"));
        crate::common::write(&empty, header.lines().next().unwrap().as_bytes());
        let r = fx.ingest(&[empty]);
        assert!(r.committed && r.files[0].gone == 3, "{:?}", r.files);
        crate::common::audit_month(&fx, MONTH);
        assert!(cross_findings_of(&fx).is_empty(), "county {code}");
        let closed = fx.one(
            "SELECT count(*) FROM findings WHERE check_code IN ('DUAL_ENROLLMENT', 'DUAL_PAYOUT', \
             'PAID_AFTER_DEATH_ELSEWHERE') AND status = 'closed' AND NOT in_latest_audit",
        );
        assert_eq!(closed, "3", "county {code}");
    }
    assert_eq!(seen, [3, 3]);
}
