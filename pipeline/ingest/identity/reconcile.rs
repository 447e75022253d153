//! The reconciliation: a run's files of one kind replayed in file order against the
//! versions current before the run.

use std::collections::{HashMap, HashSet};

use super::{Index, KeyId, KeyMap, KeySet};
use crate::schema::{Identity, Load};

/// What one file said about its kind's records, as its reader saw it (compared
/// with the versions current before this run).
#[derive(Debug, Default)]
pub struct FileKeys {
    /// Rows stored: new or changed against the run's starting state.
    pub stored: Vec<StoredRow>,
    /// Rows equal to the version current before the run (not stored): the first
    /// word of their key and their line, kept compact (a re-sent county is tens of
    /// millions of them) and needed only when an earlier file of the same run
    /// changed the same record.
    pub same_as_before: Vec<u64>,
    pub same_as_before_lines: Vec<u32>,
    /// Key texts of rows that correct a record stored before the run (to find the
    /// stored version they retire).
    pub corrections: Vec<(KeyId, String)>,
    /// Snapshots: every key the file lists (accepted, or quarantined with a
    /// readable key) and the scopes it covers.
    pub listed: KeySet,
    pub scopes: HashSet<u32>,
    /// Snapshots: the file's rows, accepted or quarantined (none: an empty file).
    pub rows: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct StoredRow {
    pub key: KeyId,
    pub hash: u64,
    pub line: u32,
    pub scope: u32,
}

/// Why a stored version stopped being current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetireReason {
    /// A later version of the record (same key, other values) replaced it.
    Changed,
    /// A later snapshot no longer lists the record.
    Gone,
}

impl RetireReason {
    pub fn code(self) -> &'static str {
        match self {
            RetireReason::Changed => "changed",
            RetireReason::Gone => "gone",
        }
    }
}

/// The stored row a retirement names: known (file, line), or the version current
/// before the run, found afterwards by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Stored { file_seq: u64, line: u64 },
    Before(KeyId),
}

/// One version retired by this run, and what retired it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    pub target: Target,
    pub reason: RetireReason,
    pub by_file_seq: u64,
    pub by_line: Option<u64>,
}

/// A retirement with its stored row found: what the run's retirement file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired {
    pub file_seq: u64,
    pub line: u64,
    pub reason: RetireReason,
    pub by_file_seq: u64,
    pub by_line: Option<u64>,
}

/// Finds the stored rows of retirements named by key (`Target::Before`).
pub fn resolve(
    retired: &[Retirement],
    located: &KeyMap<(u64, u64)>,
) -> Result<Vec<Retired>, KeyId> {
    retired
        .iter()
        .map(|r| {
            let (file_seq, line) = match r.target {
                Target::Stored { file_seq, line } => (file_seq, line),
                Target::Before(key) => *located.get(&key).ok_or(key)?,
            };
            Ok(Retired {
                file_seq,
                line,
                reason: r.reason,
                by_file_seq: r.by_file_seq,
                by_line: r.by_line,
            })
        })
        .collect()
}

/// Per-file outcome of the reconciliation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileCounts {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Records of the current set this snapshot no longer lists.
    pub gone: u64,
    /// Stored lines that turned out to repeat a version an earlier file of this
    /// run already stored: removed from the file's staged parts.
    pub drop_lines: Vec<u64>,
}

/// The current state of a key during reconciliation.
#[derive(Debug, Clone, Copy)]
enum State {
    /// The version stored before this run is current.
    Before,
    /// A version stored by this run.
    Run {
        hash: u64,
        file_seq: u64,
        line: u64,
        scope: u32,
    },
    Gone,
}

/// Replays the files of one kind in file order against the versions current before
/// the run: which rows are new, changed or unchanged, which versions retire, and
/// (snapshots) which records are gone.
pub fn reconcile(
    identity: &Identity,
    before: &Index,
    files: &[(u64, &FileKeys)],
) -> (Vec<FileCounts>, Vec<Retirement>) {
    match identity.load {
        Load::Events => reconcile_events(before, files),
        Load::Snapshot => reconcile_snapshots(before, files, identity.empty_file_clears),
    }
}

/// One row of the run, for the events reconciliation: sorted by key, then file.
#[derive(Clone, Copy)]
struct RunRow {
    key: KeyId,
    file: u32,
    line: u32,
    hash: u64,
}

/// Events: every key on its own, its versions in file order. Sorting the run's
/// rows instead of mapping every key keeps the first load of tens of millions of
/// payouts within memory (one 32-byte row each, no hash table).
fn reconcile_events(
    before: &Index,
    files: &[(u64, &FileKeys)],
) -> (Vec<FileCounts>, Vec<Retirement>) {
    let mut counts: Vec<FileCounts> = files
        .iter()
        .map(|(_, k)| FileCounts {
            unchanged: k.same_as_before.len() as u64,
            ..Default::default()
        })
        .collect();
    let mut rows: Vec<RunRow> = files
        .iter()
        .enumerate()
        .flat_map(|(f, (_, k))| {
            k.stored.iter().map(move |r| RunRow {
                key: r.key,
                file: f as u32,
                line: r.line,
                hash: r.hash,
            })
        })
        .collect();
    rows.sort_unstable_by_key(|r| (r.key, r.file, r.line));
    // Rows equal to the stored version matter only where the run also stored the
    // key: found by the key's first word (files, lines), sorted to merge.
    let mut same: Vec<(u64, u32, u32)> = files
        .iter()
        .enumerate()
        .flat_map(|(f, (_, k))| {
            k.same_as_before
                .iter()
                .zip(&k.same_as_before_lines)
                .map(move |(w, l)| (*w, f as u32, *l))
        })
        .collect();
    same.sort_unstable();
    let mut retired = Vec::new();
    let seq_of = |f: u32| files[f as usize].0;
    let mut start = 0;
    while start < rows.len() {
        let key = rows[start].key;
        let end = start + rows[start..].iter().take_while(|r| r.key == key).count();
        let from = same.partition_point(|s| s.0 < key[0]);
        let to = from + same[from..].iter().take_while(|s| s.0 == key[0]).count();
        let before_hash = before.hashes.get(&key).copied();
        // The key's versions in file order: stored rows and rows equal to the
        // version stored before the run.
        let mut events: Vec<(u32, u32, Option<u64>)> = rows[start..end]
            .iter()
            .map(|r| (r.file, r.line, Some(r.hash)))
            .chain(same[from..to].iter().map(|s| (s.1, s.2, None)))
            .collect();
        events.sort_unstable();
        let mut cur: Option<(u64, Target)> = before_hash.map(|h| (h, before_target(before, key)));
        for (file, line, hash) in events {
            let c = &mut counts[file as usize];
            let (seq, line) = (seq_of(file), u64::from(line));
            match hash {
                Some(hash) => {
                    match cur {
                        None => c.new += 1,
                        Some((h, _)) if h == hash => {
                            c.unchanged += 1;
                            c.drop_lines.push(line);
                            continue;
                        }
                        Some((_, target)) => {
                            c.changed += 1;
                            retired.push(changed(target, seq, line));
                        }
                    }
                    cur = Some((
                        hash,
                        Target::Stored {
                            file_seq: seq,
                            line,
                        },
                    ));
                }
                // Equal to the version stored before the run (already counted
                // unchanged): a change only if an earlier file of the run changed it.
                None => match (cur, before_hash) {
                    (Some((h, target)), Some(b)) if h != b => {
                        c.unchanged -= 1;
                        c.changed += 1;
                        retired.push(changed(target, seq, line));
                        cur = Some((b, before_target(before, key)));
                    }
                    _ => {}
                },
            }
        }
        start = end;
    }
    (counts, retired)
}

fn changed(target: Target, by_file_seq: u64, by_line: u64) -> Retirement {
    Retirement {
        target,
        reason: RetireReason::Changed,
        by_file_seq,
        by_line: Some(by_line),
    }
}

/// Snapshots: files in order, each dropping what it no longer lists (registers and
/// reference tables: at most a few million records).
fn reconcile_snapshots(
    before: &Index,
    files: &[(u64, &FileKeys)],
    empty_file_clears: bool,
) -> (Vec<FileCounts>, Vec<Retirement>) {
    let mut touched: KeyMap<State> = KeyMap::default();
    let mut retired: Vec<Retirement> = Vec::new();
    let mut counts = Vec::with_capacity(files.len());
    for (seq, keys) in files {
        let mut c = FileCounts::default();
        for row in &keys.stored {
            let line = u64::from(row.line);
            let now = State::Run {
                hash: row.hash,
                file_seq: *seq,
                line,
                scope: row.scope,
            };
            match current(&touched, before, row.key) {
                None => c.new += 1,
                Some((hash, _)) if hash == row.hash => {
                    c.unchanged += 1;
                    c.drop_lines.push(line);
                    continue;
                }
                Some((_, target)) => {
                    c.changed += 1;
                    retired.push(Retirement {
                        target,
                        reason: RetireReason::Changed,
                        by_file_seq: *seq,
                        by_line: Some(line),
                    });
                }
            }
            touched.insert(row.key, now);
        }
        same_as_before(&mut touched, &mut retired, &mut c, keys, *seq, before);
        // A snapshot listing nothing replaces nothing, unless the kind says an empty
        // file means an empty set (schema identity.empty_file_clears).
        if !keys.listed.is_empty() || (empty_file_clears && keys.rows == 0) {
            c.gone = drop_unlisted(&mut touched, before, keys, *seq, &mut retired);
        }
        counts.push(c);
    }
    (counts, retired)
}

/// Rows equal to the version current before the run are unchanged — unless an
/// earlier file of this run changed or dropped that record (rare: then they bring
/// the earlier version back).
fn same_as_before(
    touched: &mut KeyMap<State>,
    retired: &mut Vec<Retirement>,
    c: &mut FileCounts,
    keys: &FileKeys,
    seq: u64,
    before: &Index,
) {
    let mut c_unchanged = keys.same_as_before.len() as u64;
    if !touched.is_empty() {
        let by_word: HashMap<u64, KeyId> = touched.keys().map(|k| (k[0], *k)).collect();
        for (word, line) in keys.same_as_before.iter().zip(&keys.same_as_before_lines) {
            let Some(key) = by_word.get(word).copied() else {
                continue;
            };
            match touched.get(&key).copied() {
                Some(State::Run {
                    file_seq, line: l, ..
                }) => {
                    c_unchanged -= 1;
                    c.changed += 1;
                    retired.push(Retirement {
                        target: Target::Stored { file_seq, line: l },
                        reason: RetireReason::Changed,
                        by_file_seq: seq,
                        by_line: Some(u64::from(*line)),
                    });
                    touched.insert(key, State::Before);
                }
                Some(State::Gone) => {
                    // An earlier snapshot of this run dropped it: that drop is undone.
                    c_unchanged -= 1;
                    c.new += 1;
                    let target = before_target(before, key);
                    retired.retain(|r| !(r.target == target && r.reason == RetireReason::Gone));
                    touched.insert(key, State::Before);
                }
                _ => {}
            }
        }
    }
    c.unchanged += c_unchanged;
}

/// The current version of a key: its hash and how to name its stored row.
fn current(touched: &KeyMap<State>, before: &Index, key: KeyId) -> Option<(u64, Target)> {
    match touched.get(&key) {
        Some(State::Run {
            hash,
            file_seq,
            line,
            ..
        }) => Some((
            *hash,
            Target::Stored {
                file_seq: *file_seq,
                line: *line,
            },
        )),
        Some(State::Gone) => None,
        Some(State::Before) | None => before
            .hashes
            .get(&key)
            .map(|h| (*h, before_target(before, key))),
    }
}

fn before_target(before: &Index, key: KeyId) -> Target {
    match before.located.get(&key) {
        Some(l) => Target::Stored {
            file_seq: u64::from(l.file_seq),
            line: u64::from(l.line),
        },
        None => Target::Before(key),
    }
}

/// A snapshot replaces the current set within the scopes it covers: every current
/// record there that it does not list is gone.
fn drop_unlisted(
    touched: &mut KeyMap<State>,
    before: &Index,
    keys: &FileKeys,
    seq: u64,
    retired: &mut Vec<Retirement>,
) -> u64 {
    let covered = |scope: u32| scope == 0 || keys.scopes.contains(&scope);
    let mut gone: Vec<(KeyId, Target)> = Vec::new();
    for (key, loc) in &before.located {
        if touched.contains_key(key) || keys.listed.contains(key) || !covered(loc.scope) {
            continue;
        }
        gone.push((*key, before_target(before, *key)));
    }
    for (key, state) in touched.iter() {
        if keys.listed.contains(key) {
            continue;
        }
        match state {
            State::Run {
                file_seq,
                line,
                scope,
                ..
            } if covered(*scope) => gone.push((
                *key,
                Target::Stored {
                    file_seq: *file_seq,
                    line: *line,
                },
            )),
            State::Before => {
                if before.located.get(key).is_some_and(|l| covered(l.scope)) {
                    gone.push((*key, before_target(before, *key)));
                }
            }
            _ => {}
        }
    }
    // Deterministic order of the retirement file.
    gone.sort_by_key(|(_, t)| match t {
        Target::Stored { file_seq, line } => (*file_seq, *line),
        Target::Before(_) => (u64::MAX, u64::MAX),
    });
    for (key, target) in &gone {
        retired.push(Retirement {
            target: *target,
            reason: RetireReason::Gone,
            by_file_seq: seq,
            by_line: None,
        });
        touched.insert(*key, State::Gone);
    }
    gone.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::identity::{key_id, Location, Versions};

    fn k(n: u64) -> KeyId {
        [n, 0]
    }

    fn stored(key: u64, hash: u64, line: u32) -> StoredRow {
        StoredRow {
            key: k(key),
            hash,
            line,
            scope: 0,
        }
    }

    fn index(rows: &[(u64, u64, u32, u32, u32)]) -> Index {
        let mut i = Index {
            hashes: Versions::from_pairs(rows.iter().map(|r| (k(r.0), r.1)).collect()),
            ..Default::default()
        };
        for &(key, _, file_seq, line, scope) in rows {
            i.located.insert(
                k(key),
                Location {
                    file_seq,
                    line,
                    scope,
                },
            );
        }
        i
    }

    #[test]
    fn versions_find_every_key_and_no_other() {
        let pairs: Vec<(KeyId, u64)> = (0..5000u64)
            .map(|i| (key_id(&format!("P{i}")), i))
            .collect();
        let v = Versions::from_pairs(pairs.iter().rev().copied().collect());
        assert_eq!(v.len(), 5000);
        for (key, h) in &pairs {
            assert_eq!(v.get(key), Some(h));
        }
        assert_eq!(v.get(&key_id("P5000")), None);
        // A key given twice keeps the later hash; an empty table finds nothing.
        let twice = Versions::from_pairs(vec![(k(1), 1), (k(1), 2)]);
        assert_eq!((twice.len(), twice.get(&k(1))), (1, Some(&2)));
        assert_eq!(Versions::default().get(&k(1)), None);
    }

    #[test]
    fn events_new_changed_unchanged() {
        let before = Index {
            hashes: Versions::from_pairs(vec![(k(1), 10), (k(2), 20)]),
            ..Default::default()
        };
        let f = FileKeys {
            stored: vec![stored(2, 21, 2), stored(3, 30, 3)],
            same_as_before: vec![1],
            same_as_before_lines: vec![4],
            ..Default::default()
        };
        let (counts, retired) = reconcile(&identity(Load::Events, false), &before, &[(5, &f)]);
        assert_eq!(
            (counts[0].new, counts[0].changed, counts[0].unchanged),
            (1, 1, 1)
        );
        assert_eq!(retired.len(), 1);
        assert_eq!(retired[0].target, Target::Before(k(2)));
        assert_eq!(retired[0].by_line, Some(2));
    }

    #[test]
    fn a_later_file_of_the_same_run_repeats_or_restores() {
        let before = Index {
            hashes: Versions::from_pairs(vec![(k(1), 10)]),
            ..Default::default()
        };
        let a = FileKeys {
            stored: vec![stored(1, 11, 2), stored(2, 20, 3)],
            ..Default::default()
        };
        // b repeats a's record 2 (unchanged, dropped) and restores record 1's old values.
        let b = FileKeys {
            stored: vec![stored(2, 20, 7)],
            same_as_before: vec![1],
            same_as_before_lines: vec![8],
            ..Default::default()
        };
        let (counts, retired) =
            reconcile(&identity(Load::Events, false), &before, &[(5, &a), (6, &b)]);
        assert_eq!(counts[1].drop_lines, vec![7]);
        assert_eq!((counts[1].changed, counts[1].unchanged), (1, 1));
        // The old version retired by a, then a's version retired by b.
        assert_eq!(retired.len(), 2);
        assert_eq!(
            retired[1].target,
            Target::Stored {
                file_seq: 5,
                line: 2
            }
        );
    }

    #[test]
    fn a_snapshot_drops_what_it_no_longer_lists_within_its_scope() {
        let before = index(&[(1, 1, 1, 2, 7), (2, 2, 1, 3, 7), (3, 3, 2, 2, 9)]);
        let f = FileKeys {
            same_as_before: vec![1],
            same_as_before_lines: vec![2],
            listed: [k(1)].into_iter().collect(),
            scopes: [7].into_iter().collect(),
            ..Default::default()
        };
        let (counts, retired) = reconcile(&identity(Load::Snapshot, false), &before, &[(4, &f)]);
        assert_eq!((counts[0].unchanged, counts[0].gone), (1, 1));
        assert_eq!(retired.len(), 1);
        assert_eq!(retired[0].reason, RetireReason::Gone);
        assert_eq!(
            retired[0].target,
            Target::Stored {
                file_seq: 1,
                line: 3
            }
        );
    }

    fn identity(load: Load, empty_file_clears: bool) -> Identity {
        Identity {
            key: vec!["id".into()],
            load,
            scope: vec![],
            why: None,
            empty_file_clears,
        }
    }

    #[test]
    fn an_empty_snapshot_clears_the_set_only_where_the_kind_says_so() {
        let before = index(&[(1, 1, 1, 2, 0), (2, 2, 1, 3, 0)]);
        let empty = FileKeys::default();
        let (counts, retired) =
            reconcile(&identity(Load::Snapshot, false), &before, &[(4, &empty)]);
        assert_eq!((counts[0].gone, retired.len()), (0, 0));
        let (counts, retired) = reconcile(&identity(Load::Snapshot, true), &before, &[(4, &empty)]);
        assert_eq!((counts[0].gone, retired.len()), (2, 2));
        // Rows all quarantined without a readable key are not an empty file.
        let unreadable = FileKeys {
            rows: 3,
            ..Default::default()
        };
        let (counts, _) = reconcile(
            &identity(Load::Snapshot, true),
            &before,
            &[(4, &unreadable)],
        );
        assert_eq!(counts[0].gone, 0);
    }

    #[test]
    fn a_record_dropped_then_listed_again_in_one_run_stays() {
        let before = index(&[(1, 1, 1, 2, 0), (2, 2, 1, 3, 0)]);
        let first = FileKeys {
            same_as_before: vec![1],
            same_as_before_lines: vec![2],
            listed: [k(1)].into_iter().collect(),
            ..Default::default()
        };
        let second = FileKeys {
            same_as_before: vec![1, 2],
            same_as_before_lines: vec![2, 3],
            listed: [k(1), k(2)].into_iter().collect(),
            ..Default::default()
        };
        let (counts, retired) = reconcile(
            &identity(Load::Snapshot, false),
            &before,
            &[(4, &first), (5, &second)],
        );
        assert_eq!(counts[0].gone, 1);
        assert_eq!(
            (counts[1].new, counts[1].unchanged, counts[1].gone),
            (1, 1, 0)
        );
        assert!(retired.is_empty(), "{retired:?}");
    }
}
