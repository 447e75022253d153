//! One definition of a person's death (pipeline/audit/death.sql) for every check, for
//! pre-payment screening and for the ledger's expected payments: the earliest date
//! of the register's dead status, each death_record source and a cancellation with
//! reason death (its event date is the date of death). A small hand-written county,
//! every value below worked out by hand from the rules.
//!
//! Beneficiaries (approved 2011-08, 12.50 account pension; basic standard 138.00
//! from 2025-01, so a month pays 150.50; each payment on the 10th of its month):
//! - 王桂兰 (ALIVE): alive; paid 2025-02..04.
//! - 刘长顺 (CANC): dead only per his cancellation (死亡, died 2025-02-14, applied
//!   2025-03-20); the register still says normal, no death record. Paid 2025-02..04:
//!   2025-03 and 2025-04 are after the death month → 301.00.
//! - 陈玉梅 (REC): a medical death record 2025-01-20 only, not cancelled. Paid
//!   2025-01..04: 2025-02..04 → 451.50; DECEASED_ACTIVE.
//! - 孙德胜 (BOTH): register dead 2025-01-05, cancellation says died 2025-02-03: the
//!   earliest counts, so his 2025-02 payment (150.50) is after the death month.
//! - 周秀珍 (REGSTAT): register dead 2025-01-12 only, not cancelled. Paid 2025-02
//!   (150.50); DECEASED_ACTIVE.
//!
//! Contributor 赵志强 (YOUNG, born 1980): dead only per his cancellation (died
//! 2024-06-10, applied 2024-07-01). Contributions: JF1 2024-03-01 300.00 (before
//! death: fine), JF2 2024-09-05 300.00 (after death: BAD_CONTRIBUTION), JF3
//! 2025-03-05 failed (not a contribution).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use pension::idnum;

use crate::common::{
    audit_month, ingest_all, latest_findings, open_wh, pipeline, succeeds, write, Fixture,
};

pub const ALIVE: &str = "4117250020000001";
pub const CANC: &str = "4117250020000002";
pub const YOUNG: &str = "4117250020000003";
pub const REC: &str = "4117250020000004";
pub const BOTH: &str = "4117250020000005";
pub const REGSTAT: &str = "4117250020000006";

pub struct Person {
    pub no: &'static str,
    pub name: &'static str,
    pub male: bool,
    pub birth: (i32, u32, u32),
    pub seq: u16,
    /// Register status and date.
    pub reg: (&'static str, &'static str),
    /// Months paid (2025).
    pub paid: &'static [u32],
}

pub const PERSONS: &[Person] = &[
    Person {
        no: ALIVE,
        name: "王桂兰",
        male: false,
        birth: (1950, 1, 10),
        seq: 12,
        reg: ("正常", ""),
        paid: &[2, 3, 4],
    },
    Person {
        no: CANC,
        name: "刘长顺",
        male: true,
        birth: (1949, 3, 3),
        seq: 13,
        reg: ("正常", ""),
        paid: &[2, 3, 4],
    },
    Person {
        no: YOUNG,
        name: "赵志强",
        male: true,
        birth: (1980, 5, 5),
        seq: 15,
        reg: ("正常", ""),
        paid: &[],
    },
    Person {
        no: REC,
        name: "陈玉梅",
        male: false,
        birth: (1948, 8, 8),
        seq: 22,
        reg: ("正常", ""),
        paid: &[1, 2, 3, 4],
    },
    Person {
        no: BOTH,
        name: "孙德胜",
        male: true,
        birth: (1947, 7, 7),
        seq: 17,
        reg: ("死亡", "2025-01-05"),
        paid: &[2],
    },
    Person {
        no: REGSTAT,
        name: "周秀珍",
        male: false,
        birth: (1946, 6, 6),
        seq: 24,
        reg: ("死亡", "2025-01-12"),
        paid: &[2],
    },
];

impl Person {
    pub fn id(&self) -> String {
        let (y, m, d) = self.birth;
        idnum::make(
            "411725",
            NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            self.seq,
        )
    }
    fn birth_text(&self) -> String {
        let (y, m, d) = self.birth;
        format!("{y}-{m:02}-{d:02}")
    }
    fn sex(&self) -> &str {
        if self.male {
            "男"
        } else {
            "女"
        }
    }
    fn card(&self) -> String {
        format!("62170000000000{}", &self.no[11..])
    }
    fn beneficiary(&self) -> bool {
        self.birth.0 < 1960
    }
}

pub fn person(no: &str) -> &'static Person {
    PERSONS.iter().find(|p| p.no == no).expect("fixture person")
}

pub const PAYOUT_HEADER: &str = "发放流水号,个人编号,公民身份号码,姓名,发放年月,基础养老金,个人账户养老金,发放合计,银行账号,发放日期,发放状态\n";

/// One successful 150.50 payment row for `month` (YYYY-MM).
pub fn payout_row(no: &str, p: &Person, month: &str) -> String {
    format!(
        "{no},{},{},{},{month},138.00,12.50,150.50,{},{month}-10,成功\n",
        p.no,
        p.id(),
        p.name,
        p.card()
    )
}

/// A medical death-record snapshot (`version` tells them apart: re-ingesting the same
/// bytes is a no-op): 陈玉梅 (REC) died 2025-01-20 if `with_rec`, and a resident of
/// another county (a snapshot is never empty).
pub fn medical_snapshot(with_rec: bool, version: u32) -> String {
    let mut s = String::from("公民身份号码,姓名,死亡日期,信息来源,登记日期\n");
    if with_rec {
        let r = person(REC);
        s.push_str(&format!(
            "{},{},2025-01-20,医学死亡证明,2025-01-22\n",
            r.id(),
            r.name
        ));
    }
    let other = idnum::make("410102", NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(), 123);
    s.push_str(&format!(
        "{other},吴外县,2025-01-02,医学死亡证明,2025-01-{:02}\n",
        3 + version
    ));
    s
}

/// The files of the hand-written county, in `dir`; `skip_payouts` leaves out
/// payments (person_no, month) — a corrected payout file.
pub fn county_files(dir: &Path, skip_payouts: &[(&str, u32)]) -> Vec<PathBuf> {
    let mut reg = String::from(
        "公民身份号码,姓名,性别,出生日期,乡镇(街道),村(居),户籍性质,户籍状态,状态日期\n",
    );
    let mut enr = String::from("个人编号,公民身份号码,姓名,性别,出生日期,户籍性质,乡镇(街道),村(居),参保日期,缴费档次,银行账号,三方协议,联系电话,居住地址\n");
    let mut appr = String::from("个人编号,公民身份号码,待遇开始年月,基础养老金月标准,个人账户养老金月标准,核定时个人账户储存额,核定日期\n");
    let mut cert = String::from("个人编号,认证年度,认证日期,认证方式,认证结果\n");
    let mut pay = String::from(PAYOUT_HEADER);
    for (k, p) in PERSONS.iter().enumerate() {
        let id = p.id();
        reg.push_str(&format!(
            "{id},{},{},{},盘龙街道,李集村,农业,{},{}\n",
            p.name,
            p.sex(),
            p.birth_text(),
            p.reg.0,
            p.reg.1
        ));
        enr.push_str(&format!(
            "{},{id},{},{},{},农业,盘龙街道,李集村,2011-07-2{k},300,{},是,1390000000{k},确山县盘龙街道李集村1组{k}号\n",
            p.no,
            p.name,
            p.sex(),
            p.birth_text(),
            p.card()
        ));
        if p.beneficiary() {
            appr.push_str(&format!(
                "{},{id},2011-08,55.00,12.50,1737.50,2011-08-02\n",
                p.no
            ));
            cert.push_str(&format!("{},2025,2025-01-02,照相,通过\n", p.no));
        }
        for m in p.paid {
            if !skip_payouts.contains(&(p.no, *m)) {
                pay.push_str(&payout_row(
                    &format!("P{}{m:02}", &p.no[12..]),
                    p,
                    &format!("2025-{m:02}"),
                ));
            }
        }
    }
    let (canc, young, both) = (person(CANC), person(YOUNG), person(BOTH));
    let cancellations = format!(
        "个人编号,公民身份号码,注销原因,事件日期,申请日期,退还金额,领取人\n\
         {},{},死亡,2025-02-14,2025-03-20,0.00,刘小红\n\
         {},{},死亡,2024-06-10,2024-07-01,300.00,赵小军\n\
         {},{},死亡,2025-02-03,2025-03-01,0.00,孙丽\n",
        canc.no,
        canc.id(),
        young.no,
        young.id(),
        both.no,
        both.id()
    );
    let contributions = format!(
        "流水号,个人编号,公民身份号码,缴费年度,缴费金额,缴费类型,缴费方式,收据号,缴费日期,扣款状态,失败原因\n\
         JF1,{no},{id},2024,300.00,正常缴费,银行代扣,,2024-03-01,成功,\n\
         JF2,{no},{id},2024,300.00,正常缴费,银行代扣,,2024-09-05,成功,\n\
         JF3,{no},{id},2025,300.00,正常缴费,银行代扣,,2025-03-05,失败,余额不足\n",
        no = young.no,
        id = young.id()
    );
    vec![
        write(&dir.join("id_registry.csv"), reg.as_bytes()),
        write(
            &dir.join("death_medical.csv"),
            medical_snapshot(true, 0).as_bytes(),
        ),
        write(&dir.join("enrollment.csv"), enr.as_bytes()),
        write(&dir.join("approval.csv"), appr.as_bytes()),
        write(
            &dir.join("standard.csv"),
            "起始年月,月标准\n2011-07,55.00\n2025-01,138.00\n".as_bytes(),
        ),
        write(&dir.join("cert.csv"), cert.as_bytes()),
        write(&dir.join("cancellation.csv"), cancellations.as_bytes()),
        write(&dir.join("contribution_2024.csv"), contributions.as_bytes()),
        write(&dir.join("payout_2025.csv"), pay.as_bytes()),
    ]
}

pub fn county(skip_payouts: &[(&str, u32)]) -> Fixture {
    let fx = Fixture::new();
    let files = county_files(&fx.dir.path().join("in"), skip_payouts);
    ingest_all(&fx, &files);
    fx
}

/// (check, person, months, amount, evidence) of this run's findings.
fn findings(fx: &Fixture) -> Vec<(String, String, String, String, String)> {
    latest_findings(fx)
        .into_iter()
        .map(|f| (f.code, f.person_no, f.months, f.amount, f.evidence))
        .collect()
}

#[test]
fn a_death_known_only_from_a_cancellation_counts_for_every_check() {
    let fx = county(&[]);
    audit_month(&fx, "2025-04");
    let all = findings(&fx);
    let got: Vec<(&str, &str, &str, &str)> = all
        .iter()
        .map(|f| (f.0.as_str(), f.1.as_str(), f.2.as_str(), f.3.as_str()))
        .collect();
    // Every finding of the county, worked out by hand (module notes): nothing else.
    assert_eq!(
        got,
        vec![
            ("BAD_CONTRIBUTION", YOUNG, "2024-09..2024-09", "300.00"),
            ("DECEASED_ACTIVE", REC, "2025-01..2025-01", ""),
            ("DECEASED_ACTIVE", REGSTAT, "2025-01..2025-01", ""),
            ("PAID_AFTER_DEATH", CANC, "2025-03..2025-04", "301.00"),
            ("PAID_AFTER_DEATH", REC, "2025-02..2025-04", "451.50"),
            ("PAID_AFTER_DEATH", BOTH, "2025-02..2025-02", "150.50"),
            ("PAID_AFTER_DEATH", REGSTAT, "2025-02..2025-02", "150.50"),
        ]
    );
    let evidence = |code: &str, no: &str| {
        all.iter()
            .find(|f| f.0 == code && f.1 == no)
            .map(|f| f.4.clone())
            .unwrap()
    };
    // The death and its source(s), in words.
    let e = evidence("PAID_AFTER_DEATH", CANC);
    assert!(
        e.starts_with(&format!(
            "死亡 2025-02-14 (cancellation 注销登记 {CANC}: 死亡 2025-02-14)"
        )) && e.contains("2 payment(s) for 2025-03..2025-04 totalling 301.00"),
        "{e}"
    );
    let e = evidence("PAID_AFTER_DEATH", BOTH);
    assert!(
        e.starts_with(&format!(
            "死亡 2025-01-05 (cancellation 注销登记 {BOTH}: 死亡 2025-02-03; id_registry 户籍状态=死亡 2025-01-05)"
        )),
        "{e}"
    );
    let e = evidence("PAID_AFTER_DEATH", REC);
    assert!(
        e.starts_with("死亡 2025-01-20 (death_record 医学死亡证明 2025-01-20)"),
        "{e}"
    );
    let e = evidence("BAD_CONTRIBUTION", YOUNG);
    assert!(
        e.starts_with("JF2 paid 2024-09-05 300.00 for 2024: after death")
            && e.ends_with(&format!(
                "死亡 2024-06-10 (cancellation 注销登记 {YOUNG}: 死亡 2024-06-10)"
            ))
            && !e.contains("JF1")
            && !e.contains("JF3"),
        "{e}"
    );
}

#[test]
fn screening_holds_next_months_payment_of_a_person_dead_per_a_cancellation() {
    let fx = county(&[]);
    let file = fx.dir.path().join("next/payout_2025-05.csv");
    let mut text = String::from(PAYOUT_HEADER);
    for (n, no) in [ALIVE, CANC, REC, REGSTAT].iter().enumerate() {
        text.push_str(&payout_row(&format!("N{n}"), person(no), "2025-05"));
    }
    write(&file, text.as_bytes());
    let out = fx.dir.path().join("screened");
    let summary = succeeds(
        &mut pipeline(&fx.wh_dir())
            .args(["screen"])
            .arg(&file)
            .args(["--month", "2025-05", "--out"])
            .arg(&out),
    );
    assert!(summary.contains("agrees"), "{summary}");
    let clean = read(&out.join("payout_2025-05_clean.csv"));
    let held = read(&out.join("payout_2025-05_held.csv"));
    assert_eq!(
        clean.iter().map(|r| r[1].as_str()).collect::<Vec<_>>(),
        vec![ALIVE]
    );
    // (person, codes, reasons) per held row.
    let held: Vec<(String, String, String)> = held
        .iter()
        .map(|r| (r[4].clone(), r[1].clone(), r[2].clone()))
        .collect();
    assert_eq!(held.len(), 3, "{held:?}");
    let canc = held.iter().find(|h| h.0 == CANC).expect("CANC held");
    assert_eq!(canc.1, "PAID_AFTER_DEATH", "{canc:?}");
    assert!(
        canc.2
            .contains(&format!("注销登记 {CANC}: 死亡 2025-02-14")),
        "{canc:?}"
    );
    for no in [REC, REGSTAT] {
        let h = held.iter().find(|h| h.0 == no).expect("held");
        assert_eq!(h.1, "DECEASED_ACTIVE,PAID_AFTER_DEATH", "{h:?}");
    }
}

#[test]
fn the_ledger_stops_expected_payments_by_the_same_death() {
    let fx = county(&[]);
    // The ledger also needs the crediting rates (one rate for every year will do).
    let rates: String = (2011..=2025).map(|y| format!("{y},3.00\n")).collect();
    let rates = write(
        &fx.dir.path().join("in/interest_rate.csv"),
        format!("年度,利率\n{rates}").as_bytes(),
    );
    ingest_all(&fx, &[rates]);
    let mut wh = open_wh(&fx.wh_dir());
    let opts = pension::ledger::StageOptions::new(NaiveDate::from_ymd_opt(2025, 4, 1).unwrap());
    pension::ledger::run(&mut wh, &fx.catalog, &opts).expect("ledger runs");
    drop(wh);
    // The first month not payable because of death, per beneficiary.
    let rows = fx.rows(
        "SELECT person_no, strftime(min(month), '%Y-%m') FROM expected_payout
         WHERE reason = 'after_death' GROUP BY 1 ORDER BY 1",
    );
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (CANC, "2025-03"),
            (REC, "2025-02"),
            (BOTH, "2025-02"),
            (REGSTAT, "2025-02")
        ]
    );
}

pub fn read(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}
