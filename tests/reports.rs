//! The monthly reports on the bundled sample county (ingested, ledger and audit run
//! as a user would): fund accounts and coverage reconcile, payouts equal the payout
//! rows, books-agree equals the audit, the package is deterministic, the workbook
//! reads back, lists are masked, and the dashboard carries no personal data and
//! renders in headless Chromium.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use pension::audit::{self, AuditOptions};
use pension::defs::DefSource;
use pension::reports::{self, Cell, Definitions, ReportOptions, ReportRun, Table};
use pension::warehouse::{connect, Warehouse};
use rust_decimal::Decimal;

use crate::common::{samples, Fixture};

const MONTH: &str = "2026-10";

pub(crate) struct Sample {
    pub(crate) fx: Fixture,
    pub(crate) run: ReportRun,
    out: PathBuf,
}

pub(crate) fn month() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
}

/// The sample county through ledger and audit, and the report package for MONTH
/// (shared with the calendar's tests, tests/calendar.rs: one fixture per binary).
pub(crate) fn sample() -> &'static Sample {
    static S: OnceLock<Sample> = OnceLock::new();
    S.get_or_init(|| {
        let fx = Fixture::new();
        let report = fx.ingest(&[samples().join("county")]);
        assert!(report.committed, "the sample county ingests");
        let mut wh = crate::common::open_wh(&fx.wh_dir());
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
        let run = compute(&fx, month(), false).0;
        let out = fx.dir.path().join("report");
        reports::write_package(&run, &out).expect("package written");
        Sample { fx, run, out }
    })
}

/// A report run with its DuckDB session (for the prelude's tables).
fn compute(fx: &Fixture, month: NaiveDate, unmasked: bool) -> (ReportRun, duckdb::Connection) {
    let wh = Warehouse::open_read(&fx.wh_dir()).expect("open warehouse");
    let conn = connect(&wh, &fx.catalog).expect("connect");
    let defs = Definitions::load(&DefSource::builtin()).expect("report definitions load");
    let run = reports::compute(&conn, &defs, &ReportOptions::monthly(month, unmasked, true))
        .expect("reports compute");
    (run, conn)
}

pub(crate) fn table<'a>(run: &'a ReportRun, name: &str) -> &'a Table {
    run.table(name).unwrap_or_else(|| panic!("report {name}"))
}

pub(crate) fn dec(c: &Cell) -> Decimal {
    c.decimal()
        .unwrap_or_else(|| panic!("{c:?} is not a number"))
}

pub(crate) fn col(t: &Table, name: &str) -> usize {
    t.column_index(name)
        .unwrap_or_else(|| panic!("{} has no column {name}", t.def.name))
}

pub(crate) fn column_sum(t: &Table, name: &str) -> Decimal {
    let i = col(t, name);
    t.rows.iter().map(|r| dec(&r[i])).sum()
}

pub(crate) fn total(t: &Table, name: &str) -> Decimal {
    dec(&t.totals.as_ref().expect("totals row")[col(t, name)])
}

pub(crate) fn sql_decimal(conn: &duckdb::Connection, sql: &str) -> Decimal {
    conn.query_row(sql, [], |r| r.get::<_, Option<Decimal>>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_default()
}

#[test]
fn fund_accounts_reconcile_to_the_fen_every_month() {
    let s = sample();
    let (_, conn) = compute(&s.fx, month(), false);
    // Every account, every month since the first flow.
    let rows: Vec<(String, NaiveDate, Decimal, Decimal, Decimal, Decimal)> = conn
        .prepare(
            "SELECT account, month, opening, income - expenditure + transfer_in - transfer_out, \
             transfer_in - transfer_out, closing FROM r_fund_month ORDER BY account, month",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        rows.len() > 4 * 150,
        "15 years of months for 4 accounts: {}",
        rows.len()
    );
    let mut previous: BTreeMap<&str, Decimal> = BTreeMap::new();
    // (net = income − expenditure + transfers in − transfers out; the transfers
    // between the accounts are not income or expenditure: docs/rules.md § Fund tables)
    for (account, m, opening, net, _transfers, closing) in &rows {
        assert_eq!(opening + net, *closing, "{account} {m}");
        let before = previous.get(account.as_str()).copied().unwrap_or_default();
        assert_eq!(
            *opening, before,
            "{account} {m}: opening = last month's closing"
        );
        previous.insert(account, *closing);
    }
    // The closing balances equal the ledger's flows summed directly.
    for (account, closing) in &previous {
        let direct = sql_decimal(
            &conn,
            &format!(
                "SELECT sum(CASE direction WHEN 'in' THEN amount ELSE -amount END) FROM fund_ledger \
                 WHERE account = '{account}' AND txn_date <= DATE '2026-10-31'"
            ),
        );
        assert_eq!(*closing, direct, "{account}");
    }
    // The report table shows the same month, and its totals add up.
    let t = table(&s.run, "09_fund_accounts");
    assert_eq!(t.rows.len(), 4);
    for r in &t.rows {
        let v = |n: &str| dec(&r[col(t, n)]);
        assert_eq!(
            v("opening") + v("income") - v("expenditure") + v("transfer_in") - v("transfer_out"),
            v("closing"),
            "{r:?}"
        );
    }
    // The county's transfers between its own accounts cancel out (both sides are
    // booked the same day), so its income and expenditure alone close the total.
    assert!(total(t, "transfer_in") > Decimal::ZERO);
    assert_eq!(total(t, "transfer_in"), total(t, "transfer_out"));
    assert_eq!(
        total(t, "opening") + total(t, "income") - total(t, "expenditure"),
        total(t, "closing")
    );
    let summary = table(&s.run, "00_summary");
    assert_eq!(
        dec(summary.first("fund_balance").unwrap()),
        total(t, "closing")
    );
    // The income account must be empty at month end (月末零余额) in the sample.
    let income = t
        .rows
        .iter()
        .find(|r| r[0] == Cell::Text("收入户".into()))
        .expect("收入户");
    assert_eq!(dec(&income[col(t, "closing")]), Decimal::ZERO);
}

#[test]
fn books_agree_equals_the_audit_books_disagree_findings() {
    let s = sample();
    let session = s.fx.session();
    // The audit (as of MONTH) reports differences of earlier months too: check the
    // report month and the latest month with a difference. The table holds the flows;
    // the liability half (Σ individual accounts against the fund) is the audit's only.
    let months: Vec<String> = session
        .rows("SELECT DISTINCT strftime(month_from, '%Y-%m-%d') FROM findings WHERE check_code = 'BOOKS_DISAGREE'
               AND subject <> 'individual accounts ≠ fund liability' ORDER BY 1 DESC LIMIT 1")
        .into_iter()
        .map(|r| r[0].clone())
        .chain([String::from("2026-10-01")])
        .collect();
    assert_eq!(
        months.len(),
        2,
        "the sample county has a books difference (injected)"
    );
    for m in months {
        let month: NaiveDate = m.parse().unwrap();
        let (run, _) = compute(&s.fx, month, false);
        let t = table(&run, "12_books_agree");
        let mut report: Vec<Decimal> = t
            .rows
            .iter()
            .map(|r| dec(&r[col(t, "difference")]))
            .filter(|d| !d.is_zero())
            .collect();
        let mut audit: Vec<Decimal> = session
            .rows(&format!(
                "SELECT amount_at_risk FROM findings WHERE check_code = 'BOOKS_DISAGREE' AND month_from = DATE '{m}'
                 AND subject <> 'individual accounts ≠ fund liability'"
            ))
            .into_iter()
            .map(|r| r[0].parse().unwrap())
            .collect();
        report.sort();
        audit.sort();
        assert_eq!(report, audit, "{m}");
        for r in &t.rows {
            let v = |n: &str| dec(&r[col(t, n)]);
            assert_eq!(v("ledger_amount") - v("detail_amount"), v("difference"));
            let agrees = r[col(t, "agrees")] == Cell::Text("相符".into());
            assert_eq!(agrees, v("difference").is_zero());
        }
        assert!(!t.rows.is_empty(), "{m}: the month has fund flows");
    }
}

/// On the sample county (ledger run) the individual accounts agree with the detail
/// records, so the liability half of BOOKS_DISAGREE is exactly what the injected flow
/// differences of the individual-account categories leave behind (docs/rules.md
/// § Books agree): income in (contributions, collective, transfers in) and prepaid
/// contributions add, expenditure out (account pensions, refunds, transfers out)
/// subtracts, and the fiscal subsidies booked otherwise than the bureau notified
/// (FISCAL_DISAGREE, booked − notified: the subsidies are taken from where they are
/// booked) add.
#[test]
fn books_liability_difference_is_what_the_flow_differences_leave() {
    let s = sample();
    let one = |sql: &str| -> Decimal {
        let rows = s.fx.rows(sql);
        rows[0][0]
            .parse()
            .unwrap_or_else(|_| panic!("{sql}: {rows:?}"))
    };
    let liability = one("SELECT amount_at_risk FROM findings WHERE in_latest_audit
         AND subject = 'individual accounts ≠ fund liability'");
    let flows = one(
        "SELECT coalesce(sum(CASE WHEN split_part(subject, ' ', 1) = 'expenditure' THEN -amount_at_risk
                                   ELSE amount_at_risk END), 0)
         FROM findings WHERE in_latest_audit AND check_code = 'BOOKS_DISAGREE'
           AND (subject SIMILAR TO '(income (contribution|collective|subsidy_[a-z]+|transfer_in) in|prepaid contribution in|expenditure (account_pension|refund|transfer_out) out) .*')",
    );
    let fiscal = one("SELECT coalesce(sum(amount_at_risk), 0) FROM findings
         WHERE in_latest_audit AND check_code = 'FISCAL_DISAGREE'");
    assert!(
        !flows.is_zero(),
        "the sample county has injected flow differences"
    );
    assert_eq!(liability, flows + fiscal);
}

#[test]
fn coverage_adds_up_across_townships_villages_and_age_bands() {
    let s = sample();
    let town = table(&s.run, "01_coverage_township");
    let village = table(&s.run, "02_coverage_village");
    let sex_age = table(&s.run, "03_coverage_sex_age");
    let summary = table(&s.run, "00_summary");
    for name in ["eligible", "covered"] {
        let county = dec(summary.first(name).unwrap());
        assert_eq!(column_sum(town, name), county, "{name}: townships");
        assert_eq!(total(town, name), county, "{name}: totals row");
        assert_eq!(column_sum(village, name), county, "{name}: villages");
        assert_eq!(column_sum(sex_age, name), county, "{name}: age bands");
        assert_eq!(
            column_sum(sex_age, &format!("{name}_m")) + column_sum(sex_age, &format!("{name}_f")),
            county,
            "{name}: by sex"
        );
    }
    // Per township, the villages add up to the township row.
    let (ti, vi) = (col(town, "township"), col(village, "township"));
    for r in &town.rows {
        let sum: Decimal = village
            .rows
            .iter()
            .filter(|v| v[vi] == r[ti])
            .map(|v| dec(&v[col(village, "eligible")]))
            .sum();
        assert_eq!(sum, dec(&r[col(town, "eligible")]), "{:?}", r[ti]);
    }
    // The rate is covered ÷ eligible, and the county rate from the sums.
    let rate = dec(summary.first("coverage_rate").unwrap());
    let expected = (dec(summary.first("covered").unwrap())
        / dec(summary.first("eligible").unwrap()))
    .round_dp(6);
    assert_eq!(rate, expected);
    // The definition, written independently over the raw views (docs/rules.md § Eligible residents).
    let eligible: Decimal = s
        .fx
        .one(
            "SELECT count(*) FROM id_registry r
             WHERE r.status = 'normal'
               AND NOT EXISTS (SELECT 1 FROM death_record d WHERE d.id_number = r.id_number AND d.death_date <= DATE '2026-10-31')
               AND NOT EXISTS (SELECT 1 FROM employee_pension e WHERE e.id_number = r.id_number
                               AND e.status IN ('contributing', 'receiving') AND e.start_date <= DATE '2026-10-31'
                               AND (e.end_date IS NULL OR e.end_date > DATE '2026-10-31'))
               AND NOT coalesce(r.in_school, false)
               AND r.birth_date <= DATE '2010-10-31'",
        )
        .parse()
        .unwrap();
    assert_eq!(dec(summary.first("eligible").unwrap()), eligible);
}

#[test]
fn payouts_in_the_report_equal_the_successful_payout_rows() {
    let s = sample();
    let t = table(&s.run, "08_benefits_township");
    let ok_sum: Decimal = s
        .fx
        .one("SELECT sum(total_amount) FROM payout WHERE status = 'ok' AND month = DATE '2026-10-01'")
        .parse()
        .unwrap();
    let ok_rows: Decimal =
        s.fx.one("SELECT count(*) FROM payout WHERE status = 'ok' AND month = DATE '2026-10-01'")
            .parse()
            .unwrap();
    let all_rows: Decimal =
        s.fx.one("SELECT count(*) FROM payout WHERE month = DATE '2026-10-01'")
            .parse()
            .unwrap();
    assert_eq!(column_sum(t, "total_paid"), ok_sum);
    assert_eq!(total(t, "total_paid"), ok_sum);
    assert_eq!(
        column_sum(t, "basic_paid") + column_sum(t, "account_paid"),
        ok_sum
    );
    assert_eq!(total(t, "payout_ok"), ok_rows);
    assert_eq!(total(t, "payout_rows"), all_rows);
    let summary = table(&s.run, "00_summary");
    assert_eq!(dec(summary.first("paid_month").unwrap()), ok_sum);
    assert_eq!(
        dec(summary.first("payout_rate").unwrap()),
        (ok_rows / all_rows).round_dp(6)
    );
    // Year on year: this month's beneficiaries less those of the same month last year.
    let ly: Decimal = s
        .fx
        .one("SELECT count(DISTINCT person_no) FROM payout WHERE status = 'ok' AND month = DATE '2025-10-01'")
        .parse()
        .unwrap();
    assert_eq!(
        dec(summary.first("beneficiaries_yoy").unwrap()),
        dec(summary.first("beneficiaries").unwrap()) - ly
    );
    // The pooled-fund part comes from the ledger and is part of the account pension.
    assert!(total(t, "pooled_part") <= total(t, "account_paid"));
}

#[test]
fn the_same_report_twice_gives_byte_identical_csvs_and_charts() {
    let s = sample();
    let again = s.fx.dir.path().join("report-again");
    let (run, _) = compute(&s.fx, month(), false);
    reports::write_package(&run, &again).expect("package written");
    let mut compared = 0;
    for sub in ["csv", "charts"] {
        for entry in std::fs::read_dir(s.out.join(sub)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "png") {
                continue; // PNG encoders may differ in metadata; the SVG is the drawing
            }
            let other = again.join(sub).join(p.file_name().unwrap());
            assert_eq!(
                std::fs::read(&p).unwrap(),
                std::fs::read(&other).unwrap(),
                "{}",
                p.display()
            );
            compared += 1;
        }
    }
    assert_eq!(compared, s.run.tables.len() + s.run.charts.len());
    // CSVs open in Excel with Chinese headers: UTF-8 with a BOM.
    let csv = std::fs::read(s.out.join("csv/01_coverage_township.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}乡镇(街道),".as_bytes()));
}

#[test]
fn the_workbook_reads_back_with_headers_totals_and_exact_figures() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let s = sample();
    let path = s.out.join("月报_2026-10.xlsx");
    let mut wb: Xlsx<_> = open_workbook(&path).expect("workbook opens");
    let names = wb.sheet_names();
    assert_eq!(names[0], "目录");
    assert_eq!(
        names.len(),
        2 + s.run.tables.len(),
        "contents, tables, charts"
    );
    assert_eq!(names.last().map(String::as_str), Some("图表"));
    let t = table(&s.run, "08_benefits_township");
    let range = wb.worksheet_range(&t.def.meta.sheet).expect("sheet");
    let rows: Vec<&[Data]> = range.rows().collect();
    assert!(
        rows[0][0].to_string().contains("待遇"),
        "title: {:?}",
        rows[0]
    );
    assert!(
        rows[1][0].to_string().contains("2026年10月"),
        "subtitle: {:?}",
        rows[1]
    );
    let header: Vec<String> = rows[2].iter().map(|c| c.to_string()).collect();
    let labels: Vec<String> = t.columns().iter().map(|c| c.label.clone()).collect();
    assert_eq!(header, labels);
    assert_eq!(
        rows.len(),
        3 + t.rows.len() + 1,
        "title, subtitle, header, data, totals"
    );
    let last = rows[rows.len() - 1];
    assert_eq!(last[0].to_string(), "全县合计");
    let i = col(t, "total_paid");
    let shown = match &last[i] {
        Data::Float(f) => format!("{f:.2}"),
        other => other.to_string(),
    };
    assert_eq!(shown, format!("{:.2}", total(t, "total_paid")));
    // A data cell of a rate column is a number (a fraction formatted as %).
    let rate = col(t, "payout_rate");
    assert!(
        matches!(rows[3][rate], Data::Float(f) if f > 0.0 && f <= 1.0),
        "{:?}",
        rows[3][rate]
    );
    // The key figures sheet is a list of label / value.
    let summary = wb.worksheet_range("综合指标").expect("summary sheet");
    let labels: Vec<String> = summary.rows().skip(3).map(|r| r[0].to_string()).collect();
    assert!(labels.contains(&"参保率".to_string()), "{labels:?}");
}

/// First 6 and last 4 characters kept, every one between replaced by `*` (also for a
/// malformed number of another length, as ID_INVALID findings carry); a legacy
/// 15-digit number keeps its first 6 and last 3.
fn is_masked(id: &str) -> bool {
    let c: Vec<char> = id.chars().collect();
    let tail = if c.len() == 15 { 3 } else { 4 };
    c.len() >= 11
        && c[..6].iter().all(|ch| ch.is_ascii_digit())
        && c[6..c.len() - tail].iter().all(|ch| *ch == '*')
        && c[c.len() - tail..].iter().all(|ch| *ch != '*')
}

/// The lengths of the runs of digits in a text.
fn digit_runs(text: &str) -> Vec<usize> {
    text.split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .filter(|n| *n > 0)
        .collect()
}

/// The one masking definition (pipeline/mask.sql), on the numbers it is for: the
/// birth date is what is hidden, in a column and inside free text.
#[test]
fn masking_hides_the_birth_date_of_15_and_18_digit_numbers() {
    let conn = duckdb::Connection::open_in_memory().expect("duckdb");
    pension::mask::install(&conn).expect("macros");
    let one = |sql: &str| -> String {
        conn.query_row(&format!("SELECT {sql}"), [], |r| r.get(0))
            .expect(sql)
    };
    assert_eq!(one("masked_id('11010519491231002X')"), "110105********002X");
    assert_eq!(one("masked_id('110105491231002')"), "110105******002");
    assert_eq!(one("masked_id('41172519560701123')"), "411725*******1123");
    assert_eq!(one("masked_id('4.11725E+17')"), "4.1172*E+17");
    assert_eq!(one("masked_id('P0001')"), "P0001");
    assert_eq!(
        one("masked_text('ID 11010519491231002X (entered as 15-digit 110105491231002) enrolled 2 times; also person_no 4117250020000012')"),
        "ID 110105********002X (entered as 15-digit 110105******002) enrolled 2 times; also person_no 4117250020000012"
    );
    assert_eq!(
        one("masked_text('公民身份号码 (id_number) `41172519560701123` has 17 characters; account 6228480000000000011 of person_no 4117250020000012')"),
        "公民身份号码 (id_number) `411725********1123` has 17 characters; account 622848*********0011 of person_no 4117250020000012"
    );
}

#[test]
fn lists_for_action_mask_id_numbers_unless_unmasked() {
    let s = sample();
    // The forms sent to the finance bureau carry whole numbers (full_ids; tests/forms.rs).
    let lists: Vec<&Table> = s
        .run
        .tables
        .iter()
        .filter(|t| t.def.meta.list && !t.def.meta.full_ids)
        .collect();
    assert_eq!(
        lists.len(),
        4,
        "turning 60, not enrolled, interrupted, open findings"
    );
    let not_enrolled = table(&s.run, "21_list_not_enrolled");
    assert!(!not_enrolled.rows.is_empty());
    let ids = |t: &Table| -> Vec<String> {
        let i = col(t, "id_number");
        t.rows
            .iter()
            .filter_map(|r| match &r[i] {
                Cell::Text(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    };
    for t in &lists {
        for id in ids(t) {
            assert!(
                is_masked(&id) || id.len() < 11,
                "{}: {id} is not masked",
                t.def.name
            );
        }
        // Nor in free text such as a finding's evidence (ID numbers of 15 or 18
        // digits, bank accounts): no run of 15 digits, nor of 17 or more, anywhere
        // (person numbers have 16).
        for cell in t.rows.iter().flatten() {
            if let Cell::Text(text) = cell {
                assert!(
                    digit_runs(text).iter().all(|n| *n != 15 && *n < 17),
                    "{}: an unmasked number in {text}",
                    t.def.name
                );
            }
        }
    }
    let findings = table(&s.run, "23_list_open_findings");
    let ev = col(findings, "evidence");
    assert!(
        findings
            .rows
            .iter()
            .any(|r| matches!(&r[ev], Cell::Text(t) if t.contains("********"))),
        "evidence naming ID numbers is masked, not dropped"
    );
    // A legacy 15-digit number in evidence (DUP_ID says which form was entered)
    // keeps its first 6 and last 3.
    let legacy_masked = |t: &str| {
        t.split("entered as 15-digit ").skip(1).any(|rest| {
            let c: Vec<char> = rest.chars().take(15).collect();
            c.len() == 15 && is_masked(&c.iter().collect::<String>())
        })
    };
    assert!(
        findings
            .rows
            .iter()
            .any(|r| matches!(&r[ev], Cell::Text(t) if legacy_masked(t))),
        "a legacy number in the evidence is masked"
    );
    // The list is the eligible residents minus the covered ones.
    let summary = table(&s.run, "00_summary");
    assert_eq!(
        Decimal::from(not_enrolled.rows.len()),
        dec(summary.first("eligible").unwrap()) - dec(summary.first("covered").unwrap())
    );
    let (unmasked, _) = compute(&s.fx, month(), true);
    let full = ids(table(&unmasked, "21_list_not_enrolled"));
    assert_eq!(full.len(), not_enrolled.rows.len());
    for (m, f) in ids(not_enrolled).iter().zip(&full) {
        assert!(
            pension::idnum::parse(f).problem.is_none(),
            "{f} is a full, valid ID"
        );
        assert_eq!(&f[..6], &m[..6]);
        assert_eq!(&f[14..], &m[14..]);
    }
}

#[test]
fn persons_reaching_60_next_month_and_interrupted_contributors_are_the_right_people() {
    let s = sample();
    // November 2026: the list for those whose 60th birthday is in December 2026.
    let (run, _) = compute(&s.fx, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), true);
    // A month past the data says so rather than showing silent zeros.
    for expected in [
        "findings are from the audit as of 2026-10",
        "payouts only up to 2026-10",
    ] {
        assert!(
            run.notes.iter().any(|n| n.contains(expected)),
            "{expected}: {:?}",
            run.notes
        );
    }
    assert!(sample().run.notes.is_empty(), "{:?}", sample().run.notes);
    let t = table(&run, "20_list_turning_60");
    let mut listed: Vec<String> = t
        .rows
        .iter()
        .map(|r| r[col(t, "person_no")].csv_text(Default::default()))
        .collect();
    listed.sort();
    let expected: Vec<String> = s
        .fx
        .rows(
            "SELECT DISTINCT e.person_no FROM enrollment e
             WHERE e.birth_date BETWEEN DATE '1966-12-01' AND DATE '1966-12-31'
               AND NOT EXISTS (SELECT 1 FROM cancellation c WHERE c.person_no = e.person_no AND c.apply_date <= DATE '2026-11-30')
             ORDER BY 1",
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(
        !expected.is_empty(),
        "the sample has persons born in December 1966"
    );
    assert_eq!(listed, expected);
    // Interrupted for 2026: the list, the township table and an independent query agree.
    let list = table(&s.run, "22_list_interrupted");
    let town = table(&s.run, "07_interruptions_township");
    assert_eq!(Decimal::from(list.rows.len()), total(town, "interrupted"));
    let session = s.fx.session();
    for r in &list.rows {
        let p = r[col(list, "person_no")].csv_text(Default::default());
        let paid = session.rows(&format!(
            "SELECT count(*) FROM contribution WHERE person_no = '{p}' AND status = 'ok' AND year = 2026 AND paid_date <= DATE '2026-10-31'"
        ));
        assert_eq!(
            paid[0][0], "0",
            "{p} is listed as interrupted but paid for 2026"
        );
    }
}

/// Eighteen-character ID-like runs (digits, last may be X) in a text.
fn id_like(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'X' || b[i] == b'*') {
            i += 1;
        }
        // a fraction's digits (SVG coordinates such as 0.967741935483872) are not IDs
        let decimal = (start > 0 && b[start - 1] == b'.') || (i < b.len() && b[i] == b'.');
        if i - start >= 15 && !decimal {
            out.push(text[start..i].to_string());
        }
        i = i.max(start + 1);
    }
    out
}

#[test]
fn the_dashboard_shows_the_report_figures_and_no_personal_data() {
    let s = sample();
    let html = reports::dashboard::render(&s.run).expect("dashboard renders");
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Nothing to fetch: no script, link, import or source address (the SVG namespace
    // is a name, not an address).
    let fetchless = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for banned in [
        "<script", "http://", "https://", "<link", "@import", "src=", "url(",
    ] {
        assert!(
            !fetchless.contains(banned),
            "self-contained: found {banned}"
        );
    }
    assert!(
        id_like(&html).is_empty(),
        "ID-like numbers: {:?}",
        id_like(&html)
    );
    let session = s.fx.session();
    for r in session.rows("SELECT DISTINCT name FROM enrollment WHERE length(name) >= 3 UNION SELECT DISTINCT bank_account FROM enrollment") {
        assert!(!html.contains(&r[0]), "personal data on the dashboard: {}", r[0]);
    }
    let summary = table(&s.run, "00_summary");
    for c in [
        "enrolled",
        "coverage_rate",
        "beneficiaries",
        "paid_month",
        "paid_ytd",
        "fund_balance",
        "open_findings",
        "amount_at_risk",
    ] {
        let shown = kpi(summary, c);
        assert!(
            html.contains(&format!("data-kpi=\"{c}\">{shown}<")),
            "{c} = {shown}"
        );
    }
    assert_eq!(html.matches("<svg").count(), s.run.charts.len());
}

/// A key figure as the dashboard shows it.
fn kpi(summary: &Table, name: &str) -> String {
    let i = col(summary, name);
    summary.rows[0][i].display(summary.columns()[i].format)
}

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CHROMIUM").map(PathBuf::from),
        Some("/usr/bin/chromium".into()),
        Some("/usr/bin/chromium-browser".into()),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

#[test]
fn the_dashboard_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        // CI (.ci/run) installs Chromium and sets PIPELINE_REQUIRE_BROWSER, so there
        // this test always runs; on a machine without a browser it says it skipped.
        assert!(
            std::env::var_os("PIPELINE_REQUIRE_BROWSER").is_none(),
            "headless Chromium not found: install it (apt-get install chromium, as .ci/run does) \
             or set CHROMIUM to its path"
        );
        eprintln!(
            "SKIPPED the browser check: no Chromium (apt-get install chromium fonts-wqy-microhei, or set CHROMIUM)"
        );
        return;
    };
    let s = sample();
    let page = s.fx.dir.path().join("dashboard.html");
    reports::dashboard::write(&s.run, &page).expect("dashboard written");
    let shot = std::env::var_os("PIPELINE_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| s.fx.dir.path().join("dashboard.png"));
    let profile = s.fx.dir.path().join("chromium-profile");
    let base = |extra: &[String]| {
        let out = std::process::Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium runs");
        assert!(
            out.status.success(),
            "chromium failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    // The DOM as the browser parsed it: every key figure is there.
    let dom = String::from_utf8(base(&["--dump-dom".into()])).expect("utf-8 DOM");
    let summary = table(&s.run, "00_summary");
    for c in [
        "enrolled",
        "coverage_rate",
        "beneficiaries",
        "paid_month",
        "fund_balance",
    ] {
        let shown = kpi(summary, c);
        assert!(dom.contains(&shown), "{c} = {shown} in the rendered page");
    }
    assert!(dom.contains("全县合计"));
    base(&[
        format!("--screenshot={}", shot.display()),
        "--window-size=1600,2400".into(),
    ]);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "a real screenshot: {} bytes",
        png.len()
    );
}

#[test]
fn a_broken_report_definition_is_named_with_what_to_fix() {
    let s = sample();
    let wh = Warehouse::open_read(&s.fx.wh_dir()).expect("open warehouse");
    let opts = ReportOptions::monthly(month(), false, true);
    // Each case is a definitions folder holding one edited or added report file,
    // laid over the built-in definitions.
    let case = |name: &str, edit: &dyn Fn(&Path)| -> String {
        let dir = s.fx.dir.path().join(format!("defs-{name}"));
        std::fs::create_dir_all(dir.join("reports")).unwrap();
        edit(&dir.join("reports"));
        let src = DefSource::with_folder(&dir).expect("a definitions folder");
        let conn = connect(&wh, &s.fx.catalog).expect("connect");
        let err = Definitions::load(&src)
            .and_then(|d| reports::compute(&conn, &d, &opts))
            .err()
            .unwrap_or_else(|| panic!("{name}: the broken definition was accepted"));
        err.to_string()
    };
    let replace = |file: &str, from: &str, to: &str| {
        let file = file.to_string();
        let (from, to) = (from.to_string(), to.to_string());
        move |dir: &Path| {
            let text = DefSource::builtin()
                .text(&format!("reports/{file}"))
                .unwrap();
            assert!(text.contains(&from), "{file} contains {from}");
            std::fs::write(dir.join(&file), text.replace(&from, &to)).unwrap();
        }
    };
    // (case, file, text, replaced by, what the message must name)
    let edits = [
        (
            "column",
            "05_cancellations.toml",
            "name = \"count_ytd\"",
            "name = \"count_year\"",
            &["05_cancellations.sql", "count_year", "returns only"][..],
        ),
        (
            "sql",
            "09_fund_accounts.sql",
            "FROM r_fund_month f",
            "FROM r_fund_months f",
            &["09_fund_accounts.sql", "r_fund_months"][..],
        ),
        (
            "total",
            "01_coverage_township.toml",
            "total = \"covered/eligible\"",
            "total = \"covered/residents\"",
            &["01_coverage_township.toml", "residents"][..],
        ),
    ];
    for (name, file, from, to, expected) in edits {
        let msg = case(name, &replace(file, from, to));
        for e in expected {
            assert!(msg.contains(e), "{name}: {e} in {msg}");
        }
    }
    let msg = case("meta", &|dir: &Path| {
        std::fs::write(dir.join("30_new_table.sql"), "SELECT 1 AS n").unwrap()
    });
    assert!(
        msg.contains("30_new_table.sql") && msg.contains("no metadata file"),
        "{msg}"
    );
}

#[test]
fn the_report_and_dashboard_commands_write_files_and_refuse_an_empty_warehouse() {
    let s = sample();
    let run = |wh: &Path, args: &[&str]| {
        crate::common::pipeline(wh)
            .args(args)
            .output()
            .expect("pipeline runs")
    };
    let page = s.fx.dir.path().join("cli/dashboard.html");
    crate::common::succeeds(crate::common::pipeline(&s.fx.wh_dir()).args([
        "dashboard",
        "--month",
        MONTH,
        "--out",
        &page.to_string_lossy(),
    ]));
    let html = std::fs::read_to_string(&page).expect("dashboard written");
    assert!(html.contains("data-kpi=\"coverage_rate\""));
    let empty = s.fx.dir.path().join("empty-warehouse");
    let out = run(
        &empty,
        &[
            "report",
            "--month",
            MONTH,
            "--out",
            &s.fx.dir.path().join("cli/r").to_string_lossy(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds no data") && err.contains("ingest"),
        "{err}"
    );
    let out = run(
        &s.fx.wh_dir(),
        &["report", "--month", "2026-13", "--out", "x"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a month"));
}

/// The audit joins expected_payout without grouping it (pipeline/audit/engine.rs):
/// the ledger must write one row per beneficiary and month.
#[test]
fn the_ledger_expects_one_payment_per_person_and_month() {
    let s = sample();
    let rows: u64 =
        s.fx.one("SELECT count(*) FROM expected_payout")
            .parse()
            .unwrap();
    assert!(
        rows > 10_000,
        "the sample's beneficiaries have expected months: {rows}"
    );
    assert_eq!(
        s.fx.one("SELECT count(*) - count(DISTINCT (person_no, month)) FROM expected_payout"),
        "0"
    );
}

/// The report's 到龄 list and `pipeline notice` (附表十一, with the projected pension)
/// select the persons reaching 60 next month separately — SQL beside the report,
/// the ledger's notice in Rust — so they are held to the same people here.
#[test]
fn the_turning_60_list_names_the_same_people_as_the_notice() {
    use pension::ledger::statement::{self, Cell as DocCell};
    let s = sample();
    let november = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let (run, conn) = compute(&s.fx, november, false);
    let t = table(&run, "20_list_turning_60");
    let mut listed: Vec<String> = t
        .rows
        .iter()
        .map(|r| r[col(t, "person_no")].csv_text(Default::default()))
        .collect();
    let doc = statement::notice(
        &conn,
        november,
        &pension::ledger::StageOptions::new(november),
    )
    .expect("the notice runs");
    let mut noticed: Vec<String> = doc.tables[0]
        .rows
        .iter()
        .map(|r| match &r[0] {
            DocCell::Text(p) => p.clone(),
            other => panic!("person number {other:?}"),
        })
        .collect();
    listed.sort();
    noticed.sort();
    assert!(!listed.is_empty());
    assert_eq!(listed, noticed);
}
