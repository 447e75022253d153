//! Citizen ID numbers (公民身份号码) per GB 11643-1999.
//!
//! 18 characters: 6-digit region code, 8-digit birth date, 3-digit sequence
//! (odd = male), and a check character from ISO 7064 MOD 11-2. Legacy 15-digit
//! numbers carry a 6-digit `YYMMDD` birth date of the 1900s and no check character;
//! they are upgraded by inserting `19` and computing the check character.

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::domain::calendar::from_yyyymmdd;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

/// Province-level region codes (the first two digits) that exist.
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// Today's local date, asked of the clock and time zone at most once a minute:
/// every ID number is checked against it (a birth date in the future is wrong),
/// and the local time zone is costly to ask for each of millions of rows.
fn today() -> NaiveDate {
    use std::sync::atomic::{AtomicU64, Ordering};
    // The minute (since 1970, UTC) in the high half, the date's day number (from
    // 0001-01-01) in the low half: one atomic, so the two are always of one reading.
    static CACHE: AtomicU64 = AtomicU64::new(0);
    let minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60);
    let cached = CACHE.load(Ordering::Relaxed);
    if cached != 0 && cached >> 32 == minute {
        if let Some(d) = NaiveDate::from_num_days_from_ce_opt((cached & 0xFFFF_FFFF) as i32) {
            return d;
        }
    }
    let d = chrono::Local::now().date_naive();
    CACHE.store(
        (minute << 32) | u64::from(d.num_days_from_ce() as u32),
        Ordering::Relaxed,
    );
    d
}

/// The check character for the first 17 digits (ASCII digits expected).
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| (d - b'0') as u32 * w)
        .sum();
    CHECK[(sum % 11) as usize] as char
}

/// What is wrong with an ID number, in words a clerk can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdProblem {
    Length(usize),
    NotDigits,
    Region(String),
    BirthDate(String),
    CheckChar {
        expected: char,
        found: char,
    },
    /// The number went through a spreadsheet cell formatted as a number: Excel keeps
    /// 15 significant digits, so an 18-digit number comes back as `4.11725E+17` or
    /// with its last digits turned to zeros. Not a typo to chase but an export to redo.
    StoredAsNumber,
}

impl std::fmt::Display for IdProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdProblem::Length(n) => write!(f, "has {n} characters, expected 18 (or legacy 15)"),
            IdProblem::NotDigits => {
                write!(f, "contains characters other than digits and a final X")
            }
            IdProblem::Region(r) => write!(f, "region code {r} does not exist"),
            IdProblem::BirthDate(d) => write!(f, "birth date {d} is impossible"),
            IdProblem::CheckChar { expected, found } => {
                write!(
                    f,
                    "check character is {found}, expected {expected} (校验码错误)"
                )
            }
            IdProblem::StoredAsNumber => write!(
                f,
                "is not the whole number: Excel stored this ID number as a number and lost its last digits; re-export the column as text (设为文本格式后重新导出)"
            ),
        }
    }
}

/// A checked ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber {
    /// The 18-character form (upgraded from 15 digits when needed); for a malformed
    /// number this is the cleaned text as given, so it can still be matched.
    pub normalized: String,
    /// The original text when it differed from `normalized` (15-digit legacy form).
    pub legacy15: Option<String>,
    pub problem: Option<IdProblem>,
}

impl IdNumber {
    pub fn birth_date(&self) -> Option<NaiveDate> {
        if self.normalized.len() != 18 {
            return None;
        }
        from_yyyymmdd(&self.normalized.as_bytes()[6..14])
    }
    /// `M` or `F` from the sequence digit (odd = male).
    pub fn sex(&self) -> Option<char> {
        let d = self.normalized.as_bytes().get(16)?;
        d.is_ascii_digit()
            .then(|| if (d - b'0') % 2 == 1 { 'M' } else { 'F' })
    }
}

/// Folds full-width ASCII (`１２３`, `Ｘ`) to half-width and strips whitespace of
/// both widths. Used for every code-like field, not only ID numbers. Text of plain
/// visible ASCII (most values) has nothing to fold and is returned as it is, without
/// a copy: ingest folds every code, date and amount it reads.
pub fn fold_width(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii_graphic()) {
        return Cow::Borrowed(s);
    }
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}' && *c != '\u{feff}')
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Cleans, upgrades and checks an ID number.
pub fn parse(raw: &str) -> IdNumber {
    parse_cell(raw, false)
}

/// As `parse`, for a value read from a spreadsheet cell; `numeric_cell` says the
/// workbook stored it as a number (an ID number belongs in a text cell).
pub fn parse_cell(raw: &str, numeric_cell: bool) -> IdNumber {
    let clean = fold_width(raw).to_ascii_uppercase();
    let bytes = clean.as_bytes();
    let (normalized, legacy15) = if bytes.len() == 15 && bytes.iter().all(u8::is_ascii_digit) {
        let mut first17 = String::with_capacity(18);
        first17.push_str(&clean[..6]);
        first17.push_str("19");
        first17.push_str(&clean[6..]);
        let c = check_char(first17.as_bytes());
        first17.push(c);
        (first17, Some(clean.clone()))
    } else {
        (clean.clone(), None)
    };
    let problem = problem_of(&normalized);
    // A numeric cell of more than 15 digits has lost digits even when what is left
    // happens to pass the checks; in text, only a malformed number can be judged.
    let lost_digits = (numeric_cell && clean.len() > 15)
        || (problem.is_some() && looks_like_excel_number(&clean));
    let problem = if lost_digits {
        Some(IdProblem::StoredAsNumber)
    } else {
        problem
    };
    IdNumber {
        normalized,
        legacy15,
        problem,
    }
}

/// Whether a number shows what Excel does to an 18-digit number in a numeric cell:
/// scientific notation (`4.11725E+17`, a CSV saved from a General column), or 16 or
/// more digits ending in the zeros that replaced the digits beyond the 15th.
/// `clean` is folded and upper-cased.
fn looks_like_excel_number(clean: &str) -> bool {
    let b = clean.as_bytes();
    let scientific = match clean.split_once('E') {
        Some((mantissa, exp)) => {
            let exp = exp.strip_prefix('+').unwrap_or(exp);
            let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
            int.len() == 1
                && [int, frac, exp]
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        }
        None => false,
    };
    let zero_tail = b.len() >= 16 && b.iter().all(u8::is_ascii_digit) && clean.ends_with("000");
    scientific || zero_tail
}

fn problem_of(id: &str) -> Option<IdProblem> {
    let b = id.as_bytes();
    if b.len() != 18 {
        return Some(IdProblem::Length(id.chars().count()));
    }
    if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Some(IdProblem::NotDigits);
    }
    let province = (b[0] - b'0') * 10 + (b[1] - b'0');
    if !PROVINCES.contains(&province) {
        return Some(IdProblem::Region(id[..6].to_string()));
    }
    let birth = &id[6..14];
    match from_yyyymmdd(&b[6..14]) {
        Some(d) if d.year_ce().1 >= 1880 && d <= today() => {}
        _ => return Some(IdProblem::BirthDate(birth.to_string())),
    }
    let expected = check_char(&b[..17]);
    if b[17] as char != expected {
        return Some(IdProblem::CheckChar {
            expected,
            found: b[17] as char,
        });
    }
    None
}

use chrono::Datelike;

/// Builds a valid 18-digit number (for the synthetic county and tests).
pub fn make(region: &str, birth: NaiveDate, sequence: u16) -> String {
    let mut s = format!("{region}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
    let c = check_char(s.as_bytes());
    s.push(c);
    s
}

#[cfg(test)]
mod tests {
    use crate::idnum::fold_width;
    use std::borrow::Cow;

    #[test]
    fn a_code_is_folded_only_when_it_has_something_to_fold() {
        // Plain ASCII is taken as it is (the fast path)…
        assert!(matches!(
            fold_width("4117250010003350"),
            Cow::Borrowed("4117250010003350")
        ));
        assert!(matches!(
            fold_width("A-0012345"),
            Cow::Borrowed("A-0012345")
        ));
        // …full-width forms and inner spaces are folded as before.
        assert_eq!(fold_width("４１１７２５"), "411725");
        assert_eq!(fold_width("A 0012345"), "A0012345");
        assert_eq!(fold_width("Ａ\u{3000}12"), "A12");
    }

    #[test]
    fn an_id_number_born_tomorrow_is_impossible_and_today_is_not() {
        use crate::idnum::{check_char, problem_of, IdProblem};
        let with_birth = |d: chrono::NaiveDate| {
            let first17 = format!("411725{}001", d.format("%Y%m%d"));
            format!("{first17}{}", check_char(first17.as_bytes()))
        };
        let today = chrono::Local::now().date_naive();
        assert_eq!(problem_of(&with_birth(today)), None);
        let tomorrow = today.succ_opt().unwrap();
        assert_eq!(
            problem_of(&with_birth(tomorrow)),
            Some(IdProblem::BirthDate(tomorrow.format("%Y%m%d").to_string()))
        );
    }
}
