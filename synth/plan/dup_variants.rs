//! DUP_PERSON cases the way real duplicate enrollments differ, and the look-alikes
//! that must not be paired (docs/rules.md § DUP_PERSON).
//!
//! A person who re-enrolls under a second ID number is written down again by
//! another clerk: a homophone (同音字) or a shape-alike character (形近字), a
//! traditional or variant form, a birth date with one digit mistyped or day and month
//! swapped, the given name's two characters swapped, or a new village in the
//! neighbouring township after a move. Each planted pair carries exactly one such
//! difference (its variant is in the answer key's note). The look-alikes: twins of
//! one household whose names sound the same, and married couples sharing an
//! address.
//!
//! The character tables are the product's own (`pension::audit::names`), except the
//! homophone groups below: the generator needs a character to write, the product
//! only compares sounds (with the `pinyin` crate, which checks every group here).
//! Randomness comes from a stream of its own, so these choices do not shift the
//! rest of the county.

use chrono::{Datelike, NaiveDate};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{address, Builder, Enrollment, Look, Person};
use pension::audit::names as product;

/// How a planted duplicate's second enrollment differs from the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DupVariant {
    /// Same name, same everything but the ID: a second registered ID (duplicate
    /// hukou, 重复户口) from another region.
    SecondRegisteredId,
    Traditional,
    Homophone,
    ShapeAlike,
    VariantForm,
    BirthDigit,
    DayMonthSwap,
    MovedTownship,
    SwappedGiven,
}

impl DupVariant {
    /// The order in which variants are tried (the least planted first).
    pub const CYCLE: [DupVariant; 9] = [
        DupVariant::Homophone,
        DupVariant::SecondRegisteredId,
        DupVariant::ShapeAlike,
        DupVariant::BirthDigit,
        DupVariant::MovedTownship,
        DupVariant::Traditional,
        DupVariant::SwappedGiven,
        DupVariant::DayMonthSwap,
        DupVariant::VariantForm,
    ];

    pub fn note(self) -> &'static str {
        match self {
            DupVariant::SecondRegisteredId => {
                "re-enrolled under a second registered ID (duplicate hukou)"
            }
            DupVariant::Traditional => {
                "re-enrolled under a fabricated ID, name in traditional characters"
            }
            DupVariant::Homophone => {
                "re-enrolled under a fabricated ID, one character a homophone (同音字)"
            }
            DupVariant::ShapeAlike => {
                "re-enrolled under a fabricated ID, one character a shape-alike (形近字)"
            }
            DupVariant::VariantForm => {
                "re-enrolled under a fabricated ID, one character a variant form (异体字)"
            }
            DupVariant::BirthDigit => {
                "re-enrolled under a fabricated ID, one birth-date digit mistyped"
            }
            DupVariant::DayMonthSwap => {
                "re-enrolled under a fabricated ID, birth day and month swapped"
            }
            DupVariant::MovedTownship => {
                "re-enrolled under a fabricated ID in the neighbouring township"
            }
            DupVariant::SwappedGiven => {
                "re-enrolled under a fabricated ID, given-name characters swapped"
            }
        }
    }
}

/// Characters of given names that sound alike (toneless pinyin), one group a line.
const HOMOPHONES: &[&str] = &[
    "平萍苹屏",
    "英瑛莺樱",
    "华桦骅",
    "芳方",
    "红虹宏鸿洪",
    "军君钧",
    "明铭鸣茗",
    "丽莉俐",
    "静婧晶菁靖",
    "霞侠",
    "玉钰",
    "兰岚澜",
    "梅玫",
    "秀绣",
    "凤峰锋枫",
    "琴勤芹",
    "珍真贞",
    "淑舒书",
    "荣蓉容",
    "云芸",
    "巧乔",
    "爱艾",
    "香湘翔",
    "莲涟",
    "娥峨",
    "娟涓鹃",
    "敏珉",
    "玲铃凌灵",
    "艳燕妍彦",
    "婷亭庭",
    "倩茜",
    "璐露鹭",
    "佳嘉家",
    "慧惠",
    "琳林霖",
    "瑶遥",
    "蕾磊",
    "晓筱",
    "浩昊皓",
    "鹏朋",
    "飞菲",
    "凯楷",
    "旭煦",
    "鑫新欣馨",
    "龙隆",
    "晨辰宸",
    "伟卫威",
    "勇永",
    "建健剑",
    "胜升",
    "涛韬",
    "刚钢",
    "亮良",
    "斌彬滨",
    "福富",
    "贵桂",
    "春纯",
    "成诚程",
    "忠中钟",
    "友有",
    "文雯",
    "全泉",
    "清青卿",
    "志智芝",
    "宝保",
    "梓紫",
    "涵晗",
    "轩萱宣",
    "睿瑞",
    "怡宜",
    "诗师",
    "可珂",
    "雪学",
    "彤同",
    "悦月越",
    "思斯",
    "琪琦奇",
    "国果",
    "德得",
    "义艺",
    "利力立",
    "海亥",
    "强蔷",
    "波博",
    "超潮",
    "阳扬洋",
    "帅率",
    "宇雨羽",
    "杰洁",
    "俊峻骏",
    "磊垒",
    "辉晖",
    "峰枫",
    "东冬",
    "平坪",
];

/// A character that sounds like `c` (shares a reading, by the product's pinyin).
fn homophone(c: char) -> Option<char> {
    let sounds = product::readings(c);
    HOMOPHONES
        .iter()
        .filter(|g| g.contains(c))
        .flat_map(|g| g.chars())
        .find(|&h| h != c && product::readings(h).iter().any(|r| sounds.contains(r)))
}

/// A written-alike character for `c` that does not sound like it.
fn shape_alike(c: char) -> Option<char> {
    let sounds = product::readings(c);
    product::shape_alike(c)
        .iter()
        .copied()
        .find(|&s| !product::readings(s).iter().any(|r| sounds.contains(r)))
}

/// The name with one character replaced by `f`: the last given-name character that
/// can be, else the surname.
fn replace_one(name: &str, f: impl Fn(char) -> Option<char>) -> Option<String> {
    let mut cs: Vec<char> = name.chars().collect();
    let i = (1..cs.len())
        .rev()
        .chain(0..1)
        .find(|&i| f(cs[i]).is_some())?;
    cs[i] = f(cs[i])?;
    Some(cs.into_iter().collect())
}

/// 王建国 → 王国建 (a surname and two different given-name characters).
fn swap_given(name: &str) -> Option<String> {
    let cs: Vec<char> = name.chars().collect();
    (cs.len() == 3 && cs[1] != cs[2]).then(|| [cs[0], cs[2], cs[1]].iter().collect())
}

/// A date whose YYYYMMDD differs from `d` in exactly one digit of the month or day
/// (the year is kept: the person's age, and so every age rule, stays the same).
fn one_digit_off<R: Rng>(rng: &mut R, d: NaiveDate) -> Option<NaiveDate> {
    let text = d.format("%Y%m%d").to_string().into_bytes();
    let mut options = Vec::new();
    for pos in 4..8 {
        for digit in b'0'..=b'9' {
            if digit == text[pos] {
                continue;
            }
            let mut t = text.clone();
            t[pos] = digit;
            let s = String::from_utf8(t).unwrap_or_default();
            if let Ok(x) = NaiveDate::parse_from_str(&s, "%Y%m%d") {
                options.push(x);
            }
        }
    }
    options.choose(rng).copied()
}

fn day_month_swapped(d: NaiveDate) -> Option<NaiveDate> {
    (d.day() != d.month())
        .then(|| NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()))
        .flatten()
}

impl Builder<'_> {
    /// A stream of randomness for this file, derived from (not drawn from) the
    /// county's, so planting variants does not move any other choice.
    fn variant_rng(&self, salt: u64) -> ChaCha8Rng {
        let mut base = self.rng.clone();
        ChaCha8Rng::seed_from_u64(base.random::<u64>() ^ salt)
    }

    /// The second enrollment of a DUP_PERSON pair planted on enrollment `k`, and how
    /// it differs: the variant planted least often so far that this person's name
    /// and birth date can carry (so a small county still gets every variant), tried
    /// in the order of [`DupVariant::CYCLE`].
    pub(super) fn plant_dup_person(
        &mut self,
        k: usize,
        counts: &mut [usize; 9],
    ) -> (Enrollment, DupVariant) {
        let mut second = self.second_enrollment(k);
        let mut order: Vec<usize> = (0..DupVariant::CYCLE.len()).collect();
        order.sort_by_key(|&i| (counts[i], !self.can_carry(k, DupVariant::CYCLE[i]), i));
        for i in order {
            if self.try_variant(k, &mut second, DupVariant::CYCLE[i]) {
                counts[i] += 1;
                return (second, DupVariant::CYCLE[i]);
            }
        }
        // Unreachable in practice (a second registered ID always fits).
        let p = self.pop.persons[self.es[k].person as usize].clone();
        let mut rng = self.variant_rng(k as u64);
        second.id_text = self.fabricated_id(&p.id[..6], p.birth, p.male, &mut rng);
        second.pay_id = second.id_text.clone();
        (second, DupVariant::Traditional)
    }

    /// Whether enrollment `k`'s name and birth date can carry the variant `v` (a
    /// homophone needs a character that has one, a swap two given-name characters …).
    pub(super) fn can_carry(&self, k: usize, v: DupVariant) -> bool {
        let p = &self.pop.persons[self.es[k].person as usize];
        match v {
            DupVariant::Traditional => super::names::traditional_variant(&p.name).is_some(),
            DupVariant::Homophone => replace_one(&p.name, homophone).is_some(),
            DupVariant::ShapeAlike => replace_one(&p.name, shape_alike).is_some(),
            DupVariant::VariantForm => replace_one(&p.name, product::to_variant).is_some(),
            DupVariant::SwappedGiven => swap_given(&p.name).is_some(),
            DupVariant::DayMonthSwap => day_month_swapped(p.birth).is_some(),
            DupVariant::SecondRegisteredId | DupVariant::BirthDigit | DupVariant::MovedTownship => {
                true
            }
        }
    }

    /// Makes `second` differ from enrollment `k` by `v`, if this person can carry it.
    fn try_variant(&mut self, k: usize, second: &mut Enrollment, v: DupVariant) -> bool {
        let p = self.pop.persons[self.es[k].person as usize].clone();
        let mut rng = self.variant_rng(k as u64);
        let (name, birth) = match v {
            DupVariant::SecondRegisteredId => {
                let region = self.geo.other_region(self.rng.random_range(0..9)).0;
                let id = self.pop.new_id(&mut self.rng, region, p.birth, p.male);
                let clone = Person {
                    id: id.clone(),
                    special: true,
                    spouse: None,
                    twin_of: None,
                    ..p
                };
                second.person = self.pop.push(clone);
                self.person_used.push(true);
                second.id_text = id.clone();
                second.pay_id = id;
                return true;
            }
            DupVariant::Traditional => (super::names::traditional_variant(&p.name), Some(p.birth)),
            DupVariant::Homophone => (replace_one(&p.name, homophone), Some(p.birth)),
            DupVariant::ShapeAlike => (replace_one(&p.name, shape_alike), Some(p.birth)),
            DupVariant::VariantForm => (replace_one(&p.name, product::to_variant), Some(p.birth)),
            DupVariant::SwappedGiven => (swap_given(&p.name), Some(p.birth)),
            DupVariant::BirthDigit => (Some(p.name.clone()), one_digit_off(&mut rng, p.birth)),
            DupVariant::DayMonthSwap => (Some(p.name.clone()), day_month_swapped(p.birth)),
            DupVariant::MovedTownship => {
                if !self.move_to_next_township(second, &mut rng) {
                    return false;
                }
                (Some(p.name.clone()), Some(p.birth))
            }
        };
        let (Some(name), Some(birth)) = (name, birth) else {
            return false;
        };
        // A new spelling or date must not be another real person's.
        let new = product::normalize(&name) != product::normalize(&p.name) || birth != p.birth;
        if new && !self.pop.claim_name(&name, birth) {
            return false;
        }
        second.name_text = name;
        second.birth_text = birth;
        second.id_text = self.fabricated_id(&p.id[..6], birth, p.male, &mut rng);
        second.pay_id = second.id_text.clone();
        true
    }

    /// An ID number of the region, birth date and sex that nobody holds.
    fn fabricated_id(
        &mut self,
        region: &str,
        birth: NaiveDate,
        male: bool,
        rng: &mut ChaCha8Rng,
    ) -> String {
        loop {
            let seq = rng.random_range(0..500u16) * 2 + u16::from(male);
            let id = pension::idnum::make(region, birth, seq);
            if !self.pop.id_taken(&id) {
                self.pop.reserve_id(&id);
                return id;
            }
        }
    }

    /// Moves the second enrollment to a village of the next (or previous) township,
    /// with an address there and a person number of that township.
    fn move_to_next_township(&mut self, e: &mut Enrollment, rng: &mut ChaCha8Rng) -> bool {
        let t = self.geo.villages[e.village].township;
        let n = self.geo.townships.len();
        for other in [(t + 1) % n, (t + n - 1) % n] {
            // A township's first village is populated in a county of any size
            // (Geo::used_villages).
            if let Some(&v) = self.geo.townships[other].villages.first() {
                e.village = v;
                e.address = address(rng, self.geo, v);
                e.person_no = self.person_no(v);
                return true;
            }
        }
        false
    }

    /// Look-alikes of DUP_PERSON: every other pair of twins gets names that sound
    /// the same (王晓晶 / 王晓静), and twins and the couples who share a card live at
    /// one address. Their register entries are two persons; they must not pair.
    pub(super) fn dup_lookalikes(&mut self) {
        let mut by_person = vec![None; self.pop.persons.len()];
        for (k, e) in self.es.iter().enumerate() {
            by_person[e.person as usize].get_or_insert(k);
        }
        let mut twin_pairs = 0;
        for a in 0..self.pop.persons.len() {
            let Some(b) = self.pop.persons[a].twin_of.map(|b| b as usize) else {
                continue;
            };
            let (Some(ka), Some(kb)) = (by_person[a], by_person[b]) else {
                continue;
            };
            if b < a || self.es[ka].group.is_some() || self.es[kb].group.is_some() {
                continue;
            }
            let address = self.es[ka].address.clone();
            self.es[kb].address = address;
            twin_pairs += 1;
            if twin_pairs % 2 == 1 {
                continue;
            }
            let (pa, pb) = (&self.pop.persons[a], &self.pop.persons[b]);
            let Some(name) = replace_one(&pa.name, homophone) else {
                continue;
            };
            let birth = pb.birth;
            if self.pop.claim_name(&name, birth) {
                self.pop.persons[b].name = name.clone();
                self.es[kb].name_text = name;
                for k in [ka, kb] {
                    self.es[k].looks.push(Look::TwinSameSound);
                }
            }
        }
        let couples: Vec<usize> = (0..self.es.len())
            .filter(|&k| self.es[k].looks.contains(&Look::CoupleAccount))
            .collect();
        for k in couples {
            let me = &self.es[k];
            let Some(spouse) = self.pop.persons[me.person as usize].spouse else {
                continue;
            };
            if let Some(ks) = by_person[spouse as usize].filter(|&ks| ks > k) {
                self.es[ks].address = self.es[k].address.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_of_names_and_dates() {
        assert_eq!(homophone('平'), Some('萍'));
        assert_eq!(shape_alike('淑'), Some('椒'));
        assert_eq!(replace_one("王芳", shape_alike).as_deref(), Some("王芬"));
        assert_eq!(swap_given("吴建国").as_deref(), Some("吴国建"));
        assert_eq!(
            replace_one("李波峰", product::to_variant).as_deref(),
            Some("李波峯")
        );
        let d = NaiveDate::from_ymd_opt(1955, 3, 8).expect("date");
        assert_eq!(day_month_swapped(d), NaiveDate::from_ymd_opt(1955, 8, 3));
    }
}
