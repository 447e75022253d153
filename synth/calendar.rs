//! Months as plain integers, date helpers and the textual variants in which the
//! source systems write dates, months and money (docs/rules.md § Input acceptance).

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Write;

/// A calendar month as `year * 12 + (month - 1)`, so spans are integer arithmetic.
pub type Ym = i32;

pub fn ym(year: i32, month: u32) -> Ym {
    year * 12 + month as i32 - 1
}

pub fn ym_of(d: NaiveDate) -> Ym {
    ym(d.year(), d.month())
}

pub fn year_of(m: Ym) -> i32 {
    m.div_euclid(12)
}

pub fn month_of(m: Ym) -> u32 {
    (m.rem_euclid(12) + 1) as u32
}

/// A date that is valid by construction; out-of-range days are clamped to the month end.
pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    let last = days_in_month(ym(year, month));
    NaiveDate::from_ymd_opt(year, month, day.clamp(1, last)).unwrap_or(NaiveDate::MIN)
}

pub fn first_day(m: Ym) -> NaiveDate {
    date(year_of(m), month_of(m), 1)
}

pub fn last_day(m: Ym) -> NaiveDate {
    first_day(m + 1) - Duration::days(1)
}

pub fn day_in(m: Ym, day: u32) -> NaiveDate {
    date(year_of(m), month_of(m), day)
}

pub fn days_in_month(m: Ym) -> u32 {
    let (y, mo) = (year_of(m), month_of(m));
    match mo {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// The same calendar date `years` later (29 Feb becomes 28 Feb).
pub fn add_years(d: NaiveDate, years: i32) -> NaiveDate {
    date(d.year() + years, d.month(), d.day())
}

/// Whole years of age on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut a = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

/// The four date spellings the ingestion must accept.
#[derive(Clone, Copy, Debug)]
pub enum DateStyle {
    Iso,     // 2024-03-05
    Slash,   // 2024/3/5
    Compact, // 20240305
    Chinese, // 2024年3月5日
}

/// The three month spellings.
#[derive(Clone, Copy, Debug)]
pub enum MonthStyle {
    Dash,    // 2024-03
    Compact, // 202403
    Chinese, // 2024年3月
}

/// Money spellings: all mean the same exact amount.
#[derive(Clone, Copy, Debug)]
pub enum MoneyStyle {
    Plain, // 1234.50
    Comma, // 1,234.50
    Short, // 1234.5
    Yen,   // ¥1234.50
}

pub fn put_date(out: &mut String, d: NaiveDate, style: DateStyle) {
    let (y, m, dd) = (d.year(), d.month(), d.day());
    let _ = match style {
        DateStyle::Iso => write!(out, "{y:04}-{m:02}-{dd:02}"),
        DateStyle::Slash => write!(out, "{y}/{m}/{dd}"),
        DateStyle::Compact => write!(out, "{y:04}{m:02}{dd:02}"),
        DateStyle::Chinese => write!(out, "{y}年{m}月{dd}日"),
    };
}

pub fn put_month(out: &mut String, m: Ym, style: MonthStyle) {
    let (y, mo) = (year_of(m), month_of(m));
    let _ = match style {
        MonthStyle::Dash => write!(out, "{y:04}-{mo:02}"),
        MonthStyle::Compact => write!(out, "{y:04}{mo:02}"),
        MonthStyle::Chinese => write!(out, "{y}年{mo}月"),
    };
}

/// Half-up to the fen: the only rounding the rules allow.
pub fn fen(x: Decimal) -> Decimal {
    let mut r = x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// Yuan from an integer number of fen.
pub fn yuan_fen(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

pub fn put_money(out: &mut String, x: Decimal, style: MoneyStyle) {
    match style {
        MoneyStyle::Plain => {
            let _ = write!(out, "{}", fen(x));
        }
        MoneyStyle::Yen => {
            let _ = write!(out, "¥{}", fen(x));
        }
        MoneyStyle::Short => {
            let _ = write!(out, "{}", fen(x).normalize());
        }
        MoneyStyle::Comma => {
            let plain = fen(x).to_string();
            let (int, frac) = plain.split_once('.').unwrap_or((&plain, "00"));
            let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
            out.push_str(sign);
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            out.push('.');
            out.push_str(frac);
        }
    }
}

pub fn iso(d: NaiveDate) -> String {
    let mut s = String::with_capacity(10);
    put_date(&mut s, d, DateStyle::Iso);
    s
}

pub fn month_text(m: Ym) -> String {
    let mut s = String::with_capacity(7);
    put_month(&mut s, m, MonthStyle::Dash);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_styles() {
        let x = Decimal::new(123450, 2);
        let mut s = String::new();
        for st in [
            MoneyStyle::Plain,
            MoneyStyle::Comma,
            MoneyStyle::Short,
            MoneyStyle::Yen,
        ] {
            put_money(&mut s, x, st);
            s.push('|');
        }
        assert_eq!(s, "1234.50|1,234.50|1234.5|¥1234.50|");
        let mut t = String::new();
        put_money(&mut t, Decimal::new(99, 2), MoneyStyle::Comma);
        assert_eq!(t, "0.99");
    }

    #[test]
    fn months() {
        let m = ym(2024, 3);
        assert_eq!((year_of(m), month_of(m)), (2024, 3));
        assert_eq!(last_day(ym(2024, 2)), date(2024, 2, 29));
        let mut s = String::new();
        put_month(&mut s, m, MonthStyle::Chinese);
        put_date(&mut s, date(2024, 3, 5), DateStyle::Slash);
        assert_eq!(s, "2024年3月2024/3/5");
    }
}
