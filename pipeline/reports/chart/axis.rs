//! Value axes: tick choice and labels, ranges padded around the data, bars' baseline.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{Canvas, Frame, Scale};
use super::font::{fit_text, text_width};
use super::style::*;
use super::DrawResult;

/// Tick label with thousands separators and at most two decimals:
/// 1234567 → "1,234,567", 0.85 → "0.85", -1500.5 → "-1,500.5".
pub(super) fn fmt_tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    // Rounding first drops float noise such as 0.30000000000000004.
    let rounded = if v.abs() < 1e13 {
        (v * 100.0).round() / 100.0
    } else {
        v.round()
    };
    let fixed = format!("{:.2}", rounded.abs());
    let digits = fixed.trim_end_matches('0').trim_end_matches('.');
    let sign = if rounded < 0.0 && digits != "0" {
        "-"
    } else {
        ""
    };
    format!("{sign}{}", crate::reports::table::group_thousands(digits))
}

/// plotters' "nice" key points (1, 2, 5 × 10^k steps), at most `max` of them.
pub(super) fn nice_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    RangedCoordf64::from(lo..hi).key_points(max)
}

/// Ticks for a horizontal axis, thinned until each label has room.
pub(super) fn x_ticks(lo: f64, hi: f64, plot_w: i32, fmt: &dyn Fn(f64) -> String) -> Vec<f64> {
    let mut max = MAX_TICKS;
    loop {
        let ticks = nice_ticks(lo, hi, max);
        let widest = ticks
            .iter()
            .map(|&t| text_width(&fmt(t), TEXT_SIZE))
            .max()
            .unwrap_or(0);
        let room = plot_w / (ticks.len() as i32).max(1);
        if max <= 2 || room >= widest + 24 {
            return ticks;
        }
        max -= 1;
    }
}

/// Ticks for a vertical axis: one label per ~60 px at most.
pub(super) fn y_ticks(lo: f64, hi: f64, plot_h: i32) -> Vec<f64> {
    let max = usize::try_from(plot_h / 60)
        .unwrap_or(2)
        .clamp(2, MAX_TICKS);
    nice_ticks(lo, hi, max)
}

pub(super) fn widest_tick(ticks: &[f64]) -> i32 {
    ticks
        .iter()
        .map(|&t| text_width(&fmt_tick(t), TEXT_SIZE))
        .max()
        .unwrap_or(0)
}

/// Grid, ticks and labels of a horizontal value axis under the frame, with the
/// description centred below.
pub(super) fn draw_x_value_axis<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    frame: Frame,
    xs: Scale,
    fmt: &dyn Fn(f64) -> String,
    desc: &str,
) -> DrawResult<(), DB> {
    let ticks = x_ticks(xs.lo, xs.hi, frame.right - frame.left, fmt);
    let label_y = frame.bottom + TICK_LEN + TICK_GAP;
    for t in ticks {
        let x = xs.px(t);
        if x < frame.left - 1 || x > frame.right + 1 {
            continue;
        }
        canvas.line(vec![(x, frame.top), (x, frame.bottom)], GRID, 1)?;
        canvas.line(
            vec![(x, frame.bottom), (x, frame.bottom + TICK_LEN)],
            AXIS,
            2,
        )?;
        let label = fmt(t);
        // Keep end labels inside the canvas.
        let half = text_width(&label, TEXT_SIZE) / 2;
        let lx = x.clamp(half + 4, canvas.width() - half - 4);
        canvas.text(
            &label,
            (lx, label_y),
            TEXT_SIZE,
            INK,
            (HPos::Center, VPos::Top),
        )?;
    }
    canvas.line(
        vec![(frame.left, frame.bottom), (frame.right, frame.bottom)],
        AXIS,
        2,
    )?;
    let desc = fit_text(desc, DESC_SIZE, canvas.width() - 2 * MARGIN);
    let centre = (frame.left + frame.right) / 2;
    let desc_y = label_y + TEXT_LINE + 18;
    canvas.text(
        &desc,
        (centre, desc_y),
        DESC_SIZE,
        INK,
        (HPos::Center, VPos::Top),
    )
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Side {
    Left,
    Right,
}

/// Ticks and labels of a vertical value axis on one side of the frame; the left
/// axis also draws the horizontal grid.
pub(super) fn draw_y_value_axis<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    frame: Frame,
    ys: Scale,
    side: Side,
) -> DrawResult<(), DB> {
    let (x, dir, anchor) = match side {
        Side::Left => (frame.left, -1, HPos::Right),
        Side::Right => (frame.right, 1, HPos::Left),
    };
    for t in y_ticks(ys.lo, ys.hi, frame.bottom - frame.top) {
        let y = ys.px(t);
        if y < frame.top - 1 || y > frame.bottom + 1 {
            continue;
        }
        if side == Side::Left {
            canvas.line(vec![(frame.left, y), (frame.right, y)], GRID, 1)?;
        }
        canvas.line(vec![(x, y), (x + dir * TICK_LEN, y)], AXIS, 2)?;
        let at = (x + dir * (TICK_LEN + TICK_GAP), y);
        canvas.text(&fmt_tick(t), at, TEXT_SIZE, INK, (anchor, VPos::Center))?;
    }
    canvas.line(vec![(x, frame.top), (x, frame.bottom)], AXIS, 2)
}

/// Finite min and max of the values, if any.
pub(super) fn finite_bounds(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Padded range for a value axis. Bars need the zero baseline (`include_zero`) and
/// start exactly there; lines float so small changes in big numbers stay visible.
/// Flat or empty data still gets a non-empty range.
pub(super) fn value_range(values: impl IntoIterator<Item = f64>, include_zero: bool) -> (f64, f64) {
    let (min, max) = finite_bounds(values).unwrap_or((0.0, 0.0));
    let (mut lo, mut hi) = if include_zero {
        (min.min(0.0), max.max(0.0))
    } else {
        (min, max)
    };
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.08
    } else {
        (hi.abs() * 0.1).max(1.0)
    };
    if !(include_zero && lo == 0.0) {
        lo -= pad;
    }
    if !(include_zero && hi == 0.0 && span > 0.0) {
        hi += pad;
    }
    // Non-negative data never gets a negative axis.
    if min >= 0.0 && lo < 0.0 {
        lo = 0.0;
    }
    (lo, hi)
}

/// Half the thickness of a bar in pixels: `share` of its slot, capped.
pub(super) fn bar_half(slot_px: f64, share: f64) -> i32 {
    (slot_px * share).clamp(1.0, MAX_BAR_HALF_PX).round() as i32
}

/// A dark line at value 0 when the axis spans both signs.
pub(super) fn zero_line<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    scale: Scale,
    span: (i32, i32),
    vertical: bool,
) -> DrawResult<(), DB> {
    if !(scale.lo < 0.0 && scale.hi > 0.0) {
        return Ok(());
    }
    let p = scale.px(0.0);
    let points = if vertical {
        vec![(p, span.0), (p, span.1)]
    } else {
        vec![(span.0, p), (span.1, p)]
    };
    canvas.line(points, AXIS, 2)
}
