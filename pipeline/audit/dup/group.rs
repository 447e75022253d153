//! Grouping: a record's weaker matches explained away by a far stronger one (one
//! copy of one person), the matches left chained into groups (union-find), and one
//! finding per member naming the others with the reasons.

use std::collections::HashMap;

use super::load::Rec;

/// A matched pair (i < j): its score and its reasons in words.
pub(super) type Matches = HashMap<(u32, u32), (f64, String)>;

fn key(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

/// A match of record `x` set aside for its stronger match with `best`.
#[derive(Clone, Copy)]
pub(super) struct Aside {
    x: u32,
    best: u32,
    best_score: f64,
}

/// The matches explained away: pair → (the record X that keeps a stronger match, that
/// stronger partner, its score).
///
/// A second enrollment copies one person. When a record X matches two records Y and
/// Z that both hold their own ID in the public-security register, and Y and Z do
/// not match each other (the register holds them as two persons — under different
/// names they are set aside — or they score below the threshold), X cannot be both:
/// it is attributed to the stronger, and the weaker match is dropped when it trails
/// by `margin` or more. A score is log2 of a likelihood ratio, so the difference of
/// the two, sY − sZ, is log2 of the odds that X copies Y rather than Z (the other
/// fields are the same in both hypotheses); the margin is the match threshold
/// itself, so X is attributed only as surely as any pair is called a match. A
/// weaker match within the margin is kept (both are shown, the group chains: for
/// the auditor). Records without a registered ID of their own never explain each
/// other away: an original with two fabricated copies stays one group of three.
pub(super) fn explained_away(
    recs: &[Rec],
    matched: &Matches,
    margin: f64,
) -> HashMap<(u32, u32), Aside> {
    // Each record's matches with registered records (partner, score).
    let mut partners: HashMap<u32, Vec<(u32, f64)>> = HashMap::new();
    for (&(i, j), &(score, _)) in matched {
        for (x, y) in [(i, j), (j, i)] {
            if recs[y as usize].registered {
                partners.entry(x).or_default().push((y, score));
            }
        }
    }
    let mut away = HashMap::new();
    for (&x, ps) in partners.iter().filter(|(_, ps)| ps.len() > 1) {
        // The strongest partner (ties: the lower index, so the result does not
        // depend on the map's order; a tie explains nothing away anyway).
        let &(best, best_score) = ps
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .expect("two partners or more");
        for &(z, score) in ps {
            if z != best && score <= best_score - margin && !matched.contains_key(&key(best, z)) {
                away.insert(
                    key(x, z),
                    Aside {
                        x,
                        best,
                        best_score,
                    },
                );
            }
        }
    }
    away
}

fn root(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn who(r: &Rec) -> String {
    format!("person_no {} (ID {}, {})", r.person_no, r.id, r.name)
}

/// The findings (person_no, evidence), groups and members in person-number order,
/// and the number of groups: the matches not explained away ([`explained_away`])
/// chained into groups; a member's evidence names every other member with the
/// reasons of their match ("same group" when they met through another member), then
/// any match of its own that was explained away, with the partner that explains it.
pub(super) fn findings(
    recs: &[Rec],
    matched: &Matches,
    margin: f64,
) -> (Vec<(String, String)>, u64) {
    let away = explained_away(recs, matched, margin);
    let kept: Vec<(u32, u32)> = matched
        .keys()
        .filter(|k| !away.contains_key(k))
        .copied()
        .collect();
    let mut parent: Vec<usize> = (0..recs.len()).collect();
    for &(i, j) in &kept {
        let (a, b) = (root(&mut parent, i as usize), root(&mut parent, j as usize));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(i, j) in &kept {
        for k in [i as usize, j as usize] {
            let r = root(&mut parent, k);
            let g = groups.entry(r).or_default();
            if !g.contains(&k) {
                g.push(k);
            }
        }
    }
    let n_groups = groups.len() as u64;
    let mut sorted: Vec<Vec<usize>> = groups.into_values().collect();
    for g in &mut sorted {
        g.sort_by(|a, b| recs[*a].person_no.cmp(&recs[*b].person_no));
    }
    sorted.sort_by(|a, b| recs[a[0]].person_no.cmp(&recs[b[0]].person_no));
    // The matches explained away, by the record that keeps the stronger one.
    let mut set_aside: HashMap<usize, Vec<(usize, u32, f64)>> = HashMap::new();
    for (
        &(i, j),
        &Aside {
            x,
            best,
            best_score,
        },
    ) in &away
    {
        let z = if x == i { j } else { i };
        set_aside
            .entry(x as usize)
            .or_default()
            .push((z as usize, best, best_score));
    }
    let mut rows = Vec::new();
    for g in &sorted {
        for &k in g {
            let mut parts = Vec::new();
            for &o in g.iter().filter(|&&o| o != k) {
                let why = matched
                    .get(&key(k as u32, o as u32))
                    .map_or("same group", |m| m.1.as_str());
                parts.push(format!("{}: {why}", who(&recs[o])));
            }
            let mut evidence = format!("probably the same person as {}", parts.join("; "));
            let mut aside = set_aside.get(&k).cloned().unwrap_or_default();
            aside.sort_by(|a, b| recs[a.0].person_no.cmp(&recs[b.0].person_no));
            for (z, best, best_score) in aside {
                let (score, why) = &matched[&key(k as u32, z as u32)];
                evidence.push_str(&format!(
                    ". Also resembles {}: {why}; explained away by the stronger match with \
                     person_no {} (score {best_score:.1}, {:.1} more): one enrollment copies one \
                     person, and the register holds those two apart",
                    who(&recs[z]),
                    recs[best as usize].person_no,
                    best_score - score
                ));
            }
            rows.push((recs[k].person_no.clone(), evidence));
        }
    }
    (rows, n_groups)
}
