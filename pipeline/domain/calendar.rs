//! Date arithmetic on `chrono::NaiveDate` shared by the stages: the Parquet/Arrow
//! day numbers, month starts, ends and indexes, and dates written `YYYYMMDD`.

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

/// A date written as eight ASCII digits `YYYYMMDD` (`20240305`, and the birth date
/// inside an ID number); None when they are not a day of the calendar. Read by hand:
/// chrono's `parse_from_str` reads its format string again for every call, which at
/// tens of millions of ID numbers per ingest was a visible share.
pub fn from_yyyymmdd(s: &[u8]) -> Option<NaiveDate> {
    if s.len() != 8 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8))
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

    #[test]
    fn a_date_of_eight_digits_is_read_as_chrono_reads_yyyymmdd() {
        // Every day of 1880–2030, and the impossible ones around month ends.
        let mut d = NaiveDate::from_ymd_opt(1880, 1, 1).unwrap();
        while d.year_ce().1 <= 2030 {
            let text = d.format("%Y%m%d").to_string();
            assert_eq!(from_yyyymmdd(text.as_bytes()), Some(d), "{text}");
            d = d.succ_opt().unwrap();
        }
        for text in [
            "19500230", "19501301", "19500001", "19500100", "20230229", "1950010", "1950-101",
            "+1950101",
        ] {
            assert_eq!(
                from_yyyymmdd(text.as_bytes()),
                NaiveDate::parse_from_str(text, "%Y%m%d")
                    .ok()
                    .filter(|_| text.bytes().all(|b| b.is_ascii_digit())),
                "{text}"
            );
        }
        assert_eq!(
            from_yyyymmdd(b"20000229"),
            NaiveDate::from_ymd_opt(2000, 2, 29)
        );
    }
}
