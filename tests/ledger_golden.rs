//! Golden cases for the individual-account ledger engine, each computed by hand
//! from docs/rules.md (§ Contributions, § Individual account, § Benefits). The
//! arithmetic is written out above each assertion.
//!
//! Notation: r = rate in percent; a credit/debit in month m counts (12 − m)/12 of
//! the year; "eff(k)" is the balance in effect in month k, and interest over a
//! run of months is r/1200 × Σ eff(k). Rounding is half-up to the fen.
//!
//! In the project: `use pension::ledger::engine::*;` instead of `ledgerdev`.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveDate;
use pension::ledger::engine::*;
use rust_decimal::Decimal;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn x(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn rates(list: &[(i32, &str)]) -> BTreeMap<i32, Decimal> {
    list.iter().map(|(y, r)| (*y, x(r))).collect()
}

fn credit(date: NaiveDate, sub: Sub, amount: &str, src: &str) -> Event {
    Event::new(
        date,
        EventKind::Credit {
            sub,
            amount: x(amount),
        },
        src,
    )
}

fn debit(date: NaiveDate, amount: &str, src: &str) -> Event {
    Event::new(date, EventKind::PensionDebit { amount: x(amount) }, src)
}

fn row(r: &Replay, year: i32, sub: Sub) -> &AccountYear {
    r.years
        .iter()
        .find(|a| a.year == year && a.sub == sub)
        .expect("row exists")
}

fn prow(r: &Replay, year: i32) -> &PrepaidYear {
    r.prepaid_years
        .iter()
        .find(|a| a.year == year)
        .expect("prepaid row exists")
}

/// (opening, credits, debits, closed_out, interest, closing)
fn figures(a: &AccountYear) -> [Decimal; 6] {
    [
        a.opening,
        a.credits,
        a.debits,
        a.closed_out,
        a.interest,
        a.closing,
    ]
}

fn f6(v: [&str; 6]) -> [Decimal; 6] {
    v.map(x)
}

const Z: &str = "0";

// ---------------------------------------------------------------------------

fn contributor_events() -> Vec<Event> {
    vec![
        credit(d(2014, 3, 10), Sub::Individual, "500", "c1"),
        credit(d(2014, 3, 10), Sub::Government, "45", "g1"),
        credit(d(2015, 5, 20), Sub::Individual, "500", "c2"),
        credit(d(2015, 5, 20), Sub::Government, "45", "g2"),
        credit(d(2016, 4, 15), Sub::Individual, "1000", "c3"),
        credit(d(2016, 6, 30), Sub::Government, "60", "g3"),
    ]
}

fn contributor_rates() -> BTreeMap<i32, Decimal> {
    rates(&[(2014, "3.00"), (2015, "2.25"), (2016, "1.50")])
}

/// A contributor over three years with rate changes (3.00 → 2.25 → 1.50).
#[test]
fn contributor_over_years_with_rate_change() {
    let r = replay(
        &contributor_events(),
        &contributor_rates(),
        d(2016, 12, 31),
        &Params::default(),
    )
    .unwrap();
    assert_eq!(r.years.len(), 3 * 4);

    // 2014, r = 3.00. Individual: 500 in March → 500 × 9/12 = 375; 375 × 3% = 11.25.
    // Closing 500 + 11.25 = 511.25.
    assert_eq!(
        figures(row(&r, 2014, Sub::Individual)),
        f6([Z, "500", Z, Z, "11.25", "511.25"])
    );
    // Government: 45 × 9/12 = 33.75; × 3% = 1.0125 → 1.01. Closing 46.01.
    assert_eq!(
        figures(row(&r, 2014, Sub::Government)),
        f6([Z, "45", Z, Z, "1.01", "46.01"])
    );
    assert_eq!(figures(row(&r, 2014, Sub::Collective)), f6([Z; 6]));
    assert_eq!(figures(row(&r, 2014, Sub::Transfer)), f6([Z; 6]));

    // 2015, r = 2.25. Individual: 511.25 × 2.25% = 11.503125; 500 in May → 500 × 7/12
    // = 291.666…; × 2.25% = 6.5625. Sum 18.065625 → 18.07. Closing 511.25 + 500 + 18.07 = 1029.32.
    assert_eq!(
        figures(row(&r, 2015, Sub::Individual)),
        f6(["511.25", "500", Z, Z, "18.07", "1029.32"])
    );
    // Government: 46.01 × 2.25% = 1.035225; 45 × 7/12 = 26.25 × 2.25% = 0.590625.
    // Sum 1.62585 → 1.63. Closing 46.01 + 45 + 1.63 = 92.64.
    assert_eq!(
        figures(row(&r, 2015, Sub::Government)),
        f6(["46.01", "45", Z, Z, "1.63", "92.64"])
    );

    // 2016, r = 1.50. Individual: 1029.32 × 1.5% = 15.4398; 1000 in April → 1000 × 8/12
    // = 666.666…; × 1.5% = 10.00. Sum 25.4398 → 25.44. Closing 1029.32 + 1000 + 25.44 = 2054.76.
    assert_eq!(
        figures(row(&r, 2016, Sub::Individual)),
        f6(["1029.32", "1000", Z, Z, "25.44", "2054.76"])
    );
    // Government: 92.64 × 1.5% = 1.3896; 60 in June → 60 × 6/12 = 30 × 1.5% = 0.45.
    // Sum 1.8396 → 1.84. Closing 92.64 + 60 + 1.84 = 154.48.
    assert_eq!(
        figures(row(&r, 2016, Sub::Government)),
        f6(["92.64", "60", Z, Z, "1.84", "154.48"])
    );
    assert_eq!(r.closing_total(), x("2209.24")); // 2054.76 + 154.48

    // Year-end interest is posted on 31 December.
    let p = r
        .postings
        .iter()
        .find(|p| {
            p.kind == PostingKind::Interest
                && p.date == d(2015, 12, 31)
                && p.holding == Holding::Account(Sub::Individual)
        })
        .unwrap();
    assert_eq!(p.amount, x("18.07"));
}

/// The same person replayed through August 2016: balances at the end of August with
/// the interest accrued but not yet posted.
#[test]
fn through_month_accrued_unposted() {
    let r = replay(
        &contributor_events(),
        &contributor_rates(),
        d(2016, 8, 31),
        &Params::default(),
    )
    .unwrap();
    // Individual: eff(1..4) = 1029.32 (April credit in effect from May), eff(5..8) = 2029.32.
    // Σ = 4 × 1029.32 + 4 × 2029.32 = 4117.28 + 8117.28 = 12234.56; × 1.5/1200 = 15.2932 → 15.29.
    let a = row(&r, 2016, Sub::Individual);
    assert_eq!(a.closing, x("2029.32"));
    assert_eq!(a.interest, x("0"));
    assert_eq!(a.accrued_unposted, x("15.29"));
    // Government: eff(1..6) = 92.64 (June credit in effect from July), eff(7..8) = 152.64.
    // Σ = 6 × 92.64 + 2 × 152.64 = 555.84 + 305.28 = 861.12; × 1.5/1200 = 1.0764 → 1.08.
    let g = row(&r, 2016, Sub::Government);
    assert_eq!(g.closing, x("152.64"));
    assert_eq!(g.accrued_unposted, x("1.08"));
    // Earlier years carry nothing unposted.
    assert_eq!(row(&r, 2015, Sub::Individual).accrued_unposted, x("0"));
}

/// A back-payment (补缴) is an individual credit with no government subsidy, in
/// effect from the month after it is paid. Also two exact half-fen midpoints.
#[test]
fn back_payment() {
    let events = vec![
        credit(d(2012, 3, 1), Sub::Individual, "100", "normal 2012"),
        credit(d(2012, 3, 1), Sub::Government, "30", "subsidy 2012"),
        credit(d(2012, 9, 5), Sub::Individual, "1500", "backpay 2008-2011"),
    ];
    let r = replay(
        &events,
        &rates(&[(2012, "3.00"), (2013, "3.00")]),
        d(2013, 12, 31),
        &Params::default(),
    )
    .unwrap();
    // 2012 individual: 100 × 9/12 = 75; 1500 paid in September × 3/12 = 375; (75 + 375) × 3% = 13.50.
    // Closing 100 + 1500 + 13.50 = 1613.50.
    assert_eq!(
        figures(row(&r, 2012, Sub::Individual)),
        f6([Z, "1600", Z, Z, "13.50", "1613.50"])
    );
    // 2012 government: 30 × 9/12 = 22.5 × 3% = 0.675 → 0.68 (half-up). Closing 30.68.
    assert_eq!(
        figures(row(&r, 2012, Sub::Government)),
        f6([Z, "30", Z, Z, "0.68", "30.68"])
    );
    // 2013 individual: 1613.50 × 3% = 48.405 → 48.41 (half-up). Closing 1661.91.
    assert_eq!(
        figures(row(&r, 2013, Sub::Individual)),
        f6(["1613.50", Z, Z, Z, "48.41", "1661.91"])
    );
    // 2013 government: 30.68 × 3% = 0.9204 → 0.92. Closing 31.60.
    assert_eq!(
        figures(row(&r, 2013, Sub::Government)),
        f6(["30.68", Z, Z, Z, "0.92", "31.60"])
    );
}

/// A collective subsidy and a transfer in, each with its own interest.
#[test]
fn collective_subsidy_and_transfer_in() {
    let events = vec![
        credit(d(2018, 2, 14), Sub::Transfer, "3456.78", "transfer in"),
        credit(d(2018, 7, 1), Sub::Collective, "200", "collective"),
        credit(d(2018, 7, 1), Sub::Individual, "300", "contribution"),
        credit(d(2018, 7, 1), Sub::Government, "40", "subsidy"),
    ];
    let r = replay(
        &events,
        &rates(&[(2018, "1.50")]),
        d(2018, 12, 31),
        &Params::default(),
    )
    .unwrap();
    // Transfer: February → 3456.78 × 10/12 = 2880.65; × 1.5% = 43.20975 → 43.21. Closing 3499.99.
    assert_eq!(
        figures(row(&r, 2018, Sub::Transfer)),
        f6([Z, "3456.78", Z, Z, "43.21", "3499.99"])
    );
    // Collective: July → 200 × 5/12 = 83.333…; × 1.5% = 1.25. Closing 201.25.
    assert_eq!(
        figures(row(&r, 2018, Sub::Collective)),
        f6([Z, "200", Z, Z, "1.25", "201.25"])
    );
    // Individual: 300 × 5/12 = 125; × 1.5% = 1.875 → 1.88. Closing 301.88.
    assert_eq!(
        figures(row(&r, 2018, Sub::Individual)),
        f6([Z, "300", Z, Z, "1.88", "301.88"])
    );
    // Government: 40 × 5/12 = 16.666…; × 1.5% = 0.25. Closing 40.25.
    assert_eq!(
        figures(row(&r, 2018, Sub::Government)),
        f6([Z, "40", Z, Z, "0.25", "40.25"])
    );
    // Total interest = sum of the rounded parts: 43.21 + 1.25 + 1.88 + 0.25 = 46.59.
    let total: Decimal = r.years.iter().map(|a| a.interest).sum();
    assert_eq!(total, x("46.59"));
    assert_eq!(r.closing_total(), x("4043.37"));
}

fn approval_setup() -> Vec<Event> {
    // December credits earn nothing in their year (12 − 12 = 0 months), so 2020 opens
    // with exactly these balances.
    vec![
        credit(d(2019, 12, 10), Sub::Individual, "13000", "c"),
        credit(d(2019, 12, 10), Sub::Collective, "500", "k"),
        credit(d(2019, 12, 10), Sub::Government, "1000", "g"),
    ]
}

/// Approval in May with its settlement, then eight monthly debits.
#[test]
fn approval_mid_year_with_settlement() {
    let mut events = approval_setup();
    events.push(Event::new(d(2020, 5, 1), EventKind::Approval, "approval"));
    for m in 5..=12 {
        events.push(debit(
            d(2020, m, 10),
            "104.84",
            &format!("payout 2020-{m:02}"),
        ));
    }
    let r = replay(
        &events,
        &rates(&[(2019, "1.50"), (2020, "1.50")]),
        d(2020, 12, 31),
        &Params::default(),
    )
    .unwrap();

    // Settlement in May (M = 5) posts months 1…4: r/1200 × 4 = 1.5 × 4 / 1200 = 0.005.
    // Individual 13000 × 0.005 = 65.00; collective 500 × 0.005 = 2.50; government 1000 × 0.005 = 5.00.
    // Balance after = 13065 + 502.50 + 1005 = 14572.50. Pension = 14572.50 / 139 = 104.838… → 104.84.
    let a = &r.approvals[0];
    assert_eq!(a.start_month, d(2020, 5, 1));
    assert_eq!(a.settlement_interest, x("72.50"));
    assert_eq!(a.balance, x("14572.50"));
    assert_eq!(a.account_pension, x("104.84"));

    // Year end, months 5…12 (8 months, × 1.5/1200 = 0.00125 per month):
    // individual eff(5) = 13065 (settlement in effect from May; May debit from June),
    // eff(6…12) = 13065 − 104.84 × 1…7. Σ = 8 × 13065 − 104.84 × (0+1+…+7) = 104520 − 2935.52
    // = 101584.48; × 0.00125 = 126.9806 → 126.98.
    // Year: interest 65.00 + 126.98 = 191.98; debits 8 × 104.84 = 838.72;
    // closing 13000 + 191.98 − 838.72 = 12353.26.
    assert_eq!(
        figures(row(&r, 2020, Sub::Individual)),
        f6(["13000", Z, "838.72", Z, "191.98", "12353.26"])
    );
    // Collective: 502.50 × 8 × 0.00125 = 5.025 → 5.03; interest 2.50 + 5.03 = 7.53; closing 507.53.
    assert_eq!(
        figures(row(&r, 2020, Sub::Collective)),
        f6(["500", Z, Z, Z, "7.53", "507.53"])
    );
    // Government: 1005 × 8 × 0.00125 = 10.05; interest 5.00 + 10.05 = 15.05; closing 1015.05.
    assert_eq!(
        figures(row(&r, 2020, Sub::Government)),
        f6(["1000", Z, Z, Z, "15.05", "1015.05"])
    );
    assert_eq!(r.pooled_total, x("0"));

    let settlement: Vec<_> = r
        .postings
        .iter()
        .filter(|p| p.kind == PostingKind::SettlementInterest)
        .collect();
    assert_eq!(settlement.len(), 3); // transfer sub-balance is zero: no posting
    assert!(settlement.iter().all(|p| p.date == d(2020, 5, 1)));
}

/// Order within the start month: the approval settlement opens the month, so
/// neither the month's credits nor its pension debit are in the approval balance,
/// whatever their days.
#[test]
fn approval_month_order() {
    let mut events = approval_setup();
    events.push(debit(d(2020, 5, 10), "104.84", "payout 2020-05"));
    events.push(credit(
        d(2020, 5, 3),
        Sub::Collective,
        "100",
        "collective 2020",
    ));
    events.push(Event::new(d(2020, 5, 25), EventKind::Approval, "approval"));
    let r = replay(
        &events,
        &rates(&[(2019, "1.50"), (2020, "1.50")]),
        d(2020, 5, 31),
        &Params::default(),
    )
    .unwrap();
    // Balance in effect in May = 13000 + 500 + 1000 + settlement 72.50 (as above)
    // = 14572.50; / 139 = 104.838… → 104.84. The 100 credited 3 May is not in it.
    let a = &r.approvals[0];
    assert_eq!(a.balance, x("14572.50"));
    assert_eq!(a.account_pension, x("104.84"));
    assert_eq!(a.start_month, d(2020, 5, 1));
    // End of May: collective 502.50 + 100 = 602.50; individual 13065 − 104.84 = 12960.16.
    assert_eq!(row(&r, 2020, Sub::Collective).closing, x("602.50"));
    assert_eq!(row(&r, 2020, Sub::Individual).closing, x("12960.16"));
}

/// A beneficiary whose account runs out: debits in the fixed order individual,
/// collective, transfer, government; the rest goes to the pooled fund.
#[test]
fn exhausted_account_pooled_part() {
    let mut events = vec![
        credit(d(2021, 12, 5), Sub::Individual, "200", "c"),
        credit(d(2021, 12, 5), Sub::Collective, "30", "k"),
        credit(d(2021, 12, 5), Sub::Transfer, "20", "t"),
        credit(d(2021, 12, 5), Sub::Government, "60", "g"),
    ];
    for m in 1..=5 {
        events.push(debit(d(2022, m, 10), "100", &format!("payout 2022-{m:02}")));
    }
    events.push(debit(d(2023, 1, 10), "100", "payout 2023-01"));
    let r = replay(
        &events,
        &rates(&[(2021, "1.50"), (2022, "1.50"), (2023, "1.45")]),
        d(2023, 12, 31),
        &Params::default(),
    )
    .unwrap();

    // Debits: Jan individual 200 → 100; Feb individual → 0; Mar collective 30, transfer 20,
    // government 50 (60 → 10); Apr government 10, pooled 90; May pooled 100.
    // Interest 2022 (× 1.5/1200 = 0.00125 per month):
    // individual eff = 200, 100, then 0 → Σ 300 × 0.00125 = 0.375 → 0.38
    //   (rule formula: 1.5% × [200 − 100 × 11/12 − 100 × 10/12] = 1.5% × 25 = 0.375);
    // collective eff(1…3) = 30 → 90 × 0.00125 = 0.1125 → 0.11;
    // transfer eff(1…3) = 20 → 60 × 0.00125 = 0.075 → 0.08;
    // government eff(1…3) = 60, eff(4) = 10 → 190 × 0.00125 = 0.2375 → 0.24.
    assert_eq!(
        figures(row(&r, 2022, Sub::Individual)),
        f6(["200", Z, "200", Z, "0.38", "0.38"])
    );
    assert_eq!(
        figures(row(&r, 2022, Sub::Collective)),
        f6(["30", Z, "30", Z, "0.11", "0.11"])
    );
    assert_eq!(
        figures(row(&r, 2022, Sub::Transfer)),
        f6(["20", Z, "20", Z, "0.08", "0.08"])
    );
    assert_eq!(
        figures(row(&r, 2022, Sub::Government)),
        f6(["60", Z, "60", Z, "0.24", "0.24"])
    );
    let april: Vec<_> = r
        .postings
        .iter()
        .filter(|p| p.source == "payout 2022-04")
        .map(|p| (p.holding, p.amount))
        .collect();
    assert_eq!(
        april,
        vec![
            (Holding::Account(Sub::Government), x("-10")),
            (Holding::Pooled, x("90"))
        ]
    );

    // 2023 Jan debit 100 takes the interest 0.38 + 0.11 + 0.08 + 0.24 = 0.81; pooled 99.19.
    // 2023 interest: only eff(1) is non-zero, e.g. 0.38 × 1.45/1200 = 0.00046 → 0.00.
    assert_eq!(
        figures(row(&r, 2023, Sub::Individual)),
        f6(["0.38", Z, "0.38", Z, Z, Z])
    );
    assert_eq!(
        figures(row(&r, 2023, Sub::Government)),
        f6(["0.24", Z, "0.24", Z, Z, Z])
    );
    // Pooled: 90 + 100 + 99.19 = 289.19.
    assert_eq!(r.pooled_total, x("289.19"));
}

/// Death: settlement in the month of the application date; the heirs get everything
/// but the government sub-balance with its interest, which returns to the fund.
#[test]
fn death_refund_excludes_government() {
    let events = vec![
        credit(d(2022, 12, 20), Sub::Individual, "5000", "c"),
        credit(d(2022, 12, 20), Sub::Collective, "400", "k"),
        credit(d(2022, 12, 20), Sub::Transfer, "1000", "t"),
        credit(d(2022, 12, 20), Sub::Government, "600", "g"),
        credit(d(2023, 3, 15), Sub::Individual, "500", "c 2023"),
        credit(d(2023, 3, 15), Sub::Government, "50", "g 2023"),
        Event::new(
            d(2023, 7, 20),
            EventKind::Cancellation {
                death: Some(d(2023, 6, 2)),
            },
            "cancellation",
        ),
    ];
    let r = replay(
        &events,
        &rates(&[(2022, "1.50"), (2023, "1.45")]),
        d(2023, 12, 31),
        &Params::default(),
    )
    .unwrap();
    // Settlement in July (M = 7) posts months 1…6 at 1.45/1200:
    // individual eff(1…3) = 5000, eff(4…6) = 5500 → Σ 31500 × 1.45 / 1200 = 45675 / 1200 = 38.0625 → 38.06;
    // collective 6 × 400 = 2400 × 1.45 / 1200 = 2.90;
    // transfer 6 × 1000 = 6000 × 1.45 / 1200 = 7.25;
    // government 3 × 600 + 3 × 650 = 3750 × 1.45 / 1200 = 4.53125 → 4.53.
    // Balances: 5538.06, 402.90, 1007.25, 654.53 = 7602.74.
    // Refund = 5538.06 + 402.90 + 1007.25 = 6948.21; government returned 654.53.
    let c = &r.refunds[0];
    assert_eq!(c.reason, CloseReason::Death);
    assert_eq!(c.settlement_interest, x("52.74"));
    assert_eq!(c.balance, x("7602.74"));
    assert_eq!(c.refund, x("6948.21"));
    assert_eq!(c.government_returned, x("654.53"));
    // 2 June → 20 July = 28 + 20 = 48 days ≤ 60.
    assert_eq!(c.days_after_death, Some(48));
    assert!(!c.late_claim);
    // The account is closed: everything out, no year-end interest.
    assert_eq!(
        figures(row(&r, 2023, Sub::Individual)),
        f6(["5000", "500", Z, "5538.06", "38.06", Z])
    );
    assert_eq!(
        figures(row(&r, 2023, Sub::Collective)),
        f6(["400", Z, Z, "402.90", "2.90", Z])
    );
    assert_eq!(
        figures(row(&r, 2023, Sub::Transfer)),
        f6(["1000", Z, Z, "1007.25", "7.25", Z])
    );
    assert_eq!(
        figures(row(&r, 2023, Sub::Government)),
        f6(["600", "50", Z, "654.53", "4.53", Z])
    );
    let fund: Vec<_> = r
        .postings
        .iter()
        .filter(|p| p.kind == PostingKind::FundReturn)
        .collect();
    assert_eq!(fund.len(), 1);
    assert_eq!(
        (fund[0].holding, fund[0].amount),
        (Holding::Account(Sub::Government), x("-654.53"))
    );
}

/// A death reported after the window is flagged; the refund is the same.
#[test]
fn late_death_claim_flagged() {
    let events = vec![
        credit(d(2022, 12, 20), Sub::Individual, "1000", "c"),
        Event::new(
            d(2023, 7, 20),
            EventKind::Cancellation {
                death: Some(d(2023, 5, 1)),
            },
            "cancellation",
        ),
    ];
    let r = replay(
        &events,
        &rates(&[(2022, "1.50"), (2023, "1.45")]),
        d(2023, 7, 31),
        &Params::default(),
    )
    .unwrap();
    // 1 May → 20 July = 30 + 30 + 20 = 80 days > 60.
    // Settlement months 1…6: 6 × 1000 × 1.45 / 1200 = 7.25; refund 1007.25.
    let c = &r.refunds[0];
    assert_eq!(c.days_after_death, Some(80));
    assert!(c.late_claim);
    assert_eq!(c.refund, x("1007.25"));
}

/// Approval, three payments, death: two settlements in one year.
#[test]
fn approval_then_death_same_year() {
    let mut events = vec![
        credit(d(2019, 12, 10), Sub::Individual, "13900", "c"),
        Event::new(d(2020, 4, 1), EventKind::Approval, "approval"),
        Event::new(
            d(2020, 8, 5),
            EventKind::Cancellation {
                death: Some(d(2020, 6, 20)),
            },
            "cancellation",
        ),
    ];
    for m in 4..=6 {
        events.push(debit(
            d(2020, m, 10),
            "100.38",
            &format!("payout 2020-{m:02}"),
        ));
    }
    let r = replay(
        &events,
        &rates(&[(2019, "1.50"), (2020, "1.50")]),
        d(2020, 12, 31),
        &Params::default(),
    )
    .unwrap();
    // Approval April: months 1…3 → 13900 × 3 × 1.5 / 1200 = 52.125 → 52.13; balance 13952.13;
    // / 139 = 100.37503… → 100.38.
    assert_eq!(r.approvals[0].account_pension, x("100.38"));
    // Cancellation August: months 4…7 (since the last posting):
    // eff(4) = 13952.13, eff(5) = 13851.75, eff(6) = 13751.37, eff(7) = 13650.99 (three debits);
    // Σ = 55206.24 × 1.5 / 1200 = 69.0078 → 69.01. Balance 13650.99 + 69.01 = 13720.00, all refunded.
    let c = &r.refunds[0];
    assert_eq!(c.settlement_interest, x("69.01"));
    assert_eq!(c.refund, x("13720.00"));
    assert_eq!(c.government_returned, x("0"));
    // Year: interest 52.13 + 69.01 = 121.14; debits 3 × 100.38 = 301.14;
    // 13900 + 121.14 − 301.14 − 13720.00 = 0.
    assert_eq!(
        figures(row(&r, 2020, Sub::Individual)),
        f6(["13900", Z, "301.14", "13720.00", "121.14", Z])
    );
}

/// A late certifier: suspended May–July, certified in August, the four months
/// paid on one date and debited in August.
#[test]
fn late_certifier_paid_back() {
    let mut events = vec![
        credit(d(2023, 12, 15), Sub::Individual, "6950", "c"),
        Event::new(d(2024, 1, 1), EventKind::Approval, "approval"),
    ];
    for m in [1, 2, 3, 4, 9, 10, 11, 12] {
        events.push(debit(d(2024, m, 10), "50", &format!("payout 2024-{m:02}")));
    }
    for m in 5..=8 {
        events.push(debit(d(2024, 8, 15), "50", &format!("payout 2024-{m:02}")));
    }
    let r = replay(
        &events,
        &rates(&[(2023, "1.45"), (2024, "1.35")]),
        d(2024, 12, 31),
        &Params::default(),
    )
    .unwrap();
    // Approval in January: nothing accrued (months 1…0); 6950 / 139 = 50.00.
    assert_eq!(r.approvals[0].settlement_interest, x("0"));
    assert_eq!(r.approvals[0].account_pension, x("50.00"));
    // Σ debit × (12 − m): Jan 50×11 = 550, Feb 500, Mar 450, Apr 400, Aug 200×4 = 800,
    // Sep 150, Oct 100, Nov 50, Dec 0 → 3000; / 12 = 250.
    // Interest = 1.35% × (6950 − 250) = 1.35% × 6700 = 90.45. (Paid monthly it would be
    // 1.35% × (6950 − 50 × 66/12) = 1.35% × 6675 = 90.1125 → 90.11.)
    // Closing 6950 − 12 × 50 + 90.45 = 6440.45.
    assert_eq!(
        figures(row(&r, 2024, Sub::Individual)),
        f6(["6950", Z, "600", Z, "90.45", "6440.45"])
    );
    let aug = r
        .postings
        .iter()
        .filter(|p| p.date == d(2024, 8, 15) && p.kind == PostingKind::PensionDebit)
        .count();
    assert_eq!(aug, 4);
}

/// A prepayment (预缴) received November 2016 for 2017–2019, 600 a year.
#[test]
fn prepayment_spanning_years() {
    let events = vec![Event::new(
        d(2016, 11, 20),
        EventKind::Prepayment {
            years: vec![(2017, x("600")), (2018, x("600")), (2019, x("600"))],
        },
        "prepay",
    )];
    let rt = rates(&[
        (2016, "1.50"),
        (2017, "1.50"),
        (2018, "1.50"),
        (2019, "1.50"),
    ]);
    let r = replay(&events, &rt, d(2019, 12, 31), &Params::default()).unwrap();
    // Prepaid lot (1.5/1200 = 0.00125 per month):
    // 2016: 1800 in effect from December → 1800 × 0.00125 = 2.25; closing 1802.25.
    // 2017: 600 moves 31 Oct (out from November): eff(1…10) = 1802.25, eff(11…12) = 1202.25;
    //   Σ = 18022.50 + 2404.50 = 20427.00 × 0.00125 = 25.53375 → 25.53; closing 1802.25 − 600 + 25.53 = 1227.78.
    // 2018: eff(1…10) = 1227.78, eff(11…12) = 627.78; Σ = 12277.80 + 1255.56 = 13533.36
    //   × 0.00125 = 16.9167 → 16.92; closing 1227.78 − 600 + 16.92 = 644.70.
    // 2019: last move 31 Oct: the lot earns months 1…10: 6447.00 × 0.00125 = 8.05875 → 8.06;
    //   everything moves: 644.70 + 8.06 = 652.76 (= 600 + interest 2.25 + 25.53 + 16.92 + 8.06).
    let p = |y| {
        let a = prow(&r, y);
        [
            a.opening, a.received, a.moved, a.refunded, a.interest, a.closing,
        ]
    };
    assert_eq!(p(2016), f6([Z, "1800", Z, Z, "2.25", "1802.25"]));
    assert_eq!(p(2017), f6(["1802.25", Z, "600", Z, "25.53", "1227.78"]));
    assert_eq!(p(2018), f6(["1227.78", Z, "600", Z, "16.92", "644.70"]));
    assert_eq!(p(2019), f6(["644.70", Z, "652.76", Z, "8.06", Z]));
    // Individual:
    // 2017: 600 in October → 600 × 2/12 × 1.5% = 1.50; closing 601.50.
    // 2018: 601.50 × 1.5% = 9.0225; 600 × 2/12 × 1.5% = 1.50; 10.5225 → 10.52; closing 1212.02.
    // 2019: 1212.02 × 1.5% = 18.1803; 652.76 × 2/12 × 1.5% = 1.6319; 19.8122 → 19.81;
    //   closing 1212.02 + 652.76 + 19.81 = 1884.59.
    assert_eq!(figures(row(&r, 2016, Sub::Individual)), f6([Z; 6]));
    assert_eq!(
        figures(row(&r, 2017, Sub::Individual)),
        f6([Z, "600", Z, Z, "1.50", "601.50"])
    );
    assert_eq!(
        figures(row(&r, 2018, Sub::Individual)),
        f6(["601.50", "600", Z, Z, "10.52", "1212.02"])
    );
    assert_eq!(
        figures(row(&r, 2019, Sub::Individual)),
        f6(["1212.02", "652.76", Z, Z, "19.81", "1884.59"])
    );
    let moves: Vec<_> = r
        .postings
        .iter()
        .filter(|p| {
            p.kind == PostingKind::PrepaidMove && p.holding == Holding::Account(Sub::Individual)
        })
        .map(|p| (p.date, p.amount))
        .collect();
    assert_eq!(
        moves,
        vec![
            (d(2017, 10, 31), x("600")),
            (d(2018, 10, 31), x("600")),
            (d(2019, 10, 31), x("652.76"))
        ]
    );
}

/// A prepaid lot not yet moved when the person dies is refunded with its interest
/// to the months before the cancellation month.
#[test]
fn prepayment_refunded_at_death() {
    let events = vec![
        Event::new(
            d(2016, 11, 20),
            EventKind::Prepayment {
                years: vec![(2017, x("600")), (2018, x("600"))],
            },
            "prepay",
        ),
        Event::new(
            d(2017, 3, 9),
            EventKind::Cancellation {
                death: Some(d(2017, 2, 14)),
            },
            "cancellation",
        ),
    ];
    let rt = rates(&[(2016, "1.50"), (2017, "1.50"), (2018, "1.50")]);
    let r = replay(&events, &rt, d(2018, 12, 31), &Params::default()).unwrap();
    // 2016: 1200 × 1 month × 0.00125 = 1.50 → 1201.50.
    // March 2017 settlement, months 1…2: 1201.50 × 2 × 0.00125 = 3.00375 → 3.00; refund 1204.50.
    let c = &r.refunds[0];
    assert_eq!(c.prepaid_refund, x("1204.50"));
    assert_eq!(c.refund, x("0"));
    let p = prow(&r, 2017);
    assert_eq!(
        [p.opening, p.interest, p.refunded, p.moved, p.closing],
        [x("1201.50"), x("3.00"), x("1204.50"), x("0"), x("0")]
    );
    // No move happens after the lot was refunded.
    assert_eq!(r.closing(Sub::Individual), x("0"));
}

/// Transfer out and other cancellations: the whole balance, government part
/// included. The month's credits dated on or before the closure are in it (and
/// earn nothing); a credit dated after it stays in the reopened account.
#[test]
fn transfer_out_and_other_cancellation() {
    let base = vec![
        credit(d(2019, 12, 10), Sub::Individual, "1200", "c"),
        credit(d(2019, 12, 10), Sub::Government, "120", "g"),
        credit(d(2020, 3, 18), Sub::Collective, "50", "k before"),
        credit(d(2020, 3, 25), Sub::Collective, "20", "k after"),
    ];
    let rt = rates(&[(2019, "1.50"), (2020, "1.50")]);
    // Settlement March, months 1…2: individual 1200 × 2 × 1.5/1200 = 3.00; government
    // 120 × 2 × 1.5/1200 = 0.30; collective (credited in March) nothing.
    // Whole balance on 18 March: 1203.00 + 120.30 + 50 = 1373.30.
    // The 20 of 25 March is in effect from April: 20 × 9 × 1.5/1200 = 0.225 → 0.23;
    // collective 2020: credits 70, closed out 50, interest 0.23, closing 20.23.
    for (kind, reason, posting) in [
        (
            EventKind::TransferOut,
            CloseReason::TransferOut,
            PostingKind::TransferOut,
        ),
        (
            EventKind::Cancellation { death: None },
            CloseReason::Cancellation,
            PostingKind::Refund,
        ),
    ] {
        let mut events = base.clone();
        events.push(Event::new(d(2020, 3, 18), kind, "close"));
        let r = replay(&events, &rt, d(2020, 12, 31), &Params::default()).unwrap();
        let c = &r.refunds[0];
        assert_eq!(c.reason, reason);
        assert_eq!(c.balance, x("1373.30"));
        assert_eq!(c.refund, x("1373.30"));
        assert_eq!(c.government_returned, x("0"));
        assert!(r
            .postings
            .iter()
            .filter(|p| p.source == "close")
            .all(|p| p.kind == posting));
        // Nothing earned after the closure (the closing month included).
        assert_eq!(
            figures(row(&r, 2020, Sub::Individual)),
            f6(["1200", Z, Z, "1203.00", "3.00", Z])
        );
        assert_eq!(
            figures(row(&r, 2020, Sub::Government)),
            f6(["120", Z, Z, "120.30", "0.30", Z])
        );
        assert_eq!(
            figures(row(&r, 2020, Sub::Collective)),
            f6([Z, "70", Z, "50", "0.23", "20.23"])
        );
    }
}

/// A closure takes effect on its date: a pension paid earlier in the month is
/// debited before the refund; one paid later finds the account closed.
#[test]
fn closure_takes_effect_on_its_date() {
    let mut events = vec![
        credit(d(2019, 12, 10), Sub::Individual, "13900", "c"),
        Event::new(d(2020, 1, 1), EventKind::Approval, "approval"),
        Event::new(
            d(2020, 7, 20),
            EventKind::Cancellation {
                death: Some(d(2020, 6, 25)),
            },
            "cancellation",
        ),
        debit(d(2020, 7, 28), "100", "payout after cancellation"),
        credit(d(2020, 8, 5), Sub::Government, "30", "late subsidy"),
    ];
    for m in 1..=7 {
        events.push(debit(d(2020, m, 10), "100", &format!("payout 2020-{m:02}")));
    }
    let r = replay(
        &events,
        &rates(&[(2019, "1.50"), (2020, "1.50")]),
        d(2020, 12, 31),
        &Params::default(),
    )
    .unwrap();
    // Approval in January: nothing accrued; 13900 / 139 = 100.00.
    assert_eq!(r.approvals[0].account_pension, x("100.00"));
    // Settlement July, months 1…6: eff = 13900, 13800, 13700, 13600, 13500, 13400
    // (each debit in effect the month after); Σ = 81900 × 1.5/1200 = 102.375 → 102.38.
    // On 20 July: 13900 − 7 × 100 (January–July, the 10 July payment included)
    // + 102.38 = 13302.38, all refunded (no government part).
    let c = &r.refunds[0];
    assert_eq!(c.settlement_interest, x("102.38"));
    assert_eq!(c.refund, x("13302.38"));
    assert_eq!(c.days_after_death, Some(25));
    assert_eq!(c.pooled_to_date, x("0"));
    // 28 July: the account is closed → 100 to the pooled fund.
    assert_eq!(r.pooled_total, x("100.00"));
    assert_eq!(
        figures(row(&r, 2020, Sub::Individual)),
        f6(["13900", Z, "700", "13302.38", "102.38", Z])
    );
    // The August subsidy reopens the government sub-balance: in effect from
    // September, 30 × 4 × 1.5/1200 = 0.15.
    assert_eq!(
        figures(row(&r, 2020, Sub::Government)),
        f6([Z, "30", Z, Z, "0.15", "30.15"])
    );
}

#[test]
fn missing_rate_is_an_error() {
    let events = contributor_events();
    let rt = rates(&[(2014, "3.00"), (2016, "1.50")]);
    assert_eq!(
        replay(&events, &rt, d(2016, 12, 31), &Params::default()),
        Err(LedgerError::MissingRate(2015))
    );
}

#[test]
fn bad_inputs_are_errors() {
    let rt = contributor_rates();
    assert_eq!(
        replay(
            &contributor_events(),
            &rt,
            d(2016, 12, 30),
            &Params::default()
        ),
        Err(LedgerError::ThroughNotMonthEnd(d(2016, 12, 30)))
    );
    for bad in ["-1", "0.005"] {
        let events = vec![debit(d(2014, 5, 1), bad, "bad payout")];
        assert_eq!(
            replay(&events, &rt, d(2014, 12, 31), &Params::default()),
            Err(LedgerError::InvalidAmount {
                amount: x(bad),
                origin: "bad payout".into()
            })
        );
    }
    // Events after `through` are ignored; no events → an empty replay.
    let r = replay(
        &contributor_events(),
        &rt,
        d(2013, 12, 31),
        &Params::default(),
    )
    .unwrap();
    assert!(r.years.is_empty() && r.postings.is_empty());
}
