//! From a chart definition (reports/charts/*.toml + .sql) to the data the drawing
//! code takes. Exact decimals become f64 here and only here: pixel geometry needs
//! floats, and every number printed on a chart comes from the exact value's text.

use std::collections::HashMap;
use std::path::Path;

use duckdb::Connection;
use rust_decimal::prelude::ToPrimitive;

use super::chart::{Chart, ChartData, Series};
use super::def::{ChartDef, ChartKind, Format, SeriesDef};
use super::table::Cell;
use super::ReportError;

/// The chart query's result, by column name.
struct Frame {
    names: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Frame {
    fn column(&self, name: &str, def: &ChartDef, dir: &Path) -> Result<Vec<&Cell>, ReportError> {
        let i =
            self.names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| ReportError::Definition {
                    path: dir.join("charts").join(format!("{}.sql", def.name)),
                    message: format!(
                        "the chart needs a column {name:?}; the query returns {}",
                        self.names.join(", ")
                    ),
                })?;
        Ok(self.rows.iter().map(|r| &r[i]).collect())
    }
}

fn query(conn: &Connection, def: &ChartDef, dir: &Path) -> Result<Frame, ReportError> {
    let path = dir.join("charts").join(format!("{}.sql", def.name));
    let (names, rows) = super::table::query_cells(conn, &def.sql, &path)?;
    Ok(Frame { names, rows })
}

fn number(c: &Cell) -> f64 {
    c.decimal().and_then(|d| d.to_f64()).unwrap_or(0.0)
}

fn text(c: &Cell) -> String {
    c.csv_text(Format::Text)
}

fn series(frame: &Frame, s: &SeriesDef, def: &ChartDef, dir: &Path) -> Result<Series, ReportError> {
    Ok(Series {
        name: s.label.clone(),
        values: frame
            .column(&s.column, def, dir)?
            .into_iter()
            .map(number)
            .collect(),
    })
}

fn missing(def: &ChartDef, dir: &Path, what: &str) -> ReportError {
    ReportError::Definition {
        path: dir.join("charts").join(format!("{}.toml", def.name)),
        message: format!("a {:?} chart needs {what}", def.meta.kind),
    }
}

/// Bar labels: the label template with each `{column}` replaced by that column's
/// value (formatted as the chart's `format` for `value`), or the value alone.
fn bar_labels(frame: &Frame, def: &ChartDef) -> Vec<String> {
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
            let value = cells.get("value").map_or(String::new(), |c| c.display(fmt));
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
    dir: &Path,
    month: &str,
) -> Result<Chart, ReportError> {
    let frame = query(conn, def, dir)?;
    let m = &def.meta;
    let data = match m.kind {
        ChartKind::Hbar => {
            let scale = f64::from(m.scale.unwrap_or(1));
            ChartData::HBar {
                categories: frame
                    .column("category", def, dir)?
                    .into_iter()
                    .map(text)
                    .collect(),
                values: frame
                    .column("value", def, dir)?
                    .into_iter()
                    .map(|c| number(c) * scale)
                    .collect(),
                value_labels: bar_labels(&frame, def),
                axis_label: m.axis_label.clone(),
            }
        }
        ChartKind::Monthly => ChartData::Monthly {
            x: frame
                .column("month", def, dir)?
                .into_iter()
                .map(text)
                .collect(),
            bars: m
                .bars
                .as_ref()
                .map(|s| series(&frame, s, def, dir))
                .transpose()?,
            lines: m
                .lines
                .iter()
                .map(|s| series(&frame, s, def, dir))
                .collect::<Result<_, _>>()?,
            axis_label: m.axis_label.clone(),
            secondary_axis_label: m.secondary_axis_label.clone(),
        },
        ChartKind::Pyramid => ChartData::Pyramid {
            bands: frame
                .column("band", def, dir)?
                .into_iter()
                .map(text)
                .collect(),
            left: series(
                &frame,
                m.left.as_ref().ok_or_else(|| missing(def, dir, "left"))?,
                def,
                dir,
            )?,
            right: series(
                &frame,
                m.right.as_ref().ok_or_else(|| missing(def, dir, "right"))?,
                def,
                dir,
            )?,
            axis_label: m.axis_label.clone(),
        },
    };
    Ok(Chart {
        name: def.name.clone(),
        title: format!("{}（{month}）", m.title),
        data,
    })
}
