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

    fn push_contrib(
        &mut self,
        year: i32,
        amount: Decimal,
        kind: ContribKind,
        channel: Channel,
        d: NaiveDate,
        ok: bool,
    ) {
        let receipt =
            (channel == Channel::Receipt && ok).then(|| self.receipts.take(self.town, d, amount));
        let fail = (!ok).then(|| {
            if self.rng.random_bool(0.9) {
                "余额不足"
            } else {
                "账户状态异常"
            }
        });
        self.r.contributions.push(Contribution {
            year,
            amount,
            kind,
            channel,
            receipt,
            date: d,
            ok,
            fail,
        });
        if ok && kind != ContribKind::Prepay {
            self.credits.push((d, INDIVIDUAL, amount));
        }
    }

    /// Contribution subsidy rows for a tier, credited on `d`.
    fn push_subsidy(&mut self, year: i32, tier: u32, d: NaiveDate, fault: bool) {
        let mut split = tier_split(tier);
        if fault {
            split[3] += split[3];
        }
        for (level, amount) in split.into_iter().enumerate() {
            if amount > Decimal::ZERO {
                self.r.subsidies.push(GovSubsidy {
                    year,
                    level,
                    basic: false,
                    amount,
                    date: d,
                });
                self.credits.push((d, GOVERNMENT, amount));
            }
        }
    }

    fn bank_attempts(
        &mut self,
        y: i32,
        lo: NaiveDate,
        hi: NaiveDate,
        fails: usize,
        succeed: bool,
    ) -> Vec<(NaiveDate, bool)> {
        let jan1 = date(y, 1, 1);
        let mut k = ((lo - jan1).num_days() + 6) / 7 + self.rng.random_range(0..3);
        let mut out = Vec::new();
        for i in 0..fails + usize::from(succeed) {
            let d = jan1 + days(7 * k);
            if d > hi {
                break;
            }
            out.push((d, i >= fails));
            k += self.rng.random_range(1..4);
        }
        out
    }

    fn contributions(&mut self) {
        let (y0, y1) = self.e.years;
        let stop = self.stop();
        let death_year = self.p.death.map(|d| d.year());
        for y in y0..=y1.min(year_of(self.ctx.t)) {
            if self.prepaid.contains(&y) {
                continue;
            }
            if self.e.inj == Inj::BadContribution(0) && death_year == Some(y) {
                self.paid_after_death(y);
                continue;
            }
            let lo = date(y, 1, 1).max(self.e.enroll);
            let mut hi = date(y, 10, 31).min(self.ctx.t_end).min(stop - days(1));
            let before16 = self.e.inj == Inj::BadContribution(1) && y == y0;
            if before16 {
                hi = hi.min(super::calendar::add_years(self.p.birth, 16) - days(1));
            }
            let in_prison = self
                .p
                .prison
                .is_some_and(|(a, r)| a <= hi && r.is_none_or(|r| r >= lo));
            if lo > hi || in_prison {
                continue;
            }
            self.contribution_year(y, lo, hi, before16);
        }
        if self.e.inj == Inj::BadContribution(2) {
            self.contribution_after_sixty();
        }
    }

    fn contribution_year(&mut self, y: i32, lo: NaiveDate, hi: NaiveDate, force_ok: bool) {
        let tier = self.tier_in(y);
        let amount = Decimal::from(tier);
        let no_money =
            self.e.inj == Inj::SubsidyMismatch(2) && !self.subsidy_fault_done && y > self.e.years.0;
        let attempts = match self.e.channel {
            Channel::Receipt => {
                if force_ok || self.rng.random_bool(0.95) {
                    vec![(between(self.rng, lo, hi), true)]
                } else {
                    vec![]
                }
            }
            Channel::Bank => {
                let x = self.rng.random_range(0..1000);
                let (fails, ok) = match x {
                    _ if no_money => (2, false),
                    _ if force_ok => (0, true),
                    0..860 => (0, true),
                    860..940 => (self.rng.random_range(1..4), true),
                    940..975 => (self.rng.random_range(1..5), false),
                    _ => (0, false),
                };
                self.bank_attempts(y, lo, hi, fails, ok)
            }
        };
        for &(d, ok) in &attempts {
            self.push_contrib(y, amount, ContribKind::Normal, self.e.channel, d, ok);
            if ok {
                let fault = self.e.inj == Inj::SubsidyMismatch(0) && !self.subsidy_fault_done;
                self.subsidy_fault_done |= fault;
                self.push_subsidy(y, tier, d, fault);
                self.paid_years.push(y);
            }
        }
        if no_money {
            if let Some(&(d, _)) = attempts.last() {
                // The subsidy was credited although no deduction went through.
                self.push_subsidy(y, tier, d, false);
                self.subsidy_fault_done = true;
            }
        }
    }

    /// BAD_CONTRIBUTION: the bank kept deducting after the payer died.
    fn paid_after_death(&mut self, y: i32) {
        let Some(d) = self.p.death else { return };
        let when =
            (d + days(self.rng.random_range(1..=5))).min(super::calendar::last_day(ym_of(d)));
        let tier = self.tier_in(y);
        self.push_contrib(
            y,
            Decimal::from(tier),
            ContribKind::Normal,
            self.e.channel,
            when,
            true,
        );
        self.push_subsidy(y, tier, when, false);
    }

    /// BAD_CONTRIBUTION: a normal contribution for the year after the 60th-birthday
    /// year, taken after the pension started.
    fn contribution_after_sixty(&mut self) {
        let (Some(s), y) = (self.e.start, self.p.sixtieth().year() + 1) else {
            return;
        };
        let lo = (first_day(s) + days(45)).max(date(y, 1, 1));
        let hi = date(y, 9, 30).min(self.ctx.t_end);
        if lo < hi {
            let d = between(self.rng, lo, hi);
            let tier = self.tier_in(y);
            self.push_contrib(
                y,
                Decimal::from(tier),
                ContribKind::Normal,
                self.e.channel,
                d,
                true,
            );
            // Subsidised at the tier standard, so the only finding is the contribution.
            self.push_subsidy(y, tier, d, false);
        }
    }

    /// Back-payment (补缴) of the missing years by those who were less than 15 years
    /// from 60 when the scheme began.
    fn backpay(&mut self) {
        let old = self.p.birth <= self.ctx.old_born_by;
        let forced = self.e.inj == Inj::SubsidyMismatch(1);
        let (y0, y1) = self.e.years;
        let missing = 15 - (y1 - y0 + 1);
        if old || self.p.birth >= date(1966, 7, 1) || missing <= 0 || y0 > y1 {
            return;
        }
        if !forced && (!self.quiet() || !self.rng.random_bool(0.3)) {
            return;
        }
        let room = ((self.stop().min(self.ctx.t_end) - self.e.enroll).num_days() - 1).min(59);
        if room < 10 {
            return;
        }
        let d = self.e.enroll + days(self.rng.random_range(10..=room));
        let mut years: Vec<i32> = (2011..y0).collect();
        let mut y = 2010;
        while (years.len() as i32) < missing {
            years.push(y);
            y -= 1;
        }
        years.truncate(missing as usize);
        years.sort_unstable();
        let tier = self.e.tier;
        for (i, &year) in years.iter().enumerate() {
            self.push_contrib(
                year,
                Decimal::from(tier),
                ContribKind::Backpay,
                Channel::Bank,
                d,
                true,
            );
            if forced && i == 0 {
                // SUBSIDY_MISMATCH: a subsidy granted on a back-paid year.
                self.push_subsidy(year, tier, d, false);
                self.subsidy_fault_done = true;
            }
        }
    }

    /// Prepayment (预缴) of two or three future years, paid in November–December.
    fn prepay(&mut self) {
        let e = self.e;
        let ok = e.channel == Channel::Bank
            && self.quiet()
            && e.looks.is_empty()
            && e.cancel.is_none()
            && self.p.death.is_none()
            && self.p.moved.is_none()
            && self.p.birth > self.ctx.old_born_by
            && e.start.is_none();
        if !ok || !self.rng.random_bool(0.02) {
            return;
        }
        let t_year =
            year_of(self.ctx.t) - i32::from(date(year_of(self.ctx.t), 10, 31) > self.ctx.t_end);
        let last = (e.years.1 - 1).min(t_year);
        let first = e.years.0.max(2012);
        if first + 2 > last {
            return;
        }
        let y0 = self.rng.random_range(first..=last - 2);
        let k = self.rng.random_range(2..=3).min(last - y0);
        let paid = between(self.rng, date(y0, 11, 10), date(y0, 12, 20));
        if paid < e.enroll {
            return;
        }
        let tier = self.tier_in(y0);
        for y in y0 + 1..=y0 + k {
            self.push_contrib(
                y,
                Decimal::from(tier),
                ContribKind::Prepay,
                Channel::Bank,
                paid,
                true,
            );
            // The year's share reaches the individual account on 31 October of the year.
            let moved = date(y, 10, 31);
            self.credits.push((moved, INDIVIDUAL, Decimal::from(tier)));
            self.push_subsidy(y, tier, moved, false);
            self.prepaid.push(y);
            self.paid_years.push(y);
        }
    }

    fn transfer_in(&mut self) {
        let e = self.e;
        if self.p.birth <= self.ctx.old_born_by
            || !self.quiet()
            || e.enroll < date(2012, 1, 1)
            || !self.rng.random_bool(0.015)
        {
            return;
        }
        let d = e.enroll + days(self.rng.random_range(20..90));
        if d >= self.stop() || d > self.ctx.t_end {
            return;
        }
        let amount = yuan_fen(self.rng.random_range(50_000..800_000));
        let counterpart = OTHER_REGIONS[self.rng.random_range(0..OTHER_REGIONS.len())].1;
        self.r.transfers.push(Transfer {
            out: false,
            counterpart,
            amount,
            date: d,
        });
        self.credits.push((d, TRANSFERRED, amount));
    }

    /// Village collective subsidies, paid on 10 December for each year contributed.
    fn collective(&mut self) {
        let Some(c) = self.geo.villages[self.e.village].collective else {
            return;
        };
        let mut years = std::mem::take(&mut self.paid_years);
        years.sort_unstable();
        years.dedup();
        let stop = self.stop();
        for y in years {
            let d = date(y, 12, 10);
            if d < stop && d <= self.ctx.t_end {
                let amount = Decimal::from(c);
                self.r.collective.push(CollectiveSub {
                    year: y,
                    amount,
                    date: d,
                });
                self.credits.push((d, COLLECTIVE, amount));
            }
        }
    }

    /// Runs the account up to the benefit start and fixes the approval. Returns the
    /// account and the credits left for after the start.
    fn approve(&mut self) -> (Account, Vec<Posting>) {
        let mut credits = std::mem::take(&mut self.credits);
        credits.sort_by_key(|c| c.0);
        let start = self.e.start;
        // Everything happens after registration, so the account opens that month.
        let mut acct = Account::new(ym_of(self.e.enroll));
        let mut later = Vec::new();
        for (d, sub, amount) in credits {
            let m = ym_of(d);
            if start.is_some_and(|s| m >= s) {
                later.push(Posting::Credit {
                    month: m,
                    sub,
                    amount,
                });
            } else {
                acct.roll_to(m);
                acct.credit(sub, amount);
            }
        }
        if let Some(s) = start {
            acct.roll_to(s);
            acct.settle();
            let balance = acct.total();
            self.r.approval = Some(Approval {
                start: s,
                basic: standard(s),
                monthly: monthly_pension(balance),
                balance,
                date: day_in(s, self.rng.random_range(1..=5)),
            });
        }
        (acct, later)
    }

    fn last_paid_month(&self, s: Ym) -> Ym {
        let mut last = self.ctx.t;
        if let Some(d) = self.p.death {
            let extra = match self.e.inj {
                Inj::PaidAfterDeath { months, .. } => months,
                _ => 0,
            };
            last = last.min(ym_of(d) + extra);
        }
        last.max(s - 1)
    }

    /// Certifications, suspensions and payouts; returns every account posting from the
    /// start month on (credits after the start and the pensions paid).
    fn benefits(&mut self, mut later: Vec<Posting>) -> Vec<Posting> {
        let Some(appr) = self.r.approval.clone() else {
            return later;
        };
        let s = appr.start;
        let last = self.last_paid_month(s);
        let prison = self.p.prison.map(|(a, r)| (ym_of(a), r.map(ym_of)));
        if let Some((a, r)) = prison {
            let overlaps = a <= last && r.is_none_or(|r| r >= s);
            if overlaps && self.e.inj != Inj::SuspendedPaid(2) {
                let end = r.map(|r| r + 1).filter(|&x| x <= self.ctx.t);
                self.r.suspensions.push(Suspension {
                    reason: SuspReason::Prison,
                    start: a.max(s),
                    end,
                });
            }
        }
        let (late, paid_despite) = self.certifications(s, last);
        let batch = 8 + (self.town % 5) as u32;
        for m in s..=last {
            if let Some((a, r)) = prison {
                if m >= a && r.is_none_or(|r| m <= r) {
                    let pay = match self.e.inj {
                        Inj::SuspendedPaid(0) => m == a.max(s),
                        Inj::SuspendedPaid(2) => true,
                        _ => false,
                    };
                    if !pay {
                        continue;
                    }
                }
            }
            let suspended = late.iter().any(|&(ms, c)| m >= ms && m < c);
            if !suspended || paid_despite == Some(m) {
                self.regular_payment(&appr, m, day_in(m, batch));
            }
            for &(ms, c) in &late {
                if c == m {
                    for bm in ms..c {
                        if paid_despite != Some(bm) {
                            self.push_payout(
                                bm,
                                standard(bm),
                                appr.monthly,
                                day_in(m, batch),
                                true,
                            );
                        }
                    }
                }
            }
        }
        for p in &self.r.payouts {
            if p.ok {
                later.push(Posting::Debit {
                    month: ym_of(p.date),
                    amount: p.account,
                });
            }
        }
        later
    }

    fn push_payout(&mut self, month: Ym, basic: Decimal, account: Decimal, d: NaiveDate, ok: bool) {
        let bank = u8::from(self.bank_change.is_some_and(|c| d >= c));
        self.r.payouts.push(Payout {
            month,
            basic,
            account,
            date: d,
            ok,
            bank,
        });
    }

    fn regular_payment(&mut self, appr: &Approval, m: Ym, d: NaiveDate) {
        let (mut basic, mut account) = (standard(m), appr.monthly);
        if let Inj::AmountMismatch {
            month,
            months,
            early_raise,
        } = self.e.inj
        {
            if m >= month && m < month + months {
                if early_raise {
                    basic = standard(m + 1);
                } else {
                    account += Decimal::from(10 * (1 + month.rem_euclid(5)));
                }
            }
        }
        if self.quiet() && self.rng.random_bool(0.003) {
            // The bank bounced the payment; it was paid again later in the month.
            self.push_payout(m, basic, account, d, false);
            self.push_payout(m, basic, account, day_in(m, 25), true);
            return;
        }
        self.push_payout(m, basic, account, d, true);
        if self.e.inj == (Inj::DupPayment { month: m }) {
            self.push_payout(m, basic, account, d + days(3), true);
        }
        if let Some(death) = self.p.death {
            if ym_of(death) == m && d > death && self.quiet() {
                self.r.looks.push(LookNote {
                    kind: "death_month_paid",
                    note: format!(
                        "died {}, pension for {} paid {} (payable)",
                        iso(death),
                        month_text(m),
                        iso(d)
                    ),
                });
            }
        }
    }

    /// Yearly survival certification from the second calendar year of benefits.
    /// Returns the uncertified suspensions (May, resumption month) and a month paid
    /// despite its suspension, if any.
    fn certifications(&mut self, s: Ym, last: Ym) -> (Vec<(Ym, Ym)>, Option<Ym>) {
        let mut late = Vec::new();
        let mut paid_despite = None;
        for y in year_of(s) + 1..=year_of(last) {
            if self.p.death.is_some_and(|d| d < date(y, 1, 5)) {
                continue;
            }
            let alive_all_year = self.p.death.is_none_or(|d| d > date(y, 12, 31));
            let prison_in_year = self
                .p
                .prison
                .is_some_and(|(a, r)| a <= date(y, 12, 31) && r.is_none_or(|r| r >= date(y, 1, 1)));
            let late_possible = ym(y, 9) <= self.ctx.t && alive_all_year && !prison_in_year;
            match self.e.inj {
                Inj::UncertifiedPaid { year, late_month } if year == y => {
                    if late_month > 0 && ym(y, late_month) <= self.ctx.t {
                        let day = self.rng.random_range(1..=5);
                        self.push_cert(y, date(y, late_month, day));
                    }
                    continue;
                }
                Inj::SuspendedPaid(1) if y == year_of(s) + 1 && late_possible => {
                    let c = 7;
                    self.late_cert(y, c, &mut late);
                    paid_despite = Some(ym(y, 5));
                    continue;
                }
                _ => {}
            }
            if late_possible && self.quiet() && self.rng.random_bool(0.012) {
                let c = self.rng.random_range(6..=9);
                let cd = self.late_cert(y, c, &mut late);
                self.r.looks.push(LookNote { kind: "late_certifier_paid_back", note: format!("uncertified by 30 April {y}, suspended from {y}-05, certified {}, back pay made", iso(cd)) });
                continue;
            }
            self.normal_cert(y);
        }
        (late, paid_despite)
    }

    fn late_cert(&mut self, y: i32, c: u32, late: &mut Vec<(Ym, Ym)>) -> NaiveDate {
        let cd = date(y, c, self.rng.random_range(1..=5));
        self.push_cert(y, cd);
        self.r.suspensions.push(Suspension {
            reason: SuspReason::Uncertified,
            start: ym(y, 5),
            end: Some(ym(y, c)),
        });
        late.push((ym(y, 5), ym(y, c)));
        cd
    }

    fn normal_cert(&mut self, y: i32) {
        let mut d = between(self.rng, date(y, 1, 5), date(y, 4, 28));
        if let Some((a, r)) = self.p.prison {
            if d >= a && r.is_none_or(|r| d <= r) {
                match r {
                    Some(r) if r.year() == y => d = r + days(2),
                    _ => return,
                }
            }
        }
        if d > self.ctx.t_end || self.p.death.is_some_and(|x| x <= d) {
            return;
        }
        if self.rng.random_bool(0.01) && d > date(y, 1, 25) {
            let f = d - days(self.rng.random_range(7..20));
            self.r.certs.push(Cert {
                year: y,
                date: f,
                method: 2,
                pass: false,
            });
        }
        self.push_cert(y, d);
    }

    fn push_cert(&mut self, y: i32, d: NaiveDate) {
        let age = super::calendar::age_on(self.p.birth, d);
        let x = self.rng.random_range(0..100);
        let method = if age >= 80 && x < 50 {
            1
        } else {
            match x {
                0..45 => 3,
                45..75 => 0,
                75..90 => 2,
                _ => 1,
            }
        };
        self.r.certs.push(Cert {
            year: y,
            date: d,
            method,
            pass: true,
        });
    }

    /// Posts everything after the start, then settles and closes on cancellation.
    fn post_and_cancel(
        &mut self,
        acct: &mut Account,
        mut later: Vec<Posting>,
        spouse: Option<&str>,
    ) {
        let key = |p: &Posting| match *p {
            Posting::Credit { month, .. } => (month, 0),
            Posting::Debit { month, .. } => (month, 1),
        };
        later.sort_by_key(key);
        let stop_month = self.e.cancel.map_or(Ym::MAX, |c| ym_of(c.apply));
        for p in later {
            if key(&p).0 >= stop_month {
                self.r.warnings += 1;
                continue;
            }
            acct.roll_to(key(&p).0.max(acct.open_month()));
            match p {
                Posting::Credit { sub, amount, .. } => acct.credit(sub, amount),
                Posting::Debit { amount, .. } => {
                    acct.debit(amount);
                }
            }
        }
        let Some(c) = self.e.cancel else { return };
        if acct.open_month() > stop_month {
            self.r.warnings += 1;
        }
        acct.roll_to(stop_month);
        acct.settle();
        let bal = acct.balances();
        let total = acct.total();
        let refund = match c.reason {
            CancelReason::Death => total - bal[GOVERNMENT],
            CancelReason::TransferOut => {
                let counterpart = OTHER_REGIONS[self.rng.random_range(0..OTHER_REGIONS.len())].1;
                self.r.transfers.push(Transfer {
                    out: true,
                    counterpart,
                    amount: total,
                    date: c.apply,
                });
                Decimal::ZERO
            }
            _ => total,
        };
        let payee = match (c.reason, spouse) {
            (CancelReason::Death, Some(s)) => s.to_string(),
            (CancelReason::Death, None) => {
                let male = self.rng.random_bool(0.5);
                format!(
                    "{}{}",
                    self.p.name.chars().next().unwrap_or('王'),
                    super::names::given(self.rng, 1975, male)
                )
            }
            _ => self.p.name.clone(),
        };
        self.r.cancellation = Some(Cancellation {
            reason: c.reason,
            event: c.event,
            apply: c.apply,
            refund: fen(refund),
            payee,
        });
        acct.close();
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
