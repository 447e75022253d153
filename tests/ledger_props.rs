//! Property-style checks of the ledger engine over random event sequences from a
//! seeded generator (no extra crates): the yearly identity, no negative balance at
//! any posting, postings that explain every balance, the rules' closed interest
//! formula for years without a settlement, approval arithmetic, determinism, and
//! independence from the input order.
//!
//! In the project: `use pension::ledger::engine::*;` instead of `ledgerdev`.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use pension::ledger::engine::*;
use rust_decimal::{Decimal, RoundingStrategy};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    /// Money from 0.00 to max_fen/100.
    fn money(&mut self, max_fen: u64) -> Decimal {
        Decimal::new(self.below(max_fen + 1) as i64, 2)
    }
    fn date(&mut self, y0: i32, y1: i32) -> NaiveDate {
        let y = y0 + self.below((y1 - y0 + 1) as u64) as i32;
        let m = 1 + self.below(12) as u32;
        let d = 1 + self.below(28) as u32;
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
}

const FIRST: i32 = 2012;
const LAST: i32 = 2021;

fn month_end(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .unwrap()
        .pred_opt()
        .unwrap()
}

pub struct Case {
    pub events: Vec<Event>,
    pub rates: BTreeMap<i32, Decimal>,
    pub through: NaiveDate,
}

pub fn generate(seed: u64) -> Case {
    let mut g = Rng::new(seed);
    let rates = (FIRST..=LAST + 1)
        .map(|y| (y, Decimal::new(50 + g.below(300) as i64, 2)))
        .collect();
    let n = 5 + g.below(60);
    let mut events = Vec::new();
    for i in 0..n {
        let date = g.date(FIRST, LAST);
        let src = format!("e{i}");
        let kind = match g.below(100) {
            0..=39 => {
                let sub = Sub::ALL[g.below(4) as usize];
                EventKind::Credit {
                    sub,
                    amount: g.money(300_000),
                }
            }
            40..=79 => {
                let max = if g.chance(20) { 200_000 } else { 30_000 };
                EventKind::PensionDebit {
                    amount: g.money(max),
                }
            }
            80..=87 => EventKind::Approval,
            88..=91 => {
                let death = g.chance(50).then(|| date - chrono::Days::new(g.below(120)));
                EventKind::Cancellation { death }
            }
            92..=93 => EventKind::TransferOut,
            _ => {
                let k = 1 + g.below(4) as i32;
                let start = date.year() + g.below(2) as i32;
                EventKind::Prepayment {
                    years: (start..start + k)
                        .rev()
                        .map(|y| (y, g.money(200_000)))
                        .collect(),
                }
            }
        };
        events.push(Event::new(date, kind, src));
    }
    let ty = LAST - g.below(3) as i32;
    let through = month_end(ty, 1 + g.below(12) as u32);
    Case {
        events,
        rates,
        through,
    }
}

fn fen(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn check(seed: u64, case: &Case) {
    let ctx = |what: &str| format!("seed {seed}: {what}");
    let params = Params::default();
    let r = replay(&case.events, &case.rates, case.through, &params).expect("replay");
    let zero = Decimal::ZERO;

    // Determinism, and independence from the input order (the year figures; posting
    // order within ties may differ).
    assert_eq!(
        r,
        replay(&case.events, &case.rates, case.through, &params).unwrap(),
        "{}",
        ctx("rerun")
    );
    let mut reversed = case.events.clone();
    reversed.reverse();
    let rr = replay(&reversed, &case.rates, case.through, &params).unwrap();
    assert_eq!(r.years, rr.years, "{}", ctx("reversed input: years"));
    assert_eq!(
        r.prepaid_years,
        rr.prepaid_years,
        "{}",
        ctx("reversed input: prepaid")
    );
    assert_eq!(
        r.pooled_total,
        rr.pooled_total,
        "{}",
        ctx("reversed input: pooled")
    );

    let replayed: Vec<&Event> = case
        .events
        .iter()
        .filter(|e| e.date <= case.through)
        .collect();
    if replayed.is_empty() {
        assert!(r.years.is_empty());
        return;
    }
    let first = replayed.iter().map(|e| e.date.year()).min().unwrap();
    assert_eq!(
        r.years.len(),
        4 * (case.through.year() - first + 1) as usize,
        "{}",
        ctx("row count")
    );

    // Yearly identity, non-negative figures, continuity across years.
    let mut last_closing: HashMap<Sub, Decimal> = HashMap::new();
    for a in &r.years {
        let what = ctx(&format!("{} {:?}", a.year, a.sub));
        assert_eq!(
            a.opening + a.credits - a.debits - a.closed_out + a.interest,
            a.closing,
            "{what}: identity"
        );
        for v in [
            a.opening,
            a.credits,
            a.debits,
            a.closed_out,
            a.interest,
            a.closing,
            a.accrued_unposted,
        ] {
            assert!(v >= zero, "{what}: negative figure");
            assert_eq!(v.scale(), 2, "{what}: scale");
        }
        assert_eq!(
            a.opening,
            last_closing.get(&a.sub).copied().unwrap_or(zero),
            "{what}: opening"
        );
        last_closing.insert(a.sub, a.closing);
        if a.year != case.through.year() || case.through.month() == 12 {
            assert_eq!(
                a.accrued_unposted, zero,
                "{what}: unposted outside the through year"
            );
        }
    }
    let mut last = zero;
    for p in &r.prepaid_years {
        let what = ctx(&format!("prepaid {}", p.year));
        assert_eq!(
            p.opening + p.received - p.moved - p.refunded + p.interest,
            p.closing,
            "{what}: identity"
        );
        assert_eq!(p.opening, last, "{what}: opening");
        assert!(p.closing >= zero && p.interest >= zero, "{what}: negative");
        last = p.closing;
    }

    // Postings explain every balance, and no holding is ever negative.
    let mut running: HashMap<Holding, Decimal> = HashMap::new();
    for p in &r.postings {
        assert_eq!(p.amount.scale(), 2, "{}", ctx("posting scale"));
        let b = running.entry(p.holding).or_default();
        *b += p.amount;
        assert!(
            *b >= zero,
            "{}",
            ctx(&format!("negative {:?} after {:?}", p.holding, p))
        );
    }
    for sub in Sub::ALL {
        assert_eq!(
            running.get(&Holding::Account(sub)).copied().unwrap_or(zero),
            r.closing(sub),
            "{}",
            ctx("postings vs closing")
        );
    }
    assert_eq!(
        running.get(&Holding::Pooled).copied().unwrap_or(zero),
        r.pooled_total,
        "{}",
        ctx("pooled")
    );
    if let Some(p) = r.prepaid_years.last() {
        assert_eq!(
            running.get(&Holding::Prepaid).copied().unwrap_or(zero),
            p.closing,
            "{}",
            ctx("prepaid postings")
        );
    }

    // Every pension debit is covered by the account or the pooled fund.
    let asked: Decimal = replayed
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::PensionDebit { amount } => Some(amount),
            _ => None,
        })
        .sum();
    let debited: Decimal = r
        .postings
        .iter()
        .filter(|p| p.kind == PostingKind::PensionDebit)
        .map(|p| -p.amount)
        .sum();
    assert_eq!(
        asked,
        debited + r.pooled_total,
        "{}",
        ctx("debits + pooled")
    );

    // Approval: pension = balance / 139 half-up.
    for a in &r.approvals {
        assert_eq!(
            a.account_pension,
            fen(a.balance / Decimal::from(139)),
            "{}",
            ctx("approval")
        );
    }
    // Closures: refund + government returned = balance; government returned only at death.
    for c in &r.refunds {
        assert_eq!(
            c.refund + c.government_returned,
            c.balance,
            "{}",
            ctx("closure")
        );
        if c.reason != CloseReason::Death {
            assert_eq!(
                c.government_returned,
                zero,
                "{}",
                ctx("government returned")
            );
        }
    }

    // The rules' closed formula for every full year without a settlement:
    // interest = r × [opening + Σ credit × (12 − m)/12 − Σ debit × (12 − m)/12].
    let settled_years: Vec<i32> = replayed
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Approval | EventKind::Cancellation { .. } | EventKind::TransferOut
            )
        })
        .map(|e| e.date.year())
        .collect();
    let full_years = first..if case.through.month() == 12 {
        case.through.year() + 1
    } else {
        case.through.year()
    };
    for a in r
        .years
        .iter()
        .filter(|a| full_years.contains(&a.year) && !settled_years.contains(&a.year))
    {
        let weighted: Decimal = r
            .postings
            .iter()
            .filter(|p| p.date.year() == a.year && p.holding == Holding::Account(a.sub))
            .filter(|p| {
                matches!(
                    p.kind,
                    PostingKind::Credit | PostingKind::PrepaidMove | PostingKind::PensionDebit
                )
            })
            .map(|p| p.amount * Decimal::from(12 - p.date.month()) / Decimal::from(12))
            .sum();
        let expected = fen(case.rates[&a.year] / Decimal::from(100) * (a.opening + weighted));
        assert_eq!(
            a.interest,
            expected,
            "{}",
            ctx(&format!("closed formula {} {:?}", a.year, a.sub))
        );
    }
}

#[test]
fn random_sequences_keep_the_ledger_invariants() {
    for seed in 1..=400 {
        check(seed, &generate(seed));
    }
}

/// Through December: the year is complete, so nothing is left unposted, and
/// extending the replay does not change the years already closed.
#[test]
fn extending_through_keeps_closed_years() {
    for seed in 1..=100 {
        let case = generate(seed);
        let params = Params::default();
        let short = month_end(2018, 12);
        let a = replay(&case.events, &case.rates, short, &params).unwrap();
        let b = replay(&case.events, &case.rates, case.through, &params).unwrap();
        let closed: Vec<_> = b.years.iter().filter(|r| r.year <= 2018).cloned().collect();
        assert_eq!(a.years, closed, "seed {seed}");
    }
}
