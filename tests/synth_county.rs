//! The synthetic county: deterministic, ingests cleanly, and its answer key agrees
//! with the records it wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::synth::{generate, SynthConfig};
use rust_decimal::Decimal;

use crate::common::Fixture;

fn county(dir: &Path, persons: u32, seed: u64) -> crate::synth::SynthReport {
    generate(
        &SynthConfig {
            persons,
            seed,
            ..SynthConfig::default()
        },
        dir,
    )
    .expect("synth")
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn hashes(dir: &Path) -> Vec<(String, String)> {
    pension::warehouse::walk(dir)
        .into_iter()
        .map(|p| {
            (
                pension::warehouse::relative(dir, &p),
                pension::ingest::sha256_file(&p).unwrap().0,
            )
        })
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_county() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    county(&a, 300, 11);
    county(&b, 300, 11);
    county(&c, 300, 12);
    let ha = hashes(&a);
    assert!(ha.len() > 20, "a county is many files: {}", ha.len());
    assert_eq!(ha, hashes(&b));
    assert_ne!(ha, hashes(&c));
}

#[test]
fn county_ingests_cleanly_and_its_answer_key_holds() {
    let fx = Fixture::new();
    let dir = fx.dir.path().join("county");
    let report = county(&dir, 600, 23);

    // Every kind, both header languages, both encodings and XLSX are exercised — but
    // the file the province sends back (province_finding), which the province's
    // roll-up writes (tests/province.rs reads it into each county).
    let kinds: BTreeSet<&str> = report.files.iter().map(|f| f.kind.as_str()).collect();
    let county_kinds: BTreeSet<&str> = fx
        .catalog
        .schemas
        .iter()
        .map(|s| s.kind.as_str())
        .filter(|k| *k != "province_finding")
        .collect();
    assert_eq!(kinds, county_kinds);
    let encodings: BTreeSet<&str> = report.files.iter().map(|f| f.encoding.as_str()).collect();
    for e in ["utf8", "utf8-bom", "gb18030", "xlsx"] {
        assert!(encodings.contains(e), "no {e} file in {encodings:?}");
    }
    let langs: BTreeSet<&str> = report
        .files
        .iter()
        .map(|f| f.header_lang.as_str())
        .collect();
    assert_eq!(langs.len(), 2);

    // Ingest: every file recognised as the kind it is, every row accepted.
    let ingest = fx.ingest(&[dir.clone()]);
    assert!(ingest.committed);
    assert_eq!(ingest.files.len(), report.files.len());
    for w in &report.files {
        let f = ingest
            .files
            .iter()
            .find(|f| f.source == dir.join(&w.path))
            .expect("ingested");
        assert_eq!(
            f.kind.as_deref(),
            Some(w.kind.as_str()),
            "{}",
            w.path.display()
        );
        assert_eq!(
            (f.rows_read, f.quarantined),
            (w.rows, 0),
            "{}: {:?}",
            w.path.display(),
            f.first_reasons
        );
    }

    // The answer key agrees with the warehouse.
    let truth = read_csv(&dir.join("_truth/ground_truth.csv"));
    let looks = read_csv(&dir.join("_truth/lookalikes.csv"));
    let codes: BTreeSet<&str> = truth.iter().map(|t| t["check_code"].as_str()).collect();
    // Every check of the catalogue (the audit stage's own list) is injected, but the
    // province's (planted by `synth --province`).
    for code in pension::audit::catalogue::CHECKS
        .iter()
        .filter(|c| !c.from_province)
        .map(|c| c.code)
    {
        assert!(codes.contains(code), "no injected {code}");
    }
    let flagged: BTreeSet<String> = truth
        .iter()
        .filter(|t| t["check_code"] == "ID_INVALID")
        .map(|t| t["person_no"].clone())
        .collect();
    let db = fx.session();
    for p in &flagged {
        let n = db.rows(&format!(
            "SELECT count(*) FROM enrollment WHERE person_no = '{p}' AND _flags LIKE 'ID_INVALID%'"
        ));
        assert_ne!(n[0][0], "0", "ID_INVALID {p} is flagged on its enrollment");
    }
    for t in truth.iter().filter(|t| t["check_code"] == "ID_UNKNOWN") {
        let n = db.rows(&format!(
            "SELECT count(*) FROM id_registry WHERE id_number = '{}'",
            t["id_number"]
        ));
        assert_eq!(
            n[0][0], "0",
            "ID_UNKNOWN {} is not in the register",
            t["person_no"]
        );
    }
    // Overpayments: the key's amount is what the payout files hold for those months.
    for code in ["DUP_PAYMENT", "PAID_AFTER_DEATH", "UNDERAGE_PAID"] {
        for t in truth.iter().filter(|t| t["check_code"] == code) {
            let paid = db.rows(&format!(
                "SELECT coalesce(sum(total_amount), 0), count(*) FROM payout WHERE person_no = '{}' AND status = 'ok' \
                 AND strftime(month, '%Y-%m') BETWEEN '{}' AND '{}'",
                t["person_no"], t["month_from"], t["month_to"]
            ));
            let amount: Decimal = t["amount"].parse().unwrap_or(Decimal::NEGATIVE_ONE);
            let total: Decimal = paid[0][0].parse().unwrap();
            assert!(
                amount > Decimal::ZERO,
                "{code} {} has an amount",
                t["person_no"]
            );
            if code == "DUP_PAYMENT" {
                assert!(
                    paid[0][1].parse::<u64>().unwrap() >= 2,
                    "{code} {}: {paid:?}",
                    t["person_no"]
                );
            } else {
                assert_eq!(total, amount, "{code} {}: key vs payouts", t["person_no"]);
            }
        }
    }
    for t in truth
        .iter()
        .filter(|t| t["check_code"] == "LATE_DEATH_REPORT")
    {
        let days = db.rows(&format!(
            "SELECT max(apply_date - event_date) FROM cancellation WHERE person_no = '{}' AND reason = 'death'",
            t["person_no"]
        ));
        assert!(
            days[0][0].parse::<i64>().unwrap() > 60,
            "LATE_DEATH_REPORT {}",
            t["person_no"]
        );
    }
    for t in truth.iter().filter(|t| t["check_code"] == "DUP_ID") {
        let n = db.rows(&format!(
            "SELECT count(DISTINCT person_no) FROM enrollment WHERE id_number = (SELECT any_value(id_number) FROM enrollment WHERE person_no = '{}')",
            t["person_no"]
        ));
        assert!(
            n[0][0].parse::<u64>().unwrap() >= 2,
            "DUP_ID {}",
            t["person_no"]
        );
    }
    // Look-alikes are never in the key.
    let flagged_persons: BTreeSet<&str> = truth
        .iter()
        .map(|t| t["person_no"].as_str())
        .filter(|p| !p.is_empty())
        .collect();
    assert!(!looks.is_empty());
    for l in &looks {
        for p in l["person_no"].split(';') {
            assert!(
                !flagged_persons.contains(p),
                "look-alike {p} ({}) is in the ground truth",
                l["kind"]
            );
        }
    }
}
