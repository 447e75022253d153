//! `Period`: the span a report package covers — a month, a quarter (`2026-Q3`) or
//! a natural year (`2025`) — as the centre's calendar speaks of them (月报、季报、
//! 年报; 月督查、季考核、年考评). A period is whole months, held as its first and
//! last month; its flows are summed over those months and its positions are taken
//! on its last day.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use super::Month;

/// What kind of span a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

/// Whole months from `first` to `last` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    kind: PeriodKind,
    first: Month,
    last: Month,
}

/// A text that is not a quarter (`YYYY-Qn`) or a year (`YYYY`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a {what}")]
pub struct PeriodError {
    pub text: String,
    pub what: &'static str,
}

impl Period {
    pub fn month(m: Month) -> Period {
        Period {
            kind: PeriodKind::Month,
            first: m,
            last: m,
        }
    }

    /// Quarter `q` (1–4) of `year`.
    pub fn quarter(year: i32, q: u32) -> Option<Period> {
        if !(1..=4).contains(&q) {
            return None;
        }
        let first = Month::new(year, 3 * q - 2)?;
        Some(Period {
            kind: PeriodKind::Quarter,
            first,
            last: Month::new(year, 3 * q)?,
        })
    }

    pub fn year(year: i32) -> Option<Period> {
        Some(Period {
            kind: PeriodKind::Year,
            first: Month::new(year, 1)?,
            last: Month::new(year, 12)?,
        })
    }

    pub fn kind(self) -> PeriodKind {
        self.kind
    }

    pub fn first_month(self) -> Month {
        self.first
    }

    /// The month whose end the period's positions are taken at.
    pub fn last_month(self) -> Month {
        self.last
    }

    pub fn first_day(self) -> NaiveDate {
        self.first.first_day()
    }

    pub fn last_day(self) -> NaiveDate {
        self.last.last_day()
    }

    /// The months of the period, in order.
    pub fn months(self) -> Vec<Month> {
        let mut out = vec![self.first];
        while *out.last().unwrap_or(&self.last) < self.last {
            let next = out[out.len() - 1].next();
            out.push(next);
        }
        out
    }

    /// The same period a year earlier (同比).
    pub fn a_year_earlier(self) -> Period {
        let back = |m: Month| Month::new(m.year() - 1, m.month()).unwrap_or(m);
        Period {
            kind: self.kind,
            first: back(self.first),
            last: back(self.last),
        }
    }

    /// How the period is written in file names and on the command line:
    /// `2026-10`, `2026-Q3`, `2025`.
    pub fn label(self) -> String {
        match self.kind {
            PeriodKind::Month => self.first.to_string(),
            PeriodKind::Quarter => {
                format!("{}-Q{}", self.first.year(), self.first.month().div_ceil(3))
            }
            PeriodKind::Year => self.first.year().to_string(),
        }
    }

    /// How the period is written in a title: 2026年10月, 2026年第3季度, 2025年度.
    pub fn label_zh(self) -> String {
        match self.kind {
            PeriodKind::Month => format!("{}年{:02}月", self.first.year(), self.first.month()),
            PeriodKind::Quarter => {
                format!(
                    "{}年第{}季度",
                    self.first.year(),
                    self.first.month().div_ceil(3)
                )
            }
            PeriodKind::Year => format!("{}年度", self.first.year()),
        }
    }

    /// The package's name: 月报, 季报 (季度工作总结), 年报 (年度决算).
    pub fn package_zh(self) -> &'static str {
        match self.kind {
            PeriodKind::Month => "月报",
            PeriodKind::Quarter => "季报",
            PeriodKind::Year => "年报",
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// A quarter as the command line takes it: `YYYY-Qn` (`q` in either case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quarter(pub Period);

impl FromStr for Quarter {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Quarter, PeriodError> {
        let bad = || PeriodError {
            text: text.trim().to_string(),
            what: "quarter (expected YYYY-Qn, e.g. 2026-Q3)",
        };
        let s = text.trim().to_ascii_uppercase();
        let (y, q) = s.split_once("-Q").ok_or_else(bad)?;
        if y.len() != 4 || q.len() != 1 {
            return Err(bad());
        }
        let (y, q) = (y.parse().map_err(|_| bad())?, q.parse().map_err(|_| bad())?);
        Period::quarter(y, q).map(Quarter).ok_or_else(bad)
    }
}

/// A natural year as the command line takes it: `YYYY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Year(pub Period);

impl FromStr for Year {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Year, PeriodError> {
        let bad = || PeriodError {
            text: text.trim().to_string(),
            what: "year (expected YYYY, e.g. 2025)",
        };
        let s = text.trim();
        if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Period::year(s.parse().map_err(|_| bad())?)
            .map(Year)
            .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_and_years_parse_and_span_their_months() {
        let q: Quarter = "2026-q3".parse().unwrap();
        assert_eq!(q.0.label(), "2026-Q3");
        assert_eq!(q.0.label_zh(), "2026年第3季度");
        assert_eq!(
            q.0.first_day(),
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
        );
        assert_eq!(
            q.0.last_day(),
            NaiveDate::from_ymd_opt(2026, 9, 30).unwrap()
        );
        assert_eq!(q.0.months().len(), 3);
        let y: Year = "2025".parse().unwrap();
        assert_eq!(y.0.months().len(), 12);
        assert_eq!(
            y.0.last_day(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        );
        assert_eq!(y.0.a_year_earlier().label(), "2024");
        assert_eq!(q.0.a_year_earlier().label(), "2025-Q3");
        let m = Period::month("2026-10".parse().unwrap());
        assert_eq!((m.label(), m.months().len()), ("2026-10".to_string(), 1));
        for bad in [
            "2026-Q5", "2026-Q0", "2026Q3", "26-Q3", "2026-Q", "2026-Q33",
        ] {
            assert!(bad.parse::<Quarter>().is_err(), "{bad}");
        }
        for bad in ["25", "2025-01", "year", "20251"] {
            assert!(bad.parse::<Year>().is_err(), "{bad}");
        }
    }
}
