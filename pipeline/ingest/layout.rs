//! Printed reports (a kind's `[layout]`): the facts of the title block above the
//! header, and the lines below it that are not records — total lines, checked
//! against the lines above them, and a header printed again — with the running
//! balance checked line by line (docs/rules.md § Printed bank statements).
//!
//! A disagreement is not a row problem: the bank printed the file, and a total or a
//! balance that does not follow from its lines means the file is not what the bank
//! holds (cut, edited, or two statements joined). The file is refused as a whole.

use crate::idnum::fold_width;
use crate::schema::{header_key, FactColumns, Layout, Schema};

use super::detect::HeaderMap;
use super::source::{self, RawRow};
use super::value;

/// A fact of the file read from its title block: the value of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The schema column it fills (its position among the schema's columns).
    pub column: usize,
    /// The value as printed (one end of a period for a period fact).
    pub text: String,
    /// The label as printed (`账号`, `起止日期`) and where.
    pub label: String,
    pub line: u64,
    /// Why the value cannot be used (a period that is not two dates).
    pub problem: Option<String>,
}

/// The facts the title block gives, in the order of the layout's facts. A label
/// found twice counts where it is first found.
pub fn title_facts(schema: &Schema, title: &[RawRow]) -> Vec<Fact> {
    let Some(layout) = &schema.layout else {
        return Vec::new();
    };
    let position = |name: &str| schema.columns.iter().position(|c| c.name == name);
    let mut facts = Vec::new();
    for spec in &layout.facts {
        let Some(found) = find_labelled(title, &spec.labels) else {
            continue;
        };
        let (label, text, line) = (found.label.clone(), found.value.clone(), found.line);
        let fact = |column: usize, text: &str, problem: Option<String>| Fact {
            column,
            text: text.to_string(),
            label: label.clone(),
            line,
            problem,
        };
        match &spec.column {
            FactColumns::One(name) => facts.extend(position(name).map(|c| fact(c, &text, None))),
            FactColumns::Range([from, to]) => {
                let (Some(a), Some(b)) = (position(from), position(to)) else {
                    continue;
                };
                match period_of(&found) {
                    Ok((x, y)) => facts.extend([fact(a, &x, None), fact(b, &y, None)]),
                    Err(why) => {
                        facts.extend([fact(a, &text, Some(why.clone())), fact(b, &text, Some(why))])
                    }
                }
            }
        }
    }
    facts
}

/// A labelled value of the title block.
struct Labelled {
    /// The label as the layout names it.
    label: String,
    value: String,
    line: u64,
    /// When the value stood in the next cell: the non-empty cells after it (a
    /// workbook may print a period as `起止日期` | 2026-09-01 | 至 | 2026-09-30).
    after: Vec<String>,
}

/// The first `label：value` of the title block for one of `labels`: in one cell
/// (`账号：622848…`, several pairs in one cell separated by spaces), or the value in
/// the next non-empty cell (`账号：` | `622848…`, or `账号` | `622848…`).
fn find_labelled(title: &[RawRow], labels: &[String]) -> Option<Labelled> {
    for row in title {
        let cells: Vec<&str> = row.cells.iter().collect();
        for (i, cell) in cells.iter().enumerate() {
            for label in labels {
                let Some(rest) = after_label(cell, label) else {
                    continue;
                };
                let (value, after) = if rest.is_empty() {
                    let mut next = cells[i + 1..]
                        .iter()
                        .map(|c| value::trim_text(c).to_string())
                        .filter(|c| !c.is_empty());
                    let value = next.next().unwrap_or_default();
                    (value, next.take(2).collect())
                } else {
                    (rest, Vec::new())
                };
                if !value.is_empty() {
                    return Some(Labelled {
                        label: label.clone(),
                        value,
                        line: row.line,
                        after,
                    });
                }
            }
        }
    }
    None
}

/// A period from a labelled value, or from it and the cells after it.
fn period_of(found: &Labelled) -> Result<(String, String), String> {
    let first = split_period(&found.value);
    if first.is_ok() {
        return first;
    }
    (1..=found.after.len())
        .map(|k| format!("{} {}", found.value, found.after[..k].join(" ")))
        .find_map(|text| split_period(&text).ok())
        .ok_or_else(|| first.unwrap_err())
}

/// The value after `label` in a cell: the label at the start of the cell or after a
/// space or separator (so 账号 is not found in 对方账号), spaces allowed between its
/// characters (`账　　号`), then `:`/`：` or the end of the cell. The value runs to
/// the next `label：` of the same cell. None when the label is not there.
fn after_label(cell: &str, label: &str) -> Option<String> {
    let chars: Vec<char> = cell.chars().collect();
    let want: Vec<char> = label.chars().filter(|c| !is_space(*c)).collect();
    let boundary =
        |i: usize| i == 0 || is_space(chars[i - 1]) || ",，;；|、(（[【".contains(chars[i - 1]);
    for start in (0..chars.len()).filter(|&i| boundary(i) && !is_space(chars[i])) {
        let mut k = start;
        let mut matched = 0;
        while k < chars.len() && matched < want.len() {
            if is_space(chars[k]) && matched > 0 {
                k += 1;
            } else if chars[k] == want[matched] {
                matched += 1;
                k += 1;
            } else {
                break;
            }
        }
        if matched < want.len() {
            continue;
        }
        while k < chars.len() && is_space(chars[k]) {
            k += 1;
        }
        match chars.get(k) {
            None => return Some(String::new()),
            Some(':' | '：') => {
                let rest: String = chars[k + 1..].iter().collect();
                return Some(value_before_next_label(&rest));
            }
            Some(_) => continue,
        }
    }
    None
}

/// `2026-09-01 至 2026-09-30 币种：人民币` → `2026-09-01 至 2026-09-30`: the words
/// up to the one that holds the next label's colon.
fn value_before_next_label(rest: &str) -> String {
    let words: Vec<&str> = rest.split(is_space).filter(|w| !w.is_empty()).collect();
    let end = words
        .iter()
        .position(|w| w.contains([':', '：']))
        .unwrap_or(words.len());
    words[..end].join(" ")
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}'
}

/// A period as the first and last day: `2026-09-01 至 2026-09-30`,
/// `20260901-20260930`, `2026/9/1—2026/9/30`, `2026年9月1日到2026年9月30日`.
pub fn split_period(text: &str) -> Result<(String, String), String> {
    let folded = fold_width(text);
    let chars: Vec<char> = folded.chars().collect();
    let bad = || {
        format!("`{text}` is not a period of two dates (expected e.g. 2026-09-01 至 2026-09-30, 20260901-20260930)")
    };
    for (i, c) in chars.iter().enumerate() {
        if !matches!(c, '至' | '到' | '~' | '—' | '–' | '-' | '―' | '－') {
            continue;
        }
        let from: String = chars[..i].iter().collect();
        let to: String = chars[i + 1..].iter().collect();
        let to = to.trim_start_matches(['—', '-']).to_string();
        if let (Ok(a), Ok(b)) = (value::parse_date(&from), value::parse_date(&to)) {
            if b < a {
                return Err(format!("the period `{text}` ends before it starts"));
            }
            return Ok((from, to));
        }
    }
    Err(bad())
}

/// What a row below the header is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Record,
    /// A total line or the header printed again (a new page): not a record.
    NotARecord,
}

/// A running sum of one money column over record lines; `unreadable` when one of
/// them could not be read (that line is quarantined with its reason, and a total
/// over it cannot be checked).
#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    fen: i128,
    unreadable: bool,
}

/// A money column as the file has it: its label and position (None: not in the file).
struct MoneyColumn {
    label: String,
    index: Option<usize>,
}

impl MoneyColumn {
    /// The cell's amount: Some(0) when empty, None when it cannot be read.
    fn amount(&self, row: &RawRow) -> Option<i128> {
        let Some(i) = self.index else {
            return Some(0);
        };
        let text = row.cells.get(i).map_or("", value::trim_text);
        if text.is_empty() {
            return Some(0);
        }
        value::parse_money(text, true).ok()
    }
}

/// The checks of a printed report's lines, fed one row at a time in file order.
pub struct Printed {
    file: String,
    sheet: Option<String>,
    page_labels: Vec<String>,
    file_labels: Vec<String>,
    totals: Vec<MoneyColumn>,
    page: Vec<Sum>,
    whole: Vec<Sum>,
    /// (balance, plus, minus) of a running balance.
    running: Option<[MoneyColumn; 3]>,
    /// The previous record line's balance and line (None: nothing to continue from).
    previous: Option<(i128, u64)>,
    header: Vec<String>,
}

impl Printed {
    /// The checks of a file of `schema` with header `map`; None for a kind without
    /// a layout (a plain table: every row below the header is a record).
    pub fn new(
        schema: &Schema,
        map: &HeaderMap,
        header: &[String],
        file: String,
        sheet: Option<String>,
    ) -> Option<Printed> {
        let layout: &Layout = schema.layout.as_ref()?;
        let column = |name: &str| {
            let i = schema.columns.iter().position(|c| c.name == name)?;
            Some(MoneyColumn {
                label: schema.columns[i].label(),
                index: map.index[i],
            })
        };
        let totals: Vec<MoneyColumn> = layout.totals.iter().filter_map(|n| column(n)).collect();
        let running = layout
            .running
            .as_ref()
            .and_then(|r| Some([column(&r.balance)?, column(&r.plus)?, column(&r.minus)?]));
        let labels = |l: &[String]| -> Vec<String> { l.iter().map(|s| header_key(s)).collect() };
        Some(Printed {
            file,
            sheet,
            page_labels: labels(&layout.page_totals),
            file_labels: labels(&layout.file_totals),
            page: vec![Sum::default(); totals.len()],
            whole: vec![Sum::default(); totals.len()],
            totals,
            running,
            previous: None,
            header: header.iter().map(|h| header_key(h)).collect(),
        })
    }

    fn at(&self, line: u64) -> String {
        format!(
            "{} {}",
            self.file,
            source::place(self.sheet.as_deref(), line)
        )
    }

    /// A row below the header: a record (its amounts added up, its balance checked)
    /// or not; Err when the file must be refused, saying why.
    pub fn see(&mut self, row: &RawRow) -> Result<Role, String> {
        let first = row
            .cells
            .iter()
            .map(value::trim_text)
            .find(|c| !c.is_empty())
            .unwrap_or("");
        let key = header_key(first);
        let is = |labels: &[String]| labels.iter().any(|l| key.starts_with(l.as_str()));
        if is(&self.page_labels) {
            self.check_total(row, first, "page total", true)?;
            self.page = vec![Sum::default(); self.totals.len()];
            return Ok(Role::NotARecord);
        }
        if is(&self.file_labels) {
            self.check_total(row, first, "total of the file", false)?;
            return Ok(Role::NotARecord);
        }
        if self.is_header_again(row) {
            return Ok(Role::NotARecord);
        }
        for (k, col) in self.totals.iter().enumerate() {
            let amount = col.amount(row);
            for sum in [&mut self.page[k], &mut self.whole[k]] {
                match amount {
                    Some(v) => sum.fen += v,
                    None => sum.unreadable = true,
                }
            }
        }
        self.check_running(row)?;
        Ok(Role::Record)
    }

    fn is_header_again(&self, row: &RawRow) -> bool {
        row.cells.len() >= self.header.len()
            && self
                .header
                .iter()
                .zip(row.cells.iter())
                .all(|(h, c)| *h == header_key(c))
    }

    /// A total line's amounts against the record lines it covers: the page's since
    /// the previous page total, or the whole file's. An empty cell states nothing.
    fn check_total(&self, row: &RawRow, label: &str, what: &str, page: bool) -> Result<(), String> {
        let sums = if page { &self.page } else { &self.whole };
        for (col, sum) in self.totals.iter().zip(sums) {
            let Some(i) = col.index else { continue };
            let text = row.cells.get(i).map_or("", value::trim_text);
            if text.is_empty() {
                continue;
            }
            let stated = value::parse_money(text, true).map_err(|why| {
                format!(
                    "{}: the {label} ({what}) line's {} cannot be read: {why}; the file is refused, nothing from it is stored",
                    self.at(row.line),
                    col.label
                )
            })?;
            if !sum.unreadable && stated != sum.fen {
                let covers = if page {
                    "the lines of its page (since the previous page total) add up to"
                } else {
                    "the lines above it add up to"
                };
                return Err(format!(
                    "{}: {label} ({what}) of {} is {}, but {covers} {} (合计不符); the file is refused, nothing from it is stored",
                    self.at(row.line),
                    col.label,
                    value::format_fen(stated),
                    value::format_fen(sum.fen)
                ));
            }
        }
        Ok(())
    }

    /// Each line's balance is the previous line's plus its income minus its
    /// expense; the first line (or the first after an unreadable one) sets it.
    fn check_running(&mut self, row: &RawRow) -> Result<(), String> {
        let Some([balance, plus, minus]) = &self.running else {
            return Ok(());
        };
        let empty = balance
            .index
            .is_none_or(|i| row.cells.get(i).map_or("", value::trim_text).is_empty());
        let (Some(b), Some(p), Some(m)) =
            (balance.amount(row), plus.amount(row), minus.amount(row))
        else {
            self.previous = None;
            return Ok(());
        };
        if empty {
            self.previous = None;
            return Ok(());
        }
        if let Some((prev, prev_line)) = self.previous {
            let expected = prev + p - m;
            if b != expected {
                return Err(format!(
                    "{}: the running balance breaks (余额不连续): {} is {}, but {} (the balance of {}) + {} {} − {} {} = {}; the file is refused, nothing from it is stored",
                    self.at(row.line),
                    balance.label,
                    value::format_fen(b),
                    value::format_fen(prev),
                    source::place(self.sheet.as_deref(), prev_line),
                    plus.label,
                    value::format_fen(p),
                    minus.label,
                    value::format_fen(m),
                    value::format_fen(expected)
                ));
            }
        }
        self.previous = Some((b, row.line));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_found_alone_with_a_colon_or_before_the_next_cell() {
        assert_eq!(
            after_label("账号：622848001234567890", "账号").as_deref(),
            Some("622848001234567890")
        );
        assert_eq!(
            after_label("账号: 6228 4800", "账号").as_deref(),
            Some("6228 4800")
        );
        assert_eq!(after_label("账　　号：1", "账号").as_deref(), Some("1"));
        assert_eq!(after_label("账号", "账号").as_deref(), Some(""));
        assert_eq!(after_label("对方账号：1", "账号"), None);
        assert_eq!(after_label("账号名称：某某", "账号"), None);
        assert_eq!(
            after_label(
                "币种：人民币 起止日期：2026-09-01 至 2026-09-30 打印日期：2026-10-01",
                "起止日期"
            )
            .as_deref(),
            Some("2026-09-01 至 2026-09-30")
        );
    }

    #[test]
    fn a_period_may_stand_in_the_cells_after_its_label() {
        let row = RawRow {
            line: 3,
            cells: vec![
                "起止日期",
                "2026-09-01",
                "至",
                "2026-09-30",
                "",
                "币种",
                "人民币",
            ]
            .into(),
            numeric: Vec::new(),
        };
        let found = find_labelled(&[row], &["起止日期".to_string()]).unwrap();
        assert_eq!(found.line, 3);
        assert_eq!(
            period_of(&found).unwrap(),
            ("2026-09-01".to_string(), "2026-09-30".to_string())
        );
    }

    #[test]
    fn periods_are_split_in_the_ways_banks_print_them() {
        for text in [
            "2026-09-01 至 2026-09-30",
            "20260901-20260930",
            "2026/9/1—2026/9/30",
            "2026-09-01-2026-09-30",
            "2026年9月1日到2026年9月30日",
            "2026-09-01 ~ 2026-09-30",
        ] {
            let (a, b) = split_period(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                value::parse_date(&a).unwrap().to_string(),
                "2026-09-01",
                "{text}"
            );
            assert_eq!(
                value::parse_date(&b).unwrap().to_string(),
                "2026-09-30",
                "{text}"
            );
        }
        assert!(split_period("2026年9月").is_err());
        assert!(split_period("2026-09-30 至 2026-09-01")
            .unwrap_err()
            .contains("ends before"));
    }
}
