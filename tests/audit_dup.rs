//! DUP_PERSON (docs/rules.md § DUP_PERSON): hand-written enrollments, one pair for
//! each way a second enrollment of one person really differs, and the look-alikes
//! that must not pair (twins, couples); then the synthetic county's planted pairs.
//!
//! The hand-written county (盘龙街道 李集村 and 王庄村, the neighbouring 城关镇 东关村).
//! Each duplicate's second enrollment has a fabricated ID (same region and birth
//! date as the typed one, not in the register), its own phone and bank card:
//! - 武平淑 / 武萍淑: homophone (the case of issue 10), different address too;
//! - 张淑珍 / 张椒珍: shape-alike character (淑/椒);
//! - 陳建國 / 陈建国: traditional characters; 李峯 / 李峰: variant form (异体字);
//! - 赵秀英 born 1958-07-13 / 1958-07-18: one birth-date digit mistyped;
//! - 孙桂芝 born 1955-03-08 / 1955-08-03: day and month swapped;
//! - 周德明 of 李集村 / of 东关村 (城关镇): moved to the neighbouring township;
//! - 吴建国 / 吴国建: given-name characters swapped;
//! - 郑春华 under two registered IDs (411725…, 410102…), the register holding the
//!   same name twice (duplicate hukou);
//! - 钱玉兰 born 1957-04-09 / 1957-04-08, the second enrollment at the address the
//!   first had then: the first has since moved house in the village (a change
//!   record), so only the address on record before the change is shared.
//! - 林强国 / 林强囯 (variant form), who also resembles 林国强 — a real person of the
//!   same village and birth date, given name swapped, at another address (the one
//!   false pair of the first 1M runs): 林强囯 copies one person, the far stronger
//!   match explains the other away, and 林国强 is not grouped;
//! - a triplicate: 冯桂兰 registered, enrolled twice more under fabricated IDs (冯桂兰,
//!   冯贵兰): one group of three.
//!
//! Must not pair, all in the register as the persons they are:
//! - twins 马晓晶 / 马晓静: same birth date, same address, names that sound alike;
//! - twins 刘建军 / 刘建国: same birth date, same address, one character apart;
//! - a couple 何志强 (man, 1956-02-02) / 何志蔷 (woman, 1956-02-12): names that sound
//!   alike, birth dates one digit apart, one address, phone and card;
//! - a couple 张国庆 / 李秀梅: one address, phone and card.
//!
//! Must not pair either — namesakes, as a county of a million persons holds many
//! (the false pairs of the first 1M run, issue 10), each with one ID the register
//! does not know (its holder is another person, not a second enrollment):
//! - 高新 born 1973-01-28 / 1973-09-28 in one village, at different addresses;
//! - 刘飞 born 1985-04-18 / 1985-05-18, in different townships;
//! - 杨丽萍 / 杨莉萍, one birth date, in different townships;
//! - and 王红 born 1974-02-27 / 1975-02-27, one village, both registered under that
//!   name (two persons of one name, not a duplicate hukou: the birth dates differ).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use pension::idnum;

use crate::common::{audit_month, ingest_all};
use crate::common::{write, Fixture};

struct E {
    no: &'static str,
    name: &'static str,
    male: bool,
    birth: &'static str,
    /// ID: (region, birth in the ID, sequence).
    id: (&'static str, &'static str, u16),
    /// In the public-security register under this name.
    registered: Option<&'static str>,
    town: &'static str,
    village: &'static str,
    phone: &'static str,
    card: &'static str,
    address: &'static str,
}

const LJ: (&str, &str) = ("盘龙街道", "李集村");

#[allow(clippy::too_many_arguments)]
const fn e(
    no: &'static str,
    name: &'static str,
    male: bool,
    birth: &'static str,
    id: (&'static str, &'static str, u16),
    registered: Option<&'static str>,
    place: (&'static str, &'static str),
    phone: &'static str,
    card: &'static str,
    address: &'static str,
) -> E {
    E {
        no,
        name,
        male,
        birth,
        id,
        registered,
        town: place.0,
        village: place.1,
        phone,
        card,
        address,
    }
}

const R: &str = "411725";
const WZ: (&str, &str) = ("盘龙街道", "王庄村");

/// Change records (fixture code, field, old value, new value, date): 钱玉兰 (D19)
/// moved house in her village after her second enrollment (D20) copied the address.
const CHANGES: &[(&str, &str, &str, &str, &str)] = &[(
    "D19",
    "address",
    "确山县盘龙街道李集村15组3号",
    "确山县盘龙街道李集村2组40号",
    "2019-05-01",
)];

/// (enrollments, the groups DUP_PERSON must find).
#[rustfmt::skip]
fn county() -> (Vec<E>, Vec<Vec<&'static str>>) {
    let es = vec![
        e("D01", "武平淑", false, "1962-04-17", (R, "1962-04-17", 22), Some("武平淑"), LJ, "13900000101", "6217000000000101", "确山县盘龙街道李集村1组1号"),
        e("D02", "武萍淑", false, "1962-04-17", (R, "1962-04-17", 48), None, LJ, "13900000102", "6217000000000102", "确山县盘龙街道李集村3组17号"),
        e("D03", "张淑珍", false, "1959-11-02", (R, "1959-11-02", 24), Some("张淑珍"), LJ, "13900000103", "6217000000000103", "确山县盘龙街道李集村2组5号"),
        e("D04", "张椒珍", false, "1959-11-02", (R, "1959-11-02", 66), None, LJ, "13900000104", "6217000000000104", "确山县盘龙街道李集村2组5号"),
        e("D05", "陈建国", true, "1957-09-09", (R, "1957-09-09", 11), Some("陈建国"), ("盘龙街道", "王庄村"), "13900000105", "6217000000000105", "确山县盘龙街道王庄村4组8号"),
        e("D06", "陳建國", true, "1957-09-09", (R, "1957-09-09", 91), None, ("盘龙街道", "王庄村"), "13900000106", "6217000000000106", "确山县盘龙街道王庄村4组8号"),
        e("D07", "李峰", true, "1966-01-21", (R, "1966-01-21", 31), Some("李峰"), LJ, "13900000107", "6217000000000107", "确山县盘龙街道李集村5组2号"),
        e("D08", "李峯", true, "1966-01-21", (R, "1966-01-21", 57), None, LJ, "13900000108", "6217000000000108", "确山县盘龙街道李集村5组2号"),
        e("D09", "赵秀英", false, "1958-07-13", (R, "1958-07-13", 42), Some("赵秀英"), LJ, "13900000109", "6217000000000109", "确山县盘龙街道李集村6组9号"),
        e("D10", "赵秀英", false, "1958-07-18", (R, "1958-07-18", 84), None, LJ, "13900000110", "6217000000000110", "确山县盘龙街道李集村6组9号"),
        e("D11", "孙桂芝", false, "1955-03-08", (R, "1955-03-08", 62), Some("孙桂芝"), LJ, "13900000111", "6217000000000111", "确山县盘龙街道李集村7组3号"),
        e("D12", "孙桂芝", false, "1955-08-03", (R, "1955-08-03", 26), None, LJ, "13900000112", "6217000000000112", "确山县盘龙街道李集村7组3号"),
        e("D13", "周德明", true, "1961-12-01", (R, "1961-12-01", 15), Some("周德明"), LJ, "13900000113", "6217000000000113", "确山县盘龙街道李集村8组4号"),
        e("D14", "周德明", true, "1961-12-01", (R, "1961-12-01", 77), None, ("城关镇", "东关村"), "13900000114", "6217000000000114", "确山县城关镇东关村1组12号"),
        e("D15", "吴建国", true, "1963-05-30", (R, "1963-05-30", 19), Some("吴建国"), LJ, "13900000115", "6217000000000115", "确山县盘龙街道李集村9组6号"),
        e("D16", "吴国建", true, "1963-05-30", (R, "1963-05-30", 35), None, LJ, "13900000116", "6217000000000116", "确山县盘龙街道李集村9组6号"),
        e("D17", "郑春华", false, "1960-10-10", (R, "1960-10-10", 28), Some("郑春华"), LJ, "13900000117", "6217000000000117", "确山县盘龙街道李集村10组1号"),
        e("D18", "郑春华", false, "1960-10-10", ("410102", "1960-10-10", 44), Some("郑春华"), LJ, "13900000118", "6217000000000118", "确山县盘龙街道李集村10组1号"),
        // Look-alikes.
        e("L01", "马晓晶", false, "1990-05-20", (R, "1990-05-20", 62), Some("马晓晶"), LJ, "13900000201", "6217000000000201", "确山县盘龙街道李集村11组7号"),
        e("L02", "马晓静", false, "1990-05-20", (R, "1990-05-20", 64), Some("马晓静"), LJ, "13900000202", "6217000000000202", "确山县盘龙街道李集村11组7号"),
        e("L03", "刘建军", true, "1988-02-14", (R, "1988-02-14", 71), Some("刘建军"), LJ, "13900000203", "6217000000000203", "确山县盘龙街道李集村12组2号"),
        e("L04", "刘建国", true, "1988-02-14", (R, "1988-02-14", 73), Some("刘建国"), LJ, "13900000204", "6217000000000204", "确山县盘龙街道李集村12组2号"),
        e("L05", "何志强", true, "1956-02-02", (R, "1956-02-02", 13), Some("何志强"), LJ, "13900000205", "6217000000000205", "确山县盘龙街道李集村13组8号"),
        e("L06", "何志蔷", false, "1956-02-12", (R, "1956-02-12", 24), Some("何志蔷"), LJ, "13900000205", "6217000000000205", "确山县盘龙街道李集村13组8号"),
        e("L07", "张国庆", true, "1952-10-01", (R, "1952-10-01", 33), Some("张国庆"), LJ, "13900000207", "6217000000000207", "确山县盘龙街道李集村14组4号"),
        e("L08", "李秀梅", false, "1954-06-06", (R, "1954-06-06", 46), Some("李秀梅"), LJ, "13900000207", "6217000000000207", "确山县盘龙街道李集村14组4号"),
        // Namesakes (must not pair).
        e("L09", "高新", true, "1973-01-28", (R, "1973-01-28", 36), Some("高新"), WZ, "13900000209", "6217000000000209", "确山县盘龙街道王庄村5组8号"),
        e("L10", "高新", true, "1973-09-28", (R, "1973-09-28", 486), None, WZ, "13900000210", "6217000000000210", "确山县盘龙街道王庄村9组33号"),
        e("L11", "刘飞", true, "1985-04-18", (R, "1985-04-18", 50), Some("刘飞"), LJ, "13900000211", "6217000000000211", "确山县盘龙街道李集村16组5号"),
        e("L12", "刘飞", true, "1985-05-18", (R, "1985-05-18", 317), None, ("城关镇", "东关村"), "13900000212", "6217000000000212", "确山县城关镇东关村3组2号"),
        e("L13", "杨丽萍", false, "1977-01-05", (R, "1977-01-05", 93), Some("杨丽萍"), LJ, "13900000213", "6217000000000213", "确山县盘龙街道李集村17组9号"),
        e("L14", "杨莉萍", false, "1977-01-05", (R, "1977-01-05", 181), None, ("城关镇", "东关村"), "13900000214", "6217000000000214", "确山县城关镇东关村6组1号"),
        e("L15", "王红", false, "1974-02-27", (R, "1974-02-27", 48), Some("王红"), WZ, "13900000215", "6217000000000215", "确山县盘龙街道王庄村2组11号"),
        e("L16", "王红", false, "1975-02-27", (R, "1975-02-27", 243), Some("王红"), WZ, "13900000216", "6217000000000216", "确山县盘龙街道王庄村7组20号"),
        // A duplicate whose first enrollment moved house afterwards (change record below).
        e("D19", "钱玉兰", false, "1957-04-09", (R, "1957-04-09", 71), Some("钱玉兰"), LJ, "13900000119", "6217000000000119", "确山县盘龙街道李集村15组3号"),
        e("D20", "钱玉兰", false, "1957-04-08", (R, "1957-04-08", 402), None, LJ, "13900000120", "6217000000000120", "确山县盘龙街道李集村15组3号"),
        // A chain through two registered persons: 林强囯 (D22, a fabricated ID) copies
        // 林强国 (D21), and also resembles 林国强 (L17), a real person of the same
        // village and birth date (the given name swapped, another address).
        e("D21", "林强国", true, "1975-08-01", (R, "1975-08-01", 290), Some("林强国"), WZ, "13900000121", "6217000000000121", "确山县盘龙街道王庄村3组6号"),
        e("D22", "林强囯", true, "1975-08-01", (R, "1975-08-01", 166), None, WZ, "13900000122", "6217000000000122", "确山县盘龙街道王庄村3组6号"),
        e("L17", "林国强", true, "1975-08-01", (R, "1975-08-01", 485), Some("林国强"), WZ, "13900000217", "6217000000000217", "确山县盘龙街道王庄村8组15号"),
        // A triplicate: 冯桂兰 (D23, registered) enrolled twice more under fabricated IDs,
        // once under her own name (D24), once as 冯贵兰 (D25, a homophone).
        e("D23", "冯桂兰", false, "1953-12-19", (R, "1953-12-19", 52), Some("冯桂兰"), LJ, "13900000123", "6217000000000123", "确山县盘龙街道李集村18组2号"),
        e("D24", "冯桂兰", false, "1953-12-19", (R, "1953-12-19", 377), None, LJ, "13900000124", "6217000000000124", "确山县盘龙街道李集村18组2号"),
        e("D25", "冯贵兰", false, "1953-12-19", (R, "1953-12-19", 419), None, LJ, "13900000125", "6217000000000125", "确山县盘龙街道李集村18组2号"),
    ];
    let groups = vec![
        vec!["D01", "D02"],
        vec!["D03", "D04"],
        vec!["D05", "D06"],
        vec!["D07", "D08"],
        vec!["D09", "D10"],
        vec!["D11", "D12"],
        vec!["D13", "D14"],
        vec!["D15", "D16"],
        vec!["D17", "D18"],
        vec!["D19", "D20"],
        vec!["D21", "D22"],
        vec!["D23", "D24", "D25"],
    ];
    (es, groups)
}

fn id_of(e: &E) -> String {
    let birth = NaiveDate::parse_from_str(e.id.1, "%Y-%m-%d").expect("fixture date");
    idnum::make(e.id.0, birth, e.id.2 * 2 + u16::from(e.male))
}

fn files(dir: &Path, es: &[E]) -> Vec<PathBuf> {
    let mut reg = String::from(
        "公民身份号码,姓名,性别,出生日期,乡镇(街道),村(居),户籍性质,户籍状态,状态日期\n",
    );
    let mut enr = String::from("个人编号,公民身份号码,姓名,性别,出生日期,户籍性质,乡镇(街道),村(居),参保日期,缴费档次,银行账号,三方协议,联系电话,居住地址\n");
    for (k, e) in es.iter().enumerate() {
        let sex = if e.male { "男" } else { "女" };
        let no = format!("41172500{:08}", k + 1);
        let id = id_of(e);
        if let Some(name) = e.registered {
            reg.push_str(&format!(
                "{id},{name},{sex},{},{},{},农业,正常,\n",
                e.id.1, e.town, e.village
            ));
        }
        enr.push_str(&format!(
            "{no},{id},{},{sex},{},农业,{},{},2015-03-{:02},300,{},是,{},{}\n",
            e.name,
            e.birth,
            e.town,
            e.village,
            k % 28 + 1,
            e.card,
            e.phone,
            e.address
        ));
    }
    let mut change = String::from("个人编号,变更项目,变更前,变更后,变更日期,经办人\n");
    for (code, field, old, new, date) in CHANGES {
        let k = es.iter().position(|e| e.no == *code).expect("fixture code");
        change.push_str(&format!(
            "41172500{:08},{field},{old},{new},{date},李娜\n",
            k + 1
        ));
    }
    vec![
        write(&dir.join("id_registry.csv"), reg.as_bytes()),
        write(&dir.join("enrollment.csv"), enr.as_bytes()),
        write(&dir.join("change.csv"), change.as_bytes()),
    ]
}

/// The DUP_PERSON groups found, as sets of fixture codes, and each code's evidence.
fn found_groups(fx: &Fixture, es: &[E]) -> (BTreeSet<BTreeSet<String>>, BTreeMap<String, String>) {
    let code_of = |no: &str| -> String {
        let k: usize = no[8..].parse().expect("person_no");
        es[k - 1].no.to_string()
    };
    let rows = fx.rows(
        "SELECT person_no, evidence FROM findings WHERE check_code = 'DUP_PERSON' AND in_latest_audit ORDER BY 1",
    );
    let mut groups = BTreeSet::new();
    let mut evidence = BTreeMap::new();
    for r in rows {
        let me = code_of(&r[0]);
        // The members are named before any match explained away (". Also resembles").
        let members = r[1].split(". Also resembles").next().unwrap_or("");
        let mut g: BTreeSet<String> = members
            .split("person_no ")
            .skip(1)
            .map(|s| code_of(&s[..16]))
            .collect();
        g.insert(me.clone());
        groups.insert(g);
        evidence.insert(me, r[1].clone());
    }
    (groups, evidence)
}

#[test]
fn dup_person_finds_every_variant_and_pairs_no_twins_or_couples() {
    let (es, want) = county();
    let fx = Fixture::new();
    let f = files(&fx.dir.path().join("in"), &es);
    ingest_all(&fx, &f);
    audit_month(&fx, "2025-04");
    let (groups, evidence) = found_groups(&fx, &es);
    let want: BTreeSet<BTreeSet<String>> = want
        .iter()
        .map(|g| g.iter().map(|s| s.to_string()).collect())
        .collect();
    let missed: Vec<_> = want.difference(&groups).collect();
    let extra: Vec<_> = groups.difference(&want).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed {missed:?}, wrongly paired {extra:?}\n{evidence:#?}"
    );
    // The evidence says why, in words.
    let says = |code: &str, what: &str| {
        let ev = &evidence[code];
        assert!(ev.contains(what), "{code}: {ev}");
    };
    says("D01", "names sound the same: wu ping shu");
    says("D01", "same birth date 1962-04-17");
    says("D01", "same village 盘龙街道李集村");
    says("D02", "not in the public-security register");
    says("D03", "written alike");
    says("D05", "same name written differently");
    says("D09", "birth dates one digit apart");
    says("D11", "birth day and month swapped");
    says("D13", "different townships 盘龙街道 / 城关镇");
    says("D15", "given name swapped");
    says("D17", "both IDs registered under the same name");
    says("D19", "an earlier address the same (changed since)");
    says("D19", "birth dates one digit apart 1957-04-09 / 1957-04-08");
    // 林强囯 keeps its far stronger match; the weaker, with 林国强, is explained away
    // (the register holds 林强国 and 林国强 as two persons) and named as such.
    says("D22", "Also resembles person_no");
    says("D22", "given name swapped (林强囯 / 林国强)");
    says("D22", "explained away by the stronger match");
    assert!(
        !evidence.contains_key("L17"),
        "林国强 is another person: {:?}",
        evidence.get("L17")
    );
    assert!(
        !evidence["D21"].contains("Also resembles"),
        "{}",
        evidence["D21"]
    );
    for ev in evidence.values() {
        assert!(ev.contains("score "), "{ev}");
    }
}

/// The synthetic county (a seed the sample does not use): every planted pair found,
/// no pair that is not one, at 5,000 persons (the 20,000-person run is in the
/// README); the planted variants and look-alikes are all present.
#[test]
fn dup_person_recall_on_a_synthetic_county() {
    const PERSONS: u32 = 5_000;
    const SEED: u64 = 20_261_201;
    let fx = Fixture::new();
    let data = fx.dir.path().join("county");
    let cfg = crate::synth::SynthConfig {
        persons: PERSONS,
        seed: SEED,
        ..Default::default()
    };
    crate::synth::generate(&cfg, &data).expect("the synthetic county generates");
    let truth = truth_groups(&data);
    let notes = std::fs::read_to_string(data.join("_truth/ground_truth.csv")).expect("truth");
    for variant in [
        "homophone",
        "shape-alike",
        "variant form",
        "traditional",
        "digit mistyped",
        "day and month swapped",
        "neighbouring township",
        "swapped",
        "duplicate hukou",
    ] {
        assert!(
            notes.contains(variant),
            "no planted pair of the variant {variant}"
        );
    }
    let looks = std::fs::read_to_string(data.join("_truth/lookalikes.csv")).expect("looks");
    assert!(
        looks.contains("twins_names_sound_alike"),
        "no twins with names that sound alike"
    );
    ingest_all(&fx, &[data.clone()]);
    let t = Instant::now();
    audit_month(
        &fx,
        &format!("{}-{:02}", cfg.through_year, cfg.through_month),
    );
    let secs = t.elapsed().as_secs_f64();
    let found: BTreeSet<String> = fx
        .rows("SELECT person_no FROM findings WHERE check_code = 'DUP_PERSON'")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let planted: BTreeSet<String> = truth.values().flatten().cloned().collect();
    let missed: Vec<_> = planted.difference(&found).collect();
    let extra: Vec<_> = found.difference(&planted).collect();
    let recall = 1.0 - missed.len() as f64 / planted.len() as f64;
    eprintln!(
        "DUP_PERSON at {PERSONS} persons: {} planted, recall {:.1} %, {} extra; audit {secs:.1} s",
        planted.len(),
        recall * 100.0,
        extra.len()
    );
    assert!(recall >= 0.99, "recall {recall:.3}: missed {missed:?}");
    assert!(extra.is_empty(), "paired but not one person: {extra:?}");
}

/// The planted DUP_PERSON groups: group number → person numbers.
fn truth_groups(data: &Path) -> BTreeMap<String, Vec<String>> {
    let mut r = csv::Reader::from_path(data.join("_truth/ground_truth.csv")).expect("truth");
    let h = r.headers().expect("header").clone();
    let col = |name: &str| {
        h.iter()
            .position(|x| x.trim_start_matches('\u{feff}') == name)
            .expect(name)
    };
    let (code, no, note) = (col("check_code"), col("person_no"), col("note"));
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.expect("row");
        if &rec[code] == "DUP_PERSON" {
            let g = rec[note]
                .rsplit("(group ")
                .next()
                .unwrap_or("")
                .trim_end_matches(')')
                .to_string();
            groups.entry(g).or_default().push(rec[no].to_string());
        }
    }
    groups
}

/// Re-estimates `pipeline/audit/dup_weights.toml` on the labelled candidate pairs of
/// synthetic counties and prints it, with the scores' separation (run by hand:
/// `cargo test --test integration estimate_dup_weights -- --ignored --nocapture`).
/// By default on two counties it generates (DUP_PERSONS persons, 20,000 unless
/// set); with DUP_WAREHOUSE, DUP_COUNTY and DUP_MONTH on the warehouse of a county
/// generated and ingested beforehand (the shipped weights: 1,000,000 persons, seed 8,
/// see the file's header). DUP_PAIRS_OUT writes every pair with its levels.
#[test]
#[ignore]
fn estimate_dup_weights() {
    let persons: u32 = std::env::var("DUP_PERSONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut labelled = Vec::new();
    let mut scored = Vec::new();
    let mut add = |conn: &duckdb::Connection, data: &Path, month: NaiveDate| {
        let truth = truth_groups(data);
        let group_of: BTreeMap<&str, &str> = truth
            .iter()
            .flat_map(|(g, ms)| ms.iter().map(move |m| (m.as_str(), g.as_str())))
            .collect();
        pension::audit::engine::prepare(conn, month, &Default::default(), None).expect("prelude");
        for (a, b, levels, score, aside) in
            pension::audit::dup::candidate_levels(conn).expect("pairs")
        {
            let same = matches!((group_of.get(a.as_str()), group_of.get(b.as_str())), (Some(x), Some(y)) if x == y);
            labelled.push((levels, same, aside));
            scored.push((score, same, a, b, levels, aside));
        }
    };
    // An existing warehouse of a generated county instead (e.g. the 1M bench's):
    // DUP_WAREHOUSE=warehouse DUP_COUNTY=county-folder DUP_MONTH=2026-10.
    let existing = std::env::var("DUP_WAREHOUSE").ok();
    let source = match &existing {
        Some(wh) => {
            let county = PathBuf::from(std::env::var("DUP_COUNTY").expect("DUP_COUNTY"));
            let month = std::env::var("DUP_MONTH").unwrap_or_else(|_| "2026-10".into());
            let month =
                NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").expect("month");
            let wh = pension::warehouse::Warehouse::open_read(Path::new(wh)).expect("warehouse");
            let conn =
                pension::warehouse::connect(&wh, &crate::common::catalog()).expect("connect");
            add(&conn, &county, month);
            format!("the county {} (its warehouse)", county.display())
        }
        None => {
            for seed in [7u64, 8] {
                let fx = Fixture::new();
                let data = fx.dir.path().join("county");
                let cfg = crate::synth::SynthConfig {
                    persons,
                    seed,
                    ..Default::default()
                };
                crate::synth::generate(&cfg, &data).expect("synth");
                ingest_all(&fx, &[data.clone()]);
                let s = fx.session();
                let month =
                    NaiveDate::from_ymd_opt(cfg.through_year, cfg.through_month, 1).expect("month");
                add(&s.conn, &data, month);
            }
            format!("two synthetic counties ({persons} persons, seeds 7 and 8)")
        }
    };
    let header = format!(
        "# DUP_PERSON weights (docs/rules.md § DUP_PERSON). weight = log2(m / u).\n\
         # Estimated by `cargo test --test integration estimate_dup_weights -- --ignored\n\
         # --nocapture` on the candidate pairs of the blocking in\n\
         # {source}, labelled by the answer key: m is the share\n\
         # of pairs of one person at that level, u the share of pairs of two persons\n\
         # (rules in pipeline/audit/dup/weights.rs, estimate_weights).\n"
    );
    println!(
        "{}",
        pension::audit::dup::estimate_weights(&labelled, &header)
    );
    if let Ok(path) = std::env::var("DUP_PAIRS_OUT") {
        let text: String = scored
            .iter()
            .map(|s| {
                format!(
                    "{},{},{},{},{}\n",
                    u8::from(s.1),
                    u8::from(s.5),
                    s.2,
                    s.3,
                    s.4.iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        std::fs::write(path, text).expect("pairs file");
    }
    scored.sort_by(|x, y| y.0.total_cmp(&x.0));
    let min_match = scored
        .iter()
        .filter(|s| s.1)
        .map(|s| s.0)
        .fold(f64::MAX, f64::min);
    let max_non = scored
        .iter()
        .filter(|s| !s.1 && !s.5)
        .map(|s| s.0)
        .fold(f64::MIN, f64::max);
    println!("# lowest score of a pair of one person {min_match:.2}; highest of two persons {max_non:.2}");
    for s in scored
        .iter()
        .filter(|s| !s.5 && (!s.1 && s.0 > max_non - 3.0 || s.1 && s.0 < min_match + 1.0))
        .take(40)
    {
        println!("# {:.2} {} {} {} {:?}", s.0, s.1, s.2, s.3, s.4);
    }
}
