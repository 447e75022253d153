//! Ground truth: the findings each enrollment's generated records should produce.
//!
//! Rather than trusting what was meant to be injected, the person-level checks of
//! docs/rules.md § Audit checks are evaluated on the rows actually written for the
//! enrollment, against the
//! registries as written. So a case that trips a second check (a death whose payments
//! run into an uncertified May, say) lists both, and any background row that trips a
//! check is listed too (its note says "background", which tests keep at zero).
//!
//! Interpretations, stated once:
//! * Registry facts (death, moves, prison, employee pension) reach an enrollment only
//!   through its ID number's 18-digit form; an unknown or malformed ID links to nothing.
//! * A death is also known from the enrollment's own cancellation for death (its event
//!   date), whatever the registries say: the earliest date counts.
//! * A month is served in prison from the admission month to the release month,
//!   inclusive; an employee-pension spell covers every month it touches.
//! * For a month with several successful payments the earliest is the payment and the
//!   others are DUP_PAYMENT; the other payment checks look at the earliest only.
//! * A payment is certified when the year's passed certification is dated on or before
//!   the payment date.

use super::calendar::{add_years, first_day, month_of, year_of, ym_of, Ym};
use super::history::{ContribKind, Records, SuspReason};
use super::names::normalize_name;
use super::params::{standard, tier_split};
use super::plan::{CancelReason, Enrollment, Inj};
use super::population::{Person, RegMove};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One row of ground_truth.csv.
#[derive(Clone, Debug)]
pub struct Gt {
    pub code: &'static str,
    pub person_no: String,
    pub id: String,
    pub from: Option<Ym>,
    pub to: Option<Ym>,
    pub amount: Option<Decimal>,
    pub note: String,
}

/// Accumulates one check's months and amount for one enrollment.
#[derive(Default)]
struct Acc {
    from: Option<Ym>,
    to: Option<Ym>,
    amount: Option<Decimal>,
}

impl Acc {
    fn add(&mut self, m: Ym, amount: Option<Decimal>) {
        self.from = Some(self.from.map_or(m, |f| f.min(m)));
        self.to = Some(self.to.map_or(m, |t| t.max(m)));
        if let Some(a) = amount {
            self.amount = Some(self.amount.unwrap_or_default() + a);
        }
    }
}

/// `t` is the audit month (the last month with data).
pub fn audit(t: Ym, p: &Person, e: &Enrollment, r: &Records) -> Vec<Gt> {
    let mut found: BTreeMap<&'static str, Acc> = BTreeMap::new();
    let parsed = pension::idnum::parse(&e.id_text);
    let known = parsed.problem.is_none() && parsed.normalized == p.id && p.in_register;
    identity_checks(e, p, &parsed, known, &mut found);
    // Groups are made by construction (plan.rs); the rest of the county is unique.
    if e.group.is_some() {
        let code = match e.inj {
            Inj::DupId => "DUP_ID",
            Inj::DupPerson { .. } => "DUP_PERSON",
            _ => "SHARED_ACCOUNT",
        };
        found.entry(code).or_default();
    }
    let reg = known.then_some(p);
    state_checks(reg, r, &mut found);
    payment_checks(p, reg, r, &mut found);
    photo_check(t, r, &mut found);
    contribution_checks(p, reg, r, &mut found);
    let id = if parsed.problem.is_none() {
        parsed.normalized.clone()
    } else {
        e.id_text.trim().to_string()
    };
    found
        .into_iter()
        .map(|(code, acc)| Gt {
            code,
            person_no: e.person_no.clone(),
            id: id.clone(),
            from: acc.from,
            to: acc.to,
            amount: acc.amount,
            note: note(code, e),
        })
        .collect()
}

fn identity_checks(
    e: &Enrollment,
    p: &Person,
    parsed: &pension::idnum::IdNumber,
    known: bool,
    found: &mut BTreeMap<&'static str, Acc>,
) {
    if parsed.problem.is_some() {
        found.entry("ID_INVALID").or_default();
    }
    if !known {
        found.entry("ID_UNKNOWN").or_default();
        return;
    }
    let same_name = normalize_name(&e.name_text) == normalize_name(&p.name);
    if !same_name || e.male_text != p.male || e.birth_text != p.birth {
        found.entry("ID_MISMATCH").or_default();
    }
}

fn state_checks(reg: Option<&Person>, r: &Records, found: &mut BTreeMap<&'static str, Acc>) {
    let active = r.cancellation.is_none();
    if let Some(c) = &r.cancellation {
        if c.reason == CancelReason::Death
            && (c.apply - c.event).num_days() > super::params::DEATH_REPORT_DAYS
        {
            found
                .entry("LATE_DEATH_REPORT")
                .or_default()
                .add(ym_of(c.event), None);
        }
    }
    let Some(p) = reg else { return };
    if active && p.known_dead() {
        if let Some(d) = p.death {
            found
                .entry("DECEASED_ACTIVE")
                .or_default()
                .add(ym_of(d), None);
        }
    }
    let receiving_from = r.approval.as_ref().map(|a| first_day(a.start));
    let moved = match p.moved {
        Some((RegMove::Emigrated, d)) => Some(d),
        Some((RegMove::MovedOut, d)) if receiving_from.is_none_or(|s| s > d) => Some(d),
        _ => None,
    };
    if let (true, Some(d), false) = (active, moved, p.known_dead()) {
        found
            .entry("MOVED_OUT_ACTIVE")
            .or_default()
            .add(ym_of(d), None);
    }
}

/// The death the audit knows (docs/rules.md § Death; the audit's death.sql): the
/// earliest of the registries' date, when the person is known to them, and the
/// enrollment's own cancellation for death (its event date is the date of death).
fn known_death(reg: Option<&Person>, r: &Records) -> Option<chrono::NaiveDate> {
    let registered = reg.filter(|p| p.known_dead()).and_then(|p| p.death);
    let cancelled = r
        .cancellation
        .as_ref()
        .filter(|c| c.reason == CancelReason::Death)
        .map(|c| c.event);
    registered.into_iter().chain(cancelled).min()
}

fn payment_checks(
    p: &Person,
    reg: Option<&Person>,
    r: &Records,
    found: &mut BTreeMap<&'static str, Acc>,
) {
    let Some(appr) = &r.approval else { return };
    let death = known_death(reg, r);
    let eligible_from = ym_of(p.birth) + 60 * 12 + 1;
    let mut seen: BTreeMap<Ym, ()> = BTreeMap::new();
    let mut ok: Vec<&super::history::Payout> = r.payouts.iter().filter(|x| x.ok).collect();
    ok.sort_by_key(|x| (x.date, x.month));
    for x in ok {
        let (m, total) = (x.month, x.total());
        if seen.insert(m, ()).is_some() {
            found.entry("DUP_PAYMENT").or_default().add(m, Some(total));
            continue;
        }
        if death.is_some_and(|d| m > ym_of(d)) {
            found
                .entry("PAID_AFTER_DEATH")
                .or_default()
                .add(m, Some(total));
        }
        if let Some(p) = reg {
            if p.employee.is_some_and(|s| s.covers_month(m)) {
                found.entry("DUAL_PENSION").or_default().add(m, Some(total));
            }
        }
        if m < eligible_from {
            found
                .entry("UNDERAGE_PAID")
                .or_default()
                .add(m, Some(total));
        }
        let in_prison = reg
            .and_then(|p| p.prison)
            .is_some_and(|(a, rel)| m >= ym_of(a) && rel.is_none_or(|rel| m <= ym_of(rel)));
        let suspended_then = r.suspensions.iter().any(|s| {
            m >= s.start
                && match s.reason {
                    SuspReason::Prison => s.end.is_none_or(|end| m < end),
                    SuspReason::Uncertified => s.end.is_none_or(|end| x.date < first_day(end)),
                }
        });
        if in_prison || suspended_then {
            found
                .entry("PAID_WHILE_SUSPENDED")
                .or_default()
                .add(m, Some(total));
        }
        let any_suspension = r
            .suspensions
            .iter()
            .any(|s| m >= s.start && s.end.is_none_or(|end| m < end));
        let y = year_of(m);
        let certified = r
            .certs
            .iter()
            .any(|c| c.pass && c.year == y && c.date <= x.date);
        if month_of(m) >= 5 && y > year_of(appr.start) && !any_suspension && !certified {
            found
                .entry("UNCERTIFIED_PAID")
                .or_default()
                .add(m, Some(total));
        }
        let due = standard(m) + appr.monthly;
        if total != due {
            found
                .entry("AMOUNT_MISMATCH")
                .or_default()
                .add(m, Some(total - due));
        }
    }
}

/// PHOTO_CERT_OVERDUE (rules 第三十四条): paid in the audit month, and neither a
/// passed photo certification nor the start of benefits (the application's photos)
/// in the 5 years up to the month's end. Months: from the one in which the 5 years
/// ran out to the audit month; no amount.
fn photo_check(t: Ym, r: &Records, found: &mut BTreeMap<&'static str, Acc>) {
    const PHOTO: u8 = 2;
    let Some(appr) = &r.approval else { return };
    if !r.payouts.iter().any(|x| x.ok && x.month == t) {
        return;
    }
    let end = super::calendar::last_day(t);
    let last_photo = r
        .certs
        .iter()
        .filter(|c| c.pass && c.method == PHOTO && c.date <= end)
        .map(|c| c.date)
        .chain([first_day(appr.start)])
        .max()
        .expect("the start is always there");
    let five = chrono::Months::new(60);
    if last_photo < end - five {
        let acc = found.entry("PHOTO_CERT_OVERDUE").or_default();
        acc.add(ym_of(last_photo + five), None);
        acc.add(t, None);
    }
}

fn contribution_checks(
    p: &Person,
    reg: Option<&Person>,
    r: &Records,
    found: &mut BTreeMap<&'static str, Acc>,
) {
    let sixteen = add_years(p.birth, 16);
    let sixty_year = chrono::Datelike::year(&p.sixtieth());
    let death = known_death(reg, r);
    for c in r.contributions.iter().filter(|c| c.ok) {
        let after_death = death.is_some_and(|d| c.date > d);
        let after_sixty = c.kind == ContribKind::Normal && c.year > sixty_year;
        if c.date < sixteen || after_death || after_sixty {
            found
                .entry("BAD_CONTRIBUTION")
                .or_default()
                .add(ym_of(c.date), Some(c.amount));
        }
    }
    // Contribution subsidies per year against the tier of that year's contribution.
    let mut by_year: BTreeMap<i32, ([Decimal; 4], Ym)> = BTreeMap::new();
    for s in r.subsidies.iter().filter(|s| !s.basic) {
        let e = by_year
            .entry(s.year)
            .or_insert(([Decimal::ZERO; 4], ym_of(s.date)));
        e.0[s.level] += s.amount;
    }
    for (y, (got, m)) in by_year {
        let basis = r
            .contributions
            .iter()
            .find(|c| c.ok && c.year == y && c.kind != ContribKind::Backpay);
        let want = basis.map_or([Decimal::ZERO; 4], |c| {
            tier_split(rust_decimal::prelude::ToPrimitive::to_u32(&c.amount).unwrap_or(0))
        });
        if got != want {
            let excess: Decimal = got.iter().sum::<Decimal>() - want.iter().sum::<Decimal>();
            found
                .entry("SUBSIDY_MISMATCH")
                .or_default()
                .add(m, Some(excess));
        }
    }
}

/// Why the finding is there: the injected case, or "background" if nothing was.
fn note(code: &str, e: &Enrollment) -> String {
    let what = match e.inj {
        Inj::None => return "background".to_string(),
        Inj::IdInvalid(v) => [
            "check character altered",
            "impossible birth date",
            "a digit dropped",
        ][v as usize % 3]
            .to_string(),
        Inj::IdUnknown => "identity not in the public-security register".to_string(),
        Inj::IdMismatch(v) => [
            "name differs from the register",
            "sex differs from the register",
            "birth date differs from the register",
        ][v as usize % 3]
            .to_string(),
        Inj::DeceasedActive => "died, enrollment never cancelled".to_string(),
        Inj::PaidAfterDeath {
            months,
            late_cancel,
        } => format!(
            "paid {months} months after death, {}",
            if late_cancel {
                "cancelled late"
            } else {
                "never cancelled"
            }
        ),
        Inj::DupId => "same person enrolled twice (same ID or its 15-digit form)".to_string(),
        Inj::DupPerson { variant } => variant.note().to_string(),
        Inj::SharedAccount => "pension paid into a card shared across households".to_string(),
        Inj::DualPension => "also in the employee pension".to_string(),
        Inj::Underage { months } => format!("benefits started {months} months early"),
        Inj::SuspendedPaid(v) => [
            "paid a prison month despite the 服刑 suspension",
            "paid May while suspended 未认证",
            "paid in prison, no suspension recorded",
        ][v as usize % 3]
            .to_string(),
        Inj::UncertifiedPaid { year, late_month } => {
            if late_month > 0 {
                format!("{year}: certified only in month {late_month}, never suspended")
            } else {
                format!("{year}: never certified, never suspended")
            }
        }
        Inj::AmountMismatch { early_raise, .. } => (if early_raise {
            "new basic standard paid a month early"
        } else {
            "account pension overpaid"
        })
        .to_string(),
        Inj::DupPayment { .. } => "payment sent twice".to_string(),
        Inj::MovedOutActive { emigrated } => (if emigrated {
            "emigrated, enrollment active"
        } else {
            "moved out before benefits, enrollment active"
        })
        .to_string(),
        Inj::LateDeath => "death reported more than 60 days late".to_string(),
        Inj::BadContribution(v) => [
            "deduction after death",
            "contribution before the 16th birthday",
            "normal contribution after the 60th-birthday year",
        ][v as usize % 3]
            .to_string(),
        Inj::PhotoOverdue(v) => (if v == 0 {
            "never certified by photo since the application"
        } else {
            "certified by photo only in the first year"
        })
        .to_string(),
        Inj::SubsidyMismatch(v) => [
            "county subsidy doubled",
            "subsidy on a back-paid year",
            "subsidy without a successful contribution",
        ][v as usize % 3]
            .to_string(),
    };
    let group = e.group.map(|g| format!(" (group {g})")).unwrap_or_default();
    let primary = primary_code(e.inj);
    if primary == code {
        format!("injected: {what}{group}")
    } else {
        format!("side effect of {primary}: {what}{group}")
    }
}

fn primary_code(inj: Inj) -> &'static str {
    match inj {
        Inj::None => "",
        Inj::IdInvalid(_) => "ID_INVALID",
        Inj::IdUnknown => "ID_UNKNOWN",
        Inj::IdMismatch(_) => "ID_MISMATCH",
        Inj::DeceasedActive => "DECEASED_ACTIVE",
        Inj::PaidAfterDeath { .. } => "PAID_AFTER_DEATH",
        Inj::DupId => "DUP_ID",
        Inj::DupPerson { .. } => "DUP_PERSON",
        Inj::SharedAccount => "SHARED_ACCOUNT",
        Inj::DualPension => "DUAL_PENSION",
        Inj::Underage { .. } => "UNDERAGE_PAID",
        Inj::SuspendedPaid(_) => "PAID_WHILE_SUSPENDED",
        Inj::UncertifiedPaid { .. } => "UNCERTIFIED_PAID",
        Inj::AmountMismatch { .. } => "AMOUNT_MISMATCH",
        Inj::DupPayment { .. } => "DUP_PAYMENT",
        Inj::MovedOutActive { .. } => "MOVED_OUT_ACTIVE",
        Inj::LateDeath => "LATE_DEATH_REPORT",
        Inj::BadContribution(_) => "BAD_CONTRIBUTION",
        Inj::SubsidyMismatch(_) => "SUBSIDY_MISMATCH",
        Inj::PhotoOverdue(_) => "PHOTO_CERT_OVERDUE",
    }
}
