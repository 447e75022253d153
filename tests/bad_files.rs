//! The hand-made bad files in data-samples/bad: right reason, right line,
//! nothing else lost.

use pension::ingest::{FileStatus, IngestOptions};

use crate::common::{samples, Fixture};

fn bad(name: &str) -> std::path::PathBuf {
    samples().join("bad").join(name)
}

#[test]
fn garbage_rows_are_quarantined_with_line_and_reason() {
    let fx = Fixture::new();
    let report = fx.ingest(&[bad("payout_garbage_rows.csv")]);
    let f = &report.files[0];
    assert_eq!(f.kind.as_deref(), Some("payout"));
    assert_eq!(
        (f.rows_read, f.accepted, f.quarantined, f.flagged),
        (12, 3, 9, 1)
    );
    let q = fx.rows("SELECT line, reason_codes FROM quarantine ORDER BY line");
    let expect: Vec<(&str, &str)> = vec![
        ("3", "SUM_MISMATCH"),
        ("4", "BAD_MONTH"),
        ("5", "NEGATIVE_MONEY"),
        ("6", "BAD_DATE"),
        ("7", "BAD_ENUM"),
        ("8", "MISSING_VALUE"),
        ("9", "FIELD_COUNT,MISSING_VALUE"),
        ("10", "BAD_MONEY"),
        ("11", "BAD_MONEY"),
    ];
    let got: Vec<(String, String)> = q
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let expect: Vec<(String, String)> = expect
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, expect);
    // Messages name the column in Chinese and English, and the value.
    let msg = fx.one("SELECT reasons FROM quarantine WHERE line = 3");
    assert!(msg.contains("发放合计 (total_amount) 169.67 ≠ 基础养老金 (basic_amount) 123.00 + 个人账户养老金 (account_amount) 45.67"), "{msg}");
    let msg = fx.one("SELECT reasons FROM quarantine WHERE line = 11");
    assert!(
        msg.contains("`123.001`") && msg.contains("at most 2 decimals"),
        "{msg}"
    );
    // The raw text is kept for the person who fixes the file.
    assert!(fx
        .one("SELECT raw FROM quarantine WHERE line = 7")
        .contains("已发"));
    // Line 12: malformed ID accepted and flagged; line 13: 15-digit ID upgraded, ¥ and thousands parsed.
    let rows = fx.rows("SELECT _line, id_number, id_number_legacy15, CAST(total_amount AS VARCHAR), CAST(paid_date AS VARCHAR), _flags IS NOT NULL FROM payout ORDER BY _line");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][0], "12");
    assert_eq!(rows[1][5], "true");
    assert_eq!(rows[2][0], "13");
    assert_eq!(rows[2][1].len(), 18);
    assert_eq!(rows[2][2].len(), 15);
    assert_eq!(rows[2][3], "1168.67");
    assert_eq!(rows[2][4], "2026-10-10");
    let flag = fx.one("SELECT _flags FROM payout WHERE _line = 12");
    assert!(
        flag.starts_with("ID_INVALID") && flag.contains("校验码"),
        "{flag}"
    );
}

#[test]
fn registry_rows_with_bad_ids_are_quarantined_and_mixed_encodings_read() {
    let fx = Fixture::new();
    let report = fx.ingest(&[bad("death_record_mixed_encoding.csv")]);
    let f = &report.files[0];
    assert_eq!(f.kind.as_deref(), Some("death_record"));
    assert_eq!(f.encoding.as_deref(), Some("mixed"));
    assert_eq!((f.rows_read, f.accepted, f.quarantined), (5, 2, 3));
    let names = fx.rows("SELECT name FROM death_record ORDER BY _line");
    assert_eq!(
        names,
        vec![vec!["郑秀兰".to_string()], vec!["韩桂芝".to_string()]]
    );
    let q = fx.rows("SELECT line, reason_codes FROM quarantine ORDER BY line");
    assert_eq!(q[0], vec!["3".to_string(), "BAD_ID".into()]);
    assert_eq!(q[1], vec!["5".to_string(), "DATE_ORDER".into()]);
    assert_eq!(q[2][0], "6");
    assert!(
        q[2][1].contains("ENCODING") && q[2][1].contains("FIELD_COUNT"),
        "{:?}",
        q[2]
    );
}

#[test]
fn unreadable_files_are_refused_by_name_and_nothing_is_stored() {
    let fx = Fixture::new();
    let files = [
        bad("enrollment_missing_column.csv"),
        bad("payout_utf16.csv"),
        bad("notes_not_a_table.txt"),
        bad("payout_garbage_rows.csv"),
    ];
    let report = fx.ingest(&files);
    assert!(
        !report.committed,
        "strict mode stores nothing when a file is refused"
    );
    let reason = |i: usize| match &report.files[i].status {
        FileStatus::Refused(r) => r.clone(),
        other => panic!("{} not refused: {other:?}", files[i].display()),
    };
    assert!(
        reason(0).contains("enrollment_missing_column.csv")
            && reason(0).contains("性别 (sex)")
            && reason(0).contains("出生日期 (birth_date)"),
        "{}",
        reason(0)
    );
    assert!(reason(1).contains("UTF-16"), "{}", reason(1));
    assert!(
        reason(2).contains("no recognisable header"),
        "{}",
        reason(2)
    );
    assert_eq!(fx.one("SELECT count(*) FROM payout"), "0");
    assert!(!fx.wh_dir().join("manifest.json").exists());

    // With --skip-bad-files the readable file is stored and the refusals recorded.
    let opts = IngestOptions {
        skip_bad_files: true,
        ..Default::default()
    };
    let report = fx.ingest_with(&files, &opts);
    assert!(report.committed);
    assert_eq!(report.refused().count(), 3);
    assert_eq!(fx.one("SELECT count(*) FROM payout"), "3");
    let wh = pension::warehouse::Warehouse::open_read(&fx.wh_dir()).unwrap();
    assert_eq!(wh.manifest().runs[0].refused.len(), 3);
}

/// The remaining rules, one small file each: the reason code and the line.
#[test]
fn every_other_rule_names_its_reason() {
    let fx = Fixture::new();
    let id = "11010519491231002X";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "contribution.csv",
            format!("流水号,个人编号,公民身份号码,缴费年度,缴费金额,缴费类型,缴费方式,收据号,缴费日期,扣款状态\nV1,P1,{id},2024,200.00,正常缴费,收款收据,,2024-03-05,成功\nV2,P1,{id},2024,200.00,正常缴费,收款收据,R77,2024-03-05,成功\n"),
            "REQUIRED_IF",
        ),
        (
            "enrollment.csv",
            format!("个人编号,公民身份号码,姓名,性别,出生日期,户籍性质,乡镇(街道),村(居),参保日期,缴费档次,银行账号,三方协议\nP2,{id},王芳,女,1949-12-31,农业,竹沟镇,竹沟村,2015-03-01,200,62284800001,可能\n"),
            "BAD_BOOL",
        ),
        (
            "tier.csv",
            "缴费档次,补贴金额\n二百,30.00\n".to_string(),
            "BAD_NUMBER",
        ),
        (
            "rate.csv",
            "年度,利率\n2024,百分之二\n".to_string(),
            "BAD_RATE",
        ),
        (
            "inmate.csv",
            "公民身份号码,姓名,入监日期,释放日期\n41172519560701123,张三,2020-01-01,\n".to_string(),
            "BAD_ID",
        ),
    ];
    for (name, text, _code) in &cases {
        let path = crate::common::write(&fx.dir.path().join("in").join(name), text.as_bytes());
        let report = fx.ingest(&[path]);
        let f = &report.files[0];
        assert_eq!(f.rows_read, f.accepted + f.quarantined, "{name}");
        assert_eq!(f.quarantined, 1, "{name}: {:?}", f.first_reasons);
        assert!(
            f.first_reasons[0].starts_with("line 2:"),
            "{name}: {:?}",
            f.first_reasons
        );
    }
    let codes = fx.rows("SELECT reason_codes FROM quarantine ORDER BY _file_seq");
    let got: Vec<&str> = codes.iter().map(|r| r[0].as_str()).collect();
    let want: Vec<&str> = cases.iter().map(|c| c.2).collect();
    assert_eq!(got, want);
}

/// `(sheet, line, reason_codes)` of every quarantined row, in line order.
fn quarantine_places(fx: &Fixture) -> Vec<(String, String, String)> {
    fx.rows("SELECT coalesce(sheet, '-'), line, reason_codes FROM quarantine ORDER BY line")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect()
}

fn places(want: &[(&str, u64, &str)]) -> Vec<(String, String, String)> {
    want.iter()
        .map(|(s, l, c)| (s.to_string(), l.to_string(), c.to_string()))
        .collect()
}

/// Lines as an editor shows them, in a file saved by Excel (CRLF), with remarks
/// whose quoted text holds line breaks and a blank line: the header is line 1, a
/// record is numbered by the line it starts on, and every later one moves down.
#[test]
fn rows_are_numbered_by_the_physical_line_they_start_on() {
    let fx = Fixture::new();
    let report = fx.ingest(&[bad("payout_crlf_multiline.csv")]);
    let f = &report.files[0];
    assert_eq!(f.kind.as_deref(), Some("payout"));
    assert_eq!((f.rows_read, f.accepted, f.quarantined), (6, 3, 3));
    assert_eq!(
        quarantine_places(&fx),
        places(&[
            ("-", 5, "SUM_MISMATCH"),
            ("-", 7, "BAD_DATE"),
            ("-", 8, "BAD_ENUM")
        ])
    );
    // The record on lines 8-10 is kept whole, line breaks included.
    let raw = fx.one("SELECT raw FROM quarantine WHERE line = 8");
    assert!(
        raw.starts_with("CRL000005,") && raw.contains("银行卡挂失\n待补发"),
        "{raw}"
    );
    let stored = fx.rows("SELECT _line, payout_no FROM payout ORDER BY _line");
    assert_eq!(
        stored,
        vec![
            vec!["2".to_string(), "CRL000001".into()],
            vec!["3".to_string(), "CRL000002".into()],
            vec!["11".to_string(), "CRL000006".into()],
        ]
    );
    assert!(
        f.first_reasons[0].starts_with("line 5: "),
        "{:?}",
        f.first_reasons
    );
}

/// A workbook's rows are the row numbers Excel shows, on the named sheet (here the
/// header is on row 2 and row 4 is empty); an ID number the sheet stored as a
/// number has lost its last digits even though what is left passes the checks.
#[test]
fn workbook_rows_are_named_by_sheet_and_excel_row_number() {
    let fx = Fixture::new();
    let report = fx.ingest(&[bad("payout_sheet_rows.xlsx")]);
    let f = &report.files[0];
    assert_eq!(f.kind.as_deref(), Some("payout"));
    assert_eq!(
        (f.rows_read, f.accepted, f.quarantined, f.flagged),
        (3, 2, 1, 1)
    );
    assert_eq!(
        quarantine_places(&fx),
        places(&[("发放明细", 5, "SUM_MISMATCH")])
    );
    assert!(
        f.first_reasons[0].starts_with("sheet 发放明细, row 5: 发放合计 (total_amount) 170.00 ≠"),
        "{:?}",
        f.first_reasons
    );
    let stored =
        fx.rows("SELECT _line, id_number, coalesce(_flags, '-') FROM payout ORDER BY _line");
    assert_eq!(stored.len(), 2);
    assert_eq!((stored[0][0].as_str(), stored[0][2].as_str()), ("3", "-"));
    assert_eq!(stored[1][0], "6");
    assert_eq!(
        stored[1][1], "411725195503120000",
        "kept as read, for matching"
    );
    assert_eq!(
        stored[1][2],
        "ID_INVALID: 公民身份号码 (id_number) `411725195503120000` is not the whole number: \
         Excel stored this ID number as a number and lost its last digits; re-export the \
         column as text (设为文本格式后重新导出)"
    );
}

/// A comma is a thousands separator only between groups of three digits; `12,34` is
/// refused with the reason, never read as 1234.
#[test]
fn commas_in_amounts_must_separate_thousands() {
    let fx = Fixture::new();
    let report = fx.ingest(&[bad("payout_comma_amounts.csv")]);
    let f = &report.files[0];
    assert_eq!((f.rows_read, f.accepted, f.quarantined), (5, 3, 2));
    assert_eq!(
        quarantine_places(&fx),
        places(&[("-", 3, "BAD_MONEY"), ("-", 4, "BAD_MONEY")])
    );
    assert_eq!(
        fx.one("SELECT reasons FROM quarantine WHERE line = 3"),
        "基础养老金 (basic_amount): `12,34`: the comma is not a thousands separator (those \
         stand between groups of three digits, as in 1,234.50); if it is a decimal comma, \
         write 12.34"
    );
    assert_eq!(
        fx.one("SELECT reasons FROM quarantine WHERE line = 4"),
        "基础养老金 (basic_amount): `1,2345.00`: a comma separates thousands only between \
         groups of three digits (1,234.50 or 12,345); these commas do not"
    );
    let amounts = fx.rows(
        "SELECT _line, CAST(basic_amount AS VARCHAR), CAST(total_amount AS VARCHAR) FROM payout ORDER BY _line",
    );
    let want = [
        ["2", "1045.00", "1168.67"],
        ["5", "12000.00", "12345.00"],
        ["6", "1045.00", "1168.67"],
    ];
    assert_eq!(amounts, want.map(|r| r.map(String::from).to_vec()).to_vec());
}

/// An ID number that went through a numeric Excel column (`4.11725E+17`, or its
/// last digits turned to zeros) is named as such: on a business record the row is
/// kept and flagged, in a register it is quarantined — both with that reason.
#[test]
fn id_numbers_excel_stored_as_numbers_are_named_as_such() {
    let excel = "is not the whole number: Excel stored this ID number as a number and lost \
                 its last digits; re-export the column as text (设为文本格式后重新导出)";
    let fx = Fixture::new();
    let report = fx.ingest(&[bad("payout_id_stored_as_number.csv")]);
    let f = &report.files[0];
    assert_eq!(
        (f.rows_read, f.accepted, f.quarantined, f.flagged),
        (3, 3, 0, 3)
    );
    let flags = fx.rows("SELECT _line, _flags FROM payout ORDER BY _line");
    let label = "ID_INVALID: 公民身份号码 (id_number)";
    assert_eq!(
        flags[0],
        vec!["2".to_string(), format!("{label} `4.11725E+17` {excel}")]
    );
    assert_eq!(
        flags[1],
        vec![
            "3".to_string(),
            format!("{label} `411725194805060000` {excel}")
        ]
    );
    // An ordinary typo keeps its ordinary reason.
    assert_eq!(
        flags[2],
        vec![
            "4".to_string(),
            format!("{label} `411725195503123114` check character is 4, expected 3 (校验码错误)")
        ]
    );

    let fx = Fixture::new();
    let report = fx.ingest(&[bad("inmate_id_stored_as_number.csv")]);
    let f = &report.files[0];
    assert_eq!(f.kind.as_deref(), Some("inmate"));
    assert_eq!((f.rows_read, f.accepted, f.quarantined), (2, 1, 1));
    assert_eq!(quarantine_places(&fx), places(&[("-", 2, "BAD_ID")]));
    assert_eq!(
        fx.one("SELECT reasons FROM quarantine"),
        format!("公民身份号码 (id_number) `4.11725E+17` {excel}")
    );
}
