//! The rule parameters as data (parameters.toml): an override file in
//! $PIPELINE_DEFINITIONS changes what the commands compute from its `from` month
//! on, a broken file is refused by name, line and parameter, `status` lists the
//! parameters in force; and a bad interest-rate row is quarantined on its line
//! while the ledger still replays every account that does not need it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::common::{pipeline, samples, succeeds, write, Fixture};

/// The divisor line of the shipped file, replaced to add versions.
const DIVISOR_LINE: &str = "versions = [{ from = 2011-07-01, value = 139 }]";

fn shipped() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("parameters.toml"))
        .expect("parameters.toml at the project root")
}

/// A definitions folder whose parameters.toml is the shipped file with `edit` applied.
fn definitions(fx: &Fixture, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let dir = fx.dir.path().join(name);
    let text = edit(shipped());
    write(&dir.join("parameters.toml"), text.as_bytes());
    dir
}

/// The shipped file with a second divisor version.
fn divisor_from(from: &str, value: u32) -> impl Fn(String) -> String {
    let from = from.to_string();
    move |text: String| {
        assert!(
            text.contains(DIVISOR_LINE),
            "the shipped divisor line changed"
        );
        text.replace(
            DIVISOR_LINE,
            &format!("versions = [\n  {{ from = 2011-07-01, value = 139 }},\n  {{ from = {from}, value = {value} }},\n]"),
        )
    }
}

/// The binary on `wh` with the given definitions folder (or none: the built-in file).
fn run(wh: &Path, defs: Option<&Path>) -> Command {
    let mut c = pipeline(wh);
    match defs {
        Some(d) => c.env("PIPELINE_DEFINITIONS", d),
        None => c.env_remove("PIPELINE_DEFINITIONS"),
    };
    c
}

fn round_fen(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// The sample county, ingested once (read-only for the tests that share it).
fn county() -> &'static Fixture {
    static S: OnceLock<Fixture> = OnceLock::new();
    S.get_or_init(|| {
        let fx = Fixture::new();
        let report = fx.ingest(&[samples().join("county")]);
        assert!(report.committed, "the sample county ingests");
        fx
    })
}

/// The notice's list as (person_no → (projected balance, account pension)).
fn notice_rows(csv_text: &str) -> BTreeMap<String, (Decimal, Decimal)> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    let mut out = BTreeMap::new();
    let mut in_list = false;
    for rec in r.records() {
        let rec = rec.expect("csv");
        if rec.get(0) == Some("个人编号 person_no") {
            assert_eq!(rec.get(11), Some("预计储存额 projected"));
            assert_eq!(rec.get(12), Some("预计个人账户养老金 account pension"));
            in_list = true;
            continue;
        }
        if in_list && rec.len() >= 13 && !rec[0].is_empty() {
            out.insert(rec[0].to_string(), (dec(&rec[11]), dec(&rec[12])));
        } else if in_list {
            in_list = false;
        }
    }
    out
}

/// A month in which several persons of the sample county reach 60 the month after.
const NOTICE_MONTH: &str = "2025-01";

fn notice(wh: &Path, defs: Option<&Path>, extra: &[&str]) -> BTreeMap<String, (Decimal, Decimal)> {
    let out = succeeds(
        run(wh, defs)
            .args(["notice", "--month", NOTICE_MONTH, "--format", "csv"])
            .args(extra),
    );
    notice_rows(&out)
}

#[test]
fn a_later_divisor_version_changes_the_notice_from_its_month() {
    let fx = county();
    let tmp = Fixture::new();
    let wh = fx.wh_dir();
    let base = notice(&wh, None, &[]);
    assert!(
        base.len() >= 2,
        "persons of the sample county turning 60 in 2025-02: {base:?}"
    );
    // The built-in divisor 139: pension = projected ÷ 139, half-up to the fen.
    for (p, (projected, pension)) in &base {
        assert_eq!(*pension, round_fen(projected / Decimal::from(139)), "{p}");
    }
    // A version from the notice month on is in force: ÷ 200.
    let in_force = definitions(&tmp, "from-2025-01", divisor_from("2025-01-01", 200));
    let changed = notice(&wh, Some(&in_force), &[]);
    assert_eq!(
        changed.keys().collect::<Vec<_>>(),
        base.keys().collect::<Vec<_>>()
    );
    for (p, (projected, pension)) in &changed {
        assert_eq!(
            *projected, base[p].0,
            "{p}: the balance does not depend on the divisor"
        );
        assert_eq!(*pension, round_fen(projected / Decimal::from(200)), "{p}");
        assert!(
            *pension < base[p].1,
            "{p}: a larger divisor, a smaller pension"
        );
    }
    // A version from the next month is not yet in force: the notice is unchanged.
    let later = definitions(&tmp, "from-2025-02", divisor_from("2025-02-01", 200));
    assert_eq!(notice(&wh, Some(&later), &[]), base);
    // --divisor still overrides the file.
    let flag = notice(&wh, Some(&in_force), &["--divisor", "100"]);
    for (p, (projected, pension)) in &flag {
        assert_eq!(*pension, round_fen(projected / Decimal::from(100)), "{p}");
    }
}

/// benefit_check: (person_no, start_month) → (balance_rule, account_monthly_rule,
/// has_difference), for the approvals whose balance the ledger computed.
fn approval_rules(fx: &Fixture) -> BTreeMap<(String, String), (Decimal, Decimal, bool)> {
    fx.rows(
        "SELECT person_no, start_month, balance_rule, account_monthly_rule, has_difference \
         FROM benefit_check WHERE balance_rule IS NOT NULL",
    )
    .into_iter()
    .map(|r| {
        (
            (r[0].clone(), r[1].clone()),
            (dec(&r[2]), dec(&r[3]), r[4] == "true"),
        )
    })
    .collect()
}

#[test]
fn the_divisor_in_force_at_the_through_month_drives_the_approval_check() {
    let fx = Fixture::new();
    crate::common::copy_warehouse(&county().wh_dir(), &fx.wh_dir());
    let wh = fx.wh_dir();
    succeeds(run(&wh, None).args(["ledger", "--through", "2026-10"]));
    let base = approval_rules(&fx);
    assert!(
        base.len() > 50,
        "the sample county has approvals: {}",
        base.len()
    );
    let base_diffs = base.values().filter(|v| v.2).count();
    for (k, (balance, rule, _)) in &base {
        assert_eq!(*rule, round_fen(balance / Decimal::from(139)), "{k:?}");
    }
    let defs = definitions(&fx, "defs", divisor_from("2026-01-01", 150));
    let out = succeeds(run(&wh, Some(&defs)).args(["ledger", "--through", "2026-10"]));
    assert!(out.contains("ledger "), "{out}");
    let changed = approval_rules(&fx);
    assert_eq!(changed.len(), base.len());
    for (k, (balance, rule, _)) in &changed {
        assert_eq!(
            *balance, base[k].0,
            "{k:?}: the balance does not depend on the divisor"
        );
        assert_eq!(*rule, round_fen(balance / Decimal::from(150)), "{k:?}");
    }
    // The recorded approvals were computed with 139: now nearly all differ.
    let diffs = changed.values().filter(|v| v.2).count();
    assert!(
        diffs > base_diffs,
        "{diffs} differences with ÷150, {base_diffs} with ÷139"
    );
}

#[test]
fn status_lists_the_parameters_in_force() {
    let fx = county();
    let tmp = Fixture::new();
    let out = succeeds(run(&fx.wh_dir(), None).arg("status"));
    let section = out
        .split("Rule parameters in force on ")
        .nth(1)
        .unwrap_or_else(|| panic!("no parameters section:\n{out}"));
    assert!(section.contains("parameters.toml (built in)"), "{section}");
    let line = |name: &str| -> Vec<String> {
        section
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{section}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    for (name, value, zh) in [
        ("pension_age", "60", "待遇领取年龄"),
        ("account_divisor", "139", "个人账户养老金计发月数"),
        ("contribution_deadline", "10-31", "年度缴费截止日"),
        ("min_contribution_age", "16", "最低参保缴费年龄"),
        ("certification_deadline", "04-30", "年度资格认证截止日"),
        (
            "old_cohort_born_by",
            "1951-06-30",
            "直接领取基础养老金出生截止日",
        ),
    ] {
        let l = line(name);
        assert_eq!(l[1], value, "{l:?}");
        assert_eq!(l[2], "2011-07-01", "{l:?}");
        assert!(l.contains(&zh.to_string()), "{l:?}");
    }
    // An override: a version already in force shows with its date; one still to
    // come is announced beside the value in force.
    let defs = definitions(&tmp, "defs", |t| {
        divisor_from("2020-01-01", 150)(t).replace(
            "versions = [{ from = 2011-07-01, value = 60 }]",
            "versions = [{ from = 2011-07-01, value = 60 }, { from = 2999-01-01, value = 65 }]",
        )
    });
    let out = succeeds(run(&fx.wh_dir(), Some(&defs)).arg("status"));
    let section = out.split("Rule parameters in force on ").nth(1).unwrap();
    assert!(
        section.contains(&defs.join("parameters.toml").display().to_string()),
        "{section}"
    );
    let divisor = section
        .lines()
        .find(|l| l.contains("account_divisor"))
        .unwrap();
    assert!(
        divisor.contains(" 150 ") && divisor.contains("2020-01-01"),
        "{divisor}"
    );
    let age = section.lines().find(|l| l.contains("pension_age")).unwrap();
    assert!(
        age.contains(" 60 ") && age.contains("(then 65 from 2999-01-01)"),
        "{age}"
    );
}

#[test]
fn a_broken_parameters_file_is_refused_naming_file_line_and_parameter() {
    let fx = Fixture::new();
    crate::common::copy_warehouse(&county().wh_dir(), &fx.wh_dir());
    let wh = fx.wh_dir();
    let before = fx.snapshot();
    let text = shipped();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let cases: Vec<(&str, Box<dyn Fn(String) -> String>, Vec<String>)> = vec![
        (
            "misspelt",
            Box::new(|t: String| {
                t.replace(
                    "name = \"death_report_days\"",
                    "name = \"death_reprot_days\"",
                )
            }),
            vec![
                format!("line {}", line_of("name = \"death_report_days\"")),
                "unknown parameter `death_reprot_days`".into(),
            ],
        ),
        (
            "missing",
            Box::new(|t: String| {
                let start = t
                    .find("[[parameter]]\nname = \"shared_account_max\"")
                    .unwrap();
                let end = start + t[start..].find("\n\n").unwrap();
                format!("{}{}", &t[..start], &t[end..])
            }),
            vec!["parameter(s) missing: shared_account_max".into()],
        ),
        (
            "float",
            Box::new(|t: String| {
                t.replace(
                    "from = 2011-07-01, value = 139 }",
                    "from = 2011-07-01, value = 139.5 }",
                )
            }),
            vec![
                format!("line {}", line_of("value = 139 }")),
                "parameter `account_divisor`".into(),
                "\"139.5\"".into(),
            ],
        ),
        (
            "unsorted",
            Box::new(divisor_from("2001-01-01", 120)),
            vec![
                "parameter `account_divisor`".into(),
                "must come after".into(),
            ],
        ),
        (
            "syntax",
            Box::new(|t: String| t.replace("zh = \"待遇领取年龄\"", "zh = \"待遇领取年龄")),
            vec![format!("line {}", line_of("zh = \"待遇领取年龄\""))],
        ),
    ];
    for (name, edit, expected) in cases {
        let defs = definitions(&fx, name, edit);
        let file = defs.join("parameters.toml").display().to_string();
        for args in [&["ledger", "--through", "2026-10"][..], &["status"][..]] {
            let out = run(&wh, Some(&defs)).args(args).output().unwrap();
            assert!(
                !out.status.success(),
                "{name}: {args:?} accepted a broken file"
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(&file), "{name}: {err}");
            for e in &expected {
                assert!(err.contains(e.as_str()), "{name}: expected {e:?} in\n{err}");
            }
        }
    }
    assert_eq!(fx.snapshot(), before, "a refused run changes nothing");
}

/// The county's interest rates (2011–2026) with 2014 mistyped as 1924 (line 5).
const RATES_WITH_TYPO: &str = "年度,利率\n2011,3.00\n2012,3.00\n2013,3.00\n1924,3.00\n2015,2.25\n\
2016,1.50\n2017,1.50\n2018,1.50\n2019,1.50\n2020,1.50\n2021,1.50\n2022,1.50\n2023,1.45\n\
2024,1.35\n2025,1.10\n2026,0.95\n";

/// (person_no → account_year rows) of the last ledger run.
fn accounts(fx: &Fixture) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for r in fx.rows(
        "SELECT person_no, year, sub_balance, opening, credits, debits, closed_out, interest, closing \
         FROM account_year ORDER BY ALL",
    ) {
        out.entry(r[0].clone()).or_default().push(r);
    }
    out
}

#[test]
fn a_bad_rate_row_is_quarantined_and_only_the_accounts_needing_it_fail() {
    let fx = Fixture::new();
    let county = samples().join("county");
    // The county without its rate table, and a hand-written one with a typo.
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&county)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("reference") && !p.ends_with("_truth"))
        .collect();
    paths.sort();
    paths.push(county.join("reference/basic_pension_standard.csv"));
    paths.push(county.join("reference/tier_subsidy.csv"));
    let typo = write(
        &fx.dir.path().join("in/interest_rate_typo.csv"),
        RATES_WITH_TYPO.as_bytes(),
    );
    paths.push(typo.clone());
    assert!(fx.ingest(&paths).committed);
    // The row is quarantined on its line, with the rule it breaks.
    let q = fx.rows(
        "SELECT file, line, reason_codes, reasons FROM quarantine WHERE kind = 'interest_rate'",
    );
    assert_eq!(q.len(), 1, "{q:?}");
    assert!(q[0][0].ends_with("interest_rate_typo.csv"), "{q:?}");
    assert_eq!(q[0][1], "5");
    assert_eq!(q[0][2], "BAD_NUMBER");
    assert!(
        q[0][3].contains("年度") && q[0][3].contains("1924"),
        "{q:?}"
    );

    // The ledger runs: accounts spanning 2014 are refused one by one, the others replayed.
    let wh = fx.wh_dir();
    let out = succeeds(run(&wh, None).args(["ledger", "--through", "2026-10"]));
    assert!(
        out.contains("no interest rate (记账利率) for year(s) 2014"),
        "{out}"
    );
    assert!(out.contains("interest_rate_typo.csv line 5"), "{out}");
    let errors: BTreeMap<String, String> = fx
        .rows("SELECT person_no, error FROM ledger_error")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert!(!errors.is_empty());
    for (p, e) in &errors {
        assert_eq!(e, "no interest rate (记账利率) for year 2014", "{p}");
    }
    let partial = accounts(&fx);
    assert!(
        !partial.is_empty(),
        "accounts opened after 2014 are replayed"
    );
    assert!(partial.keys().all(|p| !errors.contains_key(p)));
    for (p, rows) in &partial {
        assert!(
            rows[0][1].parse::<i32>().unwrap() >= 2015,
            "{p} starts {}",
            rows[0][1]
        );
    }

    // With the 2014 rate supplied, every account replays; the ones replayed before
    // are unchanged, and the refused ones are exactly those starting by 2014.
    let fix = write(
        &fx.dir.path().join("in/interest_rate_2014.csv"),
        "年度,利率\n2014,3.00\n".as_bytes(),
    );
    assert!(fx.ingest(&[fix]).committed);
    let out = succeeds(run(&wh, None).args(["ledger", "--through", "2026-10"]));
    assert!(!out.contains("no interest rate"), "{out}");
    assert_eq!(fx.one("SELECT count(*) FROM ledger_error"), "0");
    let full = accounts(&fx);
    for (p, rows) in &partial {
        assert_eq!(&full[p], rows, "{p}");
    }
    // Every account replayed now and not before was refused for 2014 and starts by
    // 2014 (a refused person with no balance at all has no account_year rows).
    for (p, rows) in full.iter().filter(|(p, _)| !partial.contains_key(*p)) {
        assert!(
            errors.contains_key(p),
            "{p} was neither replayed nor refused"
        );
        assert!(rows[0][1].parse::<i32>().unwrap() <= 2014, "{p}");
    }
}
