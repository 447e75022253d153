//! Who enrolls, when, on which terms, and which enrollments carry an injected audit
//! case or a deliberate look-alike. Everything here is decided before any record is
//! written, so candidates for a case can be chosen with their whole life in view.

use super::calendar::{add_years, date, days, first_day, last_day, year_of, ym, ym_of, Ym};
use super::geo::Geo;
use super::names;
use super::params::{STANDARDS, TIERS, TIER_WEIGHTS};
use super::population::{between, EmpSpell, EmpStatus, Hukou, Person, Population, RegMove};
use chrono::{Datelike, NaiveDate};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

mod dup_variants;
mod inject;
mod lookalikes;
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
    /// PHOTO_CERT_OVERDUE: certified every year, but never by photo (0) since the
    /// application, or (1) by photo only in the first year of certification.
    PhotoOverdue(u8),
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
        geo.name,
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
    b.inject_photo();
    b.finalize();
    Plan { enrollments: b.es }
}

impl Builder<'_> {
    fn person_no(&mut self, village: usize) -> String {
        let t = self.geo.villages[village].township;
        self.serial[t] += 1;
        format!("{}0{:02}{:07}", self.geo.code, t + 1, self.serial[t])
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
            let c = pension::idnum::check_char(s.as_bytes());
            s.push(c);
            s
        }
        _ => format!("{}{}", &id[..10], &id[11..]),
    }
}
