//! From a chart definition (a `[chart]` in a report's TOML, or reports/charts/*.toml
//! with its own .sql) to the data the drawing code takes. Exact decimals become f64
//! here and only here: pixel geometry needs floats, and every number printed on a
//! chart comes from the exact value's text.

use std::collections::HashMap;
use std::path::PathBuf;

use duckdb::Connection;
use rust_decimal::prelude::ToPrimitive;

use super::chart::{Chart, ChartData, Series};
use super::def::{ChartDef, ChartKind, ChartSource, Format, SeriesDef};
use super::table::{Cell, Table};
use super::ReportError;

/// The chart's rows by column name, and the file to name in messages.
struct Frame {
    names: Vec<String>,
    rows: Vec<Vec<Cell>>,
    path: PathBuf,
}

impl Frame {
    fn load(conn: &Connection, def: &ChartDef, tables: &[Table]) -> Result<Frame, ReportError> {
        match &def.source {
            ChartSource::Sql(sql) => {
                let path = def.path.clone();
                let (names, rows) = super::table::query_cells(conn, sql, &path)?;
                Ok(Frame { names, rows, path })
            }
            ChartSource::Table(name) => {
                let path = def.path.clone();
                let t = tables.iter().find(|t| &t.def.name == name).ok_or_else(|| {
                    ReportError::Definition {
                        path: path.clone(),
                        message: format!("the chart's table {name} was not computed"),
                    }
                })?;
                Ok(Frame {
                    names: t.columns().iter().map(|c| c.name.clone()).collect(),
                    rows: t.rows.clone(),
                    path,
                })
            }
        }
    }

    fn index(&self, name: &str) -> Result<usize, ReportError> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| ReportError::Definition {
                path: self.path.clone(),
                message: format!(
                    "the chart needs a column {name:?}; there are only {}",
                    self.names.join(", ")
                ),
            })
    }

    fn column(&self, name: &str) -> Result<Vec<&Cell>, ReportError> {
        let i = self.index(name)?;
        Ok(self.rows.iter().map(|r| &r[i]).collect())
    }

    fn texts(&self, name: &str) -> Result<Vec<String>, ReportError> {
        Ok(self.column(name)?.into_iter().map(text).collect())
    }

    fn series(&self, s: &SeriesDef) -> Result<Series, ReportError> {
        Ok(Series {
            name: s.label.clone(),
            values: self.column(&s.column)?.into_iter().map(number).collect(),
        })
    }

    /// Bars by value when the definition asks for it (e.g. lowest coverage first).
    fn sort_by(&mut self, value: usize, order: Option<&str>) -> Result<(), ReportError> {
        let key = |r: &Vec<Cell>| r[value].decimal().unwrap_or_default();
        match order {
            None => {}
            Some("ascending") => self.rows.sort_by_key(key),
            Some("descending") => self.rows.sort_by_key(|r| std::cmp::Reverse(key(r))),
            Some(other) => {
                return Err(ReportError::Definition {
                    path: self.path.clone(),
                    message: format!("sort must be \"ascending\" or \"descending\", not {other:?}"),
                })
            }
        }
        Ok(())
    }
}

fn number(c: &Cell) -> f64 {
    c.decimal().and_then(|d| d.to_f64()).unwrap_or(0.0)
}

fn text(c: &Cell) -> String {
    c.csv_text(Format::Text)
}

fn missing(def: &ChartDef, frame: &Frame, what: &str) -> ReportError {
    ReportError::Definition {
        path: frame.path.clone(),
        message: format!("the {:?} chart {} needs {what}", def.meta.kind, def.name),
    }
}

/// Bar labels: the label template with `{value}` (in the chart's format) and each
/// other `{column}` replaced by that column's value, or the value alone.
fn bar_labels(frame: &Frame, def: &ChartDef, value_column: &str) -> Vec<String> {
    let fmt = def.meta.format;
    frame
        .rows
        .iter()
        .map(|row| {
            let cells: HashMap<&str, &Cell> = frame
                .names
                .iter()
                .map(String::as_str)
                .zip(row.iter())
                .collect();
            let value = cells
                .get(value_column)
                .map_or(String::new(), |c| c.display(fmt));
            match &def.meta.label {
                None => value,
                Some(tpl) => {
                    let mut s = tpl.replace("{value}", &value);
                    for (name, cell) in &cells {
                        s = s.replace(&format!("{{{name}}}"), &cell.display(Format::Integer));
                    }
                    s
                }
            }
        })
        .collect()
}

pub fn build(
    conn: &Connection,
    def: &ChartDef,
    tables: &[Table],
    month: &str,
) -> Result<Chart, ReportError> {
    let mut frame = Frame::load(conn, def, tables)?;
    let m = &def.meta;
    let data = match m.kind {
        ChartKind::Hbar => {
            let value_column = m.value.as_deref().unwrap_or("value");
            let value = frame.index(value_column)?;
            frame.sort_by(value, m.sort.as_deref())?;
            let scale = f64::from(m.scale.unwrap_or(1));
            ChartData::HBar {
                categories: frame.texts(m.category.as_deref().unwrap_or("category"))?,
                values: frame
                    .rows
                    .iter()
                    .map(|r| number(&r[value]) * scale)
                    .collect(),
                value_labels: bar_labels(&frame, def, value_column),
                axis_label: m.axis_label.clone(),
            }
        }
        ChartKind::Monthly => ChartData::Monthly {
            x: frame.texts("month")?,
            bars: m.bars.as_ref().map(|s| frame.series(s)).transpose()?,
            lines: m
                .lines
                .iter()
                .map(|s| frame.series(s))
                .collect::<Result<_, _>>()?,
            axis_label: m.axis_label.clone(),
            secondary_axis_label: m.secondary_axis_label.clone(),
        },
        ChartKind::Pyramid => {
            let left = m
                .left
                .as_ref()
                .ok_or_else(|| missing(def, &frame, "left"))?;
            let right = m
                .right
                .as_ref()
                .ok_or_else(|| missing(def, &frame, "right"))?;
            ChartData::Pyramid {
                bands: frame.texts("band")?,
                left: frame.series(left)?,
                right: frame.series(right)?,
                axis_label: m.axis_label.clone(),
            }
        }
    };
    Ok(Chart {
        name: def.name.clone(),
        title: format!("{}（{month}）", m.title),
        data,
    })
}
