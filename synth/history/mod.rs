//! One enrollment's life from registration to the through-month: contributions,
//! subsidies, the account, approval, certification, suspensions, payouts and the
//! cancellation. Generated for one enrollment at a time so nothing piles up in memory.

use super::account::{
    monthly_pension, Account, Posting, COLLECTIVE, GOVERNMENT, INDIVIDUAL, TRANSFERRED,
};
use super::books::Receipts;
use super::calendar::{
    date, day_in, days, fen, first_day, iso, month_text, year_of, ym, ym_of, yuan_fen, Ym,
};
use super::geo::{Geo, OTHER_REGIONS};
use super::params::{standard, tier_split, TIERS};
use super::plan::{account_no, CancelReason, Channel, Ctx, Enrollment, Inj};
use super::population::{between, Person};
use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

mod benefits;
mod contributions;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContribKind {
    Normal,
    Backpay,
    Prepay,
}

#[derive(Clone, Debug)]
pub struct Contribution {
    pub year: i32,
    pub amount: Decimal,
    pub kind: ContribKind,
    pub channel: Channel,
    pub receipt: Option<String>,
    pub date: NaiveDate,
    pub ok: bool,
    pub fail: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub struct GovSubsidy {
    pub year: i32,
    pub level: usize,
    /// Basic-pension subsidy (基础养老金) rather than a contribution subsidy.
    pub basic: bool,
    pub amount: Decimal,
    pub date: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct CollectiveSub {
    pub year: i32,
    pub amount: Decimal,
    pub date: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct Transfer {
    pub out: bool,
    pub counterpart: &'static str,
    pub amount: Decimal,
    pub date: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct Approval {
    pub start: Ym,
    pub basic: Decimal,
    pub monthly: Decimal,
    pub balance: Decimal,
    pub date: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct Payout {
    pub month: Ym,
    pub basic: Decimal,
    pub account: Decimal,
    pub date: NaiveDate,
    pub ok: bool,
    /// Index into `Records::banks`.
    pub bank: u8,
}

impl Payout {
    pub fn total(&self) -> Decimal {
        self.basic + self.account
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuspReason {
    Prison,
    Uncertified,
}

#[derive(Clone, Debug)]
pub struct Suspension {
    pub reason: SuspReason,
    pub start: Ym,
    pub end: Option<Ym>,
}

#[derive(Clone, Debug)]
pub struct Cert {
    pub year: i32,
    pub date: NaiveDate,
    pub method: u8,
    pub pass: bool,
}

#[derive(Clone, Debug)]
pub struct Cancellation {
    pub reason: CancelReason,
    pub event: NaiveDate,
    pub apply: NaiveDate,
    pub refund: Decimal,
    pub payee: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Phone,
    Address,
    Bank,
    Tier,
    Village,
}

#[derive(Clone, Debug)]
pub struct Change {
    pub field: Field,
    pub old: String,
    pub new: String,
    pub date: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct LookNote {
    pub kind: &'static str,
    pub note: String,
}

#[derive(Clone, Debug, Default)]
pub struct Records {
    pub contributions: Vec<Contribution>,
    pub subsidies: Vec<GovSubsidy>,
    pub collective: Vec<CollectiveSub>,
    pub transfers: Vec<Transfer>,
    pub approval: Option<Approval>,
    pub payouts: Vec<Payout>,
    pub certs: Vec<Cert>,
    pub suspensions: Vec<Suspension>,
    pub cancellation: Option<Cancellation>,
    pub changes: Vec<Change>,
    pub banks: Vec<String>,
    pub looks: Vec<LookNote>,
    /// Postings that fell where the generator promised none (should stay zero).
    pub warnings: u32,
}

struct Life<'a> {
    ctx: Ctx,
    geo: &'a Geo,
    p: &'a Person,
    e: &'a Enrollment,
    idx: usize,
    rng: &'a mut ChaCha8Rng,
    receipts: &'a mut Receipts,
    r: Records,
    /// Account credits: (date, sub-balance, amount).
    credits: Vec<(NaiveDate, usize, Decimal)>,
    /// Years with a successful normal or prepaid contribution (for collective subsidies).
    paid_years: Vec<i32>,
    bank_change: Option<NaiveDate>,
    tier_change: Option<(i32, u32)>,
    prepaid: Vec<i32>,
    subsidy_fault_done: bool,
    town: usize,
}

/// Generates every record of enrollment `e` (number `idx`) of person `p`.
#[allow(clippy::too_many_arguments)]
pub fn run(
    ctx: Ctx,
    geo: &Geo,
    p: &Person,
    e: &Enrollment,
    idx: usize,
    spouse: Option<&str>,
    rng: &mut ChaCha8Rng,
    receipts: &mut Receipts,
) -> Records {
    let town = geo.villages[e.village].township;
    let mut life = Life {
        ctx,
        geo,
        p,
        e,
        idx,
        rng,
        receipts,
        r: Records::default(),
        credits: Vec::new(),
        paid_years: Vec::new(),
        bank_change: None,
        tier_change: None,
        prepaid: Vec::new(),
        subsidy_fault_done: false,
        town,
    };
    life.timelines();
    life.prepay();
    life.contributions();
    life.backpay();
    life.transfer_in();
    life.collective();
    let (mut acct, phase2) = life.approve();
    let phase2 = life.benefits(phase2);
    life.post_and_cancel(&mut acct, phase2, spouse);
    life.basic_subsidies();
    life.misc_changes();
    life.r
}

impl Life<'_> {
    /// The first day on which no contribution can be made any more.
    fn stop(&self) -> NaiveDate {
        let mut s = self.ctx.t_end + days(1);
        if let Some(d) = self.p.death {
            s = s.min(d);
        }
        if let Some(c) = self.e.cancel {
            // Nothing is posted in the settlement month itself, so "balance after the
            // settlement" cannot depend on the day of the month.
            s = s.min(c.event).min(first_day(ym_of(c.apply)));
        }
        if let Some((_, d)) = self.p.moved {
            s = s.min(d);
        }
        if let Some(st) = self.e.start {
            s = s.min(first_day(st));
        }
        s
    }

    /// Last day the relationship is live (for change records).
    fn live_until(&self) -> NaiveDate {
        let mut s = self.ctx.t_end;
        if let Some(d) = self.p.death {
            s = s.min(d);
        }
        if let Some(c) = self.e.cancel {
            s = s.min(c.apply);
        }
        s
    }

    fn quiet(&self) -> bool {
        self.e.inj == Inj::None && self.e.group.is_none()
    }

    /// Bank-account and tier changes, decided first because they shape later rows.
    fn timelines(&mut self) {
        self.r.banks.push(self.e.bank.clone());
        let until = self.live_until();
        if !self.e.fixed_bank && self.rng.random_bool(0.04) {
            let (lo, hi) = (self.e.enroll + days(180), until - days(30));
            if lo < hi {
                let d = between(self.rng, lo, hi);
                let new = account_no(1_000_000_000 + self.idx as u64);
                self.push_change(Field::Bank, self.e.bank.clone(), new.clone(), d);
                self.r.banks.push(new);
                self.bank_change = Some(d);
            }
        }
        let (y0, y1) = self.e.years;
        if y1 - y0 >= 3 && self.quiet() && self.rng.random_bool(0.08) {
            let cy = self
                .rng
                .random_range(y0..=(y1 - 1).min(year_of(self.ctx.t) - 1).max(y0));
            let lo = date(cy, 1, 1).max(self.e.enroll);
            let hi = date(cy, 10, 31).min(self.stop() - days(1));
            if lo < hi {
                let d = between(self.rng, lo, hi);
                let new = loop {
                    let t = TIERS[self.rng.random_range(0..6)].0;
                    if t != self.e.tier {
                        break t;
                    }
                };
                self.push_change(Field::Tier, self.e.tier.to_string(), new.to_string(), d);
                self.tier_change = Some((cy, new));
            }
        }
    }

    fn tier_in(&self, y: i32) -> u32 {
        match self.tier_change {
            Some((cy, t)) if y > cy => t,
            _ => self.e.tier,
        }
    }

    fn push_change(&mut self, field: Field, old: String, new: String, d: NaiveDate) {
        self.r.changes.push(Change {
            field,
            old,
            new,
            date: d,
        });
    }

    /// Basic-pension subsidy from the central level: what was paid in the year.
    fn basic_subsidies(&mut self) {
        let mut by_year: BTreeMap<i32, Decimal> = BTreeMap::new();
        for p in self.r.payouts.iter().filter(|p| p.ok) {
            *by_year.entry(p.date.year()).or_default() += p.basic;
        }
        for (y, amount) in by_year {
            let d = date(y, 12, 31).min(self.ctx.t_end);
            self.r.subsidies.push(GovSubsidy {
                year: y,
                level: 0,
                basic: true,
                amount,
                date: d,
            });
        }
    }

    fn misc_changes(&mut self) {
        let until = self.live_until();
        let lo = self.e.enroll + days(30);
        if lo < until && self.rng.random_bool(0.06) {
            let d = between(self.rng, lo, until);
            let new = format!(
                "1{}{:09}",
                [3, 5, 8][self.rng.random_range(0..3)],
                self.rng.random_range(0..1_000_000_000u32)
            );
            self.push_change(Field::Phone, self.e.phone.clone(), new, d);
        }
        if lo < until && self.rng.random_bool(0.03) {
            let d = between(self.rng, lo, until);
            let v = self.e.village;
            let new = format!(
                "{}{}{}组{}号",
                self.geo.township_of(v).name,
                self.geo.villages[v].name,
                self.rng.random_range(1..12),
                self.rng.random_range(1..80)
            );
            self.push_change(Field::Address, self.e.address.clone(), new, d);
        }
        if let Some((nv, d)) = self.e.village_move {
            self.push_change(
                Field::Village,
                self.geo.villages[self.e.village].name.clone(),
                self.geo.villages[nv].name.clone(),
                d,
            );
        }
        self.r.changes.sort_by_key(|c| c.date);
    }
}
