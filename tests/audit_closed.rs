//! Findings whose evidence was corrected away are closed, never deleted: on the
//! hand-written county of `audit_death` (its module notes give every value).
//!
//! How findings persist across runs: the warehouse's derived tables `findings` (one
//! row per finding of the latest audit run, plus every earlier finding it no longer
//! produces, `in_latest_audit = false`) and `finding_history` (append-only), both
//! named in `manifest.json` under `derived`. An audit run reads both, writes both.

use std::path::Path;

use pension::warehouse::{RunEntry, Warehouse};

use crate::audit_death::{county, medical_snapshot, BOTH, CANC, REC, REGSTAT};
use crate::common::{audit_month, ingest_all, open_wh};
use crate::common::{pipeline, succeeds, write, Fixture};

/// (status, in_latest_audit, evidence, amount) of the finding (check, person).
fn state(fx: &Fixture, code: &str, no: &str) -> (String, String, String, String) {
    let r = fx.rows(&format!(
        "SELECT status, in_latest_audit, evidence, coalesce(amount_at_risk::VARCHAR, '') FROM findings
         WHERE check_code = '{code}' AND person_no = '{no}'"
    ));
    assert_eq!(r.len(), 1, "{code} {no}: {r:?}");
    (
        r[0][0].clone(),
        r[0][1].clone(),
        r[0][2].clone(),
        r[0][3].clone(),
    )
}

fn id_of(fx: &Fixture, code: &str, no: &str) -> String {
    fx.one(&format!(
        "SELECT finding_id FROM findings WHERE check_code = '{code}' AND person_no = '{no}'"
    ))
}

/// The finding's history: (previous → status, note, source).
fn history(fx: &Fixture, id: &str) -> Vec<(String, String, String, String)> {
    fx.rows(&format!(
        "SELECT coalesce(previous_status, ''), status, coalesce(note, ''), source FROM finding_history
         WHERE finding_id = '{id}' ORDER BY seq"
    ))
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()))
    .collect()
}

/// The run id the audit printed ("audit as of 2025-04 (run00004)").
fn run_of(stdout: &str) -> String {
    let start = stdout.find("(run").expect("run id printed") + 1;
    stdout[start..].split(')').next().unwrap().to_string()
}

#[test]
fn a_finding_whose_registry_evidence_was_corrected_is_closed_and_reopens_if_it_returns() {
    let fx = county(&[]);
    audit_month(&fx, "2025-04");
    let pad = id_of(&fx, "PAID_AFTER_DEATH", REC);
    let dec = id_of(&fx, "DECEASED_ACTIVE", REC);
    let before = state(&fx, "PAID_AFTER_DEATH", REC);
    assert_eq!(
        (before.0.as_str(), before.1.as_str(), before.3.as_str()),
        ("open", "true", "451.50")
    );
    succeeds(
        &mut pipeline(&fx.wh_dir())
            .args([
                "finding",
                "set",
                &dec,
                "confirmed",
                "--note",
                "村委会证实已死亡",
            ])
            .env("USER", "auditor_li"),
    );

    // The hospital withdraws 陈玉梅's death certificate: its newer snapshot lacks her.
    // (A registry snapshot replacing the older one is how a registry row is corrected
    // today.) Her two findings are no longer produced.
    ingest_all(
        &fx,
        &[write(
            &fx.dir.path().join("in2/death_medical.csv"),
            medical_snapshot(false, 1).as_bytes(),
        )],
    );
    let out = fx.dir.path().join("audit-out");
    let stdout = succeeds(
        &mut pipeline(&fx.wh_dir())
            .args(["audit", "--month", "2025-04", "--out"])
            .arg(&out),
    );
    let run = run_of(&stdout);
    assert!(
        stdout.contains("1 closed (已消除") && stdout.contains("1 no longer or again found"),
        "{stdout}"
    );
    // The open one is closed, kept with its evidence and amount; the confirmed one
    // keeps its status. Nothing is deleted.
    let after = state(&fx, "PAID_AFTER_DEATH", REC);
    assert_eq!(
        after,
        (
            "closed".into(),
            "false".into(),
            before.2.clone(),
            "451.50".into()
        )
    );
    assert_eq!(state(&fx, "DECEASED_ACTIVE", REC).0, "confirmed");
    assert_eq!(state(&fx, "DECEASED_ACTIVE", REC).1, "false");
    assert_eq!(fx.one("SELECT count(*) FROM findings"), "7");
    assert_eq!(
        fx.one("SELECT count(*) FROM findings WHERE in_latest_audit"),
        "5"
    );
    for (code, no) in [
        ("PAID_AFTER_DEATH", CANC),
        ("PAID_AFTER_DEATH", BOTH),
        ("DECEASED_ACTIVE", REGSTAT),
    ] {
        assert_eq!(state(&fx, code, no).0, "open", "{code} {no} untouched");
    }
    let closed_note = format!(
        "no longer found by the audit of 2025-04 ({run}): the records behind it changed; closed automatically (已消除)"
    );
    assert_eq!(
        history(&fx, &pad),
        vec![(
            "open".into(),
            "closed".into(),
            closed_note.clone(),
            "audit".into()
        )]
    );
    let h = history(&fx, &dec);
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(
        h[1],
        (
            "confirmed".into(),
            "confirmed".into(),
            format!("no longer found by the audit of 2025-04 ({run}): the records behind it changed; status confirmed kept"),
            "audit".into()
        )
    );

    // `pipeline finding show` and the workbook show it.
    let shown = succeeds(&mut pipeline(&fx.wh_dir()).args(["finding", "show", &pad]));
    assert!(
        shown.contains("status: closed 已消除")
            && shown.contains("not found by the latest audit")
            && shown.contains(&closed_note),
        "{shown}"
    );
    check_workbook(&out.join("findings_2025-04.xlsx"));
    // Only the audit closes a finding.
    let refused = pipeline(&fx.wh_dir())
        .args(["finding", "set", &pad, "closed"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("set by the audit itself"));

    // The same data again: nothing new in the history.
    let n = fx.one("SELECT count(*) FROM finding_history");
    let r = audit_month(&fx, "2025-04");
    assert_eq!((r.reopened, r.closed, r.noted), (0, 0, 0));
    assert_eq!(fx.one("SELECT count(*) FROM finding_history"), n);
    assert_eq!(state(&fx, "PAID_AFTER_DEATH", REC).0, "closed");

    // The certificate comes back: the closed finding reopens, the confirmed one is
    // noted and stays confirmed.
    ingest_all(
        &fx,
        &[write(
            &fx.dir.path().join("in3/death_medical.csv"),
            medical_snapshot(true, 2).as_bytes(),
        )],
    );
    let r = audit_month(&fx, "2025-04");
    assert_eq!((r.reopened, r.closed, r.noted), (1, 0, 1));
    assert_eq!(
        state(&fx, "PAID_AFTER_DEATH", REC),
        (
            "open".into(),
            "true".into(),
            before.2.clone(),
            "451.50".into()
        )
    );
    assert_eq!(state(&fx, "DECEASED_ACTIVE", REC).0, "confirmed");
    let h = history(&fx, &pad);
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(
        h[1],
        (
            "closed".into(),
            "open".into(),
            format!(
                "found again by the audit of 2025-04 ({}) after it had been closed: reopened",
                r.run_id
            ),
            "audit".into()
        )
    );
    let h = history(&fx, &dec);
    assert_eq!(h.len(), 3, "{h:?}");
    assert_eq!(
        h[2].2,
        format!(
            "found again by the audit of 2025-04 ({}); status confirmed kept",
            r.run_id
        )
    );
}

fn check_workbook(path: &Path) {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(path).expect("workbook opens");
    let text = |c: &Data| c.to_string();
    let sheet = wb
        .sheet_names()
        .into_iter()
        .find(|n| n.starts_with("PAID_AFTER_DEATH"))
        .unwrap();
    let range = wb.worksheet_range(&sheet).unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(text).collect()).collect();
    let col = |h: &str| {
        rows[0]
            .iter()
            .position(|x| x == h)
            .unwrap_or_else(|| panic!("{h} in {:?}", rows[0]))
    };
    let (person, status, latest) = (col("个人编号"), col("状态"), col("本次仍发现"));
    // This run's three findings, then the closed one; the total counts this run's only.
    let listed: Vec<(&str, &str, &str)> = rows[1..rows.len() - 1]
        .iter()
        .map(|r| (r[person].as_str(), r[status].as_str(), r[latest].as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (CANC, "待核查", "是"),
            (BOTH, "待核查", "是"),
            (REGSTAT, "待核查", "是"),
            (REC, "已消除", "否")
        ]
    );
    let last = rows.last().unwrap();
    assert!(last[0].starts_with("合计 3 条"), "{last:?}");
    // 301.00 + 150.50 + 150.50 (the closed 451.50 is not counted).
    assert_eq!(
        last[col("涉及金额(元)")].parse::<f64>().ok(),
        Some(602.0),
        "{last:?}"
    );
    let summary = wb.worksheet_range("汇总").unwrap();
    let rows: Vec<Vec<String>> = summary
        .rows()
        .map(|r| r.iter().map(text).collect())
        .collect();
    let head = &rows[2];
    let at = |h: &str| {
        head.iter()
            .position(|x| x == h)
            .unwrap_or_else(|| panic!("{h} in {head:?}"))
    };
    let of = |code: &str| rows.iter().find(|r| r[0] == code).unwrap().clone();
    let pad = of("PAID_AFTER_DEATH");
    assert_eq!(
        (pad[at("疑点数")].as_str(), pad[at("已消除")].as_str()),
        ("3", "1")
    );
    let dec = of("DECEASED_ACTIVE");
    assert_eq!(
        (
            dec[at("疑点数")].as_str(),
            dec[at("未再发现·状态保留")].as_str()
        ),
        ("1", "1")
    );
}

/// Copies the audit's derived tables (`findings`, `finding_history`) of warehouse
/// `from` into `to`: what a later audit of a corrected warehouse starts from.
fn carry_findings(from: &Path, to: &Path) {
    let src = Warehouse::open_read(from).unwrap();
    let mut dst = open_wh(to);
    let mut tx = dst.begin().unwrap();
    for table in ["findings", "finding_history"] {
        let Some(parts) = src.manifest().derived.get(table) else {
            continue;
        };
        let mut rels = Vec::new();
        for rel in parts {
            let path = tx.stage(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::copy(from.join(rel), &path).unwrap();
            rels.push(rel.clone());
        }
        tx.replace_derived(table, rels);
    }
    let entry = RunEntry {
        run_id: tx.run_id.clone(),
        command: "test: carry findings".into(),
        started_at: String::new(),
        finished_at: String::new(),
        files: Vec::new(),
        unchanged: Vec::new(),
        refused: Vec::new(),
    };
    tx.commit(&mut dst, entry).unwrap();
}

#[test]
fn a_finding_whose_payouts_were_corrected_away_is_closed() {
    // The warehouse as first ingested: 刘长顺 (dead per his cancellation) paid for
    // 2025-03 and 2025-04.
    let first = county(&[]);
    audit_month(&first, "2025-04");
    let pad = id_of(&first, "PAID_AFTER_DEATH", CANC);
    assert_eq!(state(&first, "PAID_AFTER_DEATH", CANC).3, "301.00");
    // The same county with those two payouts corrected away (the bank returned them).
    // Until ingest keeps versions of records, a second warehouse built without the
    // two rows stands for the corrected one; it starts from the first's findings.
    let corrected = county(&[(CANC, 3), (CANC, 4)]);
    carry_findings(&first.wh_dir(), &corrected.wh_dir());
    let r = audit_month(&corrected, "2025-04");
    assert_eq!((r.reopened, r.closed, r.noted), (0, 1, 0));
    let (status, latest, evidence, amount) = state(&corrected, "PAID_AFTER_DEATH", CANC);
    assert_eq!(
        (status.as_str(), latest.as_str(), amount.as_str()),
        ("closed", "false", "301.00")
    );
    assert!(
        evidence.contains("2 payment(s) for 2025-03..2025-04"),
        "{evidence}"
    );
    let h = history(&corrected, &pad);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(
        (h[0].0.as_str(), h[0].1.as_str(), h[0].3.as_str()),
        ("open", "closed", "audit")
    );
    assert!(
        h[0].2.starts_with(&format!(
            "no longer found by the audit of 2025-04 ({})",
            r.run_id
        )),
        "{h:?}"
    );
    // Every other finding is still there, open.
    assert_eq!(corrected.one("SELECT count(*) FROM findings"), "7");
    assert_eq!(
        corrected.one("SELECT count(*) FROM findings WHERE status = 'open' AND in_latest_audit"),
        "6"
    );
}

#[test]
fn auditing_an_earlier_month_closes_no_later_finding() {
    // As of 2025-01 nobody was paid after death yet: the April findings are absent
    // because of the earlier as-of date, not because records changed.
    let fx = county(&[]);
    audit_month(&fx, "2025-04");
    let pad = id_of(&fx, "PAID_AFTER_DEATH", CANC);
    let r = audit_month(&fx, "2025-01");
    assert_eq!(r.closed, 0);
    assert_eq!(
        fx.one("SELECT count(*) FROM findings WHERE status = 'closed'"),
        "0"
    );
    let (status, latest, _, _) = state(&fx, "PAID_AFTER_DEATH", CANC);
    assert_eq!((status.as_str(), latest.as_str()), ("open", "false"));
    let h = history(&fx, &pad);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(
        h[0].2,
        format!(
            "not found by the audit of 2025-01 ({}), which sees the data as of a month before 2025-04 \
             when it was last found; status open kept",
            r.run_id
        )
    );
    // As of January 孙德胜 (BOTH) was dead per the register and not yet cancelled.
    assert_eq!(state(&fx, "DECEASED_ACTIVE", BOTH).0, "open");
    // Back to April: found again, still open. Meanwhile his cancellation (applied
    // 2025-03-01) has come in: that January finding is closed.
    let r = audit_month(&fx, "2025-04");
    assert_eq!((r.reopened, r.closed), (0, 1));
    assert_eq!(state(&fx, "DECEASED_ACTIVE", BOTH).0, "closed");
    assert_eq!(state(&fx, "PAID_AFTER_DEATH", CANC).0, "open");
    assert_eq!(state(&fx, "PAID_AFTER_DEATH", CANC).1, "true");
}
