//! End-to-end properties of a small synthetic county.

use super::*;
use std::collections::BTreeSet;

/// Every check of the catalogue (pinned to the rules' list by the catalogue's own test).
/// The checks one synthetic county plants (the province's are planted by
/// `synth --province`: tests/province.rs).
fn codes() -> impl Iterator<Item = &'static str> {
    pension::audit::catalogue::CHECKS
        .iter()
        .filter(|c| !c.from_province)
        .map(|c| c.code)
}

/// A fresh directory under the system temp dir; removed by `Scratch::drop`.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("synth-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn small(seed: u64) -> SynthConfig {
    SynthConfig {
        persons: 400,
        seed,
        ..SynthConfig::default()
    }
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn text(p: &Path) -> String {
    String::from_utf8(bytes(p)).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn same_config_gives_the_same_bytes() {
    let (a, b) = (Scratch::new("a"), Scratch::new("b"));
    let ra = generate(&small(7), &a.0).expect("first run");
    let rb = generate(&small(7), &b.0).expect("second run");
    assert_eq!(ra, rb);
    let meta = [
        "_truth/ground_truth.csv",
        "_truth/lookalikes.csv",
        "_truth/files.csv",
    ]
    .map(PathBuf::from);
    for path in ra.files.iter().map(|f| &f.path).chain(&meta) {
        assert!(
            bytes(&a.0.join(path)) == bytes(&b.0.join(path)),
            "{} differs",
            path.display()
        );
    }
}

#[test]
fn every_check_is_injected_and_nothing_else_is_found() {
    let out = Scratch::new("checks");
    let report = generate(&small(11), &out.0).expect("generate");
    for code in codes() {
        assert!(
            report.injected.get(code).copied().unwrap_or(0) >= 3,
            "{code}: {:?}",
            report.injected
        );
    }
    let gt = text(&out.0.join("_truth/ground_truth.csv"));
    assert!(gt.starts_with("check_code,person_no,id_number,month_from,month_to,amount,note\n"));
    assert!(
        !gt.contains(",background"),
        "a background record trips a check"
    );
    let flagged: BTreeSet<&str> = gt
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .filter(|p| !p.is_empty())
        .collect();
    let looks = text(&out.0.join("_truth/lookalikes.csv"));
    assert_eq!(looks.lines().count() as u64, report.lookalikes + 1);
    for l in looks.lines().skip(1) {
        let person = l.split(',').nth(1).unwrap_or("");
        assert!(
            !flagged.contains(person),
            "look-alike {person} is in the ground truth"
        );
    }
}

#[test]
fn files_are_listed_and_decode() {
    let out = Scratch::new("files");
    let report = generate(&small(3), &out.0).expect("generate");
    let listed = text(&out.0.join("_truth/files.csv"));
    assert_eq!(listed.lines().count(), report.files.len() + 1);
    let kinds: BTreeSet<&str> = report.files.iter().map(|f| f.kind.as_str()).collect();
    // 20 kinds, the finance bureau's fiscal_notice, and the bank's: bank_statement, bank_account.
    assert_eq!(kinds.len(), 23, "{kinds:?}");
    let mut encodings = BTreeSet::new();
    // Bank statements are printed reports (title block, totals): synth/bank/tests.rs.
    for f in report.files.iter().filter(|f| f.kind != "bank_statement") {
        let raw = bytes(&out.0.join(&f.path));
        encodings.insert(f.encoding.as_str());
        let body = match f.encoding.as_str() {
            "xlsx" => {
                assert!(raw.starts_with(b"PK"), "{} is no zip", f.path.display());
                continue;
            }
            "gb18030" => {
                let (s, _, had_errors) = encoding_rs::GB18030.decode(&raw);
                assert!(!had_errors, "{}", f.path.display());
                s.into_owned()
            }
            "utf8-bom" => String::from_utf8(raw[3..].to_vec()).expect("utf-8"),
            _ => String::from_utf8(raw).expect("utf-8"),
        };
        assert_eq!(
            body.lines().count() as u64,
            f.rows + 1,
            "{}",
            f.path.display()
        );
    }
    assert_eq!(encodings.len(), 4);
}

#[test]
fn refuses_a_bad_config() {
    let out = Scratch::new("bad");
    let cfg = SynthConfig {
        through_month: 13,
        ..small(1)
    };
    assert!(matches!(generate(&cfg, &out.0), Err(SynthError::Config(_))));
}
