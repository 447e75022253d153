//! Comparison: the levels compared of a pair ([`COMPARED`]), the fields weighed
//! ([`FIELDS`], name and birth date as one), each comparison, and the levels in
//! plain words for the evidence.

use chrono::{Datelike, NaiveDate};

use super::load::{shares_reading, Rec};
use crate::audit::names;

// Comparisons weighed at the levels they are compared at, shared by `COMPARED` and
// `FIELDS`.
const SAME_DIFFERENT_MISSING: &[&str] = &["same", "different", "missing"];
const SEX_LEVELS: (&str, &[&str]) = ("sex", SAME_DIFFERENT_MISSING);
const PLACE_LEVELS: (&str, &[&str]) = (
    "place",
    &["same_village", "same_township", "other_township"],
);
const PHONE_LEVELS: (&str, &[&str]) = ("phone", SAME_DIFFERENT_MISSING);
const BANK_LEVELS: (&str, &[&str]) = ("bank", SAME_DIFFERENT_MISSING);
const ADDRESS_LEVELS: (&str, &[&str]) = ("address", SAME_DIFFERENT_MISSING);
const REGISTER_LEVELS: (&str, &[&str]) = (
    "register",
    &["one_unregistered", "same_registered_name", "neither"],
);

/// What is compared of a pair, and the levels of each comparison: the levels a
/// pair gets ([`Levels`]) and what its evidence says.
pub const COMPARED: &[(&str, &[&str])] = &[
    (
        "name",
        &["exact", "sound", "shape", "swapped", "near", "different"],
    ),
    (
        "birth",
        &[
            "exact",
            "one_digit",
            "day_month_swapped",
            "different",
            "missing",
        ],
    ),
    SEX_LEVELS,
    PLACE_LEVELS,
    PHONE_LEVELS,
    BANK_LEVELS,
    ADDRESS_LEVELS,
    REGISTER_LEVELS,
];

/// The fields weighed and their levels, in the order of `dup_weights.toml`. Name and
/// birth date are weighed together, as one field (`identity`): within the blocks
/// they are far from independent — two persons of one name almost never share a
/// birth date but often have one a digit away, while a second enrollment of one
/// person differs in one of the two at most — so a one-digit birth date weighs
/// differently beside the same name than beside a name that only sounds the same.
pub const FIELDS: &[(&str, &[&str])] = &[
    (
        "identity",
        &[
            "same_name_same_birth",
            "alike_name_same_birth",
            "same_name_near_birth",
            "alike_name_near_birth",
            "near_name",
            "different",
            "birth_missing",
        ],
    ),
    SEX_LEVELS,
    PLACE_LEVELS,
    PHONE_LEVELS,
    BANK_LEVELS,
    ADDRESS_LEVELS,
    REGISTER_LEVELS,
];

const NAME: usize = 0;
const BIRTH: usize = 1;
/// The weighed field of name and birth date, and the register's (indices into [`FIELDS`]).
pub(super) const IDENTITY: usize = 0;
pub(super) const W_REGISTER: usize = 6;
const SEX: usize = 2;
const PLACE: usize = 3;
const PHONE: usize = 4;
const BANK: usize = 5;
const ADDRESS: usize = 6;
const REGISTER: usize = 7;

/// One level per comparison, as an index into that comparison's list in [`COMPARED`].
pub type Levels = [u8; 8];

/// One level per weighed field ([`FIELDS`]): name and birth date as one, the others
/// as compared.
pub type Scored = [u8; 7];

/// The weighed levels of a pair's compared levels. Identity: the same name (in
/// writing after folding) or an alike one (sounds the same, one character written
/// alike, given name swapped), with the same birth date or a near one (one digit
/// off, day and month swapped); names one character apart (birth the same or near);
/// different (name or birth date); a name the same or alike with no birth date.
pub fn scored(l: &Levels) -> Scored {
    let (name, birth) = (l[NAME], l[BIRTH]);
    let identity = match (name, birth) {
        (0..=3, 4) => 6,
        (4, 0..=2) => 4,
        (4.., _) | (_, 3..) => 5,
        (0, 0) => 0,
        (_, 0) => 1,
        (0, _) => 2,
        _ => 3,
    };
    [identity, l[2], l[3], l[4], l[5], l[6], l[7]]
}

fn name_level(a: &Rec, b: &Rec) -> u8 {
    let (x, y) = (&a.folded, &b.folded);
    if x == y {
        return 0;
    }
    if x.len() == y.len() {
        let (mut sound, mut shape, mut other) = (0, 0, 0);
        for i in 0..x.len() {
            if x[i] == y[i] {
                continue;
            } else if shares_reading(&a.sounds[i], &b.sounds[i]) {
                sound += 1;
            } else if names::looks_alike(x[i], y[i]) {
                shape += 1;
            } else {
                other += 1;
            }
        }
        if other == 0 && shape == 0 {
            return 1;
        }
        if other == 0 && shape == 1 {
            return 2;
        }
        if x.len() >= 3 && x[0] == y[0] {
            let (mut gx, mut gy) = (x[1..].to_vec(), y[1..].to_vec());
            gx.sort_unstable();
            gy.sort_unstable();
            if gx == gy {
                return 3;
            }
        }
        if other == 1 && shape == 0 && sound == 0 {
            return 4;
        }
        return 5;
    }
    if x.len().min(y.len()) >= 2 && names::distance_within(x, y, 1).is_some() {
        return 4;
    }
    5
}

/// Whether two dates' YYYYMMDD differ in exactly one digit.
fn one_digit(a: NaiveDate, b: NaiveDate) -> bool {
    let num = |d: NaiveDate| d.year() as u32 * 10_000 + d.month() * 100 + d.day();
    let (mut x, mut y, mut differ) = (num(a), num(b), 0);
    while x > 0 || y > 0 {
        differ += u32::from(x % 10 != y % 10);
        x /= 10;
        y /= 10;
    }
    differ == 1
}

fn birth_level(a: &Rec, b: &Rec) -> u8 {
    let mut best = 4u8;
    for x in a.births.iter().flatten() {
        for y in b.births.iter().flatten() {
            let l = if x == y {
                0
            } else if one_digit(*x, *y) {
                1
            } else if x.year() == y.year() && x.month() == y.day() && x.day() == y.month() {
                2
            } else {
                3
            };
            best = best.min(l);
        }
    }
    best
}

fn same_or_missing(a: u64, b: u64) -> u8 {
    match (a, b) {
        (0, _) | (_, 0) => 2,
        _ if a == b => 0,
        _ => 1,
    }
}

/// Same when the two share any address on record (the current ones, or one that a
/// later change record replaced), missing when either has none.
fn address_level(a: &Rec, b: &Rec) -> u8 {
    if a.addresses.is_empty() || b.addresses.is_empty() {
        return 2;
    }
    let (mut i, mut j) = (0, 0);
    while i < a.addresses.len() && j < b.addresses.len() {
        match a.addresses[i].cmp(&b.addresses[j]) {
            std::cmp::Ordering::Equal => return 0,
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    1
}

/// Both IDs in the public-security register under names that differ after
/// folding: the register holds two persons (twins, a couple, namesakes of one
/// birth date), and the pair is never a match.
pub(super) fn two_registered_persons(a: &Rec, b: &Rec) -> bool {
    a.registered && b.registered && a.reg_name != b.reg_name
}

pub(super) fn compare(a: &Rec, b: &Rec) -> Levels {
    let sex = match (a.sex, b.sex) {
        (Some(x), Some(y)) if x == y => 0,
        (Some(_), Some(_)) => 1,
        _ => 2,
    };
    let place = match (a.village, b.village) {
        (Some(x), Some(y)) if x == y => 0,
        _ if a.township == b.township => 1,
        _ => 2,
    };
    let register = match (a.registered, b.registered) {
        (true, false) | (false, true) => 0,
        (true, true) => 1,
        (false, false) => 2,
    };
    [
        name_level(a, b),
        birth_level(a, b),
        sex,
        place,
        same_or_missing(a.phone, b.phone),
        same_or_missing(a.bank, b.bank),
        address_level(a, b),
        register,
    ]
}

fn first_birth(r: &Rec) -> String {
    r.births
        .iter()
        .flatten()
        .next()
        .map_or_else(String::new, |d| d.to_string())
}

/// The levels in plain words, strongest evidence first as the fields come.
pub(super) fn explain(a: &Rec, b: &Rec, l: &Levels, score: f64, places: &[String]) -> String {
    let mut why: Vec<String> = Vec::new();
    let names_pair = format!("{} / {}", a.name, b.name);
    why.push(match l[NAME] {
        0 if a.name == b.name => format!("same name {}", a.name),
        0 => format!("same name written differently {names_pair}"),
        1 => format!(
            "names sound the same: {} ({names_pair})",
            names::sound(&a.name)
        ),
        2 => format!("names one character written alike ({names_pair})"),
        3 => format!("same name with the given name swapped ({names_pair})"),
        4 => format!("names one character apart ({names_pair})"),
        _ => format!("different names ({names_pair})"),
    });
    let (ba, bb) = (first_birth(a), first_birth(b));
    why.push(match l[BIRTH] {
        0 => format!("same birth date {ba}"),
        1 => format!("birth dates one digit apart {ba} / {bb}"),
        2 => format!("birth day and month swapped {ba} / {bb}"),
        3 => format!("different birth dates {ba} / {bb}"),
        _ => "birth date unknown".into(),
    });
    if l[SEX] == 1 {
        why.push("different sex".into());
    }
    let town = |r: &Rec| places[r.township as usize].clone();
    why.push(match l[PLACE] {
        0 => format!(
            "same village {}",
            a.village.map_or("", |v| places[v as usize].as_str())
        ),
        1 => format!("same township {}", town(a)),
        _ => format!("different townships {} / {}", town(a), town(b)),
    });
    if l[ADDRESS] == 0 && a.address != b.address {
        why.push("an earlier address the same (changed since)".into());
    }
    for (f, label) in [(PHONE, "phone"), (BANK, "bank card"), (ADDRESS, "address")] {
        if f == ADDRESS && l[f] == 0 && a.address != b.address {
            continue;
        }
        match l[f] {
            0 => why.push(format!("same {label}")),
            1 => why.push(format!("different {label}")),
            _ => {}
        }
    }
    why.push(match l[REGISTER] {
        0 => {
            let unknown = if a.registered { &b.id } else { &a.id };
            format!("ID {unknown} not in the public-security register (id_registry)")
        }
        1 => "both IDs registered under the same name (duplicate hukou?)".into(),
        _ => "neither ID in the register".into(),
    });
    format!("{}; score {score:.1}", why.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_digit_dates() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert!(one_digit(d("1960-03-05"), d("1960-03-08")));
        assert!(!one_digit(d("1960-03-05"), d("1960-05-03")));
    }
}
