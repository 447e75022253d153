//! Two synthetic counties of one province with persons known to both (跨地区):
//! the cases only a province can see, planted with their answer key.
//!
//! County A is generated as `generate` makes it, its enrollments watched. Then, in
//! county B, before any record is written, a few persons take the identity (ID
//! number, name, sex, birth date) of a person of A:
//! - DUAL_ENROLLMENT (跨地区重复参保): an active contributor of B becomes an active
//!   contributor of A (birth dates within two years, so B's plan stays valid);
//! - DUAL_PAYOUT (跨地区重复领取): a beneficiary of B becomes a beneficiary of A that
//!   A pays every month of the last year (both "old" at the scheme's start, so
//!   neither county's approval depends on the exact birth date);
//! - PAID_AFTER_DEATH_ELSEWHERE (异地死亡冒领): a resident of B aged 60 or more, not
//!   enrolled there, becomes a beneficiary of A and dies in B five months before the
//!   through-month — cremated there (B's civil-affairs death record; the household
//!   register, police's, not yet told) — while A goes on paying.
//!
//! Every other record of both counties is what their own generator makes, so each
//! county alone still audits as its own `_truth/ground_truth.csv` says. The
//! province's answer key, `_truth/cross_county.csv`, is computed here from the
//! records the two generators streamed (not from the files).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::calendar::{add_years, day_in, month_text, ym_of, Ym};
use super::history::Records;
use super::plan::{self, Inj};
use super::population::{Person, Population, SRC_CREMATION};
use super::{generate_with, plain_table, Hook, SynthConfig, SynthError, SynthReport};

/// Who a person is, as both counties' files carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Identity {
    id: String,
    name: String,
    male: bool,
    birth: NaiveDate,
}

impl Identity {
    fn of(p: &Person) -> Identity {
        Identity {
            id: p.id.clone(),
            name: p.name.clone(),
            male: p.male,
            birth: p.birth,
        }
    }
}

/// What a watched enrollment did, from its streamed records.
#[derive(Clone, Debug, Default)]
struct Watched {
    person_no: String,
    enroll: Option<NaiveDate>,
    start: Option<Ym>,
    cancelled: bool,
    /// Successful payouts by month (total paid).
    paid: BTreeMap<Ym, Decimal>,
    /// Years with a successful contribution.
    contributed: BTreeSet<i32>,
    death: Option<NaiveDate>,
}

fn watch(e: &plan::Enrollment, p: &Person, r: &Records) -> Watched {
    Watched {
        person_no: e.person_no.clone(),
        enroll: Some(e.enroll),
        start: r.approval.as_ref().map(|a| a.start),
        cancelled: r.cancellation.is_some(),
        paid: r
            .payouts
            .iter()
            .filter(|x| x.ok)
            .map(|x| (x.month, x.total()))
            .collect(),
        contributed: r
            .contributions
            .iter()
            .filter(|c| c.ok)
            .map(|c| c.year)
            .collect(),
        death: p.death,
    }
}

/// An enrollment with nothing planted and nothing unusual about its person: one
/// whose identity can be shared without disturbing its county's own answer key.
fn plain(e: &plan::Enrollment, p: &Person) -> bool {
    e.inj == Inj::None
        && e.looks.is_empty()
        && e.group.is_none()
        && !e.fixed_bank
        && e.cancel.is_none()
        && e.village_move.is_none()
        && e.id_text == p.id
        && e.pay_id == p.id
        && e.name_text == p.name
        && e.birth_text == p.birth
        && e.male_text == p.male
        && p.in_register
        && !p.special
        && p.twin_of.is_none()
        && p.death.is_none()
        && p.moved.is_none()
        && p.employee.is_none()
        && p.prison.is_none()
}

/// County A: candidates chosen from the plan, then watched while streamed.
struct WatchA {
    contributors: BTreeSet<u32>,
    beneficiaries: BTreeSet<u32>,
    seen: BTreeMap<u32, (Identity, Watched)>,
}

impl Hook for WatchA {
    fn planned(&mut self, ctx: &plan::Ctx, pop: &mut Population, plan: &mut plan::Plan) {
        for e in &plan.enrollments {
            let p = &pop.persons[e.person as usize];
            if !plain(e, p) {
                continue;
            }
            let age = ctx.t_end.years_since(p.birth).unwrap_or(0);
            if e.start.is_none() && (30..=55).contains(&age) && self.contributors.len() < 40 {
                self.contributors.insert(e.person);
            }
            let long_paid = e.start.is_some_and(|s| s <= ctx.t - 24);
            if long_paid && p.birth <= ctx.old_born_by && self.beneficiaries.len() < 40 {
                self.beneficiaries.insert(e.person);
            }
        }
    }

    fn streamed(&mut self, e: &plan::Enrollment, p: &Person, r: &Records) {
        if self.contributors.contains(&e.person) || self.beneficiaries.contains(&e.person) {
            self.seen
                .insert(e.person, (Identity::of(p), watch(e, p, r)));
        }
    }
}

/// The roles planted in county B, each with the identity of A it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    DualEnrollment,
    DualPayout,
    DeathElsewhere,
}

impl Role {
    fn code(self) -> &'static str {
        match self {
            Role::DualEnrollment => "DUAL_ENROLLMENT",
            Role::DualPayout => "DUAL_PAYOUT",
            Role::DeathElsewhere => "PAID_AFTER_DEATH_ELSEWHERE",
        }
    }
}

/// County B: persons given an identity of A after the plan, then watched.
struct PlantB {
    wanted: Vec<(Role, Identity)>,
    /// B's person index → the role it plays.
    planted: BTreeMap<u32, (Role, Identity)>,
    seen: BTreeMap<u32, Watched>,
    death_month: BTreeMap<u32, NaiveDate>,
}

impl PlantB {
    /// The B person to carry `who` in `role`, if one fits.
    fn pick(
        &self,
        ctx: &plan::Ctx,
        pop: &Population,
        plan: &plan::Plan,
        role: Role,
        who: &Identity,
    ) -> Option<(u32, Option<usize>)> {
        let taken = |i: u32| self.planted.contains_key(&i);
        match role {
            Role::DualEnrollment => plan.enrollments.iter().enumerate().find_map(|(k, e)| {
                let p = &pop.persons[e.person as usize];
                let near = (p.birth - who.birth).num_days().abs() <= 2 * 365;
                let adult = e.enroll >= add_years(who.birth, 18);
                (plain(e, p)
                    && e.start.is_none()
                    && p.male == who.male
                    && near
                    && adult
                    && !taken(e.person))
                .then_some((e.person, Some(k)))
            }),
            Role::DualPayout => plan.enrollments.iter().enumerate().find_map(|(k, e)| {
                let p = &pop.persons[e.person as usize];
                let long_paid = e.start.is_some_and(|s| s <= ctx.t - 12);
                (plain(e, p)
                    && long_paid
                    && p.birth <= ctx.old_born_by
                    && p.male == who.male
                    && !taken(e.person))
                .then_some((e.person, Some(k)))
            }),
            Role::DeathElsewhere => {
                let enrolled: BTreeSet<u32> = plan.enrollments.iter().map(|e| e.person).collect();
                (0..pop.persons.len() as u32)
                    .find(|&i| {
                        let p = &pop.persons[i as usize];
                        let old = ctx.t_end.years_since(p.birth).unwrap_or(0) >= 60;
                        old && p.death.is_none()
                            && p.in_register
                            && !p.special
                            && p.twin_of.is_none()
                            && p.moved.is_none()
                            && !enrolled.contains(&i)
                            && !taken(i)
                    })
                    .map(|i| (i, None))
            }
        }
    }
}

impl Hook for PlantB {
    fn planned(&mut self, ctx: &plan::Ctx, pop: &mut Population, plan: &mut plan::Plan) {
        for (role, who) in self.wanted.clone() {
            if pop.id_taken(&who.id) {
                continue;
            }
            let Some((person, enrollment)) = self.pick(ctx, pop, plan, role, &who) else {
                continue;
            };
            if !pop.claim_name(&who.name, who.birth) || !pop.reserve_id(&who.id) {
                continue;
            }
            let p = &mut pop.persons[person as usize];
            p.id = who.id.clone();
            p.name = who.name.clone();
            p.male = who.male;
            p.birth = who.birth;
            if role == Role::DeathElsewhere {
                let died = day_in(ctx.t - 5, 12);
                p.death = Some(died);
                p.death_src = SRC_CREMATION;
                self.death_month.insert(person, died);
            }
            if let Some(k) = enrollment {
                let e = &mut plan.enrollments[k];
                e.id_text = who.id.clone();
                e.pay_id = who.id.clone();
                e.name_text = who.name.clone();
                e.male_text = who.male;
                e.birth_text = who.birth;
            }
            self.planted.insert(person, (role, who));
        }
    }

    fn streamed(&mut self, e: &plan::Enrollment, p: &Person, r: &Records) {
        if self.planted.contains_key(&e.person) {
            self.seen.insert(e.person, watch(e, p, r));
        }
    }
}

/// One line of the province's answer key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrossCase {
    pub code: &'static str,
    pub id: String,
    /// The county that pays (or the first county, for an enrollment), its person number.
    pub county: String,
    pub person_no: String,
    /// The other county and its person number (empty for a resident not enrolled).
    pub other_county: String,
    pub other_person_no: String,
    pub from: Ym,
    pub to: Ym,
    pub amount: Option<Decimal>,
}

/// What `generate_province` wrote.
pub struct ProvinceReport {
    pub counties: Vec<(String, SynthReport)>,
    pub cases: Vec<CrossCase>,
}

/// Generates county `a` into `out/<a.region>/` and county `b` into
/// `out/<b.region>/`, with persons of A planted in B, and the answer key in
/// `out/_truth/cross_county.csv`.
pub fn generate_province(
    a: &SynthConfig,
    b: &SynthConfig,
    out: &Path,
) -> Result<ProvinceReport, SynthError> {
    if a.region == b.region {
        return Err(SynthError::Config(format!(
            "the two counties need different region codes (both {})",
            a.region
        )));
    }
    let ctx = plan::Ctx::new(a.through_year, a.through_month);
    let mut wa = WatchA {
        contributors: BTreeSet::new(),
        beneficiaries: BTreeSet::new(),
        seen: BTreeMap::new(),
    };
    let report_a = generate_with(a, &out.join(a.region), &mut wa)?;
    let wanted = choose_in_a(&wa, &ctx);
    let mut pb = PlantB {
        wanted: wanted.iter().map(|(r, i, _)| (*r, i.clone())).collect(),
        planted: BTreeMap::new(),
        seen: BTreeMap::new(),
        death_month: BTreeMap::new(),
    };
    let b = SynthConfig {
        through_year: a.through_year,
        through_month: a.through_month,
        ..b.clone()
    };
    let report_b = generate_with(&b, &out.join(b.region), &mut pb)?;
    let cases = answer_key(&wanted, &pb, a.region, b.region);
    write_cross_truth(out, &cases)?;
    Ok(ProvinceReport {
        counties: vec![
            (a.region.to_string(), report_a),
            (b.region.to_string(), report_b),
        ],
        cases,
    })
}

/// A's persons for the three roles: a contributor who paid last year or this; two
/// beneficiaries paid every month of the last twelve.
fn choose_in_a(wa: &WatchA, ctx: &plan::Ctx) -> Vec<(Role, Identity, Watched)> {
    let year = super::calendar::year_of(ctx.t);
    let contributor = wa.seen.iter().find(|(i, (_, w))| {
        wa.contributors.contains(i)
            && !w.cancelled
            && (w.contributed.contains(&year) || w.contributed.contains(&(year - 1)))
    });
    let paid_all_year = |w: &Watched| (ctx.t - 11..=ctx.t).all(|m| w.paid.contains_key(&m));
    let mut beneficiaries = wa
        .seen
        .iter()
        .filter(|(i, (_, w))| wa.beneficiaries.contains(i) && !w.cancelled && paid_all_year(w));
    let mut out = Vec::new();
    if let Some((_, (who, w))) = contributor {
        out.push((Role::DualEnrollment, who.clone(), w.clone()));
    }
    for role in [Role::DualPayout, Role::DeathElsewhere] {
        if let Some((_, (who, w))) = beneficiaries.next() {
            out.push((role, who.clone(), w.clone()));
        }
    }
    out
}

/// The cases as the province's checks should find them (docs/rules.md § Province):
/// overlapping enrollment; months paid in both counties, the amount being the
/// payments of the county whose benefits started later (B when both started in
/// the same month); payments for months after the death month.
fn answer_key(
    wanted: &[(Role, Identity, Watched)],
    pb: &PlantB,
    county_a: &str,
    county_b: &str,
) -> Vec<CrossCase> {
    let mut cases = Vec::new();
    for (person, (role, who)) in &pb.planted {
        let Some((_, _, in_a)) = wanted.iter().find(|(r, i, _)| r == role && i == who) else {
            continue;
        };
        let in_b = pb.seen.get(person).cloned().unwrap_or_default();
        let case = |from: Ym,
                    to: Ym,
                    amount: Option<Decimal>,
                    first: (&str, &Watched),
                    second: (&str, &Watched)| CrossCase {
            code: role.code(),
            id: who.id.clone(),
            county: first.0.to_string(),
            person_no: first.1.person_no.clone(),
            other_county: second.0.to_string(),
            other_person_no: second.1.person_no.clone(),
            from,
            to,
            amount,
        };
        match role {
            Role::DualEnrollment => {
                // Both still enrolled at the through-month: the case is open (no end).
                let (Some(ea), Some(eb)) = (in_a.enroll, in_b.enroll) else {
                    continue;
                };
                let from = ym_of(ea.max(eb));
                cases.push(case(from, 0, None, (county_a, in_a), (county_b, &in_b)));
            }
            Role::DualPayout => {
                let both: Vec<Ym> = in_a
                    .paid
                    .keys()
                    .filter(|m| in_b.paid.contains_key(m))
                    .copied()
                    .collect();
                let (Some(&from), Some(&to)) = (both.first(), both.last()) else {
                    continue;
                };
                let a_later = in_a.start.unwrap_or(0) > in_b.start.unwrap_or(0);
                let (payer, other) = if a_later {
                    ((county_a, in_a), (county_b, &in_b))
                } else {
                    ((county_b, &in_b), (county_a, in_a))
                };
                let amount = both.iter().map(|m| payer.1.paid[m]).sum();
                cases.push(case(from, to, Some(amount), payer, other));
            }
            Role::DeathElsewhere => {
                let Some(death) = pb.death_month.get(person) else {
                    continue;
                };
                let dm = ym_of(*death);
                let after: Vec<(&Ym, &Decimal)> = in_a.paid.range(dm + 1..).collect();
                let (Some(first), Some(last)) = (after.first(), after.last()) else {
                    continue;
                };
                let amount = after.iter().map(|(_, x)| **x).sum();
                let none = Watched::default();
                cases.push(case(
                    *first.0,
                    *last.0,
                    Some(amount),
                    (county_a, in_a),
                    (county_b, &none),
                ));
            }
        }
    }
    cases.sort_by(|x, y| (x.code, &x.id).cmp(&(y.code, &y.id)));
    cases
}

fn write_cross_truth(out: &Path, cases: &[CrossCase]) -> Result<(), SynthError> {
    let cols = [
        ("check_code", ""),
        ("id_number", ""),
        ("county", ""),
        ("person_no", ""),
        ("other_county", ""),
        ("other_person_no", ""),
        ("month_from", ""),
        ("month_to", ""),
        ("amount", ""),
    ];
    let mut t = plain_table(out, "_truth/cross_county.csv", "cross_county", &cols)?;
    for c in cases {
        t.s(c.code)
            .s(&c.id)
            .s(&c.county)
            .s(&c.person_no)
            .s(&c.other_county)
            .s(&c.other_person_no)
            .s(&month_text(c.from))
            .s(&if c.to == 0 {
                String::new()
            } else {
                month_text(c.to)
            });
        match c.amount {
            Some(a) => t.money(a),
            None => t.s(""),
        };
        t.end()?;
    }
    t.finish().map(|_| ())
}
