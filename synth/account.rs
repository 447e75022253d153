//! Individual account arithmetic (个人账户计息), exactly as docs/rules.md § Individual account states it.
//!
//! * Four sub-balances (individual, collective, government, transferred-in), each
//!   earning its own interest, because they are treated differently on death.
//! * Year `y` uses rate r(y) percent. During month k the balance *in effect* earns
//!   r/12; an amount posted in month m is in effect from month m+1. With no settlement
//!   the year's interest is therefore r × [B0 + Σ credit × (12−m)/12 − Σ debit × (12−m)/12].
//! * Interest is rounded half-up to the fen per sub-balance and posted on 31 December
//!   (simple within the year, compound across years).
//! * A settlement in month M (approval, cancellation, transfer out) posts the interest
//!   of months 1 … M−1; it is in effect from month M, and the year-end posting later adds
//!   months M … 12.
//! * Debits (account pension paid) come off individual, collective, transferred-in,
//!   government in that order, never below zero; the rest is charged to the pooled fund.
//!
//! To stay exact the accrual is kept as Σ(balance in effect) in yuan-months and divided
//! only once: interest = r × Σ / 1200. That quotient either terminates or repeats in 3s
//! and 6s, so it never sits within rounding noise of a half fen.

use super::calendar::{month_of, year_of, Ym};
use super::params::rate_percent;
use rust_decimal::Decimal;

pub const INDIVIDUAL: usize = 0;
pub const COLLECTIVE: usize = 1;
pub const GOVERNMENT: usize = 2;
pub const TRANSFERRED: usize = 3;

/// Order in which account pension payments drain the sub-balances.
const DEBIT_ORDER: [usize; 4] = [INDIVIDUAL, COLLECTIVE, TRANSFERRED, GOVERNMENT];

/// Interest for a sum of in-effect balances (yuan-months) at `rate` percent a year.
pub fn interest(rate: Decimal, yuan_months: Decimal) -> Decimal {
    super::calendar::fen(rate * yuan_months / Decimal::from(1200))
}

/// One person's account, advanced month by month by its owner.
#[derive(Clone, Debug)]
pub struct Account {
    /// Posted balances.
    bal: [Decimal; 4],
    /// Balances in effect during the open month (everything posted before it).
    effect: [Decimal; 4],
    /// Σ in-effect balance over the closed months of the open year since the last
    /// interest posting.
    accrued: [Decimal; 4],
    /// The month currently open for postings.
    open: Ym,
}

impl Account {
    /// An empty account whose first posting will be in month `first`.
    pub fn new(first: Ym) -> Self {
        Account {
            bal: [Decimal::ZERO; 4],
            effect: [Decimal::ZERO; 4],
            accrued: [Decimal::ZERO; 4],
            open: first,
        }
    }

    pub fn balances(&self) -> [Decimal; 4] {
        self.bal
    }

    pub fn total(&self) -> Decimal {
        self.bal.iter().sum()
    }

    pub fn open_month(&self) -> Ym {
        self.open
    }

    /// Closes every month before `to`, posting year-end interest on each 31 December
    /// passed, and opens `to`.
    pub fn roll_to(&mut self, to: Ym) {
        while self.open < to {
            for s in 0..4 {
                self.accrued[s] += self.effect[s];
            }
            if month_of(self.open) == 12 {
                self.post_interest(year_of(self.open));
            }
            self.open += 1;
            self.effect = self.bal;
        }
    }

    /// Credit posted in the open month (in effect from the next month).
    pub fn credit(&mut self, sub: usize, amount: Decimal) {
        self.bal[sub] += amount;
    }

    /// Debit posted in the open month, drained in the fixed order; returns the part no
    /// sub-balance could cover (charged to the pooled fund).
    pub fn debit(&mut self, amount: Decimal) -> Decimal {
        let mut left = amount;
        for s in DEBIT_ORDER {
            let take = left.min(self.bal[s]).max(Decimal::ZERO);
            self.bal[s] -= take;
            left -= take;
        }
        left
    }

    /// Settlement in the open month M: posts the interest of months 1 … M−1, in effect
    /// from M itself.
    pub fn settle(&mut self) {
        let before = self.bal;
        self.post_interest(year_of(self.open));
        for ((effect, after), before) in self.effect.iter_mut().zip(self.bal).zip(before) {
            *effect += after - before;
        }
    }

    /// Empties the account (after a refund or a transfer out).
    pub fn close(&mut self) {
        self.bal = [Decimal::ZERO; 4];
        self.effect = self.bal;
        self.accrued = self.bal;
    }

    fn post_interest(&mut self, year: i32) {
        let r = rate_percent(year);
        for s in 0..4 {
            self.bal[s] += interest(r, self.accrued[s]);
            self.accrued[s] = Decimal::ZERO;
        }
    }
}

/// What happens to an account on a date: the building block of [`settle_at`].
#[derive(Clone, Copy, Debug)]
pub enum Posting {
    Credit {
        month: Ym,
        sub: usize,
        amount: Decimal,
    },
    Debit {
        month: Ym,
        amount: Decimal,
    },
}

impl Posting {
    fn key(&self) -> (Ym, u8) {
        match self {
            Posting::Credit { month, .. } => (*month, 0),
            Posting::Debit { month, .. } => (*month, 1),
        }
    }
}

/// The sub-balances right after a settlement in month `m`, given every posting made
/// before `m` (later postings are ignored). Credits precede debits within a month.
pub fn settle_at(postings: &[Posting], m: Ym) -> [Decimal; 4] {
    let mut sorted: Vec<Posting> = postings.iter().copied().filter(|p| p.key().0 < m).collect();
    sorted.sort_by_key(Posting::key);
    let first = sorted.first().map_or(m, |p| p.key().0);
    let mut acct = Account::new(first);
    for p in &sorted {
        acct.roll_to(p.key().0);
        match *p {
            Posting::Credit { sub, amount, .. } => acct.credit(sub, amount),
            Posting::Debit { amount, .. } => {
                acct.debit(amount);
            }
        }
    }
    acct.roll_to(m);
    acct.settle();
    acct.balances()
}

/// Account pension at approval: balance after the settlement ÷ 139, half-up to the fen.
pub fn monthly_pension(balance_after_settlement: Decimal) -> Decimal {
    super::calendar::fen(balance_after_settlement / Decimal::from(super::params::DIVISOR))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::calendar::ym;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn one_credit_in_march_earns_nine_months() {
        // 100 posted in March 2016 (1.50 %) earns 100 × 1.5 % × 9/12 = 1.125 → 1.13.
        let b = settle_at(
            &[Posting::Credit {
                month: ym(2016, 3),
                sub: INDIVIDUAL,
                amount: d("100"),
            }],
            ym(2017, 1),
        );
        assert_eq!(b[INDIVIDUAL], d("101.13"));
    }

    #[test]
    fn settlement_posts_months_before_m_and_year_end_the_rest() {
        let mut a = Account::new(ym(2015, 12));
        a.credit(INDIVIDUAL, d("1200"));
        a.roll_to(ym(2016, 4));
        a.settle(); // Jan–Mar 2016 at 1.50 %: 1200 × 0.015 × 3/12 = 4.50
        assert_eq!(a.total(), d("1204.50"));
        a.roll_to(ym(2017, 1)); // Apr–Dec on 1204.50: 1204.50 × 0.015 × 9/12 = 13.550625
        assert_eq!(a.total(), d("1218.05"));
    }

    #[test]
    fn debits_drain_in_order() {
        let mut a = Account::new(ym(2020, 1));
        a.credit(GOVERNMENT, d("10"));
        a.credit(TRANSFERRED, d("5"));
        a.credit(INDIVIDUAL, d("3"));
        assert_eq!(a.debit(d("20")), d("2"));
        assert_eq!(a.balances(), [Decimal::ZERO; 4]);
        assert_eq!(monthly_pension(d("1390")), d("10.00"));
    }
}
