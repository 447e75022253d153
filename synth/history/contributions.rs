//! One enrollment's contributions and what comes with them: bank attempts, receipts,
//! the contribution subsidy, back-payment, prepayment, transfers in and collective
//! subsidies, with their injected cases.

use super::*;

impl Life<'_> {
    pub(super) fn push_contrib(
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
    pub(super) fn push_subsidy(&mut self, year: i32, tier: u32, d: NaiveDate, fault: bool) {
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

    pub(super) fn bank_attempts(
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

    pub(super) fn contributions(&mut self) {
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
                hi = hi.min(super::super::calendar::add_years(self.p.birth, 16) - days(1));
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

    pub(super) fn contribution_year(
        &mut self,
        y: i32,
        lo: NaiveDate,
        hi: NaiveDate,
        force_ok: bool,
    ) {
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
    pub(super) fn paid_after_death(&mut self, y: i32) {
        let Some(d) = self.p.death else { return };
        let when = (d + days(self.rng.random_range(1..=5)))
            .min(super::super::calendar::last_day(ym_of(d)));
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
    pub(super) fn contribution_after_sixty(&mut self) {
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
    pub(super) fn backpay(&mut self) {
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
    pub(super) fn prepay(&mut self) {
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

    pub(super) fn transfer_in(&mut self) {
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
    pub(super) fn collective(&mut self) {
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
}
