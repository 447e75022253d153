//! Date arithmetic on `chrono::NaiveDate` shared by the stages: the Parquet/Arrow
//! day numbers, and month starts, ends and indexes.

use chrono::{Datelike, NaiveDate};

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")
}

/// Days from 1970-01-01 (the Parquet/Arrow DATE representation).
pub fn epoch_days(d: NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

/// The date of a Parquet/Arrow DATE value (days from 1970-01-01).
pub fn from_epoch_days(days: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(days as i64)
}

/// First day of the month of `d`.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// Months since year 0: a compact month index.
pub fn month_index(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

/// First day of the month with index `m`.
pub fn month_of_index(m: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1).expect("valid month")
}

/// Last day of the month of `d`.
pub fn month_end(d: NaiveDate) -> NaiveDate {
    month_of_index(month_index(d) + 1)
        .pred_opt()
        .expect("a day before")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn epoch_days_round_trip() {
        assert_eq!(epoch_days(d(1970, 1, 1)), 0);
        assert_eq!(epoch_days(d(2024, 3, 5)), 19_787);
        assert_eq!(from_epoch_days(19_787), d(2024, 3, 5));
        assert_eq!(from_epoch_days(-1), d(1969, 12, 31));
    }

    #[test]
    fn month_ends_know_leap_years_and_december() {
        assert_eq!(month_end(d(2024, 2, 10)), d(2024, 2, 29));
        assert_eq!(month_end(d(2023, 2, 1)), d(2023, 2, 28));
        assert_eq!(month_end(d(2026, 12, 31)), d(2026, 12, 31));
        assert_eq!(month_start(d(2026, 12, 31)), d(2026, 12, 1));
        assert_eq!(
            month_of_index(month_index(d(2026, 12, 5)) + 1),
            d(2027, 1, 1)
        );
    }
}
