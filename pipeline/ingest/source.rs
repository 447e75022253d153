//! The one place that opens input files: CSV/TXT in UTF-8 or GB18030 (detected),
//! and XLSX (first sheet). Everything downstream sees rows of text cells with their
//! line numbers.
//!
//! A row's number is where a clerk finds it: in a CSV, the physical line an editor
//! shows (the header is line 1; a record whose quoted field holds line breaks is
//! numbered by the line it starts on, and pushes later records down); in a
//! workbook, the sheet name and the row number Excel shows.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use calamine::{Data, Reader};

use super::decode::{EncodingSeen, LineDecoder};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: cannot open the file: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error("{path} line {line}: cannot read the CSV text: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

/// One data row: the 1-based line (CSV) or row number (XLSX) and its cells.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    pub line: u64,
    /// The values as read: one buffer for the whole row, not a String per cell
    /// (ingest handles tens of millions of rows).
    pub cells: csv::StringRecord,
    /// Positions of the cells a workbook stored as numbers (empty for CSV): an ID
    /// number in such a cell has lost its last digits (Excel keeps 15).
    pub numeric: Vec<usize>,
}

/// Where a row is, in the words a clerk uses to find it: `line 17` in a CSV,
/// `sheet 发放明细, row 17` in a workbook.
pub fn place(sheet: Option<&str>, line: u64) -> String {
    match sheet {
        Some(name) => format!("sheet {name}, row {line}"),
        None => format!("line {line}"),
    }
}

impl RawRow {
    /// The row as CSV text, for the quarantine table.
    pub fn raw_text(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = w.write_record(&self.cells);
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8_lossy(&bytes).trim_end().to_string()
    }
}

enum Inner {
    Csv(csv::Reader<Box<dyn Read + Send>>),
    Xlsx(std::vec::IntoIter<RawRow>),
}

/// An opened input: its header and a stream of rows.
pub struct Source {
    pub path: PathBuf,
    seen: Option<Arc<EncodingSeen>>,
    pub header: Vec<String>,
    pub header_line: u64,
    /// The sheet read, for a workbook (None for CSV).
    pub sheet: Option<String>,
    inner: Inner,
    /// The row taken as the header (the first non-empty one until `use_header`).
    header_row: RawRow,
    /// The next rows, read ahead so that a printed report's header can be found
    /// below its title block; handed out first by `next_row_into`.
    ahead: VecDeque<RawRow>,
    /// A read error met while reading ahead: handed out after those rows.
    ahead_error: Option<SourceError>,
}

/// How many non-empty rows a header may be preceded by (a printed report's title
/// block: bank name, 户名, 账号, 起止日期, … — a handful of lines).
pub const TITLE_ROWS_AT_MOST: usize = 20;

pub fn is_xlsx(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xlsm"))
}

/// Files this tool reads (others in a folder are skipped and reported).
pub fn is_input_file(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    ["csv", "txt", "xlsx", "xlsm"]
        .iter()
        .any(|x| ext.eq_ignore_ascii_case(x))
}

impl Source {
    /// Opens a file; `progress` counts bytes read (CSV only).
    pub fn open(path: &Path, progress: Arc<AtomicU64>) -> Result<Source, SourceError> {
        if is_xlsx(path) {
            open_xlsx(path)
        } else {
            open_csv(path, progress)
        }
    }

    /// How the file was decoded: `utf8`, `utf8-bom`, `gb18030`, `mixed` or `xlsx`.
    pub fn encoding(&self) -> &'static str {
        self.seen.as_ref().map_or("xlsx", |s| s.label())
    }

    /// Where the header is (`line 1`, `sheet 发放明细, row 3`).
    pub fn header_place(&self) -> String {
        place(self.sheet.as_deref(), self.header_line)
    }

    /// The rows that may be the header, in file order: the first non-empty row and
    /// the non-empty rows after it, up to `TITLE_ROWS_AT_MOST` of them.
    pub fn head(&self) -> Vec<RawRow> {
        std::iter::once(&self.header_row)
            .chain(&self.ahead)
            .cloned()
            .collect()
    }

    /// Takes row `at` of `head()` as the header; the rows above it (returned) are
    /// the title block, not records.
    pub fn use_header(&mut self, at: usize) -> Vec<RawRow> {
        let mut title = Vec::with_capacity(at);
        for _ in 0..at.min(self.ahead.len()) {
            if let Some(next) = self.ahead.pop_front() {
                title.push(std::mem::replace(&mut self.header_row, next));
            }
        }
        self.header = self.header_row.cells.iter().map(str::to_string).collect();
        self.header_line = self.header_row.line;
        title
    }

    /// Reads the rows after the header ahead (see `head`).
    fn read_ahead(&mut self) {
        while self.ahead.len() + 1 < TITLE_ROWS_AT_MOST {
            let mut row = RawRow::default();
            match self.next_from_file(&mut row) {
                Some(Ok(())) => self.ahead.push_back(row),
                Some(Err(e)) => {
                    self.ahead_error = Some(e);
                    break;
                }
                None => break,
            }
        }
    }

    /// The next row, read into `row`, skipping rows whose cells are all empty;
    /// None at the end. The row's buffers are reused: reading tens of millions of
    /// rows allocates for a batch of them, not for each.
    pub fn next_row_into(&mut self, row: &mut RawRow) -> Option<Result<(), SourceError>> {
        if let Some(next) = self.ahead.pop_front() {
            *row = next;
            return Some(Ok(()));
        }
        if let Some(e) = self.ahead_error.take() {
            return Some(Err(e));
        }
        self.next_from_file(row)
    }

    fn next_from_file(&mut self, row: &mut RawRow) -> Option<Result<(), SourceError>> {
        loop {
            match &mut self.inner {
                Inner::Xlsx(rows) => *row = rows.next()?,
                Inner::Csv(reader) => match read_csv_record(reader, &mut row.cells)? {
                    Ok(line) => {
                        row.line = line;
                        row.numeric.clear();
                    }
                    Err(e) => {
                        return Some(Err(SourceError::Csv {
                            path: self.path.clone(),
                            line: e.position().map_or(0, |p| p.line()),
                            message: e.to_string(),
                        }))
                    }
                },
            }
            if !row.cells.iter().all(|c| c.trim().is_empty()) {
                return Some(Ok(()));
            }
        }
    }
}

fn unreadable(path: &Path, message: impl Into<String>) -> SourceError {
    SourceError::Unreadable {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Refuses what is not CSV text at all; the encoding itself is decided line by
/// line (see `decode`).
fn check_text(path: &Path, sample: &[u8]) -> Result<(), SourceError> {
    if sample.starts_with(&[0xFF, 0xFE]) || sample.starts_with(&[0xFE, 0xFF]) {
        return Err(unreadable(
            path,
            "the file is UTF-16 text (Excel \"Unicode text\"); save it as \"CSV UTF-8\" or as CSV (GBK) and ingest it again",
        ));
    }
    if sample.contains(&0) || sample.starts_with(b"PK\x03\x04") {
        return Err(unreadable(
            path,
            "the file is binary, not CSV text; expected a .csv/.txt table or an .xlsx workbook",
        ));
    }
    Ok(())
}

fn open_csv(path: &Path, progress: Arc<AtomicU64>) -> Result<Source, SourceError> {
    let open_err = |source| SourceError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(open_err)?;
    let mut sample = vec![0u8; 64 * 1024];
    let n = read_full(&mut file, &mut sample).map_err(open_err)?;
    sample.truncate(n);
    check_text(path, &sample)?;
    let file = File::open(path).map_err(open_err)?;
    let seen = Arc::new(EncodingSeen::default());
    let decoded: Box<dyn Read + Send> = Box::new(LineDecoder::new(
        BufReader::with_capacity(1 << 20, file),
        progress,
        seen.clone(),
    ));
    let delimiter = sniff_delimiter(&sample);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(1 << 20)
        .from_reader(decoded);
    let mut rec = csv::StringRecord::new();
    let (header_line, header) = loop {
        match read_csv_record(&mut reader, &mut rec) {
            None => return Err(unreadable(path, "the file is empty: no header row")),
            Some(Err(e)) => {
                return Err(unreadable(path, format!("cannot read the header row: {e}")))
            }
            Some(Ok(_)) if rec.iter().all(|c| c.trim().is_empty()) => continue,
            Some(Ok(line)) => break (line, rec.iter().map(str::to_string).collect()),
        }
    };
    let mut src = Source {
        path: path.to_path_buf(),
        seen: Some(seen),
        header,
        header_line,
        sheet: None,
        inner: Inner::Csv(reader),
        header_row: RawRow {
            line: header_line,
            cells: rec,
            numeric: Vec::new(),
        },
        ahead: VecDeque::new(),
        ahead_error: None,
    };
    src.read_ahead();
    Ok(src)
}

/// The next CSV record, read into `rec`, and the physical line it starts on.
///
/// The csv crate's own record position is the line where its read began, which is
/// one short after a CRLF line end or a blank line. The line where the record ends is
/// exact, though: the decoder hands over LF line ends only and a final LF, so after a
/// record the reader stands at the start of the next line. Going back over the
/// record's own line breaks (inside quoted fields) gives the line it starts on.
fn read_csv_record(
    reader: &mut csv::Reader<Box<dyn Read + Send>>,
    rec: &mut csv::StringRecord,
) -> Option<Result<u64, csv::Error>> {
    match reader.read_record(rec) {
        Ok(false) => None,
        Err(e) => Some(Err(e)),
        Ok(true) => {
            let after = reader.position().line();
            let breaks = memchr::memchr_iter(b'\n', rec.as_slice().as_bytes()).count() as u64;
            Some(Ok(after.saturating_sub(1 + breaks).max(1)))
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Tab-separated `.txt` exports exist; a header line with tabs and no commas is one.
fn sniff_delimiter(sample: &[u8]) -> u8 {
    let first_line = sample.split(|b| *b == b'\n').next().unwrap_or(&[]);
    if first_line.contains(&b'\t') && !first_line.contains(&b',') {
        b'\t'
    } else {
        b','
    }
}

fn open_xlsx(path: &Path) -> Result<Source, SourceError> {
    let mut book = calamine::open_workbook_auto(path)
        .map_err(|e| unreadable(path, format!("not a readable Excel workbook: {e}")))?;
    let sheet = book.sheet_names().first().cloned();
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| unreadable(path, "the workbook has no sheet"))?
        .map_err(|e| unreadable(path, format!("cannot read the first sheet: {e}")))?;
    // The range starts at its first used cell; Excel numbers rows from 1.
    let first_row = range.start().map_or(0, |(r, _)| r as u64);
    let mut rows = range.rows().enumerate().map(|(i, cells)| RawRow {
        line: first_row + i as u64 + 1,
        cells: cells.iter().map(cell_text).collect::<Vec<String>>().into(),
        numeric: cells
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, Data::Int(_) | Data::Float(_)))
            .map(|(k, _)| k)
            .collect(),
    });
    let header_row = rows
        .by_ref()
        .find(|r| r.cells.iter().any(|c| !c.trim().is_empty()))
        .ok_or_else(|| unreadable(path, "the first sheet is empty: no header row"))?;
    let rest: Vec<RawRow> = rows.collect();
    let mut src = Source {
        path: path.to_path_buf(),
        seen: None,
        header: header_row.cells.iter().map(str::to_string).collect(),
        header_line: header_row.line,
        sheet,
        inner: Inner::Xlsx(rest.into_iter()),
        header_row,
        ahead: VecDeque::new(),
        ahead_error: None,
    };
    src.read_ahead();
    Ok(src)
}

/// A spreadsheet cell as the text a clerk sees. Numeric cells arrive as binary
/// floating point; the shortest representation that round-trips (`1234.5`) is the
/// number typed in, and the money parser then reads that text exactly.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(x) => format!("{x}"),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) => d.date().format("%Y-%m-%d").to_string(),
            None => format!("{}", dt.as_f64()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}
