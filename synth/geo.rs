//! The county's geography: townships, villages, clerks, neighbouring regions.
//! Built from a fixed seed so every synthetic county shares one map, whatever its
//! population seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const COUNTY: &str = "确山县";
pub const COUNTY_CODE: &str = "411725";

/// (name, relative size, is a street office 街道 with communities).
const TOWNSHIPS: &[(&str, u32, bool)] = &[
    ("盘龙街道", 14, true),
    ("三里河街道", 10, true),
    ("朗陵街道", 9, true),
    ("竹沟镇", 11, false),
    ("任店镇", 10, false),
    ("新安店镇", 9, false),
    ("留庄镇", 8, false),
    ("刘店镇", 9, false),
    ("双河镇", 7, false),
    ("石滚河镇", 6, false),
    ("瓦岗镇", 7, false),
    ("普会寺镇", 5, false),
];

/// Short romanised names for file names (the XLSX township file).
const TOWNSHIP_ASCII: &[&str] = &[
    "panlong",
    "sanlihe",
    "langling",
    "zhugou",
    "rendian",
    "xinandian",
    "liuzhuang",
    "liudian",
    "shuanghe",
    "shigunhe",
    "wagang",
    "puhuisi",
];

const VILLAGE_HEADS: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "程", "曹", "袁", "邓",
    "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏",
];
const VILLAGE_TAILS: &[&str] = &[
    "庄", "店", "湾", "岗", "楼", "寨", "营", "洼", "桥", "沟", "冲", "集", "园", "坡", "河",
];
const VILLAGE_PREFIX: &[&str] = &[
    "", "", "", "大", "小", "东", "西", "前", "后", "南", "北", "新",
];
const COMMUNITY_WORDS: &[&str] = &[
    "人民路",
    "健康路",
    "生产街",
    "解放路",
    "盘龙",
    "三里河",
    "朗陵",
    "建设路",
    "新华路",
    "秀山",
    "北泉",
    "东关",
    "西关",
    "南关",
    "北关",
    "文化路",
    "育才路",
    "幸福",
    "和平",
    "兴业路",
    "金顶",
    "乐山",
    "车站路",
    "工业园",
    "东城",
    "西城",
    "南湖",
    "北湖",
];

/// Other regions: code, name. Henan neighbours first, then other provinces (for
/// persons born elsewhere, transfers and employee-pension histories).
pub const OTHER_REGIONS: &[(&str, &str)] = &[
    ("411702", "驻马店市驿城区"),
    ("411721", "西平县"),
    ("411722", "上蔡县"),
    ("411723", "平舆县"),
    ("411724", "正阳县"),
    ("411726", "泌阳县"),
    ("411727", "汝南县"),
    ("411728", "遂平县"),
    ("411729", "新蔡县"),
    ("411503", "信阳市平桥区"),
    ("410102", "郑州市中原区"),
    ("411302", "南阳市宛城区"),
    ("341221", "安徽省临泉县"),
    ("421381", "湖北省广水市"),
    ("441900", "广东省东莞市"),
    ("330102", "浙江省杭州市上城区"),
    ("320106", "江苏省南京市鼓楼区"),
    ("510122", "四川省双流县"),
];

/// Xinjiang regions for the few persons with minority names.
pub const XINJIANG_REGIONS: &[&str] = &["650102", "652101", "653101"];

pub const EMPLOYERS: &[&str] = &[
    "确山县人民医院",
    "确山县第一高级中学",
    "国网确山县供电公司",
    "确山县自来水公司",
    "河南确山农村商业银行",
    "确山县交通运输局",
    "驻马店市天中食品有限公司",
    "郑州宇通客车股份有限公司",
    "确山县竹沟镇中心学校",
    "确山县城市管理局",
];

const CLERK_SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "周", "吴", "孙"];
const CLERK_GIVEN: &[&str] = &[
    "丽", "静", "伟", "敏", "磊", "洋", "芳", "娜", "涛", "军", "燕", "超",
];

pub struct Township {
    pub name: &'static str,
    pub ascii: &'static str,
    pub code: u32,
    pub villages: Vec<usize>,
    pub clerks: [String; 2],
}

pub struct Village {
    pub name: String,
    pub township: usize,
    /// Relative population.
    pub weight: u32,
    /// Village collective pays a yearly subsidy (集体补助) of this many yuan, if any.
    pub collective: Option<u32>,
}

pub struct Geo {
    pub townships: Vec<Township>,
    pub villages: Vec<Village>,
    /// The county's region code (行政区划代码: the first six digits of its residents'
    /// ID numbers and of its person numbers) and name.
    pub code: &'static str,
    pub name: &'static str,
}

/// The counties a synthetic county can be (`synth --region`): 确山县 or one of its
/// Zhumadian neighbours, so that a province test can hold several.
pub fn county_name(code: &str) -> Option<&'static str> {
    if code == COUNTY_CODE {
        return Some(COUNTY);
    }
    OTHER_REGIONS[..9].iter().find(|r| r.0 == code).map(|r| r.1)
}

impl Geo {
    /// The map of 确山县; identical for every seed.
    pub fn build() -> Geo {
        Geo::build_for(COUNTY_CODE)
    }

    /// Other region `i` of OTHER_REGIONS as this county sees it: a neighbour county
    /// generated as this one has 确山县 in its own place among the neighbours.
    pub fn other_region(&self, i: usize) -> (&'static str, &'static str) {
        let r = OTHER_REGIONS[i];
        if r.0 == self.code {
            (COUNTY_CODE, COUNTY)
        } else {
            r
        }
    }

    /// The same map (townships and villages) for the county `code` (see
    /// `county_name`; the map is drawn from one fixed seed whatever the county).
    pub fn build_for(code: &'static str) -> Geo {
        let name = county_name(code).unwrap_or(COUNTY);
        let mut rng = ChaCha8Rng::seed_from_u64(0x0041_1725);
        let mut used = std::collections::BTreeSet::new();
        let mut townships = Vec::new();
        let mut villages = Vec::new();
        for (ti, &(name, size, street)) in TOWNSHIPS.iter().enumerate() {
            let n = rng.random_range(10..=25usize);
            let mut ids = Vec::with_capacity(n);
            for _ in 0..n {
                let vname = loop {
                    let cand = if street && rng.random_bool(0.7) {
                        format!("{}社区", pick(&mut rng, COMMUNITY_WORDS))
                    } else {
                        format!(
                            "{}{}{}村",
                            pick(&mut rng, VILLAGE_PREFIX),
                            pick(&mut rng, VILLAGE_HEADS),
                            pick(&mut rng, VILLAGE_TAILS)
                        )
                    };
                    if used.insert(cand.clone()) {
                        break cand;
                    }
                };
                let collective = rng
                    .random_bool(0.2)
                    .then(|| [20, 30, 50][rng.random_range(0..3)]);
                ids.push(villages.len());
                villages.push(Village {
                    name: vname,
                    township: ti,
                    weight: size * rng.random_range(6..=14),
                    collective,
                });
            }
            let clerk = |rng: &mut ChaCha8Rng| {
                format!("{}{}", pick(rng, CLERK_SURNAMES), pick(rng, CLERK_GIVEN))
            };
            townships.push(Township {
                name,
                ascii: TOWNSHIP_ASCII[ti],
                code: ti as u32 + 1,
                villages: ids,
                clerks: [clerk(&mut rng), clerk(&mut rng)],
            });
        }
        Geo {
            townships,
            villages,
            code,
            name,
        }
    }

    /// Villages actually populated for `persons` people: about 30 or more per village,
    /// taken round-robin across townships so small counties still span them all.
    pub fn used_villages(&self, persons: u32) -> Vec<usize> {
        let want = ((persons / 30) as usize).clamp(
            self.townships.len().min(persons as usize).max(1),
            self.villages.len(),
        );
        let mut out = Vec::with_capacity(want);
        let mut round = 0;
        while out.len() < want {
            for t in &self.townships {
                if let Some(&v) = t.villages.get(round) {
                    if out.len() < want {
                        out.push(v);
                    }
                }
            }
            round += 1;
        }
        out.sort_unstable();
        out
    }

    pub fn township_of(&self, village: usize) -> &Township {
        &self.townships[self.villages[village].township]
    }
}

pub fn pick<'a, R: Rng>(rng: &mut R, items: &'a [&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}
