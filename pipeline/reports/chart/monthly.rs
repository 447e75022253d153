//! Monthly series over time: columns on the left axis, lines on the left or a
//! right axis (payouts and beneficiaries, fund balance).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{
    bar_half, draw_y_value_axis, value_range, widest_tick, y_ticks, zero_line, Side,
};
use super::canvas::{Canvas, Frame, Scale};
use super::font::{fit_text, text_width};
use super::legend::{draw_legend, LegendEntry, Mark};
use super::style::*;
use super::{DrawResult, Series};

pub(super) struct Monthly<'a> {
    pub(super) x: &'a [String],
    pub(super) bars: Option<&'a Series>,
    pub(super) lines: &'a [Series],
    /// Description of the left axis.
    pub(super) left: &'a str,
    /// Some: lines go on a right axis with this description.
    pub(super) right: Option<&'a str>,
}

pub(super) fn monthly_legend<'a>(
    bars: Option<&'a Series>,
    lines: &'a [Series],
) -> Vec<LegendEntry<'a>> {
    let bar = bars.map(|s| LegendEntry {
        name: &s.name,
        color: PALETTE[0],
        mark: Mark::Bar,
    });
    // Lines continue the palette after the bar colour so no two series share one.
    let offset = usize::from(bars.is_some());
    let lines = lines.iter().enumerate().map(|(k, s)| LegendEntry {
        name: &s.name,
        color: PALETTE[(k + offset) % PALETTE.len()],
        mark: Mark::Line,
    });
    bar.into_iter().chain(lines).collect()
}

pub(super) fn draw_monthly<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    top: i32,
    d: &Monthly,
) -> DrawResult<(), DB> {
    let legend = monthly_legend(d.bars, d.lines);
    let top = top + draw_legend(canvas, top + 4, &legend)?;
    let bar_values = d.bars.iter().flat_map(|s| s.values.iter().copied());
    let line_values = d.lines.iter().flat_map(|s| s.values.iter().copied());
    let (lo, hi) = match d.right {
        Some(_) => value_range(bar_values, true),
        None => value_range(bar_values.chain(line_values.clone()), d.bars.is_some()),
    };
    let right_range = d.right.map(|_| value_range(line_values, false));

    let frame = monthly_frame(canvas, top, (lo, hi), right_range);
    let ys = frame.y_scale(lo, hi);
    let rs = right_range.map_or(ys, |(rlo, rhi)| frame.y_scale(rlo, rhi));
    draw_unit_labels(canvas, frame, d.left, d.right)?;
    draw_y_value_axis(canvas, frame, ys, Side::Left)?;
    if d.right.is_some() {
        draw_y_value_axis(canvas, frame, rs, Side::Right)?;
    }

    let n = d.x.len();
    let xs: Vec<i32> = (0..n)
        .map(|i| Frame::slot(frame.left, frame.right, n, i))
        .collect();
    let slot_px = f64::from(frame.right - frame.left) / n as f64;
    if let Some(series) = d.bars {
        let half = bar_half(slot_px, 0.3);
        for (&x, &v) in xs.iter().zip(&series.values) {
            if v.is_finite() {
                canvas.rect((x - half, ys.px(0.0)), (x + half, ys.px(v)), PALETTE[0])?;
            }
        }
    }
    zero_line(canvas, ys, (frame.left, frame.right), false)?;
    let line_entries = legend.iter().skip(usize::from(d.bars.is_some()));
    for (series, entry) in d.lines.iter().zip(line_entries) {
        draw_line_series(canvas, &xs, rs, &series.values, entry.color, slot_px)?;
    }
    canvas.line(
        vec![(frame.left, frame.bottom), (frame.right, frame.bottom)],
        AXIS,
        2,
    )?;
    draw_month_labels(canvas, d.x, &xs, frame.bottom, slot_px)
}

/// Plot frame of a Monthly chart: tick label widths decide the side margins.
pub(super) fn monthly_frame<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    top: i32,
    (lo, hi): (f64, f64),
    right: Option<(f64, f64)>,
) -> Frame {
    let top = top + UNIT_STRIP;
    let bottom = canvas.height() - MARGIN - MONTH_AXIS_AREA;
    let label_room = |(lo, hi): (f64, f64)| {
        widest_tick(&y_ticks(lo, hi, bottom - top)) + TICK_LEN + TICK_GAP + 6
    };
    let right_room = right.map_or(20, label_room);
    Frame {
        left: MARGIN + label_room((lo, hi)),
        top,
        right: canvas.width() - MARGIN - right_room,
        bottom,
    }
}

/// Axis units sit above each vertical axis, horizontally: readable without turning
/// one's head, and no rotated text.
pub(super) fn draw_unit_labels<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    frame: Frame,
    left: &str,
    right: Option<&str>,
) -> DrawResult<(), DB> {
    let max_w = match right {
        Some(_) => canvas.width() / 2 - 2 * MARGIN,
        None => canvas.width() - 2 * MARGIN,
    };
    // Clear of the top tick label, which is centred on frame.top.
    let y = frame.top - 24;
    let left = fit_text(left, DESC_SIZE, max_w);
    let anchor = (HPos::Left, VPos::Bottom);
    canvas.text(&left, (MARGIN, y), DESC_SIZE, INK, anchor)?;
    if let Some(right) = right {
        let right = fit_text(right, DESC_SIZE, max_w);
        let at = (canvas.width() - MARGIN, y);
        canvas.text(&right, at, DESC_SIZE, INK, (HPos::Right, VPos::Bottom))?;
    }
    Ok(())
}

/// A line broken at missing (non-finite) values, with a marker per point.
pub(super) fn draw_line_series<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    xs: &[i32],
    scale: Scale,
    values: &[f64],
    color: RGBColor,
    slot_px: f64,
) -> DrawResult<(), DB> {
    let points: Vec<Option<(i32, i32)>> = xs
        .iter()
        .zip(values)
        .map(|(&x, &v)| v.is_finite().then(|| (x, scale.px(v))))
        .collect();
    for run in points.split(Option::is_none).filter(|run| run.len() > 1) {
        canvas.line(run.iter().flatten().copied().collect(), color, 3)?;
    }
    // Markers only while they stay apart.
    let radius = if slot_px >= 20.0 { 5 } else { 3 };
    if slot_px >= 8.0 {
        for &p in points.iter().flatten() {
            canvas.dot(p, radius, color)?;
        }
    }
    Ok(())
}

/// Month labels under the axis, every `step`-th one so they never overlap; the
/// latest month is always labelled. Every month keeps a tick mark while they fit.
pub(super) fn draw_month_labels<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    months: &[String],
    xs: &[i32],
    axis_y: i32,
    slot_px: f64,
) -> DrawResult<(), DB> {
    let n = months.len();
    let widest = months.iter().map(|m| text_width(m, TEXT_SIZE)).max();
    let needed = f64::from(widest.unwrap_or(0) + 20);
    let step = month_step(((needed / slot_px.max(1.0)).ceil() as usize).max(1));
    for (i, (month, &x)) in months.iter().zip(xs).enumerate() {
        let labelled = (n - 1 - i).is_multiple_of(step);
        if labelled || slot_px >= 4.0 {
            canvas.line(vec![(x, axis_y), (x, axis_y + TICK_LEN)], AXIS, 2)?;
        }
        if labelled {
            let at = (x, axis_y + TICK_LEN + TICK_GAP);
            canvas.text(month, at, TEXT_SIZE, INK, (HPos::Center, VPos::Top))?;
        }
    }
    Ok(())
}

/// The smallest calendar-friendly label step (divisors of a year, then whole years)
/// of at least `min` months, so labels fall on the same months every year.
pub(super) fn month_step(min: usize) -> usize {
    [1, 2, 3, 4, 6, 12]
        .into_iter()
        .find(|&s| s >= min)
        .unwrap_or_else(|| min.div_ceil(12) * 12)
}
