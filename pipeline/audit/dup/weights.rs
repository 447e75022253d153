//! The weights of the comparison levels, log2(m/u), from `dup_weights.toml`, and
//! their estimation from labelled pairs.

use std::sync::OnceLock;

use super::compare::{scored, Levels, Scored, FIELDS, IDENTITY, W_REGISTER};

/// Weight of each level of each field, log2(m/u), from `dup_weights.toml`.
pub struct Weights {
    pub w: Vec<Vec<f64>>,
}

const WEIGHTS_TOML: &str = include_str!("../dup_weights.toml");

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
}
