//! Grouping: matches chained into groups (union-find), and one finding per member
//! naming the others with the reasons.

use std::collections::HashMap;

use super::load::Rec;

fn root(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// The findings of the matched pairs (person_no, evidence), groups and members in
/// person-number order, and the number of groups.
pub(super) fn findings(
    recs: &[Rec],
    matched: &HashMap<(u32, u32), String>,
) -> (Vec<(String, String)>, u64) {
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
    let n_groups = groups.len() as u64;
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
    (rows, n_groups)
}
