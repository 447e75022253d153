//! Streaming table writers in the shapes the files really arrive in: UTF-8 with or
//! without BOM or GB18030, Chinese or English headers, shuffled columns, the four date
//! spellings, three month spellings and four money spellings; plus small XLSX files.

use super::calendar::{put_date, put_money, put_month, DateStyle, MoneyStyle, MonthStyle, Ym};
use super::{SynthError, WrittenFile};
use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enc {
    Utf8,
    Utf8Bom,
    Gb18030,
}

impl Enc {
    pub fn label(self) -> &'static str {
        match self {
            Enc::Utf8 => "utf8",
            Enc::Utf8Bom => "utf8-bom",
            Enc::Gb18030 => "gb18030",
        }
    }
}

/// How one file spells things.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub enc: Enc,
    /// English headers and English enumeration codes.
    pub en: bool,
    pub date: DateStyle,
    pub month: MonthStyle,
    pub money: MoneyStyle,
    /// Columns in a scrambled (but fixed) order.
    pub shuffle: bool,
}

impl Style {
    pub const fn zh(enc: Enc, date: DateStyle, month: MonthStyle, money: MoneyStyle) -> Style {
        Style {
            enc,
            en: false,
            date,
            month,
            money,
            shuffle: false,
        }
    }
    pub const fn en(enc: Enc, date: DateStyle, month: MonthStyle, money: MoneyStyle) -> Style {
        Style {
            enc,
            en: true,
            date,
            month,
            money,
            shuffle: true,
        }
    }
}

pub fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One CSV file being written, row by row.
pub struct Table {
    rel: PathBuf,
    abs: PathBuf,
    kind: &'static str,
    pub st: Style,
    order: Vec<usize>,
    w: BufWriter<File>,
    rows: u64,
    buf: String,
    ends: Vec<usize>,
    line: String,
}

impl Table {
    /// Creates `out/rel` and writes the header. `cols` are (english, chinese) names.
    pub fn create(
        out: &Path,
        rel: &str,
        kind: &'static str,
        cols: &[(&str, &str)],
        st: Style,
    ) -> Result<Table, SynthError> {
        let abs = out.join(rel);
        if let Some(dir) = abs.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let file = File::create(&abs).map_err(io_err(&abs))?;
        let mut order: Vec<usize> = (0..cols.len()).collect();
        if st.shuffle {
            // A fixed scramble: reverse, then move the last column to the front.
            order.reverse();
            order.rotate_right(1);
        }
        let mut t = Table {
            rel: PathBuf::from(rel),
            abs,
            kind,
            st,
            order,
            w: BufWriter::with_capacity(1 << 16, file),
            rows: 0,
            buf: String::new(),
            ends: Vec::new(),
            line: String::new(),
        };
        if st.enc == Enc::Utf8Bom {
            t.w.write_all("\u{feff}".as_bytes())
                .map_err(io_err(&t.abs))?;
        }
        for (en, zh) in cols {
            t.s(if st.en { en } else { zh });
        }
        t.emit()?;
        Ok(t)
    }

    pub fn s(&mut self, v: &str) -> &mut Self {
        self.buf.push_str(v);
        self.ends.push(self.buf.len());
        self
    }

    /// An enumeration value: Chinese, or the English code in English files.
    pub fn e(&mut self, zh: &str, en: &str) -> &mut Self {
        let v = if self.st.en { en } else { zh };
        self.s(v)
    }

    pub fn date(&mut self, d: NaiveDate) -> &mut Self {
        put_date(&mut self.buf, d, self.st.date);
        self.ends.push(self.buf.len());
        self
    }

    pub fn opt_date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        match d {
            Some(d) => self.date(d),
            None => self.s(""),
        }
    }

    pub fn month(&mut self, m: Ym) -> &mut Self {
        put_month(&mut self.buf, m, self.st.month);
        self.ends.push(self.buf.len());
        self
    }

    pub fn opt_month(&mut self, m: Option<Ym>) -> &mut Self {
        match m {
            Some(m) => self.month(m),
            None => self.s(""),
        }
    }

    pub fn money(&mut self, x: Decimal) -> &mut Self {
        put_money(&mut self.buf, x, self.st.money);
        self.ends.push(self.buf.len());
        self
    }

    /// A formatted field, written without an intermediate String.
    pub fn fmt(&mut self, args: std::fmt::Arguments) -> &mut Self {
        use std::fmt::Write as _;
        let _ = self.buf.write_fmt(args);
        self.ends.push(self.buf.len());
        self
    }

    pub fn int(&mut self, n: i64) -> &mut Self {
        use std::fmt::Write as _;
        let _ = write!(self.buf, "{n}");
        self.ends.push(self.buf.len());
        self
    }

    /// Finishes the row.
    pub fn end(&mut self) -> Result<(), SynthError> {
        self.emit()?;
        self.rows += 1;
        Ok(())
    }

    fn emit(&mut self) -> Result<(), SynthError> {
        self.line.clear();
        for (k, &i) in self.order.iter().enumerate() {
            if k > 0 {
                self.line.push(',');
            }
            let start = if i == 0 {
                0
            } else {
                self.ends.get(i - 1).copied().unwrap_or(0)
            };
            let end = self.ends.get(i).copied().unwrap_or(start);
            let field = &self.buf[start..end];
            if field.contains([',', '"', '\n', '\r']) {
                self.line.push('"');
                self.line.push_str(&field.replace('"', "\"\""));
                self.line.push('"');
            } else {
                self.line.push_str(field);
            }
        }
        let res = if self.st.enc == Enc::Gb18030 {
            // Excel on a Chinese desktop: GB18030 with CRLF line ends.
            self.line.push_str("\r\n");
            let (bytes, _, _) = encoding_rs::GB18030.encode(&self.line);
            self.w.write_all(&bytes)
        } else {
            self.line.push('\n');
            self.w.write_all(self.line.as_bytes())
        };
        self.buf.clear();
        self.ends.clear();
        res.map_err(io_err(&self.abs))
    }

    pub fn finish(mut self) -> Result<WrittenFile, SynthError> {
        self.w.flush().map_err(io_err(&self.abs))?;
        Ok(WrittenFile {
            path: self.rel,
            kind: self.kind.to_string(),
            rows: self.rows,
            encoding: self.st.enc.label().to_string(),
            header_lang: if self.st.en { "en" } else { "zh" }.to_string(),
        })
    }
}

/// A cell of a small XLSX sheet.
#[derive(Clone, Debug)]
pub enum Cell {
    Text(String),
    Date(NaiveDate),
    Money(Decimal),
    Int(i64),
}

/// An XLSX error, named by its file.
pub fn xlsx_err(path: &Path) -> impl Fn(rust_xlsxwriter::XlsxError) -> SynthError + Copy + '_ {
    move |e| SynthError::Xlsx {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A new workbook to be saved at `abs` (its folder made): its creation time is
/// fixed, so the file is byte-identical between runs.
pub fn fixed_workbook(abs: &Path) -> Result<rust_xlsxwriter::Workbook, SynthError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
    if let Some(dir) = abs.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2026, 1, 1).map_err(xlsx_err(abs))?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    Ok(wb)
}

/// Writes a one-sheet workbook with real date cells and numeric money cells.
pub fn write_xlsx(
    out: &Path,
    rel: &str,
    kind: &str,
    sheet: &str,
    header: &[&str],
    rows: &[Vec<Cell>],
) -> Result<WrittenFile, SynthError> {
    use rust_xlsxwriter::{ExcelDateTime, Format};
    let abs = out.join(rel);
    let xerr = xlsx_err(&abs);
    let mut wb = fixed_workbook(&abs)?;
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let money_fmt = Format::new().set_num_format("#,##0.00");
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(xerr)?;
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).map_err(xerr)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => ws.write_string(r, c, s).map(|_| ()),
                Cell::Date(d) => {
                    let dt =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                            .map_err(xerr)?;
                    ws.write_datetime_with_format(r, c, &dt, &date_fmt)
                        .map(|_| ())
                }
                // Excel keeps numbers as doubles; the reader rounds back to the fen.
                Cell::Money(x) => ws
                    .write_number_with_format(r, c, x.to_f64().unwrap_or(0.0), &money_fmt)
                    .map(|_| ()),
                Cell::Int(n) => ws.write_number(r, c, *n as f64).map(|_| ()),
            }
            .map_err(xerr)?;
        }
    }
    wb.save(&abs).map_err(xerr)?;
    Ok(WrittenFile {
        path: PathBuf::from(rel),
        kind: kind.to_string(),
        rows: rows.len() as u64,
        encoding: "xlsx".to_string(),
        header_lang: "zh".to_string(),
    })
}
