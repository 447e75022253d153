//! Re-ingest is a no-op, snapshots supersede, and a failed write leaves the
//! warehouse exactly as it was.

use std::path::Path;

use pension::ingest::{self, FileStatus, IngestOptions};
use pension::schema::Catalog;
use pension::warehouse::Warehouse;

use crate::common::{samples, write, Fixture};

fn registry_file(fx: &Fixture, name: &str, rows: &[(&str, &str, &str)]) -> std::path::PathBuf {
    let mut text = String::from("公民身份号码,姓名,死亡日期,信息来源\n");
    for (id, name, src) in rows {
        text.push_str(&format!("{id},{name},2025-01-02,{src}\n"));
    }
    write(&fx.dir.path().join(name), text.as_bytes())
}

#[test]
fn reingesting_identical_bytes_is_a_no_op() {
    let fx = Fixture::new();
    let f = samples().join("bad/payout_garbage_rows.csv");
    assert!(fx.ingest(&[f.clone()]).committed);
    let before = fx.snapshot();
    let again = fx.ingest(&[f.clone()]);
    assert!(!again.committed);
    assert!(matches!(
        again.files[0].status,
        FileStatus::Unchanged { seq: 1, .. }
    ));
    assert_eq!(fx.snapshot(), before);
    // A copy under another name is the same bytes: also unchanged.
    let copy = write(&fx.dir.path().join("copy.csv"), &std::fs::read(&f).unwrap());
    assert!(matches!(
        fx.ingest(&[copy]).files[0].status,
        FileStatus::Unchanged { .. }
    ));
    assert_eq!(fx.one("SELECT count(*) FROM payout"), "3");
}

/// The shipped definitions in a folder of their own, with `kind`'s file edited.
fn edited_catalog(fx: &Fixture, kind: &str, edit: &str) -> Catalog {
    let dir = fx.dir.path().join(format!(
        "schemas-{}",
        fx.dir.path().read_dir().unwrap().count()
    ));
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    for e in shipped.read_dir().unwrap() {
        let path = e.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_stem().is_some_and(|s| s == kind) {
            text.push_str(edit);
        }
        write(&dir.join(path.file_name().unwrap()), text.as_bytes());
    }
    Catalog::load(&dir).expect("the edited definitions load")
}

#[test]
fn identical_bytes_are_read_again_only_under_a_changed_definition() {
    let fx = Fixture::new();
    let f = samples().join("bad/payout_garbage_rows.csv");
    let first = fx.ingest(&[f.clone()]);
    assert!(first.committed);
    let stored = fx.one("SELECT count(*) FROM payout");
    let versions = fx.one("SELECT count(*) FROM payout_all");
    // The payout kind's definition changes (here only by a comment: its text is what
    // is compared): the same bytes are read again, and every row is as stored.
    let edited = edited_catalog(&fx, "payout", "\n# reviewed 2026-12\n");
    let mut wh = Warehouse::open(&fx.wh_dir()).unwrap();
    let again = ingest::ingest(&mut wh, &edited, &[f.clone()], &IngestOptions::default()).unwrap();
    drop(wh);
    let r = &again.files[0];
    assert!(
        matches!(r.status, FileStatus::Ingested { seq: 2 }),
        "read again: {:?}",
        r.status
    );
    assert_eq!(
        (r.accepted, r.quarantined),
        (first.files[0].accepted, first.files[0].quarantined)
    );
    assert_eq!(
        (r.new, r.changed, r.gone),
        (0, 0, 0),
        "nothing stored twice"
    );
    assert_eq!(r.unchanged, r.accepted);
    assert_eq!(fx.one("SELECT count(*) FROM payout"), stored);
    assert_eq!(fx.one("SELECT count(*) FROM payout_all"), versions);
    // Under the edited definition it is now stored as read: skipped again.
    let mut wh = Warehouse::open(&fx.wh_dir()).unwrap();
    let third = ingest::ingest(&mut wh, &edited, &[f.clone()], &IngestOptions::default()).unwrap();
    assert!(
        matches!(third.files[0].status, FileStatus::Unchanged { seq: 2, .. }),
        "{:?}",
        third.files[0].status
    );
}

#[test]
fn a_replaced_snapshot_sent_again_stays_skipped_under_a_changed_definition() {
    let fx = Fixture::new();
    let id = |day| {
        pension::idnum::make(
            "411725",
            chrono::NaiveDate::from_ymd_opt(1940, 1, day).unwrap(),
            11,
        )
    };
    let (zhang, li) = (id(1), id(2));
    let old = registry_file(&fx, "death_old.csv", &[(&zhang, "张三", "民政火化")]);
    let new = registry_file(
        &fx,
        "death_new.csv",
        &[(&zhang, "张三", "民政火化"), (&li, "李四", "民政火化")],
    );
    assert!(fx.ingest(&[old.clone()]).committed);
    assert!(fx.ingest(&[new]).committed);
    let current = fx.one("SELECT count(*) FROM death_record");
    assert_eq!(current, "2");
    // Read again, the older list would become the newest and drop 李四.
    let edited = edited_catalog(&fx, "death_record", "\n# reviewed 2026-12\n");
    let mut wh = Warehouse::open(&fx.wh_dir()).unwrap();
    let again = ingest::ingest(&mut wh, &edited, &[old], &IngestOptions::default()).unwrap();
    drop(wh);
    assert!(
        matches!(again.files[0].status, FileStatus::Unchanged { seq: 1, .. }),
        "{:?}",
        again.files[0].status
    );
    assert_eq!(fx.one("SELECT count(*) FROM death_record"), current);
}

#[test]
fn the_same_bytes_twice_in_one_run_are_stored_once() {
    let fx = Fixture::new();
    let f = samples().join("bad/payout_garbage_rows.csv");
    let copy = write(
        &fx.dir.path().join("in/copy.csv"),
        &std::fs::read(&f).unwrap(),
    );
    let report = fx.ingest(&[f, copy]);
    assert!(report.committed);
    assert!(matches!(
        report.files[0].status,
        FileStatus::Ingested { seq: 1 }
    ));
    assert!(
        matches!(report.files[1].status, FileStatus::Unchanged { seq: 1, .. }),
        "{:?}",
        report.files[1].status
    );
    assert_eq!(fx.one("SELECT count(*) FROM payout"), "3");
}

#[test]
fn files_read_in_parallel_are_numbered_in_input_order() {
    // The sample county: 221 files read by several threads at once; file numbers
    // (lineage, part names) follow the sorted input order, not the finishing order.
    let fx = Fixture::new();
    let report = fx.ingest(&[samples().join("county")]);
    assert!(report.committed);
    let seqs: Vec<u64> = report
        .files
        .iter()
        .map(|f| match f.status {
            FileStatus::Ingested { seq } => seq,
            ref other => panic!("{}: {other:?}", f.source.display()),
        })
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    let sources: Vec<String> = fx
        .rows("SELECT source FROM ingest_file ORDER BY seq")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let inputs: Vec<String> = report
        .files
        .iter()
        .map(|f| f.source.display().to_string())
        .collect();
    assert_eq!(sources, inputs);
    let mut sorted = inputs.clone();
    sorted.sort();
    assert_eq!(inputs, sorted, "inputs are taken in name order");
}

#[test]
fn newer_registry_snapshot_supersedes_within_its_source() {
    let fx = Fixture::new();
    let a = "11010519491231002X";
    let b = pension::idnum::make(
        "411725",
        chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap(),
        11,
    );
    let c = pension::idnum::make(
        "411725",
        chrono::NaiveDate::from_ymd_opt(1941, 1, 1).unwrap(),
        13,
    );
    fx.ingest(&[registry_file(
        &fx,
        "cremation-1.csv",
        &[(a, "甲", "民政火化"), (&b, "乙", "民政火化")],
    )]);
    fx.ingest(&[registry_file(
        &fx,
        "medical-1.csv",
        &[(&c, "丙", "医学死亡证明")],
    )]);
    fx.ingest(&[registry_file(
        &fx,
        "cremation-2.csv",
        &[(&b, "乙", "民政火化")],
    )]);
    // Cremation: only the newer list; medical: untouched. 乙 is listed again with the
    // same values (stored once); 甲, no longer listed, is kept in history as gone.
    assert_eq!(
        fx.rows("SELECT name FROM death_record ORDER BY name"),
        vec![vec!["丙".to_string()], vec!["乙".to_string()]]
    );
    assert_eq!(fx.one("SELECT count(*) FROM death_record_all"), "3");
    assert_eq!(
        fx.rows("SELECT name, retired_reason FROM death_record_history"),
        vec![vec!["甲".to_string(), "gone".to_string()]]
    );
}

#[test]
fn failure_before_commit_leaves_the_warehouse_as_it_was() {
    let fx = Fixture::new();
    fx.ingest(&[samples().join("bad/payout_garbage_rows.csv")]);
    let before = fx.snapshot();
    let manifest_before = std::fs::read(fx.wh_dir().join("manifest.json")).unwrap();
    let county = samples().join("county");
    for point in ["after_first_file", "before_manifest"] {
        let opts = IngestOptions {
            fail_at: Some(point.into()),
            skip_bad_files: true,
            ..Default::default()
        };
        let mut wh = pension::warehouse::Warehouse::open(&fx.wh_dir()).unwrap();
        let r = pension::ingest::ingest(&mut wh, &fx.catalog, &[county.clone()], &opts);
        assert!(r.is_err(), "{point}: the injected failure is reported");
        drop(wh);
        // Reopening clears whatever the failed write left behind.
        drop(pension::warehouse::Warehouse::open(&fx.wh_dir()).unwrap());
        assert_eq!(fx.snapshot(), before, "{point}: files unchanged");
        assert_eq!(
            std::fs::read(fx.wh_dir().join("manifest.json")).unwrap(),
            manifest_before
        );
        assert_eq!(fx.one("SELECT count(*) FROM payout"), "3", "{point}");
    }
    // And the same ingest without the failure goes through.
    let report = fx.ingest_with(
        &[county],
        &IngestOptions {
            skip_bad_files: true,
            ..Default::default()
        },
    );
    assert!(report.committed);
    assert!(
        fx.one("SELECT count(*) FROM payout")
            .parse::<u64>()
            .unwrap()
            > 3
    );
}
