//! Chinese personal names: surnames with realistic frequencies, era-typical given
//! names, minority names with a middle dot; the traditional forms and the folding
//! of names are the product's (`pension::audit::names`).

use rand::Rng;

/// Surnames with weights roughly proportional to their national frequency (per mille).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 72),
    ("李", 70),
    ("张", 68),
    ("刘", 54),
    ("陈", 45),
    ("杨", 31),
    ("黄", 22),
    ("赵", 22),
    ("吴", 20),
    ("周", 19),
    ("徐", 13),
    ("孙", 12),
    ("马", 12),
    ("朱", 11),
    ("胡", 10),
    ("郭", 10),
    ("何", 9),
    ("高", 9),
    ("林", 8),
    ("罗", 8),
    ("郑", 8),
    ("梁", 7),
    ("谢", 6),
    ("宋", 6),
    ("唐", 6),
    ("许", 5),
    ("韩", 5),
    ("冯", 5),
    ("邓", 5),
    ("曹", 5),
    ("彭", 4),
    ("曾", 4),
    ("肖", 4),
    ("田", 4),
    ("董", 4),
    ("袁", 4),
    ("潘", 3),
    ("于", 3),
    ("蒋", 3),
    ("蔡", 3),
    ("余", 3),
    ("杜", 3),
    ("叶", 3),
    ("程", 3),
    ("苏", 3),
    ("魏", 3),
    ("吕", 3),
    ("丁", 3),
    ("任", 3),
    ("沈", 2),
    ("姚", 2),
    ("卢", 2),
    ("姜", 2),
    ("崔", 2),
    ("钟", 2),
    ("谭", 2),
    ("陆", 2),
    ("汪", 2),
    ("范", 2),
    ("金", 2),
    ("石", 2),
    ("贾", 2),
    ("付", 2),
    ("方", 2),
    ("白", 2),
    ("邹", 2),
    ("孟", 2),
    ("秦", 2),
    ("闫", 2),
    ("段", 2),
];

/// Given-name characters by birth era and sex: (born before, male, female).
const GIVEN: &[(i32, &str, &str)] = &[
    (
        1950,
        "德福长永金有富贵玉山广春生学成忠友殿文仁义礼明才宝全海清",
        "秀英桂兰玉凤珍芳花荣素梅淑翠云琴巧爱香菊莲氏",
    ),
    (
        1965,
        "建国华胜振保志刚树林明军民成海庆新全忠友红卫东胜利平和",
        "秀英桂兰玉凤珍芳荣素梅淑翠云琴霞巧爱香菊莲华红",
    ),
    (
        1980,
        "伟强军勇建红卫东平涛峰俊杰明辉磊斌刚亮海波军华新国",
        "红丽艳霞燕娟敏静玲萍芳英华梅莉琴秀娥凤玉",
    ),
    (
        2000,
        "浩磊鹏超宇杰帅洋飞博凯旭阳鑫龙亮晨辉俊伟强斌",
        "婷倩丹晶莹璐雪佳慧娜静琳颖瑶蕾晓丽敏娟",
    ),
    (
        9999,
        "梓轩浩宇子涵俊熙睿泽一诺博文昊然辰逸航铭",
        "欣怡子涵梓萱雨诗可馨若彤语嫣思佳悦瑶琪",
    ),
];

/// Minority names (Uyghur style) written with the middle dot 「·」.
pub const MINORITY: &[(&str, bool)] = &[
    ("阿依古丽·买买提", false),
    ("热依汗·艾力", false),
    ("古丽娜尔·阿不都", false),
    ("买买提·吐尔逊", true),
    ("艾力·哈斯木", true),
    ("阿不都·热合曼", true),
    ("努尔古丽·吾斯曼", false),
    ("吐尔逊·买买提", true),
];

/// The traditional form of a name character: the product's table
/// (pipeline/audit/names/traditional.txt), so look-alikes and matching agree.
pub fn to_traditional(c: char) -> Option<char> {
    pension::audit::names::to_traditional(c)
}

pub fn to_simplified(c: char) -> char {
    pension::audit::names::simplify(c)
}

/// The name a matcher compares: the product's one definition.
pub fn normalize_name(name: &str) -> String {
    pension::audit::names::normalize(name)
}

/// The name with every character that has a traditional form swapped, if any has.
pub fn traditional_variant(name: &str) -> Option<String> {
    let v: String = name
        .chars()
        .map(|c| to_traditional(c).unwrap_or(c))
        .collect();
    (v != name).then_some(v)
}

pub fn surname<R: Rng>(rng: &mut R) -> &'static str {
    let total: u32 = SURNAMES.iter().map(|s| s.1).sum();
    let mut x = rng.random_range(0..total);
    for &(s, w) in SURNAMES {
        if x < w {
            return s;
        }
        x -= w;
    }
    SURNAMES[0].0
}

fn pool(birth_year: i32, male: bool) -> Vec<char> {
    let row = GIVEN
        .iter()
        .find(|g| birth_year < g.0)
        .unwrap_or(&GIVEN[GIVEN.len() - 1]);
    (if male { row.1 } else { row.2 }).chars().collect()
}

/// A one- or two-character given name typical of the era.
pub fn given<R: Rng>(rng: &mut R, birth_year: i32, male: bool) -> String {
    let p = pool(birth_year, male);
    let n = if rng.random_bool(0.22) { 1 } else { 2 };
    (0..n).map(|_| p[rng.random_range(0..p.len())]).collect()
}

/// A twin's given name: same first character, a different second one
/// (王建国 / 王建军).
pub fn twin_given<R: Rng>(rng: &mut R, first: &str, birth_year: i32, male: bool) -> String {
    let p = pool(birth_year, male);
    let mut cs = first.chars();
    let head = cs.next().unwrap_or('建');
    let old = cs.next();
    loop {
        let c = p[rng.random_range(0..p.len())];
        if Some(c) != old && c != head {
            return format!("{head}{c}");
        }
    }
}

/// A clearly different name for the same person (a clerk's typo): one given-name
/// character replaced by a character that is not a traditional form of it.
pub fn typo_variant<R: Rng>(rng: &mut R, name: &str, birth_year: i32, male: bool) -> String {
    let mut cs: Vec<char> = name.chars().collect();
    let p = pool(birth_year, male);
    let i = cs.len() - 1;
    loop {
        let c = p[rng.random_range(0..p.len())];
        if to_simplified(c) != to_simplified(cs[i]) {
            cs[i] = c;
            return cs.into_iter().collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_variants() {
        assert_eq!(normalize_name("陳 建國"), "陈建国");
        assert_eq!(normalize_name("王\u{3000}芳"), "王芳");
        assert_eq!(
            normalize_name("阿依古丽•买买提"),
            normalize_name("阿依古丽·买买提")
        );
        assert_eq!(traditional_variant("刘建国").as_deref(), Some("劉建國"));
        assert_eq!(traditional_variant("王芳"), None);
    }
}
