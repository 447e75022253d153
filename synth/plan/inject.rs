//! The injected audit cases: which enrollments carry one (candidates chosen with the
//! person's whole life in view) and how each is planted.

use super::*;
use rand::SeedableRng;

impl Builder<'_> {
    pub(super) fn clean(&self, k: usize) -> bool {
        let e = &self.es[k];
        let p = &self.pop.persons[e.person as usize];
        !self.used[k]
            && !self.person_used[e.person as usize]
            && e.cancel.is_none()
            && p.moved.is_none()
            && p.employee.is_none()
            && p.prison.is_none()
            && p.death.is_none()
            && !p.special
            && p.in_register
    }

    pub(super) fn benef(&self, k: usize) -> bool {
        self.es[k].start.is_some()
    }

    /// Contributor who will not reach benefits within the data.
    pub(super) fn contributor(&self, k: usize) -> bool {
        let e = &self.es[k];
        e.start.is_none() && e.years.0 <= e.years.1 && e.years.0 < year_of(self.ctx.t)
    }

    /// Up to `n` unused enrollments satisfying `pred`, chosen at random and marked used.
    pub(super) fn pick(&mut self, n: usize, pred: impl Fn(&Self, usize) -> bool) -> Vec<usize> {
        let mut c: Vec<usize> = (0..self.es.len())
            .filter(|&k| {
                !self.used[k] && !self.person_used[self.es[k].person as usize] && pred(self, k)
            })
            .collect();
        let n = n.min(c.len());
        let mut c = c.partial_shuffle(&mut self.rng, n).0.to_vec();
        c.sort_unstable();
        for &k in &c {
            self.used[k] = true;
            self.person_used[self.es[k].person as usize] = true;
        }
        c
    }

    pub(super) fn inject_all(&mut self) {
        let n = ((self.pop.persons.len() as u64 * 3 / 1000) as usize).max(3);
        self.inject_ids(n);
        self.inject_deaths(n);
        self.inject_duplicates(n);
        self.inject_shared(n);
        self.inject_payments(n);
        self.inject_moves(n);
        self.inject_contributions(n);
    }

    /// PHOTO_CERT_OVERDUE: beneficiaries since more than 7 years, so that the rule's
    /// 5 years have run out however their first certification fell (the other
    /// beneficiaries are photographed every 4 years: history/benefits.rs).
    /// Planted last, after the look-alikes, on a fork of the plan's random stream,
    /// so that every other case and look-alike stays the one it was before this
    /// check existed.
    pub(super) fn inject_photo(&mut self) {
        let ctx = self.ctx;
        let n = ((self.pop.persons.len() as u64 * 3 / 1000) as usize).max(3);
        let fork = ChaCha8Rng::seed_from_u64(self.rng.clone().random());
        let main = std::mem::replace(&mut self.rng, fork);
        let picked = self.pick(n, |b, k| {
            b.clean(k)
                && b.es[k].looks.is_empty()
                && b.es[k].start.is_some_and(|s| s + 12 * 7 + 6 <= ctx.t)
        });
        self.rng = main;
        for (j, k) in picked.into_iter().enumerate() {
            self.es[k].inj = Inj::PhotoOverdue((j % 2) as u8);
        }
    }

    pub(super) fn inject_ids(&mut self, n: usize) {
        for (j, k) in self
            .pick(n, |b, k| b.clean(k) && (b.benef(k) || b.contributor(k)))
            .into_iter()
            .enumerate()
        {
            let v = (j % 3) as u8;
            let e = &mut self.es[k];
            e.id_text = malformed(&e.id_text, v);
            e.pay_id = e.id_text.clone();
            e.inj = Inj::IdInvalid(v);
        }
        for k in self.pick(n, |b, k| b.clean(k) && (b.benef(k) || b.contributor(k))) {
            self.es[k].inj = Inj::IdUnknown;
            let pi = self.es[k].person as usize;
            self.pop.persons[pi].in_register = false;
        }
        let ctx = self.ctx;
        let picks = self.pick(n, |b, k| {
            let p = &b.pop.persons[b.es[k].person as usize];
            b.clean(k)
                && b.contributor(k)
                && crate::synth::calendar::age_on(p.birth, ctx.t_end) < 57
        });
        for (j, k) in picks.into_iter().enumerate() {
            let v = (j % 3) as u8;
            let p = self.pop.persons[self.es[k].person as usize].clone();
            for attempt in 0..50 {
                let (name, birth) = match v {
                    0 => (
                        names::typo_variant(&mut self.rng, &p.name, p.birth.year(), p.male),
                        p.birth,
                    ),
                    // Written a year too early: never makes a contributor look under 16.
                    2 => (p.name.clone(), p.birth - days(365 + attempt)),
                    _ => (p.name.clone(), p.birth),
                };
                // A misspelt name or date must not coincide with another real person.
                if v == 1 || self.pop.claim_name(&name, birth) {
                    let e = &mut self.es[k];
                    e.name_text = name;
                    e.birth_text = birth;
                    e.male_text = if v == 1 { !p.male } else { p.male };
                    break;
                }
            }
            self.es[k].inj = Inj::IdMismatch(v);
        }
    }

    pub(super) fn dead_with_cancel(&self, k: usize) -> bool {
        let e = &self.es[k];
        let p = &self.pop.persons[e.person as usize];
        !self.used[k]
            && p.in_register
            && !p.special
            && p.prison.is_none()
            && p.employee.is_none()
            && e.cancel.is_some_and(|c| c.reason == CancelReason::Death)
            && p.known_dead()
    }

    pub(super) fn inject_deaths(&mut self, n: usize) {
        let ctx = self.ctx;
        for (j, k) in self
            .pick(n, |b, k| b.dead_with_cancel(k))
            .into_iter()
            .enumerate()
        {
            let _ = j;
            self.es[k].cancel = None;
            self.es[k].inj = Inj::DeceasedActive;
        }
        let picks = self.pick(n, |b, k| {
            let d = b.pop.persons[b.es[k].person as usize].death;
            b.dead_with_cancel(k) && b.benef(k) && d.is_some_and(|d| ym_of(d) + 7 <= ctx.t)
        });
        for (j, k) in picks.into_iter().enumerate() {
            let months = 2 + (j as i32 % 4);
            let late_cancel = j % 2 == 1;
            let d = self.pop.persons[self.es[k].person as usize]
                .death
                .unwrap_or(ctx.t_end);
            self.es[k].cancel = late_cancel.then(|| Cancel {
                reason: CancelReason::Death,
                event: d,
                apply: first_day(ym_of(d) + months + 1) + days(self.rng.random_range(3..15)),
            });
            self.es[k].inj = Inj::PaidAfterDeath {
                months,
                late_cancel,
            };
        }
        let picks = self.pick(n, |b, k| {
            let d = b.pop.persons[b.es[k].person as usize].death;
            b.dead_with_cancel(k) && d.is_some_and(|d| d + days(130) <= ctx.t_end)
        });
        for k in picks {
            let d = self.pop.persons[self.es[k].person as usize]
                .death
                .unwrap_or(ctx.t_end);
            let apply = d + days(
                self.rng
                    .random_range(61..(ctx.t_end - d).num_days().min(200)),
            );
            if let Some(c) = self.es[k].cancel.as_mut() {
                c.apply = apply;
            }
            self.es[k].inj = Inj::LateDeath;
        }
    }

    pub(super) fn next_group(&mut self) -> u32 {
        self.groups += 1;
        self.groups
    }

    /// DUP_ID and DUP_PERSON: a contributor who stopped paying re-enrolls some years
    /// later under a second person number.
    pub(super) fn inject_duplicates(&mut self, n: usize) {
        let ctx = self.ctx;
        let fits = move |b: &Self, k: usize| {
            b.clean(k)
                && b.contributor(k)
                && b.es[k].years.0 + 3 < year_of(ctx.t)
                && b.es[k].years.1 > b.es[k].years.0 + 3
        };
        let groups = n.div_ceil(2);
        for (j, k) in self.pick(groups, fits).into_iter().enumerate() {
            let legacy = j % 2 == 1;
            let mut second = self.second_enrollment(k);
            if legacy {
                if let Some(l) = legacy15(&second.id_text) {
                    second.id_text = l;
                }
            }
            self.add_pair(k, second, Inj::DupId);
        }
        // DUP_PERSON: as many pairs as the other cases (at least one of each
        // variant), each differing in one way a clerk's second record really does.
        let dup_groups = n.max(DupVariant::CYCLE.len());
        let mut counts = [0usize; 9];
        // One person for each variant who can carry it, then the rest at random.
        let mut picks = Vec::new();
        for v in DupVariant::CYCLE {
            picks.extend(self.pick(1, |b, k| fits(b, k) && b.can_carry(k, v)));
        }
        let rest = dup_groups.saturating_sub(picks.len());
        picks.extend(self.pick(rest, fits));
        for k in picks {
            let (second, variant) = self.plant_dup_person(k, &mut counts);
            self.add_pair(k, second, Inj::DupPerson { variant });
        }
    }

    pub(super) fn second_enrollment(&mut self, k: usize) -> Enrollment {
        let first = &self.es[k];
        let y = self.rng.random_range(first.years.0 + 2..=first.years.0 + 3);
        let mut s = first.clone();
        s.enroll = date(
            y,
            self.rng.random_range(1..=3),
            self.rng.random_range(1..=28),
        );
        s.years = (y, first.years.1);
        s.tier = tier(&mut self.rng);
        s.phone = phone(&mut self.rng);
        s.bank = account_no(500_000_000 + self.es.len() as u64);
        s.agreement = s.channel == Channel::Bank;
        s.person_no = self.person_no(first.village);
        self.es[k].years.1 = y - 1;
        s
    }

    pub(super) fn add_pair(&mut self, k: usize, second: Enrollment, inj: Inj) {
        let g = self.next_group();
        self.es[k].inj = inj;
        self.es[k].group = Some(g);
        let mut second = second;
        second.inj = inj;
        second.group = Some(g);
        self.es.push(second);
        self.used.push(true);
    }

    /// SHARED_ACCOUNT: two beneficiaries of different villages, or three of one village,
    /// paid into one card.
    pub(super) fn inject_shared(&mut self, n: usize) {
        let groups = (n * 2).div_ceil(5);
        let mut pool: Vec<usize> = (0..self.es.len())
            .filter(|&k| self.clean(k) && self.benef(k))
            .collect();
        pool.shuffle(&mut self.rng);
        let mut made = 0;
        while made < groups {
            let size = if made % 2 == 0 { 2 } else { 3 };
            let Some(first) = pool.pop() else { return };
            let (v, hh) = (
                self.es[first].village,
                self.pop.persons[self.es[first].person as usize].household,
            );
            let mut members = vec![first];
            for &k in pool.iter().rev() {
                if members.len() == size {
                    break;
                }
                let p = &self.pop.persons[self.es[k].person as usize];
                let village_ok = (self.es[k].village == v) == (size == 3);
                if village_ok && p.household != hh {
                    members.push(k);
                }
            }
            if members.len() < size {
                continue;
            }
            pool.retain(|k| !members.contains(k));
            let g = self.next_group();
            let bank = self.es[first].bank.clone();
            for k in members {
                self.used[k] = true;
                self.person_used[self.es[k].person as usize] = true;
                let e = &mut self.es[k];
                e.bank = bank.clone();
                e.inj = Inj::SharedAccount;
                e.group = Some(g);
                e.fixed_bank = true;
            }
            made += 1;
        }
    }

    pub(super) fn inject_payments(&mut self, n: usize) {
        let ctx = self.ctx;
        let long_benef = move |b: &Self, k: usize, months: i32| {
            b.clean(k) && b.es[k].start.is_some_and(|s| s + months <= ctx.t)
        };
        for (j, k) in self
            .pick(n, |b, k| long_benef(b, k, 10))
            .into_iter()
            .enumerate()
        {
            let s = self.es[k].start.unwrap_or(ctx.t);
            // Joined on the 1st, so "months covered" cannot depend on a day count.
            let from = first_day(ym_of(between(
                &mut self.rng,
                first_day(s + 2),
                last_day(ctx.t - 6),
            )));
            let status = if j % 2 == 0 {
                EmpStatus::Receiving
            } else {
                EmpStatus::Contributing
            };
            let employer = j % super::super::geo::EMPLOYERS.len();
            self.pop.persons[self.es[k].person as usize].employee = Some(EmpSpell {
                status,
                start: from,
                end: None,
                employer,
            });
            self.es[k].inj = Inj::DualPension;
        }
        let young_benef = move |b: &Self, k: usize| {
            let p = &b.pop.persons[b.es[k].person as usize];
            long_benef(b, k, 3)
                && p.birth > ctx.old_born_by
                && b.es[k]
                    .start
                    .is_some_and(|s| s - 9 > ym_of(b.es[k].enroll) + 1)
        };
        for (j, k) in self.pick(n, young_benef).into_iter().enumerate() {
            self.es[k].inj = Inj::Underage {
                months: 2 + (j as i32 % 6),
            };
        }
        for (j, k) in self
            .pick(n, |b, k| long_benef(b, k, 30))
            .into_iter()
            .enumerate()
        {
            let v = (j % 3) as u8;
            if v != 1 {
                let s = self.es[k].start.unwrap_or(ctx.t);
                let adm_month = self.rng.random_range(s + 2..=ctx.t - 10);
                let adm = date(
                    year_of(adm_month),
                    crate::synth::calendar::month_of(adm_month),
                    self.rng.random_range(1..=7),
                );
                let rel = adm + days(self.rng.random_range(95..200));
                self.pop.persons[self.es[k].person as usize].prison = Some((adm, Some(rel)));
            }
            self.es[k].inj = Inj::SuspendedPaid(v);
        }
        for (j, k) in self
            .pick(n, |b, k| long_benef(b, k, 40))
            .into_iter()
            .enumerate()
        {
            let s = self.es[k].start.unwrap_or(ctx.t);
            // From the second calendar year after the start, so the case holds whether
            // "second year of benefits" is read by calendar or by anniversary.
            let year = self.rng.random_range(year_of(s) + 2..=year_of(ctx.t - 9));
            let late_month = if j % 2 == 0 { 0 } else { 9 };
            self.es[k].inj = Inj::UncertifiedPaid { year, late_month };
        }
        for (j, k) in self
            .pick(n, |b, k| long_benef(b, k, 8))
            .into_iter()
            .enumerate()
        {
            let s = self.es[k].start.unwrap_or(ctx.t);
            let raise = STANDARDS
                .iter()
                .map(|&(y, m, _)| ym(y, m))
                .find(|&r| r > s && r <= ctx.t);
            let early = j % 2 == 1 && raise.is_some();
            let month = if early {
                raise.unwrap_or(s) - 1
            } else {
                self.rng.random_range(s..=ctx.t - 3)
            };
            self.es[k].inj = Inj::AmountMismatch {
                month,
                months: if early { 1 } else { 1 + j as i32 % 3 },
                early_raise: early,
            };
        }
        for k in self.pick(n, |b, k| long_benef(b, k, 4)) {
            let s = self.es[k].start.unwrap_or(ctx.t);
            let month = self.rng.random_range(s..=ctx.t - 1);
            self.es[k].inj = Inj::DupPayment { month };
        }
    }

    pub(super) fn inject_moves(&mut self, n: usize) {
        let ctx = self.ctx;
        for (j, k) in self
            .pick(n, |b, k| b.clean(k) && (b.contributor(k) || b.benef(k)))
            .into_iter()
            .enumerate()
        {
            let emigrated = j % 3 == 2 || self.es[k].start.is_some();
            let e = &self.es[k];
            let p = &self.pop.persons[e.person as usize];
            let lo = e.enroll + days(200);
            let hi = (ctx.t_end - days(90)).min(if e.start.is_some() {
                ctx.t_end
            } else {
                p.sixtieth() - days(400)
            });
            if lo >= hi {
                continue;
            }
            let d = between(&mut self.rng, lo, hi);
            let kind = if emigrated {
                RegMove::Emigrated
            } else {
                RegMove::MovedOut
            };
            self.pop.persons[e.person as usize].moved = Some((kind, d));
            self.es[k].inj = Inj::MovedOutActive { emigrated };
        }
    }

    pub(super) fn inject_contributions(&mut self, n: usize) {
        let bad = [Cand::AfterDeath, Cand::Before16, Cand::After60];
        for (k, v) in self.pick_variants(n, &bad) {
            if v == 1 {
                let b16 = add_years(self.pop.persons[self.es[k].person as usize].birth, 16);
                let e = &mut self.es[k];
                e.enroll = b16 - days(self.rng.random_range(40..90));
                e.years.0 = e.enroll.year();
            }
            self.es[k].inj = Inj::BadContribution(v);
        }
        let subsidy = [Cand::Backpay, Cand::BankContributor, Cand::Contributor];
        // Variant numbers: 1 back-paid year, 2 no successful deduction, 0 doubled amount.
        for (k, v) in self.pick_variants(n, &subsidy) {
            self.es[k].inj = Inj::SubsidyMismatch([1, 2, 0][v as usize]);
        }
    }

    pub(super) fn candidate(&self, c: Cand, k: usize) -> bool {
        match c {
            Cand::AfterDeath => self.cand_after_death(k),
            Cand::Before16 => self.cand_before16(k),
            Cand::After60 => self.cand_after60(k),
            Cand::Backpay => self.cand_backpay(k),
            Cand::BankContributor => self.cand_bank_contributor(k),
            Cand::Contributor => self.clean(k) && self.contributor(k),
        }
    }

    /// A contributor who died (Feb–Sep, by the 25th) in a later year of contributing:
    /// the bank can still deduct after the death.
    pub(super) fn cand_after_death(&self, k: usize) -> bool {
        let e = &self.es[k];
        let d = self.pop.persons[e.person as usize].death;
        self.dead_with_cancel(k)
            && e.start.is_none()
            && d.is_some_and(|d| {
                (2..=9).contains(&d.month())
                    && d.day() <= 25
                    && d.year() > e.years.0
                    && d.year() <= e.years.1
            })
    }

    /// A contributor whose 16th birthday (April–October) falls well inside the data.
    pub(super) fn cand_before16(&self, k: usize) -> bool {
        let p = &self.pop.persons[self.es[k].person as usize];
        let b16 = add_years(p.birth, 16);
        self.clean(k)
            && self.contributor(k)
            && (4..=10).contains(&b16.month())
            && b16 > self.ctx.scheme_start + days(120)
            && b16 + days(400) < self.ctx.t_end
    }

    /// A beneficiary with room for a deduction in the year after the 60th-birthday year.
    pub(super) fn cand_after60(&self, k: usize) -> bool {
        let e = &self.es[k];
        let p = &self.pop.persons[e.person as usize];
        let y = p.sixtieth().year() + 1;
        self.clean(k)
            && p.birth > self.ctx.old_born_by
            && e.start.is_some_and(|s| {
                first_day(s) + days(45) < date(y, 9, 20) && ym(y, 11) <= self.ctx.t
            })
    }

    pub(super) fn cand_backpay(&self, k: usize) -> bool {
        let p = &self.pop.persons[self.es[k].person as usize];
        let e = &self.es[k];
        self.clean(k)
            && e.years.0 <= e.years.1
            && e.enroll + days(40) < p.sixtieth()
            && p.birth > self.ctx.old_born_by
            && p.birth < date(1966, 7, 1)
            && e.years.1 - e.years.0 + 1 < 15
    }

    pub(super) fn cand_bank_contributor(&self, k: usize) -> bool {
        let e = &self.es[k];
        self.clean(k)
            && self.contributor(k)
            && e.channel == Channel::Bank
            && e.years.0 + 1 < e.years.1.min(year_of(self.ctx.t))
    }

    /// Spreads `n` picks over variant predicates; a variant short of candidates leaves
    /// its share to the next ones. Returns (enrollment, variant index).
    pub(super) fn pick_variants(&mut self, n: usize, preds: &[Cand]) -> Vec<(usize, u8)> {
        let mut out = Vec::new();
        let mut left = n;
        for (i, pred) in preds.iter().enumerate() {
            let want = left.div_ceil(preds.len() - i);
            let pred = *pred;
            let picked = self.pick(want, move |b, k| b.candidate(pred, k));
            left -= picked.len();
            out.extend(picked.into_iter().map(|k| (k, i as u8)));
        }
        out
    }
}
