//! Loading: what comparison needs of each enrollment of `a_person` (names folded,
//! their sounds looked up once per character, contact details hashed).

use std::collections::HashMap;

use chrono::NaiveDate;
use duckdb::Connection;
use xxhash_rust::xxh3::xxh3_64;

use crate::audit::names;
use crate::audit::AuditError;

/// The readings of one character (interned pinyin, 0 = none), at most four.
pub(super) type Sound = [u16; 4];

/// What comparison needs of an enrollment (kept small: a million are in memory).
pub(super) struct Rec {
    pub(super) person_no: String,
    pub(super) id: String,
    pub(super) id_valid: bool,
    pub(super) registered: bool,
    /// Hash of the register's name, folded (0: not registered).
    pub(super) reg_name: u64,
    pub(super) name: String,
    pub(super) folded: Box<[char]>,
    pub(super) sounds: Box<[Sound]>,
    pub(super) sex: Option<char>,
    /// Birth date from the register or ID number, and the one typed (when different).
    pub(super) births: [Option<NaiveDate>; 2],
    pub(super) township: u32,
    /// Township and village together (village names repeat across townships).
    pub(super) village: Option<u32>,
    /// Hashes of the contact details (0: none given).
    pub(super) phone: u64,
    pub(super) bank: u64,
    pub(super) address: u64,
    /// Every address on record by the audit month, sorted: the enrollment's and each
    /// change record's (a person who moved house after a second enrollment copied the
    /// first address still shares it).
    pub(super) addresses: Box<[u64]>,
}

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

pub(super) fn shares_reading(a: &Sound, b: &Sound) -> bool {
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

pub(super) fn load(
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
