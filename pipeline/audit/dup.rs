//! DUP_PERSON: different ID numbers that are probably one person — record linkage
//! without a shared key, Fellegi–Sunter style (as in Splink), deterministic and
//! explained in plain words (docs/rules.md § DUP_PERSON).
//!
//! 1. **Blocking.** Each enrollment gets a few keys; only records sharing a key are
//!    compared. The keys are built so that one clerk's error still leaves a key in
//!    common: surname sound + birth date; surname sound + given-name sounds (in any
//!    order) + birth year, and the same + birth month-day (one wrong digit of the
//!    date breaks only one of them); given-name sounds + birth date (a mistyped
//!    surname); phone; bank card. No key holds the township: a move does not hide
//!    a duplicate. (The ID number's region and birth date is not a key: at a
//!    million persons its blocks hold some 40 records each, 2·10⁷ pairs, and every
//!    pair it alone brings has different names in sound and writing, which never
//!    reach the threshold.) A block larger than
//!    [`MAX_BLOCK`] (a clerk's phone typed for a whole village) is not paired; the
//!    other keys still are, so the work stays near-linear in the population.
//! 2. **Comparison.** Each pair gets one level per field — name (same, sounds the
//!    same, one character written alike, given name swapped, one character apart,
//!    different), birth date (same, one digit off, day and month swapped,
//!    different), sex, place, phone, bank card, address (any address on record,
//!    before or after a change record), and what the public-security register says
//!    of the two IDs.
//! 3. **Score.** The sum of the weights, log2(m/u), from `dup_weights.toml`
//!    (estimated on the synthetic county's labelled pairs, see that file), name and
//!    birth date weighed as one field (`identity`, see [`scored`]). A pair at
//!    or above the threshold (parameter `dup_person_threshold`) is a match; matches
//!    are grouped (union-find) and each member gets a finding naming the others,
//!    with the reasons and the score.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use duckdb::{params, Connection};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::engine::AuditParams;
use super::names;
use super::AuditError;

/// Blocks of more records than this are not paired (see the module comment).
pub const MAX_BLOCK: usize = 64;

#[derive(Debug, Clone, Default)]
pub struct DupStats {
    pub persons: u64,
    pub blocks: u64,
    /// Blocks too large to pair (their members still meet through other keys).
    pub blocks_skipped: u64,
    pub pairs_compared: u64,
    /// Seconds spent reading the enrollments (names folded, sounds looked up).
    pub load_seconds: f64,
    pub pairs_matched: u64,
    pub groups: u64,
    pub seconds: f64,
}

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
const IDENTITY: usize = 0;
const W_REGISTER: usize = 6;
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

/// The readings of one character (interned pinyin, 0 = none), at most four.
type Sound = [u16; 4];

/// What comparison needs of an enrollment (kept small: a million are in memory).
struct Rec {
    person_no: String,
    id: String,
    id_valid: bool,
    registered: bool,
    /// Hash of the register's name, folded (0: not registered).
    reg_name: u64,
    name: String,
    folded: Box<[char]>,
    sounds: Box<[Sound]>,
    sex: Option<char>,
    /// Birth date from the register or ID number, and the one typed (when different).
    births: [Option<NaiveDate>; 2],
    township: u32,
    /// Township and village together (village names repeat across townships).
    village: Option<u32>,
    /// Hashes of the contact details (0: none given).
    phone: u64,
    bank: u64,
    address: u64,
    /// Every address on record by the audit month, sorted: the enrollment's and each
    /// change record's (a person who moved house after a second enrollment copied the
    /// first address still shares it).
    addresses: Box<[u64]>,
}

// ---------------------------------------------------------------------------
// Weights

/// Weight of each level of each field, log2(m/u), from `dup_weights.toml`.
pub struct Weights {
    pub w: Vec<Vec<f64>>,
}

const WEIGHTS_TOML: &str = include_str!("dup_weights.toml");

/// Parses a weights file: per field a table, per level `{ m = …, u = … }`.
pub fn parse_weights(text: &str) -> Result<Weights, String> {
    let t: toml::Table = text.parse().map_err(|e| format!("dup_weights.toml: {e}"))?;
    let mut w = Vec::new();
    for (field, levels) in FIELDS {
        let tab = t
            .get(*field)
            .and_then(|v| v.as_table())
            .ok_or_else(|| format!("dup_weights.toml: no [{field}]"))?;
        let mut row = Vec::new();
        for level in *levels {
            let get = |k: &str| {
                tab.get(*level)
                    .and_then(|v| v.get(k))
                    .and_then(|v| v.as_float())
                    .filter(|x| *x > 0.0)
                    .ok_or_else(|| {
                        format!("dup_weights.toml: [{field}] {level}.{k} missing or not > 0")
                    })
            };
            row.push((get("m")? / get("u")?).log2());
        }
        w.push(row);
    }
    Ok(Weights { w })
}

pub fn weights() -> &'static Weights {
    static W: OnceLock<Weights> = OnceLock::new();
    // The file is built in and checked by a unit test: it cannot fail here.
    W.get_or_init(|| parse_weights(WEIGHTS_TOML).expect("the built-in dup_weights.toml parses"))
}

impl Weights {
    pub fn score(&self, l: &Levels) -> f64 {
        scored(l)
            .iter()
            .enumerate()
            .map(|(f, &x)| self.w[f][x as usize])
            .sum()
    }
}

/// Fields whose levels are ordered from most to least alike (the last level of
/// birth, phone, bank card and address, "missing", stands apart).
fn ordered_levels(field: usize) -> usize {
    // FIELDS: identity, sex, place, phone, bank, address, register
    match field {
        IDENTITY | 1 | 3 | 4 | 5 => FIELDS[field].1.len() - 1,
        W_REGISTER => 0,
        _ => FIELDS[field].1.len(),
    }
}

/// m and u estimated from labelled pairs (levels, one person?, excluded by the
/// register rule?), as the text of a weights file:
/// - u counts every compared pair of two persons, those the register rule sets
///   aside too (they are what the blocking brings), except for the register field
///   itself, estimated on the pairs the rule leaves;
/// - each share is smoothed by half a pair per level; a level seen in neither class
///   gets m = u (weight 0: no evidence), one never seen among pairs of one person
///   cannot weigh for a match, one never seen among pairs of two cannot weigh
///   against;
/// - along an ordered field (name: same, sounds, written alike, swapped, one apart,
///   different; birth date; place; sex; phone, bank card, address: same before
///   different) a more alike level never weighs less than a less alike one:
///   adjacent levels that would are pooled (pool-adjacent-violators), so an
///   artefact of the sample (say, no pair of one person in the same township but
///   another village) cannot make "closer" count against a match.
pub fn estimate_weights(all: &[(Levels, bool, bool)], header: &str) -> String {
    let mut out = String::from(header);
    let kept: Vec<(Scored, bool)> = all
        .iter()
        .filter(|p| !p.2)
        .map(|p| (scored(&p.0), p.1))
        .collect();
    let every: Vec<(Scored, bool)> = all.iter().map(|p| (scored(&p.0), p.1)).collect();
    out.push_str(&format!(
        "# pairs: {} of one person (m), {} of two (u), {} of them set aside by the register rule\n",
        every.iter().filter(|p| p.1).count(),
        every.iter().filter(|p| !p.1).count(),
        all.iter().filter(|p| p.2).count()
    ));
    for (f, (field, levels)) in FIELDS.iter().enumerate() {
        let pairs = if f == W_REGISTER { &kept } else { &every };
        let n_m = pairs.iter().filter(|p| p.1).count();
        let n_u = pairs.len() - n_m;
        out.push_str(&format!("\n[{field}]\n"));
        let k = levels.len() as f64;
        let share = |c: usize, n: usize| (c as f64 + 0.5) / (n as f64 + 0.5 * k);
        let counts: Vec<(usize, usize)> = (0..levels.len())
            .map(|x| {
                let count = |is: bool| {
                    pairs
                        .iter()
                        .filter(|p| p.1 == is && p.0[f] as usize == x)
                        .count()
                };
                (count(true), count(false))
            })
            .collect();
        // Pools of adjacent ordered levels: (first, last, m count, u count).
        let mut pools: Vec<(usize, usize, usize, usize)> = Vec::new();
        for (x, &(cm, cu)) in counts.iter().enumerate() {
            pools.push((x, x, cm, cu));
            while pools.len() >= 2 && x < ordered_levels(f) {
                let (p, q) = (pools[pools.len() - 2], pools[pools.len() - 1]);
                let w =
                    |c: (usize, usize, usize, usize)| (share(c.2, n_m) / share(c.3, n_u)).log2();
                if w(p) >= w(q) || q.0 != p.1 + 1 || p.2 + p.3 == 0 && q.2 + q.3 == 0 {
                    break;
                }
                pools.pop();
                pools.pop();
                pools.push((p.0, q.1, p.2 + q.2, p.3 + q.3));
            }
        }
        for &(first, last, pm, pu) in &pools {
            for x in first..=last {
                let (cm, cu) = counts[x];
                let (m, u) = match (pm, pu) {
                    (0, 0) => (share(0, n_m + n_u), share(0, n_m + n_u)),
                    (0, _) => (share(0, n_m).min(share(pu, n_u)), share(pu, n_u)),
                    (_, 0) => (share(pm, n_m), share(0, n_u).min(share(pm, n_m))),
                    _ => (share(pm, n_m), share(pu, n_u)),
                };
                let pooled = if first == last {
                    String::new()
                } else {
                    format!(", pooled with {}..{}", levels[first], levels[last])
                };
                // A share too small for six decimals (a level one class never
                // shows, at a million pairs) keeps its digits.
                let num = |x: f64| {
                    if x < 1e-4 {
                        format!("{x:.4e}")
                    } else {
                        format!("{x:.6}")
                    }
                };
                out.push_str(&format!(
                    "{} = {{ m = {}, u = {} }}  # {cm} / {cu} pairs{pooled}, weight {:.2}\n",
                    levels[x],
                    num(m),
                    num(u),
                    (m / u).log2()
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Loading

/// Interned pinyin syllables (toneless), for cheap comparison of sounds.
/// Each character's sound is worked out once: a county's names use a few thousand
/// characters.
#[derive(Default)]
struct Syllables {
    ids: HashMap<&'static str, u16>,
    of_char: HashMap<char, Sound>,
}

impl Syllables {
    fn sound(&mut self, c: char) -> Sound {
        if let Some(s) = self.of_char.get(&c) {
            return *s;
        }
        let mut s = [0u16; 4];
        for (i, r) in names::readings(c).into_iter().take(4).enumerate() {
            let next = self.ids.len() as u16 + 1;
            s[i] = *self.ids.entry(r).or_insert(next);
        }
        self.of_char.insert(c, s);
        s
    }
}

fn shares_reading(a: &Sound, b: &Sound) -> bool {
    a.iter().any(|x| *x != 0 && b.contains(x))
}

fn hash_text(s: Option<String>) -> u64 {
    let t: String = s
        .unwrap_or_default()
        .chars()
        .filter(|c| !names::SPACES.contains(c))
        .collect();
    if t.is_empty() {
        0
    } else {
        xxh3_64(t.as_bytes()).max(1)
    }
}

/// The last day of the audit month, as the session's macro `as_of_end()` says.
pub fn as_of_end(conn: &Connection) -> Result<NaiveDate, AuditError> {
    Ok(conn.query_row("SELECT as_of_end()", [], |r| r.get(0))?)
}

/// Separates the addresses of one person in the load query (a control character no
/// address holds).
const ADDRESS_SEP: char = '\u{1f}';

fn load(
    conn: &Connection,
    places: &mut Vec<String>,
    as_of_end: NaiveDate,
) -> Result<Vec<Rec>, AuditError> {
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: String| -> u32 {
        if let Some(&i) = index.get(&s) {
            return i;
        }
        let i = places.len() as u32;
        places.push(s.clone());
        index.insert(s, i);
        i
    };
    let mut syl = Syllables::default();
    // (The date is a literal: this may run on a connection of its own, without the
    // session's macros.)
    let mut stmt = conn.prepare(&format!(
        "WITH history AS (
             SELECT person_no, string_agg(DISTINCT address, chr(31)) AS addresses
             FROM (SELECT person_no, address FROM enrollment
                   WHERE enroll_date IS NULL OR enroll_date <= DATE '{end}'
                   UNION ALL
                   SELECT person_no, new_value FROM change
                   WHERE field = 'address' AND change_date <= DATE '{end}')
             WHERE address IS NOT NULL
             GROUP BY person_no
         )
         SELECT p.person_no, id_number, registered, name, sex, birth, birth_date, township, village,
                id_valid, reg_name, phone, bank_account, address, h.addresses
         FROM a_person p LEFT JOIN history h USING (person_no)
         WHERE name IS NOT NULL ORDER BY p.person_no",
        end = as_of_end.format("%Y-%m-%d")
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let name: String = r.get(3)?;
        let folded: Box<[char]> = names::normalize(&name).chars().collect();
        let sounds = folded.iter().map(|&c| syl.sound(c)).collect();
        let sex: Option<String> = r.get(4)?;
        let township: String = r.get::<_, Option<String>>(7)?.unwrap_or_default();
        let village: Option<String> = r.get(8)?;
        let birth: Option<NaiveDate> = r.get(5)?;
        let typed: Option<NaiveDate> = r.get(6)?;
        let reg_name: Option<String> = r.get(10)?;
        let address: Option<String> = r.get(13)?;
        let history: Option<String> = r.get(14)?;
        let mut addresses: Vec<u64> = history
            .iter()
            .flat_map(|h| h.split(ADDRESS_SEP))
            .map(|a| hash_text(Some(a.to_string())))
            .chain([hash_text(address.clone())])
            .filter(|&h| h != 0)
            .collect();
        addresses.sort_unstable();
        addresses.dedup();
        out.push(Rec {
            person_no: r.get(0)?,
            id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            id_valid: r.get(9)?,
            registered: r.get(2)?,
            reg_name: hash_text(reg_name.map(|n| names::normalize(&n))),
            name,
            folded,
            sounds,
            sex: sex.and_then(|s| s.chars().next()),
            births: [birth.or(typed), typed.filter(|t| Some(*t) != birth)],
            village: village.map(|v| intern(format!("{township}{v}"))),
            township: intern(township),
            phone: hash_text(r.get(11)?),
            bank: hash_text(r.get(12)?),
            address: hash_text(address),
            addresses: addresses.into_boxed_slice(),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Blocking

/// The first reading of a character, or the character itself (a middle dot, a
/// letter), as bytes of a blocking key.
fn sound_key(s: &Sound, c: char, buf: &mut Vec<u8>) {
    match s[0] {
        0 => buf.extend((c as u32).to_le_bytes()),
        r => buf.extend((r as u32 | 0x8000_0000).to_le_bytes()),
    }
}

/// The blocking keys of one record (see the module comment).
fn keys(r: &Rec, out: &mut Vec<u64>) {
    let mut buf = Vec::with_capacity(64);
    let mut push = |buf: &mut Vec<u8>| {
        out.push(xxh3_64(buf));
        buf.clear();
    };
    let n = r.folded.len();
    // Given-name sounds in a fixed order, so a swapped given name keys the same.
    let mut given: Vec<(u16, char)> = (1..n).map(|i| (r.sounds[i][0], r.folded[i])).collect();
    given.sort_unstable();
    let given_key = |buf: &mut Vec<u8>| {
        for (s, c) in &given {
            sound_key(&[*s, 0, 0, 0], *c, buf);
        }
    };
    for birth in r.births.iter().flatten() {
        let (y, md) = (birth.year(), birth.month() * 100 + birth.day());
        if n > 0 {
            buf.push(1);
            sound_key(&r.sounds[0], r.folded[0], &mut buf);
            buf.extend(birth.num_days_from_ce().to_le_bytes());
            push(&mut buf);
            for (tag, part) in [(2u8, y as u32), (3u8, md + 10_000)] {
                buf.push(tag);
                sound_key(&r.sounds[0], r.folded[0], &mut buf);
                given_key(&mut buf);
                buf.extend(part.to_le_bytes());
                push(&mut buf);
            }
        }
        if n > 1 {
            buf.push(4);
            given_key(&mut buf);
            buf.extend(birth.num_days_from_ce().to_le_bytes());
            push(&mut buf);
        }
    }
    for (tag, h) in [(6u8, r.phone), (7u8, r.bank)] {
        if h != 0 {
            buf.push(tag);
            buf.extend(h.to_le_bytes());
            push(&mut buf);
        }
    }
}

/// Candidate pairs (i < j, packed as i << 32 | j), each once, and the block counts.
fn candidate_pairs(recs: &[Rec]) -> (Vec<u64>, u64, u64) {
    let mut entries: Vec<(u64, u32)> = recs
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, r)| {
            let mut ks = Vec::with_capacity(12);
            keys(r, &mut ks);
            ks.sort_unstable();
            ks.dedup();
            ks.into_iter().map(move |k| (k, i as u32))
        })
        .collect();
    entries.par_sort_unstable();
    let (mut blocks, mut skipped) = (0u64, 0u64);
    let mut pairs = Vec::new();
    for run in entries.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        blocks += 1;
        if run.len() > MAX_BLOCK {
            skipped += 1;
            continue;
        }
        for (x, a) in run.iter().enumerate() {
            for b in &run[x + 1..] {
                let (i, j) = (a.1.min(b.1) as u64, a.1.max(b.1) as u64);
                pairs.push(i << 32 | j);
            }
        }
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    (pairs, blocks, skipped)
}

// ---------------------------------------------------------------------------
// Comparison

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
fn two_registered_persons(a: &Rec, b: &Rec) -> bool {
    a.registered && b.registered && a.reg_name != b.reg_name
}

fn compare(a: &Rec, b: &Rec) -> Levels {
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
fn explain(a: &Rec, b: &Rec, l: &Levels, score: f64, places: &[String]) -> String {
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

fn root(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Every candidate pair of the blocking with its levels and score, and the blocking
/// statistics. The same valid ID enrolled twice is DUP_ID's, not compared; two
/// persons of the register are two persons: marked set aside (true), never a match.
fn scored_pairs(recs: &[Rec]) -> (Vec<(u32, u32, Levels, f64, bool)>, DupStats) {
    let (pairs, blocks, skipped) = candidate_pairs(recs);
    let w = weights();
    let scored: Vec<(u32, u32, Levels, f64, bool)> = pairs
        .par_iter()
        .filter_map(|&p| {
            let (i, j) = ((p >> 32) as u32, p as u32);
            let (a, b) = (&recs[i as usize], &recs[j as usize]);
            if a.id == b.id && a.id_valid {
                return None;
            }
            let l = compare(a, b);
            Some((i, j, l, w.score(&l), two_registered_persons(a, b)))
        })
        .collect();
    let stats = DupStats {
        persons: recs.len() as u64,
        blocks,
        blocks_skipped: skipped,
        pairs_compared: scored.len() as u64,
        ..Default::default()
    };
    (scored, stats)
}

/// The candidate pairs of the warehouse as (person_no, person_no, levels, score,
/// set aside by the register rule): what the weights are estimated on (needs the
/// audit's `a_person`).
#[allow(clippy::type_complexity)]
pub fn candidate_levels(
    conn: &Connection,
) -> Result<Vec<(String, String, Levels, f64, bool)>, AuditError> {
    let mut places = Vec::new();
    let recs = load(conn, &mut places, as_of_end(conn)?)?;
    let (scored, _) = scored_pairs(&recs);
    Ok(scored
        .into_iter()
        .map(|(i, j, l, s, aside)| {
            (
                recs[i as usize].person_no.clone(),
                recs[j as usize].person_no.clone(),
                l,
                s,
                aside,
            )
        })
        .collect())
}

/// The groups found, as one finding per member (person_no, evidence), in order; and
/// the statistics. Reads `a_person` only, so it can run on a connection of its own
/// while the SQL checks run on another (see `engine::run_checks`).
pub struct DupFindings {
    rows: Vec<(String, String)>,
    pub stats: DupStats,
}

/// Finds the groups and adds their findings to `a_raw`.
pub fn run(conn: &Connection, params: &AuditParams) -> Result<DupStats, AuditError> {
    let found = find(conn, params, as_of_end(conn)?)?;
    store(conn, found)
}

/// Pairs the enrollments of `a_person` and groups the matches (see the module
/// comment); `as_of_end` is the audit month's last day (addresses on record by then).
pub fn find(
    conn: &Connection,
    params: &AuditParams,
    as_of_end: NaiveDate,
) -> Result<DupFindings, AuditError> {
    let t = Instant::now();
    let mut places = Vec::new();
    let recs = load(conn, &mut places, as_of_end)?;
    let load_seconds = t.elapsed().as_secs_f64();
    let (scored, mut stats) = scored_pairs(&recs);
    stats.load_seconds = load_seconds;
    let threshold = f64::from(params.dup_threshold);
    let matched: HashMap<(u32, u32), String> = scored
        .iter()
        .filter(|p| p.3 >= threshold && !p.4)
        .map(|&(i, j, l, s, _)| {
            let why = explain(&recs[i as usize], &recs[j as usize], &l, s, &places);
            ((i, j), why)
        })
        .collect();
    stats.pairs_matched = matched.len() as u64;
    let mut parent: Vec<usize> = (0..recs.len()).collect();
    for &(i, j) in matched.keys() {
        let (a, b) = (root(&mut parent, i as usize), root(&mut parent, j as usize));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(i, j) in matched.keys() {
        for k in [i as usize, j as usize] {
            let r = root(&mut parent, k);
            let g = groups.entry(r).or_default();
            if !g.contains(&k) {
                g.push(k);
            }
        }
    }
    stats.groups = groups.len() as u64;
    let mut sorted: Vec<Vec<usize>> = groups.into_values().collect();
    for g in &mut sorted {
        g.sort_by(|a, b| recs[*a].person_no.cmp(&recs[*b].person_no));
    }
    sorted.sort_by(|a, b| recs[a[0]].person_no.cmp(&recs[b[0]].person_no));
    let mut rows = Vec::new();
    for g in &sorted {
        for &k in g {
            let mut parts = Vec::new();
            for &o in g.iter().filter(|&&o| o != k) {
                let other = &recs[o];
                let key = (k.min(o) as u32, k.max(o) as u32);
                let why = matched
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| "same group".into());
                parts.push(format!(
                    "person_no {} (ID {}, {}): {}",
                    other.person_no, other.id, other.name, why
                ));
            }
            let evidence = format!("probably the same person as {}", parts.join("; "));
            rows.push((recs[k].person_no.clone(), evidence));
        }
    }
    stats.seconds = t.elapsed().as_secs_f64();
    Ok(DupFindings { rows, stats })
}

/// Writes the findings of [`find`] to `a_dup` and `a_raw`.
pub fn store(conn: &Connection, found: DupFindings) -> Result<DupStats, AuditError> {
    let t = Instant::now();
    conn.execute_batch("CREATE OR REPLACE TABLE a_dup (person_no VARCHAR, evidence VARCHAR);")?;
    {
        let mut app = conn.appender("a_dup")?;
        for (person_no, evidence) in &found.rows {
            app.append_row(params![person_no, evidence])?;
        }
        app.flush()?;
    }
    conn.execute_batch(
        "INSERT INTO a_raw BY NAME
         SELECT 'DUP_PERSON' AS check_code, person_no AS subject, person_no, evidence FROM a_dup;",
    )?;
    let mut stats = found.stats;
    stats.seconds += t.elapsed().as_secs_f64();
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_weights_parse_and_separate_the_levels() {
        let w = parse_weights(WEIGHTS_TOML).expect("parses");
        assert!(
            w.w[IDENTITY][0] > w.w[IDENTITY][2] && w.w[IDENTITY][2] > w.w[IDENTITY][5],
            "same name and birth date weigh more than a birth date a digit off, more than different"
        );
        assert!(
            w.w[W_REGISTER][0] > 0.0,
            "an unregistered ID beside a registered one weighs for"
        );
    }

    #[test]
    fn one_digit_dates() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert!(one_digit(d("1960-03-05"), d("1960-03-08")));
        assert!(!one_digit(d("1960-03-05"), d("1960-05-03")));
    }
}
