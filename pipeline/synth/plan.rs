//! Who enrolls, when, on which terms, and which enrollments carry an injected audit
//! case or a deliberate look-alike. Everything here is decided before any record is
//! written, so candidates for a case can be chosen with their whole life in view.

use super::calendar::{add_years, date, days, first_day, last_day, year_of, ym, ym_of, Ym};
use super::geo::{Geo, COUNTY_CODE, OTHER_REGIONS};
use super::names;
use super::params::{STANDARDS, TIERS, TIER_WEIGHTS};
use super::population::{between, EmpSpell, EmpStatus, Hukou, Person, Population, RegMove};
use chrono::{Datelike, NaiveDate};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

#[path = "dup_variants.rs"]
mod dup_variants;
pub use dup_variants::DupVariant;

/// The report horizon and fixed dates every stage needs.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// Last month with data (through-month).
    pub t: Ym,
    pub t_end: NaiveDate,
    pub scheme_start: NaiveDate,
    pub old_born_by: NaiveDate,
}

impl Ctx {
    pub fn new(year: i32, month: u32) -> Ctx {
        let t = ym(year, month);
        Ctx {
            t,
            t_end: last_day(t),
            scheme_start: date(2011, 7, 1),
            old_born_by: date(1951, 6, 30),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Bank,
    Receipt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelReason {
    Death,
    Emigration,
    HukouChange,
    TransferOut,
    EmployeePension,
}

impl CancelReason {
    pub fn zh(self) -> &'static str {
        match self {
            CancelReason::Death => "死亡",
            CancelReason::Emigration => "出国(境)定居",
            CancelReason::HukouChange => "户籍性质变更",
            CancelReason::TransferOut => "跨县转出",
            CancelReason::EmployeePension => "参加职工养老保险",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Cancel {
    pub reason: CancelReason,
    pub event: NaiveDate,
    pub apply: NaiveDate,
}

/// An injected audit case, with its variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inj {
    None,
    IdInvalid(u8),
    IdUnknown,
    IdMismatch(u8),
    DeceasedActive,
    PaidAfterDeath {
        months: i32,
        late_cancel: bool,
    },
    DupId,
    DupPerson {
        variant: DupVariant,
    },
    SharedAccount,
    DualPension,
    Underage {
        months: i32,
    },
    SuspendedPaid(u8),
    UncertifiedPaid {
        year: i32,
        late_month: u32,
    },
    AmountMismatch {
        month: Ym,
        months: i32,
        early_raise: bool,
    },
    DupPayment {
        month: Ym,
    },
    MovedOutActive {
        emigrated: bool,
    },
    LateDeath,
    BadContribution(u8),
    SubsidyMismatch(u8),
}

/// Deliberate look-alikes that a correct audit must not flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Look {
    CoupleAccount,
    TradName,
    NameVariant,
    Twin,
    TwinSameSound,
    Legacy15,
    IdFormat,
    MovedBeneficiary,
}

impl Look {
    pub fn code(self) -> &'static str {
        match self {
            Look::CoupleAccount => "couple_shared_account",
            Look::TradName => "traditional_name",
            Look::NameVariant => "name_spacing_or_dot",
            Look::Twin => "twins",
            Look::TwinSameSound => "twins_names_sound_alike",
            Look::Legacy15 => "legacy_15_digit_id",
            Look::IdFormat => "id_formatting",
            Look::MovedBeneficiary => "beneficiary_moved_out",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Enrollment {
    pub person: u32,
    pub person_no: String,
    /// ID number as typed on the enrollment form (may be legacy, malformed, variant).
    pub id_text: String,
    /// ID number the bank and payment files carry.
    pub pay_id: String,
    pub name_text: String,
    pub male_text: bool,
    pub birth_text: NaiveDate,
    /// Village at enrollment (the register may show a later move).
    pub village: usize,
    pub hukou: Hukou,
    pub enroll: NaiveDate,
    pub tier: u32,
    pub channel: Channel,
    pub bank: String,
    pub agreement: bool,
    pub phone: String,
    pub address: String,
    /// First month of benefits, when that is within the data.
    pub start: Option<Ym>,
    pub cancel: Option<Cancel>,
    /// Contribution years allowed (inclusive); empty when from > to.
    pub years: (i32, i32),
    pub inj: Inj,
    /// DUP_ID / DUP_PERSON / SHARED_ACCOUNT group number (for the note).
    pub group: Option<u32>,
    pub looks: Vec<Look>,
    /// (new village, date) of a move within the county.
    pub village_move: Option<(usize, NaiveDate)>,
    /// Bank account must not change (shared accounts).
    pub fixed_bank: bool,
}

impl Enrollment {
    pub fn is_old(&self, p: &Person, ctx: &Ctx) -> bool {
        p.birth <= ctx.old_born_by
    }
}

pub struct Plan {
    pub enrollments: Vec<Enrollment>,
}

/// A 19-digit bank card number, unique for each `k`: an affine map modulo 10^15 with a
/// multiplier coprime to 10 permutes the residues, so numbers never collide and do
/// not look sequential.
pub fn account_no(k: u64) -> String {
    let x = (k as u128 * 614_889_782_588_491 + 93_174_411_725) % 1_000_000_000_000_000;
    format!("6217{x:015}")
}

fn phone<R: Rng>(rng: &mut R) -> String {
    let heads = [
        "133", "135", "137", "138", "139", "150", "152", "158", "176", "185", "187", "189", "199",
    ];
    format!(
        "{}{:08}",
        heads[rng.random_range(0..heads.len())],
        rng.random_range(0..100_000_000u32)
    )
}

fn address<R: Rng>(rng: &mut R, geo: &Geo, v: usize) -> String {
    format!(
        "{}{}{}{}组{}号",
        super::geo::COUNTY,
        geo.township_of(v).name,
        geo.villages[v].name,
        rng.random_range(1..12),
        rng.random_range(1..80)
    )
}

fn tier<R: Rng>(rng: &mut R) -> u32 {
    let total: u32 = TIER_WEIGHTS.iter().sum();
    let mut x = rng.random_range(0..total);
    for (i, w) in TIER_WEIGHTS.iter().enumerate() {
        if x < *w {
            return TIERS[i].0;
        }
        x -= w;
    }
    100
}

/// Legacy 15-digit form of an 18-digit number of a person born 1900–1999.
pub fn legacy15(id18: &str) -> Option<String> {
    (id18.len() == 18 && &id18[6..8] == "19").then(|| format!("{}{}", &id18[..6], &id18[8..17]))
}

/// The month after the 60th birthday, or for the old cohort the month after enrolling.
pub fn natural_start(p: &Person, enroll: NaiveDate, ctx: &Ctx) -> Ym {
    if p.birth <= ctx.old_born_by {
        ym_of(enroll) + 1
    } else {
        ym_of(p.birth) + 60 * 12 + 1
    }
}

/// Death cancellation applied normally: after the death month's payment, within 60 days.
pub fn normal_death_apply<R: Rng>(rng: &mut R, death: NaiveDate) -> NaiveDate {
    let next = first_day(ym_of(death) + 1);
    (next + days(rng.random_range(0..12)))
        .max(death + days(15))
        .min(death + days(58))
}

/// Candidate tests for injected cases that come in variants.
#[derive(Clone, Copy)]
enum Cand {
    AfterDeath,
    Before16,
    After60,
    Backpay,
    BankContributor,
    Contributor,
}

struct Builder<'a> {
    ctx: Ctx,
    geo: &'a Geo,
    pop: &'a mut Population,
    rng: ChaCha8Rng,
    es: Vec<Enrollment>,
    used: Vec<bool>,
    person_used: Vec<bool>,
    serial: Vec<u32>,
    groups: u32,
}

pub fn build(ctx: Ctx, geo: &Geo, pop: &mut Population, rng: ChaCha8Rng) -> Plan {
    let mut b = Builder {
        ctx,
        geo,
        pop,
        rng,
        es: Vec::new(),
        used: Vec::new(),
        person_used: Vec::new(),
        serial: vec![0; geo.townships.len()],
        groups: 0,
    };
    b.person_used = vec![false; b.pop.persons.len()];
    for i in 0..b.pop.persons.len() {
        if let Some(e) = b.base(i as u32) {
            b.es.push(e);
        }
    }
    b.life_cancellations();
    b.used = vec![false; b.es.len()];
    b.inject_all();
    b.lookalikes();
    b.dup_lookalikes();
    b.village_moves();
    b.finalize();
    Plan { enrollments: b.es }
}

impl Builder<'_> {
    fn person_no(&mut self, village: usize) -> String {
        let t = self.geo.villages[village].township;
        self.serial[t] += 1;
        format!("4117250{:02}{:07}", t + 1, self.serial[t])
    }

    /// The enrollment of person `i`, if they are eligible and choose to enroll.
    fn base(&mut self, i: u32) -> Option<Enrollment> {
        let ctx = self.ctx;
        let p = &self.pop.persons[i as usize];
        let active_employee = p.employee.is_some_and(|s| s.status != EmpStatus::Ended);
        if p.in_school || active_employee || matches!(p.moved, Some((RegMove::Cancelled, _))) {
            return None;
        }
        let old = p.birth <= ctx.old_born_by;
        let earliest = ctx.scheme_start.max(add_years(p.birth, 16));
        let mut latest = ctx.t_end;
        if let Some(d) = p.death {
            latest = latest.min(d - days(1));
        }
        if let Some((_, d)) = p.moved {
            latest = latest.min(d - days(1));
        }
        if !old {
            latest = latest.min(p.sixtieth() - days(60));
        }
        if earliest > latest || !(p.special || self.rng.random_bool(if old { 0.93 } else { 0.85 }))
        {
            return None;
        }
        let rng = &mut self.rng;
        let enroll = if old {
            if rng.random_bool(0.75) {
                between(rng, earliest, date(2011, 10, 31).min(latest))
            } else {
                between(rng, earliest, latest)
            }
        } else if earliest == ctx.scheme_start {
            match rng.random_range(0..100) {
                0..50 => between(rng, earliest, date(2011, 12, 31).min(latest)),
                50..65 => between(rng, earliest, date(2012, 12, 31).min(latest)),
                _ => between(rng, earliest, latest),
            }
        } else {
            between(rng, earliest, latest.min(add_years(earliest, 6)))
        };
        let p = &self.pop.persons[i as usize];
        // Older payers more often pay cash to the village clerk.
        let receipt_share = if super::calendar::age_on(p.birth, enroll) >= 50 {
            0.45
        } else {
            0.25
        };
        let channel = if !old && rng.random_bool(receipt_share) {
            Channel::Receipt
        } else {
            Channel::Bank
        };
        let start = natural_start(p, enroll, &ctx);
        let e = Enrollment {
            person: i,
            person_no: String::new(),
            id_text: p.id.clone(),
            pay_id: p.id.clone(),
            name_text: p.name.clone(),
            male_text: p.male,
            birth_text: p.birth,
            village: p.village,
            hukou: p.hukou,
            enroll,
            // The old cohort never pays; the form still carries the lowest tier.
            tier: if old { 100 } else { tier(rng) },
            channel,
            bank: account_no(i as u64),
            agreement: channel == Channel::Bank && rng.random_bool(0.93),
            phone: phone(rng),
            address: address(rng, self.geo, p.village),
            start: (start <= ctx.t).then_some(start),
            cancel: None,
            years: if old {
                (1, 0)
            } else {
                (enroll.year(), p.sixtieth().year())
            },
            inj: Inj::None,
            group: None,
            looks: Vec::new(),
            village_move: None,
            fixed_bank: false,
        };
        Some(Enrollment {
            person_no: self.person_no(e.village),
            ..e
        })
    }

    /// Cancellations that follow from the register: death, moves, emigration, plus
    /// the few who join the employee pension or change hukou.
    fn life_cancellations(&mut self) {
        let ctx = self.ctx;
        for k in 0..self.es.len() {
            let pi = self.es[k].person as usize;
            let p = &self.pop.persons[pi];
            let e = &self.es[k];
            let benefit_from = e.start.map(first_day);
            let rng = &mut self.rng;
            let cancel = if let Some(d) = p.death {
                if benefit_from.is_some_and(|s| s > d) {
                    self.es[k].start = None;
                }
                Some(Cancel {
                    reason: CancelReason::Death,
                    event: d,
                    apply: normal_death_apply(rng, d),
                })
            } else if let Some((kind, d)) = p.moved {
                let reason = if kind == RegMove::Emigrated {
                    CancelReason::Emigration
                } else {
                    CancelReason::TransferOut
                };
                if benefit_from.is_some_and(|s| s <= d) {
                    None
                } else {
                    self.es[k].start = None;
                    Some(Cancel {
                        reason,
                        event: d,
                        apply: d + days(rng.random_range(10..40)),
                    })
                }
            } else if e.start.is_none() && e.years.0 <= e.years.1 && rng.random_bool(0.008) {
                self.switch_to_employee(k)
            } else if e.start.is_none() && e.years.0 <= e.years.1 && rng.random_bool(0.002) {
                let lo = e.enroll + days(200);
                let hi = ctx.t_end - days(60);
                (lo < hi).then(|| {
                    let d = between(rng, lo, hi);
                    Cancel {
                        reason: CancelReason::HukouChange,
                        event: d,
                        apply: d + days(rng.random_range(5..25)),
                    }
                })
            } else {
                None
            };
            if let Some(c) = cancel {
                if c.reason == CancelReason::HukouChange {
                    self.pop.persons[pi].hukou = Hukou::NonAgri;
                }
            }
            self.es[k].cancel = cancel;
        }
    }

    fn switch_to_employee(&mut self, k: usize) -> Option<Cancel> {
        let ctx = self.ctx;
        let e = &self.es[k];
        let p = &self.pop.persons[e.person as usize];
        let lo = e.enroll + days(400);
        let hi = (ctx.t_end - days(100)).min(add_years(p.birth, 50));
        if lo >= hi {
            return None;
        }
        let j = between(&mut self.rng, lo, hi);
        let employer = self.rng.random_range(0..super::geo::EMPLOYERS.len());
        self.pop.persons[e.person as usize].employee = Some(EmpSpell {
            status: EmpStatus::Contributing,
            start: j,
            end: None,
            employer,
        });
        Some(Cancel {
            reason: CancelReason::EmployeePension,
            event: j,
            apply: j + days(self.rng.random_range(5..25)),
        })
    }

    fn clean(&self, k: usize) -> bool {
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

    fn benef(&self, k: usize) -> bool {
        self.es[k].start.is_some()
    }

    /// Contributor who will not reach benefits within the data.
    fn contributor(&self, k: usize) -> bool {
        let e = &self.es[k];
        e.start.is_none() && e.years.0 <= e.years.1 && e.years.0 < year_of(self.ctx.t)
    }

    /// Up to `n` unused enrollments satisfying `pred`, chosen at random and marked used.
    fn pick(&mut self, n: usize, pred: impl Fn(&Self, usize) -> bool) -> Vec<usize> {
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

    fn inject_all(&mut self) {
        let n = ((self.pop.persons.len() as u64 * 3 / 1000) as usize).max(3);
        self.inject_ids(n);
        self.inject_deaths(n);
        self.inject_duplicates(n);
        self.inject_shared(n);
        self.inject_payments(n);
        self.inject_moves(n);
        self.inject_contributions(n);
    }

    fn inject_ids(&mut self, n: usize) {
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

    fn dead_with_cancel(&self, k: usize) -> bool {
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

    fn inject_deaths(&mut self, n: usize) {
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

    fn next_group(&mut self) -> u32 {
        self.groups += 1;
        self.groups
    }

    /// DUP_ID and DUP_PERSON: a contributor who stopped paying re-enrolls some years
    /// later under a second person number.
    fn inject_duplicates(&mut self, n: usize) {
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

    fn second_enrollment(&mut self, k: usize) -> Enrollment {
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

    fn add_pair(&mut self, k: usize, second: Enrollment, inj: Inj) {
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
    fn inject_shared(&mut self, n: usize) {
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

    fn inject_payments(&mut self, n: usize) {
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
            let employer = j % super::geo::EMPLOYERS.len();
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

    fn inject_moves(&mut self, n: usize) {
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

    fn inject_contributions(&mut self, n: usize) {
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

    fn candidate(&self, c: Cand, k: usize) -> bool {
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
    fn cand_after_death(&self, k: usize) -> bool {
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
    fn cand_before16(&self, k: usize) -> bool {
        let p = &self.pop.persons[self.es[k].person as usize];
        let b16 = add_years(p.birth, 16);
        self.clean(k)
            && self.contributor(k)
            && (4..=10).contains(&b16.month())
            && b16 > self.ctx.scheme_start + days(120)
            && b16 + days(400) < self.ctx.t_end
    }

    /// A beneficiary with room for a deduction in the year after the 60th-birthday year.
    fn cand_after60(&self, k: usize) -> bool {
        let e = &self.es[k];
        let p = &self.pop.persons[e.person as usize];
        let y = p.sixtieth().year() + 1;
        self.clean(k)
            && p.birth > self.ctx.old_born_by
            && e.start.is_some_and(|s| {
                first_day(s) + days(45) < date(y, 9, 20) && ym(y, 11) <= self.ctx.t
            })
    }

    fn cand_backpay(&self, k: usize) -> bool {
        let p = &self.pop.persons[self.es[k].person as usize];
        let e = &self.es[k];
        self.clean(k)
            && e.years.0 <= e.years.1
            && e.enroll + days(40) < p.sixtieth()
            && p.birth > self.ctx.old_born_by
            && p.birth < date(1966, 7, 1)
            && e.years.1 - e.years.0 + 1 < 15
    }

    fn cand_bank_contributor(&self, k: usize) -> bool {
        let e = &self.es[k];
        self.clean(k)
            && self.contributor(k)
            && e.channel == Channel::Bank
            && e.years.0 + 1 < e.years.1.min(year_of(self.ctx.t))
    }

    /// Spreads `n` picks over variant predicates; a variant short of candidates leaves
    /// its share to the next ones. Returns (enrollment, variant index).
    fn pick_variants(&mut self, n: usize, preds: &[Cand]) -> Vec<(usize, u8)> {
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

    fn lookalikes(&mut self) {
        let n = self.pop.persons.len();
        let m = (n / 700).max(2);
        let ctx = self.ctx;
        // Couples in one village, both beneficiaries, paid into one card.
        let mut by_person = vec![None; self.pop.persons.len()];
        for (k, e) in self.es.iter().enumerate() {
            by_person[e.person as usize].get_or_insert(k);
        }
        let mut couples = 0;
        for k in 0..self.es.len() {
            if couples >= m {
                break;
            }
            let pi = self.es[k].person as usize;
            let Some(si) = self.pop.persons[pi].spouse else {
                continue;
            };
            let Some(k2) = by_person[si as usize] else {
                continue;
            };
            if k2 <= k
                || !self.clean(k)
                || !self.clean(k2)
                || !self.benef(k)
                || !self.benef(k2)
                || self.es[k].village != self.es[k2].village
            {
                continue;
            }
            let bank = self.es[k].bank.clone();
            for x in [k, k2] {
                self.used[x] = true;
                self.person_used[self.es[x].person as usize] = true;
                self.es[x].looks.push(Look::CoupleAccount);
                self.es[x].fixed_bank = true;
            }
            self.es[k2].bank = bank;
            couples += 1;
        }
        for k in self.pick((n / 300).max(2), |b, k| {
            b.clean(k) && names::traditional_variant(&b.es[k].name_text).is_some()
        }) {
            let t = names::traditional_variant(&self.es[k].name_text).unwrap_or_default();
            self.es[k].name_text = t;
            self.es[k].looks.push(Look::TradName);
        }
        for (j, k) in self
            .pick((n / 300).max(2), |b, k| {
                b.clean(k) && b.es[k].name_text.chars().count() == 2
            })
            .into_iter()
            .enumerate()
        {
            let cs: Vec<char> = self.es[k].name_text.chars().collect();
            let sep = if j % 2 == 0 { '\u{3000}' } else { ' ' };
            self.es[k].name_text = format!("{}{sep}{}", cs[0], cs[1]);
            self.es[k].looks.push(Look::NameVariant);
        }
        for k in 0..self.es.len() {
            let p = &self.pop.persons[self.es[k].person as usize];
            if p.special && p.twin_of.is_some() {
                self.es[k].looks.push(Look::Twin);
                self.used[k] = true;
            } else if p.special && p.name.contains('·') && self.es[k].group.is_none() {
                let dot = if k % 2 == 0 { "•" } else { "." };
                self.es[k].name_text = p.name.replace('·', dot);
                self.es[k].looks.push(Look::NameVariant);
                self.used[k] = true;
            }
        }
        for k in self.pick((n / 100).max(3), |b, k| {
            b.clean(k) && b.es[k].enroll.year() <= 2014 && legacy15(&b.es[k].id_text).is_some()
        }) {
            self.es[k].id_text = legacy15(&self.es[k].id_text).unwrap_or_default();
            self.es[k].looks.push(Look::Legacy15);
        }
        for (j, k) in self
            .pick((n / 200).max(3), |b, k| b.clean(k))
            .into_iter()
            .enumerate()
        {
            let id = self.es[k].id_text.clone();
            self.es[k].id_text = match j % 3 {
                0 if id.ends_with('X') => id.to_lowercase(),
                0 | 1 => id
                    .chars()
                    .map(|c| {
                        char::from_u32(c as u32 + 0xfee0)
                            .filter(|_| c.is_ascii_alphanumeric())
                            .unwrap_or(c)
                    })
                    .collect(),
                _ => format!(" {id} "),
            };
            self.es[k].looks.push(Look::IdFormat);
        }
        for k in self.pick(m, |b, k| {
            b.clean(k) && b.es[k].start.is_some_and(|s| s + 8 <= ctx.t)
        }) {
            let s = self.es[k].start.unwrap_or(ctx.t);
            let d = between(&mut self.rng, first_day(s) + days(60), ctx.t_end - days(90));
            self.pop.persons[self.es[k].person as usize].moved = Some((RegMove::MovedOut, d));
            self.es[k].looks.push(Look::MovedBeneficiary);
        }
    }

    /// Moves between villages of the same township (a change record; the register
    /// shows the new village).
    fn village_moves(&mut self) {
        let ctx = self.ctx;
        for k in 0..self.es.len() {
            let pi = self.es[k].person as usize;
            if self.used[k]
                || self.person_used[pi]
                || self.pop.persons[pi].special
                || !self.rng.random_bool(0.01)
            {
                continue;
            }
            let t = self.geo.villages[self.es[k].village].township;
            let vs = &self.geo.townships[t].villages;
            let nv = vs[self.rng.random_range(0..vs.len())];
            let lo = self.es[k].enroll + days(60);
            let hi = ctx.t_end - days(10);
            if nv == self.es[k].village || lo >= hi {
                continue;
            }
            let d = between(&mut self.rng, lo, hi);
            self.es[k].village_move = Some((nv, d));
            self.pop.persons[pi].village = nv;
        }
    }

    /// Benefit start after injections that move it; none after an earlier cancellation.
    fn finalize(&mut self) {
        let ctx = self.ctx;
        for e in &mut self.es {
            let p = &self.pop.persons[e.person as usize];
            let mut s = natural_start(p, e.enroll, &ctx);
            if let Inj::Underage { months } = e.inj {
                s -= months;
            }
            let stopped_before = e
                .cancel
                .is_some_and(|c| c.reason != CancelReason::Death && c.event < first_day(s));
            let dead_before = p.death.is_some_and(|d| d < first_day(s));
            e.start = (s <= ctx.t && !stopped_before && !dead_before).then_some(s);
        }
    }
}

/// A malformed copy of a valid ID: wrong check character, impossible birth date, or
/// a digit lost.
fn malformed(id: &str, variant: u8) -> String {
    match variant {
        0 => {
            let last = id.chars().last().unwrap_or('0');
            let wrong = if last == '9' || last == 'X' {
                '0'
            } else {
                char::from(last as u8 + 1)
            };
            format!("{}{wrong}", &id[..17])
        }
        1 => {
            let mut s = format!("{}{}0230{}", &id[..6], &id[6..10], &id[14..17]);
            let c = crate::idnum::check_char(s.as_bytes());
            s.push(c);
            s
        }
        _ => format!("{}{}", &id[..10], &id[11..]),
    }
}

pub fn region_name(code: &str) -> &'static str {
    if code == COUNTY_CODE {
        return super::geo::COUNTY;
    }
    OTHER_REGIONS
        .iter()
        .find(|r| r.0 == code)
        .map_or("外省", |r| r.1)
}
