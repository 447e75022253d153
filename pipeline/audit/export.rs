//! Exports for field verification: an XLSX workbook (a summary sheet, then one sheet
//! per check with Chinese headers, the persons' village and contact details, and
//! amount totals) and a CSV of all findings (UTF-8 with BOM, for Excel).
//!
//! The person is named in the ID number and bank account columns, which field
//! verification needs whole; the evidence text is masked (pipeline/mask.sql) so
//! that numbers quoted in it — a legacy 15-digit form, another person's number, an
//! account — are not repeated whole in a file that gets forwarded and pasted.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use duckdb::Connection;
use rust_xlsxwriter::{Format, Formula, Workbook, XlsxError};

use super::catalogue::CHECKS;
use super::{io_err, AuditError};

/// One exported finding, every field as text.
struct Row {
    code: String,
    cells: Vec<Option<String>>,
}

/// (column name in the CSV, Chinese header, width).
const COLUMNS: &[(&str, &str, f64)] = &[
    ("finding_id", "稽核编号", 18.0),
    ("severity", "严重程度", 9.0),
    ("person_no", "个人编号", 18.0),
    ("id_number", "公民身份号码", 20.0),
    ("name", "姓名", 10.0),
    ("township", "乡镇(街道)", 11.0),
    ("village", "村(居)", 10.0),
    ("phone", "联系电话", 13.0),
    ("address", "居住地址", 26.0),
    ("bank_account", "银行账号", 21.0),
    ("month_from", "起始年月", 9.0),
    ("month_to", "终止年月", 9.0),
    ("amount_at_risk", "涉及金额(元)", 13.0),
    ("evidence", "疑点依据", 70.0),
    ("status", "状态", 9.0),
    ("first_seen", "首次发现", 9.0),
    ("last_seen", "最近发现", 9.0),
    ("in_latest_audit", "本次仍发现", 9.0),
    ("verification", "核查情况(现场填写)", 24.0),
];
const AMOUNT_COL: usize = 12;
const STATUS_COL: usize = 14;
/// "true" when this run produced the finding; "false" for one kept from an earlier
/// run (closed, or its status kept): shown, never counted in this run's totals.
const LATEST_COL: usize = 17;

fn status_zh(s: &str) -> &str {
    match s {
        "open" => "待核查",
        "confirmed" => "已确认",
        "dismissed" => "已排除",
        "recovered" => "已追回",
        "closed" => "已消除",
        other => other,
    }
}

fn severity_zh(s: &str) -> &str {
    match s {
        "high" => "高",
        "medium" => "中",
        "low" => "低",
        other => other,
    }
}

fn load(conn: &Connection) -> Result<Vec<Row>, AuditError> {
    crate::mask::install(conn)?;
    let mut stmt = conn.prepare(
        "SELECT f.check_code, f.finding_id, f.severity, f.person_no, f.id_number, f.name, f.township, f.village,
                p.phone, p.address, p.bank_account, strftime(f.month_from, '%Y-%m'), strftime(f.month_to, '%Y-%m'),
                f.amount_at_risk::VARCHAR, masked_text(f.evidence), f.status, strftime(f.first_seen, '%Y-%m'),
                strftime(f.last_seen, '%Y-%m'), f.in_latest_audit::VARCHAR
         FROM (SELECT * FROM a_final UNION ALL BY NAME SELECT * FROM a_kept) f
         LEFT JOIN a_person p ON p.person_no = f.person_no
         ORDER BY f.check_code, f.in_latest_audit DESC, f.township NULLS LAST, f.village NULLS LAST,
                  f.person_no NULLS LAST, f.subject",
    )?;
    let rows = stmt.query_map([], |r| {
        let mut cells = Vec::with_capacity(COLUMNS.len());
        for i in 1..19 {
            cells.push(r.get::<_, Option<String>>(i)?);
        }
        cells.push(None);
        Ok(Row {
            code: r.get(0)?,
            cells,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn latest(r: &Row) -> bool {
    r.cells[LATEST_COL].as_deref() == Some("true")
}

fn xerr(path: &Path) -> impl Fn(XlsxError) -> AuditError + '_ {
    move |e| AuditError::Xlsx {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn sheet_name(code: &str, zh: &str) -> String {
    let name = format!("{code} {zh}");
    name.chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

fn workbook(rows: &[Row], month: NaiveDate, path: &Path) -> Result<(), AuditError> {
    let e = xerr(path);
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_text_wrap();
    let money = Format::new().set_num_format("#,##0.00");
    let money_bold = Format::new().set_num_format("#,##0.00").set_bold();
    let wrap = Format::new().set_text_wrap();
    // Amounts are summed exactly; only the finished figure becomes an Excel number.
    let amount = |r: &Row| {
        r.cells[AMOUNT_COL]
            .as_deref()
            .and_then(|s| s.parse::<rust_decimal::Decimal>().ok())
    };
    {
        let ws = wb.add_worksheet();
        ws.set_name("汇总").map_err(&e)?;
        ws.write_string_with_format(
            0,
            0,
            format!("稽核结果汇总 {}", month.format("%Y年%m月")),
            &bold,
        )
        .map_err(&e)?;
        let heads = [
            "稽核代码",
            "稽核项目",
            "严重程度",
            "疑点数",
            "涉及人数",
            "涉及金额(元)",
            "待核查",
            "已确认",
            "已排除",
            "已追回",
            "已消除",
            "未再发现·状态保留",
        ];
        for (c, h) in heads.iter().enumerate() {
            ws.write_string_with_format(2, c as u16, *h, &head)
                .map_err(&e)?;
        }
        let widths = [
            22.0, 26.0, 9.0, 9.0, 9.0, 15.0, 9.0, 9.0, 9.0, 9.0, 9.0, 12.0,
        ];
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, *w).map_err(&e)?;
        }
        let mut r = 3u32;
        let (mut n_all, mut amt_all) = (0usize, rust_decimal::Decimal::ZERO);
        for check in CHECKS {
            // This run's findings; those kept from earlier runs are counted apart.
            let all: Vec<&Row> = rows.iter().filter(|x| x.code == check.code).collect();
            let mine: Vec<&Row> = all.iter().copied().filter(|x| latest(x)).collect();
            let kept = |closed: bool| {
                all.iter()
                    .filter(|x| {
                        !latest(x) && (x.cells[STATUS_COL].as_deref() == Some("closed")) == closed
                    })
                    .count() as f64
            };
            let persons: std::collections::BTreeSet<&str> =
                mine.iter().filter_map(|x| x.cells[2].as_deref()).collect();
            let amt: rust_decimal::Decimal = mine.iter().filter_map(|x| amount(x)).sum();
            let by = |s: &str| {
                mine.iter()
                    .filter(|x| x.cells[STATUS_COL].as_deref() == Some(s))
                    .count() as f64
            };
            ws.write_string(r, 0, check.code).map_err(&e)?;
            ws.write_string(r, 1, check.title_zh).map_err(&e)?;
            ws.write_string(r, 2, severity_zh(check.severity))
                .map_err(&e)?;
            ws.write_number(r, 3, mine.len() as f64).map_err(&e)?;
            ws.write_number(r, 4, persons.len() as f64).map_err(&e)?;
            ws.write_number_with_format(r, 5, excel_number(amt), &money)
                .map_err(&e)?;
            for (k, s) in ["open", "confirmed", "dismissed", "recovered"]
                .iter()
                .enumerate()
            {
                ws.write_number(r, 6 + k as u16, by(s)).map_err(&e)?;
            }
            ws.write_number(r, 10, kept(true)).map_err(&e)?;
            ws.write_number(r, 11, kept(false)).map_err(&e)?;
            n_all += mine.len();
            amt_all += amt;
            r += 1;
        }
        ws.write_string_with_format(r, 0, "合计", &bold)
            .map_err(&e)?;
        ws.write_number_with_format(r, 3, n_all as f64, &bold)
            .map_err(&e)?;
        ws.write_formula_with_format(
            r,
            5,
            Formula::new(format!("=SUM(F4:F{r})")).set_result(format!("{amt_all:.2}")),
            &money_bold,
        )
        .map_err(&e)?;
        ws.set_freeze_panes(3, 0).map_err(&e)?;
    }
    for check in CHECKS {
        let mine: Vec<&Row> = rows.iter().filter(|x| x.code == check.code).collect();
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(check.code, check.title_zh))
            .map_err(&e)?;
        for (c, (_, zh, w)) in COLUMNS.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *zh, &head)
                .map_err(&e)?;
            ws.set_column_width(c as u16, *w).map_err(&e)?;
        }
        let mut r = 1u32;
        for x in &mine {
            for (c, cell) in x.cells.iter().enumerate() {
                let Some(v) = cell else { continue };
                let col = c as u16;
                match c {
                    AMOUNT_COL => {
                        if let Ok(n) = v.parse::<rust_decimal::Decimal>() {
                            ws.write_number_with_format(r, col, excel_number(n), &money)
                                .map_err(&e)?;
                        }
                    }
                    1 => {
                        ws.write_string(r, col, severity_zh(v)).map_err(&e)?;
                    }
                    13 => {
                        ws.write_string_with_format(r, col, v, &wrap).map_err(&e)?;
                    }
                    STATUS_COL => {
                        ws.write_string(r, col, status_zh(v)).map_err(&e)?;
                    }
                    LATEST_COL => {
                        ws.write_string(r, col, if v == "true" { "是" } else { "否" })
                            .map_err(&e)?;
                    }
                    _ => {
                        ws.write_string(r, col, v).map_err(&e)?;
                    }
                }
            }
            r += 1;
        }
        // The total is of this run's findings (本次仍发现 = 是); kept rows are listed only.
        let current: Vec<&&Row> = mine.iter().filter(|x| latest(x)).collect();
        let total: rust_decimal::Decimal = current.iter().filter_map(|x| amount(x)).sum();
        ws.write_string_with_format(r, 0, format!("合计 {} 条", current.len()), &bold)
            .map_err(&e)?;
        let col = AMOUNT_COL as u16;
        let letter = (b'A' + AMOUNT_COL as u8) as char;
        let flag = (b'A' + LATEST_COL as u8) as char;
        let formula = if r > 1 {
            format!("=SUMIFS({letter}2:{letter}{r},{flag}2:{flag}{r},\"是\")")
        } else {
            "=0".to_string()
        };
        ws.write_formula_with_format(
            r,
            col,
            Formula::new(formula).set_result(format!("{total:.2}")),
            &money_bold,
        )
        .map_err(&e)?;
        if r > 1 {
            ws.autofilter(0, 0, r - 1, (COLUMNS.len() - 1) as u16)
                .map_err(&e)?;
        }
        ws.set_freeze_panes(1, 0).map_err(&e)?;
    }
    wb.save(path).map_err(&e)?;
    Ok(())
}

fn csv_file(rows: &[Row], path: &Path) -> Result<(), AuditError> {
    let mut bytes = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut bytes);
        let mut header = vec!["check_code", "title_zh"];
        header.extend(COLUMNS.iter().take(COLUMNS.len() - 1).map(|c| c.0));
        w.write_record(&header).map_err(|e| AuditError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        for x in rows {
            let title = super::catalogue::get(&x.code).map_or("", |c| c.title_zh);
            let mut rec = vec![x.code.as_str(), title];
            rec.extend(
                x.cells
                    .iter()
                    .take(COLUMNS.len() - 1)
                    .map(|c| c.as_deref().unwrap_or("")),
            );
            w.write_record(&rec).map_err(|e| AuditError::Io {
                path: path.to_path_buf(),
                source: e.into(),
            })?;
        }
        w.flush().map_err(io_err(path))?;
    }
    std::fs::write(path, bytes).map_err(io_err(path))
}

/// Writes `findings_YYYY-MM.xlsx` and `findings_YYYY-MM.csv` into `dir`.
pub fn write(conn: &Connection, dir: &Path, month: NaiveDate) -> Result<Vec<PathBuf>, AuditError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let rows = load(conn)?;
    let tag = month.format("%Y-%m");
    let xlsx = dir.join(format!("findings_{tag}.xlsx"));
    let csv = dir.join(format!("findings_{tag}.csv"));
    workbook(&rows, month, &xlsx)?;
    csv_file(&rows, &csv)?;
    Ok(vec![xlsx, csv])
}

/// Excel stores numbers as binary floating point; a yuan figure with two decimals
/// is converted only here, at the workbook boundary, after exact arithmetic.
fn excel_number(d: rust_decimal::Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}
