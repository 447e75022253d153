//! One enrollment's benefits: the approval, monthly payouts, certification, and the
//! closing postings and cancellation, with their injected cases.

use super::*;

impl Life<'_> {
    /// Runs the account up to the benefit start and fixes the approval. Returns the
    /// account and the credits left for after the start.
    pub(super) fn approve(&mut self) -> (Account, Vec<Posting>) {
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

    pub(super) fn last_paid_month(&self, s: Ym) -> Ym {
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
    pub(super) fn benefits(&mut self, mut later: Vec<Posting>) -> Vec<Posting> {
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

    pub(super) fn push_payout(
        &mut self,
        month: Ym,
        basic: Decimal,
        account: Decimal,
        d: NaiveDate,
        ok: bool,
    ) {
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

    pub(super) fn regular_payment(&mut self, appr: &Approval, m: Ym, d: NaiveDate) {
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
    pub(super) fn certifications(&mut self, s: Ym, last: Ym) -> (Vec<(Ym, Ym)>, Option<Ym>) {
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

    pub(super) fn late_cert(&mut self, y: i32, c: u32, late: &mut Vec<(Ym, Ym)>) -> NaiveDate {
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

    pub(super) fn normal_cert(&mut self, y: i32) {
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

    pub(super) fn push_cert(&mut self, y: i32, d: NaiveDate) {
        let age = super::super::calendar::age_on(self.p.birth, d);
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
        let method = self.photo_rule(y, method);
        self.r.certs.push(Cert {
            year: y,
            date: d,
            method,
            pass: true,
        });
    }

    /// Rules 第三十四条: a photo certification (照相认证, method 2) at least once in
    /// 5 years. The centre photographs a beneficiary whose last photo — or the
    /// application's, at the start of benefits — is 4 calendar years old, so a yearly
    /// certification never leaves 5 years without one; a PHOTO_CERT_OVERDUE case is
    /// never photographed again (variant 0) or only in its first year (variant 1).
    /// The method drawn is only replaced, so the random stream stays as it was.
    fn photo_rule(&self, y: i32, drawn: u8) -> u8 {
        const PHOTO: u8 = 2;
        let start = self.r.approval.as_ref().map_or(y, |a| year_of(a.start));
        let first_year = y == start + 1;
        let last_photo = self
            .r
            .certs
            .iter()
            .filter(|c| c.pass && c.method == PHOTO)
            .map(|c| c.year)
            .max()
            .unwrap_or(start);
        let not_photo = |m: u8| if m == PHOTO { 0 } else { m };
        match self.e.inj {
            Inj::PhotoOverdue(0) => not_photo(drawn),
            Inj::PhotoOverdue(_) if first_year => PHOTO,
            Inj::PhotoOverdue(_) => not_photo(drawn),
            _ if y - last_photo >= 4 => PHOTO,
            _ => drawn,
        }
    }

    /// Posts everything after the start, then settles and closes on cancellation.
    pub(super) fn post_and_cancel(
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
                    super::super::names::given(self.rng, 1975, male)
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
}
