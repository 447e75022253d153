//! The county's parameters: the values written to the reference tables and used by
//! the generator. One place, so the reference files and the arithmetic cannot drift.

use super::calendar::{ym, Ym};
use rust_decimal::Decimal;

/// The scheme began on 2011-07-01 (城乡居民基本养老保险 in this county).
pub const SCHEME_START: (i32, u32, u32) = (2011, 7, 1);
/// Persons born on or before this date were 60 at the start and get the basic pension
/// without contributing.
pub const OLD_COHORT_BORN_BY: (i32, u32, u32) = (1951, 6, 30);
/// Account pension divisor (计发月数) for retirement at 60.
pub const DIVISOR: i64 = 139;
/// A death must be reported (cancellation applied) within this many days.
pub const DEATH_REPORT_DAYS: i64 = 60;
/// Receipt books hold this many numbers.
pub const BOOK_SIZE: u32 = 50;

/// One-year rates in percent, as written to `interest_rate` (记账利率).
pub const RATES: &[(i32, i64)] = &[
    (2011, 300),
    (2012, 300),
    (2013, 300),
    (2014, 300),
    (2015, 225),
    (2016, 150),
    (2017, 150),
    (2018, 150),
    (2019, 150),
    (2020, 150),
    (2021, 150),
    (2022, 150),
    (2023, 145),
    (2024, 135),
    (2025, 110),
    (2026, 95),
];

/// Rate of year `y` in percent (the last known rate for later years).
pub fn rate_percent(y: i32) -> Decimal {
    let cents = RATES
        .iter()
        .rev()
        .find(|(year, _)| *year <= y)
        .or(RATES.first())
        .map_or(0, |(_, r)| *r);
    Decimal::new(cents, 2)
}

/// Basic pension standard: (year, month, fen) in force from that month on.
pub const STANDARDS: &[(i32, u32, i64)] = &[
    (2011, 7, 5500),
    (2014, 7, 7000),
    (2018, 1, 8800),
    (2020, 1, 9800),
    (2022, 1, 10800),
    (2024, 1, 11800),
    (2025, 1, 13800),
];

/// The basic pension standard in force in month `m`.
pub fn standard(m: Ym) -> Decimal {
    let fen = STANDARDS
        .iter()
        .rev()
        .find(|(y, mo, _)| ym(*y, *mo) <= m)
        .map_or(STANDARDS[0].2, |s| s.2);
    Decimal::new(fen, 2)
}

/// Contribution tiers (yuan/year) with their government subsidy split
/// (central, province, city, county) in yuan. Central pays no contribution subsidy here,
/// and the city only co-funds the tiers from 400 yuan up.
pub const TIERS: &[(u32, [i64; 4])] = &[
    (100, [0, 15, 0, 15]),
    (200, [0, 20, 0, 15]),
    (300, [0, 20, 0, 20]),
    (400, [0, 20, 10, 15]),
    (500, [0, 25, 10, 15]),
    (600, [0, 30, 10, 20]),
    (700, [0, 30, 15, 20]),
    (800, [0, 35, 15, 20]),
    (900, [0, 35, 15, 25]),
    (1000, [0, 40, 15, 25]),
    (1500, [0, 50, 20, 30]),
    (2000, [0, 60, 25, 35]),
];

/// Relative frequency of each tier among enrollees: rural payers choose low tiers.
pub const TIER_WEIGHTS: &[u32] = &[550, 180, 90, 40, 50, 20, 10, 10, 5, 25, 10, 10];

/// Subsidy split for a tier; zero for an amount that is no tier.
pub fn tier_split(tier: u32) -> [Decimal; 4] {
    TIERS
        .iter()
        .find(|(t, _)| *t == tier)
        .map_or([Decimal::ZERO; 4], |(_, s)| {
            s.map(|y| Decimal::new(y * 100, 2))
        })
}

pub fn tier_subsidy(tier: u32) -> Decimal {
    tier_split(tier).iter().sum()
}

/// Subsidy levels in table order, with their Chinese and English names.
pub const LEVELS: [(&str, &str); 4] = [
    ("中央", "central"),
    ("省级", "province"),
    ("市级", "city"),
    ("县级", "county"),
];
