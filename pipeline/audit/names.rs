//! Names as compared: the one name-folding definition of the project. The same
//! name written with traditional or variant characters (繁体字, 异体字), spaces of any
//! width, or another middle dot (`•`, `.`, `・` …) folds to one form. DUP_PERSON
//! calls [`normalize`]; the checks' SQL calls the macro `norm_name`, which
//! [`sql_macro`] builds from the same tables, so the two cannot drift apart; the
//! synthetic county makes its look-alikes from them too.
//!
//! The character tables are data files beside this one (`names/*.txt`), built in:
//! traditional → simplified, variant → standard, and the shape-alike groups
//! (形近字) DUP_PERSON weighs. Pinyin comes from the `pinyin` crate, every reading of
//! a polyphonic character kept.

use std::collections::HashMap;
use std::sync::OnceLock;

use pinyin::ToPinyinMulti;

const TRADITIONAL: &str = include_str!("names/traditional.txt");
const VARIANTS: &str = include_str!("names/variants.txt");
const SHAPE_ALIKE: &str = include_str!("names/shape_alike.txt");

/// Characters that stand for the middle dot of minority names.
pub const DOTS: &[char] = &['•', '.', '．', '・', '‧', '･', '∙', '⋅', '●', '﹒', '·'];

/// Characters dropped from a name: every Unicode white space (ASCII, no-break,
/// ideographic 　, the en/em spaces …) and the invisible ones that copy-paste brings
/// (zero-width space and joiners, byte-order mark).
pub const SPACES: &[char] = &[
    '\t', '\n', '\u{0B}', '\u{0C}', '\r', ' ', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}',
    '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}',
    '\u{2009}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}', '\u{200B}',
    '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}',
];

/// The lines of a table file that carry data (no comments, no blank lines), with a
/// trailing `# note` cut off.
fn data_lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

struct Tables {
    /// Traditional or variant character → its simplified standard form.
    fold: HashMap<char, char>,
    /// Simplified character → its traditional form, for the synthetic county.
    traditional: HashMap<char, char>,
    /// Standard character → a variant form, for the synthetic county.
    variant: HashMap<char, char>,
    /// Shape-alike partners of each character.
    shape: HashMap<char, Vec<char>>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = Tables {
            fold: HashMap::new(),
            traditional: HashMap::new(),
            variant: HashMap::new(),
            shape: HashMap::new(),
        };
        for (text, is_variant) in [(TRADITIONAL, false), (VARIANTS, true)] {
            for line in data_lines(text) {
                let cs: Vec<char> = line.chars().filter(|c| !c.is_whitespace()).collect();
                for p in cs.chunks(2) {
                    if let [from, to] = *p {
                        if from != to && !t.fold.contains_key(&from) {
                            t.fold.insert(from, to);
                            let back = if is_variant {
                                &mut t.variant
                            } else {
                                &mut t.traditional
                            };
                            back.entry(to).or_insert(from);
                        }
                    }
                }
            }
        }
        for line in data_lines(SHAPE_ALIKE) {
            let group: Vec<char> = line.chars().filter(|c| !c.is_whitespace()).collect();
            for &a in &group {
                for &b in group.iter().filter(|&&b| b != a) {
                    let v = t.shape.entry(a).or_default();
                    if !v.contains(&b) {
                        v.push(b);
                    }
                }
            }
        }
        t
    })
}

/// The simplified standard form of one character (itself when it has none).
pub fn simplify(c: char) -> char {
    tables().fold.get(&c).copied().unwrap_or(c)
}

/// The traditional form of a simplified name character, if the table has one.
pub fn to_traditional(c: char) -> Option<char> {
    tables().traditional.get(&c).copied()
}

/// A variant form (异体字) of a standard name character, if the table has one.
pub fn to_variant(c: char) -> Option<char> {
    tables().variant.get(&c).copied()
}

/// The characters written alike with `c` (形近字), from names/shape_alike.txt.
pub fn shape_alike(c: char) -> &'static [char] {
    tables().shape.get(&c).map_or(&[], Vec::as_slice)
}

/// Whether two characters are in one shape-alike group.
pub fn looks_alike(a: char, b: char) -> bool {
    shape_alike(a).contains(&b)
}

/// The name as compared: no spaces (any in [`SPACES`]), one middle dot `·`,
/// simplified standard characters.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !SPACES.contains(c))
        .map(|c| if DOTS.contains(&c) { '·' } else { simplify(c) })
        .collect()
}

/// Every plain (toneless) pinyin reading of a character, empty for one that has
/// none (a middle dot, a letter).
pub fn readings(c: char) -> Vec<&'static str> {
    c.to_pinyin_multi()
        .map(|m| m.into_iter().map(|p| p.plain()).collect())
        .unwrap_or_default()
}

/// The name as it sounds, one syllable per character (its first reading), for the
/// evidence: 武萍淑 → "wu ping shu".
pub fn sound(name: &str) -> String {
    normalize(name)
        .chars()
        .map(|c| {
            readings(c)
                .first()
                .map_or_else(|| c.to_string(), |r| r.to_string())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The DuckDB macro `norm_name(s)`, equal to [`normalize`]: one `translate` whose
/// source holds the folded characters, the dots and then the spaces, which have no
/// counterpart and so are deleted.
pub fn sql_macro() -> String {
    let mut pairs: Vec<(char, char)> = tables().fold.iter().map(|(t, s)| (*t, *s)).collect();
    pairs.sort();
    let (mut from, mut to) = (String::new(), String::new());
    for (t, s) in pairs {
        from.push(t);
        to.push(s);
    }
    for d in DOTS {
        from.push(*d);
        to.push('·');
    }
    from.extend(SPACES);
    format!(
        "CREATE OR REPLACE TEMP MACRO norm_name(s) AS translate(s, '{}', '{}');",
        from.replace('\'', "''"),
        to.replace('\'', "''")
    )
}

/// Levenshtein distance between two short names, counted in characters, stopping
/// early once it exceeds `max`.
pub fn distance_within(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_variants() {
        assert_eq!(normalize("陳 建國"), "陈建国");
        assert_eq!(normalize("王\u{3000}芳"), "王芳");
        assert_eq!(normalize("阿依古丽•买买提"), "阿依古丽·买买提");
        assert_eq!(normalize("阿依古丽.买买提"), "阿依古丽·买买提");
        assert_eq!(normalize("李峯\u{200B}"), "李峰");
        assert_eq!(sound("武萍淑"), "wu ping shu");
        assert!(looks_alike('王', '玉') && !looks_alike('王', '李'));
        assert_eq!(
            distance_within(&['王', '建', '国'], &['王', '建', '军'], 1),
            Some(1)
        );
        assert_eq!(
            distance_within(&['王', '建', '国'], &['李', '建', '军'], 1),
            None
        );
    }
}

#[cfg(test)]
mod sql_tests {
    use super::*;

    /// The SQL macro folds every character exactly as the Rust function does.
    #[test]
    fn sql_macro_equals_normalize() {
        let conn = duckdb::Connection::open_in_memory().expect("duckdb");
        conn.execute_batch(&sql_macro()).expect("macro");
        let mut samples: Vec<String> = SPACES.iter().map(|s| format!("王{s}芳")).collect();
        samples.extend(DOTS.iter().map(|d| format!("阿依古丽{d}买买提")));
        samples.extend(tables().fold.keys().map(|c| format!("{c}建")));
        samples.push("陳 建國".into());
        for s in samples {
            let folded: String = conn
                .query_row("SELECT norm_name(?)", [&s], |r| r.get(0))
                .expect("query");
            assert_eq!(folded, normalize(&s), "{s:?}");
        }
    }
}
