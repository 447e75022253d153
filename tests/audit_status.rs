//! The audit on a small hand-made warehouse: finding statuses and their history
//! across runs (a dismissed finding reopens only when its evidence changes), the
//! commands as a user runs them, and pre-payment screening.

use std::path::PathBuf;

use chrono::NaiveDate;
use pension::audit::{self, AuditOptions};
use pension::idnum;

use crate::common::{open_wh, pipeline, succeeds, write, Fixture};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Two beneficiaries of one village: 张秀英 (alive) and 李德福 (died 2025-03-10, a
/// cremation record, enrollment never cancelled).
struct Town {
    fx: Fixture,
    alive: String,
    dead: String,
}

const ALIVE_NO: &str = "4117250010000001";
const DEAD_NO: &str = "4117250010000002";

fn payout_rows(rows: &[(&str, &str, &str, &str, &str)]) -> String {
    // (payout_no, person_no, id, name, month)
    let mut text = String::from("发放流水号,个人编号,公民身份号码,姓名,发放年月,基础养老金,个人账户养老金,发放合计,银行账号,发放日期,发放状态\n");
    for (no, person, id, name, month) in rows {
        let card = if *person == ALIVE_NO {
            "6217000000000000001"
        } else {
            "6217000000000000002"
        };
        text.push_str(&format!(
            "{no},{person},{id},{name},{month},138.00,12.50,150.50,{card},{month}-10,成功\n"
        ));
    }
    text
}

fn town() -> Town {
    let fx = Fixture::new();
    let dir = fx.dir.path().join("in");
    let alive = idnum::make("411725", d(1950, 5, 5), 22);
    let dead = idnum::make("411725", d(1948, 2, 2), 31);
    let files = vec![
        write(&dir.join("id_registry.csv"), format!(
            "公民身份号码,姓名,性别,出生日期,乡镇(街道),村(居),户籍性质,户籍状态,状态日期\n\
             {alive},张秀英,女,1950-05-05,盘龙街道,李集村,农业,正常,\n\
             {dead},李德福,男,1948-02-02,盘龙街道,李集村,农业,死亡,2025-03-10\n").as_bytes()),
        write(&dir.join("death_cremation.csv"), format!(
            "公民身份号码,姓名,死亡日期,信息来源,登记日期\n{dead},李德福,2025-03-10,民政火化,2025-03-14\n").as_bytes()),
        write(&dir.join("enrollment.csv"), format!(
            "个人编号,公民身份号码,姓名,性别,出生日期,户籍性质,乡镇(街道),村(居),参保日期,缴费档次,银行账号,三方协议,联系电话,居住地址\n\
             {ALIVE_NO},{alive},张 秀英,女,1950-05-05,农业,盘龙街道,李集村,2011-07-20,100,6217000000000000001,是,13900000001,确山县盘龙街道李集村1组1号\n\
             {DEAD_NO},{dead},李德福,男,1948-02-02,农业,盘龙街道,李集村,2011-07-21,100,6217000000000000002,是,13900000002,确山县盘龙街道李集村1组2号\n").as_bytes()),
        write(&dir.join("approval.csv"), format!(
            "个人编号,公民身份号码,待遇开始年月,基础养老金月标准,个人账户养老金月标准,核定时个人账户储存额,核定日期\n\
             {ALIVE_NO},{alive},2011-08,55.00,12.50,1737.50,2011-08-02\n\
             {DEAD_NO},{dead},2011-08,55.00,12.50,1737.50,2011-08-02\n").as_bytes()),
        write(&dir.join("standard.csv"), "起始年月,月标准\n2011-07,55.00\n2025-01,138.00\n".as_bytes()),
        write(&dir.join("cert.csv"), format!(
            "个人编号,认证年度,认证日期,认证方式,认证结果\n{ALIVE_NO},2025,2025-01-15,照相,通过\n{DEAD_NO},2025,2025-01-16,照相,通过\n").as_bytes()),
        write(&dir.join("payout_2025.csv"), payout_rows(&[
            ("P1", ALIVE_NO, &alive, "张秀英", "2025-03"),
            ("P2", DEAD_NO, &dead, "李德福", "2025-03"),
            ("P3", ALIVE_NO, &alive, "张秀英", "2025-04"),
            ("P4", DEAD_NO, &dead, "李德福", "2025-04"),
        ]).as_bytes()),
    ];
    let mut wh = open_wh(&fx.wh_dir());
    let report =
        pension::ingest::ingest(&mut wh, &fx.catalog, &files, &Default::default()).expect("ingest");
    drop(wh);
    assert!(report.committed, "fixture ingests");
    for f in &report.files {
        assert_eq!(f.quarantined, 0, "{:?}: {:?}", f.source, f.first_reasons);
    }
    Town { fx, alive, dead }
}

fn ingest(t: &Town, paths: &[PathBuf]) {
    let mut wh = open_wh(&t.fx.wh_dir());
    let r = pension::ingest::ingest(&mut wh, &t.fx.catalog, paths, &Default::default())
        .expect("ingest");
    assert!(r.committed);
}

fn run(t: &Town, month: &str) -> audit::AuditReport {
    let mut wh = open_wh(&t.fx.wh_dir());
    let opts = AuditOptions {
        month: month.into(),
        command: "test".into(),
        who: "tester".into(),
        ..Default::default()
    };
    audit::run_audit(&mut wh, &t.fx.catalog, &opts).expect("audit runs")
}

fn finding(t: &Town, code: &str) -> (String, String, String) {
    let rows = t.fx.rows(&format!(
        "SELECT finding_id, status, evidence FROM findings WHERE check_code = '{code}'"
    ));
    assert_eq!(rows.len(), 1, "{code}: {rows:?}");
    (rows[0][0].clone(), rows[0][1].clone(), rows[0][2].clone())
}

fn set(t: &Town, id: &str, status: &str, note: &str) {
    let mut wh = open_wh(&t.fx.wh_dir());
    audit::set_status(
        &mut wh,
        &t.fx.catalog,
        id,
        status,
        Some(note),
        "auditor_wang",
        "test",
    )
    .expect("status set");
}

#[test]
fn audit_statuses_survive_reruns_and_dismissed_reopens_only_on_new_evidence() {
    let t = town();
    run(&t, "2025-04");
    let codes: Vec<String> =
        t.fx.rows("SELECT DISTINCT check_code FROM findings ORDER BY 1")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
    // The name typed with a space (张 秀英) is the registered 张秀英: no ID_MISMATCH.
    assert_eq!(codes, vec!["DECEASED_ACTIVE", "PAID_AFTER_DEATH"]);
    let (pad, status, evidence) = finding(&t, "PAID_AFTER_DEATH");
    assert_eq!(status, "open");
    assert!(
        evidence.contains("death_record 民政火化 2025-03-10") && evidence.contains("2025-04"),
        "{evidence}"
    );
    assert_eq!(
        t.fx.one("SELECT amount_at_risk FROM findings WHERE check_code = 'PAID_AFTER_DEATH'"),
        "150.50"
    );
    let (dec, _, _) = finding(&t, "DECEASED_ACTIVE");

    set(&t, &pad, "dismissed", "heir repaid at the counter");
    set(&t, &dec[..8], "confirmed", "death verified by the village");
    assert_eq!(
        finding(&t, "PAID_AFTER_DEATH").1,
        "dismissed",
        "status shows at once"
    );

    // Same data, same evidence: statuses survive a rerun, ids are stable.
    run(&t, "2025-04");
    assert_eq!(
        finding(&t, "PAID_AFTER_DEATH"),
        (pad.clone(), "dismissed".into(), evidence.clone())
    );
    assert_eq!(finding(&t, "DECEASED_ACTIVE").1, "confirmed");

    // Another month paid after death: the evidence changes, the dismissal no longer holds.
    let more = t.fx.dir.path().join("in2/payout_2025-05.csv");
    // (With a ghost payee: a person number never enrolled, paid into a card.)
    let ghost = idnum::make("411725", d(1949, 9, 9), 55);
    write(
        &more,
        payout_rows(&[
            ("P5", ALIVE_NO, &t.alive, "张秀英", "2025-05"),
            ("P6", DEAD_NO, &t.dead, "李德福", "2025-05"),
            ("P7", "4117250019999999", &ghost, "王有福", "2025-05"),
        ])
        .as_bytes(),
    );
    ingest(&t, &[more]);
    let r = run(&t, "2025-05");
    assert_eq!(r.reopened, 1);
    let (id, status, evidence2) = finding(&t, "PAID_AFTER_DEATH");
    assert_eq!((id.as_str(), status.as_str()), (pad.as_str(), "open"));
    assert_ne!(evidence2, evidence);
    assert_eq!(
        t.fx.one("SELECT amount_at_risk FROM findings WHERE check_code = 'PAID_AFTER_DEATH'"),
        "301.00"
    );
    assert_eq!(
        finding(&t, "DECEASED_ACTIVE").1,
        "confirmed",
        "a confirmed finding stays confirmed"
    );
    let (_, _, ghost_evidence) = finding(&t, "ID_UNKNOWN");
    assert!(
        ghost_evidence.contains("4117250019999999") && ghost_evidence.contains("no enrollment"),
        "{ghost_evidence}"
    );
    assert_eq!(
        t.fx.one(
            "SELECT name || ' ' || amount_at_risk FROM findings WHERE check_code = 'ID_UNKNOWN'"
        ),
        "王有福 150.50"
    );
    assert_eq!(t.fx.one("SELECT strftime(first_seen, '%Y-%m') || ' ' || strftime(last_seen, '%Y-%m') FROM findings WHERE check_code = 'PAID_AFTER_DEATH'"), "2025-04 2025-05");

    // The history keeps every change, with who, when and why; nothing overwritten.
    let h = t.fx.rows(&format!(
        "SELECT seq, previous_status, status, who, source, note IS NOT NULL, changed_at <> '' FROM finding_history WHERE finding_id = '{pad}' ORDER BY seq"
    ));
    let h: Vec<Vec<&str>> = h
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(
        &h[0][1..],
        ["open", "dismissed", "auditor_wang", "user", "true", "true"]
    );
    assert_eq!(&h[1][1..4], ["dismissed", "open", "tester"]);
    assert_eq!(h[1][4], "audit");
    assert_eq!(t.fx.one("SELECT count(*) FROM finding_history"), "3");

    // A dismissed finding whose facts stay the same (one more month paid to the same
    // unenrolled person number) stays dismissed.
    let (ghost_id, _, _) = finding(&t, "ID_UNKNOWN");
    set(
        &t,
        &ghost_id,
        "dismissed",
        "test payee of the bank, not a pension",
    );
    let june = t.fx.dir.path().join("in3/payout_2025-06.csv");
    write(
        &june,
        payout_rows(&[("P8", "4117250019999999", &ghost, "王有福", "2025-06")]).as_bytes(),
    );
    ingest(&t, &[june]);
    let r = run(&t, "2025-06");
    assert_eq!(r.reopened, 0);
    assert_eq!(finding(&t, "ID_UNKNOWN").1, "dismissed");
    assert_eq!(
        t.fx.one("SELECT amount_at_risk FROM findings WHERE check_code = 'ID_UNKNOWN'"),
        "301.00"
    );

    // Unknown ids and statuses are refused with a clear message.
    let mut wh = open_wh(&t.fx.wh_dir());
    let e = audit::set_status(
        &mut wh,
        &t.fx.catalog,
        "ffffffffff",
        "dismissed",
        None,
        "x",
        "test",
    )
    .unwrap_err();
    assert!(e.to_string().contains("no finding"), "{e}");
    let e =
        audit::set_status(&mut wh, &t.fx.catalog, &pad, "closed", None, "x", "test").unwrap_err();
    assert!(e.to_string().contains("not one of"), "{e}");
}

#[test]
fn audit_finding_and_screen_commands_as_a_user_runs_them() {
    let t = town();
    let out_dir = t.fx.dir.path().join("out");
    let text = succeeds(
        &mut pipeline(&t.fx.wh_dir())
            .args(["audit", "--month", "2025-04", "--out"])
            .arg(&out_dir),
    );
    assert!(
        text.contains("PAID_AFTER_DEATH") && text.contains("150.50"),
        "{text}"
    );
    assert!(
        out_dir.join("findings_2025-04.xlsx").is_file()
            && out_dir.join("findings_2025-04.csv").is_file()
    );
    let (id, _, _) = finding(&t, "PAID_AFTER_DEATH");
    let stdout = succeeds(
        &mut pipeline(&t.fx.wh_dir())
            .args(["finding", "set", &id, "confirmed", "--note", "家属已承认"])
            .env("USER", "auditor_li"),
    );
    assert!(stdout.contains("open → confirmed by auditor_li"));
    let out = pipeline(&t.fx.wh_dir())
        .args(["finding", "show", &id[..10]])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("auditor_li")
            && shown.contains("家属已承认")
            && shown.contains("status: confirmed"),
        "{shown}"
    );
    let bad = pipeline(&t.fx.wh_dir())
        .args(["finding", "set", &id, "closed"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not one of"));

    // Screening next month's file: the dead man's row, a row sent twice and an
    // unreadable row are held; the rest is clean; nothing is lost.
    let mut file = payout_rows(&[
        ("N1", ALIVE_NO, &t.alive, "张秀英", "2025-05"),
        ("N2", DEAD_NO, &t.dead, "李德福", "2025-05"),
        ("N3", ALIVE_NO, &t.alive, "张秀英", "2025-05"),
    ]);
    file.push_str(&format!(
        "N4,{ALIVE_NO},{},张秀英,2025-05,138.00,abc,150.50,6217000000000000001,2025-05-10,成功\n",
        t.alive
    ));
    let pf = write(
        &t.fx.dir.path().join("next/payout_2025-05.csv"),
        file.as_bytes(),
    );
    let sdir = t.fx.dir.path().join("screened");
    let summary = succeeds(
        &mut pipeline(&t.fx.wh_dir())
            .args(["screen"])
            .arg(&pf)
            .args(["--month", "2025-05", "--out"])
            .arg(&sdir),
    );
    assert!(summary.contains("agrees"), "{summary}");
    let clean = read(&sdir.join("payout_2025-05_clean.csv"));
    let held = read(&sdir.join("payout_2025-05_held.csv"));
    assert_eq!(
        clean.len() + held.len(),
        4,
        "clean + held = input\n{summary}"
    );
    assert_eq!(clean.len(), 1, "{clean:?}");
    assert_eq!(clean[0][0], "N1");
    let codes: Vec<(String, String)> = held.iter().map(|r| (r[3].clone(), r[1].clone())).collect();
    assert!(
        codes.contains(&("N2".into(), "DECEASED_ACTIVE,PAID_AFTER_DEATH".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("N3".into(), "DUP_PAYMENT".into())),
        "{codes:?}"
    );
    assert!(
        held.iter()
            .any(|r| r[1] == "INPUT_INVALID" && r.last().is_some_and(|raw| raw.contains("abc"))),
        "{held:?}"
    );
    // Amounts: clean + held (readable) = the file's readable total.
    let sum = |rows: &[Vec<String>], col: usize| {
        rows.iter()
            .filter_map(|r| r.get(col)?.parse::<rust_decimal::Decimal>().ok())
            .sum::<rust_decimal::Decimal>()
    };
    assert_eq!(sum(&clean, 7) + sum(&held, 10), "451.50".parse().unwrap());
    // The clean file is a payout file again.
    let fx2 = Fixture::new();
    let mut wh = open_wh(&fx2.wh_dir());
    let r = pension::ingest::ingest(
        &mut wh,
        &fx2.catalog,
        &[sdir.join("payout_2025-05_clean.csv")],
        &Default::default(),
    )
    .expect("ingest");
    assert_eq!(r.files[0].kind.as_deref(), Some("payout"));
    assert_eq!(r.files[0].accepted, 1);
}

fn read(path: &PathBuf) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn audit_names_fold_traditional_spacing_and_dots() {
    use pension::audit::names::{distance_within, normalize};
    assert_eq!(normalize("陳 建國"), "陈建国");
    assert_eq!(normalize("王\u{3000}芳"), "王芳");
    assert_eq!(normalize("阿依古丽•买买提"), "阿依古丽·买买提");
    assert_eq!(normalize("阿依古丽.买买提"), normalize("阿依古丽·买买提"));
    assert_eq!(normalize("劉麗華"), "刘丽华");
    let c = |s: &str| s.chars().collect::<Vec<_>>();
    assert_eq!(distance_within(&c("王建国"), &c("王建军"), 1), Some(1));
    assert_eq!(distance_within(&c("王建国"), &c("李建军"), 1), None);
}
