//! Deliberate look-alikes (records that resemble an audit case but must not be
//! found) and moves between villages of one township.

use super::*;

impl Builder<'_> {
    pub(super) fn lookalikes(&mut self) {
        let n = self.pop.persons.len();
        let m = (n / 700).max(2);
        let ctx = self.ctx;
        // Couples in one village, both beneficiaries, paid into one card.
        let mut by_person = vec![None; self.pop.persons.len()];
        for (k, e) in self.es.iter().enumerate() {
            by_person[e.person as usize].get_or_insert(k);
        }
        let mut couples = 0;
        for k in 0..self.es.len() {
            if couples >= m {
                break;
            }
            let pi = self.es[k].person as usize;
            let Some(si) = self.pop.persons[pi].spouse else {
                continue;
            };
            let Some(k2) = by_person[si as usize] else {
                continue;
            };
            if k2 <= k
                || !self.clean(k)
                || !self.clean(k2)
                || !self.benef(k)
                || !self.benef(k2)
                || self.es[k].village != self.es[k2].village
            {
                continue;
            }
            let bank = self.es[k].bank.clone();
            for x in [k, k2] {
                self.used[x] = true;
                self.person_used[self.es[x].person as usize] = true;
                self.es[x].looks.push(Look::CoupleAccount);
                self.es[x].fixed_bank = true;
            }
            self.es[k2].bank = bank;
            couples += 1;
        }
        for k in self.pick((n / 300).max(2), |b, k| {
            b.clean(k) && names::traditional_variant(&b.es[k].name_text).is_some()
        }) {
            let t = names::traditional_variant(&self.es[k].name_text).unwrap_or_default();
            self.es[k].name_text = t;
            self.es[k].looks.push(Look::TradName);
        }
        for (j, k) in self
            .pick((n / 300).max(2), |b, k| {
                b.clean(k) && b.es[k].name_text.chars().count() == 2
            })
            .into_iter()
            .enumerate()
        {
            let cs: Vec<char> = self.es[k].name_text.chars().collect();
            let sep = if j % 2 == 0 { '\u{3000}' } else { ' ' };
            self.es[k].name_text = format!("{}{sep}{}", cs[0], cs[1]);
            self.es[k].looks.push(Look::NameVariant);
        }
        for k in 0..self.es.len() {
            let p = &self.pop.persons[self.es[k].person as usize];
            if p.special && p.twin_of.is_some() {
                self.es[k].looks.push(Look::Twin);
                self.used[k] = true;
            } else if p.special && p.name.contains('·') && self.es[k].group.is_none() {
                let dot = if k % 2 == 0 { "•" } else { "." };
                self.es[k].name_text = p.name.replace('·', dot);
                self.es[k].looks.push(Look::NameVariant);
                self.used[k] = true;
            }
        }
        for k in self.pick((n / 100).max(3), |b, k| {
            b.clean(k) && b.es[k].enroll.year() <= 2014 && legacy15(&b.es[k].id_text).is_some()
        }) {
            self.es[k].id_text = legacy15(&self.es[k].id_text).unwrap_or_default();
            self.es[k].looks.push(Look::Legacy15);
        }
        for (j, k) in self
            .pick((n / 200).max(3), |b, k| b.clean(k))
            .into_iter()
            .enumerate()
        {
            let id = self.es[k].id_text.clone();
            self.es[k].id_text = match j % 3 {
                0 if id.ends_with('X') => id.to_lowercase(),
                0 | 1 => id
                    .chars()
                    .map(|c| {
                        char::from_u32(c as u32 + 0xfee0)
                            .filter(|_| c.is_ascii_alphanumeric())
                            .unwrap_or(c)
                    })
                    .collect(),
                _ => format!(" {id} "),
            };
            self.es[k].looks.push(Look::IdFormat);
        }
        for k in self.pick(m, |b, k| {
            b.clean(k) && b.es[k].start.is_some_and(|s| s + 8 <= ctx.t)
        }) {
            let s = self.es[k].start.unwrap_or(ctx.t);
            let d = between(&mut self.rng, first_day(s) + days(60), ctx.t_end - days(90));
            self.pop.persons[self.es[k].person as usize].moved = Some((RegMove::MovedOut, d));
            self.es[k].looks.push(Look::MovedBeneficiary);
        }
    }

    /// Moves between villages of the same township (a change record; the register
    /// shows the new village).
    pub(super) fn village_moves(&mut self) {
        let ctx = self.ctx;
        for k in 0..self.es.len() {
            let pi = self.es[k].person as usize;
            if self.used[k]
                || self.person_used[pi]
                || self.pop.persons[pi].special
                || !self.rng.random_bool(0.01)
            {
                continue;
            }
            let t = self.geo.villages[self.es[k].village].township;
            let vs = &self.geo.townships[t].villages;
            let nv = vs[self.rng.random_range(0..vs.len())];
            let lo = self.es[k].enroll + days(60);
            let hi = ctx.t_end - days(10);
            if nv == self.es[k].village || lo >= hi {
                continue;
            }
            let d = between(&mut self.rng, lo, hi);
            self.es[k].village_move = Some((nv, d));
            self.pop.persons[pi].village = nv;
        }
    }
}
