//! The legend strip under the title.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::Canvas;
use super::font::text_width;
use super::style::*;
use super::DrawResult;

#[derive(Clone, Copy)]
pub(super) enum Mark {
    Bar,
    Line,
}

pub(super) struct LegendEntry<'a> {
    pub(super) name: &'a str,
    pub(super) color: RGBColor,
    pub(super) mark: Mark,
}

pub(super) fn legend_item_width(entry: &LegendEntry) -> i32 {
    LEGEND_MARK + 10 + text_width(entry.name, TEXT_SIZE)
}

/// Greedy rows of legend entries that fit `max_w`.
pub(super) fn legend_rows<'e, 'a>(
    entries: &'e [LegendEntry<'a>],
    max_w: i32,
) -> Vec<Vec<&'e LegendEntry<'a>>> {
    let mut rows: Vec<Vec<&LegendEntry>> = Vec::new();
    let mut used = 0;
    for entry in entries {
        let w = legend_item_width(entry);
        match rows.last_mut() {
            Some(row) if used + LEGEND_GAP + w <= max_w => {
                row.push(entry);
                used += LEGEND_GAP + w;
            }
            _ => {
                rows.push(vec![entry]);
                used = w;
            }
        }
    }
    rows
}

/// A centred legend strip under the title (never over the data); returns its height.
pub(super) fn draw_legend<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    top: i32,
    entries: &[LegendEntry],
) -> DrawResult<i32, DB> {
    let width = canvas.width();
    let rows = legend_rows(entries, width - 2 * MARGIN);
    for (r, row) in rows.iter().enumerate() {
        let gaps = LEGEND_GAP * (row.len() as i32 - 1);
        let row_w: i32 = row.iter().map(|e| legend_item_width(e)).sum::<i32>() + gaps;
        let y = top + r as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        let mut x = (width - row_w) / 2;
        for entry in row {
            draw_legend_mark(canvas, entry, x, y)?;
            let at = (x + LEGEND_MARK + 10, y);
            canvas.text(entry.name, at, TEXT_SIZE, INK, (HPos::Left, VPos::Center))?;
            x += legend_item_width(entry) + LEGEND_GAP;
        }
    }
    Ok(rows.len() as i32 * LEGEND_ROW + 6)
}

pub(super) fn draw_legend_mark<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    entry: &LegendEntry,
    x: i32,
    y: i32,
) -> DrawResult<(), DB> {
    match entry.mark {
        Mark::Bar => canvas.rect((x + 4, y - 10), (x + LEGEND_MARK - 4, y + 10), entry.color),
        Mark::Line => {
            canvas.line(vec![(x, y), (x + LEGEND_MARK, y)], entry.color, 3)?;
            canvas.dot((x + LEGEND_MARK / 2, y), 5, entry.color)
        }
    }
}
