//! The centre's year on the sample county (ingested, ledger and audit run, shared
//! with tests/reports.rs): the annual and quarterly packages' flows equal the sums
//! of their months' packages, fund balances close per account and period, the year's
//! interest equals the ledger's, the township scorecard agrees with the coverage
//! table, the payment approval reconciles, the fund plan of a past year sits beside
//! what happened, and the village notice carries no full ID number or bank account.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use pension::defs::DefSource;
use pension::domain::{Month, Period};
use pension::reports::{self, Cell, Definitions, ReportOptions, ReportRun, Table};
use pension::warehouse::{connect, Warehouse};
use rust_decimal::Decimal;

use crate::reports::{col, dec, sample, sql_decimal, table, total};

/// One package with only the named tables (and no charts), with its session.
fn package(opts: &ReportOptions, names: &[&str]) -> (ReportRun, duckdb::Connection) {
    let s = sample();
    let wh = Warehouse::open_read(&s.fx.wh_dir()).expect("open warehouse");
    let conn = connect(&wh, &s.fx.catalog).expect("connect");
    let mut defs = Definitions::load(&DefSource::builtin()).expect("definitions load");
    defs.reports.retain(|d| names.contains(&d.name.as_str()));
    defs.charts.clear();
    let run = reports::compute(&conn, &defs, opts).expect("package computes");
    for n in names {
        assert!(
            run.table(n).is_some(),
            "{n} is in the {:?} package",
            opts.package
        );
    }
    (run, conn)
}

fn ym(y: i32, m: u32) -> Month {
    Month::new(y, m).unwrap()
}

fn text(c: &Cell) -> String {
    c.csv_text(reports::Format::Text)
}

/// The rows of `t` keyed by the text of `keys`, with the numbers of `values`.
fn keyed(t: &Table, keys: &[&str], values: &[&str]) -> BTreeMap<Vec<String>, Vec<Decimal>> {
    let (ki, vi): (Vec<usize>, Vec<usize>) = (
        keys.iter().map(|k| col(t, k)).collect(),
        values.iter().map(|v| col(t, v)).collect(),
    );
    t.rows
        .iter()
        .map(|r| {
            (
                ki.iter().map(|&i| text(&r[i])).collect(),
                vi.iter()
                    .map(|&i| r[i].decimal().unwrap_or_default())
                    .collect(),
            )
        })
        .collect()
}

/// Σ over the months of `keyed(...)`, key by key (a key missing in a month adds 0).
fn summed(
    months: &[Month],
    name: &str,
    keys: &[&str],
    values: &[&str],
) -> BTreeMap<Vec<String>, Vec<Decimal>> {
    let mut out: BTreeMap<Vec<String>, Vec<Decimal>> = BTreeMap::new();
    for m in months {
        let (run, _) = package(
            &ReportOptions::monthly(m.first_day(), false, false),
            &[name],
        );
        for (k, v) in keyed(table(&run, name), keys, values) {
            let acc = out.entry(k).or_insert_with(|| vec![Decimal::ZERO; v.len()]);
            for (a, x) in acc.iter_mut().zip(v) {
                *a += x;
            }
        }
    }
    out
}

/// The same maps, with rows that are all zero left out (a month may list a
/// category or township the year has none of, and the other way round).
fn nonzero(m: BTreeMap<Vec<String>, Vec<Decimal>>) -> BTreeMap<Vec<String>, Vec<Decimal>> {
    m.into_iter()
        .filter(|(_, v)| v.iter().any(|x| !x.is_zero()))
        .collect()
}

const PERIOD_TABLES: &[&str] = &[
    "15_flows",
    "31_period_contributions_tier",
    "32_period_subsidies_level",
    "33_period_benefits_township",
    "34_period_fund_accounts",
    "35_period_fund_categories",
    "36_interest_settlement",
    "14_scorecard",
    "12_books_agree",
];

fn year_2025() -> (ReportRun, duckdb::Connection) {
    let opts = ReportOptions::of_period(Period::year(2025).unwrap(), false, false);
    package(&opts, PERIOD_TABLES)
}

#[test]
fn the_annual_packages_flows_are_the_sums_of_its_twelve_monthly_packages() {
    let (year, _) = year_2025();
    let months = Period::year(2025).unwrap().months();
    assert_eq!(months.len(), 12);
    // The flows of the detail records: the same table in both packages.
    let flows = keyed(table(&year, "15_flows"), &["item"], &["amount"]);
    assert_eq!(flows.len(), 17, "every flow item is listed");
    assert_eq!(flows, summed(&months, "15_flows", &["item"], &["amount"]));
    let paid = flows[&vec!["基础养老金发放".to_string()]][0];
    assert!(
        paid > Decimal::from(100_000),
        "a year of basic pension: {paid}"
    );
    // Fund categories against the monthly table of another SQL (amount_month).
    let cats = keyed(
        table(&year, "35_period_fund_categories"),
        &["account", "direction", "category"],
        &["amount"],
    );
    let monthly = summed(
        &months,
        "10_fund_categories",
        &["account", "direction", "category"],
        &["amount_month"],
    );
    assert!(cats.len() >= 10, "{cats:?}");
    assert_eq!(nonzero(cats), nonzero(monthly));
    // Subsidies by level and kind.
    let subs = keyed(
        table(&year, "32_period_subsidies_level"),
        &["level"],
        &["contribution", "basic_pension"],
    );
    let monthly = summed(
        &months,
        "11_subsidies_level",
        &["level"],
        &["contribution_month", "basic_month"],
    );
    assert_eq!(subs, monthly);
    // Payouts by township and part.
    let ben = keyed(
        table(&year, "33_period_benefits_township"),
        &["township"],
        &[
            "basic_paid",
            "account_paid",
            "total_paid",
            "payout_rows",
            "payout_ok",
        ],
    );
    let monthly = summed(
        &months,
        "08_benefits_township",
        &["township"],
        &[
            "basic_paid",
            "account_paid",
            "total_paid",
            "payout_rows",
            "payout_ok",
        ],
    );
    assert_eq!(nonzero(ben), nonzero(monthly));
    // Contributions by tier: the year equals December's year to date (the tier is
    // the enrollee's at the end of either, the same day).
    let (dec_run, _) = package(
        &ReportOptions::monthly(ym(2025, 12).first_day(), false, false),
        &["06_contributions_tier"],
    );
    assert_eq!(
        keyed(
            table(&year, "31_period_contributions_tier"),
            &["tier"],
            &["total_amount", "bank_attempts", "bank_ok"]
        ),
        keyed(
            table(&dec_run, "06_contributions_tier"),
            &["tier"],
            &["total_amount", "bank_attempts", "bank_ok"]
        )
    );
}

#[test]
fn a_quarters_flows_are_its_three_months_and_last_year_is_last_years_period() {
    let q3 = Period::quarter(2026, 3).unwrap();
    let (run, _) = package(&ReportOptions::of_period(q3, false, false), PERIOD_TABLES);
    let flows = keyed(table(&run, "15_flows"), &["item"], &["amount", "amount_ly"]);
    let now: BTreeMap<_, _> = flows.iter().map(|(k, v)| (k.clone(), vec![v[0]])).collect();
    assert_eq!(
        now,
        summed(&q3.months(), "15_flows", &["item"], &["amount"])
    );
    // The year-on-year column is the same quarter of 2025, computed as its own package.
    let (ly, _) = package(
        &ReportOptions::of_period(Period::quarter(2025, 3).unwrap(), false, false),
        &["15_flows"],
    );
    let ly_now = keyed(table(&ly, "15_flows"), &["item"], &["amount"]);
    let ly_col: BTreeMap<_, _> = flows.iter().map(|(k, v)| (k.clone(), vec![v[1]])).collect();
    assert_eq!(ly_col, ly_now);
    // The workbook is named for the quarter.
    assert_eq!(run.workbook_name(), "季报_2026-Q3.xlsx");
    assert_eq!(run.period_zh(), "2026年第3季度");
}

#[test]
fn fund_balances_close_per_account_for_the_year_and_the_quarter() {
    for period in [
        Period::year(2025).unwrap(),
        Period::quarter(2026, 3).unwrap(),
    ] {
        let (run, conn) = package(
            &ReportOptions::of_period(period, false, false),
            &["34_period_fund_accounts"],
        );
        let t = table(&run, "34_period_fund_accounts");
        assert_eq!(t.rows.len(), 4, "four accounts");
        for r in &t.rows {
            let v = |c: &str| dec(&r[col(t, c)]);
            assert_eq!(
                v("opening") + v("income") - v("expenditure") + v("transfer_in")
                    - v("transfer_out"),
                v("closing"),
                "{period} {}",
                text(&r[0])
            );
            assert!(v("unbalanced").is_zero());
        }
        // Opening = every flow before the period; closing = every flow to its end,
        // summed straight from the fund ledger.
        let before = sql_decimal(
            &conn,
            &format!(
                "SELECT sum(CASE direction WHEN 'in' THEN amount ELSE -amount END) FROM fund_ledger \
                 WHERE txn_date < DATE '{}'",
                period.first_day()
            ),
        );
        let to_end = sql_decimal(
            &conn,
            &format!(
                "SELECT sum(CASE direction WHEN 'in' THEN amount ELSE -amount END) FROM fund_ledger \
                 WHERE txn_date <= DATE '{}'",
                period.last_day()
            ),
        );
        assert_eq!(total(t, "opening"), before, "{period}");
        assert_eq!(total(t, "closing"), to_end, "{period}");
        assert!(to_end > Decimal::ZERO);
    }
}

#[test]
fn the_years_interest_settlement_is_the_ledgers_interest_of_the_year() {
    let (year, conn) = year_2025();
    let t = table(&year, "36_interest_settlement");
    let posted = total(t, "interest");
    let ledger = sql_decimal(
        &conn,
        "SELECT sum(interest) FROM account_year WHERE year = 2025",
    );
    assert!(posted > Decimal::ZERO, "interest was credited in 2025");
    // account_year carries the four sub-balances; the prepaid account's interest
    // has its own table.
    let prepaid = dec(&t.rows[4][col(t, "interest")]);
    assert_eq!(posted - prepaid, ledger);
    assert_eq!(
        text(&t.rows[0][col(t, "rate")]),
        text(&Cell::Dec(sql_decimal(
            &conn,
            "SELECT max(rate) FROM interest_rate WHERE year = 2025"
        )))
    );
}

#[test]
fn the_township_scorecard_ranks_the_townships_and_its_county_line_is_the_coverage_table() {
    let s = sample();
    let card = table(&s.run, "14_scorecard");
    let cov = table(&s.run, "01_coverage_township");
    assert_eq!(total(card, "eligible"), total(cov, "eligible"));
    assert_eq!(total(card, "coverage_rate"), total(cov, "coverage_rate"));
    let scores: Vec<Decimal> = card
        .rows
        .iter()
        .map(|r| dec(&r[col(card, "score")]))
        .collect();
    assert!(scores.len() >= 3, "{scores:?}");
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "ranked: {scores:?}"
    );
    let ranks: Vec<Decimal> = card
        .rows
        .iter()
        .map(|r| dec(&r[col(card, "rank")]))
        .collect();
    assert_eq!(ranks[0], Decimal::ONE);
    for r in &card.rows {
        let rate = |c: &str| r[col(card, c)].decimal().unwrap_or_default();
        let score = Decimal::from(40) * rate("coverage_rate")
            + Decimal::from(30) * rate("contribution_rate")
            + Decimal::from(30) * rate("cert_rate");
        assert_eq!(dec(&r[col(card, "score")]), score.round_dp(2));
        assert!(rate("cert_rate") <= Decimal::ONE && rate("contribution_rate") <= Decimal::ONE);
    }
    // Open findings by township add up to the persons' open findings.
    let (_, conn) = package(
        &ReportOptions::monthly(crate::reports::month(), false, false),
        &["14_scorecard"],
    );
    let open = sql_decimal(
        &conn,
        "SELECT count(*) FROM findings WHERE status IN ('open', 'confirmed') AND person_no IS NOT NULL",
    );
    assert_eq!(total(card, "findings_open"), open);
    assert!(open > Decimal::ZERO);
    // On the dashboard, without a personal number.
    let html = reports::dashboard::render(&s.run).expect("dashboard");
    assert!(html.contains("id=\"scorecard\"") && html.contains("乡镇考核排名"));
}

#[test]
fn the_plan_for_a_past_year_sits_beside_its_actual_figures() {
    let s = sample();
    let wh = Warehouse::open_read(&s.fx.wh_dir()).expect("open warehouse");
    let run = reports::compute_plan(&wh, &s.fx.catalog, 2025).expect("plan computes");
    assert_eq!(
        run.month,
        NaiveDate::from_ymd_opt(2024, 12, 1).unwrap(),
        "as of 2024's end"
    );
    let t = table(&run, "50_plan_summary");
    assert_eq!(t.rows.len(), 4, "central, province, city, county");
    let conn = connect(&wh, &s.fx.catalog).expect("connect");
    // The actual columns are the year's records, summed directly.
    assert_eq!(
        total(t, "contribution_actual"),
        sql_decimal(
            &conn,
            "SELECT sum(amount) FROM government_subsidy WHERE kind = 'contribution' AND year = 2025"
        )
    );
    assert_eq!(
        total(t, "basic_actual"),
        sql_decimal(
            &conn,
            "SELECT sum(basic_amount) FROM payout WHERE status = 'ok' AND year(month) = 2025"
        )
    );
    // The contribution subsidy plan is the tier table's rows, and close to what
    // came: the same persons mostly contribute again at the same tier.
    let tiers = table(&run, "51_plan_contribution_tier");
    assert_eq!(total(tiers, "total"), total(t, "contribution_plan"));
    let (plan, actual) = (
        total(t, "contribution_plan"),
        total(t, "contribution_actual"),
    );
    assert!(plan > Decimal::ZERO && actual > Decimal::ZERO);
    let ratio = actual / plan;
    assert!(
        ratio > Decimal::new(7, 1) && ratio < Decimal::new(13, 1),
        "contribution subsidies: plan {plan}, actual {actual}"
    );
    let (plan, actual) = (total(t, "basic_plan"), total(t, "basic_actual"));
    let ratio = actual / plan;
    assert!(
        ratio > Decimal::new(85, 2) && ratio < Decimal::new(115, 2),
        "basic pension: plan {plan}, actual {actual}"
    );
    // The assumptions are stated with their figures.
    let a = table(&run, "53_plan_assumptions");
    assert!(a.rows.iter().any(|r| text(&r[col(a, "item")]) == "死亡率"));
    assert_eq!(run.workbook_name(), "基金支出计划_2025.xlsx");
    // Next year's plan: from the latest data, no actual figures yet.
    let next = reports::compute_plan(&wh, &s.fx.catalog, 2027).expect("plan 2027");
    assert_eq!(next.month, NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
    let t = table(&next, "50_plan_summary");
    assert!(total(t, "total_plan") > Decimal::ZERO);
    assert!(t
        .rows
        .iter()
        .all(|r| r[col(t, "total_actual")] == Cell::Null));
}

#[test]
fn a_village_notice_carries_no_full_id_number_and_no_bank_account() {
    let s = sample();
    let wh = Warehouse::open_read(&s.fx.wh_dir()).expect("open warehouse");
    let conn = connect(&wh, &s.fx.catalog).expect("connect");
    // The month with the most approvals, so the notice has something to post.
    let month: NaiveDate = conn
        .query_row(
            "SELECT date_trunc('month', approve_date)::DATE FROM benefit_approval \
             WHERE approve_date <= DATE '2026-10-31' GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let m = Month::of(month);
    let run =
        reports::compute_month(&wh, &s.fx.catalog, &ReportOptions::notice(m)).expect("notice");
    let approvals = sql_decimal(
        &conn,
        &format!(
            "SELECT count(DISTINCT person_no) FROM benefit_approval WHERE date_trunc('month', approve_date) = DATE '{month}' \
             AND person_no IN (SELECT person_no FROM enrollment)"
        ),
    );
    let new = table(&run, "40_notice_new");
    assert!(!new.rows.is_empty());
    assert_eq!(Decimal::from(new.rows.len()), approvals);
    let posting = reports::notice::Posting {
        from: m.next().first_day(),
        days: 10,
        phone: Some("6822118".into()),
    };
    let out = s.fx.dir.path().join(format!("notice-{m}"));
    let files = reports::notice::write(&run, &posting, &out).expect("notice written");
    let pages: Vec<_> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "html"))
        .collect();
    assert!(!pages.is_empty());
    // Every ID number and bank account on record, and what a page says.
    let ids: Vec<String> = strings(
        &conn,
        "SELECT id_number FROM enrollment WHERE id_number IS NOT NULL AND length(id_number) >= 15 \
         UNION SELECT id_number FROM id_registry",
    );
    let accounts: Vec<String> = strings(
        &conn,
        "SELECT DISTINCT bank_account FROM enrollment WHERE bank_account IS NOT NULL \
         UNION SELECT DISTINCT bank_account FROM payout WHERE bank_account IS NOT NULL",
    );
    assert!(ids.len() > 1000 && accounts.len() > 100);
    let mut texts: Vec<String> = pages
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    texts.push(workbook_text(&files[0]));
    let mut seen_masked = false;
    for t in &texts {
        for id in &ids {
            assert!(
                !t.contains(id.as_str()),
                "a full ID number {id} is on a notice"
            );
        }
        for a in &accounts {
            assert!(!t.contains(a.as_str()), "a bank account is on a notice");
        }
        seen_masked |= t.contains("********");
    }
    assert!(seen_masked, "IDs are shown masked");
    let page = &texts[0];
    let until = posting.until();
    assert_eq!(until, posting.from + chrono::Days::new(9));
    assert!(page.contains(&until.format("%Y年%m月%d日").to_string()) && page.contains("6822118"));
    // One page per village with a line, each naming only its own village.
    let with_lines: std::collections::BTreeSet<String> = new
        .rows
        .iter()
        .map(|r| {
            format!(
                "{}_{}",
                text(&r[col(new, "township")]),
                text(&r[col(new, "village")])
            )
        })
        .collect();
    for v in &with_lines {
        assert!(
            pages
                .iter()
                .any(|p| p.file_stem().unwrap().to_string_lossy() == *v),
            "{v}"
        );
    }
}

fn strings(conn: &duckdb::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every cell's text in every sheet of a workbook.
fn workbook_text(path: &std::path::Path) -> String {
    use calamine::{open_workbook_auto, Data, Reader};
    let mut wb = open_workbook_auto(path).expect("the notice workbook opens");
    let mut out = String::new();
    for name in wb.sheet_names().to_vec() {
        let range = wb.worksheet_range(&name).expect("sheet reads");
        for row in range.rows() {
            for c in row {
                if let Data::String(s) = c {
                    out.push_str(s);
                    out.push('\t');
                }
            }
        }
    }
    out
}
