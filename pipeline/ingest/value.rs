//! Parsing one cell of each type, accepting every variant of docs/rules.md § Input acceptance.
//!
//! Each parser returns the value or a short plain-language reason; the caller adds
//! the file, line and column.

use chrono::{Datelike, NaiveDate};

use crate::idnum::fold_width;

// The day numbers moved to the shared domain module; kept here for ingest's callers.
pub use crate::domain::calendar::{epoch_days, from_epoch_days};

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
        .filter(|_| y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len()))
}

/// An Excel serial day number (1900 date system, as Excel counts it).
fn excel_serial(s: &str) -> Option<NaiveDate> {
    let whole = s.strip_suffix(".0").unwrap_or(s);
    if whole.len() != 5 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = whole.parse().ok()?;
    NaiveDate::from_ymd_opt(1899, 12, 30).map(|base| base + chrono::Duration::days(n))
}

/// `2024-03-05`, `2024/3/5`, `20240305`, `2024年3月5日`, or an Excel serial number.
pub fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    let bad = || {
        format!(
            "`{}` is not a date (expected e.g. 2024-03-05, 2024/3/5, 20240305 or 2024年3月5日)",
            raw.trim()
        )
    };
    // A date-time from a spreadsheet export: keep the date part.
    let trimmed = trim_text(raw);
    // Fast path: ISO `2024-03-05`.
    let b = trimmed.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let Some(d) = ymd(&trimmed[..4], &trimmed[5..7], &trimmed[8..]) {
            return Ok(d);
        }
    }
    let date_part = match trimmed.split_once([' ', 'T']) {
        Some((d, t)) if t.contains(':') => d,
        _ => trimmed,
    };
    let s = fold_width(date_part);
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return crate::domain::calendar::from_yyyymmdd(s.as_bytes()).ok_or_else(bad);
    }
    if let Some(d) = excel_serial(&s) {
        return Ok(d);
    }
    if let Some((y, rest)) = s.split_once('年') {
        let (m, rest) = rest.split_once('月').ok_or_else(bad)?;
        let d = rest.strip_suffix('日').ok_or_else(bad)?;
        return ymd(y, m, d).ok_or_else(bad);
    }
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    match parts.as_slice() {
        [y, m, d] => ymd(y, m, d).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// `2024-03`, `202403`, `2024年3月` (also a full date, whose month is taken).
/// Returns the first day of the month.
pub fn parse_month(raw: &str) -> Result<NaiveDate, String> {
    // Fast path: `2024-03`, as every business-system export writes it.
    let b = raw.as_bytes();
    if b.len() == 7 && b[4] == b'-' {
        if let Some(d) = ymd(&raw[..4], &raw[5..], "1") {
            return Ok(d);
        }
    }
    let s = fold_width(raw);
    let bad = || {
        format!(
            "`{}` is not a month (expected e.g. 2024-03, 202403 or 2024年3月)",
            raw.trim()
        )
    };
    let first = |y: &str, m: &str| ymd(y, m, "1");
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        return first(&s[..4], &s[4..]).ok_or_else(bad);
    }
    if let Some((y, rest)) = s.split_once('年') {
        if let Some(m) = rest.strip_suffix('月') {
            return first(y, m).ok_or_else(bad);
        }
    }
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    if let [y, m] = parts.as_slice() {
        return first(y, m).ok_or_else(bad);
    }
    parse_date(raw)
        .map(|d| d.with_day(1).expect("day 1 exists"))
        .map_err(|_| bad())
}

/// Yuan with up to two decimals: `1,234.50`, `1234.5`, `¥1234.50`. Returns fen.
///
/// A comma is read as a thousands separator only where it is one: between groups
/// of three digits of the whole-yuan part (`1,234.50`, `12,345`). Anything else —
/// `12,34` (a decimal comma, or a typo), `1,2345`, `1,234,5` — is refused with the
/// reason, never read as 1234 (docs/rules.md § Money (金额)).
pub fn parse_money(raw: &str, signed: bool) -> Result<i128, String> {
    // Fast path: plain `1234.50` (the bulk of bank files).
    if raw.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        if let Some(v) = parse_scaled(raw, 2) {
            return Ok(v);
        }
    }
    if let Some(why) = space_between_digits(raw) {
        return Err(format!("`{}`: {why}", raw.trim()));
    }
    let folded: String = fold_width(raw)
        .chars()
        .filter(|c| !matches!(c, '¥' | '￥'))
        .map(|c| if c == '，' { ',' } else { c })
        .collect();
    let s = folded.strip_suffix('元').unwrap_or(&folded);
    let s = without_thousands_commas(s).map_err(|why| format!("`{}`: {why}", raw.trim()))?;
    let scaled = parse_scaled(&s, 2).ok_or_else(|| {
        format!(
            "`{}` is not an amount in yuan with at most 2 decimals",
            raw.trim()
        )
    })?;
    if scaled < 0 && !signed {
        return Err(format!("amount `{}` is negative", raw.trim()));
    }
    Ok(scaled)
}

/// `12 34` is not 1234 either: a space between digits is refused, not squeezed out
/// (spaces at the ends, or after `¥`, are only padding).
fn space_between_digits(raw: &str) -> Option<&'static str> {
    let trimmed = trim_text(raw);
    if !trimmed.contains(|c: char| c.is_whitespace() || c == '\u{3000}') {
        return None;
    }
    let chars: Vec<char> = fold_width_keep_spaces(trimmed);
    let digit = |c: Option<&char>| c.is_some_and(char::is_ascii_digit);
    let inner = chars.iter().enumerate().any(|(i, c)| {
        (c.is_whitespace() || *c == '\u{3000}')
            && digit(
                chars[..i]
                    .iter()
                    .rev()
                    .find(|c| !c.is_whitespace() && **c != '\u{3000}'),
            )
            && digit(
                chars[i..]
                    .iter()
                    .find(|c| !c.is_whitespace() && **c != '\u{3000}'),
            )
    });
    inner.then_some("a space between digits is not a separator here; write the amount without spaces (e.g. 1234.50 or 1,234.50)")
}

/// Full-width digits folded, spaces kept (to see where they are).
fn fold_width_keep_spaces(s: &str) -> Vec<char> {
    s.chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The amount without its thousands separators, or why its commas are not ones.
fn without_thousands_commas(s: &str) -> Result<String, String> {
    if !s.contains(',') {
        return Ok(s.to_string());
    }
    let body = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    let groups: Vec<&str> = whole.split(',').collect();
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let grouped = !frac.contains(',')
        && groups.iter().all(|g| digits(g))
        && groups[0].len() <= 3
        && groups[1..].iter().all(|g| g.len() == 3);
    if grouped {
        return Ok(s.replace(',', ""));
    }
    let decimal_comma = groups.len() == 2
        && frac.is_empty()
        && !body.contains('.')
        && digits(groups[0])
        && digits(groups[1])
        && groups[1].len() <= 2;
    Err(if decimal_comma {
        format!(
            "the comma is not a thousands separator (those stand between groups of three digits, as in 1,234.50); if it is a decimal comma, write {}.{}",
            groups[0], groups[1]
        )
    } else {
        "a comma separates thousands only between groups of three digits (1,234.50 or 12,345); these commas do not".to_string()
    })
}

/// A percent rate with up to four decimals (`1.50`, `1.5%`). Returns 1/10000 percent.
pub fn parse_rate(raw: &str) -> Result<i128, String> {
    let s = fold_width(raw);
    let s = s.strip_suffix('%').unwrap_or(&s);
    match parse_scaled(s, 4) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(format!(
            "`{}` is not a rate in percent (e.g. 1.50)",
            raw.trim()
        )),
    }
}

/// Exact decimal text → integer scaled by 10^scale; `None` if malformed or if it
/// has more decimals than `scale` (never rounded silently).
fn parse_scaled(s: &str, scale: u32) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || int.len() > 16
        || frac.len() > scale as usize
        || !digits(int)
        || !digits(frac)
    {
        return None;
    }
    if body.ends_with('.') {
        return None;
    }
    let mut v: i128 = int.parse().ok()?;
    for i in 0..scale as usize {
        let d = frac.as_bytes().get(i).map_or(0, |b| (b - b'0') as i128);
        v = v * 10 + d;
    }
    Some(if neg { -v } else { v })
}

pub fn parse_integer(raw: &str, min: Option<i64>, max: Option<i64>) -> Result<i64, String> {
    let s = fold_width(raw);
    let v: i64 = s
        .parse()
        .map_err(|_| format!("`{}` is not a whole number", raw.trim()))?;
    if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
        return Err(format!(
            "{v} is outside the allowed range {}..{}",
            min.map_or(String::new(), |m| m.to_string()),
            max.map_or(String::new(), |m| m.to_string())
        ));
    }
    Ok(v)
}

/// 是/否 and the usual English spellings.
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match fold_width(raw).to_lowercase().as_str() {
        "是" | "有" | "y" | "yes" | "true" | "1" => Ok(true),
        "否" | "无" | "n" | "no" | "false" | "0" => Ok(false),
        _ => Err(format!("`{}` is not 是 or 否", raw.trim())),
    }
}

/// Trims both half- and full-width spaces at the ends; interior text is kept.
pub fn trim_text(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}')
}

/// Formats fen as yuan with two decimals (`123456` → `1234.56`).
pub fn format_fen(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}
