//! `Month`: a calendar month (`YYYY-MM`), as the commands take it (`--month`,
//! `--through`) and as the rules speak of it (the parameters in force on its last
//! day, a payout month, a statement through a month).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use super::calendar;

/// A calendar month, held as its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(NaiveDate);

/// A text that is not a `YYYY-MM` month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a month (expected YYYY-MM, e.g. 2026-10)")]
pub struct MonthError(pub String);

impl Month {
    /// The month `year`-`month` (1–12), if it exists.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        NaiveDate::from_ymd_opt(year, month, 1).map(Month)
    }

    /// The month a date falls in.
    pub fn of(d: NaiveDate) -> Month {
        Month(calendar::month_start(d))
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// 1–12.
    pub fn month(self) -> u32 {
        self.0.month()
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    pub fn last_day(self) -> NaiveDate {
        calendar::month_end(self.0)
    }

    pub fn next(self) -> Month {
        Month(calendar::month_of_index(calendar::month_index(self.0) + 1))
    }

    pub fn prev(self) -> Month {
        Month(calendar::month_of_index(calendar::month_index(self.0) - 1))
    }
}

impl FromStr for Month {
    type Err = MonthError;

    /// Exactly `YYYY-MM` (surrounding spaces ignored): the form the usage text
    /// shows. The looser forms a business file may carry (`202403`, `2024年3月`) are
    /// ingest's to accept (`ingest::value::parse_month`), not the command line's.
    fn from_str(text: &str) -> Result<Month, MonthError> {
        let bad = || MonthError(text.trim().to_string());
        let s = text.trim();
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) {
            return Err(bad());
        }
        Month::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl From<Month> for NaiveDate {
    fn from(m: Month) -> NaiveDate {
        m.first_day()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_yyyy_mm() {
        assert_eq!(m("2026-10").to_string(), "2026-10");
        assert_eq!(
            m(" 2024-02 ").last_day(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
        assert_eq!(
            m("2026-10").first_day(),
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
        );
    }

    #[test]
    fn refuses_what_is_not_a_month_with_the_text() {
        for bad in [
            "2026-13", "2026-00", "202610", "2026-1", "26-10", "2026/10", "", "2026-1a",
        ] {
            let e = bad.parse::<Month>().unwrap_err();
            assert!(e.to_string().contains("is not a month"), "{bad}: {e}");
            assert!(e.to_string().contains(&format!("`{}`", bad.trim())), "{e}");
        }
    }

    #[test]
    fn next_and_prev_cross_years() {
        assert_eq!(m("2026-12").next(), m("2027-01"));
        assert_eq!(m("2027-01").prev(), m("2026-12"));
        assert_eq!(m("2026-10").next().prev(), m("2026-10"));
        assert_eq!(
            Month::of(NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()),
            m("2026-10")
        );
    }
}
