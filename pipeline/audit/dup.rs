//! DUP_PERSON: different ID numbers that are probably one person — record linkage
//! without a shared key, in the manner of Splink but deterministic and explainable.
//!
//! Blocking: every enrollment goes into the block of (birth date, township, surname)
//! — for the birth date in its ID number (or the register) and, when it differs, the
//! one typed on the enrollment; the surname is the first character of the folded
//! name, which equal and near names share — so only records that agree on all three
//! are ever compared. The work is the sum of squared block sizes, near-linear in the
//! population.
//!
//! Comparison: names after folding (traditional/simplified, spaces, middle dots)
//! must be equal, or near (three characters or more, one replaced) with the same
//! phone or bank account; agreement on village, sex, phone, bank account and address
//! adds weight, disagreement on sex removes it, and an identity unknown to the
//! public-security register beside a registered one adds weight.
//! A pair at or above the threshold is a match; matches are grouped (union-find) and
//! every member of a group gets a finding naming the others.

use std::collections::HashMap;
use std::time::Instant;

use chrono::NaiveDate;
use duckdb::{params, Connection};

use super::engine::AuditParams;
use super::names;
use super::AuditError;

#[derive(Debug, Clone, Default)]
pub struct DupStats {
    pub persons: u64,
    pub blocks: u64,
    pub pairs_compared: u64,
    pub pairs_matched: u64,
    pub groups: u64,
    pub seconds: f64,
}

/// What blocking and name comparison need, for every enrollment (kept small: a
/// million of these are in memory at once). Township and village are interned.
struct Rec {
    person_no: String,
    id: String,
    id_valid: bool,
    registered: bool,
    name: String,
    folded: String,
    sex: Option<char>,
    birth: Option<NaiveDate>,
    birth_typed: Option<NaiveDate>,
    township: u32,
    village: Option<u32>,
}

/// Contact details, loaded only for records that some comparison found near.
#[derive(Default, Clone)]
struct Contact {
    phone: Option<String>,
    bank: Option<String>,
    address: Option<String>,
}

fn same(a: &Option<String>, b: &Option<String>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if !x.is_empty() && x == y)
}

/// Whether the folded names are equal (Some(true)), or near: of three characters or
/// more, the same length and surname, one character replaced (Some(false)); else
/// None. (Two-character names one character apart share only the surname.)
fn names_agree(a: &Rec, b: &Rec) -> Option<bool> {
    if a.folded == b.folded {
        return Some(true);
    }
    let (x, y): (Vec<char>, Vec<char>) = (a.folded.chars().collect(), b.folded.chars().collect());
    (x.len() >= 3
        && x.len() == y.len()
        && x.first() == y.first()
        && names::distance_within(&x, &y, 1).is_some())
    .then_some(false)
}

/// The weight of evidence that `a` and `b` (whose names agree) are one person, with
/// the reasons.
fn score(
    a: &Rec,
    b: &Rec,
    exact: bool,
    ca: &Contact,
    cb: &Contact,
    places: &[String],
) -> (i32, Vec<String>) {
    let mut s = 0;
    let mut why = Vec::new();
    if exact {
        s += 8;
        why.push(if a.name == b.name {
            format!("same name {}", a.name)
        } else {
            format!("same name {} / {}", a.name, b.name)
        });
    } else {
        s += 3;
        why.push(format!("near name {} / {}", a.name, b.name));
    }
    if let Some(d) = a.birth.or(a.birth_typed) {
        why.push(format!("same birth date {d}"));
    }
    let town = &places[a.township as usize];
    match (a.village, b.village) {
        (Some(x), Some(y)) if x == y => {
            s += 2;
            why.push(format!("same village {town}{}", places[x as usize]));
        }
        _ => why.push(format!("same township {town}")),
    }
    match (a.sex, b.sex) {
        (Some(x), Some(y)) if x == y => s += 1,
        (Some(_), Some(_)) => {
            s -= 3;
            why.push("different sex".into());
        }
        _ => {}
    }
    for (w, label, x, y) in [
        (4, "phone", &ca.phone, &cb.phone),
        (4, "bank account", &ca.bank, &cb.bank),
        (2, "address", &ca.address, &cb.address),
    ] {
        if same(x, y) {
            s += w;
            why.push(format!("same {label} {}", x.as_deref().unwrap_or("")));
        }
    }
    if a.registered != b.registered {
        s += 3;
        let unknown = if a.registered { &b.id } else { &a.id };
        why.push(format!("ID {unknown} not in id_registry"));
    }
    (s, why)
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn load(conn: &Connection, places: &mut Vec<String>) -> Result<Vec<Rec>, AuditError> {
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
    let mut stmt = conn.prepare(
        "SELECT person_no, id_number, registered, name, sex, birth, birth_date, township, village, id_valid
         FROM a_person WHERE name IS NOT NULL AND township IS NOT NULL ORDER BY person_no",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let name: String = r.get(3)?;
        let sex: Option<String> = r.get(4)?;
        let village: Option<String> = r.get(8)?;
        out.push(Rec {
            person_no: r.get(0)?,
            id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            id_valid: r.get(9)?,
            registered: r.get(2)?,
            folded: names::normalize(&name),
            name,
            sex: sex.and_then(|s| s.chars().next()),
            birth: r.get(5)?,
            birth_typed: r.get(6)?,
            township: intern(r.get(7)?),
            village: village.map(&mut intern),
        });
    }
    Ok(out)
}

/// Contact details of the records in `wanted` (indices into `recs`).
fn contacts(
    conn: &Connection,
    recs: &[Rec],
    wanted: &std::collections::BTreeSet<u32>,
) -> Result<HashMap<u32, Contact>, AuditError> {
    conn.execute_batch("CREATE OR REPLACE TABLE a_dup_want (person_no VARCHAR);")?;
    {
        let mut app = conn.appender("a_dup_want")?;
        for &i in wanted {
            app.append_row(params![recs[i as usize].person_no])?;
        }
        app.flush()?;
    }
    let by_no: HashMap<&str, u32> = wanted
        .iter()
        .map(|&i| (recs[i as usize].person_no.as_str(), i))
        .collect();
    let mut stmt = conn.prepare(
        "SELECT p.person_no, p.phone, p.bank_account, p.address FROM a_person p JOIN a_dup_want USING (person_no)",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next()? {
        let no: String = r.get(0)?;
        if let Some(&i) = by_no.get(no.as_str()) {
            out.insert(
                i,
                Contact {
                    phone: r.get(1)?,
                    bank: r.get(2)?,
                    address: r.get(3)?,
                },
            );
        }
    }
    Ok(out)
}

/// Finds the groups and adds their findings to `a_raw`.
pub fn run(conn: &Connection, params: &AuditParams) -> Result<DupStats, AuditError> {
    let t = Instant::now();
    let mut places = Vec::new();
    let recs = load(conn, &mut places)?;
    let mut blocks: HashMap<(NaiveDate, u32, char), Vec<u32>> = HashMap::new();
    for (i, r) in recs.iter().enumerate() {
        let mut keys = Vec::with_capacity(2);
        keys.extend(r.birth);
        if let Some(b) = r.birth_typed.filter(|b| Some(*b) != r.birth) {
            keys.push(b);
        }
        // Equal and near names both keep the surname (the first folded character).
        let surname = r.folded.chars().next().unwrap_or(' ');
        for k in keys {
            blocks
                .entry((k, r.township, surname))
                .or_default()
                .push(i as u32);
        }
    }
    let mut stats = DupStats {
        persons: recs.len() as u64,
        blocks: blocks.len() as u64,
        ..Default::default()
    };
    // Pass 1: within each block, the pairs whose names agree (not one valid ID
    // enrolled twice: that is DUP_ID).
    let mut candidates: HashMap<(u32, u32), bool> = HashMap::new();
    for members in blocks.values() {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                let (i, j) = (i.min(j), i.max(j));
                stats.pairs_compared += 1;
                let (a, b) = (&recs[i as usize], &recs[j as usize]);
                if (a.id == b.id && a.id_valid) || candidates.contains_key(&(i, j)) {
                    continue;
                }
                if let Some(exact) = names_agree(a, b) {
                    candidates.insert((i, j), exact);
                }
            }
        }
    }
    drop(blocks);
    // Pass 2: score the candidates with their contact details.
    let wanted: std::collections::BTreeSet<u32> =
        candidates.keys().flat_map(|&(i, j)| [i, j]).collect();
    let contact = contacts(conn, &recs, &wanted)?;
    let none = Contact::default();
    let mut matched: HashMap<(u32, u32), Vec<String>> = HashMap::new();
    for (&(i, j), &exact) in &candidates {
        let (ca, cb) = (
            contact.get(&i).unwrap_or(&none),
            contact.get(&j).unwrap_or(&none),
        );
        // A near name alone is too weak (twins, namesakes of one village): it needs the
        // same phone or bank account as well.
        if !exact && !(same(&ca.phone, &cb.phone) || same(&ca.bank, &cb.bank)) {
            continue;
        }
        let (s, why) = score(&recs[i as usize], &recs[j as usize], exact, ca, cb, &places);
        if s >= params.dup_threshold {
            matched.insert((i, j), why);
        }
    }
    stats.pairs_matched = matched.len() as u64;
    let mut parent: Vec<usize> = (0..recs.len()).collect();
    for &(i, j) in matched.keys() {
        let (a, b) = (find(&mut parent, i as usize), find(&mut parent, j as usize));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(i, j) in matched.keys() {
        for k in [i as usize, j as usize] {
            let root = find(&mut parent, k);
            let g = groups.entry(root).or_default();
            if !g.contains(&k) {
                g.push(k);
            }
        }
    }
    stats.groups = groups.len() as u64;
    conn.execute_batch("CREATE OR REPLACE TABLE a_dup (person_no VARCHAR, evidence VARCHAR);")?;
    {
        let mut app = conn.appender("a_dup")?;
        let mut sorted: Vec<Vec<usize>> = groups.into_values().collect();
        for g in &mut sorted {
            g.sort_by(|a, b| recs[*a].person_no.cmp(&recs[*b].person_no));
        }
        sorted.sort_by(|a, b| recs[a[0]].person_no.cmp(&recs[b[0]].person_no));
        for g in &sorted {
            for &k in g {
                let me = &recs[k];
                let mut parts = Vec::new();
                for &o in g.iter().filter(|&&o| o != k) {
                    let other = &recs[o];
                    let key = (k.min(o) as u32, k.max(o) as u32);
                    let why = matched
                        .get(&key)
                        .map(|w| w.join(", "))
                        .unwrap_or_else(|| "same group".into());
                    parts.push(format!(
                        "person_no {} (ID {}, {}): {}",
                        other.person_no, other.id, other.name, why
                    ));
                }
                let evidence = format!("probably the same person as {}", parts.join("; "));
                app.append_row(params![me.person_no, evidence])?;
            }
        }
        app.flush()?;
    }
    conn.execute_batch(
        "INSERT INTO a_raw BY NAME
         SELECT 'DUP_PERSON' AS check_code, person_no AS subject, person_no, evidence FROM a_dup;",
    )?;
    stats.seconds = t.elapsed().as_secs_f64();
    Ok(stats)
}
