//! Month after month (docs/rules.md § Record identity and corrections): files are
//! re-sent in another encoding or container, in another order, with corrected
//! rows, or twice. The warehouse must end as if it had been loaded once with the
//! corrected data, keep the versions before the corrections, and say so.

use std::path::{Path, PathBuf};

use crate::common::{pipeline, samples, succeeds, Fixture};

const SEPT: &str = "payout/payout_2026-09.csv";
const OCT: &str = "payout/payout_2026-10.csv";
const CONTRIB: &str = "contribution/contribution_2026.csv";

/// Copies the county's input files (not its answer key) into `dir`, except `skip`.
fn copy_county(dir: &Path, skip: &[&str]) {
    let county = samples().join("county");
    for f in pension::warehouse::walk(&county) {
        let rel = pension::warehouse::relative(&county, &f);
        if rel.starts_with('_') || skip.contains(&rel.as_str()) {
            continue;
        }
        let to = dir.join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&f, &to).unwrap();
    }
}

fn county_file(rel: &str) -> PathBuf {
    samples().join("county").join(rel)
}

/// The file's text, whatever its encoding (UTF-8 with or without BOM, or GB18030).
fn text_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// The same text in GB18030 (what Excel on a Chinese Windows desktop writes).
fn gb18030(text: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(text).0.into_owned()
}

fn records(text: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = r.headers().unwrap().clone();
    let rows = r.records().map(|x| x.unwrap()).collect();
    (header, rows)
}

/// September's payout rows with three corrections, as the bank re-issues them: an
/// account pension one yuan higher (and its total), a payment that in fact failed,
/// and another bank account. Returns the rows and the three payout numbers.
fn corrected_september() -> (csv::StringRecord, Vec<Vec<String>>, Vec<String>) {
    let (header, rows) = records(&text_of(&county_file(SEPT)));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (no, account, total, card, status) = (
        col("发放流水号"),
        col("个人账户养老金"),
        col("发放合计"),
        col("银行账号"),
        col("发放状态"),
    );
    let mut rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(str::to_string).collect())
        .collect();
    let ok: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i][status] == "成功")
        .collect();
    let (a, b, c) = (ok[3], ok[10], ok[20]);
    let yuan = |s: &str| -> rust_decimal::Decimal {
        s.trim_start_matches('¥').replace(',', "").parse().unwrap()
    };
    let one = rust_decimal::Decimal::ONE;
    rows[a][account] = format!("{:.2}", yuan(&rows[a][account]) + one);
    rows[a][total] = format!("{:.2}", yuan(&rows[a][total]) + one);
    rows[b][status] = "失败".to_string();
    let mut new_card = rows[c][card].clone();
    new_card.replace_range(new_card.len() - 4.., "0000");
    rows[c][card] = new_card;
    let changed = [a, b, c].iter().map(|&i| rows[i][no].clone()).collect();
    (header, rows, changed)
}

fn write_csv(path: &Path, header: &csv::StringRecord, rows: &[Vec<String>]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

/// The rows as an Excel workbook: money as number cells, the rest as text.
fn write_xlsx(path: &Path, header: &csv::StringRecord, rows: &[Vec<String>]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("发放明细").unwrap();
    let money: Vec<bool> = header
        .iter()
        .map(|h| ["基础养老金", "个人账户养老金", "发放合计"].contains(&h))
        .collect();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            if money[c as usize] {
                let n: f64 = v.trim_start_matches('¥').replace(',', "").parse().unwrap();
                sheet.write_number(r, c, n).unwrap();
            } else {
                sheet.write_string(r, c, v).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

/// Every kind's current records, as (kind, rows, checksum of their content hashes).
fn current_content(fx: &Fixture) -> Vec<(String, String, String)> {
    let s = fx.session();
    fx.catalog
        .schemas
        .iter()
        .map(|k| {
            let r = s.rows(&format!(
                "SELECT count(*), coalesce(sum(_hash::HUGEINT), 0), count(DISTINCT _key) FROM \"{}\"",
                k.kind
            ));
            assert_eq!(r[0][0], r[0][2], "{}: one current version per key", k.kind);
            (k.kind.clone(), r[0][0].clone(), r[0][1].clone())
        })
        .collect()
}

/// A derived table's rows, without the columns that name source files, lines or
/// runs (they differ between two warehouses holding the same data).
fn table_without_lineage(fx: &Fixture, table: &str) -> Vec<Vec<String>> {
    let s = fx.session();
    let cols: Vec<String> = s
        .rows(&format!("SELECT column_name FROM (DESCRIBE \"{table}\")"))
        .into_iter()
        .map(|r| r[0].clone())
        .filter(|c| {
            !(c.starts_with('_')
                || c.contains("file")
                || c.contains("line")
                || c.contains("run")
                || c.contains("source")
                || c.contains("seen")
                || c == "evidence")
        })
        .map(|c| format!("\"{c}\""))
        .collect();
    let list = cols.join(", ");
    s.rows(&format!("SELECT {list} FROM \"{table}\" ORDER BY ALL"))
}

fn report_tables(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in pension::warehouse::walk(&dir.join("csv")) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('2') || name.starts_with("18_") {
            // Lists for action carry finding evidence, which names files and lines;
            // the bank's outstanding items (18_) name the file and line of each.
            continue;
        }
        out.push((name, std::fs::read_to_string(&f).unwrap()));
    }
    out
}

fn ledger_audit_report(fx: &Fixture, out: &Path) {
    let wh = fx.wh_dir();
    succeeds(pipeline(&wh).args(["ledger", "--through", "2026-10"]));
    succeeds(pipeline(&wh).args(["audit", "--month", "2026-10"]));
    succeeds(
        pipeline(&wh)
            .args(["report", "--month", "2026-10", "--out"])
            .arg(out),
    );
}

#[test]
fn a_monthly_cycle_ends_as_one_load_of_the_corrected_data() {
    let tmp = tempfile::tempdir().unwrap();
    let (header, corrected, changed_nos) = corrected_september();

    // The centre's way: months up to September, then October's files with the
    // register again in GB18030, September re-issued as XLSX in another order with
    // three corrected rows, and this year's contributions sent twice.
    let monthly = Fixture::new();
    let first = tmp.path().join("first");
    copy_county(&first, &[OCT]);
    succeeds(pipeline(&monthly.wh_dir()).arg("ingest").arg(&first));
    let next = tmp.path().join("next");
    std::fs::create_dir_all(&next).unwrap();
    std::fs::copy(county_file(OCT), next.join("payout_2026-10.csv")).unwrap();
    for (rel, name) in [
        ("operational/enrollment.csv", "参保登记_GB18030.csv"),
        ("registry/id_registry.csv", "公安人口_GB18030.csv"),
    ] {
        std::fs::write(next.join(name), gb18030(&text_of(&county_file(rel)))).unwrap();
    }
    let mut reordered = corrected.clone();
    reordered.reverse();
    write_xlsx(&next.join("payout_2026-09_重发.xlsx"), &header, &reordered);
    std::fs::copy(county_file(CONTRIB), next.join("contribution_2026.csv")).unwrap();
    let (cheader, crows) = records(&text_of(&county_file(CONTRIB)));
    let mut crows: Vec<Vec<String>> = crows
        .iter()
        .map(|r| r.iter().map(str::to_string).collect())
        .collect();
    crows.reverse();
    write_csv(&next.join("contribution_2026_again.csv"), &cheader, &crows);
    let summary = succeeds(pipeline(&monthly.wh_dir()).arg("ingest").arg(&next));

    // The same data loaded once, September already corrected.
    let once = Fixture::new();
    let all = tmp.path().join("once");
    copy_county(&all, &[SEPT]);
    write_csv(&all.join(SEPT), &header, &corrected);
    succeeds(pipeline(&once.wh_dir()).arg("ingest").arg(&all));

    // The summary: September says 3 changed and the rest unchanged; the register and
    // the contributions sent again store nothing.
    let line = |name: &str| -> Vec<String> {
        summary
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} in the summary:\n{summary}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let sept = line("payout_2026-09_重发.xlsx");
    let n = corrected.len();
    assert_eq!(
        &sept[2..7],
        &[
            n.to_string(),
            "0".into(),
            "3".into(),
            (n - 3).to_string(),
            "0".into()
        ],
        "{summary}"
    );
    for name in [
        "参保登记_GB18030.csv",
        "公安人口_GB18030.csv",
        "contribution_2026_again.csv",
    ] {
        let l = line(name);
        assert_eq!(
            (l[3].as_str(), l[4].as_str()),
            ("0", "0"),
            "{name}: {summary}"
        );
        assert_eq!(l[2], l[5], "{name}: all unchanged: {summary}");
    }
    assert!(
        line("contribution_2026.csv")
            .join(" ")
            .contains("unchanged: identical to file"),
        "{summary}"
    );

    // Same current records, kind by kind.
    assert_eq!(current_content(&monthly), current_content(&once));
    // The three versions before the correction are kept, with what replaced them.
    let hist =
        monthly.rows("SELECT payout_no, retired_reason FROM payout_history ORDER BY payout_no");
    let mut want: Vec<Vec<String>> = changed_nos
        .iter()
        .map(|no| vec![no.clone(), "changed".to_string()])
        .collect();
    want.sort();
    assert_eq!(hist, want);
    assert_eq!(once.one("SELECT count(*) FROM payout_history"), "0");

    // Downstream: ledger balances, findings and report figures are the same.
    let (out_m, out_o) = (tmp.path().join("report-m"), tmp.path().join("report-o"));
    ledger_audit_report(&monthly, &out_m);
    ledger_audit_report(&once, &out_o);
    for table in ["account_year", "expected_payout", "findings"] {
        let (m, o) = (
            table_without_lineage(&monthly, table),
            table_without_lineage(&once, table),
        );
        assert!(!m.is_empty(), "{table} has rows");
        let only_m: Vec<_> = m.iter().filter(|r| !o.contains(r)).collect();
        let only_o: Vec<_> = o.iter().filter(|r| !m.contains(r)).collect();
        assert!(
            m == o,
            "{table} differs between the monthly and the single load: monthly only {only_m:?}; once only {only_o:?}"
        );
    }
    assert_eq!(report_tables(&out_m), report_tables(&out_o));
}

#[test]
fn history_shows_a_records_versions_and_a_snapshot_keeps_what_it_drops() {
    let fx = Fixture::new();
    let tmp = tempfile::tempdir().unwrap();
    let enr = tmp.path().join("enrollment.csv");
    let head = "个人编号,公民身份号码,姓名,性别,出生日期,户籍性质,乡镇(街道),村(居),参保日期,缴费档次,银行账号,三方协议\n";
    let a = "P001,411725196001011234,张三,男,1960-01-01,农业,城关镇,东街村,2012-01-05,200,6217000000000001,是\n";
    let b = "P002,411725196202021234,李四,女,1962-02-02,农业,城关镇,东街村,2012-01-05,200,6217000000000002,是\n";
    std::fs::write(&enr, format!("{head}{a}{b}")).unwrap();
    succeeds(pipeline(&fx.wh_dir()).arg("ingest").arg(&enr));
    // Next month's export: P001 moved to tier 300, P002 no longer listed.
    let a2 = a.replace(",200,", ",300,");
    std::fs::write(&enr, format!("{head}{a2}")).unwrap();
    let out = succeeds(pipeline(&fx.wh_dir()).arg("ingest").arg(&enr));
    assert!(out.contains("1 corrected record(s)"), "{out}");
    assert!(
        out.contains("1 record(s) no longer in this snapshot"),
        "{out}"
    );
    assert_eq!(fx.one("SELECT count(*) FROM enrollment"), "1");
    assert_eq!(fx.one("SELECT tier FROM enrollment"), "300");
    let hist =
        succeeds(pipeline(&fx.wh_dir()).args(["history", "--format", "csv", "enrollment", "P001"]));
    let lines: Vec<&str> = hist.lines().collect();
    assert_eq!(lines.len(), 3, "{hist}");
    assert!(
        lines[1].starts_with("replaced 已更正,") && lines[1].contains(",200,"),
        "{hist}"
    );
    assert!(
        lines[2].starts_with("current 现行,") && lines[2].contains(",300,"),
        "{hist}"
    );
    let gone =
        succeeds(pipeline(&fx.wh_dir()).args(["history", "--format", "csv", "enrollment", "P002"]));
    assert!(
        gone.lines().nth(1).unwrap().starts_with("gone 已不在快照,"),
        "{gone}"
    );
    // An unknown key says so and how to look keys up.
    let missing = pipeline(&fx.wh_dir())
        .args(["history", "enrollment", "P999"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no enrollment record with key P999"));
}

#[test]
fn two_rows_with_one_key_and_other_values_in_one_file_quarantine_the_later() {
    let fx = Fixture::new();
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("payout.csv");
    let head = "发放流水号,个人编号,公民身份号码,姓名,发放年月,基础养老金,个人账户养老金,发放合计,银行账号,发放日期,发放状态\n";
    let row = |amount: &str| {
        format!("FF1,P001,411725195001011238,张三,2026-09,138.00,{amount},{},6217000000000001,2026-09-10,成功\n",
            (rust_decimal::Decimal::from(138) + amount.parse::<rust_decimal::Decimal>().unwrap()))
    };
    // Line 2 and line 4 are one record sent twice (one record); line 3 differs.
    std::fs::write(
        &f,
        format!("{head}{}{}{}", row("12.00"), row("13.00"), row("12.00")),
    )
    .unwrap();
    let out = succeeds(pipeline(&fx.wh_dir()).arg("ingest").arg(&f));
    assert_eq!(fx.one("SELECT count(*) FROM payout"), "1");
    assert_eq!(fx.one("SELECT account_amount FROM payout"), "12.00");
    let q = fx.rows("SELECT line, reason_codes, reasons FROM quarantine");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0][1], "DUPLICATE_KEY");
    assert!(q[0][2].contains("as line 2"), "{:?}", q[0]);
    assert!(
        out.contains("total: read 3 = new 1 + changed 0 + unchanged 1 + quarantined 1"),
        "{out}"
    );
}

#[test]
fn a_finding_whose_payment_the_bank_corrects_is_closed_with_the_reason() {
    let fx = Fixture::new();
    let wh = fx.wh_dir();
    succeeds(pipeline(&wh).arg("ingest").arg(samples().join("county")));
    succeeds(pipeline(&wh).args(["audit", "--month", "2026-10"]));
    // A payment sent twice (DUP_PAYMENT); the bank re-issues that month's receipt
    // file with the second payment marked failed.
    let f = fx.rows(
        "SELECT finding_id, person_no, strftime(month_from, '%Y-%m') FROM findings \
         WHERE check_code = 'DUP_PAYMENT' AND status = 'open' ORDER BY finding_id LIMIT 1",
    );
    let (id, person, month) = (&f[0][0], &f[0][1], &f[0][2]);
    let pays = fx.rows(&format!(
        "SELECT payout_no, _file FROM payout WHERE person_no = '{person}' \
         AND strftime(month, '%Y-%m') = '{month}' AND status = 'ok' ORDER BY paid_date DESC, payout_no DESC"
    ));
    assert!(pays.len() >= 2, "{pays:?}");
    let (second, file) = (&pays[0][0], PathBuf::from(&pays[0][1]));
    let (header, rows) = records(&text_of(&file));
    let no = header.iter().position(|h| h == "发放流水号").unwrap();
    let status = header.iter().position(|h| h == "发放状态").unwrap();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut v: Vec<String> = r.iter().map(str::to_string).collect();
            if v[no] == *second {
                v[status] = "失败".into();
            }
            v
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let reissued = tmp.path().join("回执_重发.csv");
    write_csv(&reissued, &header, &rows);
    let out = succeeds(pipeline(&wh).arg("ingest").arg(&reissued));
    assert!(out.contains("1 corrected record(s)"), "{out}");
    succeeds(pipeline(&wh).args(["audit", "--month", "2026-10"]));
    assert_eq!(
        fx.one(&format!(
            "SELECT status FROM findings WHERE finding_id = '{id}'"
        )),
        "closed"
    );
    let notes = fx.rows(&format!(
        "SELECT note FROM finding_history WHERE finding_id = '{id}' ORDER BY seq"
    ));
    assert!(
        notes.last().unwrap()[0].contains("no longer found"),
        "{notes:?}"
    );
    // The payment as first received is kept in history.
    assert_eq!(
        fx.one(&format!(
            "SELECT status FROM payout_history WHERE payout_no = '{second}'"
        )),
        "ok"
    );
}

#[test]
fn person_copies_hold_the_current_rows_and_are_dropped_when_the_kind_changes() {
    use pension::warehouse::by_person;
    let fx = Fixture::new();
    let wh = fx.wh_dir();
    succeeds(pipeline(&wh).arg("ingest").arg(samples().join("county")));
    let made = by_person::refresh(&wh, &fx.catalog).unwrap();
    let kinds: Vec<&str> = made.iter().map(|m| m.kind.as_str()).collect();
    assert!(
        kinds.contains(&"payout") && kinds.contains(&"contribution"),
        "{kinds:?}"
    );
    let differing = |fx: &Fixture, t: &str| {
        fx.one(&format!(
            "SELECT (SELECT count(*) FROM (SELECT * FROM {t} EXCEPT ALL SELECT * FROM {t}_by_person))
                  + (SELECT count(*) FROM (SELECT * FROM {t}_by_person EXCEPT ALL SELECT * FROM {t}))"
        ))
    };
    for t in ["payout", "contribution"] {
        assert_eq!(differing(&fx, t), "0", "{t}");
        assert_eq!(
            fx.one(&format!(
                "SELECT count(*) FROM (SELECT person_no < lag(person_no) OVER () AS back FROM {t}_by_person) WHERE back"
            )),
            "0",
            "{t}_by_person is sorted by person"
        );
    }
    assert!(by_person::refresh(&wh, &fx.catalog).unwrap().is_empty());

    // The bank re-issues a month's receipts with one payment marked failed: the
    // payout copy no longer matches the kind's files and is not offered any more.
    let file = county_file(SEPT);
    let (header, rows) = records(&text_of(&file));
    let status = header.iter().position(|h| h == "发放状态").unwrap();
    let no = header.iter().position(|h| h == "发放流水号").unwrap();
    let mut rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(str::to_string).collect())
        .collect();
    let i = rows.iter().position(|r| r[status] == "成功").unwrap();
    rows[i][status] = "失败".into();
    let corrected = rows[i][no].clone();
    let tmp = tempfile::tempdir().unwrap();
    let reissued = tmp.path().join("回执_重发.csv");
    write_csv(&reissued, &header, &rows);
    let out = succeeds(pipeline(&wh).arg("ingest").arg(&reissued));
    assert!(out.contains("1 corrected record(s)"), "{out}");
    let session = fx.session();
    assert!(session
        .rows("SELECT 1 FROM duckdb_views() WHERE view_name = 'payout_by_person'")
        .is_empty());
    assert_eq!(
        session
            .rows("SELECT 1 FROM duckdb_views() WHERE view_name = 'contribution_by_person'")
            .len(),
        1
    );
    let made = by_person::refresh(&wh, &fx.catalog).unwrap();
    assert_eq!(
        made.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(),
        ["payout"]
    );
    assert_eq!(differing(&fx, "payout"), "0");
    assert_eq!(
        fx.one(&format!(
            "SELECT status FROM payout_by_person WHERE payout_no = '{corrected}'"
        )),
        "failed"
    );
}
