//! Books agree as the rules now say (docs/rules.md § Books agree, § Finance bureau):
//! the fiscal subsidies are booked in the fiscal special account and agree with the
//! finance bureau's notices, a transfer out is one outflow, the liability takes the
//! subsidies from where they are booked. On a fresh synthetic county with books that
//! agree nothing of BOOKS_DISAGREE, FISCAL_DISAGREE or FISCAL_LATE is flagged; with
//! the planted cases each is found once with its amount and nothing else is; and a
//! hand-made county counts FISCAL_LATE's working days across a weekend.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rust_decimal::Decimal;

use crate::common::{audit_month, latest_findings, ledger_through, Finding, Fixture, Inputs};
use crate::synth::{generate_with, Hook, SynthConfig};

const PERSONS: u32 = 800;
const SEED: u64 = 3_030;
const MONTH: &str = "2026-10";
const CODES: [&str; 3] = ["BOOKS_DISAGREE", "FISCAL_DISAGREE", "FISCAL_LATE"];
const LIABILITY: &str = "individual accounts ≠ fund liability";

/// The synthetic county with books that agree (no planted book cases).
struct AgreeingBooks;

impl Hook for AgreeingBooks {
    fn book_cases(&self) -> bool {
        false
    }
}

#[derive(Debug)]
struct Truth {
    code: String,
    month: String,
    amount: Decimal,
    note: String,
}

struct County {
    fx: Fixture,
    truth: Vec<Truth>,
    found: Vec<Finding>,
}

/// Generates, ingests, replays the ledger through MONTH and audits as of MONTH.
fn build(planted: bool) -> County {
    let fx = Fixture::new();
    let data = fx.dir.path().join("county");
    let cfg = SynthConfig {
        persons: PERSONS,
        seed: SEED,
        ..Default::default()
    };
    if planted {
        generate_with(&cfg, &data, &mut ())
    } else {
        generate_with(&cfg, &data, &mut AgreeingBooks)
    }
    .expect("the synthetic county generates");
    let report = fx.ingest(std::slice::from_ref(&data));
    assert!(
        report.committed && report.refused().next().is_none(),
        "the county ingests"
    );
    ledger_through(&fx, MONTH);
    audit_month(&fx, MONTH);
    let mut r = csv::Reader::from_path(data.join("_truth/ground_truth.csv")).expect("answer key");
    let truth = r
        .records()
        .map(|rec| rec.expect("row"))
        .filter(|rec| CODES.contains(&&rec[0]))
        .map(|rec| Truth {
            code: rec[0].to_string(),
            month: rec[3].to_string(),
            amount: rec[5].parse().expect("amount"),
            note: rec[6].to_string(),
        })
        .collect();
    let found = latest_findings(&fx)
        .into_iter()
        .filter(|f| CODES.contains(&f.code.as_str()))
        .collect();
    County { fx, truth, found }
}

fn agreeing() -> &'static County {
    static C: OnceLock<County> = OnceLock::new();
    C.get_or_init(|| build(false))
}

fn planted() -> &'static County {
    static C: OnceLock<County> = OnceLock::new();
    C.get_or_init(|| build(true))
}

fn count(fx: &Fixture, sql: &str) -> i64 {
    fx.one(sql).parse().expect("a count")
}

#[test]
fn books_that_follow_article_40_flag_nothing() {
    let c = agreeing();
    assert!(c.truth.is_empty(), "no case planted: {:?}", c.truth);
    assert!(c.found.is_empty(), "books that agree, yet: {:#?}", c.found);
    // What makes the test meaningful: the subsidies are in the fiscal account only,
    // the bureau's notices are there, transfers out happened, and the liability half
    // was compared (the ledger reaches the audit month).
    let fx = &c.fx;
    assert!(
        count(fx, "SELECT count(*) FROM fund_ledger WHERE account = 'fiscal' AND category LIKE 'subsidy_%'") > 100
    );
    assert_eq!(
        count(fx, "SELECT count(*) FROM fund_ledger WHERE account <> 'fiscal' AND category LIKE 'subsidy_%'"),
        0
    );
    assert_eq!(
        count(fx, "SELECT count(*) FROM fiscal_notice"),
        count(fx, "SELECT count(*) FROM fund_ledger WHERE account = 'fiscal' AND category LIKE 'subsidy_%'"),
        "one book line per notice"
    );
    assert!(
        count(
            fx,
            "SELECT count(*) FROM fiscal_notice WHERE purpose = 'basic_pension'"
        ) > 0,
        "the notices mix both purposes"
    );
    assert!(
        count(fx, "SELECT count(*) FROM transfer WHERE direction = 'out'") > 0,
        "the county has transfers out"
    );
    assert!(
        count(
            fx,
            "SELECT count(*) FROM expected_payout WHERE month >= DATE '2026-10-01'"
        ) > 0,
        "the ledger reaches the audit month, so the liability half is compared"
    );
}

#[test]
fn each_planted_books_and_fiscal_case_is_found_once_with_its_amount() {
    let c = planted();
    for code in CODES {
        assert!(
            c.truth.iter().any(|t| t.code == code),
            "{code}: a case is planted"
        );
    }
    assert_eq!(
        c.truth
            .iter()
            .filter(|t| t.code == "FISCAL_DISAGREE")
            .count(),
        3,
        "a wrong amount, a notice never booked, one booked twice"
    );
    let mut rest: Vec<&Finding> = c.found.iter().collect();
    for t in &c.truth {
        let months = format!("{}..{}", t.month, t.month);
        let hits: Vec<usize> = rest
            .iter()
            .enumerate()
            .filter(|(_, f)| f.code == t.code && f.months == months)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(hits.len(), 1, "{t:?} found once, in {:#?}", c.found);
        let f = rest.remove(hits[0]);
        assert_eq!(
            f.amount.parse::<Decimal>().expect("amount"),
            t.amount,
            "{t:?}: {}",
            f.evidence
        );
    }
    // Nothing else but the liability half, which is what the planted flow and fiscal
    // differences leave: income (contributions) adds, expenditure (refunds)
    // subtracts, a fiscal booking's difference (booked − notified) adds.
    assert_eq!(rest.len(), 1, "only the liability is left: {rest:#?}");
    assert_eq!(rest[0].subject, LIABILITY);
    let expected: Decimal = c
        .truth
        .iter()
        .filter(|t| t.code != "FISCAL_LATE")
        .map(|t| {
            if t.note.starts_with("expenditure") {
                -t.amount
            } else {
                t.amount
            }
        })
        .sum();
    assert_eq!(
        rest[0].amount.parse::<Decimal>().expect("amount"),
        expected,
        "{}",
        rest[0].evidence
    );
}

/// A hand-made fiscal account and the bureau's notices, audited as of 2026-03
/// (31 March 2026 is a Tuesday). Notices are dated Friday 2026-03-06 unless said.
#[test]
fn fiscal_late_counts_working_days_across_a_weekend() {
    let fx = Fixture::new();
    let mut c = Inputs::default();
    let notices = [
        // Friday → Monday 16 March: 9, 10, 11, 12, 13, 16 = 6 working days: late.
        (
            "N1",
            "2026-03-06",
            "县级",
            "缴费补贴",
            "100.00",
            Some("2026-03-16"),
        ),
        // Friday → Friday 13 March: 5 working days: in time.
        (
            "N2",
            "2026-03-06",
            "省级",
            "缴费补贴",
            "200.00",
            Some("2026-03-13"),
        ),
        // Thursday 26 Feb → Thursday 5 March: 27, 2, 3, 4, 5 = 5 (across a weekend and
        // the month end): in time, and counted in February on both sides.
        (
            "N3",
            "2026-02-26",
            "中央",
            "基础养老金",
            "300.00",
            Some("2026-03-05"),
        ),
        (
            "N7",
            "2026-03-10",
            "中央",
            "基础养老金",
            "300.00",
            Some("2026-03-11"),
        ),
        // Two notices of 500.00; the one booking (17 March) is the later one's (the
        // nearest): N8 stays unbooked (a difference), and nothing is late.
        ("N8", "2026-03-02", "中央", "基础养老金", "500.00", None),
        (
            "N9",
            "2026-03-16",
            "中央",
            "基础养老金",
            "500.00",
            Some("2026-03-17"),
        ),
        // Friday 27 March, not booked by Tuesday 31 March (2 working days): not due yet.
        ("N5", "2026-03-27", "市级", "缴费补贴", "70.00", None),
        // Monday 2 March, never booked: overdue.
        ("N6", "2026-03-02", "县级", "缴费补贴", "40.00", None),
    ];
    let level_cat = |zh: &str| match zh {
        "中央" => "财政补贴-中央",
        "省级" => "财政补贴-省级",
        "市级" => "财政补贴-市级",
        _ => "财政补贴-县级",
    };
    for (k, (no, date, level, purpose, amount, booked)) in notices.iter().enumerate() {
        c.add(
            "fiscal_notice",
            format!("{no},{date},{level},{purpose},{amount}"),
        );
        if let Some(day) = booked {
            c.add(
                "fund_ledger",
                format!("财政专户,{day},PZ{k:03},收,{amount},{},", level_cat(level)),
            );
        }
    }
    // 25.00 booked as provincial subsidy with no notice behind it.
    c.add(
        "fund_ledger",
        "财政专户,2026-03-20,PZ100,收,25.00,财政补贴-省级,",
    );
    // The accounts' contribution subsidies: county 150.00 credited against 140.00 of
    // county contribution-subsidy notices (N1, N6); province 200.00 against N2's 200.00.
    c.add(
        "government_subsidy",
        "GS1,P1,2026,县级,缴费补贴,150.00,2026-03-10",
    );
    c.add(
        "government_subsidy",
        "GS2,P1,2026,省级,缴费补贴,200.00,2026-03-10",
    );
    c.ingest(&fx, &fx.dir.path().join("in"));
    audit_month(&fx, "2026-03");
    let found: BTreeMap<(String, String), String> = latest_findings(&fx)
        .into_iter()
        .filter(|f| CODES.contains(&f.code.as_str()))
        .map(|f| ((f.code, f.subject), f.amount))
        .collect();
    let want: BTreeMap<(String, String), String> = [
        ("FISCAL_LATE", "fiscal notice N1", "100.00"),
        ("FISCAL_DISAGREE", "fiscal subsidy_county 2026-03", "-40.00"),
        (
            "FISCAL_DISAGREE",
            "fiscal subsidy_province 2026-03",
            "25.00",
        ),
        (
            "FISCAL_DISAGREE",
            "fiscal subsidy_central 2026-03",
            "-500.00",
        ),
        (
            "BOOKS_DISAGREE",
            "fiscal subsidy_county contribution subsidies not covered",
            "-10.00",
        ),
    ]
    .into_iter()
    .map(|(c, s, a)| ((c.to_string(), s.to_string()), a.to_string()))
    .collect();
    assert_eq!(found, want);
}

/// Without any notice from the bureau, the fiscal side says nothing: the books are
/// not compared with notices that were never loaded.
#[test]
fn no_notices_no_fiscal_findings() {
    let fx = Fixture::new();
    let mut c = Inputs::default();
    c.add(
        "fund_ledger",
        "财政专户,2026-03-20,PZ100,收,25.00,财政补贴-省级,",
    );
    c.add(
        "government_subsidy",
        "GS1,P1,2026,县级,缴费补贴,150.00,2026-03-10",
    );
    c.ingest(&fx, &fx.dir.path().join("in"));
    audit_month(&fx, "2026-03");
    let found: Vec<Finding> = latest_findings(&fx)
        .into_iter()
        .filter(|f| CODES.contains(&f.code.as_str()))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}
