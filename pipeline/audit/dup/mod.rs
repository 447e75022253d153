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
//!    or above the threshold (parameter `dup_person_threshold`) is a match.
//! 4. **Grouping.** A second enrollment copies one person: a record matching two
//!    registered records that do not match each other keeps only the far stronger
//!    match (by the threshold or more; `group::explained_away`). The matches left
//!    are grouped (union-find) and each member gets a finding naming the others,
//!    with the reasons and the score.
//!
//! Files: `load.rs` (the enrollments read), `blocking.rs`, `compare.rs` (levels and
//! their words), `weights.rs` (weights and their estimation), `group.rs`.

mod blocking;
mod compare;
mod group;
mod load;
mod weights;

use std::time::Instant;

use chrono::NaiveDate;
use duckdb::{params, Connection};
use rayon::prelude::*;

use super::engine::AuditParams;
use super::AuditError;
use blocking::candidate_pairs;
use compare::{compare, explain, two_registered_persons};
use load::{load, Rec};

pub use blocking::MAX_BLOCK;
pub use compare::{scored, Levels, Scored, COMPARED, FIELDS};
pub use load::as_of_end;
pub use weights::{estimate_weights, parse_weights, weights, Weights};

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
    let matched: group::Matches = scored
        .iter()
        .filter(|p| p.3 >= threshold && !p.4)
        .map(|&(i, j, l, s, _)| {
            let why = explain(&recs[i as usize], &recs[j as usize], &l, s, &places);
            ((i, j), (s, why))
        })
        .collect();
    stats.pairs_matched = matched.len() as u64;
    // The margin of a stronger match that explains a weaker one away is the
    // threshold itself (see group::explained_away).
    let (rows, groups) = group::findings(&recs, &matched, threshold);
    stats.groups = groups;
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
