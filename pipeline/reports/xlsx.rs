//! The monthly workbook (月报): a contents sheet, then one sheet per report table
//! with its title, the report month and run time, Chinese headers (frozen), number
//! formats and a totals row whose formulas carry their exact results.

use std::path::{Path, PathBuf};

use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{
    utility::column_number_to_name, Format, Formula, Image, Url, Workbook, Worksheet, XlsxError,
};

use super::def::{ColumnDef, Format as ColFormat};
use super::table::{Cell, Table};
use super::{ReportError, ReportRun};

const HEADER_ROWS: u32 = 3; // title, subtitle, column labels

struct Styles {
    title: Format,
    subtitle: Format,
    head: Format,
    cell: [Format; 5],
    total: [Format; 5],
    link: Format,
}

fn number_format(f: ColFormat) -> &'static str {
    match f {
        ColFormat::Text => "@",
        ColFormat::Integer => "#,##0",
        ColFormat::Yuan => "#,##0.00",
        ColFormat::Percent => "0.00%",
        ColFormat::Date => "yyyy-mm-dd",
    }
}

fn slot(f: ColFormat) -> usize {
    match f {
        ColFormat::Text => 0,
        ColFormat::Integer => 1,
        ColFormat::Yuan => 2,
        ColFormat::Percent => 3,
        ColFormat::Date => 4,
    }
}

impl Styles {
    fn new() -> Styles {
        let all = [
            ColFormat::Text,
            ColFormat::Integer,
            ColFormat::Yuan,
            ColFormat::Percent,
            ColFormat::Date,
        ];
        Styles {
            title: Format::new().set_bold().set_font_size(14),
            subtitle: Format::new().set_font_color("#595959"),
            head: Format::new()
                .set_bold()
                .set_background_color("#DDEBF7")
                .set_border(rust_xlsxwriter::FormatBorder::Thin)
                .set_text_wrap()
                .set_align(rust_xlsxwriter::FormatAlign::Center)
                .set_align(rust_xlsxwriter::FormatAlign::VerticalCenter),
            cell: all.map(|f| Format::new().set_num_format(number_format(f))),
            total: all.map(|f| {
                Format::new()
                    .set_num_format(number_format(f))
                    .set_bold()
                    .set_border_top(rust_xlsxwriter::FormatBorder::Thin)
                    .set_background_color("#F2F2F2")
            }),
            link: Format::new()
                .set_font_color("#0563C1")
                .set_underline(rust_xlsxwriter::FormatUnderline::Single),
        }
    }
}

/// Decimals become Excel numbers only here, at the file boundary (Excel stores
/// IEEE doubles); the exact value also goes into formula results as text.
fn excel_number(d: rust_decimal::Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn write_cell(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    cell: &Cell,
    fmt: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Null => ws.write_blank(r, c, fmt).map(|_| ()),
        Cell::Int(i) => ws
            .write_number_with_format(r, c, *i as f64, fmt)
            .map(|_| ()),
        Cell::Dec(d) => ws
            .write_number_with_format(r, c, excel_number(*d), fmt)
            .map(|_| ()),
        Cell::Text(s) => ws.write_string_with_format(r, c, s, fmt).map(|_| ()),
        Cell::Date(d) => {
            let dt =
                rust_xlsxwriter::ExcelDateTime::parse_from_str(&d.format("%Y-%m-%d").to_string())?;
            ws.write_datetime_with_format(r, c, &dt, fmt).map(|_| ())
        }
    }
}

/// Display width of text: CJK characters take two columns.
fn text_width(s: &str) -> f64 {
    s.chars()
        .map(|ch| if ch.is_ascii() { 1.0 } else { 2.0 })
        .sum()
}

fn column_width(t: &Table, i: usize, col: &ColumnDef) -> f64 {
    if let Some(w) = col.width {
        return w;
    }
    let widest = t
        .rows
        .iter()
        .take(500)
        .map(|r| text_width(&r[i].display(col.format)))
        .fold(0.0, f64::max);
    (widest.max(text_width(&col.label) * 0.6) + 2.0).clamp(6.0, 40.0)
}

/// The totals row: sums and counts as formulas over the data rows, ratios as the
/// quotient of the two summed cells; each formula carries the exact result.
fn totals_formula(
    t: &Table,
    i: usize,
    col: &ColumnDef,
    first: u32,
    last: u32,
    total_row: u32,
) -> Option<String> {
    let name = |c: usize| column_number_to_name(c as u16);
    match col.total.as_deref()? {
        "sum" => Some(format!("=SUM({0}{1}:{0}{2})", name(i), first + 1, last + 1)),
        "count" => Some(format!(
            "=COUNTA({0}{1}:{0}{2})",
            name(i),
            first + 1,
            last + 1
        )),
        ratio => {
            let (a, b) = ratio.split_once('/')?;
            let (a, b) = (t.column_index(a.trim())?, t.column_index(b.trim())?);
            Some(format!(
                "=IF({1}{2}=0,\"\",{0}{2}/{1}{2})",
                name(a),
                name(b),
                total_row + 1
            ))
        }
    }
}

fn table_sheet(
    ws: &mut Worksheet,
    t: &Table,
    run: &ReportRun,
    s: &Styles,
) -> Result<(), XlsxError> {
    let meta = &t.def.meta;
    ws.set_name(&meta.sheet)?;
    ws.write_string_with_format(0, 0, &meta.title, &s.title)?;
    let masked = if meta.full_ids && run.whole_ids_in_forms {
        " · 身份证号完整(报送财政部门的正式报表，注意保密)"
    } else if meta.list && !run.unmasked {
        " · 身份证号已脱敏(隐去出生日期)"
    } else {
        ""
    };
    ws.write_string_with_format(
        1,
        0,
        format!(
            "报告期 {} · 生成时间 {} · {}{masked}",
            run.period_zh(),
            run.generated_at,
            meta.title_en
        ),
        &s.subtitle,
    )?;
    if meta.layout.as_deref() == Some("vertical") {
        return vertical_sheet(ws, t, s);
    }
    for (i, col) in t.columns().iter().enumerate() {
        ws.write_string_with_format(HEADER_ROWS - 1, i as u16, &col.label, &s.head)?;
        ws.set_column_width(i as u16, column_width(t, i, col))?;
    }
    ws.set_row_height(HEADER_ROWS - 1, 32)?;
    let first = HEADER_ROWS;
    for (k, row) in t.rows.iter().enumerate() {
        for (i, (cell, col)) in row.iter().zip(t.columns()).enumerate() {
            write_cell(
                ws,
                first + k as u32,
                i as u16,
                cell,
                &s.cell[slot(col.format)],
            )?;
        }
    }
    let last = first + t.rows.len().max(1) as u32 - 1;
    if let Some(totals) = &t.totals {
        let r = first + t.rows.len() as u32;
        for (i, (cell, col)) in totals.iter().zip(t.columns()).enumerate() {
            let fmt = &s.total[slot(col.format)];
            match totals_formula(t, i, col, first, last, r).filter(|_| !t.rows.is_empty()) {
                Some(f) => {
                    let result = cell.csv_text(ColFormat::Integer);
                    ws.write_formula_with_format(
                        r,
                        i as u16,
                        Formula::new(f).set_result(result),
                        fmt,
                    )?;
                }
                None => write_cell(ws, r, i as u16, cell, fmt)?,
            }
        }
    }
    ws.set_freeze_panes(HEADER_ROWS, 0)?;
    // Printed: A4 landscape, one page wide, the header on every page.
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(HEADER_ROWS - 1, HEADER_ROWS - 1)?;
    if meta.list && !t.rows.is_empty() {
        ws.autofilter(HEADER_ROWS - 1, 0, last, t.columns().len() as u16 - 1)?;
    }
    Ok(())
}

/// A one-row table as label / value lines (the key figures).
fn vertical_sheet(ws: &mut Worksheet, t: &Table, s: &Styles) -> Result<(), XlsxError> {
    ws.write_string_with_format(HEADER_ROWS - 1, 0, "指标", &s.head)?;
    ws.write_string_with_format(HEADER_ROWS - 1, 1, "数值", &s.head)?;
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, 22)?;
    for (i, col) in t.columns().iter().enumerate() {
        let r = HEADER_ROWS + i as u32;
        ws.write_string(r, 0, &col.label)?;
        let cell = t.rows.first().map_or(&Cell::Null, |row| &row[i]);
        write_cell(ws, r, 1, cell, &s.cell[slot(col.format)])?;
    }
    ws.set_freeze_panes(HEADER_ROWS, 0)?;
    Ok(())
}

/// What the workbook is, as its contents sheet names it.
fn package_title(run: &ReportRun) -> &'static str {
    match run.package {
        super::Package::Month => "统计月报",
        super::Package::Quarter => "季度统计报表（季度工作总结）",
        super::Package::Year => "年度统计报表（年度决算）",
        super::Package::Plan => "基金支出计划表（附表十四）",
        super::Package::Notice => "待遇领取资格公示",
    }
}

/// The first sheet: what is in the workbook, with links, and any notes.
fn contents_sheet(ws: &mut Worksheet, run: &ReportRun, s: &Styles) -> Result<(), XlsxError> {
    ws.set_name("目录")?;
    ws.write_string_with_format(
        0,
        0,
        format!(
            "城乡居民基本养老保险 {} {}",
            package_title(run),
            run.period_zh()
        ),
        &s.title,
    )?;
    ws.write_string_with_format(
        1,
        0,
        format!("生成时间 {} · 金额单位：元", run.generated_at),
        &s.subtitle,
    )?;
    for (c, h) in ["序号", "报表", "Report", "行数"].iter().enumerate() {
        ws.write_string_with_format(HEADER_ROWS - 1, c as u16, *h, &s.head)?;
    }
    for (c, w) in [6.0, 44.0, 56.0, 10.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    for (k, t) in run.tables.iter().enumerate() {
        let r = HEADER_ROWS + k as u32;
        ws.write_number(r, 0, (k + 1) as f64)?;
        let url =
            Url::new(format!("internal:'{}'!A1", t.def.meta.sheet)).set_text(&t.def.meta.title);
        ws.write_url_with_format(r, 1, url, &s.link)?;
        ws.write_string(r, 2, &t.def.meta.title_en)?;
        ws.write_number(r, 3, t.rows.len() as f64)?;
    }
    let mut r = HEADER_ROWS + run.tables.len() as u32 + 1;
    for n in &run.notes {
        ws.write_string_with_format(r, 0, format!("注意 Note: {n}"), &s.subtitle)?;
        r += 1;
    }
    ws.set_freeze_panes(HEADER_ROWS, 0)?;
    Ok(())
}

/// The charts as pictures, one under another, for pasting into the monthly report.
fn charts_sheet(
    ws: &mut Worksheet,
    run: &ReportRun,
    pngs: &[PathBuf],
    s: &Styles,
) -> Result<(), XlsxError> {
    ws.set_name("图表")?;
    ws.write_string_with_format(0, 0, format!("图表 {}", run.period_zh()), &s.title)?;
    let mut row = 2u32;
    for png in pngs {
        let image = Image::new(png)?.set_scale_width(0.6).set_scale_height(0.6);
        let rows = (image.height() * 0.6 / 20.0).ceil() as u32 + 2;
        ws.insert_image(row, 0, &image)?;
        row += rows;
    }
    Ok(())
}

pub fn write(run: &ReportRun, pngs: &[PathBuf], path: &Path) -> Result<(), ReportError> {
    let e = |source| ReportError::Xlsx {
        path: path.to_path_buf(),
        source,
    };
    let s = Styles::new();
    let mut wb = Workbook::new();
    contents_sheet(wb.add_worksheet(), run, &s).map_err(e)?;
    for t in &run.tables {
        table_sheet(wb.add_worksheet(), t, run, &s).map_err(e)?;
    }
    if !pngs.is_empty() {
        charts_sheet(wb.add_worksheet(), run, pngs, &s).map_err(e)?;
    }
    let bytes = wb.save_to_buffer().map_err(e)?;
    super::write_atomic(path, &bytes)
}
