//! One row of text cells → typed cells, or every reason it cannot be accepted.

use polars::prelude::{PlHashMap, PlSmallStr};

use crate::idnum;
use crate::schema::{header_key, Catalog, ColType, Column, Schema};

use super::detect::HeaderMap;
use super::layout::Fact;
use super::source::RawRow;
use super::value;

/// A typed cell, as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    /// Text up to 24 bytes (numbers, ID numbers, names, codes: most cells) is held
    /// inline, without an allocation: ingest makes hundreds of millions of cells.
    Text(PlSmallStr),
    Int(i64),
    /// Days since 1970-01-01.
    Days(i32),
    /// Fixed-point: fen for money, 1/10000 percent for rates.
    Fixed(i128),
    Bool(bool),
}

/// Why a row (or a value in it) was not accepted. `code` is stable for counting;
/// `message` is for the person fixing the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
}

/// Reason codes with their Chinese terms, for reports and the README.
pub const REASON_CODES: &[(&str, &str)] = &[
    ("MISSING_VALUE", "缺少必填项"),
    ("BAD_DATE", "日期格式错误"),
    ("BAD_MONTH", "年月格式错误"),
    ("BAD_MONEY", "金额格式错误"),
    ("NEGATIVE_MONEY", "金额为负"),
    ("BAD_RATE", "利率格式错误"),
    ("BAD_NUMBER", "数值错误"),
    ("BAD_BOOL", "是否值错误"),
    ("BAD_ENUM", "代码值不在字典中"),
    ("BAD_ID", "身份证号码错误"),
    ("SUM_MISMATCH", "合计不符"),
    ("REQUIRED_IF", "条件必填项缺失"),
    ("DATE_ORDER", "日期先后顺序错误"),
    ("FIELD_COUNT", "列数与表头不符"),
    ("ENCODING", "文字编码错误"),
    ("DUPLICATE_KEY", "同一记录重复且内容不同"),
    ("ONE_OF", "收支只能填写一项"),
    ("TITLE_MISMATCH", "与表头信息不符"),
];

/// A schema column prepared for fast validation.
struct Plan<'a> {
    col: &'a Column,
    index: Option<usize>,
    /// Normalised enumeration text → stored code (enums and column references).
    codes: PlHashMap<String, PlSmallStr>,
    /// The value the file's title block gives this column (a printed report's
    /// 账号): used where the row has none, compared where it has one.
    fact: Option<FactValue>,
}

/// A title-block fact, typed, with how to name it in a reason.
struct FactValue {
    cell: Cell,
    text: String,
    label: String,
    line: u64,
}

/// Validates rows of one file against one schema.
pub struct Validator<'a> {
    pub schema: &'a Schema,
    plans: Vec<Plan<'a>>,
    extra: Vec<(usize, String)>,
    width: usize,
}

/// A row that passed: its cells (one per output column, see `output_columns`),
/// its line, and any flags (malformed ID on an operational record).
#[derive(Debug, Clone)]
pub struct Accepted {
    pub line: u64,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone)]
pub struct Quarantined {
    pub line: u64,
    pub raw: String,
    pub reasons: Vec<Reason>,
}

pub enum Outcome {
    Accepted(Accepted),
    Quarantined(Quarantined),
}

fn enum_codes(col: &Column, catalog: &Catalog) -> PlHashMap<String, PlSmallStr> {
    let mut codes = PlHashMap::default();
    match col.ty {
        ColType::Enum => {
            for (zh, code) in &col.values {
                codes.insert(header_key(zh), code.as_str().into());
                codes.insert(header_key(code), code.as_str().into());
            }
        }
        ColType::ColumnOf => {
            let of = col.of.as_deref().unwrap_or_default();
            if let Ok(other) = catalog.get(of) {
                for c in &other.columns {
                    for k in c.header_keys() {
                        codes.insert(k, c.name.as_str().into());
                    }
                }
            }
        }
        _ => {}
    }
    codes
}

// The stored layout of a kind (its columns, `_flags`, `_extra`) belongs to the schema,
// which the warehouse reads too; re-exported here for ingest's callers.
pub use crate::schema::{output_columns, OutType, EXTRA_COLUMN, FLAGS_COLUMN};

impl<'a> Validator<'a> {
    pub fn new(schema: &'a Schema, map: &HeaderMap, catalog: &Catalog) -> Validator<'a> {
        let plans = schema
            .columns
            .iter()
            .zip(&map.index)
            .map(|(col, index)| Plan {
                col,
                index: *index,
                codes: enum_codes(col, catalog),
                fact: None,
            })
            .collect();
        Validator {
            schema,
            plans,
            extra: map.extra.clone(),
            width: map.width,
        }
    }

    /// The title block's facts, each read as a value of its column; Err names the
    /// first that cannot be read (`place` says where a line is).
    pub fn with_facts(
        mut self,
        facts: &[Fact],
        place: impl Fn(u64) -> String,
    ) -> Result<Validator<'a>, String> {
        for f in facts {
            let what = format!("the title block's {} `{}`", f.label, f.text);
            if let Some(problem) = &f.problem {
                return Err(format!("{}: {what}: {problem}", place(f.line)));
            }
            let cell = {
                let plan = &self.plans[f.column];
                self.cell(
                    plan,
                    value::trim_text(&f.text),
                    false,
                    &mut Vec::new(),
                    &mut Vec::new(),
                )
            };
            match cell {
                Ok(Cell::Null) => {}
                Ok(cell) => {
                    self.plans[f.column].fact = Some(FactValue {
                        cell,
                        text: f.text.clone(),
                        label: f.label.clone(),
                        line: f.line,
                    })
                }
                Err(r) => return Err(format!("{}: {what}: {}", place(f.line), r.message)),
            }
        }
        Ok(self)
    }

    /// One column's value in a row: its cell, or the title block's fact where the
    /// row has none; a cell that differs from the fact is a reason.
    fn value(
        &self,
        plan: &Plan,
        row: &RawRow,
        legacy: &mut Vec<Cell>,
        flags: &mut Vec<String>,
    ) -> Result<Cell, Reason> {
        let text = plan
            .index
            .and_then(|i| row.cells.get(i))
            .map(value::trim_text)
            .unwrap_or("");
        let numeric = plan.index.is_some_and(|i| row.numeric.contains(&i));
        let Some(fact) = &plan.fact else {
            return self.cell(plan, text, numeric, legacy, flags);
        };
        if text.is_empty() {
            return Ok(fact.cell.clone());
        }
        let cell = self.cell(plan, text, numeric, legacy, flags)?;
        if cell != fact.cell {
            return Err(Reason {
                code: "TITLE_MISMATCH",
                message: format!(
                    "{} `{text}` is not the title block's {} `{}` (line {}); this line is not of the account the statement is for",
                    plan.col.label(),
                    fact.label,
                    fact.text,
                    fact.line
                ),
            });
        }
        Ok(cell)
    }

    pub fn check(&self, row: &RawRow) -> Outcome {
        let mut reasons = Vec::new();
        let mut cells = Vec::with_capacity(self.plans.len() + 4);
        let mut legacy = Vec::new();
        let mut flags = Vec::new();
        let has_extra_values = row.cells.len() > self.width
            && row
                .cells
                .iter()
                .skip(self.width)
                .any(|c| !c.trim().is_empty());
        if row.cells.len() < self.width || has_extra_values {
            reasons.push(Reason {
                code: "FIELD_COUNT",
                message: format!(
                    "the row has {} values but the header has {} columns",
                    row.cells.len(),
                    self.width
                ),
            });
        }
        // One scan of the whole record (its cells lie in one buffer), not a search
        // per cell: this runs on every row read (7 % of ingest's time per cell).
        if memchr::memmem::find(row.cells.as_slice().as_bytes(), "\u{fffd}".as_bytes()).is_some() {
            reasons.push(Reason {
                code: "ENCODING",
                message: "the row contains bytes that are neither UTF-8 nor GB18030 text (乱码)"
                    .to_string(),
            });
        }
        for plan in &self.plans {
            match self.value(plan, row, &mut legacy, &mut flags) {
                Ok(c) => cells.push(c),
                Err(r) => {
                    reasons.push(r);
                    cells.push(Cell::Null);
                }
            }
        }
        if reasons.is_empty() {
            self.check_rules(&cells, &mut reasons);
        }
        if !reasons.is_empty() {
            return Outcome::Quarantined(Quarantined {
                line: row.line,
                raw: row.raw_text(),
                reasons,
            });
        }
        cells.extend(legacy);
        cells.push(if flags.is_empty() {
            Cell::Null
        } else {
            Cell::Text(flags.join("; ").into())
        });
        cells.push(self.extra_json(row));
        Outcome::Accepted(Accepted {
            line: row.line,
            cells,
        })
    }

    /// The typed values of the given schema columns of a row (the others Null), or
    /// None when one of them cannot be read: a quarantined row of a snapshot still
    /// lists its record when its key is readable.
    pub fn typed_cells(&self, row: &RawRow, columns: &[usize]) -> Option<Vec<Cell>> {
        let mut cells = vec![Cell::Null; self.plans.len()];
        for &i in columns {
            let plan = self.plans.get(i)?;
            let (mut legacy, mut flags) = (Vec::new(), Vec::new());
            cells[i] = self.value(plan, row, &mut legacy, &mut flags).ok()?;
        }
        Some(cells)
    }

    /// `numeric`: the workbook stored this cell as a number (never for CSV).
    fn cell(
        &self,
        plan: &Plan,
        text: &str,
        numeric: bool,
        legacy: &mut Vec<Cell>,
        flags: &mut Vec<String>,
    ) -> Result<Cell, Reason> {
        let col = plan.col;
        if text.is_empty() {
            if col.ty == ColType::IdNumber {
                legacy.push(Cell::Null);
            }
            return if col.required {
                Err(Reason {
                    code: "MISSING_VALUE",
                    message: format!("{} is empty", col.label()),
                })
            } else {
                Ok(Cell::Null)
            };
        }
        let fail = |code: &'static str, m: String| Reason {
            code,
            message: format!("{}: {m}", col.label()),
        };
        Ok(match col.ty {
            ColType::String | ColType::Name => Cell::Text(text.into()),
            ColType::Code => Cell::Text(idnum::fold_width(text).as_ref().into()),
            ColType::IdNumber => return self.id_cell(col, text, numeric, legacy, flags),
            ColType::Date => Cell::Days(value::epoch_days(
                value::parse_date(text).map_err(|m| fail("BAD_DATE", m))?,
            )),
            ColType::Month => Cell::Days(value::epoch_days(
                value::parse_month(text).map_err(|m| fail("BAD_MONTH", m))?,
            )),
            ColType::Money => Cell::Fixed(value::parse_money(text, col.signed).map_err(|m| {
                let code = if m.contains("negative") {
                    "NEGATIVE_MONEY"
                } else {
                    "BAD_MONEY"
                };
                fail(code, m)
            })?),
            ColType::Rate => Cell::Fixed(value::parse_rate(text).map_err(|m| fail("BAD_RATE", m))?),
            ColType::Integer => Cell::Int(
                value::parse_integer(text, col.min, col.max).map_err(|m| fail("BAD_NUMBER", m))?,
            ),
            ColType::Bool => Cell::Bool(value::parse_bool(text).map_err(|m| fail("BAD_BOOL", m))?),
            ColType::Enum | ColType::ColumnOf => match plan
                .codes
                .get(text)
                .or_else(|| plan.codes.get(&header_key(text)))
            {
                Some(code) => Cell::Text(code.clone()),
                None => {
                    let mut allowed: Vec<&str> = col.values.keys().map(String::as_str).collect();
                    if col.ty == ColType::ColumnOf {
                        allowed = vec!["a column name of the referenced kind"];
                    }
                    return Err(fail(
                        "BAD_ENUM",
                        format!("`{text}` is not one of {}", allowed.join(" / ")),
                    ));
                }
            },
        })
    }

    /// Operational records keep a malformed ID (flagged, later an ID_INVALID
    /// finding); registries are authoritative, so there it is a quarantine reason
    /// (docs/rules.md § Quarantine vs flag (隔离与标记)). An ID number that lost
    /// digits in Excel is malformed like any other, with its own reason.
    fn id_cell(
        &self,
        col: &Column,
        text: &str,
        numeric: bool,
        legacy: &mut Vec<Cell>,
        flags: &mut Vec<String>,
    ) -> Result<Cell, Reason> {
        let id = idnum::parse_cell(text, numeric);
        legacy.push(
            id.legacy15
                .as_deref()
                .map_or(Cell::Null, |s| Cell::Text(s.into())),
        );
        if let Some(problem) = &id.problem {
            let message = format!("{} `{}` {problem}", col.label(), text);
            if self.schema.class == crate::schema::Class::Registry {
                return Err(Reason {
                    code: "BAD_ID",
                    message,
                });
            }
            flags.push(format!("ID_INVALID: {message}"));
        }
        Ok(Cell::Text(id.normalized.into()))
    }

    fn position(&self, name: &str) -> usize {
        self.plans
            .iter()
            .position(|p| p.col.name == name)
            .expect("rules name known columns (checked at load)")
    }

    fn check_rules(&self, cells: &[Cell], reasons: &mut Vec<Reason>) {
        let label = |n: &str| self.plans[self.position(n)].col.label();
        for rule in &self.schema.rules {
            if let Some(total) = &rule.sum {
                let get = |n: &str| match &cells[self.position(n)] {
                    Cell::Fixed(v) => Some(*v),
                    _ => None,
                };
                let parts: Option<Vec<i128>> = rule.of.iter().map(|p| get(p)).collect();
                if let (Some(t), Some(parts)) = (get(total), parts) {
                    let sum: i128 = parts.iter().sum();
                    if t != sum {
                        let terms: Vec<String> = rule
                            .of
                            .iter()
                            .zip(&parts)
                            .map(|(n, v)| format!("{} {}", label(n), value::format_fen(*v)))
                            .collect();
                        reasons.push(Reason {
                            code: "SUM_MISMATCH",
                            message: format!(
                                "{} {} ≠ {}",
                                label(total),
                                value::format_fen(t),
                                terms.join(" + ")
                            ),
                        });
                    }
                }
            }
            if let (Some(target), Some(when), Some(equals)) =
                (&rule.required_if, &rule.when, &rule.equals)
            {
                let cond =
                    matches!(&cells[self.position(when)], Cell::Text(v) if v.as_str() == equals);
                if cond && cells[self.position(target)] == Cell::Null {
                    reasons.push(Reason {
                        code: "REQUIRED_IF",
                        message: format!(
                            "{} is required when {} is {equals}",
                            label(target),
                            label(when)
                        ),
                    });
                }
            }
            if !rule.one_of.is_empty() {
                self.check_one_of(&rule.one_of, cells, reasons);
            }
            if let (Some(later), Some(earlier)) = (&rule.not_before, &rule.other) {
                if let (Cell::Days(a), Cell::Days(b)) =
                    (&cells[self.position(later)], &cells[self.position(earlier)])
                {
                    if a < b {
                        reasons.push(Reason {
                            code: "DATE_ORDER",
                            message: format!(
                                "{} {} is before {} {}",
                                label(later),
                                value::from_epoch_days(*a),
                                label(earlier),
                                value::from_epoch_days(*b)
                            ),
                        });
                    }
                }
            }
        }
    }

    /// Exactly one of the amounts is > 0, the others empty or 0.
    fn check_one_of(&self, names: &[String], cells: &[Cell], reasons: &mut Vec<Reason>) {
        let filled: Vec<(String, i128)> = names
            .iter()
            .filter_map(|n| {
                let i = self.position(n);
                match cells[i] {
                    Cell::Fixed(v) if v > 0 => Some((self.plans[i].col.label(), v)),
                    _ => None,
                }
            })
            .collect();
        if filled.len() == 1 {
            return;
        }
        let labels: Vec<String> = names
            .iter()
            .map(|n| self.plans[self.position(n)].col.label())
            .collect();
        let message = if filled.is_empty() {
            format!(
                "none of {} is filled; exactly one must be > 0 (收支只能且必须填写一项)",
                labels.join(" / ")
            )
        } else {
            let both: Vec<String> = filled
                .iter()
                .map(|(l, v)| format!("{l} {}", value::format_fen(*v)))
                .collect();
            format!(
                "{} are filled; exactly one of {} may be > 0, the other empty or 0 (收支只能填写一项)",
                both.join(" and "),
                labels.join(" / ")
            )
        };
        reasons.push(Reason {
            code: "ONE_OF",
            message,
        });
    }

    fn extra_json(&self, row: &RawRow) -> Cell {
        let pairs: serde_json::Map<String, serde_json::Value> = self
            .extra
            .iter()
            .filter_map(|(i, name)| {
                let v = value::trim_text(row.cells.get(*i)?);
                (!v.is_empty()).then(|| (name.clone(), serde_json::Value::String(v.to_string())))
            })
            .collect();
        if pairs.is_empty() {
            Cell::Null
        } else {
            Cell::Text(serde_json::Value::Object(pairs).to_string().into())
        }
    }
}
