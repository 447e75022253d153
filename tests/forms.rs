//! The forms that go with the money (附表十三, 附表十二, 附表十二之二) and the fund
//! table's internal transfers, on a hand-made county whose every figure is worked
//! out below, and on the sample county (docs/rules.md § The forms sent with the
//! money).

use chrono::NaiveDate;
use pension::defs::DefSource;
use pension::ingest::IngestOptions;
use pension::reports::{self, half_up, Cell, Definitions, ReportOptions, ReportRun, Table};
use pension::warehouse::{connect, Warehouse};
use rust_decimal::Decimal;

use crate::common::{write, Fixture, Inputs};
use crate::reports::{col, dec, sample, table, total};

fn d(s: &str) -> Decimal {
    s.parse().expect("a decimal literal")
}

fn september() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()
}

/// The monthly package of `month` over the fixture's warehouse (no ledger run).
fn package(fx: &Fixture, month: NaiveDate, unmasked: bool) -> ReportRun {
    let wh = Warehouse::open_read(&fx.wh_dir()).expect("open warehouse");
    let conn = connect(&wh, &fx.catalog).expect("connect");
    let defs = Definitions::load(&DefSource::builtin()).expect("definitions load");
    reports::compute(&conn, &defs, &ReportOptions::monthly(month, unmasked, true))
        .expect("reports compute")
}

// Valid 18-character ID numbers (check characters computed).
const P1: &str = "41172519560301001X";
const P2: &str = "411725195604150022";
const P3: &str = "411725195011010032";
const D1: &str = "411725197001010046";
const E1: &str = "411725197502020058";
const T1: &str = "411725198003030061";
const T2: &str = "411725198504040073";
const H1: &str = "411725196605060082";

/// September 2026 of a small county:
/// - approvals in September: P1 (balance 12,345.67 → 88.82), P3 (1,000.00 → 7.19),
///   and three balances near a half fen or large (0.69, 0.70, 99,999,999.99);
///   P2 was approved in 2025;
/// - payouts for September: P1 138 + 88.82 successful, P2 138 + 20 failed;
/// - cancellations applied in September: a death refund 3,210.50, an emigration
///   refund 1,500.25, a transfer out 4,000.00 that also has its transfer record (one
///   payment), a transfer out of 800.00 with no transfer record; a hukou change of
///   August (999.00) is not September's;
/// - the books: 10,000 from the fiscal to the expenditure account, pensions 226.82,
///   refunds 4,710.75, transfers out 4,800.00, interest 1.00; the income account's
///   500.00 of contributions swept to the fiscal account; 20,000 of fiscal interest
///   in August.
fn hand_made(fx: &Fixture) {
    let mut i = Inputs::default();
    for (p, id, name, birth) in [
        ("P1", P1, "张一", "1956-03-01"),
        ("P2", P2, "王二", "1956-04-15"),
        ("P3", P3, "李三", "1950-11-01"),
        ("P4", D1, "赵四", "1970-01-01"),
        ("P5", E1, "钱五", "1975-02-02"),
        ("P6", T1, "孙六", "1980-03-03"),
    ] {
        i.add(
            "enrollment",
            format!("{p},{id},{name},M,{birth},agri,城关镇,东村,2012-01-01,100,6228480000000001234,是,,"),
        );
    }
    i.add("basic_pension_standard", "2025-01,138.00");
    for row in [
        "P1,41172519560301001X,2026-09,138.00,88.82,12345.67,2026-09-10",
        "P3,411725195011010032,2026-10,138.00,7.19,1000.00,2026-09-05",
        "P2,411725195604150022,2025-06,138.00,20.00,2780.00,2025-05-20",
        "P7,411725196605060082,2026-10,138.00,0.00,0.69,2026-09-11",
        "P8,411725198504040073,2026-10,138.00,0.01,0.70,2026-09-12",
        "P9,411725198003030061,2026-10,138.00,719424.46,99999999.99,2026-09-13",
    ] {
        i.add("benefit_approval", row);
    }
    i.add(
        "payout",
        format!("F1,P1,{P1},张一,2026-09,138.00,88.82,226.82,6228480000000001234,2026-09-15,成功"),
    );
    i.add(
        "payout",
        format!("F2,P2,{P2},王二,2026-09,138.00,20.00,158.00,6228480000000005678,2026-09-15,失败"),
    );
    i.add(
        "payout",
        format!("F0,P1,{P1},张一,2026-08,138.00,88.82,226.82,6228480000000001234,2026-08-15,成功"),
    );
    for row in [
        format!("P4,{D1},death,2026-08-20,2026-09-08,3210.50,继承人"),
        format!("P5,{E1},emigration,2026-09-01,2026-09-12,1500.25,本人"),
        format!("P6,{T1},transfer_out,2026-09-18,2026-09-20,4000.00,"),
        format!("P10,{T2},transfer_out,2026-09-19,2026-09-22,800.00,"),
        format!("P11,{H1},hukou_change,2026-08-01,2026-08-30,999.00,本人"),
    ] {
        i.add("cancellation", row);
    }
    i.add(
        "transfer",
        format!("P6,{T1},out,某省某县,4000.00,2026-09-25"),
    );
    for row in [
        "fiscal,2026-08-31,V0,in,20000.00,interest,",
        "fiscal,2026-09-05,V1,out,10000.00,from_fiscal,expenditure",
        "expenditure,2026-09-05,V2,in,10000.00,from_fiscal,fiscal",
        "expenditure,2026-09-15,V3,out,138.00,basic_pension,",
        "expenditure,2026-09-15,V4,out,88.82,account_pension,",
        "expenditure,2026-09-21,V5,in,1.00,interest,",
        "expenditure,2026-09-30,V6,out,4710.75,refund,",
        "expenditure,2026-09-30,V7,out,4800.00,transfer_out,",
        "income,2026-09-30,V8,in,500.00,contribution,",
        "income,2026-09-30,V9,out,500.00,to_fiscal,fiscal",
        "fiscal,2026-09-30,V10,in,500.00,to_fiscal,income",
    ] {
        i.add("fund_ledger", row);
    }
    i.ingest(fx, &fx.dir.path().join("in"));
}

const FISCAL_NO: &str = "6228480000000000001";
const EXPENDITURE_NO: &str = "6228480000000000002";

/// The bank's side as plain CSV files: which account is which, and the expenditure
/// account's statement (the pensions as one batch debit, each refund and transfer
/// as its own, 800.00 of the transfers still to leave, a fee of 5.00 the books do
/// not have), an October line and another account's line that are not September's
/// expenditure.
fn bank_files(fx: &Fixture) {
    let dir = fx.dir.path().join("bank");
    let accounts = format!(
        "account_no,account,bank\n{FISCAL_NO},fiscal,农业银行\n{EXPENDITURE_NO},expenditure,农业银行\n6228480000000000003,income,农业银行\n"
    );
    let statement = format!(
        "account_no,txn_date,income,expense,balance,counterpart_name,counterpart_account,summary,bank_ref\n\
         {EXPENDITURE_NO},2026-09-05,10000.00,,10000.00,财政专户,{FISCAL_NO},拨入,B1\n\
         {EXPENDITURE_NO},2026-09-15,,226.82,9773.18,,,养老金代发,B2\n\
         {EXPENDITURE_NO},2026-09-21,1.00,,9774.18,,,结息,B3\n\
         {EXPENDITURE_NO},2026-09-26,,3210.50,6563.68,继承人,,退保,B4\n\
         {EXPENDITURE_NO},2026-09-28,,1500.25,5063.43,本人,,退保,B5\n\
         {EXPENDITURE_NO},2026-09-29,,4000.00,1063.43,某县社保,,转移,B6\n\
         {EXPENDITURE_NO},2026-09-30,,5.00,1058.43,,,手续费,B7\n\
         {EXPENDITURE_NO},2026-10-02,,800.00,258.43,某县社保,,转移,B8\n"
    );
    // A statement is one account's (its running balance runs through the file).
    let income = "account_no,txn_date,income,expense,balance,counterpart_name,counterpart_account,summary,bank_ref\n\
         6228480000000000003,2026-09-30,500.00,,500.00,,,缴费,C1\n"
        .to_string();
    for (kind, name, text) in [
        ("bank_account", "bank_account", accounts),
        ("bank_statement", "支出户_2026-09", statement),
        ("bank_statement", "收入户_2026-09", income),
    ] {
        let file = write(&dir.join(format!("{name}.csv")), text.as_bytes());
        let opts = IngestOptions {
            kind: Some(kind.to_string()),
            ..Default::default()
        };
        let report = fx.ingest_with(&[file], &opts);
        assert!(report.committed, "{kind} ingests");
        for f in &report.files {
            assert_eq!(f.quarantined, 0, "{kind}: {:?}", f.first_reasons);
        }
    }
}

/// The form's line whose item (trimmed) is `item`.
fn line<'a>(t: &'a Table, item: &str) -> &'a Vec<Cell> {
    t.rows
        .iter()
        .find(|r| matches!(&r[0], Cell::Text(s) if s.trim() == item))
        .unwrap_or_else(|| panic!("line {item} in {:?}", t.rows))
}

/// A money cell; an empty one is None.
fn cell(t: &Table, r: &[Cell], c: &str) -> Option<Decimal> {
    r[col(t, c)].decimal()
}

const PENSION_LINES: [&str; 7] = [
    "一、待遇支付：基础养老金-中央",
    "基础养老金-省级",
    "基础养老金-市级",
    "基础养老金-县级",
    "基础养老金小计",
    "个人账户养老金",
    "待遇支付小计",
];
const ACCOUNT_LINES: [&str; 4] = [
    "二、个人账户资金支付：死亡退还",
    "其他注销退还（出国定居、户籍变更等）",
    "转移支出（跨县转出）",
    "个人账户资金支付小计",
];
const TOTAL: &str = "三、本月支付合计（一＋二）";
const REQUEST: &str = "四、申请财政专户划拨支出户";

/// Every column of the form adds up: the four levels make the basic pension, basic
/// + account the benefits, the three account payments their subtotal, benefits +
/// account payments the total; the transfer requested is the total to pay; each
/// difference is the columns it names.
fn assert_adds_up(t: &Table) {
    let v = |item: &str, c: &str| cell(t, line(t, item), c).unwrap_or_default();
    for c in ["to_pay", "payout_file", "payout_ok", "paid"] {
        let levels: Decimal = PENSION_LINES[..4].iter().map(|i| v(i, c)).sum();
        assert_eq!(levels, v(PENSION_LINES[4], c), "{c}: levels");
        assert_eq!(
            v(PENSION_LINES[4], c) + v(PENSION_LINES[5], c),
            v(PENSION_LINES[6], c),
            "{c}: benefits"
        );
        assert_eq!(
            v(PENSION_LINES[6], c) + v(ACCOUNT_LINES[3], c),
            v(TOTAL, c),
            "{c}: total"
        );
    }
    for c in ["to_pay", "paid"] {
        let parts: Decimal = ACCOUNT_LINES[..3].iter().map(|i| v(i, c)).sum();
        assert_eq!(parts, v(ACCOUNT_LINES[3], c), "{c}: account payments");
    }
    assert_eq!(
        v(PENSION_LINES[6], "books") + v(ACCOUNT_LINES[3], "books"),
        v(TOTAL, "books")
    );
    assert_eq!(v(REQUEST, "to_pay"), v(TOTAL, "to_pay"));
    for r in &t.rows {
        let diff = |a: &str, b: &str| match (cell(t, r, a), cell(t, r, b)) {
            (Some(a), Some(b)) => Some(a - b),
            _ => None,
        };
        assert_eq!(cell(t, r, "diff_file"), diff("to_pay", "payout_file"));
        assert_eq!(cell(t, r, "diff_books"), diff("books", "paid"));
        assert_eq!(cell(t, r, "diff_bank"), diff("books", "bank"));
    }
}

#[test]
fn the_payment_approval_adds_up_and_ties_to_the_payout_file_and_the_expenditure_statement() {
    let fx = Fixture::new();
    hand_made(&fx);
    // Without any bank file the bank column is empty, not an error; nor in a
    // session that has no bank tables at all (a warehouse or province export made
    // before them).
    let before = package(&fx, september(), false);
    let t = table(&before, "13_payment_approval");
    assert!(t.rows.iter().all(|r| cell(t, r, "bank").is_none()));
    assert_adds_up(t);
    let wh = Warehouse::open_read(&fx.wh_dir()).expect("open warehouse");
    let conn = connect(&wh, &fx.catalog).expect("connect");
    conn.execute_batch("DROP VIEW bank_statement; DROP VIEW bank_account;")
        .expect("drop the bank views");
    let defs = Definitions::load(&DefSource::builtin()).expect("definitions load");
    let older = reports::compute(
        &conn,
        &defs,
        &ReportOptions::monthly(september(), false, true),
    )
    .expect("reports compute without the bank tables");
    assert_eq!(table(&older, "13_payment_approval").rows, t.rows);
    bank_files(&fx);
    let run = package(&fx, september(), false);
    let t = table(&run, "13_payment_approval");
    assert_eq!(t.rows.len(), 13);
    assert_adds_up(t);
    let v = |item: &str, c: &str| cell(t, line(t, item), c);
    let n = |item: &str| cell(t, line(t, item), "persons");
    // The individual-account payments by kind: the transfer that has both a
    // cancellation and a transfer record is one payment of 4,000.00.
    assert_eq!(v(ACCOUNT_LINES[0], "to_pay"), Some(d("3210.50")));
    assert_eq!(n(ACCOUNT_LINES[0]), Some(Decimal::ONE));
    assert_eq!(v(ACCOUNT_LINES[1], "to_pay"), Some(d("1500.25")));
    assert_eq!(n(ACCOUNT_LINES[1]), Some(Decimal::ONE));
    assert_eq!(v(ACCOUNT_LINES[2], "to_pay"), Some(d("4800.00")));
    assert_eq!(n(ACCOUNT_LINES[2]), Some(Decimal::TWO));
    assert_eq!(v(ACCOUNT_LINES[3], "to_pay"), Some(d("9510.75")));
    assert_eq!(v(ACCOUNT_LINES[3], "books"), Some(d("9510.75")));
    assert_eq!(v(ACCOUNT_LINES[3], "diff_books"), Some(Decimal::ZERO));
    // The payout file: both rows of 发放年月 September, the successful one paid.
    let detail = table(&run, "24_payout_detail_form");
    assert_eq!(detail.rows.len(), 2);
    assert_eq!(
        v(PENSION_LINES[6], "payout_file"),
        Some(total(detail, "total_amount"))
    );
    assert_eq!(
        v(PENSION_LINES[4], "payout_file"),
        Some(total(detail, "basic_amount"))
    );
    assert_eq!(
        v(PENSION_LINES[5], "payout_file"),
        Some(total(detail, "account_amount"))
    );
    assert_eq!(total(detail, "total_amount"), d("384.82"));
    assert_eq!(v(PENSION_LINES[6], "payout_ok"), Some(d("226.82")));
    assert_eq!(v(PENSION_LINES[6], "paid"), Some(d("226.82")));
    assert_eq!(v(PENSION_LINES[6], "diff_books"), Some(Decimal::ZERO));
    // The month's total against the expenditure statement: the books paid 800.00
    // the bank has not yet, and the bank took a fee of 5.00 the books do not have.
    assert_eq!(v(TOTAL, "books"), Some(d("9737.57")));
    assert_eq!(v(TOTAL, "bank"), Some(d("8942.57")));
    assert_eq!(v(TOTAL, "diff_bank"), Some(d("795.00")));
    // The transfer requested is the total to pay, beside the transfers booked and
    // the credits from the fiscal account on the statement (not the interest).
    assert_eq!(v(REQUEST, "to_pay"), v(TOTAL, "to_pay"));
    assert_eq!(v(REQUEST, "books"), Some(d("10000.00")));
    assert_eq!(v(REQUEST, "bank"), Some(d("10000.00")));
    assert_eq!(v(REQUEST, "diff_bank"), Some(Decimal::ZERO));
}

#[test]
fn the_approval_form_divides_the_balance_by_139_half_up_and_the_forms_carry_whole_ids() {
    let fx = Fixture::new();
    hand_made(&fx);
    let run = package(&fx, september(), false);
    let t = table(&run, "19_benefit_approval_form");
    let people: Vec<String> = t
        .rows
        .iter()
        .map(|r| r[col(t, "person_no")].csv_text(Default::default()))
        .collect();
    assert_eq!(people.len(), 5, "September's approvals only: {people:?}");
    assert!(!people.contains(&"P2".to_string()));
    let divisor = Decimal::from(139);
    for r in &t.rows {
        let balance = dec(&r[col(t, "account_balance")]);
        let account = dec(&r[col(t, "account_monthly")]);
        assert_eq!(account, half_up(balance / divisor, 2), "{balance}");
        assert_eq!(dec(&r[col(t, "divisor")]), divisor);
        assert_eq!(dec(&r[col(t, "basic_monthly")]), d("138.00"));
        assert_eq!(dec(&r[col(t, "monthly_total")]), account + d("138.00"));
        // Each record here was computed by the rule.
        assert_eq!(dec(&r[col(t, "record_difference")]), Decimal::ZERO, "{r:?}");
    }
    let of = |p: &str| -> Decimal {
        let r = t
            .rows
            .iter()
            .find(|r| r[col(t, "person_no")] == Cell::Text(p.into()))
            .unwrap();
        dec(&r[col(t, "account_monthly")])
    };
    assert_eq!(of("P1"), d("88.82"));
    assert_eq!(of("P3"), d("7.19"));
    assert_eq!(of("P7"), d("0.00"));
    assert_eq!(of("P8"), d("0.01"));
    assert_eq!(of("P9"), d("719424.46"));
    // The forms go to the finance bureau: whole ID numbers and bank accounts even in
    // a masked run, while the lists for action stay masked.
    let ids = |t: &Table| -> Vec<String> {
        t.rows
            .iter()
            .map(|r| r[col(t, "id_number")].csv_text(Default::default()))
            .collect()
    };
    assert!(ids(t).contains(&P1.to_string()), "{:?}", ids(t));
    let detail = table(&run, "24_payout_detail_form");
    assert_eq!(ids(detail), vec![P1.to_string(), P2.to_string()]);
    assert_eq!(
        detail.rows[0][col(detail, "bank_account")],
        Cell::Text("6228480000000001234".into())
    );
    assert!(t.def.meta.full_ids && t.def.meta.list && detail.def.meta.full_ids);
    // The workbench's download for a statistician promises masked lists: there the
    // forms are masked too.
    let wh = Warehouse::open_read(&fx.wh_dir()).expect("open warehouse");
    let conn = connect(&wh, &fx.catalog).expect("connect");
    let defs = Definitions::load(&DefSource::builtin()).expect("definitions load");
    let opts = ReportOptions {
        whole_ids_in_forms: false,
        ..ReportOptions::monthly(september(), false, true)
    };
    let masked = reports::compute(&conn, &defs, &opts).expect("reports compute");
    let masked_ids = ids(table(&masked, "24_payout_detail_form"));
    assert_eq!(masked_ids, vec!["411725********001X", "411725********0022"]);
    let html = reports::dashboard::render(&run).expect("dashboard");
    assert!(!html.contains(P1) && !html.contains("待遇核定表"));
}

#[test]
fn the_fund_table_shows_internal_transfers_on_their_own_and_each_account_balances() {
    let fx = Fixture::new();
    hand_made(&fx);
    let run = package(&fx, september(), false);
    let t = table(&run, "09_fund_accounts");
    // The fund's own income and expenditure: contributions 500 and interest 1.00;
    // pensions, refunds and transfers out 9,737.57 — not the 10,500 moved between
    // the accounts.
    assert_eq!(total(t, "income"), d("501.00"));
    assert_eq!(total(t, "expenditure"), d("9737.57"));
    assert_eq!(total(t, "transfer_in"), d("10500.00"));
    assert_eq!(total(t, "transfer_out"), d("10500.00"));
    assert_eq!(total(t, "opening"), d("20000.00"));
    assert_eq!(total(t, "closing"), d("10763.43"));
    for r in &t.rows {
        let v = |c: &str| dec(&r[col(t, c)]);
        assert_eq!(
            v("opening") + v("income") - v("expenditure") + v("transfer_in") - v("transfer_out"),
            v("closing"),
            "{r:?}"
        );
    }
    let closing = |acct: &str| {
        let r = t
            .rows
            .iter()
            .find(|r| r[0] == Cell::Text(acct.into()))
            .unwrap();
        dec(&r[col(t, "closing")])
    };
    assert_eq!(closing("收入户"), Decimal::ZERO);
    assert_eq!(closing("财政专户"), d("10500.00"));
    assert_eq!(closing("支出户"), d("263.43"));
    // The categories table says 划入 / 划出 for the same lines.
    let cats = table(&run, "10_fund_categories");
    let moved: Decimal = cats
        .rows
        .iter()
        .filter(|r| r[1] == Cell::Text("划入".into()))
        .map(|r| dec(&r[col(cats, "amount_month")]))
        .sum();
    assert_eq!(moved, d("10500.00"));
}

#[test]
fn the_sample_countys_payment_approval_adds_up_and_ties_to_its_payout_detail() {
    let s = sample();
    let t = table(&s.run, "13_payment_approval");
    assert_adds_up(t);
    let v = |item: &str, c: &str| cell(t, line(t, item), c).unwrap_or_default();
    assert!(
        v(PENSION_LINES[6], "persons") > Decimal::from(50),
        "beneficiaries are due"
    );
    assert!(v(PENSION_LINES[6], "to_pay") > Decimal::ZERO);
    let detail = table(&s.run, "24_payout_detail_form");
    assert_eq!(
        v(PENSION_LINES[6], "payout_file"),
        total(detail, "total_amount")
    );
    assert_eq!(
        v(PENSION_LINES[4], "payout_file"),
        total(detail, "basic_amount")
    );
    let ok: Decimal = detail
        .rows
        .iter()
        .filter(|r| r[col(detail, "status")] == Cell::Text("成功".into()))
        .map(|r| dec(&r[col(detail, "total_amount")]))
        .sum();
    assert_eq!(v(PENSION_LINES[6], "payout_ok"), ok);
    // The sample's books pay what the payout file paid in the month.
    assert_eq!(v(PENSION_LINES[6], "diff_books"), Decimal::ZERO);
}
