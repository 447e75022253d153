//! The village public notice (村级公示, rules 第五十六条): each village posts, for 10
//! days, the list of its persons newly found eligible for the pension and of its
//! beneficiaries whose payment stops, so that anyone who knows better can say so.
//!
//! The lists are two report tables of the `notice` package
//! (`reports/40_notice_new.sql`, `reports/41_notice_stopped.sql`); this module
//! splits their rows by village and writes one workbook with a sheet per village
//! and one printable HTML page per village. What a notice may show is fixed by
//! the SQL: names (so villagers recognise the person), masked ID numbers (the birth
//! date hidden, always), no bank account, phone or address.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use super::table::{Cell, Table};
use super::{io_err, write_atomic, ReportError, ReportRun};

/// The two lists of a notice, by their report names.
const NEW: &str = "40_notice_new";
const STOPPED: &str = "41_notice_stopped";

/// How the notice is posted: from which day, for how many days, and the number to
/// call with an objection (监督电话; a blank line to fill in when not given).
#[derive(Debug, Clone)]
pub struct Posting {
    pub from: NaiveDate,
    pub days: u32,
    pub phone: Option<String>,
}

impl Posting {
    /// The last day of the posting (the days counted inclusively).
    pub fn until(&self) -> NaiveDate {
        self.from + chrono::Days::new(u64::from(self.days.max(1) - 1))
    }
}

/// One village's lines of both lists.
#[derive(Default)]
struct Village {
    new: Vec<Vec<Cell>>,
    stopped: Vec<Vec<Cell>>,
}

fn text(cell: &Cell) -> String {
    cell.csv_text(super::Format::Text)
}

fn table<'a>(run: &'a ReportRun, name: &str) -> Result<&'a Table, ReportError> {
    run.table(name).ok_or_else(|| ReportError::Definition {
        path: Path::new("reports").join(format!("{name}.sql")),
        message: "the public notice needs this list; restore it or its file name".into(),
    })
}

/// The rows of both lists by (township, village).
fn by_village(run: &ReportRun) -> Result<BTreeMap<(String, String), Village>, ReportError> {
    let mut out: BTreeMap<(String, String), Village> = BTreeMap::new();
    for (name, is_new) in [(NEW, true), (STOPPED, false)] {
        let t = table(run, name)?;
        let (ti, vi) = match (t.column_index("township"), t.column_index("village")) {
            (Some(t), Some(v)) => (t, v),
            _ => {
                return Err(ReportError::Definition {
                    path: t.def.sql_path.clone(),
                    message: "a notice list must return the columns township and village".into(),
                })
            }
        };
        for row in &t.rows {
            let v = out.entry((text(&row[ti]), text(&row[vi]))).or_default();
            if is_new {
                v.new.push(row.clone());
            } else {
                v.stopped.push(row.clone());
            }
        }
    }
    Ok(out)
}

/// The columns a village's sheet shows: all but township and village (its title
/// names them).
fn shown(t: &Table) -> Vec<usize> {
    t.columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.name != "township" && c.name != "village")
        .map(|(i, _)| i)
        .collect()
}

/// A sheet name for the village: its name, with the township before it when two
/// townships have a village of that name, cut to Excel's 31 characters.
fn sheet_names(villages: &[(String, String)]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (_, v) in villages {
        *seen.entry(v.clone()).or_default() += 1;
    }
    let clean = |s: String| -> String {
        s.chars()
            .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
            .take(31)
            .collect()
    };
    villages
        .iter()
        .map(|(t, v)| {
            if seen[v] > 1 {
                clean(format!("{t}{v}"))
            } else {
                clean(v.clone())
            }
        })
        .collect()
}

fn heading(run: &ReportRun, township: &str, village: &str) -> String {
    format!(
        "{township}{village} 城乡居民基本养老保险待遇领取资格公示（{}）",
        run.period.label_zh()
    )
}

fn posting_line(p: &Posting) -> String {
    format!(
        "公示期：{} 至 {}（{} 天）。对公示内容有异议的，请在公示期内向村(居)委会、乡镇劳保所反映，或拨打监督电话：{}",
        p.from.format("%Y年%m月%d日"),
        p.until().format("%Y年%m月%d日"),
        p.days,
        p.phone.as_deref().unwrap_or("____________")
    )
}

/// Writes the workbook (`公示_YYYY-MM.xlsx`, one sheet per village) and the pages
/// (`公示_YYYY-MM/<乡镇>_<村>.html`) into `out`; returns the files written.
pub fn write(run: &ReportRun, posting: &Posting, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let villages = by_village(run)?;
    let (new_t, stop_t) = (table(run, NEW)?, table(run, STOPPED)?);
    let keys: Vec<(String, String)> = villages.keys().cloned().collect();
    let book = out.join(run.workbook_name());
    write_workbook(
        run,
        posting,
        &villages,
        &sheet_names(&keys),
        (new_t, stop_t),
        &book,
    )?;
    let pages = out.join(format!("公示_{}", run.period.label()));
    std::fs::create_dir_all(&pages).map_err(io_err(&pages))?;
    let mut files = vec![book];
    for ((township, village), lines) in &villages {
        let path = pages.join(format!(
            "{}_{}.html",
            file_part(township),
            file_part(village)
        ));
        let html = page(run, posting, township, village, lines, (new_t, stop_t));
        write_atomic(&path, html.as_bytes())?;
        files.push(path);
    }
    Ok(files)
}

/// A name as part of a file name: path separators and the characters Windows
/// refuses become `_`.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| if "/\\:*?\"<>|".contains(c) { '_' } else { c })
        .collect()
}

fn write_workbook(
    run: &ReportRun,
    posting: &Posting,
    villages: &BTreeMap<(String, String), Village>,
    sheets: &[String],
    (new_t, stop_t): (&Table, &Table),
    path: &Path,
) -> Result<(), ReportError> {
    let xerr = |source| ReportError::Xlsx {
        path: path.to_path_buf(),
        source,
    };
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let section = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_background_color("#DDEBF7");
    let cell = Format::new().set_border(FormatBorder::Thin);
    if villages.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("公示").map_err(xerr)?;
        ws.write_string(0, 0, format!("{} 无需公示的人员", run.period.label_zh()))
            .map_err(xerr)?;
    }
    for (((township, village), lines), sheet) in villages.iter().zip(sheets) {
        let ws = wb.add_worksheet();
        ws.set_name(sheet).map_err(xerr)?;
        ws.write_string_with_format(0, 0, heading(run, township, village), &title)
            .map_err(xerr)?;
        ws.write_string(1, 0, posting_line(posting)).map_err(xerr)?;
        let mut row = 3u32;
        for (label, t, rows) in [
            ("一、新增待遇领取人员", new_t, &lines.new),
            ("二、停止（暂停）领取待遇人员", stop_t, &lines.stopped),
        ] {
            ws.write_string_with_format(row, 0, label, &section)
                .map_err(xerr)?;
            row += 1;
            let cols = shown(t);
            for (j, &i) in cols.iter().enumerate() {
                ws.write_string_with_format(row, j as u16, &t.columns()[i].label, &head)
                    .map_err(xerr)?;
                ws.set_column_width(j as u16, 16).map_err(xerr)?;
            }
            row += 1;
            if rows.is_empty() {
                ws.write_string(row, 0, "（无）").map_err(xerr)?;
                row += 1;
            }
            for r in rows {
                for (j, &i) in cols.iter().enumerate() {
                    let text = r[i].display(t.columns()[i].format);
                    ws.write_string_with_format(row, j as u16, text, &cell)
                        .map_err(xerr)?;
                }
                row += 1;
            }
            row += 1;
        }
        ws.write_string(
            row,
            0,
            format!("{township}劳动保障所　　{village}村(居)民委员会（盖章）"),
        )
        .map_err(xerr)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    wb.save(&tmp).map_err(xerr)?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One village's page, for printing on A4 and posting on the village notice board.
fn page(
    run: &ReportRun,
    posting: &Posting,
    township: &str,
    village: &str,
    lines: &Village,
    (new_t, stop_t): (&Table, &Table),
) -> String {
    let title = heading(run, township, village);
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
         @page {{ size: A4; margin: 18mm 15mm; }}\
         body {{ font-family: \"SimSun\", \"Songti SC\", \"Noto Serif CJK SC\", \"WenQuanYi Micro Hei\", serif; \
         font-size: 12pt; color: #000; max-width: 190mm; margin: 0 auto; }}\
         h1 {{ font-size: 18pt; text-align: center; margin: 0 0 8pt; }}\
         h2 {{ font-size: 13pt; margin: 14pt 0 6pt; }}\
         p.period {{ border: 1px solid #000; padding: 6pt; }}\
         table {{ border-collapse: collapse; width: 100%; }}\
         th, td {{ border: 1px solid #000; padding: 3pt 5pt; text-align: center; }}\
         .sign {{ margin-top: 24pt; text-align: right; line-height: 2; }}\
         @media print {{ p.hint {{ display: none; }} }}\
         </style></head><body><h1>{}</h1><p class=\"period\">{}</p>",
        esc(&title),
        esc(&title),
        esc(&posting_line(posting))
    );
    for (label, t, rows) in [
        ("一、新增待遇领取人员", new_t, &lines.new),
        ("二、停止（暂停）领取待遇人员", stop_t, &lines.stopped),
    ] {
        let cols = shown(t);
        let _ = write!(html, "<h2>{label}</h2><table><thead><tr><th>序号</th>");
        for &i in &cols {
            let _ = write!(html, "<th>{}</th>", esc(&t.columns()[i].label));
        }
        html.push_str("</tr></thead><tbody>");
        if rows.is_empty() {
            let _ = write!(
                html,
                "<tr><td colspan=\"{}\">（无）</td></tr>",
                cols.len() + 1
            );
        }
        for (n, r) in rows.iter().enumerate() {
            let _ = write!(html, "<tr><td>{}</td>", n + 1);
            for &i in &cols {
                let _ = write!(
                    html,
                    "<td>{}</td>",
                    esc(&r[i].display(t.columns()[i].format))
                );
            }
            html.push_str("</tr>");
        }
        html.push_str("</tbody></table>");
    }
    let _ = write!(
        html,
        "<div class=\"sign\">{}劳动保障所<br>{}村(居)民委员会（盖章）<br>{}</div>\
         <p class=\"hint\">身份证号码已隐去出生日期；本公示不含银行账号、电话和住址。</p></body></html>\n",
        esc(township),
        esc(village),
        posting.from.format("%Y年%m月%d日")
    );
    html
}
