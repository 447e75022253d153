//! The matching engine: the book lines and the bank lines of one account and one
//! direction → matches (docs/rules.md § Bank reconciliation). Pure: no I/O, no
//! hashing, so the same lines in the same order always give the same pairs.
//!
//! Order of the passes, each over what the earlier ones left:
//! 1. one-to-one: same amount, dates at most `window` days apart; the nearest
//!    dates first, then the earliest, then file and line order;
//! 2. many-to-one: several bank lines of one day adding up exactly to one book line;
//! 3. one-to-many: several book lines of one day adding up exactly to one bank line.
//!
//! Batches are a subset-sum search, bounded (see [`CANDIDATES_MAX`],
//! [`SEARCH_STEPS_MAX`] and the parameter `bank_batch_max_lines`): when a bound is
//! hit the day is skipped and its lines stay unmatched — never a guess.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::params::ReconcileParams;

/// At most this many lines of one day (still unmatched, each smaller than the
/// target) are searched for a batch; a day with more is not searched.
pub const CANDIDATES_MAX: usize = 24;

/// A batch search stops after this many steps (subsets tried) without an answer.
pub const SEARCH_STEPS_MAX: u64 = 100_000;

/// One line of either side as the engine sees it. The slices it gets are sorted
/// by (date, file, line): an index is the file/line order among equal dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub date: NaiveDate,
    /// Amount in fen (> 0).
    pub cents: i64,
}

/// How the lines of a match correspond (the `match_kind` of `bank_line`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    OneToOne,
    /// Several bank lines of one day = one book line.
    ManyToOne,
    /// One bank line = several book lines of one day.
    OneToMany,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::OneToOne => "one_to_one",
            Kind::ManyToOne => "many_to_one",
            Kind::OneToMany => "one_to_many",
        }
    }
}

/// One match: indexes into the book and the bank slices, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub kind: Kind,
    pub book: Vec<usize>,
    pub bank: Vec<usize>,
}

/// What the passes did beyond the matches: days not searched because a bound was hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    pub days_skipped: u64,
}

/// Matches one account's lines of one direction. `book` and `bank` must be sorted
/// by (date, file, line).
pub fn match_lines(book: &[Entry], bank: &[Entry], p: &ReconcileParams) -> (Vec<Match>, Bounds) {
    let window = i64::from(p.window_days);
    let mut used_book = vec![false; book.len()];
    let mut used_bank = vec![false; bank.len()];
    let mut matches = one_to_one(book, bank, window, &mut used_book, &mut used_bank);
    let mut bounds = Bounds::default();
    let max = p.batch_max_lines as usize;
    for (one, many) in batches(
        book,
        bank,
        window,
        max,
        &mut used_book,
        &mut used_bank,
        &mut bounds,
    ) {
        matches.push(Match {
            kind: Kind::ManyToOne,
            book: vec![one],
            bank: many,
        });
    }
    for (one, many) in batches(
        bank,
        book,
        window,
        max,
        &mut used_bank,
        &mut used_book,
        &mut bounds,
    ) {
        matches.push(Match {
            kind: Kind::OneToMany,
            book: many,
            bank: vec![one],
        });
    }
    (matches, bounds)
}

fn days_apart(a: NaiveDate, b: NaiveDate) -> i64 {
    (a - b).num_days().abs()
}

/// Pass 1: every pair of the same amount within the window, taken greedily in the
/// order (distance, book date, bank date, book index, bank index).
fn one_to_one(
    book: &[Entry],
    bank: &[Entry],
    window: i64,
    used_book: &mut [bool],
    used_bank: &mut [bool],
) -> Vec<Match> {
    let mut bank_by_amount: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (j, e) in bank.iter().enumerate() {
        bank_by_amount.entry(e.cents).or_default().push(j);
    }
    let mut pairs: Vec<(i64, NaiveDate, NaiveDate, usize, usize)> = Vec::new();
    for (i, b) in book.iter().enumerate() {
        let Some(same) = bank_by_amount.get(&b.cents) else {
            continue;
        };
        // `same` is in date order: start at the first bank line inside the window.
        let from = same.partition_point(|&j| (b.date - bank[j].date).num_days() > window);
        for &j in &same[from..] {
            let d = days_apart(b.date, bank[j].date);
            if bank[j].date > b.date && d > window {
                break;
            }
            pairs.push((d, b.date, bank[j].date, i, j));
        }
    }
    pairs.sort_unstable();
    let mut out = Vec::new();
    for (_, _, _, i, j) in pairs {
        if !used_book[i] && !used_bank[j] {
            used_book[i] = true;
            used_bank[j] = true;
            out.push(Match {
                kind: Kind::OneToOne,
                book: vec![i],
                bank: vec![j],
            });
        }
    }
    out
}

/// Passes 2 and 3: each unmatched line of `one` (in order) against the unmatched
/// lines of `many` of a single day within the window, the nearest day first, then
/// the earliest. Returns (index in `one`, indexes in `many`).
fn batches(
    one: &[Entry],
    many: &[Entry],
    window: i64,
    max_lines: usize,
    used_one: &mut [bool],
    used_many: &mut [bool],
    bounds: &mut Bounds,
) -> Vec<(usize, Vec<usize>)> {
    let mut by_day: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
    for (j, e) in many.iter().enumerate() {
        if !used_many[j] {
            by_day.entry(e.date).or_default().push(j);
        }
    }
    let mut out = Vec::new();
    for (i, target) in one.iter().enumerate() {
        if used_one[i] {
            continue;
        }
        let lo = target.date - chrono::Duration::days(window);
        let hi = target.date + chrono::Duration::days(window);
        let mut days: Vec<NaiveDate> = by_day.range(lo..=hi).map(|(d, _)| *d).collect();
        days.sort_by_key(|d| (days_apart(*d, target.date), *d));
        for day in days {
            let candidates: Vec<usize> = by_day[&day]
                .iter()
                .copied()
                .filter(|&j| !used_many[j] && many[j].cents < target.cents)
                .collect();
            if candidates.len() < 2 {
                continue;
            }
            if candidates.len() > CANDIDATES_MAX {
                bounds.days_skipped += 1;
                continue;
            }
            match subset_sum(many, &candidates, target.cents, max_lines) {
                Search::Found(mut chosen) => {
                    chosen.sort_unstable();
                    used_one[i] = true;
                    for &j in &chosen {
                        used_many[j] = true;
                    }
                    out.push((i, chosen));
                    break;
                }
                Search::None => {}
                Search::Bound => bounds.days_skipped += 1,
            }
        }
    }
    out
}

#[derive(Debug, PartialEq, Eq)]
enum Search {
    Found(Vec<usize>),
    None,
    /// The step bound was hit before an answer: nothing is claimed.
    Bound,
}

/// The first subset (2 to `max_lines` lines) of `candidates` whose amounts add up
/// to `target`, trying the larger amounts first (then file/line order).
fn subset_sum(lines: &[Entry], candidates: &[usize], target: i64, max_lines: usize) -> Search {
    let mut sorted: Vec<usize> = candidates.to_vec();
    sorted.sort_by_key(|&j| (std::cmp::Reverse(lines[j].cents), j));
    let amounts: Vec<i64> = sorted.iter().map(|&j| lines[j].cents).collect();
    // suffix[k] = the sum of amounts[k..]: what is still reachable from k.
    let mut suffix = vec![0i64; amounts.len() + 1];
    for k in (0..amounts.len()).rev() {
        suffix[k] = suffix[k + 1] + amounts[k];
    }
    let mut state = Dfs {
        amounts: &amounts,
        suffix: &suffix,
        max_lines,
        steps: 0,
        chosen: Vec::new(),
    };
    match state.go(0, target) {
        Some(true) => Search::Found(state.chosen.iter().map(|&k| sorted[k]).collect()),
        Some(false) => Search::None,
        None => Search::Bound,
    }
}

struct Dfs<'a> {
    amounts: &'a [i64],
    suffix: &'a [i64],
    max_lines: usize,
    steps: u64,
    chosen: Vec<usize>,
}

impl Dfs<'_> {
    /// Some(true) found (in `chosen`), Some(false) none, None the step bound hit.
    fn go(&mut self, start: usize, remaining: i64) -> Option<bool> {
        if remaining == 0 {
            return Some(self.chosen.len() >= 2);
        }
        if self.chosen.len() == self.max_lines {
            return Some(false);
        }
        for k in start..self.amounts.len() {
            if self.suffix[k] < remaining {
                break; // the rest cannot reach it
            }
            if self.amounts[k] > remaining {
                continue;
            }
            self.steps += 1;
            if self.steps > SEARCH_STEPS_MAX {
                return None;
            }
            self.chosen.push(k);
            match self.go(k + 1, remaining - self.amounts[k]) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => return None,
            }
            self.chosen.pop();
        }
        Some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(day: u32, cents: i64) -> Entry {
        Entry {
            date: NaiveDate::from_ymd_opt(2026, 9, day).unwrap(),
            cents,
        }
    }

    const P: ReconcileParams = ReconcileParams {
        window_days: 5,
        batch_max_lines: 8,
    };

    #[test]
    fn one_to_one_inside_the_window_only() {
        let (m, _) = match_lines(&[e(1, 100), e(1, 200)], &[e(6, 100), e(7, 200)], &P);
        assert_eq!(
            m,
            vec![Match {
                kind: Kind::OneToOne,
                book: vec![0],
                bank: vec![0]
            }]
        );
    }

    #[test]
    fn equal_amounts_pair_by_nearest_date() {
        // Book 2nd and 4th, bank 3rd and 5th: the 4th could take the 3rd (one day),
        // but the 2nd came first in file order at the same distance.
        let (m, _) = match_lines(&[e(2, 100), e(4, 100)], &[e(3, 100), e(5, 100)], &P);
        let pairs: Vec<(usize, usize)> = m.iter().map(|m| (m.book[0], m.bank[0])).collect();
        assert_eq!(pairs, vec![(0, 0), (1, 1)]);
    }

    #[test]
    fn many_to_one_and_one_to_many() {
        let (m, _) = match_lines(
            &[e(5, 600), e(8, 70), e(8, 30)],
            &[e(6, 100), e(6, 200), e(6, 300), e(9, 100)],
            &P,
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].kind, Kind::ManyToOne);
        assert_eq!(
            (m[0].book.clone(), m[0].bank.clone()),
            (vec![0], vec![0, 1, 2])
        );
        assert_eq!(m[1].kind, Kind::OneToMany);
        assert_eq!(
            (m[1].book.clone(), m[1].bank.clone()),
            (vec![1, 2], vec![3])
        );
    }

    #[test]
    fn a_sum_that_cannot_be_made_stays_unmatched() {
        let (m, _) = match_lines(&[e(5, 650)], &[e(6, 100), e(6, 200), e(6, 300)], &P);
        assert!(m.is_empty());
    }

    #[test]
    fn a_day_past_the_candidate_bound_is_skipped() {
        let bank: Vec<Entry> = (0..(CANDIDATES_MAX as i64 + 1))
            .map(|k| e(6, 10 + k))
            .collect();
        let (m, b) = match_lines(&[e(6, 100_000)], &bank, &P);
        assert!(m.is_empty());
        assert_eq!(b.days_skipped, 1);
    }

    #[test]
    fn a_search_past_the_step_bound_gives_up() {
        // 24 even amounts cannot make an odd sum, and proving it takes about 346,000
        // steps: past the bound, the day is skipped rather than searched to the end.
        let bank: Vec<Entry> = (0..24).map(|k| e(6, 1000 + 2 * k)).collect();
        let (m, b) = match_lines(&[e(6, 8001)], &bank, &P);
        assert!(m.is_empty());
        assert_eq!(b.days_skipped, 1);
        // Within the bound (about 42,500 steps) the same search ends with "none".
        let (m, b) = match_lines(&[e(6, 6001)], &bank, &P);
        assert!(m.is_empty());
        assert_eq!(b.days_skipped, 0);
    }

    #[test]
    fn batch_larger_than_the_bound_is_not_made() {
        let p = ReconcileParams {
            window_days: 5,
            batch_max_lines: 2,
        };
        let (m, _) = match_lines(&[e(6, 300)], &[e(6, 100), e(6, 100), e(6, 100)], &p);
        assert!(m.is_empty());
    }
}
