//! Printed bank statements (docs/rules.md § Printed bank statements): the header
//! found below the title block, the title's account number and period kept as facts
//! of the file, total lines and the running balance checked, a wrong one refusing
//! the whole file; the same statement exported again stores nothing new.

use std::path::{Path, PathBuf};

use pension::ingest::{FileStatus, IngestOptions};

use crate::common::{write, Fixture};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The hand-made statement: a title block (lines 1–4), the header on line 5,
/// transactions on lines 6, 7, 10, 11, a page total on line 8, the header printed
/// again on line 9 (a new page), a page total on line 12 and the file total on 13.
fn printed_text() -> String {
    std::fs::read_to_string(fixture("bank_statement_printed.csv")).expect("fixture")
}

fn gb18030(text: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(text).0.into_owned()
}

/// The same rows as a workbook, row for row (amounts as number cells, as a bank's
/// export writes them).
fn as_xlsx(text: &str, path: &Path) -> PathBuf {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("对账单").unwrap();
    for (r, line) in text.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            if cell.is_empty() {
                continue;
            }
            let (r, c) = (r as u32, c as u16);
            let number = cell.parse::<f64>().ok().filter(|_| cell.contains('.'));
            match number {
                Some(x) => sheet.write_number(r, c, x).map(|_| ()).unwrap(),
                None => sheet.write_string(r, c, cell).map(|_| ()).unwrap(),
            }
        }
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    book.save(path).unwrap();
    path.to_path_buf()
}

fn refusal(status: &FileStatus) -> String {
    match status {
        FileStatus::Refused(r) => r.clone(),
        other => panic!("not refused: {other:?}"),
    }
}

const STORED: &str = "SELECT _line, account_no, CAST(txn_date AS VARCHAR), bank_ref,
        coalesce(CAST(income AS VARCHAR), '-'), coalesce(CAST(expense AS VARCHAR), '-'),
        CAST(balance AS VARCHAR), CAST(period_from AS VARCHAR), CAST(period_to AS VARCHAR)
    FROM bank_statement ORDER BY _line";

fn expected_rows() -> Vec<Vec<String>> {
    let acct = "622848001234567890";
    [
        (
            "6",
            "2026-09-05",
            "B20260905000001",
            "1200000.00",
            "-",
            "1350000.00",
        ),
        (
            "7",
            "2026-09-15",
            "B20260915000002",
            "-",
            "1180000.00",
            "170000.00",
        ),
        (
            "10",
            "2026-09-21",
            "B20260921000003",
            "1234.56",
            "-",
            "171234.56",
        ),
        (
            "11",
            "2026-09-30",
            "B20260930000004",
            "-",
            "20.00",
            "171214.56",
        ),
    ]
    .iter()
    .map(|(line, date, r, inc, exp, bal)| {
        [
            *line,
            acct,
            *date,
            *r,
            *inc,
            *exp,
            *bal,
            "2026-09-01",
            "2026-09-30",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    })
    .collect()
}

/// CSV in UTF-8, UTF-8 with BOM, GB18030 and the workbook: the header found on line
/// 5, the title's account number on every line, the period as facts, total lines
/// and the repeated header not records, line numbers the file's own.
#[test]
fn a_printed_statement_is_read_in_every_encoding_and_as_a_workbook() {
    let text = printed_text();
    for encoding in ["utf8", "utf8-bom", "gb18030", "xlsx"] {
        let fx = Fixture::new();
        let dir = fx.dir.path().join("in");
        let path = match encoding {
            "utf8" => write(&dir.join("对账单.csv"), text.as_bytes()),
            "utf8-bom" => write(
                &dir.join("对账单.csv"),
                &[b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
            ),
            "gb18030" => write(&dir.join("对账单.csv"), &gb18030(&text)),
            _ => as_xlsx(&text, &dir.join("对账单.xlsx")),
        };
        let report = fx.ingest(&[path]);
        let f = &report.files[0];
        assert!(report.committed, "{encoding}: {:?}", f.status);
        assert_eq!(f.kind.as_deref(), Some("bank_statement"), "{encoding}");
        assert_eq!(f.encoding.as_deref(), Some(encoding), "{encoding}");
        assert_eq!(
            (f.rows_read, f.accepted, f.quarantined, f.new),
            (4, 4, 0, 4),
            "{encoding}: {:?}",
            f.first_reasons
        );
        assert_eq!(
            f.facts,
            vec![
                "账号 622848001234567890".to_string(),
                "起止日期 2026-09-01 至 2026-09-30".to_string()
            ],
            "{encoding}"
        );
        assert_eq!(fx.rows(STORED), expected_rows(), "{encoding}");
    }
}

/// The same statement exported again — another title block (other labels, the
/// account number in the next cell, the period written 20260901-20260930, a print
/// date), another encoding, or as a workbook — is the same lines: nothing new.
#[test]
fn the_same_statement_exported_again_stores_nothing_new() {
    let fx = Fixture::new();
    let dir = fx.dir.path().join("in");
    let text = printed_text();
    let first = write(&dir.join("2026-09.csv"), text.as_bytes());
    let report = fx.ingest(&[first]);
    assert_eq!(report.files[0].new, 4);

    let body: Vec<&str> = text.lines().skip(4).collect();
    let title = "中国农业银行股份有限公司 对公账户交易明细\n\
                 户名：某某县城乡居民基本养老保险基金支出户 开户行：某某县支行\n\
                 账户号码：,622848001234567890\n\
                 查询期间：20260901-20260930,,打印日期：2026-10-02\n\n";
    let again = format!("{title}{}\n", body.join("\n"));
    let again = write(&dir.join("重新导出.csv"), &gb18030(&again));
    let book = as_xlsx(&text, &dir.join("2026-09.xlsx"));
    let report = fx.ingest(&[again, book]);
    for f in &report.files {
        assert_eq!(
            (f.rows_read, f.new, f.changed, f.unchanged, f.quarantined),
            (4, 0, 0, 4, 0),
            "{}: {:?} {:?}",
            f.source.display(),
            f.status,
            f.first_reasons
        );
    }
    // The re-export's title block was read too (its account number from the next cell).
    assert_eq!(
        report.files[0].facts,
        vec![
            "账户号码 622848001234567890".to_string(),
            "查询期间 20260901 至 20260930".to_string()
        ]
    );
    assert_eq!(fx.one("SELECT count(*) FROM bank_statement"), "4");
    assert_eq!(fx.one("SELECT count(*) FROM bank_statement_all"), "4");
}

/// A 合计 line that is not the sum of the lines above refuses the whole file, naming
/// the file, the line and both amounts; nothing of it is stored, and with
/// --skip-bad-files the other files of the run are.
#[test]
fn a_wrong_total_line_refuses_the_file() {
    let fx = Fixture::new();
    let bad = fixture("bank_statement_wrong_total.csv");
    let before = fx.snapshot();
    let report = fx.ingest(&[bad.clone()]);
    assert!(!report.committed);
    assert_eq!(fx.snapshot(), before, "the warehouse is unchanged");
    let reason = refusal(&report.files[0].status);
    assert_eq!(
        reason,
        format!(
            "{} line 13: 合计 (total of the file) of 支出金额 (expense) is 1180200.00, but the \
             lines above it add up to 1180020.00 (合计不符); the file is refused, nothing from \
             it is stored",
            bad.display()
        )
    );

    // A page total (本页合计) is the lines since the previous page total.
    let text = printed_text().replace("本页合计,,,,,1234.56,20.00,", "本页合计,,,,,1234.56,0.00,");
    let page = write(&fx.dir.path().join("in/page.csv"), text.as_bytes());
    let good = write(
        &fx.dir.path().join("in/good.csv"),
        printed_text().as_bytes(),
    );
    let opts = IngestOptions {
        skip_bad_files: true,
        ..Default::default()
    };
    let report = fx.ingest_with(&[page.clone(), good], &opts);
    assert!(report.committed);
    let reason = refusal(&report.files[0].status);
    assert!(
        reason.starts_with(&format!("{} line 12: 本页合计 (page total) of 支出金额 (expense) is 0.00, but the lines of its page (since the previous page total) add up to 20.00", page.display())),
        "{reason}"
    );
    assert_eq!(report.files[1].new, 4);
    assert_eq!(
        fx.one(&format!(
            "SELECT count(*) FROM bank_statement WHERE _file = '{}'",
            page.display()
        )),
        "0"
    );
    assert_eq!(fx.one("SELECT count(*) FROM bank_statement"), "4");
}

/// A balance that does not follow from the line before refuses the file, naming the
/// line, the balance found and the one expected.
#[test]
fn a_broken_running_balance_refuses_the_file() {
    let fx = Fixture::new();
    let good = write(
        &fx.dir.path().join("in/good.csv"),
        printed_text().as_bytes(),
    );
    fx.ingest(&[good]);
    let before = fx.snapshot();
    for (name, encoding) in [("broken.csv", "utf8"), ("broken.xlsx", "xlsx")] {
        let text = printed_text().replace(",,20.00,171214.56", ",,20.00,171204.56");
        let path = fx.dir.path().join("in").join(name);
        let path = if encoding == "xlsx" {
            as_xlsx(&text, &path)
        } else {
            write(&path, text.as_bytes())
        };
        let report = fx.ingest(&[path.clone()]);
        assert!(!report.committed);
        assert_eq!(fx.snapshot(), before, "the warehouse is unchanged");
        let place = if encoding == "xlsx" {
            ("sheet 对账单, row 11", "sheet 对账单, row 10")
        } else {
            ("line 11", "line 10")
        };
        assert_eq!(
            refusal(&report.files[0].status),
            format!(
                "{} {}: the running balance breaks (余额不连续): 余额 (balance) is 171204.56, but \
                 171234.56 (the balance of {}) + 收入金额 (income) 0.00 − 支出金额 (expense) 20.00 \
                 = 171214.56; the file is refused, nothing from it is stored",
                path.display(),
                place.0,
                place.1
            )
        );
    }
    assert_eq!(fx.snapshot(), before, "the warehouse is unchanged");
}

/// A statement whose lines carry their own account number: a line of another
/// account than the title's is quarantined with the reason and its line; a line
/// with both income and expense filled is quarantined too (and still counts in the
/// totals and the running balance, which the bank printed with it).
#[test]
fn lines_against_the_title_or_with_both_amounts_are_quarantined() {
    let fx = Fixture::new();
    let text = "账户对账单\n\
        账号：622848001234567890  户名：某某县社保基金收入户\n\
        起止日期：2026/9/1—2026/9/30\n\
        账号,交易日期,流水号,借方发生额,贷方发生额,余额,摘要\n\
        622848001234567890,2026-09-02,R1,,500.00,10500.00,代扣保费\n\
        622848009999999999,2026-09-03,R2,,300.00,10800.00,代扣保费\n\
        622848001234567890,2026-09-04,R3,100.00,50.00,10750.00,冲正\n\
        ,2026-09-05,R4,200.00,,10550.00,退费\n\
        合计,,,300.00,850.00,\n";
    let path = write(&fx.dir.path().join("in/收入户.csv"), text.as_bytes());
    let report = fx.ingest(&[path]);
    let f = &report.files[0];
    assert!(report.committed, "{:?}", f.status);
    assert_eq!(
        (f.rows_read, f.accepted, f.quarantined),
        (4, 2, 2),
        "{:?}",
        f.first_reasons
    );
    assert_eq!(
        fx.rows("SELECT line, reason_codes FROM quarantine ORDER BY line"),
        vec![
            vec!["6".to_string(), "TITLE_MISMATCH".into()],
            vec!["7".to_string(), "ONE_OF".into()],
        ]
    );
    assert_eq!(
        fx.one("SELECT reasons FROM quarantine WHERE line = 6"),
        "账号 (account_no) `622848009999999999` is not the title block's 账号 \
         `622848001234567890` (line 2); this line is not of the account the statement is for"
    );
    assert_eq!(
        fx.one("SELECT reasons FROM quarantine WHERE line = 7"),
        "收入金额 (income) 50.00 and 支出金额 (expense) 100.00 are filled; exactly one of \
         收入金额 (income) / 支出金额 (expense) may be > 0, the other empty or 0 (收支只能填写一项)"
    );
    // Line 8 has no account number of its own: the title's.
    assert_eq!(
        fx.rows("SELECT _line, account_no, bank_ref, CAST(period_from AS VARCHAR), CAST(period_to AS VARCHAR) FROM bank_statement ORDER BY _line"),
        vec![
            vec!["5".to_string(), "622848001234567890".into(), "R1".into(), "2026-09-01".into(), "2026-09-30".into()],
            vec!["8".to_string(), "622848001234567890".into(), "R4".into(), "2026-09-01".into(), "2026-09-30".into()],
        ]
    );
}

/// A statement without a title block is a plain table (header on line 1, no period);
/// a kind without a layout still takes its header from the first row only.
#[test]
fn a_statement_without_title_block_is_a_plain_table() {
    let fx = Fixture::new();
    let text = "账号,交易日期,交易流水号,收入金额,支出金额,余额\n\
                622848001234567890,2026-09-02,R1,500.00,,10500.00\n";
    let path = write(&fx.dir.path().join("in/plain.csv"), text.as_bytes());
    // A payout file with a line above its header is not read below it.
    let payout = write(
        &fx.dir.path().join("in/payout.csv"),
        "发放明细\n发放编号,个人编号\n".as_bytes(),
    );
    let opts = IngestOptions {
        skip_bad_files: true,
        ..Default::default()
    };
    let report = fx.ingest_with(&[path, payout], &opts);
    assert!(report.committed);
    assert_eq!(report.files[0].rows_read, 1);
    assert!(report.files[0].facts.is_empty());
    assert_eq!(
        fx.rows("SELECT _line, coalesce(CAST(period_from AS VARCHAR), '-') FROM bank_statement"),
        vec![vec!["2".to_string(), "-".into()]]
    );
    assert!(
        refusal(&report.files[1].status).contains("header on line 1"),
        "{:?}",
        report.files[1].status
    );
}

/// With the kind named (`--kind bank_statement`) the header is looked for below the
/// title block the same way.
#[test]
fn a_named_kind_finds_its_header_below_the_title_block() {
    let fx = Fixture::new();
    let path = write(
        &fx.dir.path().join("in/statement.csv"),
        printed_text().as_bytes(),
    );
    let opts = IngestOptions {
        kind: Some("bank_statement".into()),
        ..Default::default()
    };
    let report = fx.ingest_with(&[path], &opts);
    assert!(report.committed, "{:?}", report.files[0].status);
    assert_eq!(fx.rows(STORED), expected_rows());
}
