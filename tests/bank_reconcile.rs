//! The bank reconciliation (docs/rules.md § Bank reconciliation) on hand-made book
//! lines and bank statements with hand-computed answers: the matching, the
//! reconciliation statement at each month end, and the checks BANK_UNMATCHED,
//! BANK_STATEMENT and BANK_BALANCE.
//!
//! Two fund accounts (window 5 days, batches of up to 8 lines):
//! - expenditure (支出户, 6228001), opening 5,000.00 booked on 08-31 (before the
//!   statements start: not matched), only timing differences:
//!   V001 in 1000 09-03 ↔ B01 09-01 (one-to-one inside the window);
//!   V005 in 80 09-05 and B05 09-12 (7 days apart: outside, both stay unmatched);
//!   V002 out 600 09-10 ↔ B02+B03+B04 09-11 (100+200+300: many-to-one);
//!   V006 out 50 09-15, V007 out 50 09-17 ↔ B06 09-16, B07 09-18 (equal amounts:
//!   V006↔B06, V007↔B07 by nearest date, then file order);
//!   V008 out 650 09-20 vs B09 400 + B10 300 09-21 (700: no subset makes 650);
//!   B08 out 15 09-28, a bank fee never booked;
//!   V003 out 70 + V004 out 30 09-29 ↔ B11 out 100 10-02 (one-to-many).
//! - fiscal (财政专户, 6228002), opening 1,000.00: the September statement ends at
//!   1,500.00, the October one starts as if from 1,700.00 (a 200.00 income missing
//!   between the statements): BANK_STATEMENT and BANK_BALANCE, 200.00, in October;
//!   the bank credits interest 1.50 (C03 结息 10-21), the books say 1.20 (F003).

use std::path::PathBuf;

use super::common::{self, write, Fixture};
use pension::ingest::IngestOptions;
use pension::params::ReconcileParams;

const WINDOW: ReconcileParams = ReconcileParams {
    window_days: 5,
    batch_max_lines: 8,
};

const BANK_ACCOUNT: &str = "account_no,account,bank
6228001,支出户,中国农业银行
6228002,财政专户,中国农业银行
";

const FUND_LEDGER: &str = "account,txn_date,voucher_no,direction,amount,category,counterpart
支出户,2026-08-31,V000,收,5000.00,财政专户拨入,
支出户,2026-09-03,V001,收,1000.00,财政专户拨入,
支出户,2026-09-05,V005,收,80.00,财政专户拨入,
支出户,2026-09-10,V002,支,600.00,基础养老金支出,
支出户,2026-09-15,V006,支,50.00,退保/丧葬支出,
支出户,2026-09-17,V007,支,50.00,退保/丧葬支出,
支出户,2026-09-20,V008,支,650.00,基础养老金支出,
支出户,2026-09-29,V003,支,70.00,退保/丧葬支出,
支出户,2026-09-29,V004,支,30.00,退保/丧葬支出,
财政专户,2026-08-31,F000,收,1000.00,财政补贴-县级,
财政专户,2026-09-10,F001,收,500.00,财政补贴-县级,
财政专户,2026-10-05,F002,收,300.00,财政补贴-县级,
财政专户,2026-10-21,F003,收,1.20,利息收入,
";

const HEADER: &str = "account_no,txn_date,bank_ref,summary,income,expense,balance";

const EXPENDITURE_STATEMENT: &str = "6228001,2026-09-03,B01,财政专户拨入,1000.00,,6000.00
6228001,2026-09-11,B02,养老金代发,,100.00,5900.00
6228001,2026-09-11,B03,养老金代发,,200.00,5700.00
6228001,2026-09-11,B04,养老金代发,,300.00,5400.00
6228001,2026-09-12,B05,财政专户拨入,80.00,,5480.00
6228001,2026-09-16,B06,退保,,50.00,5430.00
6228001,2026-09-18,B07,退保,,50.00,5380.00
6228001,2026-09-21,B09,养老金代发,,400.00,4980.00
6228001,2026-09-21,B10,养老金代发,,300.00,4680.00
6228001,2026-09-28,B08,手续费,,15.00,4665.00
6228001,2026-10-02,B11,退保,,100.00,4565.00
";

const FISCAL_SEPTEMBER: &str = "6228002,2026-09-10,C01,财政补贴,500.00,,1500.00\n";
const FISCAL_OCTOBER: &str = "6228002,2026-10-05,C02,财政补贴,300.00,,2000.00
6228002,2026-10-21,C03,结息,1.50,,2001.50
";

fn csv(fx: &Fixture, name: &str, text: &str) -> PathBuf {
    write(&fx.dir.path().join("in").join(name), text.as_bytes())
}

fn ingest_kind(fx: &Fixture, kind: &str, files: &[PathBuf]) {
    let opts = IngestOptions {
        kind: Some(kind.into()),
        ..Default::default()
    };
    let report = fx.ingest_with(files, &opts);
    assert!(report.committed, "{kind} ingests");
    for f in &report.files {
        assert_eq!(f.quarantined, 0, "{:?}: {:?}", f.source, f.first_reasons);
    }
}

fn county() -> Fixture {
    let fx = Fixture::new();
    let accounts = csv(&fx, "bank_account.csv", BANK_ACCOUNT);
    ingest_kind(&fx, "bank_account", &[accounts]);
    let ledger = csv(&fx, "fund_ledger.csv", FUND_LEDGER);
    ingest_kind(&fx, "fund_ledger", &[ledger]);
    let statements = [
        csv(
            &fx,
            "expenditure_2026.csv",
            &format!("{HEADER}\n{EXPENDITURE_STATEMENT}"),
        ),
        csv(
            &fx,
            "fiscal_2026-09.csv",
            &format!("{HEADER}\n{FISCAL_SEPTEMBER}"),
        ),
        csv(
            &fx,
            "fiscal_2026-10.csv",
            &format!("{HEADER}\n{FISCAL_OCTOBER}"),
        ),
    ];
    ingest_kind(&fx, "bank_statement", &statements);
    fx
}

fn reconcile(fx: &Fixture, month: &str) -> pension::reconcile::Report {
    let mut wh = common::open_wh(&fx.wh_dir());
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").unwrap();
    pension::reconcile::run(&mut wh, &fx.catalog, first, &WINDOW, "test").expect("reconciles")
}

/// Each line's reference with the references of the other lines of its match
/// (empty when unmatched) and the kind: "V002 → B02 B03 B04 many_to_one".
fn pairs(fx: &Fixture) -> Vec<String> {
    fx.rows(
        "SELECT l.ref || ' → ' || coalesce((SELECT string_agg(o.ref, ' ' ORDER BY o.ref) FROM bank_line o
                 WHERE o.match_id = l.match_id AND o.side <> l.side), '') || ' ' || coalesce(l.match_kind, '')
         FROM bank_line l WHERE l.side = 'book' AND l.account = 'expenditure' ORDER BY l.ref",
    )
    .into_iter()
    .map(|r| r[0].trim().to_string())
    .collect()
}

#[test]
fn lines_match_one_to_one_in_batches_and_not_outside_the_window() {
    let fx = county();
    let r = reconcile(&fx, "2026-10");
    assert_eq!(
        pairs(&fx),
        vec![
            "V001 → B01 one_to_one",
            "V002 → B02 B03 B04 many_to_one",
            "V003 → B11 one_to_many",
            "V004 → B11 one_to_many",
            "V005 →",
            "V006 → B06 one_to_one",
            "V007 → B07 one_to_one",
            "V008 →",
        ],
        "V000 (before the first statement line) is not matched, hence not listed"
    );
    let unmatched_bank = fx.rows(
        "SELECT ref FROM bank_line WHERE side = 'bank' AND account = 'expenditure' AND match_id IS NULL ORDER BY ref",
    );
    assert_eq!(unmatched_bank, [["B05"], ["B08"], ["B09"], ["B10"]]);
    // one-to-one: V001, V006, V007 and the fiscal F001↔C01, F002↔C02.
    assert_eq!(r.matches, [5, 1, 1]);
    let matched_on =
        fx.one("SELECT DISTINCT matched_on FROM bank_line WHERE ref IN ('V003', 'V004', 'B11')");
    assert_eq!(matched_on, "2026-10-02");
    // Money and dates are stored exactly, with each line's file and line.
    let b03 = fx.rows(
        "SELECT amount::VARCHAR, typeof(amount), typeof(date), file, line FROM bank_line WHERE ref = 'B03'",
    );
    assert_eq!(b03[0][..3], ["200.00", "DECIMAL(18,2)", "DATE"]);
    assert!(b03[0][3].ends_with("expenditure_2026.csv"), "{:?}", b03[0]);
    assert_eq!(b03[0][4], "4");
}

#[test]
fn the_same_inputs_give_the_same_pairs() {
    let fx = county();
    let snapshot = |fx: &Fixture| {
        fx.rows(
            "SELECT side, ref, match_id, match_kind, matched_on FROM bank_line ORDER BY side, ref",
        )
    };
    reconcile(&fx, "2026-10");
    let first = snapshot(&fx);
    reconcile(&fx, "2026-10");
    assert_eq!(snapshot(&fx), first);
    // The equal amounts went to the nearest dates (V006 15th ↔ B06 16th).
    let v006 = fx.one(
        "SELECT o.ref FROM bank_line l JOIN bank_line o ON o.match_id = l.match_id AND o.side = 'bank' WHERE l.ref = 'V006'",
    );
    assert_eq!(v006, "B06");
}

#[test]
fn the_statement_balances_at_each_month_end_with_only_timing_items() {
    let fx = county();
    reconcile(&fx, "2026-10");
    let rows = fx.rows(
        "SELECT strftime(month, '%Y-%m'), bank_balance, book_balance, book_in_not_bank, book_out_not_bank,
                bank_in_not_book, bank_out_not_book, bank_side, book_side, difference, has_statement
         FROM bank_reconciliation WHERE account = 'expenditure' ORDER BY month",
    );
    // September: bank 4665 + 80 (V005) − 750 (V008, V003, V004) = 3995;
    // book 4630 + 80 (B05) − 715 (B09, B10, B08) = 3995.
    // October: V003/V004 matched by B11 (10-02): bank 4565 + 80 − 650 = 3995.
    assert_eq!(
        rows,
        [
            [
                "2026-09", "4665.00", "4630.00", "80.00", "750.00", "80.00", "715.00", "3995.00",
                "3995.00", "0.00", "true"
            ],
            [
                "2026-10", "4565.00", "4630.00", "80.00", "650.00", "80.00", "715.00", "3995.00",
                "3995.00", "0.00", "true"
            ],
        ]
    );
    // Reconciled through September only, the October line B11 is not yet there.
    reconcile(&fx, "2026-09");
    let sep = fx.rows("SELECT count(*), max(book_out_not_bank), max(difference) FROM bank_reconciliation WHERE account = 'expenditure'");
    assert_eq!(sep, [["1", "750.00", "0.00"]]);
}

fn bank_findings(fx: &Fixture) -> Vec<(String, String, String)> {
    common::latest_findings(fx)
        .into_iter()
        .filter(|f| f.code.starts_with("BANK_"))
        .map(|f| (f.code, f.subject, f.amount))
        .collect()
}

fn found(code: &str, subject: &str, amount: &str) -> (String, String, String) {
    (code.into(), subject.into(), amount.into())
}

#[test]
fn unmatched_lines_are_findings_after_the_window_and_a_month_and_gaps_are_found() {
    let fx = county();
    // September: everything is still timing; the fiscal statements join so far.
    common::audit_month(&fx, "2026-09");
    assert_eq!(bank_findings(&fx), vec![]);
    // October: lines of 09-05 … 09-21 are past 5 days + 1 month; the fee (09-28) is not
    // yet (11-03). The fiscal October statement starts 200.00 above September's close.
    common::audit_month(&fx, "2026-10");
    assert_eq!(
        bank_findings(&fx),
        vec![
            found("BANK_BALANCE", "fiscal 2026-10", "200.00"),
            found("BANK_STATEMENT", "fiscal 6228002 C02", "200.00"),
            found("BANK_UNMATCHED", "bank expenditure B05", "80.00"),
            found("BANK_UNMATCHED", "bank expenditure B09", "400.00"),
            found("BANK_UNMATCHED", "bank expenditure B10", "300.00"),
            found("BANK_UNMATCHED", "book expenditure V005", "80.00"),
            found("BANK_UNMATCHED", "book expenditure V008", "650.00"),
        ]
    );
    let evidence = fx.one(
        "SELECT evidence FROM findings WHERE in_latest_audit AND check_code = 'BANK_STATEMENT'",
    );
    assert!(
        evidence.contains("fiscal_2026-09.csv line 2")
            && evidence.contains("should show 1800.00 but shows 2000.00"),
        "{evidence}"
    );
    // November: the fee is past its window and month too.
    common::audit_month(&fx, "2026-11");
    let fee: Vec<_> = bank_findings(&fx)
        .into_iter()
        .filter(|f| f.1 == "bank expenditure B08")
        .collect();
    assert_eq!(
        fee,
        vec![found("BANK_UNMATCHED", "bank expenditure B08", "15.00")]
    );
    let fee_evidence = fx.one(
        "SELECT evidence FROM findings WHERE in_latest_audit AND subject = 'bank expenditure B08'",
    );
    assert!(
        fee_evidence.contains("银行已付企业未付") && fee_evidence.contains("line 11"),
        "{fee_evidence}"
    );
}

#[test]
fn the_command_prints_each_account_and_says_when_there_is_nothing_to_reconcile() {
    let empty = Fixture::new();
    let ingest = csv(&empty, "bank_account.csv", BANK_ACCOUNT);
    ingest_kind(&empty, "bank_account", &[ingest]);
    let out = common::succeeds(common::pipeline(&empty.wh_dir()).args([
        "reconcile",
        "--month",
        "2026-09",
    ]));
    assert!(out.contains("no bank statements (bank_statement)"), "{out}");
    let fx = county();
    let out =
        common::succeeds(common::pipeline(&fx.wh_dir()).args(["reconcile", "--month", "2026-10"]));
    let line = out
        .lines()
        .find(|l| l.starts_with("expenditure"))
        .unwrap_or_else(|| panic!("{out}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    // account, account_no, bank balance, book balance, bank side, book side, difference, matched, outstanding
    assert_eq!(
        cells[..9],
        [
            "expenditure",
            "6228001",
            "4565.00",
            "4630.00",
            "3995.00",
            "3995.00",
            "0.00",
            "13",
            "6"
        ]
    );
    let fiscal = out.lines().find(|l| l.starts_with("fiscal")).unwrap();
    assert!(fiscal.contains(" 200.00 "), "{fiscal}");
    let log = fx.rows("SELECT action FROM operator_log WHERE action = 'reconcile'");
    assert_eq!(log.len(), 1);
}

fn report_csv(dir: &std::path::Path, name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("csv").join(name)).expect("report CSV");
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn the_packages_show_the_statement_the_outstanding_items_and_the_interest() {
    let fx = county();
    let wh = fx.wh_dir();
    common::succeeds(common::pipeline(&wh).args(["reconcile", "--month", "2026-12"]));
    let out = fx.dir.path().join("annual");
    common::succeeds(
        common::pipeline(&wh)
            .args(["report", "--year", "2026", "--out"])
            .arg(&out),
    );
    // The annual package's statement is December's: as October's (nothing moved since).
    let statement = report_csv(&out, "17_bank_reconciliation.csv");
    let expenditure: Vec<_> = statement
        .iter()
        .filter(|r| r[0] == "支出户")
        .map(|r| (r[2].as_str(), r[3].as_str(), r[4].as_str(), r[5].as_str()))
        .collect();
    assert_eq!(
        expenditure,
        vec![
            (
                "银行对账单余额",
                "4565.00",
                "企业银行存款日记账余额",
                "4630.00"
            ),
            (
                "加：企业已收银行未收",
                "80.00",
                "加：银行已收企业未收",
                "80.00"
            ),
            (
                "减：企业已付银行未付",
                "650.00",
                "减：银行已付企业未付",
                "715.00"
            ),
            ("调节后的存款余额", "3995.00", "调节后的存款余额", "3995.00"),
            ("差额（相符）", "0.00", "本月无银行对账单", ""),
        ]
    );
    // The outstanding items at 2026-12-31 with their age: the fee of 09-28 is 94 days old.
    let items = report_csv(&out, "18_bank_outstanding.csv");
    let fee = items
        .iter()
        .find(|r| r[5] == "B08")
        .expect("the fee is outstanding");
    assert_eq!(
        fee[..5],
        ["支出户", "银行已付企业未付", "2026-09-28", "15.00", "94"]
    );
    assert_eq!(fee[8], "11");
    let total = items.last().unwrap();
    // Expenditure 1525.00 (B05 80, B09 400, B10 300, B08 15, V005 80, V008 650) and
    // the fiscal interest on both sides (C03 1.50, F003 1.20).
    assert_eq!((total[0].as_str(), total[3].as_str()), ("合计", "1527.70"));
    // The year's interest: the bank credited 1.50, the books have 1.20.
    let interest = report_csv(&out, "37_bank_interest.csv");
    assert_eq!(
        interest[0][..7],
        ["财政专户", "6228002", "1", "1.50", "1.20", "0.30", "不符"]
    );
}

/// The synthetic county's statements (synth/bank/): reconciled through its last
/// month, every account's statement balances at every month end but for the planted
/// breaks (BANK_BALANCE in the answer key, by account and month): the difference at
/// a month end is the sum of the planted jumps of that account so far, and the
/// batches of the county (contribution lines, one pension debit) are found.
#[test]
fn the_synthetic_county_balances_at_every_month_end_but_the_planted_breaks() {
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;
    let fx = Fixture::new();
    let data = fx.dir.path().join("county");
    let cfg = crate::synth::SynthConfig {
        persons: 400,
        seed: 31,
        ..Default::default()
    };
    crate::synth::generate(&cfg, &data).expect("the county generates");
    let report = fx.ingest(std::slice::from_ref(&data));
    assert!(
        report.committed && report.refused().next().is_none(),
        "the county ingests"
    );
    let r = reconcile(&fx, "2026-10");
    assert!(r.bank_lines > 0 && r.book_lines > 0, "{r:?}");
    assert!(r.matches[1] > 0, "contribution batches found: {r:?}");
    assert!(
        r.matches[2] > 0,
        "one debit for several book lines found: {r:?}"
    );
    assert_eq!(r.days_skipped, 0, "no bound hit on the county");
    // Planted breaks: (account, YYYY-MM) → jump, from the answer key's notes
    // ("account expenditure 6228…: reconciliation differs by …").
    let mut breaks: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let truth = std::fs::read_to_string(data.join("_truth/ground_truth.csv")).expect("answer key");
    let mut rd = csv::Reader::from_reader(truth.trim_start_matches('\u{feff}').as_bytes());
    let headers = rd.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (code, month, amount, note) = (
        col("check_code"),
        col("month_from"),
        col("amount"),
        col("note"),
    );
    for rec in rd.records() {
        let rec = rec.unwrap();
        if &rec[code] == "BANK_BALANCE" {
            let account = rec[note].split_whitespace().nth(1).unwrap().to_string();
            let m = rec[month][..7].to_string();
            *breaks.entry((account, m)).or_default() += rec[amount].parse::<Decimal>().unwrap();
        }
    }
    assert!(!breaks.is_empty(), "the county plants BANK_BALANCE cases");
    let rows = fx.rows(
        "SELECT account, strftime(month, '%Y-%m'), difference, bank_side, book_side FROM bank_reconciliation ORDER BY account, month",
    );
    assert!(
        rows.len() >= 4 * 12,
        "four accounts, a year or more each: {}",
        rows.len()
    );
    let mut so_far: BTreeMap<String, Decimal> = BTreeMap::new();
    for row in &rows {
        let jump = breaks
            .get(&(row[0].clone(), row[1].clone()))
            .copied()
            .unwrap_or_default();
        let expected = *so_far
            .entry(row[0].clone())
            .and_modify(|d| *d += jump)
            .or_insert(jump);
        let difference: Decimal = row[2].parse().unwrap();
        assert_eq!(
            difference, expected,
            "{row:?}: the planted jumps so far are {expected}"
        );
    }
}
