//! The people of the county: households in villages, with births, deaths, moves,
//! schooling, employee-pension careers and prison terms. Everything the public
//! security, civil affairs, health, justice and employee-pension registries know.

use super::calendar::{add_years, age_on, date, days, first_day, ym_of};
use super::geo::{Geo, OTHER_REGIONS, XINJIANG_REGIONS};
use super::names;
use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hukou {
    Agri,
    NonAgri,
    Resident,
}

impl Hukou {
    pub fn zh(self) -> &'static str {
        match self {
            Hukou::Agri => "农业",
            Hukou::NonAgri => "非农业",
            Hukou::Resident => "居民",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Hukou::Agri => "agri",
            Hukou::NonAgri => "nonagri",
            Hukou::Resident => "resident",
        }
    }
}

/// A change of register status other than death.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegMove {
    MovedOut,
    Emigrated,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmpStatus {
    Contributing,
    Receiving,
    Ended,
}

/// Membership of the urban employee pension (城镇职工养老保险).
#[derive(Clone, Copy, Debug)]
pub struct EmpSpell {
    pub status: EmpStatus,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub employer: usize,
}

impl EmpSpell {
    /// Whether the spell (contributing or receiving) touches any day of month `m`.
    pub fn covers_month(&self, m: i32) -> bool {
        ym_of(self.start) <= m && self.end.is_none_or(|e| ym_of(e) >= m)
    }
}

/// Death record sources (bit flags).
pub const SRC_POLICE: u8 = 1;
pub const SRC_CREMATION: u8 = 2;
pub const SRC_MEDICAL: u8 = 4;

#[derive(Clone, Debug)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub male: bool,
    pub birth: NaiveDate,
    pub village: usize,
    pub hukou: Hukou,
    pub household: u32,
    pub spouse: Option<u32>,
    pub in_school: bool,
    pub death: Option<NaiveDate>,
    pub death_src: u8,
    pub moved: Option<(RegMove, NaiveDate)>,
    pub employee: Option<EmpSpell>,
    /// Prison term: admission, release (None while serving).
    pub prison: Option<(NaiveDate, Option<NaiveDate>)>,
    /// False for a fabricated identity that the public-security register does not know.
    pub in_register: bool,
    /// Twins, minority-name persons and other look-alike material: kept free of
    /// random life events.
    pub special: bool,
    pub twin_of: Option<u32>,
}

/// Status in the household register (户籍状态) with its date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegStatus {
    Normal,
    Dead,
    MovedOut,
    Emigrated,
    Cancelled,
}

impl Person {
    pub fn status(&self) -> (RegStatus, Option<NaiveDate>) {
        match (self.death, self.moved) {
            (Some(d), _) if self.death_src & SRC_POLICE != 0 => (RegStatus::Dead, Some(d)),
            (_, Some((RegMove::MovedOut, d))) => (RegStatus::MovedOut, Some(d)),
            (_, Some((RegMove::Emigrated, d))) => (RegStatus::Emigrated, Some(d)),
            (_, Some((RegMove::Cancelled, d))) => (RegStatus::Cancelled, Some(d)),
            _ => (RegStatus::Normal, None),
        }
    }
    /// Dead per the register or any death record.
    pub fn known_dead(&self) -> bool {
        self.death.is_some() && self.death_src != 0
    }
    pub fn sixtieth(&self) -> NaiveDate {
        add_years(self.birth, 60)
    }
}

pub struct Population {
    pub persons: Vec<Person>,
    ids: HashSet<String>,
    name_births: HashSet<(String, NaiveDate)>,
    t_end: NaiveDate,
    /// The county's region code and its nine neighbours' (Geo::other_region).
    county: &'static str,
    neighbours: [&'static str; 9],
}

/// Age at the through date (if alive) of a household head: weights per band.
const HEAD_AGES: &[(i32, i32, u32)] = &[
    (22, 29, 7),
    (30, 39, 10),
    (40, 49, 15),
    (50, 59, 19),
    (60, 69, 16),
    (70, 79, 10),
    (80, 89, 6),
    (90, 100, 2),
];

impl Population {
    pub fn generate(n: u32, rng: &mut ChaCha8Rng, geo: &Geo, t_end: NaiveDate) -> Population {
        let mut pop = Population {
            persons: Vec::with_capacity(n as usize + 64),
            ids: HashSet::with_capacity(n as usize + 64),
            name_births: HashSet::with_capacity(n as usize + 64),
            t_end,
            county: geo.code,
            neighbours: std::array::from_fn(|i| geo.other_region(i).0),
        };
        let villages = geo.used_villages(n);
        let quotas = split_quota(n, &villages, geo);
        let mut twins_left = (n / 1500).max(2);
        let mut minority_left = (n / 2500).max(2);
        let mut hh = 0u32;
        for (&v, &quota) in villages.iter().zip(&quotas) {
            let street = geo.township_of(v).name.ends_with("街道");
            let start = pop.persons.len();
            while pop.persons.len() - start < quota {
                let room = quota - (pop.persons.len() - start);
                if twins_left > 0 && room >= 4 {
                    pop.twin_household(rng, v, hh);
                    twins_left -= 1;
                } else if minority_left > 0 && room >= 2 {
                    pop.minority_household(rng, v, hh);
                    minority_left -= 1;
                } else {
                    pop.household(rng, v, hh, room, street);
                }
                hh += 1;
            }
        }
        for i in 0..pop.persons.len() {
            pop.life_events(rng, i);
        }
        pop
    }

    /// A fresh valid ID number, unique in the county.
    pub fn new_id<R: Rng>(
        &mut self,
        rng: &mut R,
        region: &str,
        birth: NaiveDate,
        male: bool,
    ) -> String {
        loop {
            let seq = rng.random_range(0..500u16) * 2 + u16::from(male);
            let id = pension::idnum::make(region, birth, seq);
            if self.ids.insert(id.clone()) {
                return id;
            }
        }
    }

    /// Claims a (name, birth date) pair for an enrollment that misspells a name or a
    /// birth date, so the misspelling cannot make two people look like one.
    pub fn claim_name(&mut self, name: &str, birth: NaiveDate) -> bool {
        self.name_births
            .insert((names::normalize_name(name), birth))
    }

    /// Whether an ID number is already used by someone.
    pub fn id_taken(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Reserves an ID number that belongs to no register person (fabricated).
    pub fn reserve_id(&mut self, id: &str) -> bool {
        self.ids.insert(id.to_string())
    }

    fn unique_name<R: Rng>(
        &mut self,
        rng: &mut R,
        surname: &str,
        birth: NaiveDate,
        male: bool,
    ) -> String {
        for attempt in 0..200 {
            let mut name = format!("{surname}{}", names::given(rng, birth.year(), male));
            if attempt > 100 {
                name.push_str(&names::given(rng, birth.year(), male));
            }
            if self
                .name_births
                .insert((names::normalize_name(&name), birth))
            {
                return name;
            }
        }
        format!(
            "{surname}{}{}",
            names::given(rng, birth.year(), male),
            self.persons.len()
        )
    }

    fn birth_for_age<R: Rng>(&self, rng: &mut R, age: i32) -> NaiveDate {
        let base = add_years(self.t_end, -age) - days(rng.random_range(1..365));
        base.max(date(1915, 1, 1))
    }

    fn region<R: Rng>(&self, rng: &mut R, local_share: f64) -> &'static str {
        if rng.random_bool(local_share) {
            self.county
        } else if rng.random_bool(0.6) {
            self.neighbours[rng.random_range(0..9)]
        } else {
            OTHER_REGIONS[rng.random_range(9..OTHER_REGIONS.len())].0
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add<R: Rng>(
        &mut self,
        rng: &mut R,
        village: usize,
        hh: u32,
        surname: &str,
        birth: NaiveDate,
        male: bool,
        region: &str,
        hukou: Hukou,
    ) -> u32 {
        let name = self.unique_name(rng, surname, birth, male);
        let id = self.new_id(rng, region, birth, male);
        self.push(Person {
            id,
            name,
            male,
            birth,
            village,
            hukou,
            household: hh,
            spouse: None,
            in_school: false,
            death: None,
            death_src: 0,
            moved: None,
            employee: None,
            prison: None,
            in_register: true,
            special: false,
            twin_of: None,
        })
    }

    pub fn push(&mut self, p: Person) -> u32 {
        self.persons.push(p);
        (self.persons.len() - 1) as u32
    }

    fn marry(&mut self, a: u32, b: u32) {
        self.persons[a as usize].spouse = Some(b);
        self.persons[b as usize].spouse = Some(a);
    }

    fn household<R: Rng>(&mut self, rng: &mut R, v: usize, hh: u32, room: usize, street: bool) {
        let age = weighted_age(rng, HEAD_AGES);
        let hukou = match rng.random_range(0..100) {
            x if x < (if street { 40 } else { 85 }) => Hukou::Agri,
            x if x < 93 => Hukou::Resident,
            _ => Hukou::NonAgri,
        };
        let surname = names::surname(rng);
        let couple = room >= 2 && rng.random_bool(if age < 30 { 0.6 } else { 0.88 });
        let head_male = couple || rng.random_bool(0.45);
        let hb = self.birth_for_age(rng, age);
        let head_region = self.region(rng, 0.95);
        let head = self.add(rng, v, hh, surname, hb, head_male, head_region, hukou);
        let mut used = 1;
        if !couple {
            return;
        }
        let wife_age = (age - rng.random_range(-1..6)).max(20);
        let wb = self.birth_for_age(rng, wife_age);
        let wife_surname = names::surname(rng);
        let wife_region = self.region(rng, 0.75);
        let wife = self.add(rng, v, hh, wife_surname, wb, false, wife_region, hukou);
        self.marry(head, wife);
        used += 1;
        let kids = match age {
            22..=55 => [0, 1, 1, 2, 2, 2, 2, 3][rng.random_range(0..8)],
            56..=72 => usize::from(rng.random_bool(0.3)),
            _ => 0,
        };
        for _ in 0..kids {
            if used >= room {
                break;
            }
            let kid_age = wife_age - rng.random_range(21..34);
            if !(0..=32).contains(&kid_age) {
                continue;
            }
            let kb = self.birth_for_age(rng, kid_age);
            let male = rng.random_bool(0.52);
            let region = self.region(rng, 0.97);
            self.add(rng, v, hh, surname, kb, male, region, hukou);
            used += 1;
        }
    }

    /// A couple with adult twins (same birth date, similar names): look-alikes that
    /// must not be taken for one person.
    fn twin_household<R: Rng>(&mut self, rng: &mut R, v: usize, hh: u32) {
        let age = rng.random_range(50..60);
        let surname = names::surname(rng);
        let hb = self.birth_for_age(rng, age);
        let wb = self.birth_for_age(rng, age - 2);
        let head = self.add(rng, v, hh, surname, hb, true, self.county, Hukou::Agri);
        let wife_surname = names::surname(rng);
        let wife = self.add(
            rng,
            v,
            hh,
            wife_surname,
            wb,
            false,
            self.county,
            Hukou::Agri,
        );
        self.marry(head, wife);
        let twin_age = rng.random_range(24..31);
        let tb = self.birth_for_age(rng, twin_age);
        let male = rng.random_bool(0.5);
        let a = self.add(rng, v, hh, surname, tb, male, self.county, Hukou::Agri);
        let first_given: String = self.persons[a as usize]
            .name
            .chars()
            .skip(surname.chars().count())
            .collect();
        let first_given = if first_given.chars().count() == 2 {
            first_given
        } else {
            format!("{first_given}国")
        };
        let b_name = loop {
            let cand = format!(
                "{surname}{}",
                names::twin_given(rng, &first_given, tb.year(), male)
            );
            if self.name_births.insert((names::normalize_name(&cand), tb)) {
                break cand;
            }
        };
        let b = self.add(rng, v, hh, surname, tb, male, self.county, Hukou::Agri);
        self.persons[b as usize].name = b_name;
        for (x, y) in [(a, b), (b, a)] {
            let p = &mut self.persons[x as usize];
            p.special = true;
            p.twin_of = Some(y);
        }
    }

    fn minority_household<R: Rng>(&mut self, rng: &mut R, v: usize, hh: u32) {
        let region = XINJIANG_REGIONS[rng.random_range(0..XINJIANG_REGIONS.len())];
        let age = rng.random_range(30..56);
        let mut pair = Vec::new();
        for male in [true, false] {
            let cands: Vec<&str> = names::MINORITY
                .iter()
                .filter(|m| m.1 == male)
                .map(|m| m.0)
                .collect();
            let birth = self.birth_for_age(rng, if male { age } else { age - 2 });
            let name = cands[rng.random_range(0..cands.len())].to_string();
            if !self
                .name_births
                .insert((names::normalize_name(&name), birth))
            {
                continue;
            }
            let id = self.new_id(rng, region, birth, male);
            let i = self.push(Person {
                id,
                name,
                male,
                birth,
                village: v,
                hukou: Hukou::Resident,
                household: hh,
                spouse: None,
                in_school: false,
                death: None,
                death_src: 0,
                moved: None,
                employee: None,
                prison: None,
                in_register: true,
                special: true,
                twin_of: None,
            });
            pair.push(i);
        }
        if let [a, b] = pair[..] {
            self.marry(a, b);
        }
    }

    /// Schooling, death, moves, employee pension and prison for person `i`.
    fn life_events<R: Rng>(&mut self, rng: &mut R, i: usize) {
        let t_end = self.t_end;
        let start = date(2011, 7, 1);
        let p = &mut self.persons[i];
        let age_now = age_on(p.birth, t_end);
        if (16..=22).contains(&age_now) {
            p.in_school = rng.random_bool(if age_now <= 18 { 0.45 } else { 0.3 });
        }
        if p.special {
            return;
        }
        p.death = death_date(rng, p.birth, start, t_end);
        if p.death.is_some() {
            p.death_src = death_sources(rng);
        }
        let alive = p.death.is_none();
        if alive && (18..=58).contains(&age_now) && !p.in_school {
            let x: f64 = rng.random();
            let kind = if x < 0.015 {
                Some(RegMove::MovedOut)
            } else if x < 0.017 {
                Some(RegMove::Emigrated)
            } else if x < 0.02 {
                Some(RegMove::Cancelled)
            } else {
                None
            };
            if let Some(k) = kind {
                let lo = first_day(ym_of(start) + 6).max(add_years(p.birth, 18));
                let hi = t_end - days(90);
                if lo < hi {
                    p.moved = Some((k, between(rng, lo, hi)));
                }
            }
        }
        p.employee = employee_spell(rng, p, t_end);
        if p.moved.is_none() && (20..=75).contains(&age_now) && rng.random_bool(0.002) {
            p.prison = prison_term(rng, p.birth, p.death, t_end);
        }
    }
}

fn split_quota(n: u32, villages: &[usize], geo: &Geo) -> Vec<usize> {
    let total: u64 = villages
        .iter()
        .map(|&v| geo.villages[v].weight as u64)
        .sum();
    let mut q: Vec<usize> = villages
        .iter()
        .map(|&v| (n as u64 * geo.villages[v].weight as u64 / total.max(1)) as usize)
        .collect();
    let mut left = n as usize - q.iter().sum::<usize>();
    let mut i = 0;
    while left > 0 {
        let n = q.len();
        q[i % n] += 1;
        left -= 1;
        i += 1;
    }
    q
}

fn weighted_age<R: Rng>(rng: &mut R, bands: &[(i32, i32, u32)]) -> i32 {
    let total: u32 = bands.iter().map(|b| b.2).sum();
    let mut x = rng.random_range(0..total);
    for &(lo, hi, w) in bands {
        if x < w {
            return rng.random_range(lo..=hi);
        }
        x -= w;
    }
    40
}

pub fn between<R: Rng>(rng: &mut R, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
    let span = (hi - lo).num_days().max(0);
    lo + days(rng.random_range(0..=span))
}

/// Gompertz-like annual death probability for a rural county.
fn death_date<R: Rng>(
    rng: &mut R,
    birth: NaiveDate,
    start: NaiveDate,
    t_end: NaiveDate,
) -> Option<NaiveDate> {
    let mut y = start.year();
    while date(y, 1, 1) <= t_end {
        let age = (y - birth.year()) as f64;
        let q = (0.00002 * (0.1 * age).exp()).min(0.6) * if y == start.year() { 0.5 } else { 1.0 };
        if rng.random_bool(q) {
            let lo = date(y, 1, 1).max(start).max(birth + days(1));
            // No deaths in the last 70 days: every death has had time to be reported.
            let hi = date(y, 12, 31).min(t_end - days(70));
            if lo <= hi {
                return Some(between(rng, lo, hi));
            }
        }
        y += 1;
    }
    None
}

/// Which sources report a death: police (register) most, then medical, cremation;
/// at least one.
fn death_sources<R: Rng>(rng: &mut R) -> u8 {
    let mut s = 0;
    if rng.random_bool(0.85) {
        s |= SRC_POLICE;
    }
    if rng.random_bool(0.55) {
        s |= SRC_CREMATION;
    }
    if rng.random_bool(0.65) {
        s |= SRC_MEDICAL;
    }
    if s == 0 {
        s = SRC_MEDICAL;
    }
    s
}

fn employee_spell<R: Rng>(rng: &mut R, p: &Person, t_end: NaiveDate) -> Option<EmpSpell> {
    let age = age_on(p.birth, t_end);
    let employer = rng.random_range(0..super::geo::EMPLOYERS.len());
    if !p.in_school && (23..=55).contains(&age) && p.moved.is_none() && rng.random_bool(0.05) {
        let lo = add_years(p.birth, 21).max(date(1998, 1, 1));
        let hi = t_end - days(30);
        return (lo < hi).then(|| EmpSpell {
            status: EmpStatus::Contributing,
            start: between(rng, lo, hi),
            end: None,
            employer,
        });
    }
    if age >= 62 && rng.random_bool(0.04) {
        let retire = add_years(p.birth, if p.male { 60 } else { 55 });
        let end = p.death;
        return (retire < t_end && end.is_none_or(|d| d > retire)).then_some(EmpSpell {
            status: EmpStatus::Receiving,
            start: retire,
            end,
            employer,
        });
    }
    if (35..=70).contains(&age) && rng.random_bool(0.02) {
        let start = between(rng, date(1995, 1, 1), date(2004, 12, 31)).max(add_years(p.birth, 18));
        let end = (start + days(rng.random_range(700..2500))).min(date(2011, 5, 31));
        return (start < end).then_some(EmpSpell {
            status: EmpStatus::Ended,
            start,
            end: Some(end),
            employer,
        });
    }
    None
}

/// A prison term; admission early in a month (before the payment batch).
pub fn prison_term<R: Rng>(
    rng: &mut R,
    birth: NaiveDate,
    death: Option<NaiveDate>,
    t_end: NaiveDate,
) -> Option<(NaiveDate, Option<NaiveDate>)> {
    let lo = date(2009, 1, 1).max(add_years(birth, 18));
    let hi = death.unwrap_or(t_end).min(t_end) - days(60);
    if lo >= hi {
        return None;
    }
    let s = between(rng, lo, hi);
    let start = date(s.year(), s.month(), rng.random_range(1..=7));
    let end = start + days(rng.random_range(150..1500));
    let end = (end < t_end - days(5) && death.is_none_or(|d| d > end)).then_some(end);
    if end.is_none() && death.is_some() {
        return None;
    }
    Some((start, end))
}
