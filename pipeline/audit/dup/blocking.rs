//! Blocking: the keys of each record and the candidate pairs (records sharing a
//! key), see the module comment of [`super`].

use chrono::Datelike;
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::load::{Rec, Sound};

/// Blocks of more records than this are not paired (see the module comment).
pub const MAX_BLOCK: usize = 64;

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
pub(super) fn candidate_pairs(recs: &[Rec]) -> (Vec<u64>, u64, u64) {
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
