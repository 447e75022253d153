//! A rendered document (titled tables of cells) and its three forms: an aligned
//! table for the terminal, CSV, and an XLSX workbook.

use super::*;

/// A cell of a rendered table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Money(Decimal),
    Int(i64),
    Date(NaiveDate),
    Month(NaiveDate),
    Empty,
}

impl Cell {
    pub(super) fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Money(d) => {
                let mut x = *d;
                x.rescale(2);
                x.to_string()
            }
            Cell::Int(i) => i.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Month(d) => d.format("%Y-%m").to_string(),
            Cell::Empty => String::new(),
        }
    }

    pub(super) fn right_aligned(&self) -> bool {
        matches!(self, Cell::Money(_) | Cell::Int(_))
    }
}

pub(super) fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub(super) fn opt_money(d: Option<Decimal>) -> Cell {
    d.map_or(Cell::Empty, Cell::Money)
}

/// One titled table of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A title, a block of labelled facts, then tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    pub facts: Vec<(String, Cell)>,
    pub tables: Vec<Table>,
}

/// Output formats of the statement and the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DocFormat {
    Table,
    Csv,
    Xlsx,
}

/// Display width: CJK and full-width characters take two columns.
pub(super) fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            let wide = (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

pub(super) fn pad(s: &str, w: usize, right: bool) -> String {
    let fill = " ".repeat(w.saturating_sub(width(s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// Aligned text for a terminal.
pub fn write_text(doc: &Document, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}", doc.title)?;
    let label_w = doc.facts.iter().map(|(l, _)| width(l)).max().unwrap_or(0);
    for (label, value) in &doc.facts {
        writeln!(out, "  {}  {}", pad(label, label_w, false), value.text())?;
    }
    for table in &doc.tables {
        writeln!(out)?;
        writeln!(out, "{}", table.title)?;
        let texts: Vec<Vec<String>> = table
            .rows
            .iter()
            .map(|r| r.iter().map(Cell::text).collect())
            .collect();
        let mut widths: Vec<usize> = table.headers.iter().map(|h| width(h)).collect();
        for r in &texts {
            for (i, c) in r.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(width(c));
                }
            }
        }
        let head: Vec<String> = table
            .headers
            .iter()
            .zip(&widths)
            .map(|(h, w)| pad(h, *w, false))
            .collect();
        writeln!(out, "  {}", head.join("  ").trim_end())?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(out, "  {}", rule.join("  "))?;
        if table.rows.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for (cells, r) in table.rows.iter().zip(&texts) {
            let line: Vec<String> = r
                .iter()
                .zip(&widths)
                .zip(cells)
                .map(|((s, w), c)| pad(s, *w, c.right_aligned()))
                .collect();
            writeln!(out, "  {}", line.join("  ").trim_end())?;
        }
    }
    Ok(())
}

/// CSV: the facts as `label,value` lines, then each table after a blank line as
/// its title, its header row and its rows (money as `1234.50`, dates ISO).
pub fn write_csv(doc: &Document, out: &mut dyn Write) -> Result<(), StageError> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let err = |e: csv::Error| StageError::Input(format!("writing CSV: {e}"));
    w.write_record([doc.title.as_str()]).map_err(err)?;
    for (label, value) in &doc.facts {
        w.write_record([label.clone(), value.text()]).map_err(err)?;
    }
    for table in &doc.tables {
        w.write_record([""]).map_err(err)?;
        w.write_record([table.title.as_str()]).map_err(err)?;
        w.write_record(&table.headers).map_err(err)?;
        for r in &table.rows {
            w.write_record(r.iter().map(Cell::text)).map_err(err)?;
        }
    }
    w.flush()
        .map_err(|e| StageError::Input(format!("writing CSV: {e}")))?;
    Ok(())
}

/// One worksheet: title, facts, then the tables one below the other. Money cells
/// are numbers with two decimals (an Excel cell is a binary double; the value
/// shown is the exact fen amount); dates are ISO text.
pub fn write_xlsx(doc: &Document, sheet: &str, path: &Path) -> Result<(), StageError> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| StageError::Xlsx(e.to_string());
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(x)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let mut row: u32 = 0;
    ws.write_string_with_format(row, 0, &doc.title, &bold)
        .map_err(x)?;
    row += 1;
    for (label, value) in &doc.facts {
        ws.write_string(row, 0, label).map_err(x)?;
        write_cell(ws, row, 1, value, &money).map_err(x)?;
        row += 1;
    }
    let mut widths: BTreeMap<u16, usize> = BTreeMap::new();
    for table in &doc.tables {
        row += 1;
        ws.write_string_with_format(row, 0, &table.title, &bold)
            .map_err(x)?;
        row += 1;
        for (c, h) in table.headers.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, h, &bold)
                .map_err(x)?;
            let e = widths.entry(c as u16).or_default();
            *e = (*e).max(width(h));
        }
        row += 1;
        for r in &table.rows {
            for (c, cell) in r.iter().enumerate() {
                write_cell(ws, row, c as u16, cell, &money).map_err(x)?;
                let e = widths.entry(c as u16).or_default();
                *e = (*e).max(width(&cell.text()));
            }
            row += 1;
        }
    }
    for (c, w) in widths {
        ws.set_column_width(c, (w + 2).min(40) as f64).map_err(x)?;
    }
    wb.save(path).map_err(x)?;
    Ok(())
}

pub(super) fn write_cell(
    ws: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    money: &rust_xlsxwriter::Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    match cell {
        Cell::Money(d) => {
            ws.write_number_with_format(row, col, d.to_f64().unwrap_or_default(), money)?;
        }
        Cell::Int(i) => {
            ws.write_number(row, col, *i as f64)?;
        }
        Cell::Empty => {}
        other => {
            ws.write_string(row, col, other.text())?;
        }
    }
    Ok(())
}

/// Renders a document to `out_path` (or stdout for table/csv without a path).
pub fn render(
    doc: &Document,
    format: DocFormat,
    sheet: &str,
    out_path: Option<&Path>,
) -> Result<(), StageError> {
    match (format, out_path) {
        (DocFormat::Xlsx, Some(p)) => write_xlsx(doc, sheet, p),
        (DocFormat::Xlsx, None) => Err(StageError::Input("xlsx needs --out FILE".into())),
        (f, Some(p)) => {
            let mut file = std::fs::File::create(p).map_err(|e| StageError::io(p, e))?;
            if f == DocFormat::Csv {
                write_csv(doc, &mut file)
            } else {
                write_text(doc, &mut file).map_err(|e| StageError::io(p, e))
            }
        }
        (f, None) => {
            let mut buf = Vec::new();
            if f == DocFormat::Csv {
                write_csv(doc, &mut buf)?;
            } else {
                write_text(doc, &mut buf).map_err(|e| StageError::io(Path::new("stdout"), e))?;
            }
            match std::io::stdout().lock().write_all(&buf) {
                // The reader stopped early (`| head`): not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.map_err(|e| StageError::io(Path::new("stdout"), e)),
            }
        }
    }
}
