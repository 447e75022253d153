//! Every input kind, in both header languages, in UTF-8 (with and without BOM),
//! GB18030 and XLSX, recognised from its header and stored with exact types.

use std::path::PathBuf;

use pension::ingest::FileStatus;
use pension::schema::{ColType, Column, Schema};

use crate::common::{write, Fixture};

const ID: &str = "11010519491231002X";

/// A valid cell for a column, in the `variant`-th accepted spelling, plus the
/// value DuckDB should then hold (as CSV text).
fn cell(col: &Column, zh: bool, variant: usize, schema: &Schema) -> (String, String) {
    let pick = |opts: &[&str]| opts[variant % opts.len()].to_string();
    // Key text differs per row, so that each row is its own record (the same key
    // with other values in one file would be a DUPLICATE_KEY); rows of a kind keyed
    // by ID number alone are the same record in four spellings (stored once).
    let key = schema.identity.key.contains(&col.name);
    let n = if key {
        variant.to_string()
    } else {
        String::new()
    };
    match col.ty {
        ColType::String => (format!("东风村 三组{n}"), format!("东风村 三组{n}")),
        ColType::Name => ("欧阳 娜".into(), "欧阳 娜".into()),
        ColType::Code => (
            format!("6228 4800 0000 0000 017{n}"),
            format!("6228480000000000017{n}"),
        ),
        ColType::IdNumber => (
            pick(&[ID, "11010519491231002x", "110105491231002"]),
            ID.into(),
        ),
        ColType::Date => (
            pick(&["2024-03-05", "2024/3/5", "20240305", "2024年3月5日"]),
            "2024-03-05".into(),
        ),
        ColType::Month => (
            pick(&["2024-03", "202403", "2024年3月"]),
            "2024-03-01".into(),
        ),
        ColType::Money => {
            // A running balance (a printed bank statement's 余额) goes up by the
            // line's 100.25 from row to row; of an exactly-one-of pair, the first
            // is filled and the others left empty.
            if let Some(layout) = &schema.layout {
                if layout
                    .running
                    .as_ref()
                    .is_some_and(|r| r.balance == col.name)
                {
                    let fen = 10025 * (variant as i64 + 1);
                    let text = format!("{}.{:02}", fen / 100, fen % 100);
                    return (text.clone(), text);
                }
            }
            let later_of_one = schema
                .rules
                .iter()
                .any(|r| r.one_of.iter().skip(1).any(|n| n == &col.name));
            if later_of_one {
                return (String::new(), String::new());
            }
            // A sum rule's total must equal its parts: parts 100.25 each.
            let parts = schema
                .rules
                .iter()
                .find(|r| r.sum.as_deref() == Some(&col.name))
                .map(|r| r.of.len());
            match parts {
                Some(n) => {
                    let fen = 10025 * n as i64;
                    (
                        format!("{}.{:02}", fen / 100, fen % 100),
                        format!("{}.{:02}", fen / 100, fen % 100),
                    )
                }
                None => (pick(&["100.25", "¥100.25", "￥100.25"]), "100.25".into()),
            }
        }
        ColType::Rate => ("1.50".into(), "1.5000".into()),
        ColType::Integer => {
            let y = (2020 + variant % 4).to_string();
            (y.clone(), y)
        }
        ColType::Bool => (if zh { "是" } else { "Y" }.into(), "true".into()),
        ColType::Enum => {
            let (k, code) = col.values.iter().next().expect("enum values");
            (if zh { k.clone() } else { code.clone() }, code.clone())
        }
        ColType::ColumnOf => (
            if zh { "姓名".into() } else { "name".into() },
            "name".into(),
        ),
    }
}

struct Variant {
    zh: bool,
    encoding: &'static str,
}

const VARIANTS: [Variant; 6] = [
    Variant {
        zh: true,
        encoding: "utf8",
    },
    Variant {
        zh: true,
        encoding: "utf8-bom",
    },
    Variant {
        zh: true,
        encoding: "gb18030",
    },
    Variant {
        zh: false,
        encoding: "utf8",
    },
    Variant {
        zh: false,
        encoding: "gb18030",
    },
    Variant {
        zh: true,
        encoding: "xlsx",
    },
];

fn header(schema: &Schema, zh: bool) -> Vec<String> {
    // Reverse order, and mixed case/spacing for English names: order and case do not matter.
    schema
        .columns
        .iter()
        .rev()
        .map(|c| {
            if zh {
                c.zh.clone()
            } else {
                format!(" {} ", c.name.to_uppercase())
            }
        })
        .collect()
}

fn csv_text(rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn write_variant(
    dir: &std::path::Path,
    place: usize,
    v: &Variant,
    rows: &[Vec<String>],
) -> PathBuf {
    let lang = if v.zh { "zh" } else { "en" };
    // File names say nothing of the kind: it must be recognised from the header.
    // (A number from the kind's place in the catalogue: one from its name's length
    // and its column count was the same for certification and fiscal_notice.)
    let stem = format!("file-{:03}-{lang}-{}", place * 37 % 1000, v.encoding);
    match v.encoding {
        "xlsx" => {
            let path = dir.join(format!("{stem}.xlsx"));
            std::fs::create_dir_all(dir).unwrap();
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            for (r, row) in rows.iter().enumerate() {
                for (c, text) in row.iter().enumerate() {
                    sheet.write_string(r as u32, c as u16, text).unwrap();
                }
            }
            book.save(&path).unwrap();
            path
        }
        enc => {
            let text = csv_text(rows);
            let bytes = match enc {
                "utf8" => text.into_bytes(),
                "utf8-bom" => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                _ => encoding_rs::GB18030.encode(&text).0.into_owned(),
            };
            write(&dir.join(format!("{stem}.csv")), &bytes)
        }
    }
}

/// Each variant (header language × encoding or container) in a warehouse of its own:
/// in one warehouse, a later file with the same records would be a re-send (stored
/// once) and a later snapshot would replace the earlier one.
#[test]
fn every_kind_every_language_every_encoding() {
    for vi in 0..VARIANTS.len() {
        every_kind_in_variant(vi);
    }
}

fn every_kind_in_variant(vi: usize) {
    let fx = Fixture::new();
    let input = fx.dir.path().join("in");
    let mut expected = Vec::new();
    for (place, schema) in fx.catalog.schemas.iter().enumerate() {
        {
            let v = &VARIANTS[vi];
            let mut rows = vec![header(schema, v.zh)];
            let mut want = Vec::new();
            for variant in 0..4 {
                let cells: Vec<(String, String)> = schema
                    .columns
                    .iter()
                    .rev()
                    .map(|c| cell(c, v.zh, variant + vi, schema))
                    .collect();
                rows.push(cells.iter().map(|c| c.0.clone()).collect());
                want.push(cells.iter().map(|c| c.1.clone()).rev().collect::<Vec<_>>());
            }
            let path = write_variant(&input, place, v, &rows);
            // Pure-ASCII text is the same bytes in every encoding: it reads as UTF-8.
            let ascii = rows.iter().flatten().all(|c| c.is_ascii());
            let encoding = if ascii && v.encoding == "gb18030" {
                "utf8"
            } else {
                v.encoding
            };
            expected.push((schema.kind.clone(), path, want, encoding));
        }
    }
    let report = fx.ingest(&[input]);
    for f in &report.files {
        assert!(
            matches!(f.status, FileStatus::Ingested { .. }),
            "{}: {:?}",
            f.source.display(),
            f.status
        );
    }
    assert!(report.committed);
    let db = fx.session();
    for (kind, path, want, encoding) in expected {
        let f = report
            .files
            .iter()
            .find(|f| f.source == path)
            .expect("reported");
        assert_eq!(
            f.kind.as_deref(),
            Some(kind.as_str()),
            "{} recognised as {:?}",
            path.display(),
            f.kind
        );
        assert_eq!(
            (f.rows_read, f.accepted, f.quarantined),
            (4, 4, 0),
            "{}: {:?}",
            path.display(),
            f.first_reasons
        );
        assert_eq!(f.encoding.as_deref(), Some(encoding), "{}", path.display());
        let schema = fx.catalog.get(&kind).unwrap();
        let cols: Vec<String> = schema
            .columns
            .iter()
            .map(|c| format!("CAST(\"{}\" AS VARCHAR)", c.name))
            .collect();
        let table = kind.clone();
        let got = db.rows(&format!(
            "SELECT {} FROM {table} WHERE _file = '{}' ORDER BY _line",
            cols.join(", "),
            path.display()
        ));
        // A row repeating an earlier row of the file exactly is one record.
        let mut want = want;
        let mut seen = std::collections::HashSet::new();
        want.retain(|r| seen.insert(r.clone()));
        assert_eq!(got, want, "{kind} from {}", path.display());
    }
    // Money is DECIMAL(18,2) and dates are DATE in the warehouse, never floats or text.
    let types = db.rows("SELECT column_name, column_type FROM (DESCRIBE payout) WHERE column_name IN ('total_amount', 'month', 'paid_date') ORDER BY 1");
    assert_eq!(
        types,
        vec![
            vec!["month".to_string(), "DATE".into()],
            vec!["paid_date".into(), "DATE".into()],
            vec!["total_amount".into(), "DECIMAL(18,2)".into()],
        ]
    );
    // The legacy 15-digit form is kept beside the upgraded number.
    if vi == 0 {
        let legacy =
            db.rows("SELECT count(*) FROM enrollment WHERE id_number_legacy15 = '110105491231002'");
        assert_ne!(legacy[0][0], "0");
    }
}

#[test]
fn extra_columns_are_kept_aside_and_reported() {
    let fx = Fixture::new();
    let path = write(
        &fx.dir.path().join("in/std.csv"),
        "起始年月,月标准,备注\n2024-01,123.00,省级提标\n".as_bytes(),
    );
    let report = fx.ingest(&[path]);
    assert_eq!(report.files[0].extra_columns, vec!["备注".to_string()]);
    assert_eq!(
        fx.one("SELECT _extra FROM basic_pension_standard"),
        r#"{"备注":"省级提标"}"#
    );
}

#[test]
fn xlsx_with_native_date_and_number_cells() {
    let fx = Fixture::new();
    let path = fx.dir.path().join("in/发放.xlsx");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date_fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let header = [
        "发放流水号",
        "个人编号",
        "公民身份号码",
        "姓名",
        "发放年月",
        "基础养老金",
        "个人账户养老金",
        "发放合计",
        "银行账号",
        "发放日期",
        "发放状态",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let month = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 3, 1).unwrap();
    let paid = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 3, 10).unwrap();
    sheet.write_string(1, 0, "P1").unwrap();
    sheet.write_string(1, 1, "411725000001").unwrap();
    sheet.write_string(1, 2, ID).unwrap();
    sheet.write_string(1, 3, "王芳").unwrap();
    sheet
        .write_datetime_with_format(1, 4, &month, &date_fmt)
        .unwrap();
    sheet.write_number(1, 5, 123.0).unwrap();
    sheet.write_number(1, 6, 45.67).unwrap();
    sheet.write_number(1, 7, 168.67).unwrap();
    sheet.write_string(1, 8, "6228480000000000017").unwrap();
    sheet
        .write_datetime_with_format(1, 9, &paid, &date_fmt)
        .unwrap();
    sheet.write_string(1, 10, "成功").unwrap();
    book.save(&path).unwrap();
    let report = fx.ingest(&[path]);
    assert_eq!(
        (report.files[0].accepted, report.files[0].quarantined),
        (1, 0),
        "{:?}",
        report.files[0]
    );
    let got = fx.rows("SELECT CAST(month AS VARCHAR), CAST(basic_amount AS VARCHAR), CAST(account_amount AS VARCHAR), CAST(total_amount AS VARCHAR), CAST(paid_date AS VARCHAR), _line FROM payout");
    assert_eq!(
        got,
        vec![
            vec!["2024-03-01", "123.00", "45.67", "168.67", "2024-03-10", "2"]
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        ]
    );
}
